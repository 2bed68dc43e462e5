/**
 * Typed errors with stable codes.
 *
 * Each class's `name` is written as a literal equal to its class name: Step Functions matches the Retry and Catch
 * clauses of statemachines/settlement.asl.json on it (`ErrorEquals`), so it is a contract. Never compute it at run
 * time (`new.target.name`, `constructor.name`): the bundles that ship are minified, and a minifier renames classes.
 * Never rename one casually. `code` is the stable, dotted code that APIs return and operators search for; `code` and
 * `kind` are static, so that the catalogue (error-catalogue.ts) derives its lists without building an error.
 * Adding an error: see error-catalogue.ts.
 */

export const ErrorCode = {
  invalidField: 'VALIDATION.INVALID_FIELD',
  settlementNotFound: 'SETTLEMENT.NOT_FOUND',
  idempotencyConflict: 'SETTLEMENT.IDEMPOTENCY_CONFLICT',
  invalidTransition: 'SETTLEMENT.INVALID_TRANSITION',
  settlementParked: 'SETTLEMENT.PARKED',
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
  abandonRefused: 'SETTLEMENT.ABANDON_REFUSED',
  statementInvalid: 'STATEMENT.INVALID',
  statementConflict: 'STATEMENT.CONFLICT',
  reconciliationInProgress: 'RECONCILIATION.IN_PROGRESS',
  reconciliationNotFound: 'RECONCILIATION.NOT_FOUND',
  reconciliationTooLarge: 'RECONCILIATION.TOO_LARGE',
  bankConflict: 'BANK.CONFLICT',
  windowNotFound: 'WINDOW.NOT_FOUND',
  stageTimeout: 'INTERNAL.STAGE_TIMEOUT',
  messageInvalid: 'MESSAGE.INVALID',
  sanctionsHit: 'COMPLIANCE.SANCTIONS_HIT',
  amountLimitExceeded: 'COMPLIANCE.AMOUNT_LIMIT_EXCEEDED',
  netDebitCapExceeded: 'COMPLIANCE.NET_DEBIT_CAP_EXCEEDED',
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

/** What the catalogue knows of an error class without building one: its stable code and how it is handled. */
export interface ErrorClassInfo {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
}

export abstract class SettlementEngineError extends Error {
  /** The class name, as a literal in each class (see the module comment). */
  abstract override readonly name: string;
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  /** Whether a later attempt of the same operation may succeed (drives `retryable` on a FAILED settlement). */
  get retryable(): boolean {
    return this.kind === 'transient';
  }
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    // The class itself, not its name: a reference survives minification.
    const type = new.target as unknown as ErrorClassInfo;
    this.code = type.code;
    this.kind = type.kind;
  }
}

