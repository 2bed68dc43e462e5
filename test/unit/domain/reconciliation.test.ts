import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { camt053Statement } from '../../../lambdas/adapters/statements/camt053';
import { InvariantViolationError } from '../../../lambdas/domain/errors';
import { Money, formatAmount } from '../../../lambdas/domain/money';
import { DiscrepancyKind, discrepancyKinds, type DiscrepancyKind as Kind, type LedgerEntryView, type PendingLockView, type ReconciliationSummary } from '../../../lambdas/domain/reconciliation';
import { ReconciliationTooLargeError, StatementInvalidError } from '../../../lambdas/domain/operations-errors';
import type { StatementEntry } from '../../../lambdas/ports/bank';
import { accountId, bankEntryFor, currency, ledgerEntry, runReconciliation, statementOf, stream, sum } from '../../support/reconciliation-fixtures';

/** The engine's side of the EUR statement in test/fixtures/camt053-sample.xml. */
const ledger: readonly LedgerEntryView[] = [
  ledgerEntry('stl-20250310-0001', '-1250.00', { postedAt: '2025-03-10T09:01:12.000Z' }),
  ledgerEntry('stl-20250310-0002', '-98000.50', { postedAt: '2025-03-10T09:14:40.000Z' }),
  ledgerEntry('mov-20250310-0001', '250000.00', { postedAt: '2025-03-10T10:42:17.000Z', entryKey: '2025-03-10T10:42:17.000Z#mov-20250310-0001#FUND_IN' }),
  ledgerEntry('stl-20250310-0003', '-1500.00', { postedAt: '2025-03-10T14:03:00.000Z' }),
  // DynamoDB numbers come back without trailing zeros: the engine compares values, not spellings.
  ledgerEntry('stl-20250310-0004', '-2000', { postedAt: '2025-03-10T14:03:00.001Z' }),
];
const opening = '1500000.00';
const cleanBank = (): StatementEntry[] => ledger.map(bankEntryFor).map((entry) => ({ ...entry, amount: formatAmount(new Money(entry.amount), currency) }));

function counts(summary: ReconciliationSummary): Partial<Record<Kind, number>> {
  return Object.fromEntries(discrepancyKinds.filter((kind) => summary.discrepancies[kind].count > 0).map((kind) => [kind, summary.discrepancies[kind].count]));
}

const lock = (settlementId: string, amount: string, expiresAt: string, settlementStatus: PendingLockView['settlementStatus']): PendingLockView => ({ settlementId, accountId, amount, currency, expiresAt, settlementStatus });

