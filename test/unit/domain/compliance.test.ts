/**
 * Compliance checks: sanctions screening by BIC and name against a list in the OFAC SDN.CSV layout, amount limits,
 * and the net debit cap.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertCompliant, screen, type CompliancePolicy } from '../../../lambdas/domain/compliance';
import { Money } from '../../../lambdas/domain/money';
import { loadCompliancePolicy, parseSdnCsv } from '../../../lambdas/adapters/compliance/policy-file';

const list = parseSdnCsv(readFileSync(join(__dirname, '../../../config/sanctions/sdn-sample.csv'), 'utf8'), 'sdn-sample.csv');
const policy = (overrides: Partial<CompliancePolicy> = {}): CompliancePolicy => ({ sanctions: list, amountLimitPerCurrency: {}, amountLimitPerBank: {}, netDebitCaps: {}, ...overrides });
const facts = { payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: new Money('1000.00'), currency: 'EUR', payerHeld: new Money('0') };

describe('sanctions screening', () => {
  it('reads the BICs an SDN entry names in its remarks', () => {
    expect(list.parties.find((party) => party.name === 'BANK MELLI IRAN')).toMatchObject({ entryId: '9647', bics: ['MELIIRTH'], programs: expect.arrayContaining(['IRAN', 'NPWMD']) });
  });

  it('matches a BIC by its institution code, branch or not', () => {
    expect(screen(list, 'MELIIRTHXXX')?.entryId).toBe('9647');
    expect(screen(list, 'DEUTDEFF')).toBeUndefined();
  });

  it('matches a registered bank name whatever its case and punctuation', () => {
    expect(screen(list, 'ABCDDEFF', 'Bank  Sepah')?.entryId).toBe('9649');
  });

  it('refuses the payee with COMPLIANCE.SANCTIONS_HIT', () => {
    expect(() => assertCompliant(policy(), { ...facts, payeeBic: 'SEPBIRTH' })).toThrow(expect.objectContaining({ name: 'SanctionsHitError', code: 'COMPLIANCE.SANCTIONS_HIT', role: 'payee' }));
  });
});

describe('amount limits and the net debit cap', () => {
  it('refuses an amount above the per-currency limit, accepts one at it', () => {
    const limited = policy({ amountLimitPerCurrency: { EUR: new Money('1000.00') } });
    expect(() => assertCompliant(limited, facts)).not.toThrow();
    expect(() => assertCompliant(limited, { ...facts, amount: new Money('1000.01') })).toThrow(expect.objectContaining({ code: 'COMPLIANCE.AMOUNT_LIMIT_EXCEEDED' }));
  });

  it('refuses an amount above a bank limit of the payee', () => {
    expect(() => assertCompliant(policy({ amountLimitPerBank: { BNPAFRPP: { EUR: new Money('500') } } }), facts)).toThrow(expect.objectContaining({ name: 'AmountLimitExceededError' }));
  });

  it('refuses when the payer’s held amount plus this one passes its net debit cap', () => {
    const capped = policy({ netDebitCaps: { DEUTDEFF: { EUR: new Money('5000.00') } } });
    expect(() => assertCompliant(capped, { ...facts, payerHeld: new Money('4000.00') })).not.toThrow();
    expect(() => assertCompliant(capped, { ...facts, payerHeld: new Money('4000.01') })).toThrow(expect.objectContaining({ code: 'COMPLIANCE.NET_DEBIT_CAP_EXCEEDED' }));
  });

  it('loads the shipped policy file', () => {
    expect(loadCompliancePolicy().sanctions.parties.length).toBe(4);
  });
});
