/**
 * Typed errors of the recovery module (parked settlements: requeue and abandon). Same pattern as errors.ts; registered
 * in error-catalogue.ts.
 */
import { ErrorCode, SettlementEngineError } from './errors';

/** Requeue and abandon act on parked settlements only: anything else is still the engine's to finish. */
export class SettlementNotParkedError extends SettlementEngineError {
  override readonly name = 'SettlementNotParkedError' as const;
  static readonly code = ErrorCode.settlementNotParked;
  static readonly kind = 'conflict' as const;
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
  override readonly name = 'AbandonRefusedError' as const;
  static readonly code = ErrorCode.abandonRefused;
  static readonly kind = 'conflict' as const;
  constructor(
    readonly settlementId: string,
    readonly idempotencyKey: string,
    readonly bankState: string,
  ) {
    super(
      `settlement ${settlementId} cannot be abandoned: ` +
        (bankState === 'NONE'
          ? `it is TRANSFER_INITIATED and the bank has no transfer ${idempotencyKey} yet, so an execution may be sending it. `
          : `the bank reports transfer ${idempotencyKey} as ${bankState}, so money may have left the nostro. `) +
        'Requeue it so the engine compensates (or finalizes) it, or have the transfer reversed at the bank first.',
    );
  }
}
