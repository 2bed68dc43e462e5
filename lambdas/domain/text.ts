/**
 * Free text the engine stores and shows (bank names, references, reasons, notes): what characters it may hold.
 * Text ends up in logs, exports, audit trails and bank messages, so control characters (NUL, escape, line breaks),
 * invisible format characters (zero-width, bidirectional overrides) and unassigned or private code points are
 * refused everywhere, whatever else a field allows.
 */
import { ValidationError } from './errors';

/** Characters free text never holds: controls (Cc), format (Cf), surrogates (Cs), private use (Co), unassigned (Cn), line and paragraph separators. */
export const forbiddenTextCharacters = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/** Printable ASCII plus Latin-1 letters: what SWIFT and SEPA character sets can carry (references sent to a bank). */
export const railTextPattern = /^[\x20-\x7E\u00C0-\u00FF]*$/;

/** Throws ValidationError naming `field` when `value` holds a character free text may not hold. */
export function checkFreeText(value: string, field: string): string {
  const match = forbiddenTextCharacters.exec(value);
  if (match) throw new ValidationError(field, `contains a control or invisible character (U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
  return value;
}
