/**
 * BIC (ISO 9362): 4 letters institution, 2 letters country (ISO 3166-1), 2 alphanumerics location,
 * optionally 3 alphanumerics branch. Upper case ASCII only: lookalike letters from other scripts are refused.
 */
import { ValidationError } from './errors';

const bicPattern = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

/** Validates a BIC and returns it. The 8-character form and the "XXX" branch form name the same bank office. */
export function parseBic(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'is required (BIC, 8 or 11 characters)');
  if (!bicPattern.test(value)) throw new ValidationError(field, `"${value.slice(0, 20)}" is not a BIC (ISO 9362: 8 or 11 upper-case letters and digits)`);
  return value;
}

/** ISO 3166-1 alpha-2 country code inside a BIC. */
export function bicCountry(bic: string): string {
  return bic.slice(4, 6);
}
