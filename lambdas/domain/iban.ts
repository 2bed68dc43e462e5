/**
 * IBAN (ISO 13616) of a party's account. Checked with ibantools (country format, length and the mod-97 check
 * digits), in the electronic format only: upper case, no spaces, as a pacs.008 carries it. A printed IBAN with
 * spaces is refused rather than rewritten, so what the engine stores and sends is exactly what it was given.
 */
import { isValidIBAN } from 'ibantools';
import { ValidationError } from './errors';

/** ISO 13616: at most 34 characters. */
export const ibanLengthMax = 34;
export const ibanFormat = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/;
export const ibanMessage = 'is not a valid IBAN (ISO 13616, electronic format: country code, check digits and account number, upper case, no spaces)';

export function isIban(value: string): boolean {
  return value.length <= ibanLengthMax && ibanFormat.test(value) && isValidIBAN(value);
}

/** An optional IBAN field of a request: absent stays absent, anything else must be a valid IBAN. */
export function parseOptionalIban(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isIban(value)) throw new ValidationError(field, ibanMessage);
  return value;
}
