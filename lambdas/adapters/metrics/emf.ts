/**
 * MetricsPort on CloudWatch Embedded Metric Format through Powertools Metrics: what the Lambda handlers use.
 *
 * An EMF document carries one dimension set for all its metrics, while our metrics carry different labels
 * (status, currency, state, bank+currency). So the adapter keeps one Powertools `Metrics` buffer per dimension set
 * (e.g. {status: COMPLETED}, {currency: EUR}) and `flush()` publishes every buffer that holds samples: one EMF line
 * per dimension set, written to stdout, which Lambda ships to CloudWatch Logs. Names and dimensions are the same as
 * the Prometheus labels, so dashboards read the same series on both sides.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { MetricName, settlementOutcome, type MetricsPort, type SettlementEndedEvent } from '../../ports/metrics';
import { toMetricNumber } from './prometheus';

export const defaultMetricsNamespace = 'SettlementEngine';
export const defaultServiceName = 'settlement-engine';

/** Distinct dimension sets buffered before a flush; beyond it the oldest buffers are published early. */
export const dimensionSetsBufferedMax = 256;

export interface EmfMetricsOptions {
  /** CloudWatch namespace; default env POWERTOOLS_METRICS_NAMESPACE, else "SettlementEngine". */
  readonly namespace?: string;
  /** The `service` dimension Powertools adds to every metric; default env POWERTOOLS_SERVICE_NAME, else "settlement-engine". */
  readonly serviceName?: string;
}

type Dimensions = Readonly<Record<string, string>>;
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export class EmfMetrics implements MetricsPort {
  readonly namespace: string;
  readonly serviceName: string;
  // Insertion-ordered: the first key is the oldest buffer.
  readonly #buffers = new Map<string, Metrics>();

  constructor(options: EmfMetricsOptions = {}, environment: NodeJS.ProcessEnv = process.env) {
    this.namespace = options.namespace ?? nonEmpty(environment.POWERTOOLS_METRICS_NAMESPACE) ?? defaultMetricsNamespace;
    this.serviceName = options.serviceName ?? nonEmpty(environment.POWERTOOLS_SERVICE_NAME) ?? defaultServiceName;
  }

  settlementEnded(event: SettlementEndedEvent): void {
    this.#add({ status: event.status }, MetricName.settlementTotal, MetricUnit.Count, 1);
    // The same count by outcome: the failure-ratio alarm divides FAILED by all three and ignores declines.
    this.#add({ outcome: settlementOutcome(event.status, event.reasonCode) }, MetricName.settlementTotal, MetricUnit.Count, 1);
    if (Number.isFinite(event.durationSeconds) && event.durationSeconds >= 0) {
      this.#add({}, MetricName.settlementDurationSeconds, MetricUnit.Seconds, event.durationSeconds);
    }
    const amount = toMetricNumber(event.amount);
    if (event.status === 'COMPLETED' && amount !== undefined) this.#add({ currency: event.currency }, MetricName.settlementAmountTotal, MetricUnit.NoUnit, amount);
  }

  atomicOperation(state: string): void {
    this.#add({ state }, MetricName.atomicOperationsTotal, MetricUnit.Count, 1);
  }

  reconciliationDiscrepancies(count: number): void {
    if (count > 0) this.#add({}, MetricName.reconciliationDiscrepanciesTotal, MetricUnit.Count, count);
  }

  accountBalance(account: { accountType: 'NOSTRO' | 'VOSTRO'; bic: string; currency: string; balance: string }): void {
    const balance = toMetricNumber(account.balance);
    if (balance === undefined) return;
    const name = account.accountType === 'NOSTRO' ? MetricName.nostroBalance : MetricName.vostroBalance;
    this.#add({ bank: account.bic, currency: account.currency }, name, MetricUnit.NoUnit, balance);
  }

  /** Publishes every buffered dimension set (one EMF line each) and empties the buffers. */
  async flush(): Promise<void> {
    for (const [key, buffer] of this.#buffers) {
      this.#buffers.delete(key);
      if (buffer.hasStoredMetrics()) buffer.publishStoredMetrics();
    }
  }

  #add(dimensions: Dimensions, name: MetricName, unit: Unit, value: number): void {
    const key = JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)));
    let buffer = this.#buffers.get(key);
    if (buffer === undefined) {
      this.#publishOldestWhenFull();
      // Dimensions are default dimensions of their own buffer, so they survive Powertools' per-publish clearing.
      buffer = new Metrics({ namespace: this.namespace, serviceName: this.serviceName, defaultDimensions: { ...dimensions } });
      this.#buffers.set(key, buffer);
    }
    // Powertools publishes a buffer early on its own once one metric holds 100 values (EMF's limit).
    buffer.addMetric(name, unit, value);
  }

  #publishOldestWhenFull(): void {
    if (this.#buffers.size < dimensionSetsBufferedMax) return;
    const [oldestKey, oldest] = this.#buffers.entries().next().value!;
    this.#buffers.delete(oldestKey);
    if (oldest.hasStoredMetrics()) oldest.publishStoredMetrics();
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** How often a long-lived process (the gRPC task on Fargate) publishes its buffered EMF metrics. */
export const emfFlushIntervalMsDefault = 60_000;

/**
 * For a process that is not a Lambda invocation (the gRPC task): nothing flushes per request there, so the buffers
 * are published every interval, and once more when the process stops (SIGTERM), so the last minute is not lost.
 * On Fargate the EMF lines go to stdout, the awslogs driver ships them to CloudWatch Logs, which extracts the metrics.
 */
export function flushPeriodically(metrics: Pick<MetricsPort, 'flush'>, intervalMs = emfFlushIntervalMsDefault): { stop(): Promise<void> } {
  const report = (error: unknown) => console.error(JSON.stringify({ level: 'ERROR', message: 'metrics flush failed', error: String(error) }));
  const timer = setInterval(() => metrics.flush().catch(report), intervalMs);
  // The timer alone never keeps the process alive.
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await metrics.flush().catch(report);
    },
  };
}
