/**
 * Field-by-field translation between proto messages (snake_case, prefixed enums, Timestamps) and the engine's
 * views (camelCase, bare enum values, ISO strings). No validation here beyond what the wire format forces: the
 * use cases validate, and name camelCase fields that errors.ts turns back into the proto's names.
 */
import { ValidationError } from '../../domain/errors';
import type { AccountView, CheckpointView, FundLockView, SettlementView } from '../../usecases/views';
import type {
  AccountBalanceMessage,
  CheckpointMessage,
  EnumValue,
  ExecuteSettlementRequestMessage,
  FundLockMessage,
  ReconcileAccountsRequestMessage,
  ReconcileAccountsResponseMessage,
  SettlementMessage,
  TimestampMessage,
} from './proto';

/** Proto enum name prefixes (buf style: every value carries its enum's name). */
export const EnumPrefix = {
  rail: 'RAIL_',
  kind: 'SETTLEMENT_KIND_',
  status: 'SETTLEMENT_STATUS_',
  accountType: 'ACCOUNT_TYPE_',
  accountStatus: 'ACCOUNT_STATUS_',
  lockState: 'FUND_LOCK_STATE_',
} as const;

/** Longest wait ExecuteSettlement accepts in wait_for_terminal_ms. */
export const waitForTerminalMsMax = 120_000;

/**
 * A received enum as the engine's bare value (RAIL_SEPA → SEPA). UNSPECIFIED and numbers this proto does not know
 * become undefined, which the use case refuses as a missing field, named.
 */
export function fromProtoEnum(value: EnumValue, prefix: string): string | undefined {
  if (typeof value !== 'string' || !value.startsWith(prefix)) return undefined;
  const bare = value.slice(prefix.length);
  return bare === 'UNSPECIFIED' ? undefined : bare;
}

/**
 * As fromProtoEnum, but a number this proto does not define is refused, named, rather than read as UNSPECIFIED:
 * "unspecified" may mean "any" (a filter), and a client speaking a newer proto must not be acted on as if it had
 * asked for everything.
 */
export function knownProtoEnum(value: EnumValue, prefix: string, field: string): string | undefined {
  if (typeof value === 'number') throw new ValidationError(field, `${value} is not a value of this enum (a newer or wrong proto?)`);
  return fromProtoEnum(value, prefix);
}

export function toProtoEnum(value: string | null | undefined, prefix: string): string {
  return `${prefix}${value ?? 'UNSPECIFIED'}`;
}

/** The request as the use case takes it (camelCase). wait_for_terminal_ms is the API's, not the settlement's. */
export function toSubmitRequest(message: ExecuteSettlementRequestMessage): Record<string, unknown> {
  return {
    settlementId: message.settlement_id,
    payerBic: message.payer_bic,
    payeeBic: message.payee_bic,
    amount: message.amount,
    currency: message.currency,
    rail: knownProtoEnum(message.rail, EnumPrefix.rail, 'rail'),
    kind: knownProtoEnum(message.kind, EnumPrefix.kind, 'kind'),
    valueDate: message.value_date,
    reference: message.reference,
    // proto3 cannot tell an empty string from an absent one: empty means no IBAN.
    ...(message.payer_iban && { payerIban: message.payer_iban }),
    ...(message.payee_iban && { payeeIban: message.payee_iban }),
  };
}

export function parseWaitForTerminalMs(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > waitForTerminalMsMax) {
    throw new ValidationError('waitForTerminalMs', `must be between 0 and ${waitForTerminalMsMax}`);
  }
  return value;
}

export function isoToTimestamp(iso: string | null | undefined): TimestampMessage | null {
  if (iso === undefined || iso === null || iso === '') return null;
  const milliseconds = Date.parse(iso);
  if (Number.isNaN(milliseconds)) return null;
  const seconds = Math.floor(milliseconds / 1000);
  return { seconds: String(seconds), nanos: (milliseconds - seconds * 1000) * 1_000_000 };
}

/** A received Timestamp as an ISO string (millisecond precision); throws ValidationError naming `field`. */
export function timestampToIso(timestamp: TimestampMessage | null | undefined, field: string): string | undefined {
  if (timestamp === null || timestamp === undefined) return undefined;
  const seconds = Number(timestamp.seconds);
  const nanos = Number(timestamp.nanos ?? 0);
  if (!Number.isSafeInteger(seconds) || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) throw new ValidationError(field, 'is not a valid timestamp');
  const date = new Date(seconds * 1000 + Math.floor(nanos / 1_000_000));
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) throw new ValidationError(field, 'is out of range');
  return date.toISOString();
}