describe('reconcile', () => {
  it('reconciles a clean period to zero discrepancies', async () => {
    const { summary, discrepancies } = await runReconciliation({ ledger, statement: statementOf(opening, cleanBank()) });
    expect(discrepancies).toEqual([]);
    expect(summary).toMatchObject({
      accountId,
      currency,
      ledgerEntryCount: 5,
      bankEntryCount: 5,
      matched: { count: 5, total: '147249.50', grossTotal: '352750.50' },
      offsetting: { count: 0, total: '0.00' },
      discrepancyCount: 0,
      balances: { ledgerOpening: '1500000.00', ledgerClosing: '1647249.50', bankOpening: '1500000.00', bankClosing: '1647249.50', closingDifference: '0.00', unexplainedDifference: '0.00' },
    });
    expect(discrepancyKinds.every((kind) => summary.discrepancies[kind].count === 0 && summary.discrepancies[kind].total === '0.00')).toBe(true);
  });

  it('imports the camt.053 sample and matches it against the ledger', async () => {
    const sample = readFileSync(join(__dirname, '../../fixtures/camt053-sample.xml'));
    const statement = await camt053Statement(() => [sample], { accountId, currency });
    const { summary, discrepancies } = await runReconciliation({ ledger, statement });
    expect(discrepancies).toEqual([]);
    expect(summary).toMatchObject({ matched: { count: 5, total: '147249.50' }, discrepancyCount: 0, balances: { bankClosing: '1647249.50', closingDifference: '0.00' } });
  });

  describe('finds each kind of discrepancy injected alone', () => {
    it('an entry missing at the bank (the balance difference it explains is not counted twice)', async () => {
      const bank = cleanBank().filter((entry) => entry.endToEndId !== 'stl-20250310-0002');
      const { summary, discrepancies } = await runReconciliation({ ledger, statement: statementOf(opening, bank) });
      expect(counts(summary)).toEqual({ MISSING_AT_BANK: 1 });
      expect(summary.discrepancies.MISSING_AT_BANK).toEqual({ count: 1, total: '-98000.50', grossTotal: '98000.50' });
      expect(discrepancies).toEqual([
        { kind: 'MISSING_AT_BANK', reference: 'stl-20250310-0002', amount: '-98000.50', ledgerEntryKey: '2025-03-10T09:14:40.000Z#stl-20250310-0002#PAYOUT', ledgerAmount: '-98000.50', ledgerValueDate: '2025-03-10', detail: 'posted in the ledger, not on the statement' },
      ]);
      expect(summary.balances).toMatchObject({ closingDifference: '98000.50', explainedDifference: '98000.50', unexplainedDifference: '0.00' });
      expect(summary.matched.count).toBe(4);
    });

    it('an entry missing in the ledger (a bank fee without reference)', async () => {
      const fee: StatementEntry = { entryReference: 'DEUT-FEE-1', endToEndId: 'NOTPROVIDED', amount: '-25.00', currency, bookingDate: '2025-03-10', valueDate: '2025-03-10' };
      const { summary, discrepancies } = await runReconciliation({ ledger, statement: statementOf(opening, [...cleanBank(), fee]) });
      expect(counts(summary)).toEqual({ MISSING_IN_LEDGER: 1 });
      expect(summary.discrepancies.MISSING_IN_LEDGER).toEqual({ count: 1, total: '-25.00', grossTotal: '25.00' });
      expect(discrepancies[0]).toMatchObject({ kind: 'MISSING_IN_LEDGER', reference: 'NOTPROVIDED', bankEntryReference: 'DEUT-FEE-1', bankAmount: '-25.00' });
    });

    it('an amount mismatch, totalled as bank minus ledger', async () => {
      const bank = cleanBank().map((entry) => (entry.endToEndId === 'stl-20250310-0001' ? { ...entry, amount: '-1205.00' } : entry));
      const { summary, discrepancies } = await runReconciliation({ ledger, statement: statementOf(opening, bank) });
      expect(counts(summary)).toEqual({ AMOUNT_MISMATCH: 1 });
      expect(summary.discrepancies.AMOUNT_MISMATCH).toEqual({ count: 1, total: '45.00', grossTotal: '45.00' });
      expect(discrepancies[0]).toMatchObject({ reference: 'stl-20250310-0001', ledgerAmount: '-1250.00', bankAmount: '-1205.00', amount: '45.00', detail: '-1250.00 in the ledger, -1205.00 at the bank' });
    });

    it('a value-date mismatch', async () => {
      const bank = cleanBank().map((entry) => (entry.endToEndId === 'stl-20250310-0003' ? { ...entry, valueDate: '2025-03-11' } : entry));
      const { summary, discrepancies } = await runReconciliation({ ledger, statement: statementOf(opening, bank) });
      expect(counts(summary)).toEqual({ VALUE_DATE_MISMATCH: 1 });
      expect(summary.discrepancies.VALUE_DATE_MISMATCH).toEqual({ count: 1, total: '-1500.00', grossTotal: '1500.00' });
      expect(discrepancies[0]).toMatchObject({ ledgerValueDate: '2025-03-10', bankValueDate: '2025-03-11', detail: 'value date 2025-03-10 in the ledger, 2025-03-11 at the bank' });
    });

    it('a closing-balance mismatch: a statement that does not add up', async () => {
      const { summary, discrepancies } = await runReconciliation({ ledger, statement: statementOf(opening, cleanBank(), '1647249.60') });
      expect(counts(summary)).toEqual({ CLOSING_BALANCE_MISMATCH: 1 });
      expect(summary.discrepancies.CLOSING_BALANCE_MISMATCH).toEqual({ count: 1, total: '0.10', grossTotal: '0.10' });
      expect(summary.balances).toMatchObject({ closingDifference: '0.10', unexplainedDifference: '0.10', statementInconsistency: '0.10', openingDifference: '0.00' });
      expect(discrepancies[0]).toMatchObject({ kind: 'CLOSING_BALANCE_MISMATCH', reference: accountId, amount: '0.10' });
    });

    it('a closing-balance mismatch: a difference carried over in the opening balances', async () => {
      const { summary } = await runReconciliation({ ledger, ledgerOpeningBalance: '1500001.00', statement: statementOf(opening, cleanBank()) });
      expect(counts(summary)).toEqual({ CLOSING_BALANCE_MISMATCH: 1 });
      expect(summary.balances).toMatchObject({ openingDifference: '-1.00', unexplainedDifference: '-1.00', ledgerClosing: '1647250.50' });
    });

    it('stale locks: past expiry, or on a settlement that has ended; a live lock is not reported', async () => {
      const locks = [
        lock('stl-20250310-0007', '500.00', '2025-03-10T12:00:00.000Z', 'LOCKED'),
        lock('stl-20250310-0008', '300', '2025-03-12T00:00:00.000Z', 'COMPLETED'),
        lock('stl-20250310-0009', '700.00', '2025-03-11T00:05:00.000Z', 'TRANSFER_INITIATED'),
      ];
      const { summary, discrepancies } = await runReconciliation({ ledger, statement: statementOf(opening, cleanBank()), locks });
      expect(counts(summary)).toEqual({ STALE_LOCK: 2 });
      expect(summary.discrepancies.STALE_LOCK).toEqual({ count: 2, total: '800.00', grossTotal: '800.00' });
      expect(summary.pendingLockCount).toBe(3);
      expect(discrepancies.map((discrepancy) => [discrepancy.reference, discrepancy.staleLockReason])).toEqual([
        ['stl-20250310-0007', 'EXPIRED'],
        ['stl-20250310-0008', 'TERMINAL_SETTLEMENT'],
      ]);
    });
  });

  it('finds every kind injected together, with exact counts and totals', async () => {
    const fee: StatementEntry = { entryReference: 'DEUT-FEE-1', endToEndId: 'NOTPROVIDED', amount: '-25.00', currency, bookingDate: '2025-03-10', valueDate: '2025-03-10' };
    const bank = cleanBank()
      .filter((entry) => entry.endToEndId !== 'stl-20250310-0002')
      .map((entry) => (entry.endToEndId === 'stl-20250310-0001' ? { ...entry, amount: '-1205.00' } : entry))
      .map((entry) => (entry.endToEndId === 'stl-20250310-0003' ? { ...entry, valueDate: '2025-03-11' } : entry));
    bank.push(fee);
    const bankClosing = sum([opening, ...bank.map((entry) => entry.amount), '0.10']);
    const locks = [lock('stl-20250310-0007', '500.00', '2025-03-10T12:00:00.000Z', 'LOCKED'), lock('stl-20250310-0008', '300.00', '2025-03-12T00:00:00.000Z', 'FAILED'), lock('stl-20250310-0009', '700.00', '2025-03-12T00:00:00.000Z', 'LOCKED')];
    const { summary, discrepancies } = await runReconciliation({ ledger, ledgerOpeningBalance: '1499999.00', statement: statementOf(opening, bank, bankClosing), locks });
    expect(summary.discrepancies).toEqual({
      MISSING_AT_BANK: { count: 1, total: '-98000.50', grossTotal: '98000.50' },
      MISSING_IN_LEDGER: { count: 1, total: '-25.00', grossTotal: '25.00' },
      AMOUNT_MISMATCH: { count: 1, total: '45.00', grossTotal: '45.00' },
      VALUE_DATE_MISMATCH: { count: 1, total: '-1500.00', grossTotal: '1500.00' },
      CLOSING_BALANCE_MISMATCH: { count: 1, total: '1.10', grossTotal: '1.10' },
      STALE_LOCK: { count: 2, total: '800.00', grossTotal: '800.00' },
    });
    expect(summary.discrepancyCount).toBe(7);
    expect(discrepancies).toHaveLength(7);
    expect(summary.matched).toEqual({ count: 2, total: '248000.00', grossTotal: '252000.00' });
    expect(summary.balances).toEqual({
      ledgerOpening: '1499999.00',
      ledgerClosing: '1647248.50',
      bankOpening: '1500000.00',
      bankClosing: '1745270.10',
      closingDifference: '98021.60',
      explainedDifference: '98020.50',
      unexplainedDifference: '1.10',
      openingDifference: '1.00',
      statementInconsistency: '0.10',
    });
  });

  it('counts a transfer and its reversal at the bank as offsetting, not as discrepancies', async () => {
    const sent: StatementEntry = { entryReference: 'R-1', endToEndId: 'stl-20250310-0099', amount: '-640.00', currency, bookingDate: '2025-03-10', valueDate: '2025-03-10' };
    const reversed: StatementEntry = { ...sent, entryReference: 'R-2', amount: '640.00' };
    const { summary } = await runReconciliation({ ledger, statement: statementOf(opening, [...cleanBank(), sent, reversed]) });
    expect(summary.discrepancyCount).toBe(0);
    expect(summary.offsetting).toEqual({ count: 2, total: '0.00', grossTotal: '1280.00' });
  });

  it('matches entries of one reference pairwise: a re-sent transfer after a reversal matches the ledger', async () => {
    const resent = ledgerEntry('stl-20250310-0100', '-640.00', { valueDate: '2025-03-11' });
    const bank: StatementEntry[] = [
      { entryReference: 'R-1', endToEndId: 'stl-20250310-0100', amount: '-640.00', currency, bookingDate: '2025-03-10', valueDate: '2025-03-10' },
      { entryReference: 'R-2', endToEndId: 'stl-20250310-0100', amount: '640.00', currency, bookingDate: '2025-03-10', valueDate: '2025-03-10' },
      { entryReference: 'R-3', endToEndId: 'stl-20250310-0100', amount: '-640.00', currency, bookingDate: '2025-03-10', valueDate: '2025-03-11' },
    ];
    const { summary } = await runReconciliation({ ledger: [resent], statement: statementOf('0.00', bank) });
    expect(summary).toMatchObject({ discrepancyCount: 0, matched: { count: 1 }, offsetting: { count: 2 } });
  });

  it('holds only the entries waiting for a counterpart when both sides are in time order', async () => {
    const days = 20;
    const perDay = 500;
    const many = Array.from({ length: days * perDay }, (_, index) => {
      const day = String(1 + Math.floor(index / perDay)).padStart(2, '0');
      return ledgerEntry(`stl-${index}`, `-${1 + (index % 997)}.25`, { postedAt: `2025-03-${day}T10:00:00.000Z`, valueDate: `2025-03-${day}` });
    });
    // The bank books the same entries, a few positions out of order within each day.
    const bank = many.map(bankEntryFor);
    for (let index = 0; index + 3 < bank.length; index += 7) [bank[index], bank[index + 3]] = [bank[index + 3], bank[index]];
    const { summary } = await runReconciliation({ ledger: many, ledgerOpeningBalance: '0.00', statement: statementOf('0.00', bank), unmatchedEntriesMax: 50 });
    expect(summary).toMatchObject({ matched: { count: days * perDay }, discrepancyCount: 0 });
    expect(summary.unmatchedEntriesPeak).toBeLessThanOrEqual(8);
  });

  it('stops with a typed error instead of holding more unmatched entries than its limit', async () => {
    const many = Array.from({ length: 100 }, (_, index) => ledgerEntry(`stl-${index}`, '-1.00'));
    const unrelated = many.map((entry, index) => ({ ...bankEntryFor(entry, index), endToEndId: `other-${index}` }));
    await expect(runReconciliation({ ledger: many, statement: statementOf('0.00', unrelated), unmatchedEntriesMax: 50 })).rejects.toBeInstanceOf(ReconciliationTooLargeError);
  });

  it('refuses a statement for another currency or with a malformed amount', async () => {
    await expect(runReconciliation({ ledger, statement: { ...statementOf(opening, cleanBank()), currency: 'USD' } })).rejects.toBeInstanceOf(StatementInvalidError);
    const bad = cleanBank().map((entry, index) => (index === 2 ? { ...entry, amount: '1.001' } : entry));
    await expect(runReconciliation({ ledger, statement: { ...statementOf(opening, cleanBank()), entries: stream(bad) } })).rejects.toThrow('statement entry BNK-000003: amount "1.001" is not a EUR amount');
  });

  it('treats a ledger entry in another currency as corrupt data', async () => {
    const wrong = [...ledger, ledgerEntry('stl-x', '-1.00', { currency: 'USD' })];
    await expect(runReconciliation({ ledger: wrong, statement: statementOf(opening, cleanBank()) })).rejects.toBeInstanceOf(InvariantViolationError);
  });
});

