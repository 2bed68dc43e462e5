/**
 * One strict schema per REST request: path parameters, query and body, declared with zod and checked by the router
 * before a route's handler runs, so no store is ever called with an unchecked identifier. The same definitions
 * are the API's documentation: bin/openapi.ts writes them to docs/openapi.json (a test keeps that file current).
 *
 * What every schema enforces: objects are strict (an unknown field is refused, named); every identifier is bounded
 * in length and character set (DynamoDB keys must stay under 2,048 bytes, and an id that could never have been
 * issued is refused before a read); dates are calendar dates; money is a decimal string. The use cases still parse
 * what they receive (cross-field rules, minor units, ISO lists, the registry): the schema is the first gate, not
 * the only one.
 *
 * Adding a route: give it `request: { params?, query?, body? }` built from the pieces below (a route without
 * input uses `noInput`); `Route.request` is required, so the compiler asks for it. That is the whole change: the
 * router validates it and the OpenAPI document picks it up (run `npm run openapi`).
 */
import { z } from 'zod';
import { bicPattern } from '../domain/bic';
import { ibanLengthMax, ibanMessage, isIban } from '../domain/iban';
import { ValidationError } from '../domain/errors';
import { bankNameLengthMax, instantPattern, movementIdLengthMax, movementReferenceLengthMax } from '../domain/admin';
import { amountIntegerDigitsMax } from '../domain/money';
import { accountShardsMax } from '../domain/account-shards';
import { rails, referenceLengthMax, settlementIdLengthMax, settlementKinds } from '../domain/settlement';
import { forbiddenTextCharacters, railTextPattern } from '../domain/text';
import { emergencyReasonLengthMax, weekdayNames } from '../domain/window';

/** What a route accepts. Absent parts accept nothing (no path parameter, no query parameter, no body). */
export interface RequestSchema {
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Prefix of body field names in errors (`body.` for a window, whose use case names fields that way). */
  readonly bodyFieldPrefix?: string;
  /** The body may be absent (an optional note): validated only when one is sent. */
  readonly bodyOptional?: boolean;
}

export const noInput: RequestSchema = {};

// ---- identifiers: bounded length and character set ----

const idCharacters = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const idMessage = 'may contain only letters, digits and . _ : - (and must start with a letter or digit)';

/** Caller-chosen ids (settlement, movement): 1–64 of letters, digits, . _ : - */
const callerId = (lengthMax: number, description: string) =>
  z
    .string()
    .min(1, { error: 'is required' })
    .max(lengthMax, { error: `is longer than ${lengthMax} characters` })
    .regex(idCharacters, { error: idMessage })
    .meta({ description });

export const settlementId = callerId(settlementIdLengthMax, "The caller's idempotency key: 1 to 64 letters, digits and . _ : - (starting with a letter or digit).");
export const movementId = callerId(movementIdLengthMax, 'Idempotency key and end-to-end reference of a fund movement.');

export const bic = z
  .string()
  .max(11, { error: 'is not a BIC (ISO 9362: 8 or 11 upper-case letters and digits)' })
  .regex(bicPattern, { error: 'is not a BIC (ISO 9362: 8 or 11 upper-case letters and digits)' })
  .meta({ description: 'BIC (ISO 9362), 8 or 11 characters; DEUTDEFFXXX and DEUTDEFF name the same bank.', example: 'DEUTDEFF' });

export const iban = z
  .string()
  .max(ibanLengthMax, { error: ibanMessage })
  .refine(isIban, { error: ibanMessage })
  .meta({ description: 'IBAN (ISO 13616), electronic format: upper case, no spaces; check digits verified.', example: 'DE89370400440532013000' });

export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, { error: 'is not an ISO 4217 alphabetic currency code' })
  .meta({ description: 'ISO 4217 alphabetic code.', example: 'EUR' });

export const accountId = z
  .string()
  .max(24, { error: 'must be NOSTRO#<BIC>#<CCY> or VOSTRO#<BIC>#<CCY>' })
  .regex(/^(NOSTRO|VOSTRO)#[A-Z0-9]{8}([A-Z0-9]{3})?#[A-Z]{3}$/, { error: 'must be NOSTRO#<BIC>#<CCY> or VOSTRO#<BIC>#<CCY>' })
  .meta({ description: 'NOSTRO#<BIC>#<CCY> or VOSTRO#<BIC>#<CCY> (URL-encode # as %23 in a path).', example: 'VOSTRO#DEUTDEFF#EUR' });

export const reportId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, { error: 'is not a report id (a UUID)' })
  .meta({ description: 'A reconciliation report id (UUID).' });