export function toSettlementMessage(view: SettlementView): SettlementMessage {
  return {
    settlement_id: view.settlementId,
    payer_bic: view.payerBic,
    payee_bic: view.payeeBic,
    amount: view.amount,
    currency: view.currency,
    rail: toProtoEnum(view.rail, EnumPrefix.rail),
    kind: toProtoEnum(view.kind, EnumPrefix.kind),
    value_date: view.valueDate,
    reference: view.reference,
    status: toProtoEnum(view.status, EnumPrefix.status),
    reason_code: view.reasonCode ?? '',
    reason: view.reason ?? '',
    retryable: view.retryable ?? false,
    parked: view.parked ?? false,
    attempt: view.attempt,
    payer_account_id: view.payerAccountId ?? '',
    nostro_account_id: view.nostroAccountId ?? '',
    bank_reference: view.bankReference ?? '',
    created_at: isoToTimestamp(view.createdAt),
    updated_at: isoToTimestamp(view.updatedAt),
    completed_at: isoToTimestamp(view.completedAt),
    lock: view.lock === undefined ? null : toFundLockMessage(view.lock),
    checkpoints: view.checkpoints.map(toCheckpointMessage),
    payer_iban: view.payerIban ?? '',
    payee_iban: view.payeeIban ?? '',
    returned: view.returned === undefined ? null : { return_id: view.returned.returnId, amount: view.returned.amount, reason_code: view.returned.reasonCode, returned_at: isoToTimestamp(view.returned.returnedAt) },
  };
}

function toFundLockMessage(lock: FundLockView): FundLockMessage {
  return {
    state: toProtoEnum(lock.state, EnumPrefix.lockState),
    amount: lock.amount,
    vostro_account_id: lock.vostroAccountId,
    nostro_account_id: lock.nostroAccountId,
    created_at: isoToTimestamp(lock.createdAt),
    expires_at: isoToTimestamp(lock.expiresAt),
    ended_at: isoToTimestamp(lock.endedAt),
  };
}

function toCheckpointMessage(checkpoint: CheckpointView): CheckpointMessage {
  return {
    seq: checkpoint.seq,
    status: toProtoEnum(checkpoint.status, EnumPrefix.status),
    previous_status: toProtoEnum(checkpoint.previousStatus, EnumPrefix.status),
    stage: checkpoint.stage,
    at: isoToTimestamp(checkpoint.at),
    reason_code: checkpoint.reasonCode ?? '',
    detail: checkpoint.detail ?? '',
  };
}

export function toAccountBalanceMessage(view: AccountView): AccountBalanceMessage {
  return {
    account_id: view.accountId,
    account_type: toProtoEnum(view.accountType, EnumPrefix.accountType),
    bic: view.bic,
    currency: view.currency,
    balance: view.balance,
    locked: view.locked,
    available: view.available,
    floor: view.floor,
    status: toProtoEnum(view.status, EnumPrefix.accountStatus),
    version: String(view.version),
    updated_at: isoToTimestamp(view.updatedAt),
  };
}

/** The reconciliation request as the use case takes it (camelCase, absent filters omitted). */
export function toReconcileRequest(message: ReconcileAccountsRequestMessage): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  const accountType = knownProtoEnum(message.account_type, EnumPrefix.accountType, 'accountType');
  if (accountType !== undefined) request.accountType = accountType;
  if (message.bic !== '') request.bic = message.bic;
  if (message.currency !== '') request.currency = message.currency;
  const periodStart = timestampToIso(message.period_start, 'periodStart');
  const periodEnd = timestampToIso(message.period_end, 'periodEnd');
  if (periodStart !== undefined) request.periodStart = periodStart;
  if (periodEnd !== undefined) request.periodEnd = periodEnd;
  return request;
}

/**
 * The reconciliation use case's report summary as the proto's flat message. Read defensively (the report belongs
 * to the reconciliation module): counts are taken from `totals` or the top level, an array counts its length.
 */
export function toReconcileResponse(report: unknown): ReconcileAccountsResponseMessage {
  const top = isRecord(report) ? report : {};
  const totals = isRecord(top.totals) ? top.totals : {};
  const count = (...names: string[]): number => {
    for (const source of [totals, top]) {
      for (const name of names) {
        const value = source[name];
        if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.trunc(value);
        if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
        if (Array.isArray(value)) return value.length;
      }
    }
    return 0;
  };
  const text = (name: string): string => (typeof top[name] === 'string' ? (top[name] as string) : '');
  const counts = {
    matched: count('matched'),
    missing_at_bank: count('missingAtBank'),
    missing_in_ledger: count('missingInLedger'),
    amount_mismatches: count('amountMismatches', 'amountMismatch'),
    value_date_mismatches: count('valueDateMismatches'),
    balance_mismatches: count('balanceMismatches', 'balanceMismatch', 'closingBalanceMismatches'),
    stale_locks: count('staleLocks'),
  };
  const discrepancySum = counts.missing_at_bank + counts.missing_in_ledger + counts.amount_mismatches + counts.value_date_mismatches + counts.balance_mismatches + counts.stale_locks;
  return {
    report_id: text('reportId'),
    status: text('status'),
    period_start: isoToTimestamp(text('periodStart')),
    period_end: isoToTimestamp(text('periodEnd')),
    accounts: count('accounts', 'accountCount', 'accountsReconciled'),
    ...counts,
    discrepancies: count('discrepancies', 'discrepancyCount') || discrepancySum,
    report_ids: Array.isArray(top.reportIds) ? top.reportIds.filter((id): id is string => typeof id === 'string') : text('reportId') === '' ? [] : [text('reportId')],
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** camelCase field name (as the use cases name it) → the proto's snake_case name. */
export function toProtoFieldName(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
