/**
 * The settlement: its request, its statuses and the transitions allowed between them.
 */
import { parseBic } from './bic';
import { ValidationError } from './errors';
import { parseOptionalIban } from './iban';
import { formatAmount, parseAmount, parseCurrency } from './money';

export const SettlementStatus = {
  pending: 'PENDING',
  validated: 'VALIDATED',
  locked: 'LOCKED',
  transferInitiated: 'TRANSFER_INITIATED',
  confirmed: 'CONFIRMED',
  completed: 'COMPLETED',
  rollingBack: 'ROLLING_BACK',
  rolledBack: 'ROLLED_BACK',
  compensating: 'COMPENSATING',
  compensated: 'COMPENSATED',
  failed: 'FAILED',
} as const;
export type SettlementStatus = (typeof SettlementStatus)[keyof typeof SettlementStatus];
export const settlementStatuses = Object.values(SettlementStatus);

/**
 * Allowed transitions. Every status change is a conditional write on the previous status, so a replayed step is
 * a no-op and an out-of-order one is refused.
 */
export const allowedTransitions: Readonly<Record<SettlementStatus, readonly SettlementStatus[]>> = {
  PENDING: ['VALIDATED', 'FAILED', 'ROLLING_BACK'],
  VALIDATED: ['LOCKED', 'ROLLING_BACK'],
  LOCKED: ['TRANSFER_INITIATED', 'ROLLING_BACK', 'COMPENSATING'],
  TRANSFER_INITIATED: ['CONFIRMED', 'ROLLING_BACK', 'COMPENSATING'],
  CONFIRMED: ['COMPLETED', 'COMPENSATING'],
  COMPLETED: [],
  // Compensation found nothing left the bank: plain rollback.
  COMPENSATING: ['COMPENSATED', 'ROLLING_BACK'],
  COMPENSATED: ['ROLLED_BACK'],
  ROLLING_BACK: ['ROLLED_BACK'],
  ROLLED_BACK: ['FAILED'],
  // A retryable failure is restarted by the retry job from the beginning (nothing is locked or moved then).
  FAILED: ['PENDING'],
};

export function canTransition(from: SettlementStatus, to: SettlementStatus): boolean {
  return allowedTransitions[from].includes(to);
}

/** Statuses in which a settlement's workflow has ended. */
export function isTerminal(status: SettlementStatus): boolean {
  switch (status) {
    case 'COMPLETED':
    case 'FAILED':
      return true;
    case 'PENDING':
    case 'VALIDATED':
    case 'LOCKED':
    case 'TRANSFER_INITIATED':
    case 'CONFIRMED':
    case 'ROLLING_BACK':
    case 'ROLLED_BACK':
    case 'COMPENSATING':
    case 'COMPENSATED':
      return false;
    default:
      return assertNever(status);
  }
}

/** Position of each forward status on the happy path; a stage is a no-op once the settlement is at or past it. */
export const forwardOrder: Readonly<Partial<Record<SettlementStatus, number>>> = {
  PENDING: 0,
  VALIDATED: 1,
  LOCKED: 2,
  TRANSFER_INITIATED: 3,
  CONFIRMED: 4,
  COMPLETED: 5,
};

export const Rail = { swift: 'SWIFT', sepa: 'SEPA', ach: 'ACH', mock: 'MOCK' } as const;
export type Rail = (typeof Rail)[keyof typeof Rail];
export const rails = Object.values(Rail);

export const SettlementKind = { domestic: 'DOMESTIC', international: 'INTERNATIONAL' } as const;
export type SettlementKind = (typeof SettlementKind)[keyof typeof SettlementKind];
export const settlementKinds = Object.values(SettlementKind);

/** A validated settlement instruction. `amount` is the canonical decimal string for `currency`. */
export interface SettlementRequest {
  readonly settlementId: string;
  readonly payerBic: string;
  readonly payeeBic: string;
  readonly amount: string;
  readonly currency: string;
  readonly rail: Rail;
  readonly kind: SettlementKind;
  readonly valueDate: string;
  readonly reference: string;
  /** IBAN of the payer's account (the debtor's, in a pacs.008); required on rails that name accounts by IBAN (SEPA). */
  readonly payerIban?: string;
  /** IBAN of the payee's account (the creditor's). */
  readonly payeeIban?: string;
}

