/**
 * Shared pieces of the statement importers: the re-openable byte source and amount parsing.
 */
import { currencyMinorUnits, formatAmount, Money } from '../../domain/money';

/**
 * Opens the statement's bytes (a file stream, an S3 object body, a string in tests) from the start. The camt.053
 * importer opens it twice (balances first, then entries) so that nothing but one chunk is held in memory.
 */
export type StatementSource = () => AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/** Longest text content of one element or CSV record the importers accept (a defence against hostile files). */
export const fieldLengthMax = 4096;

/** What an importer needs to know about the account it imports for. */
export interface StatementTarget {
  /** Engine account id (NOSTRO#<BIC>#<CCY> / VOSTRO#<BIC>#<CCY>) the Statement is labelled with. */
  readonly accountId: string;
  readonly currency: string;
  /** Account identification on the file (IBAN or proprietary id); required when the file holds several accounts. */
  readonly account?: string;
}

export const CreditDebit = { credit: 'CRDT', debit: 'DBIT' } as const;
export type CreditDebit = (typeof CreditDebit)[keyof typeof CreditDebit];

const unsignedDecimal = /^(0|[1-9][0-9]*|0[0-9]+)(\.[0-9]+)?$/;

/**
 * Parses an unsigned statement amount with its credit/debit indicator into a signed canonical decimal string,
 * or returns a reason why not. Trailing zeros beyond the currency's minor units are accepted ("1.500" EUR).
 */
export function signedStatementAmount(text: string, currency: string, creditDebit: string): { amount: string } | { reason: string } {
  const minorUnits = currencyMinorUnits(currency);
  if (minorUnits === undefined) return { reason: `"${currency.slice(0, 10)}" is not an ISO 4217 currency code` };
  if (!unsignedDecimal.test(text)) return { reason: `"${text.slice(0, 40)}" is not an unsigned decimal amount` };
  if (creditDebit !== CreditDebit.credit && creditDebit !== CreditDebit.debit) return { reason: `credit/debit indicator "${creditDebit.slice(0, 10)}" is not CRDT or DBIT` };
  const amount = new Money(text);
  if (amount.decimalPlaces() > minorUnits) return { reason: `${currency} allows ${minorUnits} decimal places, "${text}" has more` };
  return { amount: formatAmount(creditDebit === CreditDebit.debit ? amount.negated() : amount, currency) };
}

/** The calendar date of an ISO date or date-time as written (its local date; no time-zone conversion). */
export function isoDatePart(text: string): string | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})(T.*)?$/.exec(text);
  if (match === null) return undefined;
  const date = new Date(`${match[1]}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== match[1] ? undefined : match[1];
}
