/**
 * One metrics port, two adapters: Prometheus (prom-client) locally and on the gRPC task, CloudWatch EMF
 * (Powertools) on Lambda. Metric names are the seed's, exactly.
 */
export const MetricName = {
  settlementTotal: 'settlement_total',
  settlementDurationSeconds: 'settlement_duration_seconds',
  settlementAmountTotal: 'settlement_amount_total',
  reconciliationDiscrepanciesTotal: 'reconciliation_discrepancies_total',
  atomicOperationsTotal: 'atomic_operations_total',
  nostroBalance: 'nostro_balance',
  vostroBalance: 'vostro_balance',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export interface MetricsPort {
  /** A settlement reached a terminal status (COMPLETED or FAILED). `amount` is a decimal string. */
  settlementEnded(event: { status: string; currency: string; amount: string; durationSeconds: number }): void;
  /** An atomic operation (one execution attempt) changed state: STARTED, COMMITTED, ROLLED_BACK, PARKED. */
  atomicOperation(state: string): void;
  /** Discrepancies found by a reconciliation run. */
  reconciliationDiscrepancies(count: number): void;
  /** Current balance of an account (a gauge). */
  accountBalance(account: { accountType: 'NOSTRO' | 'VOSTRO'; bic: string; currency: string; balance: string }): void;
  /** Sends buffered metrics (EMF flush at the end of a Lambda invocation); a no-op for Prometheus. */
  flush(): Promise<void>;
}

/** Metrics that go nowhere: for tools and tests that do not measure. */
export const noMetrics: MetricsPort = {
  settlementEnded: () => undefined,
  atomicOperation: () => undefined,
  reconciliationDiscrepancies: () => undefined,
  accountBalance: () => undefined,
  flush: async () => undefined,
};
