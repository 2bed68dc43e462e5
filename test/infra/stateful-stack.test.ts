import { Match, type Template } from 'aws-cdk-lib/assertions';
import { tableDefinitions, type KeyAttribute, type TableDefinition } from '../../lambdas/adapters/dynamodb/table-definitions';
import { logicalIdOf, removeAssembly, resourceTemplate, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

const keySchema = (partitionKey: KeyAttribute, sortKey?: KeyAttribute) => [
  { AttributeName: partitionKey.name, KeyType: 'HASH' },
  ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
];

describe('stateful stack', () => {
  let synthesized: SynthesizedEngine;
  let template: Template;
  /** The template of one table's resource alone. */
  const tableResource = (definition: TableDefinition) =>
    resourceTemplate(template, logicalIdOf(synthesized.stacks.stateful.tables[definition.logicalName]));

  beforeAll(() => {
    synthesized = synthesizeEngine();
    template = synthesized.stateful;
  });
  afterAll(() => removeAssembly(synthesized));

  it('holds exactly the tables of the shared definitions module, and nothing that runs code', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', tableDefinitions.length);
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  describe.each(tableDefinitions.map((definition) => [definition.logicalName, definition] as const))('the %s table', (_name, definition) => {
    it('has the keys of its definition, on-demand billing, point-in-time recovery, deletion protection and KMS encryption', () => {
      tableResource(definition).hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: keySchema(definition.partitionKey, definition.sortKey),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      });
    });

    it('is retained when the stack is deleted or the table replaced', () => {
      tableResource(definition).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    it(definition.timeToLiveAttribute ? `expires items by TTL on ${definition.timeToLiveAttribute}` : 'has no TTL', () => {
      tableResource(definition).hasResourceProperties('AWS::DynamoDB::Table', {
        TimeToLiveSpecification: definition.timeToLiveAttribute ? { AttributeName: definition.timeToLiveAttribute, Enabled: true } : Match.absent(),
      });
    });

    it(definition.stream ? 'has a change stream with new images (StreamSettlementEvents reads it)' : 'has no change stream', () => {
      tableResource(definition).hasResourceProperties('AWS::DynamoDB::Table', {
        StreamSpecification: definition.stream ? { StreamViewType: definition.stream } : Match.absent(),
      });
    });

    it('has exactly the global secondary indexes its definition declares', () => {
      const names = definition.globalSecondaryIndexes.map((index) => index.indexName);
      tableResource(definition).hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: names.length === 0 ? Match.absent() : names.map((IndexName) => Match.objectLike({ IndexName })),
      });
    });

    // Iterating the module: a new index in table-definitions.ts is checked here without touching this file.
    const indexes = definition.globalSecondaryIndexes.map((index) => [index.indexName, index] as const);
    if (indexes.length > 0) {
      it.each(indexes)('has the GSI %s with its keys, key attribute types and projection', (_indexName, index) => {
        const keys = [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])];
        tableResource(definition).hasResourceProperties('AWS::DynamoDB::Table', {
          GlobalSecondaryIndexes: Match.arrayWith([
            { IndexName: index.indexName, KeySchema: keySchema(index.partitionKey, index.sortKey), Projection: { ProjectionType: index.projection } },
          ]),
          AttributeDefinitions: Match.arrayWith(keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type }))),
        });
      });
    }
  });

  describe('the settlements table\'s indexes as deployed', () => {
    /** Each table's GSIs in the release before this one: update with each release that changes them. */
    const previousRelease: Readonly<Record<string, readonly string[]>> = {
      settlements: ['jobs', 'inFlight', 'retryQueue', 'parked', 'pendingLocks', 'endedOperations'],
      accounts: ['byType'],
      ledger: [],
      reference: ['gsi1'],
      reconciliation: ['gsi1'],
    };
    const deployedIndexes = (definition: TableDefinition): string[] => {
      const resource = tableResource(definition).findResources('AWS::DynamoDB::Table');
      const properties = Object.values(resource)[0].Properties as { GlobalSecondaryIndexes?: { IndexName: string }[] };
      return (properties.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName);
    };

    it.each(tableDefinitions.map((definition) => [definition.logicalName, definition] as const))(
      'the %s table differs from the previous release by at most one index (CloudFormation creates or deletes one GSI per update)',
      (logicalName, definition) => {
        const now = new Set(deployedIndexes(definition));
        const before = new Set(previousRelease[logicalName]);
        const changed = [...now].filter((name) => !before.has(name)).concat([...before].filter((name) => !now.has(name)));
        expect(changed.length).toBeLessThanOrEqual(1);
      },
    );

    it('answers every job (recovery sweep, cleanup, reconciliation, retry, the parked queue) with one sparse keys-only jobs index, and keeps the indexes it replaces deployed and readable while they retire', () => {
      const settlements = tableDefinitions.find((definition) => definition.logicalName === 'settlements')!;
      tableResource(settlements).hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: Match.arrayWith([
          { IndexName: 'jobs', KeySchema: keySchema({ name: 'jobShard', type: 'S' }, { name: 'jobSince', type: 'S' }), Projection: { ProjectionType: 'KEYS_ONLY' } },
        ]),
      });
      const retiring = ['endedOperations', 'inFlight', 'parked', 'pendingLocks', 'retryQueue'];
      expect(settlements.globalSecondaryIndexes.filter((index) => index.retiring).map((index) => index.indexName).sort()).toEqual(retiring);
      expect(deployedIndexes(settlements)).toEqual(expect.arrayContaining(retiring));
    });
  });

  it('encrypts the tables with one customer-managed key that rotates and is retained', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResource('AWS::KMS::Key', { Properties: Match.objectLike({ EnableKeyRotation: true }), DeletionPolicy: 'Retain' });
  });

  it('is protected against termination', () => {
    expect(synthesized.stacks.stateful.terminationProtection).toBe(true);
  });
});

describe('stateful stack with AWS-managed encryption', () => {
  let synthesized: SynthesizedEngine;
  beforeAll(() => {
    synthesized = synthesizeEngine({ config: { tableEncryption: 'AWS_MANAGED' } });
  });
  afterAll(() => removeAssembly(synthesized));

  it('encrypts every table with the AWS-managed key and creates no key of its own', () => {
    synthesized.stateful.resourceCountIs('AWS::KMS::Key', 0);
    synthesized.stateful.allResourcesProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: Match.absent() } });
  });
});
