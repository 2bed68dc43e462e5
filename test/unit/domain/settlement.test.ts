import { ValidationError } from '../../../lambdas/domain/errors';
import { allowedTransitions, canTransition, isTerminal, parseSettlementRequest, requireIbans, settlementStatuses } from '../../../lambdas/domain/settlement';

const valid = {
  settlementId: 'obl-2026-0001',
  payerBic: 'DEUTDEFF',
  payeeBic: 'BNPAFRPPXXX',
  amount: '1250.5',
  currency: 'EUR',
  rail: 'SEPA',
  kind: 'DOMESTIC',
  valueDate: '2026-11-25',
  reference: 'Invoice 42',
};

function fieldOf(input: unknown): string | undefined {
  try {
    parseSettlementRequest(input);
    return undefined;
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    throw error;
  }
}

describe('settlement request', () => {
  it('parses a valid request and canonicalises the amount to the minor units and the BIC to its 8-character form', () => {
    expect(parseSettlementRequest(valid)).toEqual({ ...valid, amount: '1250.50', payeeBic: 'BNPAFRPP' });
  });

  it.each([
    ['settlementId', { settlementId: '' }],
    ['settlementId', { settlementId: 'has space' }],
    ['settlementId', { settlementId: 'x'.repeat(65) }],
    ['payerBic', { payerBic: 'DEUTDEF' }],
    ['payerBic', { payerBic: 'deutdeff' }],
    ['payerBic', { payerBic: 'DЕUTDEFF' }], // Cyrillic Е
    ['payeeBic', { payeeBic: 'DEUTDEFF' }],
    ['amount', { amount: 12.5 }],
    ['amount', { amount: '12.505' }],
    ['currency', { currency: 'EURO' }],
    ['currency', { rail: 'SEPA', currency: 'USD' }],
    ['rail', { rail: 'FEDWIRE' }],
    ['kind', { kind: 'domestic' }],
    ['valueDate', { valueDate: '2026-02-30' }],
    ['valueDate', { valueDate: '25/11/2026' }],
    ['reference', { reference: '' }],
    ['reference', { reference: 'line\nbreak' }],
    ['reference', { reference: 'r'.repeat(141) }],
    ['surprise', { surprise: true }],
    ['payerIban', { payerIban: 'DE89370400440532013001' }], // check digits wrong
    ['payerIban', { payerIban: 'DE89 3704 0044 0532 0130 00' }], // printed form, not electronic
    ['payerIban', { payerIban: 'de89370400440532013000' }],
    ['payerIban', { payerIban: 'XX89370400440532013000' }],
    ['payeeIban', { payeeIban: 'FR1420041010050500013M02607' }],
    ['payeeIban', { payeeIban: 123 }],
    ['payeeIban', { payerIban: 'DE89370400440532013000', payeeIban: 'DE89370400440532013000' }],
  ])('names the bad field %s', (field, override) => {
    expect(fieldOf({ ...valid, ...override })).toBe(field);
  });

  it('keeps valid IBANs of payer and payee', () => {
    const ibans = { payerIban: 'DE89370400440532013000', payeeIban: 'FR1420041010050500013M02606' };
    expect(parseSettlementRequest({ ...valid, ...ibans })).toMatchObject(ibans);
  });

  it('requires both IBANs on a rail that names accounts by IBAN, and only there', () => {
    const request = parseSettlementRequest(valid);
    const missing = (rails: readonly ('SEPA' | 'SWIFT')[], extra = {}) => {
      try {
        requireIbans({ ...request, ...extra }, rails);
        return undefined;
      } catch (error) {
        return (error as ValidationError).field;
      }
    };
    expect(missing(['SEPA'])).toBe('payerIban');
    expect(missing(['SEPA'], { payerIban: 'DE89370400440532013000' })).toBe('payeeIban');
    expect(missing(['SEPA'], { payerIban: 'DE89370400440532013000', payeeIban: 'FR1420041010050500013M02606' })).toBeUndefined();
    expect(missing(['SWIFT'])).toBeUndefined();
  });

  it.each([[null], [[]], ['text'], [42]])('refuses a body that is not an object: %p', (body) => {
    expect(fieldOf(body)).toBe('body');
  });
});

describe('settlement statuses', () => {
  it('allows only the lifecycle transitions of the design', () => {
    expect(canTransition('PENDING', 'VALIDATED')).toBe(true);
    expect(canTransition('CONFIRMED', 'COMPLETED')).toBe(true);
    expect(canTransition('PENDING', 'COMPLETED')).toBe(false);
    expect(canTransition('COMPLETED', 'ROLLING_BACK')).toBe(false);
    // A confirmed transfer is never simply rolled back: money left, so it is compensated.
    expect(canTransition('CONFIRMED', 'ROLLING_BACK')).toBe(false);
  });

  it('ends every status in a terminal one', () => {
    const reachesTerminal = (status: (typeof settlementStatuses)[number], seen = new Set<string>()): boolean => {
      if (isTerminal(status)) return true;
      seen.add(status);
      return allowedTransitions[status].some((next) => !seen.has(next) && reachesTerminal(next, seen));
    };
    for (const status of settlementStatuses) expect([status, reachesTerminal(status)]).toEqual([status, true]);
  });
});
