/**
 * Typed errors of the recovery module (same pattern as domain/errors.ts: `name` is the class name, `code` a stable
 * dotted code from `ErrorCode` that APIs return and operators search for).
 */
import { ErrorCode, SettlementEngineError } from '../../domain/errors';

/** Reason codes the recovery module writes on settlements (beside the error codes of the stage that failed). */
export const RecoveryReasonCode = {
  /** An operator ended a parked settlement by hand. */
  abandoned: 'SETTLEMENT.ABANDONED',
  /** Cleanup found the settlement's lock past its expiry. */
  lockExpired: 'LOCK.EXPIRED',
} as const;

/** Requeue and abandon act on parked settlements only: anything else is still the engine's to finish. */
export class SettlementNotParkedError extends SettlementEngineError {
  readonly code = ErrorCode.settlementNotParked;
  readonly kind = 'conflict' as const;
  constructor(
    readonly settlementId: string,
    readonly status: string,
  ) {
    super(`settlement ${settlementId} is not parked (status ${status}); only a parked settlement can be requeued or abandoned`);
  }
}

/**
 * Abandoning would void a lock while money may have left the nostro (the bank reports the transfer as accepted or
 * settled). The operator must let the engine compensate or finalize (requeue), or settle it with the bank first.
 */
export class AbandonRefusedError extends SettlementEngineError {
  readonly code = ErrorCode.abandonRefused;
  readonly kind = 'conflict' as const;
  constructor(
    readonly settlementId: string,
    readonly idempotencyKey: string,
    readonly bankState: string,
  ) {
    super(
      `settlement ${settlementId} cannot be abandoned: the bank reports transfer ${idempotencyKey} as ${bankState}, so money may have left the nostro. ` +
        'Requeue it so the engine compensates (or finalizes) it, or have the transfer reversed at the bank first.',
    );
  }
}
