/**
 * The one catalogue of the engine's typed errors. Every list that depends on error names (what the state machine
 * retries, the reason code a caught error becomes) is derived from it here, never kept by hand.
 *
 * Adding an error:
 *   1. write the class in the module's errors file (errors.ts, operations-errors.ts, recovery-errors.ts, or a new
 *      `<module>-errors.ts` in this folder), extending SettlementEngineError with
 *      `override readonly name = 'MyNewError' as const;`, `static readonly code = ErrorCode.…;` and
 *      `static readonly kind = '…' as const;` (add its code to ErrorCode);
 *   2. register it with one line in `errorCatalogue` below (`MyNewError,`).
 * tsc refuses a registration whose key differs from the class's literal `name`; test/unit/domain/error-catalogue.test.ts
 * checks the names against the class names and the state machine's Retry/Catch lists. A `transient` error must also
 * be added to the transient Retry of every Task in statemachines/settlement.asl.json (the test says which).
 */
import {
  AccountConflictError,
  AccountNotActiveError,
  AccountNotFoundError,
  BankNotActiveError,
  BankNotFoundError,
  BankRejectedError,
  BankUnavailableError,
  ConfirmationTimeoutError,
  ErrorCode,
  IdempotencyConflictError,
  InsufficientFundsError,
  InvalidTransitionError,
  InvariantViolationError,
  Iso20022MessageInvalidError,
  AmountLimitExceededError,
  NetDebitCapExceededError,
  SanctionsHitError,
  PayoutRouteNotFoundError,
  RateLimitedError,
  ReversalPendingError,
  ReversalRefusedError,
  SettlementNotFoundError,
  SettlementParkedError,
  StoreUnavailableError,
  ThrottlingError,
  TransactionConflictError,
  TransferOutcomeUnknownError,
  UnauthenticatedError,
  ValidationError,
  WindowClosedError,
  type ErrorClassInfo,
  type ErrorKind,
  type SettlementEngineError,
} from './errors';
import {
  BankConflictError,
  StatementConflictError,
  ReconciliationInProgressError,
  ReconciliationNotFoundError,
  ReconciliationTooLargeError,
  StatementInvalidError,
  WindowNotFoundError,
} from './operations-errors';
import { AbandonRefusedError, SettlementNotParkedError } from './recovery-errors';

type ErrorClass = ErrorClassInfo & (abstract new (...args: never[]) => SettlementEngineError);

/** Every typed error, keyed by its literal `name` (which is its class name). */
export const errorCatalogue = {
  // errors.ts: settlements, accounts, banks, stores, access
  ValidationError,
  SettlementNotFoundError,
  IdempotencyConflictError,
  InvalidTransitionError,
  SettlementParkedError,
  InsufficientFundsError,
  WindowClosedError,
  ConfirmationTimeoutError,
  AccountNotFoundError,
  AccountNotActiveError,
  AccountConflictError,
  BankNotFoundError,
  BankNotActiveError,
  PayoutRouteNotFoundError,
  BankRejectedError,
  BankUnavailableError,
  TransferOutcomeUnknownError,
  ReversalPendingError,
  ReversalRefusedError,
  TransactionConflictError,
  ThrottlingError,
  StoreUnavailableError,
  UnauthenticatedError,
  RateLimitedError,
  InvariantViolationError,
  // errors.ts: compliance refusals in Validate, bank messages
  SanctionsHitError,
  AmountLimitExceededError,
  NetDebitCapExceededError,
  Iso20022MessageInvalidError,
  // operations-errors.ts: statements, reconciliation, bank registry, windows
  StatementInvalidError,
  StatementConflictError,
  ReconciliationInProgressError,
  ReconciliationNotFoundError,
  ReconciliationTooLargeError,
  BankConflictError,
  WindowNotFoundError,
  // recovery-errors.ts: parked settlements
  SettlementNotParkedError,
  AbandonRefusedError,
} as const satisfies Record<string, ErrorClass>;

export type ErrorName = keyof typeof errorCatalogue;

/** Compile-time check: each key equals the literal `name` of the class registered under it. */
type MisregisteredName = { [Name in ErrorName]: InstanceType<(typeof errorCatalogue)[Name]>['name'] extends Name ? never : Name }[ErrorName];
const registrationsMatchNames: [MisregisteredName] extends [never] ? true : MisregisteredName = true;
void registrationsMatchNames;

export interface ErrorCatalogueEntry {
  readonly name: ErrorName;
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
}

/** The catalogue as rows (name, code, kind): for tests, docs and infra (alarms by reason code). */
export const errorCatalogueEntries: readonly ErrorCatalogueEntry[] = (Object.keys(errorCatalogue) as ErrorName[]).map((name) => ({
  name,
  code: errorCatalogue[name].code,
  kind: errorCatalogue[name].kind,
}));

export function errorNamesOfKind(kind: ErrorKind): readonly ErrorName[] {
  return errorCatalogueEntries.filter((entry) => entry.kind === kind).map((entry) => entry.name);
}

/**
 * Transient errors that only one Task raises, retried there with a backoff of their own rather than by every Task's
 * transient Retry: the bank's reversal in progress (Compensate). Each must be in some Retry (a test checks).
 */
export const ownRetryErrorNames = ['ReversalPendingError'] as const satisfies readonly ErrorName[];

/** Names of the errors that every Task of the state machine retries with backoff (its transient Retry lists them; a test checks). */
export const transientErrorNames: readonly ErrorName[] = errorNamesOfKind('transient').filter(
  (name) => !(ownRetryErrorNames as readonly ErrorName[]).includes(name),
);

/** Names the Step Functions runtime itself raises that the engine relies on (beside the catalogue's). */
export const runtimeErrorNames = ['States.ALL', 'States.Timeout', 'States.TaskFailed', 'States.Runtime'] as const;

/**
 * Stable code for an error name as the workflow reports it (`$.error.Error`): how BeginRollback turns a caught
 * error into the settlement's reason code.
 */
export const errorCodeByName: Readonly<Record<string, ErrorCode>> = {
  ...Object.fromEntries(errorCatalogueEntries.map((entry) => [entry.name, entry.code])),
  'States.Timeout': ErrorCode.stageTimeout,
};

/**
 * Whether a later attempt may succeed after this error (transient infrastructure or bank trouble). A reversal still
 * pending after Compensate's own retries parks the settlement, so it is not counted here.
 */
export function isRetryableErrorName(name: string): boolean {
  return (transientErrorNames as readonly string[]).includes(name) || name === 'States.Timeout' || name.startsWith('Lambda.');
}

/**
 * Business outcomes Validate's first Catch names explicitly (statemachines/settlement.asl.json): refusals that go
 * straight to rollback and are never retried. Checked against the ASL by test/unit/statemachine.test.ts.
 */
export const businessOutcomeNames = [
  'InsufficientFundsError',
  'WindowClosedError',
  'BankRejectedError',
  'AccountNotActiveError',
  'AccountNotFoundError',
  'BankNotFoundError',
  'BankNotActiveError',
  'PayoutRouteNotFoundError',
  'ValidationError',
  'SanctionsHitError',
  'AmountLimitExceededError',
  'NetDebitCapExceededError',
  'Iso20022MessageInvalidError',
] as const satisfies readonly ErrorName[];
