/**
 * BIC (ISO 9362): 4 letters institution, 2 letters country (ISO 3166-1), 2 alphanumerics location,
 * optionally 3 alphanumerics branch. Upper case ASCII only: lookalike letters from other scripts are refused.
 *
 * One bank, one identity: the 8-character BIC and its 11-character form with the branch code `XXX` name the same
 * office (the primary office), so every BIC the engine takes in is normalized to the 8-character form before it
 * is compared, stored or used in a key (`DEUTDEFFXXX` → `DEUTDEFF`). A real branch code (`DEUTDEFF500`) is a
 * different office and stays as it is.
 */
import { ValidationError } from './errors';

export const bicPattern = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;
/** The branch code of a primary office. */
export const primaryOfficeBranchCode = 'XXX';

/** Validates a BIC and returns its canonical (normalized) form. */
export function parseBic(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'is required (BIC, 8 or 11 characters)');
  if (!bicPattern.test(value)) throw new ValidationError(field, `"${value.slice(0, 20)}" is not a BIC (ISO 9362: 8 or 11 upper-case letters and digits)`);
  return normalizeBic(value);
}

/** The canonical form of a valid BIC: the 8-character form for a primary office (`…XXX`), else unchanged. */
export function normalizeBic(bic: string): string {
  return bic.length === 11 && bic.endsWith(primaryOfficeBranchCode) ? bic.slice(0, 8) : bic;
}

/** ISO 3166-1 alpha-2 country code inside a BIC. */
export function bicCountry(bic: string): string {
  return bic.slice(4, 6);
}
