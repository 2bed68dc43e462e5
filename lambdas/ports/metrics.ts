import { ErrorCode } from '../domain/errors';

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

/**
 * How a settlement ended, for alarms: `settlement_total{outcome}` next to `settlement_total{status}`. A FAILED
 * settlement is DECLINED when its reason code is a business answer (the payer could not pay, the data or the bank
 * said no): normal traffic, never paged on. Everything else FAILED (infrastructure, timeouts, invariants) is a fault.
 */
export type SettlementOutcome = 'COMPLETED' | 'DECLINED' | 'FAILED';

/** Reason codes that are business declines. A new business reason (a compliance refusal, say) belongs here. */
export const declineReasonCodes: ReadonlySet<string> = new Set<string>([
  ErrorCode.invalidField,
  ErrorCode.insufficientFunds,
  ErrorCode.windowClosed,
  ErrorCode.accountNotFound,
  ErrorCode.accountNotActive,
  ErrorCode.bankNotFound,
  ErrorCode.bankNotActive,
  ErrorCode.routeNotFound,
  ErrorCode.bankRejected,
]);

export function settlementOutcome(status: string, reasonCode: string | undefined): SettlementOutcome {
  if (status === 'COMPLETED') return 'COMPLETED';
  return reasonCode !== undefined && declineReasonCodes.has(reasonCode) ? 'DECLINED' : 'FAILED';
}

export interface SettlementEndedEvent {
  readonly status: string;
  readonly currency: string;
  readonly amount: string;
  readonly durationSeconds: number;
  /** Why a FAILED settlement failed: decides its outcome (DECLINED or FAILED). */
  readonly reasonCode?: string;
}

export interface MetricsPort {
  /** A settlement reached a terminal status (COMPLETED or FAILED, with its reason code). `amount` is a decimal string. */
  settlementEnded(event: SettlementEndedEvent): void;
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
