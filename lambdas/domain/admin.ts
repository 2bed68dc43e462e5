/**
 * Administration requests (banks, accounts, fund movements, windows, reconciliation runs): parsed from untrusted
 * JSON with the same rules as a settlement request. Unknown fields are refused, errors name the field.
 */
import { bicCountry, parseBic } from './bic';
import { checkFreeText } from './text';
import { ValidationError } from './errors';
import { Money, decimalFromString, formatAmount, parseAmount, parseCurrency } from './money';
import { parseIsoDate } from './settlement';

export const BankStatus = { active: 'ACTIVE', suspended: 'SUSPENDED', closed: 'CLOSED' } as const;
export type BankStatus = (typeof BankStatus)[keyof typeof BankStatus];
export const bankStatuses = Object.values(BankStatus);

export const bankNameLengthMax = 140;
export const movementIdLengthMax = 64;
export const movementReferenceLengthMax = 140;
/** The longest period one reconciliation run covers: a statement month and a bit. */
export const reconciliationPeriodDaysMax = 35;

export interface BankRegistration {
  readonly bic: string;
  readonly name: string;
  readonly country: string;
}

export interface AccountOpening {
  readonly accountType: 'NOSTRO' | 'VOSTRO';
  readonly bic: string;
  readonly currency: string;
  /** Non-negative: available may never go below it. */
  readonly floor: string;
  readonly openingBalance: string;
}

/** A fund-in or fund-out of a vostro. `movementId` is the idempotency key and the end-to-end reference. */
export interface FundMovementRequest {
  readonly movementId: string;
  readonly amount: string;
  readonly valueDate?: string;
  readonly reference: string;
}

export interface ReconciliationRequest {
  readonly accountId: string;
  /** Inclusive ISO instants (UTC, millisecond precision). */
  readonly from: string;
  readonly to: string;
}

/** Hours 00–23, minutes and seconds 00–59, offsets up to ±14:00: what Date.parse would otherwise roll over. */
export const instantPattern = /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-](0\d|1[0-4]):[0-5]\d)$/;
const movementIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const referencePattern = /^[\x20-\x7E\u00C0-\u00FF]*$/;
const accountIdPattern = /^(NOSTRO|VOSTRO)#([A-Z0-9]{8}|[A-Z0-9]{11})#([A-Z]{3})$/;

export function parseBankRegistration(input: unknown): BankRegistration {
  const body = objectWithFields(input, ['bic', 'name', 'country']);
  const bic = parseBic(body.bic, 'bic');
  const name = text(body.name, 'name', bankNameLengthMax);
  if (typeof body.country !== 'string' || !/^[A-Z]{2}$/.test(body.country)) throw new ValidationError('country', 'must be an ISO 3166-1 alpha-2 code');
  if (body.country !== bicCountry(bic)) throw new ValidationError('country', `must be the country of the BIC (${bicCountry(bic)})`);
  return { bic, name, country: body.country };
}

export function parseBankStatus(input: unknown): BankStatus {
  const body = objectWithFields(input, ['status']);
  if (typeof body.status !== 'string' || !(bankStatuses as string[]).includes(body.status)) throw new ValidationError('status', `must be one of ${bankStatuses.join(', ')}`);
  return body.status as BankStatus;
}

export function parseAccountOpening(input: unknown): AccountOpening {
  const body = objectWithFields(input, ['accountType', 'bic', 'currency', 'floor', 'openingBalance']);
  if (body.accountType !== 'NOSTRO' && body.accountType !== 'VOSTRO') throw new ValidationError('accountType', 'must be NOSTRO or VOSTRO');
  const bic = parseBic(body.bic, 'bic');
  const currency = parseCurrency(body.currency, 'currency');
  const floor = body.floor === undefined ? formatAmount(new Money(0), currency) : nonNegativeAmount(body.floor, currency, 'floor');
  const openingBalance = body.openingBalance === undefined ? formatAmount(new Money(0), currency) : nonNegativeAmount(body.openingBalance, currency, 'openingBalance');
  // Available may never be below the floor, from the first moment on.
  if (new Money(floor).greaterThan(openingBalance)) throw new ValidationError('floor', `must not exceed the opening balance (${openingBalance})`);
  return { accountType: body.accountType, bic, currency, floor, openingBalance };
}

