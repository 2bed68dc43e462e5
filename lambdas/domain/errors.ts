/**
 * Typed errors with stable codes.
 *
 * Each class's `name` equals its class name and is part of the state machine's contract: the Retry and Catch
 * clauses of statemachines/settlement.asl.json match on it (`ErrorEquals`). Never rename one casually.
 * `code` is the stable, dotted code that APIs return and operators search for.
 */

export const ErrorCode = {
  invalidField: 'VALIDATION.INVALID_FIELD',
  settlementNotFound: 'SETTLEMENT.NOT_FOUND',
  idempotencyConflict: 'SETTLEMENT.IDEMPOTENCY_CONFLICT',
  invalidTransition: 'SETTLEMENT.INVALID_TRANSITION',
  insufficientFunds: 'SETTLEMENT.INSUFFICIENT_FUNDS',
  windowClosed: 'SETTLEMENT.WINDOW_CLOSED',
  confirmationTimeout: 'SETTLEMENT.CONFIRMATION_TIMEOUT',
  accountNotFound: 'ACCOUNT.NOT_FOUND',
  accountNotActive: 'ACCOUNT.NOT_ACTIVE',
  accountConflict: 'ACCOUNT.CONFLICT',
  bankNotFound: 'BANK.NOT_FOUND',
  bankNotActive: 'BANK.NOT_ACTIVE',
  routeNotFound: 'BANK.NO_PAYOUT_ROUTE',
  bankRejected: 'BANK.REJECTED',
  bankUnavailable: 'BANK.UNAVAILABLE',
  transferOutcomeUnknown: 'BANK.OUTCOME_UNKNOWN',
  reversalPending: 'BANK.REVERSAL_PENDING',
  reversalRefused: 'BANK.REVERSAL_REFUSED',
  transactionConflict: 'STORE.TRANSACTION_CONFLICT',
  throttled: 'STORE.THROTTLED',
  storeUnavailable: 'STORE.UNAVAILABLE',
  unauthenticated: 'AUTH.UNAUTHENTICATED',
  rateLimited: 'AUTH.RATE_LIMITED',
  invariantViolated: 'INTERNAL.INVARIANT_VIOLATED',
  settlementNotParked: 'SETTLEMENT.NOT_PARKED',
  settlementParked: 'SETTLEMENT.PARKED',
  abandonRefused: 'SETTLEMENT.ABANDON_REFUSED',
  statementInvalid: 'STATEMENT.INVALID',
  reconciliationInProgress: 'RECONCILIATION.IN_PROGRESS',
  reconciliationNotFound: 'RECONCILIATION.NOT_FOUND',
  reconciliationTooLarge: 'RECONCILIATION.TOO_LARGE',
  bankConflict: 'BANK.CONFLICT',
  windowNotFound: 'WINDOW.NOT_FOUND',
  stageTimeout: 'INTERNAL.STAGE_TIMEOUT',
  unexpected: 'INTERNAL.UNEXPECTED',
  forbidden: 'ACCESS.FORBIDDEN',
  approvalRequired: 'APPROVAL.REQUIRED',
  proposalNotFound: 'APPROVAL.NOT_FOUND',
  proposalNotPending: 'APPROVAL.NOT_PENDING',
  proposalExpired: 'APPROVAL.EXPIRED',
  selfApproval: 'APPROVAL.SELF_APPROVAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** How an error should be handled by retry machinery and by the APIs. */
export type ErrorKind = 'validation' | 'not_found' | 'conflict' | 'precondition' | 'business' | 'transient' | 'auth' | 'forbidden' | 'internal';

export abstract class SettlementEngineError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly kind: ErrorKind;
  /** Whether a later attempt of the same operation may succeed (drives `retryable` on a FAILED settlement). */
  get retryable(): boolean {
    return this.kind === 'transient';
  }
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request field is missing or malformed. Nothing was written. */
export class ValidationError extends SettlementEngineError {
  readonly code = ErrorCode.invalidField;
  readonly kind = 'validation' as const;
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export class SettlementNotFoundError extends SettlementEngineError {
  readonly code = ErrorCode.settlementNotFound;
  readonly kind = 'not_found' as const;
  constructor(readonly settlementId: string) {
    super(`settlement ${settlementId} does not exist`);
  }
}

/** The same settlement id was submitted again with a different request. */
export class IdempotencyConflictError extends SettlementEngineError {
  readonly code = ErrorCode.idempotencyConflict;
  readonly kind = 'conflict' as const;
  constructor(
    readonly settlementId: string,
    readonly differingFields: readonly string[],
  ) {
    super(`settlement ${settlementId} already exists with a different ${differingFields.join(', ')}`);
  }
}

/** A stage found the settlement in a status it may not move from (an out-of-order step). */
export class InvalidTransitionError extends SettlementEngineError {
  readonly code = ErrorCode.invalidTransition;
  readonly kind = 'precondition' as const;
  constructor(
    readonly settlementId: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`settlement ${settlementId} cannot move from ${from} to ${to}`);
  }
}

/**
 * A stage found its settlement parked: it was handed to an operator, so no stage acts on it (a late or duplicate
 * execution must not send a transfer or void a lock under the operator's feet). The workflow's Catch leads to
 * ParkSettlement, which leaves a parked settlement as it is: the execution ends Parked.
 */
export class SettlementParkedError extends SettlementEngineError {
  override readonly name = 'SettlementParkedError' as const;
  readonly code = ErrorCode.settlementParked;
  readonly kind = 'precondition' as const;
  constructor(
    readonly settlementId: string,
    readonly status: string,
  ) {
    super(`settlement ${settlementId} is parked (${status}) for an operator; no stage acts on it until it is requeued`);
  }
}

export class InsufficientFundsError extends SettlementEngineError {
  readonly code = ErrorCode.insufficientFunds;
  readonly kind = 'business' as const;
  constructor(
    readonly accountId: string,
    readonly amount: string,
  ) {
    super(`account ${accountId} has less than ${amount} available`);
  }
}

export class WindowClosedError extends SettlementEngineError {
  readonly code = ErrorCode.windowClosed;
  readonly kind = 'precondition' as const;
  constructor(
    readonly currency: string,
    readonly reason: string,
    readonly nextOpening: string | undefined,
  ) {
    super(`settlement window for ${currency} is closed (${reason})${nextOpening ? `; next opening ${nextOpening}` : ''}`);
  }
}

/** The bank did not confirm the transfer within the confirmation budget. Money may have left: compensate. */
export class ConfirmationTimeoutError extends SettlementEngineError {
  readonly code = ErrorCode.confirmationTimeout;
  readonly kind = 'business' as const;
  constructor(
    readonly settlementId: string,
    readonly polls: number,
  ) {
    super(`transfer for settlement ${settlementId} not confirmed after ${polls} checks`);
  }
}

export class AccountNotFoundError extends SettlementEngineError {
  readonly code = ErrorCode.accountNotFound;
  readonly kind = 'not_found' as const;
  constructor(readonly accountId: string) {
    super(`account ${accountId} does not exist`);
  }
}

/** The account is FROZEN or CLOSED: it accepts no new lock or movement. */
export class AccountNotActiveError extends SettlementEngineError {
  readonly code = ErrorCode.accountNotActive;
  readonly kind = 'precondition' as const;
  constructor(
    readonly accountId: string,
    readonly status: string,
  ) {
    super(`account ${accountId} is ${status}`);
  }
}

/** An account operation conflicts with the account's state (exists already, close with balance, ...). */
export class AccountConflictError extends SettlementEngineError {
  readonly code = ErrorCode.accountConflict;
  readonly kind = 'conflict' as const;
}

export class BankNotFoundError extends SettlementEngineError {
  readonly code = ErrorCode.bankNotFound;
  readonly kind = 'not_found' as const;
  constructor(readonly bic: string) {
    super(`bank ${bic} is not registered`);
  }
}

export class BankNotActiveError extends SettlementEngineError {
  readonly code = ErrorCode.bankNotActive;
  readonly kind = 'precondition' as const;
  constructor(
    readonly bic: string,
    readonly status: string,
  ) {
    super(`bank ${bic} is ${status}`);
  }
}

/** No nostro is configured to pay out to this bank in this currency. */
export class PayoutRouteNotFoundError extends SettlementEngineError {
  readonly code = ErrorCode.routeNotFound;
  readonly kind = 'precondition' as const;
  constructor(
    readonly payeeBic: string,
    readonly currency: string,
  ) {
    super(`no nostro account pays out to ${payeeBic} in ${currency}`);
  }
}

/** The bank definitively refused the transfer: no money left. */
export class BankRejectedError extends SettlementEngineError {
  readonly code = ErrorCode.bankRejected;
  readonly kind = 'business' as const;
  constructor(
    readonly rail: string,
    readonly bankReason: string,
  ) {
    super(`${rail} rejected the transfer: ${bankReason}`);
  }
}

/** The bank could not be reached. Transient: retried with backoff. */
export class BankUnavailableError extends SettlementEngineError {
  readonly code = ErrorCode.bankUnavailable;
  readonly kind = 'transient' as const;
}

/**
 * The call reached the bank but its outcome is unknown (timeout after acceptance). Never assumed failed: the bank
 * is asked again with the same idempotency key before any lock is voided.
 */
export class TransferOutcomeUnknownError extends SettlementEngineError {
  readonly code = ErrorCode.transferOutcomeUnknown;
  readonly kind = 'transient' as const;
}

/** The bank has a reversal request in progress. Retried by the Compensate state with its own backoff. */
export class ReversalPendingError extends SettlementEngineError {
  readonly code = ErrorCode.reversalPending;
  readonly kind = 'transient' as const;
}

/** The bank refused to reverse a transfer that went out: an operator must act (the settlement is parked). */
export class ReversalRefusedError extends SettlementEngineError {
  readonly code = ErrorCode.reversalRefused;
  readonly kind = 'business' as const;
}

/** DynamoDB cancelled a transaction because another one touched the same items. Transient. */
export class TransactionConflictError extends SettlementEngineError {
  readonly code = ErrorCode.transactionConflict;
  readonly kind = 'transient' as const;
}

/** DynamoDB throttled the request. Transient. */
export class ThrottlingError extends SettlementEngineError {
  readonly code = ErrorCode.throttled;
  readonly kind = 'transient' as const;
}

/** The store could not be reached. Transient. */
export class StoreUnavailableError extends SettlementEngineError {
  readonly code = ErrorCode.storeUnavailable;
  readonly kind = 'transient' as const;
}

export class UnauthenticatedError extends SettlementEngineError {
  readonly code = ErrorCode.unauthenticated;
  readonly kind = 'auth' as const;
}

export class RateLimitedError extends SettlementEngineError {
  readonly code = ErrorCode.rateLimited;
  readonly kind = 'auth' as const;
}

/** A programmer error: an invariant of money-moving code does not hold. Stops loudly; never retried. */
export class InvariantViolationError extends SettlementEngineError {
  readonly code = ErrorCode.invariantViolated;
  readonly kind = 'internal' as const;
}

/** Asserts an invariant of money-moving code. A failure is a bug, not an operating error. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolationError(message);
}

/** Names of the errors that the state machine retries with backoff (kept in sync with the ASL by a test). */
export const transientErrorNames = [
  BankUnavailableError.name,
  TransferOutcomeUnknownError.name,
  TransactionConflictError.name,
  ThrottlingError.name,
  StoreUnavailableError.name,
] as const;

/** Business outcomes that go straight to rollback: the workflow never retries them. */
export function isBusinessOutcome(error: { name?: string }): boolean {
  return [
    InsufficientFundsError.name,
    WindowClosedError.name,
    BankRejectedError.name,
    AccountNotActiveError.name,
    AccountNotFoundError.name,
    BankNotFoundError.name,
    BankNotActiveError.name,
    PayoutRouteNotFoundError.name,
    ValidationError.name,
  ].includes(error.name ?? '');
}

/**
 * Stable code for an error name as the workflow reports it (`$.error.Error`): how BeginRollback turns a caught
 * error into the settlement's reason code.
 */
export const errorCodeByName: Readonly<Record<string, ErrorCode>> = {
  ValidationError: ErrorCode.invalidField,
  SettlementNotFoundError: ErrorCode.settlementNotFound,
  InvalidTransitionError: ErrorCode.invalidTransition,
  SettlementParkedError: ErrorCode.settlementParked,
  InsufficientFundsError: ErrorCode.insufficientFunds,
  WindowClosedError: ErrorCode.windowClosed,
  ConfirmationTimeoutError: ErrorCode.confirmationTimeout,
  AccountNotFoundError: ErrorCode.accountNotFound,
  AccountNotActiveError: ErrorCode.accountNotActive,
  BankNotFoundError: ErrorCode.bankNotFound,
  BankNotActiveError: ErrorCode.bankNotActive,
  PayoutRouteNotFoundError: ErrorCode.routeNotFound,
  BankRejectedError: ErrorCode.bankRejected,
  BankUnavailableError: ErrorCode.bankUnavailable,
  TransferOutcomeUnknownError: ErrorCode.transferOutcomeUnknown,
  ReversalPendingError: ErrorCode.reversalPending,
  ReversalRefusedError: ErrorCode.reversalRefused,
  TransactionConflictError: ErrorCode.transactionConflict,
  ThrottlingError: ErrorCode.throttled,
  StoreUnavailableError: ErrorCode.storeUnavailable,
  InvariantViolationError: ErrorCode.invariantViolated,
  'States.Timeout': ErrorCode.stageTimeout,
};

/** Whether a later attempt may succeed after this error (transient infrastructure or bank trouble). */
export function isRetryableErrorName(name: string): boolean {
  return (transientErrorNames as readonly string[]).includes(name) || name === 'States.Timeout' || name.startsWith('Lambda.');
}
