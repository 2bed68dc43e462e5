/**
 * MetricsPort on prom-client: what `GET /metrics` serves locally and what the gRPC task exposes.
 *
 * Each adapter owns its Registry (never prom-client's global one), so two engines in one process (tests) and the
 * default process metrics of each never collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MetricName, settlementOutcome, type MetricsPort, type SettlementEndedEvent } from '../../ports/metrics';
import { Money } from '../../domain/money';

/**
 * Settlement latency buckets in seconds: tight below a second (the local engine's p99 is in milliseconds), then
 * the seed's targets (5 s domestic, 30 s international) and beyond, so a breach shows as its own bucket.
 */
export const settlementDurationBucketsSeconds = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300] as const;

export interface PrometheusMetricsOptions {
  /** Also collect prom-client's default process metrics (CPU, memory, event loop, GC). Default true. */
  readonly collectProcessMetrics?: boolean;
  /** Prefix for the process metrics only; the seed's metric names are never prefixed. */
  readonly processMetricsPrefix?: string;
  /**
   * Current balances, read at each scrape: the gauges then show the store's truth whichever process moved the
   * money (and an account that disappeared stops being reported). Without it, only accountBalance() sets them.
   */
  readonly balances?: () => Promise<readonly AccountBalanceSample[]>;
}

export interface AccountBalanceSample {
  readonly accountType: 'NOSTRO' | 'VOSTRO';
  readonly bic: string;
  readonly currency: string;
  readonly balance: string;
}

export class PrometheusMetrics implements MetricsPort {
  readonly registry = new Registry();
  readonly #settlementTotal: Counter<'status' | 'outcome'>;
  readonly #settlementDuration: Histogram;
  readonly #settlementAmount: Counter<'currency'>;
  readonly #reconciliationDiscrepancies: Counter;
  readonly #atomicOperations: Counter<'state'>;
  readonly #nostroBalance: Gauge<'bank' | 'currency'>;
  readonly #vostroBalance: Gauge<'bank' | 'currency'>;

  readonly #balances: PrometheusMetricsOptions['balances'];

  constructor(options: PrometheusMetricsOptions = {}) {
    this.#balances = options.balances;
    const registers = [this.registry];
    this.#settlementTotal = new Counter({ name: MetricName.settlementTotal, help: 'Settlements that reached a terminal status, by status and outcome (COMPLETED, DECLINED, FAILED)', labelNames: ['status', 'outcome'], registers });
    this.#settlementDuration = new Histogram({
      name: MetricName.settlementDurationSeconds,
      help: 'Time from submission to terminal status, in seconds',
      buckets: [...settlementDurationBucketsSeconds],
      registers,
    });
    this.#settlementAmount = new Counter({ name: MetricName.settlementAmountTotal, help: 'Sum of amounts of completed settlements, by currency', labelNames: ['currency'], registers });
    this.#reconciliationDiscrepancies = new Counter({ name: MetricName.reconciliationDiscrepanciesTotal, help: 'Discrepancies found by reconciliation runs', registers });
    this.#atomicOperations = new Counter({ name: MetricName.atomicOperationsTotal, help: 'Atomic operation state changes, by state', labelNames: ['state'], registers });
    this.#nostroBalance = new Gauge({ name: MetricName.nostroBalance, help: 'Nostro account balance, by bank (BIC) and currency', labelNames: ['bank', 'currency'], registers });
    this.#vostroBalance = new Gauge({ name: MetricName.vostroBalance, help: 'Vostro account balance, by bank (BIC) and currency', labelNames: ['bank', 'currency'], registers });
    if (options.collectProcessMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: options.processMetricsPrefix });
  }

  settlementEnded(event: SettlementEndedEvent): void {
    this.#settlementTotal.inc({ status: event.status, outcome: settlementOutcome(event.status, event.reasonCode) });
    if (Number.isFinite(event.durationSeconds) && event.durationSeconds >= 0) this.#settlementDuration.observe(event.durationSeconds);
    // Only money that moved counts towards the amount total. A float is fine here: a metric, never a balance.
    const amount = toMetricNumber(event.amount);
    if (event.status === 'COMPLETED' && amount !== undefined) this.#settlementAmount.inc({ currency: event.currency }, amount);
  }

  atomicOperation(state: string): void {
    this.#atomicOperations.inc({ state });
  }

  reconciliationDiscrepancies(count: number): void {
    if (count > 0) this.#reconciliationDiscrepancies.inc(count);
  }

  accountBalance(account: AccountBalanceSample): void {
    const gauge = account.accountType === 'NOSTRO' ? this.#nostroBalance : this.#vostroBalance;
    const balance = toMetricNumber(account.balance);
    if (balance !== undefined) gauge.set({ bank: account.bic, currency: account.currency }, balance);
  }

  async flush(): Promise<void> {
    // Scraped, not pushed: nothing to send.
  }

  /** The Prometheus text exposition of every metric in this adapter's registry. */
  async render(): Promise<{ contentType: string; body: string }> {
    if (this.#balances !== undefined) {
      const samples = await this.#balances();
      this.#nostroBalance.reset();
      this.#vostroBalance.reset();
      for (const sample of samples) this.accountBalance(sample);
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * A decimal string as a metric sample (float64: fine for a metric, never for a balance). Undefined when it is not
 * a finite number, so a bad sample is dropped instead of failing the money-moving code that reports it.
 */
export function toMetricNumber(decimal: string): number | undefined {
  if (typeof decimal !== 'string' || !/^-?\d+(\.\d+)?$/.test(decimal)) return undefined;
  // The one place a decimal becomes a float: a metric sample, explicitly, through decimal.js.
  return new Money(decimal).toNumber();
}