export const requestFields = ['settlementId', 'payerBic', 'payeeBic', 'amount', 'currency', 'rail', 'kind', 'valueDate', 'reference', 'payerIban', 'payeeIban'] as const;

export const settlementIdLengthMax = 64;
export const referenceLengthMax = 140; // ISO 20022 remittance information, unstructured
const settlementIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
// Printable ASCII plus Latin-1 letters: what SWIFT and SEPA character sets can carry.
const referencePattern = /^[\x20-\x7E\u00C0-\u00FF]*$/;

/**
 * Parses an untrusted settlement request (REST JSON or gRPC message, both camelCase here).
 * Throws ValidationError naming the first bad field. Unknown fields are refused so typos never pass silently.
 */
export function parseSettlementRequest(input: unknown): SettlementRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('body', 'must be a JSON object');
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!(requestFields as readonly string[]).includes(key)) throw new ValidationError(key, 'is not a field of a settlement request');
  }
  const settlementId = parseSettlementId(body.settlementId);
  const payerBic = parseBic(body.payerBic, 'payerBic');
  const payeeBic = parseBic(body.payeeBic, 'payeeBic');
  if (payerBic === payeeBic) throw new ValidationError('payeeBic', 'must differ from payerBic');
  const currency = parseCurrency(body.currency, 'currency');
  const amount = formatAmount(parseAmount(body.amount, currency, 'amount'), currency);
  const rail = oneOf(body.rail, 'rail', rails);
  const kind = oneOf(body.kind, 'kind', settlementKinds);
  if (rail === 'SEPA' && currency !== 'EUR') throw new ValidationError('currency', 'SEPA settles EUR only');
  const valueDate = parseIsoDate(body.valueDate, 'valueDate');
  const reference = requiredString(body.reference, 'reference', referenceLengthMax);
  if (!referencePattern.test(reference)) throw new ValidationError('reference', 'contains characters a payment rail cannot carry');
  const payerIban = parseOptionalIban(body.payerIban, 'payerIban');
  const payeeIban = parseOptionalIban(body.payeeIban, 'payeeIban');
  if (payerIban !== undefined && payerIban === payeeIban) throw new ValidationError('payeeIban', 'must differ from payerIban');
  return { settlementId, payerBic, payeeBic, amount, currency, rail, kind, valueDate, reference, ...(payerIban && { payerIban }), ...(payeeIban && { payeeIban }) };
}

/**
 * On a rail whose messages name accounts by IBAN (SEPA: the EPC SCT rulebook makes the debtor's and creditor's
 * IBAN mandatory in the pacs.008), a request without both is refused, naming the missing field.
 */
export function requireIbans(request: SettlementRequest, ibanRequiredRails: readonly Rail[]): void {
  if (!ibanRequiredRails.includes(request.rail)) return;
  for (const field of ['payerIban', 'payeeIban'] as const) {
    if (request[field] === undefined) throw new ValidationError(field, `is required on the ${request.rail} rail (its credit transfer names the debtor's and creditor's IBAN)`);
  }
}

/** A settlement id as the engine issues and keys it: 1–64 letters, digits and . _ : - (checked before any read). */
export function parseSettlementId(value: unknown, field = 'settlementId'): string {
  const settlementId = requiredString(value, field, settlementIdLengthMax);
  if (!settlementIdPattern.test(settlementId)) throw new ValidationError(field, 'may contain only letters, digits and . _ : - (and must start with a letter or digit)');
  return settlementId;
}

/** Fields of two requests that differ (used to tell a duplicate from a conflicting reuse of an id). */
export function differingFields(a: SettlementRequest, b: SettlementRequest): string[] {
  return requestFields.filter((field) => a[field] !== b[field]);
}

function requiredString(value: unknown, field: string, lengthMax: number): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'is required');
  if (value.length > lengthMax) throw new ValidationError(field, `is longer than ${lengthMax} characters`);
  if (value.trim() !== value) throw new ValidationError(field, 'has leading or trailing white space');
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** An ISO calendar date (YYYY-MM-DD) that exists. */
export function parseIsoDate(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new ValidationError(field, 'must be an ISO date (YYYY-MM-DD)');
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) throw new ValidationError(field, `${value} is not a calendar date`);
  return value;
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${String(value)}`);
}
