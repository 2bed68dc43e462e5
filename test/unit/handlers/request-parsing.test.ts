/**
 * The strict parts of request parsing that need no engine: duplicate JSON keys, nesting, schema errors naming the
 * field, BIC normalization, free text and value-date windows.
 */
import { parseStrictJson } from '../../../lambdas/handlers/strict-json';
import { settlementRequestBody, validatePart, isoInstant, accountId } from '../../../lambdas/handlers/request-schemas';
import { normalizeBic, parseBic } from '../../../lambdas/domain/bic';
import { checkFreeText } from '../../../lambdas/domain/text';
import { addBusinessDays, checkValueDate, parseValueDateWindows, valueDateWindowFor } from '../../../lambdas/domain/value-date';
import { instant, parseAccountId } from '../../../lambdas/domain/admin';
import { ValidationError } from '../../../lambdas/domain/errors';

function fieldOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
}

describe('strict JSON', () => {
  it('refuses a key that appears twice in one object, naming it with its path', () => {
    expect(fieldOf(() => parseStrictJson('{"amount":"1.00","amount":"9.00"}', 8))).toBe('amount');
    expect(fieldOf(() => parseStrictJson('{"a":{"b":1,"c":[{"d":1,"d":2}]}}', 8))).toBe('a.c[0].d');
    // Escapes are compared decoded: "\u0061mount" is "amount".
    expect(fieldOf(() => parseStrictJson('{"amount":"1","\\u0061mount":"2"}', 8))).toBe('amount');
  });

  it('accepts equal keys in different objects and strings that look like keys', () => {
    expect(parseStrictJson('{"a":{"k":1},"b":{"k":2},"c":["k","k"]}', 8)).toEqual({ a: { k: 1 }, b: { k: 2 }, c: ['k', 'k'] });
  });

  it('refuses nesting deeper than the limit and text that is not JSON, as the body', () => {
    expect(fieldOf(() => parseStrictJson(`${'['.repeat(9)}${']'.repeat(9)}`, 8))).toBe('body');
    expect(parseStrictJson(`${'['.repeat(8)}${']'.repeat(8)}`, 8)).toBeDefined();
    expect(fieldOf(() => parseStrictJson('{"a":NaN}', 8))).toBe('body');
  });
});

describe('request schemas', () => {
  const valid = { settlementId: 's-1', payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: '1.00', currency: 'EUR', rail: 'SEPA', kind: 'DOMESTIC', valueDate: '2026-11-25', reference: 'r' };

  it.each([
    ['an unknown field', { ...valid, colour: 'red' }, 'colour'],
    ['a missing field', { ...valid, amount: undefined }, 'amount'],
    ['a number for an amount', { ...valid, amount: 1 }, 'amount'],
    ['a 65-character id', { ...valid, settlementId: 'x'.repeat(65) }, 'settlementId'],
    ['February 30', { ...valid, valueDate: '2026-02-30' }, 'valueDate'],
    ['a NUL in the reference', { ...valid, reference: 'a\u0000b' }, 'reference'],
    ['a lower-case BIC', { ...valid, payerBic: 'deutdeff' }, 'payerBic'],
    ['an array', [valid], 'body'],
  ])('names the field for %s', (_label, body, field) => {
    expect(fieldOf(() => validatePart(settlementRequestBody, body, 'body'))).toBe(field);
  });

  it('refuses impossible instants and malformed account ids', () => {
    expect(fieldOf(() => validatePart(isoInstant, '2026-02-30T00:00:00Z', 'from'))).toBe('from');
    expect(fieldOf(() => validatePart(isoInstant, '2026-03-01T24:00:00Z', 'from'))).toBe('from');
    expect(fieldOf(() => instant('2026-02-30T00:00:00Z', 'from'))).toBe('from');
    expect(fieldOf(() => validatePart(accountId, `VOSTRO#${'A'.repeat(2000)}#EUR`, 'accountId'))).toBe('accountId');
  });
});

describe('one identity per bank', () => {
  it('normalizes the XXX branch form to the 8-character BIC, everywhere a BIC comes in', () => {
    expect(parseBic('DEUTDEFFXXX', 'bic')).toBe('DEUTDEFF');
    expect(normalizeBic('DEUTDEFF500')).toBe('DEUTDEFF500');
    expect(parseAccountId('VOSTRO#DEUTDEFFXXX#EUR')).toBe('VOSTRO#DEUTDEFF#EUR');
  });

  it('refuses control and invisible characters in free text', () => {
    for (const text of ['a\u0000b', 'a\u001bb', 'a\u200bb', 'a\u202eb', 'a\u2028b']) expect(fieldOf(() => checkFreeText(text, 'name'))).toBe('name');
    expect(checkFreeText('Crédit Agricole – Société Générale', 'name')).toBeDefined();
  });
});

describe('value-date windows', () => {
  const today = new Date('2026-12-01T10:00:00Z'); // a Tuesday

  it('counts business days (Monday to Friday) back and ahead', () => {
    expect(addBusinessDays('2026-12-01', -2)).toBe('2026-11-27');
    expect(addBusinessDays('2026-12-04', 1)).toBe('2026-12-07');
    expect(addBusinessDays('2026-12-01', 0)).toBe('2026-12-01');
  });

  it('accepts dates inside the window and refuses those outside, naming valueDate', () => {
    const window = { businessDaysBack: 2, businessDaysAhead: 5 };
    expect(() => checkValueDate('2026-11-27', today, window)).not.toThrow();
    expect(() => checkValueDate('2026-12-08', today, window)).not.toThrow();
    expect(fieldOf(() => checkValueDate('2026-11-26', today, window))).toBe('valueDate');
    expect(fieldOf(() => checkValueDate('2026-12-09', today, window))).toBe('valueDate');
  });

  it('takes the most specific configured window: rail/currency, rail, currency, then *', () => {
    const windows = parseValueDateWindows('*=5:30,SEPA=1:10,EUR=3:20,SWIFT/USD=0:2');
    expect(valueDateWindowFor(windows, 'SWIFT', 'USD')).toEqual({ businessDaysBack: 0, businessDaysAhead: 2 });
    expect(valueDateWindowFor(windows, 'SEPA', 'EUR')).toEqual({ businessDaysBack: 1, businessDaysAhead: 10 });
    expect(valueDateWindowFor(windows, 'SWIFT', 'EUR')).toEqual({ businessDaysBack: 3, businessDaysAhead: 20 });
    expect(valueDateWindowFor(windows, 'ACH', 'USD')).toEqual({ businessDaysBack: 5, businessDaysAhead: 30 });
    expect(() => parseValueDateWindows('SEPA=1')).toThrow(/VALUE_DATE_WINDOWS/);
  });
});