describe('reconcile (properties)', () => {
  const minorAmount = fc.integer({ min: -5_000_000, max: 5_000_000 }).filter((value) => value !== 0);
  const toAmount = (minor: number) => formatAmount(new Money(minor).dividedBy(100), currency);
  const ledgerArbitrary = fc
    .array(fc.record({ minor: minorAmount, day: fc.integer({ min: 1, max: 3 }), second: fc.integer({ min: 0, max: 86_399 }) }), { minLength: 1, maxLength: 40 })
    .map((rows) =>
      rows
        .map((row, index) => {
          const date = `2025-03-0${row.day}`;
          const postedAt = new Date(Date.parse(`${date}T00:00:00.000Z`) + row.second * 1000).toISOString();
          return ledgerEntry(`stl-${index}`, toAmount(row.minor), { postedAt, valueDate: date, entryKey: `${postedAt}#stl-${index}#PAYOUT` });
        })
        .sort((a, b) => a.entryKey.localeCompare(b.entryKey)),
    );
  const openingArbitrary = fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).map(toAmount);

  it('reconciles a statement built from the ledger clean, in any bank order', async () => {
    await fc.assert(
      fc.asyncProperty(ledgerArbitrary, openingArbitrary, fc.boolean(), async (entries, openingBalance, reverse) => {
        const bank = entries.map(bankEntryFor);
        if (reverse) bank.reverse();
        const { summary } = await runReconciliation({ ledger: entries, ledgerOpeningBalance: openingBalance, statement: statementOf(openingBalance, bank) });
        expect(summary.discrepancyCount).toBe(0);
        expect(summary.matched.count).toBe(entries.length);
        expect(summary.matched.total).toBe(sum(entries.map((entry) => entry.amount)));
      }),
      { numRuns: 150 },
    );
  });

  const mutationKinds = ['drop', 'add', 'amount', 'valueDate', 'closing', 'staleLock'] as const;
  const expectedKind: Record<(typeof mutationKinds)[number], Kind> = {
    drop: DiscrepancyKind.missingAtBank,
    add: DiscrepancyKind.missingInLedger,
    amount: DiscrepancyKind.amountMismatch,
    valueDate: DiscrepancyKind.valueDateMismatch,
    closing: DiscrepancyKind.closingBalanceMismatch,
    staleLock: DiscrepancyKind.staleLock,
  };

  it('turns a single mutation of a consistent statement into exactly one discrepancy of the right kind', async () => {
    await fc.assert(
      fc.asyncProperty(ledgerArbitrary, openingArbitrary, fc.constantFrom(...mutationKinds), fc.nat(), minorAmount, async (entries, openingBalance, mutation, at, delta) => {
        let bank = entries.map(bankEntryFor);
        const index = at % bank.length;
        let closingBalance: string | undefined;
        const locks: PendingLockView[] = [];
        switch (mutation) {
          case 'drop':
            bank = bank.filter((_, position) => position !== index);
            break;
          case 'add':
            bank.splice(index, 0, { entryReference: 'EXTRA', endToEndId: 'not-in-ledger', amount: toAmount(delta), currency, bookingDate: bank[index].bookingDate, valueDate: bank[index].valueDate });
            break;
          case 'amount':
            bank[index] = { ...bank[index], amount: formatAmount(new Money(bank[index].amount).plus(toAmount(delta)), currency) };
            break;
          case 'valueDate':
            bank[index] = { ...bank[index], valueDate: '2025-03-09' };
            break;
          case 'closing':
            closingBalance = sum([openingBalance, ...bank.map((entry) => entry.amount), toAmount(delta)]);
            break;
          case 'staleLock':
            locks.push(lock(entries[index].settlementId, toAmount(Math.abs(delta)), '2025-03-04T00:00:00.000Z', 'LOCKED'));
            break;
        }
        const { summary, discrepancies } = await runReconciliation({ ledger: entries, ledgerOpeningBalance: openingBalance, statement: statementOf(openingBalance, bank, closingBalance), locks, asOf: '2025-03-05T00:00:00.000Z' });
        expect(discrepancies.map((discrepancy) => discrepancy.kind)).toEqual([expectedKind[mutation]]);
        expect(summary.discrepancyCount).toBe(1);
        expect(summary.matched.count).toBe(mutation === 'drop' || mutation === 'amount' || mutation === 'valueDate' ? entries.length - 1 : entries.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('reconcile (ledger closing balance)', () => {
  it('derives the ledger opening from the closing balance a store knows', async () => {
    const statement = statementOf(opening, cleanBank());
    const { summary } = await runReconciliation({ ledger, statement, ledgerClosingBalance: '1647249.50' });
    expect(summary).toMatchObject({ discrepancyCount: 0, balances: { ledgerOpening: '1500000.00', ledgerClosing: '1647249.50' } });
  });
});
