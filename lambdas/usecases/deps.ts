/**
 * The dependencies every use case receives: ports only, built by the composition root (lambdas/composition.ts).
 */
import type { BankDirectory, Clock, DeadLetterPort, MetricsPort, WorkflowPort } from '../ports';
import type { AccountStore, ReferenceStore, SettlementStore } from '../ports/stores';
import type { RecoveryStore } from '../ports/recovery';
import type { OperationsDeps } from './operations/deps';

/** Throws WindowClosedError when `currency` is outside its settlement window at `at`. */
export interface SettlementWindowPort {
  assertOpen(currency: string, at: Date): Promise<void>;
}

/** Every window open: used until windows are configured. */
export const alwaysOpenWindows: SettlementWindowPort = { assertOpen: async () => undefined };

export interface EngineLimits {
  /** A lock not ended by then is stale: reported by reconciliation, voided by cleanup when safe. */
  readonly lockTtlSeconds: number;
  /** Bank status checks before a transfer counts as unconfirmed (then compensation). */
  readonly confirmationChecksMax: number;
  /** Longest wait between two status checks. */
  readonly confirmationWaitSecondsMax: number;
  /** Attempts of a retryable failed settlement before it is parked. */
  readonly retryAttemptsMax: number;
  /** Delay before the first retry; doubles per attempt. */
  readonly retryDelaySecondsBase: number;
}

export const defaultEngineLimits: EngineLimits = {
  lockTtlSeconds: 24 * 3600,
  confirmationChecksMax: 30,
  confirmationWaitSecondsMax: 30,
  retryAttemptsMax: 5,
  retryDelaySecondsBase: 60,
};

export interface EngineDeps {
  readonly settlements: SettlementStore;
  readonly accounts: AccountStore;
  readonly reference: ReferenceStore;
  readonly windows: SettlementWindowPort;
  readonly banks: BankDirectory;
  readonly workflow: WorkflowPort;
  readonly deadLetters: DeadLetterPort;
  readonly metrics: MetricsPort;
  readonly clock: Clock;
  readonly limits: EngineLimits;
  /** Index queries of the recovery jobs and the parked-settlement API. */
  readonly recovery: RecoveryStore;
  /** Banks, accounts, windows and reconciliation (usecases/operations). */
  readonly operations: OperationsDeps;
}
