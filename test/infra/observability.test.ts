import { Match, type Template } from 'aws-cdk-lib/assertions';
import { tableDefinitions } from '../../lambdas/adapters/dynamodb/table-definitions';
import { MetricName } from '../../lambdas/ports/metrics';
import { alarmThresholds, controlFlowErrorStages } from '../../infra/constructs/observability';
import { allFunctions } from '../../infra/function-catalogue';
import { logicalIdOf, onlyResource, removeAssembly, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

describe('dead-letter queue, alarms and dashboard', () => {
  let synthesized: SynthesizedEngine;
  let template: Template;
  let queueId: string;
  let topicId: string;
  beforeAll(() => {
    synthesized = synthesizeEngine();
    template = synthesized.engine;
    queueId = logicalIdOf(synthesized.stacks.engine.deadLetterQueue);
    [topicId] = onlyResource(template, 'AWS::SNS::Topic');
  });
  afterAll(() => removeAssembly(synthesized));

  describe('the dead-letter queue for parked settlements', () => {
    it('is encrypted and keeps messages 14 days', () => {
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    });

    it('refuses requests without TLS', () => {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });
  });

  const engineAlarm = (metricName: string, dimensions: { Name: string; Value: string }[]) => ({
    Namespace: 'SettlementEngine',
    MetricName: metricName,
    Dimensions: dimensions,
    Statistic: 'Sum',
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  });
  const service = { Name: 'service', Value: 'settlement-engine' };

  describe('settlement failures', () => {
    it('alarms on the ratio of settlements failed by fault, from settlement_total{outcome}, declines excluded', () => {
      const outcomeMetric = (outcome: string) =>
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: { Namespace: 'SettlementEngine', MetricName: 'settlement_total', Dimensions: [{ Name: 'outcome', Value: outcome }, service] } }) });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: Match.stringLikeRegexp('^IF\\(.*100 \\* FILL\\(failed, 0\\) / \\(FILL\\(completed, 0\\) \\+ FILL\\(declined, 0\\) \\+ FILL\\(failed, 0\\)\\)'), ReturnData: true }),
          outcomeMetric('COMPLETED'),
          outcomeMetric('DECLINED'),
          outcomeMetric('FAILED'),
        ]),
        Threshold: alarmThresholds.settlementFailurePercent,
        EvaluationPeriods: 2,
        TreatMissingData: 'notBreaching',
      });
    });

    it('no longer alarms on every FAILED settlement (an insufficient-funds decline is not an incident)', () => {
      const onStatusFailed = template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'settlement_total', Dimensions: Match.arrayWith([{ Name: 'status', Value: 'FAILED' }]) } });
      expect(Object.keys(onStatusFailed)).toEqual([]);
    });
  });

  describe.each(allFunctions.map((spec) => [spec.id, spec] as const))('%s', (_id, spec) => {
    const functionId = () => logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function);
    const lambdaMetric = (metricName: string) => ({ Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId() } }] });

    it('alarms when it is throttled', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...lambdaMetric('Throttles'), Statistic: 'Sum', Threshold: 1 });
    });

    const controlFlow = spec.module === 'stages' && controlFlowErrorStages.includes(spec.exportName);
    it(controlFlow ? 'alarms on a sustained error rate (its typed declines are errors to Lambda)' : 'alarms on any error', () => {
      if (controlFlow) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Metrics: Match.arrayWith([Match.objectLike({ MetricStat: Match.objectLike({ Metric: lambdaMetric('Errors') }) })]),
          Threshold: alarmThresholds.controlFlowErrorPercent,
          EvaluationPeriods: 3,
        });
      } else {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...lambdaMetric('Errors'), Statistic: 'Sum', Threshold: 1 });
      }
    });
  });

  it('alarms on timed-out executions and throttled transitions of the state machine', () => {
    const stateMachine = [{ Name: 'StateMachineArn', Value: { Ref: logicalIdOf(synthesized.stacks.engine.workflow.stateMachine) } }];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/States', MetricName: 'ExecutionsTimedOut', Dimensions: stateMachine, Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/States', MetricName: 'ExecutionThrottled', Dimensions: stateMachine, Threshold: 1 });
  });

  describe.each(tableDefinitions.map((definition) => [definition.logicalName] as const))('the %s table', (table) => {
    it('alarms on throttled requests, every operation the engine issues summed', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
        ((alarm.Properties.Metrics ?? []) as { Id: string }[]).some((metric) => metric.Id.startsWith(`${table.toLowerCase()}_`)),
      );
      expect(alarms).toHaveLength(1);
      const operations = (alarms[0]!.Properties.Metrics as { MetricStat?: { Metric: { Dimensions: { Name: string; Value: unknown }[] } } }[])
        .flatMap((metric) => metric.MetricStat?.Metric.Dimensions.filter((dimension) => dimension.Name === 'Operation').map((dimension) => dimension.Value) ?? [])
        .sort();
      expect(operations).toEqual(['BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'TransactWriteItems', 'UpdateItem']);
    });

    it('alarms on sustained transaction conflicts', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/DynamoDB',
        MetricName: 'TransactionConflict',
        Dimensions: [{ Name: 'TableName', Value: Match.objectLike({ 'Fn::ImportValue': Match.anyValue() }) }],
        Threshold: alarmThresholds.transactionConflictsPerPeriod,
        EvaluationPeriods: 3,
      });
    });
  });

  it('alarms when a parked settlement has waited an hour in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: alarmThresholds.deadLetterAgeSeconds,
    });
  });

  it('alarms on failed jobs: the failed-jobs queue, and each schedule\'s failed invocations', () => {
    const failedJobsQueue = logicalIdOf(synthesized.stacks.engine.schedules.failedJobsQueue);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [failedJobsQueue, 'QueueName'] } }],
      Threshold: 1,
    });
    for (const rule of Object.values(synthesized.stacks.engine.schedules.rules)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Events',
        MetricName: 'FailedInvocations',
        Dimensions: [{ Name: 'RuleName', Value: { Ref: logicalIdOf(rule) } }],
        Threshold: 1,
      });
    }
  });

  it('alarms on unhealthy gRPC targets behind the NLB', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/NetworkELB',
      MetricName: 'UnHealthyHostCount',
      Statistic: 'Maximum',
      Threshold: 1,
      EvaluationPeriods: 2,
    });
  });

  it('alarms on parked settlements (atomic_operations_total{state=PARKED})', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', engineAlarm(MetricName.atomicOperationsTotal, [service, { Name: 'state', Value: 'PARKED' }]));
  });

  it('alarms on reconciliation discrepancies (reconciliation_discrepancies_total)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', engineAlarm(MetricName.reconciliationDiscrepanciesTotal, [service]));
  });

  it('alarms on dead-letter queue depth', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('alarms on failed executions of the state machine', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalIdOf(synthesized.stacks.engine.workflow.stateMachine) } }],
      Threshold: 1,
    });
  });

  it('notifies every alarm to an encrypted SNS topic that accepts TLS only', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('draws every seed metric on one dashboard', () => {
    const [, dashboard] = onlyResource(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metricName of Object.values(MetricName)) expect(body).toContain(metricName);
  });

  it('shows throttles (Lambda, DynamoDB, Step Functions) and transaction conflicts on the dashboard', () => {
    const [, dashboard] = onlyResource(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const needle of ['Throttles', 'ThrottledRequests', 'TransactionConflict', 'ExecutionThrottled', 'outcome']) expect(body).toContain(needle);
  });
});

describe('alarms with an existing topic', () => {
  let synthesized: SynthesizedEngine;
  const topicArn = 'arn:aws:sns:eu-west-1:111122223333:oncall';
  beforeAll(() => {
    synthesized = synthesizeEngine({ config: { alarms: { topicArn } } });
  });
  afterAll(() => removeAssembly(synthesized));

  it('notifies the given topic and creates none', () => {
    synthesized.engine.resourceCountIs('AWS::SNS::Topic', 0);
    synthesized.engine.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [topicArn] });
  });
});
