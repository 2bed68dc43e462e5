/**
 * Money: decimal.js values, decimal strings on the wire, ISO 4217 minor units enforced.
 * An amount with more decimals than its currency allows is an error, never a rounding.
 */
import Decimal from 'decimal.js';
import currencyCodes from 'currency-codes';
import { ValidationError, invariant } from './errors';

/** Arbitrary-precision decimal used for every amount in the engine. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Money = Decimal;

/** Largest amount one settlement may carry: 18 integer digits, far beyond any real transfer. */
export const amountIntegerDigitsMax = 18;

/** ISO 4217 codes that are not money (funds codes, precious metals, testing, no currency). */
const nonMoneyCurrencyCodes = new Set(['XAU', 'XAG', 'XPD', 'XPT', 'XDR', 'XTS', 'XXX', 'XBA', 'XBB', 'XBC', 'XBD', 'XSU', 'XUA', 'BOV', 'CHE', 'CHW', 'CLF', 'COU', 'MXV', 'USN', 'UYI', 'UYW']);

const plainDecimal = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Minor-unit digits of an ISO 4217 currency, or undefined when the code is not a currency we settle. */
export function currencyMinorUnits(currency: string): number | undefined {
  if (!/^[A-Z]{3}$/.test(currency) || nonMoneyCurrencyCodes.has(currency)) return undefined;
  const entry = currencyCodes.code(currency);
  return entry === undefined ? undefined : entry.digits;
}

/** Checks an ISO 4217 alphabetic code and returns it. */
export function parseCurrency(value: unknown, field = 'currency'): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'is required (ISO 4217 alphabetic code)');
  if (currencyMinorUnits(value) === undefined) throw new ValidationError(field, `"${truncate(value)}" is not an ISO 4217 currency code`);
  return value;
}

/**
 * Parses a positive decimal amount string for `currency`. Accepts only plain decimal notation ("1250.00"):
 * no sign, no exponent, no grouping, no leading zeros, no more decimals than the currency's minor units.
 */
export function parseAmount(value: unknown, currency: string, field = 'amount'): Money {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a decimal string such as "1250.00"');
  if (!plainDecimal.test(value)) throw new ValidationError(field, `"${truncate(value)}" is not a plain positive decimal such as "1250.00"`);
  const [integerPart, fractionPart = ''] = value.split('.');
  if (integerPart.length > amountIntegerDigitsMax) throw new ValidationError(field, `has more than ${amountIntegerDigitsMax} integer digits`);
  const minorUnits = currencyMinorUnits(currency);
  if (minorUnits === undefined) throw new ValidationError('currency', `"${truncate(currency)}" is not an ISO 4217 currency code`);
  if (fractionPart.length > minorUnits) {
    throw new ValidationError(field, `${currency} allows ${minorUnits} decimal places, "${truncate(value)}" has ${fractionPart.length}`);
  }
  const amount = new Money(value);
  if (amount.isZero()) throw new ValidationError(field, 'must be greater than zero');
  return amount;
}

/** Parses a stored or internal decimal string (may be zero or negative); throws on anything else. */
export function decimalFromString(value: string): Money {
  if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(value)) throw new ValidationError('amount', `"${truncate(value)}" is not a decimal`);
  return new Money(value);
}

/** Canonical wire form: fixed to the currency's minor units ("1250.00", "100", "1.500"). */
export function formatAmount(amount: Decimal, currency: string): string {
  const minorUnits = currencyMinorUnits(currency);
  invariant(minorUnits !== undefined, `formatAmount: ${currency} is not a settlement currency`);
  invariant(amount.decimalPlaces() <= minorUnits, `formatAmount: ${amount.toString()} has more than ${minorUnits} decimals for ${currency}`);
  // Decimal keeps the sign of zero; the wire never shows "-0.00".
  return (amount.isZero() ? new Money(0) : amount).toFixed(minorUnits);
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
