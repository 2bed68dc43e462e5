/**
 * Typed errors of statements, reconciliation, banks, windows and account administration (same pattern as errors.ts: `name`
 * is the class name, `code` a stable dotted code from `ErrorCode` that APIs return and operators search for).
 */
import { ErrorCode, SettlementEngineError } from './errors';

/**
 * A bank statement (camt.053 XML, CSV, or a BankClient's Statement) is malformed or not for the requested account.
 * `location` names where: "line 42, Stmt[1]/Ntry[3]/Amt" or "line 7, column amount".
 */
export class StatementInvalidError extends SettlementEngineError {
  override readonly name = 'StatementInvalidError' as const;
  static readonly code = ErrorCode.statementInvalid;
  static readonly kind = 'validation' as const;
  constructor(
    readonly format: 'camt.053' | 'csv' | 'statement',
    readonly location: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${format} ${location}: ${reason}`, options);
  }
}

/** Another run holds the reconciliation lock for this account and period. Try again after `lockedUntil`. */
export class ReconciliationInProgressError extends SettlementEngineError {
  override readonly name = 'ReconciliationInProgressError' as const;
  static readonly code = ErrorCode.reconciliationInProgress;
  static readonly kind = 'conflict' as const;
  constructor(
    readonly accountId: string,
    readonly period: string,
    readonly lockedUntil: string | undefined,
  ) {
    super(`a reconciliation of ${accountId} for ${period} is already running${lockedUntil ? ` (lock expires ${lockedUntil})` : ''}`);
  }
}

export class ReconciliationNotFoundError extends SettlementEngineError {
  override readonly name = 'ReconciliationNotFoundError' as const;
  static readonly code = ErrorCode.reconciliationNotFound;
  static readonly kind = 'not_found' as const;
  constructor(readonly reportId: string) {
    super(`reconciliation report ${reportId} does not exist`);
  }
}

/**
 * More entries are waiting for a counterpart than the engine holds in memory: the two sides are not in the same
 * order, or differ wholesale. Reconcile a shorter period.
 */
export class ReconciliationTooLargeError extends SettlementEngineError {
  override readonly name = 'ReconciliationTooLargeError' as const;
  static readonly code = ErrorCode.reconciliationTooLarge;
  static readonly kind = 'precondition' as const;
  constructor(
    readonly accountId: string,
    readonly unmatchedEntriesMax: number,
  ) {
    super(`reconciliation of ${accountId} holds more than ${unmatchedEntriesMax} unmatched entries; reconcile a shorter period`);
  }
}

/** A bank registration conflicts with an existing one (same BIC, different data). */
export class BankConflictError extends SettlementEngineError {
  override readonly name = 'BankConflictError' as const;
  static readonly code = ErrorCode.bankConflict;
  static readonly kind = 'conflict' as const;
}

/** No settlement window is configured for the currency (the Validate stage then refuses it: fail safe). */
export class WindowNotFoundError extends SettlementEngineError {
  override readonly name = 'WindowNotFoundError' as const;
  static readonly code = ErrorCode.windowNotFound;
  static readonly kind = 'not_found' as const;
  constructor(readonly currency: string) {
    super(`no settlement window is configured for ${currency}`);
  }
}

/** A statement id was uploaded again with a different file. */
export class StatementConflictError extends SettlementEngineError {
  override readonly name = 'StatementConflictError' as const;
  static readonly code = ErrorCode.statementConflict;
  static readonly kind = 'conflict' as const;
  constructor(readonly statementId: string) {
    super(`statement ${statementId} was already received with different content`);
  }
}