/** Opaque page cursors the engine issued: base64url, bounded. */
export const cursor = z
  .string()
  .max(1_024, { error: 'is longer than 1024 characters: not a cursor this server issued' })
  .regex(/^[A-Za-z0-9_-]+={0,2}$/, { error: 'is not a cursor this server issued' })
  .meta({ description: 'The nextCursor of the previous page.' });

export const pageLimit = (maximum = 200) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, { error: `must be an integer from 1 to ${maximum}` })
    .refine((value) => Number(value) <= maximum, { error: `must be an integer from 1 to ${maximum}` })
    .meta({ description: `Page size, 1 to ${maximum}.` });

// ---- dates, money, text ----

/** A date that exists: 2026-02-30 is refused, never rolled forward to March. */
export function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be an ISO date (YYYY-MM-DD)' })
  .refine(isCalendarDate, { error: 'is not a calendar date' })
  .meta({ description: 'ISO calendar date.', example: '2026-11-25' });

export const isoInstant = z
  .string()
  .max(35, { error: 'must be an ISO instant with a zone, such as "2025-03-10T00:00:00Z"' })
  .regex(instantPattern, { error: 'must be an ISO instant with a zone, such as "2025-03-10T00:00:00Z"' })
  .refine((value) => isCalendarDate(value.slice(0, 10)), { error: 'is not a calendar date' })
  .meta({ description: 'ISO 8601 instant with a zone.', example: '2026-11-25T00:00:00Z' });

export const amount = z
  .string()
  .max(amountIntegerDigitsMax + 6, { error: 'is too long for an amount' })
  .regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, { error: 'is not a plain positive decimal such as "1250.00"' })
  .meta({ description: "Decimal string with at most the currency's minor-unit digits; never a JSON number.", example: '1250.00' });

/** Free text: bounded, no control or invisible characters, no leading or trailing white space. */
export const freeText = (lengthMax: number, description: string) =>
  z
    .string()
    .max(lengthMax, { error: `is longer than ${lengthMax} characters` })
    .refine((value) => !forbiddenTextCharacters.test(value), { error: 'contains a control or invisible character' })
    .refine((value) => value.trim() === value, { error: 'has leading or trailing white space' })
    .meta({ description });

/** Text sent to a bank: what a payment rail can carry. */
export const railText = (lengthMax: number, description: string) =>
  freeText(lengthMax, description).refine((value) => railTextPattern.test(value), { error: 'contains characters a payment rail cannot carry' });

// ---- request bodies ----

export const settlementRequestBody = z
  .strictObject({
    settlementId,
    payerBic: bic.meta({ description: 'BIC of the bank whose vostro is debited; must be registered.' }),
    payeeBic: bic.meta({ description: 'BIC of the bank paid out to; must be registered and differ from payerBic.' }),
    amount,
    currency,
    rail: z.enum(rails, { error: `must be one of ${rails.join(', ')}` }),
    kind: z.enum(settlementKinds, { error: `must be one of ${settlementKinds.join(', ')}` }),
    valueDate: isoDate.meta({ description: 'Value date: a calendar date inside the value-date window of the rail and currency (VALUE_DATE_WINDOWS).' }),
    reference: railText(referenceLengthMax, 'Remittance information carried to the bank.'),
    payerIban: iban.meta({ description: "IBAN of the payer's account (the debtor's in the pacs.008). Required on SEPA when the rails speak ISO 20022 (EPC SCT)." }).optional(),
    payeeIban: iban.meta({ description: "IBAN of the payee's account (the creditor's in the pacs.008). Required on SEPA when the rails speak ISO 20022 (EPC SCT)." }).optional(),
  });

export const operatorNoteBody = z.strictObject({ reason: freeText(500, 'Why (kept in the settlement history).').optional() });

export const bankRegistrationBody = z.strictObject({
  bic,
  name: freeText(bankNameLengthMax, 'The bank name.'),
  country: z.string().regex(/^[A-Z]{2}$/, { error: 'must be an ISO 3166-1 alpha-2 code' }),
});

export const statusBody = (statuses: readonly [string, ...string[]]) => z.strictObject({ status: z.enum(statuses, { error: `must be one of ${statuses.join(', ')}` }) });

export const accountOpeningBody = z.strictObject({
  accountType: z.enum(['NOSTRO', 'VOSTRO'], { error: 'must be NOSTRO or VOSTRO' }),
  bic,
  currency,
  floor: amount.optional(),
  openingBalance: amount.optional(),
});