/** A request field is missing or malformed. Nothing was written. */
export class ValidationError extends SettlementEngineError {
  override readonly name = 'ValidationError' as const;
  static readonly code = ErrorCode.invalidField;
  static readonly kind = 'validation' as const;
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export class SettlementNotFoundError extends SettlementEngineError {
  override readonly name = 'SettlementNotFoundError' as const;
  static readonly code = ErrorCode.settlementNotFound;
  static readonly kind = 'not_found' as const;
  constructor(readonly settlementId: string) {
    super(`settlement ${settlementId} does not exist`);
  }
}

/** The same settlement id was submitted again with a different request. */
export class IdempotencyConflictError extends SettlementEngineError {
  override readonly name = 'IdempotencyConflictError' as const;
  static readonly code = ErrorCode.idempotencyConflict;
  static readonly kind = 'conflict' as const;
  constructor(
    readonly settlementId: string,
    readonly differingFields: readonly string[],
  ) {
    super(`settlement ${settlementId} already exists with a different ${differingFields.join(', ')}`);
  }
}

/** A stage found the settlement in a status it may not move from (an out-of-order step). */
export class InvalidTransitionError extends SettlementEngineError {
  override readonly name = 'InvalidTransitionError' as const;
  static readonly code = ErrorCode.invalidTransition;
  static readonly kind = 'precondition' as const;
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
  static readonly code = ErrorCode.settlementParked;
  static readonly kind = 'precondition' as const;
  constructor(
    readonly settlementId: string,
    readonly status: string,
  ) {
    super(`settlement ${settlementId} is parked (${status}) for an operator; no stage acts on it until it is requeued`);
  }
}

export class InsufficientFundsError extends SettlementEngineError {
  override readonly name = 'InsufficientFundsError' as const;
  static readonly code = ErrorCode.insufficientFunds;
  static readonly kind = 'business' as const;
  constructor(
    readonly accountId: string,
    readonly amount: string,
  ) {
    super(`account ${accountId} has less than ${amount} available`);
  }
}

export class WindowClosedError extends SettlementEngineError {
  override readonly name = 'WindowClosedError' as const;
  static readonly code = ErrorCode.windowClosed;
  static readonly kind = 'precondition' as const;
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
  override readonly name = 'ConfirmationTimeoutError' as const;
  static readonly code = ErrorCode.confirmationTimeout;
  static readonly kind = 'business' as const;
  constructor(
    readonly settlementId: string,
    readonly polls: number,
    /** Why it stopped waiting, when not the number of checks (the kind's deadline). */
    readonly why?: string,
  ) {
    super(`transfer for settlement ${settlementId} not confirmed after ${polls} checks${why ? `: ${why}` : ''}`);
  }
}

export class AccountNotFoundError extends SettlementEngineError {
  override readonly name = 'AccountNotFoundError' as const;
  static readonly code = ErrorCode.accountNotFound;
  static readonly kind = 'not_found' as const;
  constructor(readonly accountId: string) {
    super(`account ${accountId} does not exist`);
  }
}

/** The account is FROZEN or CLOSED: it accepts no new lock or movement. */
export class AccountNotActiveError extends SettlementEngineError {
  override readonly name = 'AccountNotActiveError' as const;
  static readonly code = ErrorCode.accountNotActive;
  static readonly kind = 'precondition' as const;
  constructor(
    readonly accountId: string,
    readonly status: string,
  ) {
    super(`account ${accountId} is ${status}`);
  }
}

/** An account operation conflicts with the account's state (exists already, close with balance, ...). */
export class AccountConflictError extends SettlementEngineError {
  override readonly name = 'AccountConflictError' as const;
  static readonly code = ErrorCode.accountConflict;
  static readonly kind = 'conflict' as const;
}

export class BankNotFoundError extends SettlementEngineError {
  override readonly name = 'BankNotFoundError' as const;
  static readonly code = ErrorCode.bankNotFound;
  static readonly kind = 'not_found' as const;
  constructor(readonly bic: string) {
    super(`bank ${bic} is not registered`);
  }
}

export class BankNotActiveError extends SettlementEngineError {
  override readonly name = 'BankNotActiveError' as const;
  static readonly code = ErrorCode.bankNotActive;
  static readonly kind = 'precondition' as const;
  constructor(
    readonly bic: string,
    readonly status: string,
  ) {
    super(`bank ${bic} is ${status}`);
  }
}

/** No nostro is configured to pay out to this bank in this currency. */
export class PayoutRouteNotFoundError extends SettlementEngineError {
  override readonly name = 'PayoutRouteNotFoundError' as const;
  static readonly code = ErrorCode.routeNotFound;
  static readonly kind = 'precondition' as const;
  constructor(
    readonly payeeBic: string,
    readonly currency: string,
  ) {
    super(`no nostro account pays out to ${payeeBic} in ${currency}`);
  }
}

/** The bank definitively refused the transfer: no money left. */
export class BankRejectedError extends SettlementEngineError {
  override readonly name = 'BankRejectedError' as const;
  static readonly code = ErrorCode.bankRejected;
  static readonly kind = 'business' as const;
  constructor(
    readonly rail: string,
    readonly bankReason: string,
    /** The ISO 20022 external status reason code (AC04, AM04, ...) when the rail gives one. */
    readonly bankReasonCode?: string,
  ) {
    super(`${rail} rejected the transfer: ${bankReasonCode ? `${bankReasonCode} ` : ''}${bankReason}`);
  }
}

/**
 * A bank message (ISO 20022 XML) is malformed, too large, hostile (DOCTYPE, entities) or not the message expected.
 * From a bank it is a business outcome for the transfer only if the bank never answered properly; at an upload
 * edge it is a 400. Nothing was written.
 */
export class Iso20022MessageInvalidError extends SettlementEngineError {
  override readonly name = 'Iso20022MessageInvalidError' as const;
  static readonly code = ErrorCode.messageInvalid;
  static readonly kind = 'validation' as const;
  constructor(
    readonly what: string,
    readonly reason: string,
  ) {
    super(`${what} ${reason}`);
  }
}

/** A party of the settlement is on the sanctions list: refused in Validate, nothing locked. */
export class SanctionsHitError extends SettlementEngineError {
  override readonly name = 'SanctionsHitError' as const;
  static readonly code = ErrorCode.sanctionsHit;
  static readonly kind = 'business' as const;
  constructor(
    readonly role: 'payer' | 'payee',
    readonly bic: string,
    readonly listEntry: string,
  ) {
    super(`${role} ${bic} matches the sanctions list: ${listEntry}`);
  }
}

/** The amount is above a per-currency or per-bank limit. */
export class AmountLimitExceededError extends SettlementEngineError {
  override readonly name = 'AmountLimitExceededError' as const;
  static readonly code = ErrorCode.amountLimitExceeded;
  static readonly kind = 'business' as const;
  constructor(
    readonly scope: string,
    readonly limit: string,
    readonly amount: string,
  ) {
    super(`amount ${amount} is above the ${scope} limit of ${limit}`);
  }
}

/** The payer's unsettled debit position would pass its net debit cap. */
export class NetDebitCapExceededError extends SettlementEngineError {
  override readonly name = 'NetDebitCapExceededError' as const;
  static readonly code = ErrorCode.netDebitCapExceeded;
  static readonly kind = 'business' as const;
  constructor(
    readonly bic: string,
    readonly currency: string,
    readonly cap: string,
    readonly position: string,
  ) {
    super(`${bic} would hold ${position} ${currency} unsettled, above its net debit cap of ${cap}`);
  }
}

/** The bank could not be reached. Transient: retried with backoff. */
export class BankUnavailableError extends SettlementEngineError {
  override readonly name = 'BankUnavailableError' as const;
  static readonly code = ErrorCode.bankUnavailable;
  static readonly kind = 'transient' as const;
}

/**
 * The call reached the bank but its outcome is unknown (timeout after acceptance). Never assumed failed: the bank
 * is asked again with the same idempotency key before any lock is voided.
 */
export class TransferOutcomeUnknownError extends SettlementEngineError {
  override readonly name = 'TransferOutcomeUnknownError' as const;
  static readonly code = ErrorCode.transferOutcomeUnknown;
  static readonly kind = 'transient' as const;
}

/** The bank has a reversal request in progress. Retried by the Compensate state with its own backoff. */
export class ReversalPendingError extends SettlementEngineError {
  override readonly name = 'ReversalPendingError' as const;
  static readonly code = ErrorCode.reversalPending;
  static readonly kind = 'transient' as const;
}

/** The bank refused to reverse a transfer that went out: an operator must act (the settlement is parked). */
export class ReversalRefusedError extends SettlementEngineError {
  override readonly name = 'ReversalRefusedError' as const;
  static readonly code = ErrorCode.reversalRefused;
  static readonly kind = 'business' as const;
}

/** DynamoDB cancelled a transaction because another one touched the same items. Transient. */
export class TransactionConflictError extends SettlementEngineError {
  override readonly name = 'TransactionConflictError' as const;
  static readonly code = ErrorCode.transactionConflict;
  static readonly kind = 'transient' as const;
}

/** DynamoDB throttled the request. Transient. */
export class ThrottlingError extends SettlementEngineError {
  override readonly name = 'ThrottlingError' as const;
  static readonly code = ErrorCode.throttled;
  static readonly kind = 'transient' as const;
}

/** The store could not be reached. Transient. */
export class StoreUnavailableError extends SettlementEngineError {
  override readonly name = 'StoreUnavailableError' as const;
  static readonly code = ErrorCode.storeUnavailable;
  static readonly kind = 'transient' as const;
}

export class UnauthenticatedError extends SettlementEngineError {
  override readonly name = 'UnauthenticatedError' as const;
  static readonly code = ErrorCode.unauthenticated;
  static readonly kind = 'auth' as const;
}

export class RateLimitedError extends SettlementEngineError {
  override readonly name = 'RateLimitedError' as const;
  static readonly code = ErrorCode.rateLimited;
  static readonly kind = 'auth' as const;
  constructor(
    message: string,
    /** When the client may try again (REST `Retry-After`, gRPC `grpc-retry-pushback-ms`). */
    readonly retryAfterMs = 1_000,
  ) {
    super(message);
  }
}

/** A programmer error: an invariant of money-moving code does not hold. Stops loudly; never retried. */
export class InvariantViolationError extends SettlementEngineError {
  override readonly name = 'InvariantViolationError' as const;
  static readonly code = ErrorCode.invariantViolated;
  static readonly kind = 'internal' as const;
}

/** Asserts an invariant of money-moving code. A failure is a bug, not an operating error. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolationError(message);
}
