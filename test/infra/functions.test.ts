import { Match, type Template } from 'aws-cdk-lib/assertions';
import { tableDefinitions, tableNameEnvironmentVariables, type LogicalTableName } from '../../lambdas/adapters/dynamodb/table-definitions';
import { adminApiFunction, allFunctions, apiFunction, healthFunction, stageFunctions, write, type FunctionSpec } from '../../infra/function-catalogue';
import { grantTableAccess, tableActions, tableReadActions, tableWriteActions } from '../../infra/table-access';
import { actionsOf, actionsOnResource, allActions, dynamoDbAccess, statementsOfRole, streamAccess } from './support/iam';
import { defaultConfig } from '../../infra/config';
import { logicalIdOf, removeAssembly, resourceTemplate, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

const readActions = [...tableReadActions].sort();
const stage = (state: string) => stageFunctions.find((candidate) => candidate.state === state)!;

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

  it('deploys one function per state-machine stage, three for the API (api, admin, health) and one per job', () => {
    expect(stageFunctions).toHaveLength(10);
    expect(allFunctions).toHaveLength(18);
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

    it('holds exactly its table grants: the writes its code issues per table, no Scan, nothing on other tables, no change stream', () => {
      const expected = Object.fromEntries(Object.entries(spec.tables).map(([table, access]) => [table, tableActions(access).sort()]));
      expect(dynamoDbAccess(roleStatements(spec), tableLogicalIds)).toEqual(expected);
      expect(streamAccess(roleStatements(spec), tableLogicalIds)).toEqual({});
    });

    it('reaches the indexes of its tables by name, never through index/*', () => {
      const statements = roleStatements(spec);
      for (const [table, access] of Object.entries(spec.tables) as [LogicalTableName, FunctionSpec['tables'][LogicalTableName]][]) {
        const definition = tableDefinitions.find((candidate) => candidate.logicalName === table)!;
        for (const index of definition.globalSecondaryIndexes) {
          const actions = [...actionsOnResource(statements, tableLogicalIds[table], `/index/${index.indexName}"`)].sort();
          expect(actions).toEqual(access === 'describe' ? [] : tableActions(access!).sort());
        }
      }
      expect(JSON.stringify(statements)).not.toContain('/index/*');
    });

    it(spec.startsExecutions ? 'may start settlement executions and nothing else on Step Functions' : 'may not start executions', () => {
      const stepFunctionsActions = [...allActions(roleStatements(spec))].filter((action) => action.startsWith('states:'));
      expect(stepFunctionsActions).toEqual(spec.startsExecutions ? ['states:StartExecution'] : []);
    });

    it(spec.sendsToDeadLetterQueue ? 'may send to the dead-letter queue and nothing else on it' : 'may not touch the dead-letter queue', () => {
      const queueId = logicalIdOf(synthesized.stacks.engine.deadLetterQueue);
      const onQueue = [...actionsOnResource(roleStatements(spec), queueId)].filter((action) => action.startsWith('sqs:')).sort();
      expect(onQueue).toEqual(spec.sendsToDeadLetterQueue ? ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'] : []);
    });

    it(spec.module === 'jobs' ? 'may send its failed runs to the failed-jobs queue, and no other queue' : 'touches no queue but the dead-letter queue', () => {
      const deadLetterQueueId = logicalIdOf(synthesized.stacks.engine.deadLetterQueue);
      const failedJobsQueueId = logicalIdOf(synthesized.stacks.engine.schedules.failedJobsQueue);
      const sqsStatements = roleStatements(spec).filter((statement) => actionsOf(statement).some((action) => action.startsWith('sqs:')));
      const elsewhere = sqsStatements.filter((statement) => !JSON.stringify(statement.Resource).includes(deadLetterQueueId) && !JSON.stringify(statement.Resource).includes(failedJobsQueueId));
      expect(elsewhere).toEqual([]);
      const onFailedJobs = [...actionsOnResource(roleStatements(spec), failedJobsQueueId)].sort();
      expect(onFailedJobs).toEqual(spec.module === 'jobs' ? ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'] : []);
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
    const writesOn = (spec: FunctionSpec, table: LogicalTableName) =>
      (dynamoDbAccess(roleStatements(spec), tableLogicalIds)[table] ?? []).filter((action) => !(tableReadActions as readonly string[]).includes(action));

    it('lets Validate read banks, accounts and windows and write nothing but its settlement\'s transition', () => {
      const access = dynamoDbAccess(roleStatements(stage('Validate')), tableLogicalIds);
      expect(access).toEqual({ settlements: ['dynamodb:PutItem', 'dynamodb:UpdateItem', ...readActions].sort(), accounts: readActions, reference: readActions });
    });

    it('lets exactly the stages that ask the bank write the reference table, where the mock bank keeps its transfers', () => {
      // BeginRollback asks the bank about a rejected transfer before choosing between compensating and voiding.
      const writers = stageFunctions.filter((spec) => writesOn(spec, 'reference').length > 0).map((spec) => spec.state);
      expect(writers.sort()).toEqual(['BeginRollback', 'CheckConfirmation', 'Compensate', 'InitiateTransfer']);
    });

    it('keeps the ledger append-only for every function and the gRPC task: PutItem, never UpdateItem, DeleteItem or BatchWriteItem', () => {
      const appenders = allFunctions.filter((spec) => writesOn(spec, 'ledger').length > 0);
      for (const spec of appenders) expect(writesOn(spec, 'ledger')).toEqual(['dynamodb:PutItem']);
      // The reconcile job appends the two RETURN entries of a return the bank reported after Finalize.
      expect(appenders.map((spec) => spec.id).sort()).toEqual([adminApiFunction.id, 'ReconcileFunction', stage('Finalize').id].sort());
      const grpcTask = synthesized.stacks.engine.grpc!.service.taskDefinition.taskRole;
      const taskLedger = dynamoDbAccess(statementsOfRole(template, logicalIdOf(grpcTask)), tableLogicalIds).ledger ?? [];
      expect(taskLedger).toEqual(readActions);
    });

    it('refuses to grant anything but an append on the ledger', () => {
      const tables = synthesized.stacks.stateful.tables;
      const role = synthesized.stacks.engine.functions[healthFunction.id]!.role;
      expect(() => grantTableAccess(role, tables, { ledger: write('UpdateItem') })).toThrow(/append-only/);
      expect(() => grantTableAccess(role, tables, { ledger: write('PutItem', 'BatchWriteItem') })).toThrow(/append-only/);
    });

    it('lets only the stages that move money write balances, and never the API function', () => {
      const balanceWriters = allFunctions.filter((spec) => writesOn(spec, 'accounts').length > 0).map((spec) => spec.id).sort();
      // ReconcileFunction: a return booked after Finalize credits both accounts back (usecases/returns.ts).
      expect(balanceWriters).toEqual([adminApiFunction.id, 'CleanupFunction', stage('Finalize').id, stage('LockFunds').id, 'ReconcileFunction', stage('ReleaseLocks').id].sort());
      expect(writesOn(apiFunction, 'accounts')).toEqual([]);
      expect(writesOn(apiFunction, 'settlements')).toEqual(['dynamodb:PutItem']);
    });

    it('lets the health function describe the settlements table and nothing else: no item, no index, no key', () => {
      const statements = roleStatements(healthFunction);
      expect([...allActions(statements)].filter((action) => !action.startsWith('xray:') && !action.startsWith('logs:'))).toEqual(['dynamodb:DescribeTable']);
      expect(JSON.stringify(statements)).not.toContain('/index/');
    });

    it('lets the api function start executions of the Express fast path, and not of the Standard workflow', () => {
      const apiRole = logicalIdOf(synthesized.stacks.engine.functions[apiFunction.id]!.role);
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: Match.arrayWith([{ Ref: apiRole }]),
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: logicalIdOf(synthesized.stacks.engine.fastPath.stateMachine) } },
          ]),
        },
      });
      const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: apiRole }]) } }));
      expect(JSON.stringify(policies)).not.toContain(logicalIdOf(synthesized.stacks.engine.workflow.stateMachine));
      template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.handler',
        Environment: { Variables: Match.objectLike({ STATE_MACHINE_ARN: { Ref: logicalIdOf(synthesized.stacks.engine.fastPath.stateMachine) } }) },
      });
    });

    it('lets only the functions that park a settlement send to the dead-letter queue', () => {
      const queueId = logicalIdOf(synthesized.stacks.engine.deadLetterQueue);
      const senders = allFunctions.filter((spec) => actionsOnResource(roleStatements(spec), queueId).has('sqs:SendMessage')).map((spec) => spec.exportName);
      expect(senders.sort()).toEqual(['cleanup', 'markFailed', 'parkSettlement', 'retryFailed']);
    });

    it('lets only the api and admin functions, retryFailed and recoverStuck start executions', () => {
      const starters = allFunctions.filter((spec) => allActions(roleStatements(spec)).has('states:StartExecution')).map((spec) => spec.id);
      expect(starters.sort()).toEqual([adminApiFunction.id, apiFunction.id, 'RecoverStuckFunction', 'RetryFailedFunction'].sort());
    });

    it('tells the reconcile job the period its schedule covers (6 hours)', () => {
      const spec = allFunctions.find((candidate) => candidate.exportName === 'reconcile')!;
      resourceTemplate(template, functionLogicalId(spec)).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ RECONCILIATION_INTERVAL_SECONDS: '21600' }) },
      });
    });

    it('lets reconciliation write its reports and the returns it books, and change no reference data', () => {
      const spec = allFunctions.find((candidate) => candidate.exportName === 'reconcile')!;
      const access = dynamoDbAccess(roleStatements(spec), tableLogicalIds);
      expect(Object.entries(access).filter(([, actions]) => actions.includes('dynamodb:PutItem')).map(([table]) => table).sort()).toEqual(['ledger', 'reconciliation', 'settlements']);
      // A return is an update of the two balances, never a put or a delete of an account.
      expect(access.accounts?.filter((action) => tableWriteActions.includes(action as never))).toEqual(['dynamodb:UpdateItem']);
      expect(access.reference?.filter((action) => tableWriteActions.includes(action as never))).toEqual([]);
    });
  });

  describe('reserved concurrency', () => {
    it('reserves each function its own executions, as many as the catalogue says', () => {
      for (const spec of allFunctions) {
        resourceTemplate(template, functionLogicalId(spec)).hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: spec.reservedConcurrency });
      }
    });

    it('leaves 100 executions unreserved in an account with the default quota of 1,000', () => {
      const reserved = allFunctions.reduce((sum, spec) => sum + spec.reservedConcurrency, 0);
      expect(reserved).toBeLessThanOrEqual(1000 - 100);
    });

    it('keeps the health function and the jobs small: probes and schedules cannot take the stages\' executions', () => {
      expect(healthFunction.reservedConcurrency).toBeLessThanOrEqual(5);
      expect(healthFunction.memorySizeMiB).toBeLessThanOrEqual(256);
      for (const spec of allFunctions.filter((candidate) => candidate.module === 'jobs')) expect(spec.reservedConcurrency).toBe(1);
    });
  });
});

describe('engine functions, reservation configured', () => {
  it('reserves nothing with reservedConcurrency=none, and takes per-function overrides', () => {
    const off = synthesizeEngine({ config: { reservedConcurrency: { enabled: false, overrides: {} }, grpc: { ...defaultConfig.grpc, enabled: false } } });
    try {
      off.engine.allResourcesProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.absent() });
    } finally {
      removeAssembly(off);
    }
    expect(() => synthesizeEngine({ config: { reservedConcurrency: { enabled: true, overrides: { NoSuchFunction: 3 } } } })).toThrow(/NoSuchFunction/);
  });
});