export function parseFundMovement(input: unknown, currency: string): FundMovementRequest {
  const body = objectWithFields(input, ['movementId', 'amount', 'valueDate', 'reference']);
  const movementId = text(body.movementId, 'movementId', movementIdLengthMax);
  if (!movementIdPattern.test(movementId)) throw new ValidationError('movementId', 'may contain only letters, digits and . _ : - (and must start with a letter or digit)');
  const amount = formatAmount(parseAmount(body.amount, currency, 'amount'), currency);
  const valueDate = body.valueDate === undefined ? undefined : parseIsoDate(body.valueDate, 'valueDate');
  const reference = body.reference === undefined ? '' : text(body.reference, 'reference', movementReferenceLengthMax);
  if (!referencePattern.test(reference)) throw new ValidationError('reference', 'contains characters a payment rail cannot carry');
  return { movementId, amount, reference, ...(valueDate !== undefined && { valueDate }) };
}

export function parseFloor(input: unknown, currency: string): string {
  const body = objectWithFields(input, ['floor']);
  return nonNegativeAmount(body.floor, currency, 'floor');
}

export function parseEmergencyCloseRequest(input: unknown): string {
  const body = objectWithFields(input, ['reason']);
  return text(body.reason, 'reason', 200);
}

/** Parses and checks an engine account id (`NOSTRO#<BIC>#<CCY>` or `VOSTRO#<BIC>#<CCY>`). */
export function parseAccountId(value: unknown, field = 'accountId'): string {
  if (typeof value !== 'string' || !accountIdPattern.test(value)) throw new ValidationError(field, 'must be NOSTRO#<BIC>#<CCY> or VOSTRO#<BIC>#<CCY>');
  const [, accountType, bic, currency] = accountIdPattern.exec(value) as RegExpExecArray;
  // The BIC inside an id is normalized like any other (VOSTRO#DEUTDEFFXXX#EUR is VOSTRO#DEUTDEFF#EUR).
  return `${accountType}#${parseBic(bic, field)}#${parseCurrency(currency, field)}`;
}

export function parseReconciliationRequest(input: unknown): ReconciliationRequest {
  const body = objectWithFields(input, ['accountId', 'from', 'to']);
  const accountId = parseAccountId(body.accountId);
  const from = instant(body.from, 'from');
  const to = instant(body.to, 'to');
  checkPeriod(from, to);
  return { accountId, from, to };
}

/** A reconciliation period: `to` not before `from`, at most reconciliationPeriodDaysMax days. */
export function checkPeriod(from: string, to: string, field = 'to'): void {
  if (to < from) throw new ValidationError(field, 'must not be before from');
  if (Date.parse(to) - Date.parse(from) > reconciliationPeriodDaysMax * 24 * 3600 * 1000) throw new ValidationError(field, `a period covers at most ${reconciliationPeriodDaysMax} days`);
}

/** An ISO instant, returned in the canonical UTC form the ledger's sort keys use ("2025-03-10T00:00:00.000Z"). */
export function instant(value: unknown, field: string): string {
  if (typeof value !== 'string' || !instantPattern.test(value)) throw new ValidationError(field, 'must be an ISO instant with a zone, such as "2025-03-10T00:00:00Z"');
  // Date.parse rolls 2026-02-30 forward to March 2: the calendar date is checked on its own first.
  parseIsoDate(value.slice(0, 10), field);
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new ValidationError(field, `${value} is not an instant`);
  return new Date(time).toISOString();
}

function nonNegativeAmount(value: unknown, currency: string, field: string): string {
  if (value === '0' || (typeof value === 'string' && /^0(\.0+)?$/.test(value))) return formatAmount(new Money(0), currency);
  return formatAmount(parseAmount(value, currency, field), currency);
}

function objectWithFields(input: unknown, fields: readonly string[]): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('body', 'must be a JSON object');
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!fields.includes(key)) throw new ValidationError(key, `is not a field of this request (${fields.join(', ')})`);
  }
  return body;
}

function text(value: unknown, field: string, lengthMax: number): string {
  if (typeof value !== 'string' || value.trim().length === 0) throw new ValidationError(field, 'is required');
  if (value.length > lengthMax) throw new ValidationError(field, `is longer than ${lengthMax} characters`);
  if (value.trim() !== value) throw new ValidationError(field, 'has leading or trailing white space');
  return checkFreeText(value, field);
}

/** Canonical decimal string of a stored amount in its currency (DynamoDB returns "100" for 100.00). */
export function canonical(amount: Money | string, currency: string): string {
  return formatAmount(typeof amount === 'string' ? decimalFromString(amount) : amount, currency);
}
