/**
 * Alarms and the dashboard, on the same metric names the local engine serves at `GET /metrics`.
 *
 * On Lambda the metrics go out as CloudWatch EMF (lambdas/adapters/metrics/emf.ts): namespace SettlementEngine,
 * and every series carries the `service` dimension Powertools adds, so alarms match {service, <label>} exactly.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { MetricName } from '../../lambdas/ports/metrics';
import { metricsNamespace, metricsServiceName, type AlarmConfig } from '../config';

export interface ObservabilityProps {
  readonly alarms: AlarmConfig;
  readonly stateMachine: sfn.IStateMachine;
  readonly deadLetterQueue: sqs.IQueue;
  readonly restApi: apigateway.RestApi;
  readonly dashboardName: string;
}

const period = Duration.minutes(5);

/** A metric the engine emits as EMF, with its labels as dimensions next to `service`. */
export function engineMetric(metricName: MetricName, labels: Readonly<Record<string, string>> = {}, statistic = 'Sum'): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: metricsNamespace,
    metricName,
    dimensionsMap: { service: metricsServiceName, ...labels },
    statistic,
    period,
  });
}

export class Observability extends Construct {
  readonly topic: sns.ITopic;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.topic = props.alarms.topicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarms.topicArn) : this.#createTopic(props.alarms.email);

    const atLeastOne = (alarmId: string, metric: cloudwatch.IMetric, description: string) =>
      new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No sample means nothing failed: EMF counters are only written when something happens.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });

    this.alarms = [
      atLeastOne('SettlementsFailedAlarm', engineMetric(MetricName.settlementTotal, { status: 'FAILED' }), 'Settlements ended FAILED (rolled back) in the last 5 minutes.'),
      atLeastOne('SettlementsParkedAlarm', engineMetric(MetricName.atomicOperationsTotal, { state: 'PARKED' }), 'Settlements were parked for an operator (see docs/operations.md, parked settlements).'),
      atLeastOne('ReconciliationDiscrepanciesAlarm', engineMetric(MetricName.reconciliationDiscrepanciesTotal), 'A reconciliation run found discrepancies between the ledger and a bank statement.'),
      atLeastOne('DeadLetterQueueDepthAlarm', props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), 'Parked settlements wait in the dead-letter queue.'),
      atLeastOne('ExecutionsFailedAlarm', props.stateMachine.metricFailed({ period, statistic: 'Sum' }), 'Settlement executions ended in a Fail state (parked) or failed outside the workflow.'),
      atLeastOne('ApiServerErrorsAlarm', props.restApi.metricServerError({ period, statistic: 'Sum' }), 'The REST API answered 5xx.'),
    ];
    const alarmAction = new actions.SnsAction(this.topic);
    for (const alarm of this.alarms) alarm.addAlarmAction(alarmAction);

    this.#dashboard(props);
  }

  #createTopic(email: string | undefined): sns.Topic {
    // SNS encryption needs a customer-managed key that CloudWatch may use: the AWS-managed SNS key does not allow it.
    const key = new kms.Key(this, 'AlarmTopicKey', { description: 'Settlement Engine: encrypts alarm notifications', enableKeyRotation: true });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Settlement Engine alarms', masterKey: key, enforceSSL: true });
    if (email) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }

  #dashboard(props: ObservabilityProps): void {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.hours(6) });
    // SEARCH picks up every label value (currency, bank) without the dashboard having to know them in advance.
    const search = (metricName: MetricName, labels: readonly string[], label: string, statistic = 'Sum') =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${metricsNamespace},service,${labels.join(',')}} MetricName="${metricName}" service="${metricsServiceName}"', '${statistic}', ${period.toSeconds()})`,
        label,
        period,
      });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Settlements by status (settlement_total)',
        left: ['COMPLETED', 'FAILED'].map((status) => engineMetric(MetricName.settlementTotal, { status }).with({ label: status })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Settlement duration (settlement_duration_seconds)',
        left: ['p50', 'p95', 'p99'].map((statistic) => engineMetric(MetricName.settlementDurationSeconds, {}, statistic).with({ label: statistic })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Settled amount by currency (settlement_amount_total)',
        left: [search(MetricName.settlementAmountTotal, ['currency'], 'amount')],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Atomic operations by state (atomic_operations_total)',
        left: [search(MetricName.atomicOperationsTotal, ['state'], 'operations')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Nostro balances (nostro_balance)', left: [search(MetricName.nostroBalance, ['bank', 'currency'], 'nostro', 'Maximum')], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Vostro balances (vostro_balance)', left: [search(MetricName.vostroBalance, ['bank', 'currency'], 'vostro', 'Maximum')], width: 8 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Executions',
        left: [
          props.stateMachine.metricStarted({ period }),
          props.stateMachine.metricSucceeded({ period }),
          props.stateMachine.metricFailed({ period }),
          props.stateMachine.metricTimedOut({ period }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'REST API',
        left: [props.restApi.metricCount({ period }), props.restApi.metricClientError({ period }), props.restApi.metricServerError({ period })],
        right: [props.restApi.metricLatency({ period, statistic: 'p99' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciliation discrepancies and parked settlements',
        left: [engineMetric(MetricName.reconciliationDiscrepanciesTotal).with({ label: 'discrepancies' }), props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, label: 'dead-letter queue depth' })],
        width: 8,
      }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 }));
  }
}
