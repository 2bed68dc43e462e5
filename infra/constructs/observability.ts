/**
 * Alarms and the dashboard, on the same metric names the local engine serves at `GET /metrics`.
 *
 * On Lambda the metrics go out as CloudWatch EMF (lambdas/adapters/metrics/emf.ts): namespace SettlementEngine,
 * and every series carries the `service` dimension Powertools adds, so alarms match {service, <label>} exactly.
 *
 * Every alarm is one an on-call would keep: it fires on a fault, never on ordinary traffic. Business declines
 * (insufficient funds, a bank's rejection) are the engine working, so the settlement alarm is a failure ratio over
 * `settlement_total{outcome=FAILED}` only; the stages whose typed errors are the workflow's control flow alarm on
 * an error rate, the others on any error.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { MetricName } from '../../lambdas/ports/metrics';
import { metricsNamespace, metricsServiceName, type AlarmConfig } from '../config';
import type { FunctionSpec } from '../function-catalogue';
import type { EngineTables } from '../stateful-stack';

export interface ObservabilityProps {
  readonly alarms: AlarmConfig;
  readonly stateMachine: sfn.IStateMachine;
  /** The Express fast path: its failures and timeouts leave a settlement in flight for the recovery sweep. */
  readonly fastPathStateMachine?: sfn.IStateMachine;
  readonly deadLetterQueue: sqs.IQueue;
  readonly restApi: apigateway.RestApi;
  readonly dashboardName: string;
  /** Every engine function with its catalogue entry. */
  readonly functions: readonly { readonly spec: FunctionSpec; readonly function: lambda.IFunction }[];
  readonly tables: EngineTables;
  /** The job schedules and the queue their failed deliveries and runs land in. */
  readonly scheduleRules: Readonly<Record<string, events.Rule>>;
  readonly failedJobsQueue: sqs.IQueue;
  /** The gRPC shim's target group, when it is deployed. */
  readonly grpcTargetGroup?: elbv2.NetworkTargetGroup;
}

const period = Duration.minutes(5);

/** Alarm thresholds, named: each says what "something is wrong" means here. */
export const alarmThresholds = {
  /** Settlements ending FAILED by fault (declines excluded), in percent of those ended, over a 5-minute period. */
  settlementFailurePercent: 5,
  /** A stage whose typed errors are control flow (declines, pending confirmation) erring this often is a fault. */
  controlFlowErrorPercent: 50,
  /** Transaction conflicts per table in 5 minutes: a few are normal contention (retried); this many is a hot key. */
  transactionConflictsPerPeriod: 25,
  /** A parked settlement waiting this long in the dead-letter queue: no operator has taken it. */
  deadLetterAgeSeconds: 3600,
} as const;

/**
 * Stages that throw typed errors as part of the workflow (a payer's insufficient funds, a closed window, a bank's
 * rejection or an unknown outcome the ASL retries): Lambda counts those as errors.
 */
export const controlFlowErrorStages: readonly string[] = ['validate', 'lockFunds', 'initiateTransfer', 'checkConfirmation'];

