import { Match, type Template } from 'aws-cdk-lib/assertions';
import { MetricName } from '../../lambdas/ports/metrics';
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

  it('alarms on failed settlements (settlement_total{status=FAILED})', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', engineAlarm(MetricName.settlementTotal, [service, { Name: 'status', Value: 'FAILED' }]));
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
