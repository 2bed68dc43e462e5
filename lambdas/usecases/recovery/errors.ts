/**
 * Reason codes of the recovery module. Its typed errors live in domain/recovery-errors.ts (one error catalogue:
 * domain/error-catalogue.ts).
 */

/** Reason codes the recovery module writes on settlements (beside the error codes of the stage that failed). */
export const RecoveryReasonCode = {
  /** An operator ended a parked settlement by hand. */
  abandoned: 'SETTLEMENT.ABANDONED',
  /** Cleanup found the settlement's lock past its expiry. */
  lockExpired: 'LOCK.EXPIRED',
} as const;