export const fundMovementBody = z.strictObject({
  movementId,
  amount,
  valueDate: isoDate.optional(),
  reference: railText(movementReferenceLengthMax, 'Reference of the movement.').optional(),
});

export const floorBody = z.strictObject({ floor: amount });

export const splitBody = z.strictObject({
  shards: z.int({ error: `must be an integer from 2 to ${accountShardsMax}` }).min(2, { error: `must be an integer from 2 to ${accountShardsMax}` }).max(accountShardsMax, { error: `must be an integer from 2 to ${accountShardsMax}` }).meta({ description: 'Balance shards to split the account into (docs/architecture.md, "Hot accounts").' }),
});

export const windowBody = z.strictObject({
  currency: currency.optional(),
  timeZone: z.string().max(64, { error: 'is not an IANA time zone' }),
  days: z.array(z.enum(weekdayNames as [string, ...string[]], { error: `must be one of ${weekdayNames.join(', ')}` })).max(7, { error: 'lists more than 7 days' }),
  opensAt: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, { error: 'must be a local time "HH:mm"' }),
  cutoffAt: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, { error: 'must be a local time "HH:mm" (00:00 to 24:00)' }),
  holidays: z.array(isoDate).max(500, { error: 'has more than 500 dates' }).optional(),
  emergencyClose: z.strictObject({ reason: freeText(emergencyReasonLengthMax, 'Why the window is closed.'), since: isoInstant.optional() }).nullable().optional(),
});

export const emergencyCloseBody = z.strictObject({ reason: freeText(emergencyReasonLengthMax, 'Why the window is closed now.') });

export const reconciliationBody = z.strictObject({ accountId, from: isoInstant, to: isoInstant });

// ---- query strings ----

export const pagedQuery = (limitMax = 200) => z.strictObject({ cursor: cursor.optional(), limit: pageLimit(limitMax).optional() });

export const accountListQuery = z.strictObject({ bank: bic.optional(), currency: currency.optional(), cursor: cursor.optional(), limit: pageLimit().optional() });

export const auditQuery = z.strictObject({
  entityType: z.string().max(32, { error: 'is not an entity type' }).regex(/^[A-Z_]+$/, { error: 'is not an entity type' }).optional(),
  entityId: z.string().max(128, { error: 'is longer than 128 characters' }).regex(/^[A-Za-z0-9][A-Za-z0-9._:#/-]*$/, { error: 'is not an entity id' }).optional(),
  actor: z.string().min(1).max(128, { error: 'is longer than 128 characters' }).regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/, { error: 'is not an actor' }).optional(),
  day: isoDate.optional(),
  from: isoInstant.optional(),
  to: isoInstant.optional(),
  cursor: cursor.optional(),
  limit: pageLimit().optional(),
});

export const auditExportQuery = z.strictObject({
  from: isoInstant,
  to: isoInstant,
  format: z.enum(['jsonl', 'csv'], { error: 'must be jsonl or csv' }).optional(),
  entityType: z.string().max(32, { error: 'is not an entity type' }).regex(/^[A-Z_]+$/, { error: 'is not an entity type' }).optional(),
});

export const ledgerQuery = z.strictObject({ from: isoInstant.optional(), to: isoInstant.optional() });

export const reportListQuery = z.strictObject({ accountId, cursor: cursor.optional(), limit: pageLimit().optional() });

// ---- validation ----

/** Per-parse fallback messages (each schema above carries its own for everything but type mismatches). */
function fallbackMessage(issue: { code?: string; input?: unknown; expected?: unknown }): string {
  if (issue.input === undefined) return 'is required';
  if (issue.code === 'invalid_type') return `must be ${issue.expected === 'object' ? 'a JSON object' : `a ${String(issue.expected)}`}`;
  return 'is not valid';
}

/**
 * Validates one part of a request; throws ValidationError naming the first bad field as the caller spells it
 * (`amount`, `windows.days[2]`, an unknown key itself). `root` names the part when it is wrong as a whole.
 */
export function validatePart<T>(schema: z.ZodType<T>, value: unknown, root: string, fieldPrefix = ''): T {
  const result = schema.safeParse(value, { error: fallbackMessage });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`)).join('');
  if (issue.code === 'unrecognized_keys') {
    const key = `${path === '' ? '' : `${path}.`}${issue.keys[0]}`;
    throw new ValidationError(`${fieldPrefix}${key}`, 'is not a field of this request');
  }
  throw new ValidationError(path === '' ? root : `${fieldPrefix}${path}`, issue.message);
}