/** The DynamoDB operations the engine issues (no Scan): the throttle alarm sums them (an alarm takes 10 metrics at most). */
const engineTableOperations = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.BATCH_WRITE_ITEM,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

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

    const alarmWhen = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, description: string, evaluationPeriods = 1) =>
      new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });

    this.alarms = [
      alarmWhen(
        'SettlementFailureRatioAlarm',
        this.#failureRatio(),
        alarmThresholds.settlementFailurePercent,
        `At least ${alarmThresholds.settlementFailurePercent}% of the settlements that ended in 5 minutes failed by fault (business declines such as insufficient funds excluded), twice in a row.`,
        2,
      ),
      atLeastOne('SettlementsParkedAlarm', engineMetric(MetricName.atomicOperationsTotal, { state: 'PARKED' }), 'Settlements were parked for an operator (see docs/operations.md, parked settlements).'),
      atLeastOne('ReconciliationDiscrepanciesAlarm', engineMetric(MetricName.reconciliationDiscrepanciesTotal), 'A reconciliation run found discrepancies between the ledger and a bank statement.'),
      atLeastOne('DeadLetterQueueDepthAlarm', props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), 'Parked settlements wait in the dead-letter queue.'),
      alarmWhen(
        'DeadLetterQueueAgeAlarm',
        props.deadLetterQueue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
        alarmThresholds.deadLetterAgeSeconds,
        'A parked settlement has waited in the dead-letter queue for an hour: no operator has taken it.',
      ),
      atLeastOne('ExecutionsFailedAlarm', props.stateMachine.metricFailed({ period, statistic: 'Sum' }), 'Settlement executions ended in a Fail state (parked) or failed outside the workflow.'),
      atLeastOne('ExecutionsTimedOutAlarm', props.stateMachine.metricTimedOut({ period, statistic: 'Sum' }), 'A settlement execution hit its 24-hour timeout: the settlement is stuck mid-workflow (the recovery sweep resumes it).'),
      atLeastOne('ExecutionsThrottledAlarm', props.stateMachine.metric('ExecutionThrottled', { period, statistic: 'Sum' }), 'Step Functions throttled state transitions of the settlement workflow.'),
      ...(props.fastPathStateMachine
        ? [
            atLeastOne('FastPathExecutionsFailedAlarm', props.fastPathStateMachine.metricFailed({ period, statistic: 'Sum' }), 'Fast-path (Express) executions ended in a Fail state (parked, or a hand-off to the Standard workflow failed: the recovery sweep resumes those).'),
            atLeastOne('FastPathExecutionsTimedOutAlarm', props.fastPathStateMachine.metricTimedOut({ period, statistic: 'Sum' }), 'A fast-path (Express) execution hit its 120-second timeout: the settlement is in flight until the recovery sweep resumes it.'),
          ]
        : []),
      atLeastOne('ApiServerErrorsAlarm', props.restApi.metricServerError({ period, statistic: 'Sum' }), 'The REST API answered 5xx.'),
      atLeastOne('FailedJobsAlarm', props.failedJobsQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), 'A scheduled job could not be delivered or failed after its retries: its event is in the failed-jobs queue.'),
      ...this.#functionAlarms(props, alarmWhen, atLeastOne),
      ...this.#tableAlarms(props, alarmWhen, atLeastOne),
      ...Object.entries(props.scheduleRules).map(([job, rule]) =>
        atLeastOne(
          `${pascal(job)}ScheduleFailedAlarm`,
          new cloudwatch.Metric({ namespace: 'AWS/Events', metricName: 'FailedInvocations', dimensionsMap: { RuleName: rule.ruleName }, period, statistic: 'Sum' }),
          `EventBridge could not invoke the ${job} job (after its retries).`,
        ),
      ),
      ...(props.grpcTargetGroup
        ? [
            alarmWhen(
              'GrpcUnhealthyTargetsAlarm',
              props.grpcTargetGroup.metrics.unHealthyHostCount({ period: Duration.minutes(1), statistic: 'Maximum' }),
              1,
              'A gRPC shim task fails the NLB health check (TCP on 50056), two minutes in a row.',
              2,
            ),
          ]
        : []),
    ];
    const alarmAction = new actions.SnsAction(this.topic);
    for (const alarm of this.alarms) alarm.addAlarmAction(alarmAction);

    this.#dashboard(props);
  }


  /** 100 × FAILED / (COMPLETED + DECLINED + FAILED), from settlement_total{outcome}; nothing ended → 0. */
  #failureRatio(): cloudwatch.MathExpression {
    const outcome = (value: string) => engineMetric(MetricName.settlementTotal, { outcome: value });
    return new cloudwatch.MathExpression({
      // FILL: EMF counters have no datapoint in a period where nothing of that outcome happened.
      expression: 'IF(FILL(completed, 0) + FILL(declined, 0) + FILL(failed, 0) > 0, 100 * FILL(failed, 0) / (FILL(completed, 0) + FILL(declined, 0) + FILL(failed, 0)), 0)',
      usingMetrics: { completed: outcome('COMPLETED'), declined: outcome('DECLINED'), failed: outcome('FAILED') },
      label: 'settlements failed by fault (%)',
      period,
    });
  }

  #functionAlarms(props: ObservabilityProps, alarmWhen: AlarmFactory, atLeastOne: AtLeastOne): cloudwatch.Alarm[] {
    return props.functions.flatMap(({ spec, function: fn }) => {
      const id = spec.id.replace(/Function$/, '');
      const errors = controlFlowErrorStages.includes(spec.exportName) && spec.module === 'stages'
        ? alarmWhen(
            `${id}ErrorRateAlarm`,
            new cloudwatch.MathExpression({
              expression: 'IF(FILL(invocations, 0) > 0, 100 * FILL(errors, 0) / invocations, 0)',
              usingMetrics: { errors: fn.metricErrors({ period, statistic: 'Sum' }), invocations: fn.metricInvocations({ period, statistic: 'Sum' }) },
              label: `${spec.id} errors (%)`,
              period,
            }),
            alarmThresholds.controlFlowErrorPercent,
            `${spec.id}: at least ${alarmThresholds.controlFlowErrorPercent}% of invocations erred for 15 minutes (its typed declines are expected; this many is a fault).`,
            3,
          )
        : atLeastOne(`${id}ErrorsAlarm`, fn.metricErrors({ period, statistic: 'Sum' }), `${spec.id} erred (an unhandled error or a timeout).`);
      const throttles = atLeastOne(`${id}ThrottlesAlarm`, fn.metricThrottles({ period, statistic: 'Sum' }), `${spec.id} was throttled: its reserved concurrency (${spec.reservedConcurrency} by default) is exhausted.`);
      return [errors, throttles];
    });
  }

  #tableAlarms(props: ObservabilityProps, alarmWhen: AlarmFactory, atLeastOne: AtLeastOne): cloudwatch.Alarm[] {
    return (Object.entries(props.tables) as [string, dynamodb.ITable][]).flatMap(([name, table]) => [
      atLeastOne(
        `${pascal(name)}TableThrottledAlarm`,
        throttledRequests(name, table),
        `DynamoDB throttled requests on the ${name} table.`,
      ),
      alarmWhen(
        `${pascal(name)}TableConflictsAlarm`,
        table.metric('TransactionConflict', { period, statistic: 'Sum' }),
        alarmThresholds.transactionConflictsPerPeriod,
        `At least ${alarmThresholds.transactionConflictsPerPeriod} transaction conflicts on the ${name} table in 5 minutes, three times in a row: a hot account or a retry storm.`,
        3,
      ),
    ]);
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
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Settlements by outcome (declines are not failures)',
        left: ['COMPLETED', 'DECLINED', 'FAILED'].map((outcome) => engineMetric(MetricName.settlementTotal, { outcome }).with({ label: outcome })),
        right: [this.#failureRatio()],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda throttles and errors, per function',
        left: props.functions.map(({ spec, function: fn }) => fn.metricThrottles({ period, statistic: 'Sum', label: `${spec.id} throttles` })),
        right: props.functions.map(({ spec, function: fn }) => fn.metricErrors({ period, statistic: 'Sum', label: `${spec.id} errors` })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB throttled requests and transaction conflicts, per table',
        left: (Object.entries(props.tables) as [string, dynamodb.ITable][]).map(([name, table]) =>
          throttledRequests(name, table),
        ),
        right: (Object.entries(props.tables) as [string, dynamodb.ITable][]).map(([name, table]) =>
          table.metric('TransactionConflict', { period, statistic: 'Sum', label: `${name} conflicts` }),
        ),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Step Functions throttles, jobs and the gRPC targets',
        left: [
          props.stateMachine.metric('ExecutionThrottled', { period, statistic: 'Sum', label: 'execution throttled' }),
          props.failedJobsQueue.metricApproximateNumberOfMessagesVisible({ period, label: 'failed jobs' }),
          ...(props.grpcTargetGroup ? [props.grpcTargetGroup.metrics.unHealthyHostCount({ period, label: 'unhealthy gRPC targets' })] : []),
        ],
        right: [props.deadLetterQueue.metricApproximateAgeOfOldestMessage({ period, label: 'oldest parked message (s)' })],
        width: 24,
      }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 }));
  }
}

type AlarmFactory = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, description: string, evaluationPeriods?: number) => cloudwatch.Alarm;
type AtLeastOne = (alarmId: string, metric: cloudwatch.IMetric, description: string) => cloudwatch.Alarm;

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * ThrottledRequests of one table, summed over the operations the engine issues. Ids carry the table's name so that
 * several tables can share one graph.
 */
function throttledRequests(name: string, table: dynamodb.ITable): cloudwatch.MathExpression {
  const usingMetrics = Object.fromEntries(
    engineTableOperations.map((operation) => [
      `${name.toLowerCase()}_${operation.toLowerCase()}`,
      table.metric('ThrottledRequests', { dimensionsMap: { TableName: table.tableName, Operation: operation }, period, statistic: 'Sum' }),
    ]),
  );
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics).map((id) => `FILL(${id}, 0)`).join(' + '),
    usingMetrics,
    label: `${name} throttled requests`,
    period,
  });
}
