import { Match, type Template } from 'aws-cdk-lib/assertions';
import { tableDefinitions, tableNameEnvironmentVariables, type LogicalTableName } from '../../lambdas/adapters/dynamodb/table-definitions';
import { allFunctions, apiFunction, stageFunctions, type FunctionSpec } from '../../infra/function-catalogue';
import { tableReadActions, tableWriteActions } from '../../infra/table-access';
import { actionsOf, actionsOnResource, allActions, dynamoDbAccess, statementsOfRole } from './support/iam';
import { logicalIdOf, removeAssembly, resourceTemplate, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

const readActions = [...tableReadActions].sort();
const readWriteActions = [...tableReadActions, ...tableWriteActions].sort();

describe('engine functions', () => {
  let synthesized: SynthesizedEngine;
  let template: Template;
  let tableLogicalIds: Record<LogicalTableName, string>;
  const functionLogicalId = (spec: FunctionSpec) => logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function);
  const roleStatements = (spec: FunctionSpec) => statementsOfRole(template, logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.role));

  beforeAll(() => {
    synthesized = synthesizeEngine();
    template = synthesized.engine;
    tableLogicalIds = Object.fromEntries(
      tableDefinitions.map((definition) => [definition.logicalName, logicalIdOf(synthesized.stacks.stateful.tables[definition.logicalName])]),
    ) as Record<LogicalTableName, string>;
  });
  afterAll(() => removeAssembly(synthesized));

  it('deploys one function per state-machine stage, one for the API and one per job', () => {
    expect(stageFunctions).toHaveLength(10);
    expect(allFunctions).toHaveLength(15);
    for (const spec of allFunctions) expect(synthesized.stacks.engine.functions[spec.id]).toBeDefined();
  });

  describe.each(allFunctions.map((spec) => [spec.id, spec] as const))('%s', (_id, spec) => {
    const fn = () => resourceTemplate(template, functionLogicalId(spec));

    it(`runs lambdas/handlers/${spec.module}.ts export ${spec.exportName} on Node.js 22, arm64, with X-Ray tracing`, () => {
      fn().hasResourceProperties('AWS::Lambda::Function', {
        Handler: `index.${spec.exportName}`,
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
      });
    });

    it('learns every table name and emits EMF metrics in the SettlementEngine namespace', () => {
      const tableNames = Object.fromEntries(Object.values(tableNameEnvironmentVariables).map((variable) => [variable, Match.anyValue()]));
      fn().hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            ...tableNames,
            METRICS_ADAPTER: 'emf',
            POWERTOOLS_METRICS_NAMESPACE: 'SettlementEngine',
            POWERTOOLS_SERVICE_NAME: 'settlement-engine',
          }),
        },
      });
    });

    it(spec.startsExecutions ? 'knows the state machine (STATE_MACHINE_ARN)' : 'does not know the state machine', () => {
      fn().hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ STATE_MACHINE_ARN: spec.startsExecutions ? { Ref: Match.stringLikeRegexp('StateMachine') } : Match.absent() }) },
      });
    });

    it('knows the dead-letter queue (DEAD_LETTER_QUEUE_URL) and the bank adapter (BANK_ADAPTER): lambdas/config.ts requires both', () => {
      fn().hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('ParkedSettlementsQueue') }, BANK_ADAPTER: 'mock' }) },
      });
    });

    it('holds exactly its table grants: read or read/write per table, no Scan, nothing on other tables', () => {
      const expected = Object.fromEntries(
        Object.entries(spec.tables).map(([table, access]) => [table, access === 'readWrite' ? readWriteActions : readActions]),
      );
      expect(dynamoDbAccess(roleStatements(spec), tableLogicalIds)).toEqual(expected);
    });

    it('reaches the indexes of its tables by name, never through index/*', () => {
      const statements = roleStatements(spec);
      for (const [table, access] of Object.entries(spec.tables) as [LogicalTableName, string][]) {
        const definition = tableDefinitions.find((candidate) => candidate.logicalName === table)!;
        for (const index of definition.globalSecondaryIndexes) {
          const actions = [...actionsOnResource(statements, tableLogicalIds[table], `/index/${index.indexName}"`)].sort();
          expect(actions).toEqual(access === 'readWrite' ? readWriteActions : readActions);
        }
      }
      expect(JSON.stringify(statements)).not.toContain('/index/*');
    });

    it(spec.startsExecutions ? 'may start settlement executions and nothing else on Step Functions' : 'may not start executions', () => {
      const stepFunctionsActions = [...allActions(roleStatements(spec))].filter((action) => action.startsWith('states:'));
      expect(stepFunctionsActions).toEqual(spec.startsExecutions ? ['states:StartExecution'] : []);
    });

    it(spec.sendsToDeadLetterQueue ? 'may send to the dead-letter queue and nothing else on SQS' : 'may not touch SQS', () => {
      const sqsActions = [...allActions(roleStatements(spec))].filter((action) => action.startsWith('sqs:')).sort();
      expect(sqsActions).toEqual(spec.sendsToDeadLetterQueue ? ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'] : []);
    });

    it('uses a wildcard resource only for X-Ray, whose actions have no resource-level permissions', () => {
      const onEverything = roleStatements(spec).filter((statement) => statement.Resource === '*');
      expect(onEverything.flatMap(actionsOf).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    });

    it('has no AWS-managed policy and writes logs only to its own log group', () => {
      resourceTemplate(template, logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.role)).hasResourceProperties('AWS::IAM::Role', {
        ManagedPolicyArns: Match.absent(),
      });
      const logActions = roleStatements(spec).filter((statement) => JSON.stringify(statement.Action).includes('logs:'));
      expect(logActions).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [expect.stringMatching(/Logs/), 'Arn'] } })]);
    });
  });

  describe('least privilege, spelled out', () => {
    it('keeps the validate stage away from the reconciliation table', () => {
      const spec = stageFunctions.find((candidate) => candidate.state === 'Validate')!;
      const access = dynamoDbAccess(roleStatements(spec), tableLogicalIds);
      expect(access.reconciliation).toBeUndefined();
      expect(access.settlements).toEqual(readWriteActions);
    });

    it('lets the api function start executions of the settlement state machine', () => {
      const apiRole = logicalIdOf(synthesized.stacks.engine.functions[apiFunction.id]!.role);
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: Match.arrayWith([{ Ref: apiRole }]),
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: logicalIdOf(synthesized.stacks.engine.workflow.stateMachine) } },
          ]),
        },
      });
    });

    it('lets only the functions that park a settlement send to the dead-letter queue', () => {
      const senders = allFunctions.filter((spec) => allActions(roleStatements(spec)).has('sqs:SendMessage')).map((spec) => spec.exportName);
      expect(senders.sort()).toEqual(['cleanup', 'markFailed', 'parkSettlement', 'retryFailed']);
    });

    it('lets only api, retryFailed and recoverStuck start executions', () => {
      const starters = allFunctions.filter((spec) => allActions(roleStatements(spec)).has('states:StartExecution')).map((spec) => spec.exportName);
      expect(starters.sort()).toEqual(['handler', 'recoverStuck', 'retryFailed']);
    });

    it('tells the reconcile job the period its schedule covers (6 hours)', () => {
      const spec = allFunctions.find((candidate) => candidate.exportName === 'reconcile')!;
      resourceTemplate(template, functionLogicalId(spec)).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ RECONCILIATION_INTERVAL_SECONDS: '21600' }) },
      });
    });

    it('lets reconciliation write nothing but its reports', () => {
      const spec = allFunctions.find((candidate) => candidate.exportName === 'reconcile')!;
      const access = dynamoDbAccess(roleStatements(spec), tableLogicalIds);
      expect(Object.entries(access).filter(([, actions]) => actions.includes('dynamodb:PutItem')).map(([table]) => table)).toEqual(['reconciliation']);
    });
  });
});
