/**
 * The dependencies every use case receives: ports only, built by the composition root (lambdas/composition.ts).
 */
import { defaultValueDateWindows, type ValueDateWindows } from '../domain/value-date';
import type { BankDirectory, BankMessageJournal, Clock, DeadLetterPort, MetricsPort, WorkflowPort } from '../ports';
import type { AccountStore, ReferenceStore, ReturnStore, SettlementStore } from '../ports/stores';
import type { RecoveryStore } from '../ports/recovery';
import type { OperationsDeps } from './operations/deps';
import type { CompliancePolicy } from '../domain/compliance';
import type { Rail, SettlementKind } from '../domain/settlement';

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
  /**
   * How long, per kind, a bank may take to confirm a transfer (from the attempt's start) before it counts as
   * unconfirmed and is compensated. Domestic rails confirm in seconds; international chains take longer.
   */
  readonly confirmationDeadlineSeconds: Readonly<Record<SettlementKind, number>>;
  /** Latency objectives per kind (submit → COMPLETED, bank time excluded): reported by the bench, alarmed on AWS. */
  readonly latencyObjectiveSeconds: Readonly<Record<SettlementKind, number>>;
  /** How far from today a submitted settlement's value date may lie, per rail and currency (domain/value-date.ts). */
  readonly valueDateWindows: ValueDateWindows;
  /** How long submission reuses what the bank registry said about a BIC (known or not); bounded in entries too. */
  readonly bankCacheSeconds: number;
  /**
   * Rails on which a settlement must carry payerIban and payeeIban (refused at submission otherwise): SEPA when
   * the rails speak ISO 20022 (EPC SCT); none with the in-process mock bank, which carries no accounts.
   */
  readonly ibanRequiredRails: readonly Rail[];
}

export const defaultEngineLimits: EngineLimits = {
  lockTtlSeconds: 24 * 3600,
  confirmationChecksMax: 30,
  confirmationWaitSecondsMax: 30,
  retryAttemptsMax: 5,
  retryDelaySecondsBase: 60,
  confirmationDeadlineSeconds: { DOMESTIC: 15 * 60, INTERNATIONAL: 4 * 3600 },
  // The seed's figures: < 5 s domestic, < 30 s international.
  latencyObjectiveSeconds: { DOMESTIC: 5, INTERNATIONAL: 30 },
  valueDateWindows: defaultValueDateWindows,
  bankCacheSeconds: 30,
  ibanRequiredRails: [],
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
  /** Sanctions list, amount limits and net debit caps checked by Validate; absent: no compliance checks (unit tests). */
  readonly compliance?: CompliancePolicy;
  /** Every message exchanged with a bank, per settlement (GET /api/v1/settlements/{id}/messages). */
  readonly bankMessages?: BankMessageJournal;
  /** Returns booked after Finalize (usecases/returns.ts); absent: no returns feed is read. */
  readonly returns?: ReturnStore;
}
