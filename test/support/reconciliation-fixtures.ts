/** Builders for reconciliation tests: ledger entries, statements built from them, and a collecting sink. */
import { Money, formatAmount } from '../../lambdas/domain/money';
import { reconcile, type Discrepancy, type LedgerEntryView, type PendingLockView, type ReconciliationInput } from '../../lambdas/domain/reconciliation';
import type { Statement, StatementEntry } from '../../lambdas/ports/bank';

export const accountId = 'NOSTRO#DEUTDEFF#EUR';
export const currency = 'EUR';

export function ledgerEntry(settlementId: string, amount: string, overrides: Partial<LedgerEntryView> = {}): LedgerEntryView {
  const postedAt = overrides.postedAt ?? '2025-03-10T10:00:00.000Z';
  return { entryKey: `${postedAt}#${settlementId}#PAYOUT`, settlementId, amount, currency, valueDate: '2025-03-10', postedAt, ...overrides };
}

/** What the bank books for a ledger entry: same reference, amount and value date. */
export function bankEntryFor(entry: LedgerEntryView, index: number): StatementEntry {
  return { entryReference: `BNK-${String(index + 1).padStart(6, '0')}`, endToEndId: entry.settlementId, amount: entry.amount, currency: entry.currency, bookingDate: entry.postedAt.slice(0, 10), valueDate: entry.valueDate };
}

export function sum(amounts: readonly string[]): string {
  return formatAmount(amounts.reduce((total, amount) => total.plus(amount), new Money(0)), currency);
}

export async function* stream<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/** A statement with the given entries whose closing balance adds up (unless `closingBalance` says otherwise). */
export function statementOf(openingBalance: string, entries: readonly StatementEntry[], closingBalance?: string): Statement {
  return { accountId, currency, openingBalance, closingBalance: closingBalance ?? sum([openingBalance, ...entries.map((entry) => entry.amount)]), entries: stream(entries) };
}

export interface ReconcileFixture {
  ledger: readonly LedgerEntryView[];
  ledgerOpeningBalance?: string;
  ledgerClosingBalance?: string;
  statement: Statement;
  locks?: readonly PendingLockView[];
  asOf?: string;
  unmatchedEntriesMax?: number;
}

/** Runs the engine over in-memory sources and collects the discrepancies it reports. */
export async function runReconciliation(fixture: ReconcileFixture) {
  const discrepancies: Discrepancy[] = [];
  const input: ReconciliationInput = {
    accountId,
    currency,
    periodFrom: '2025-03-10T00:00:00.000Z',
    periodTo: '2025-03-10T23:59:59.999Z',
    asOf: fixture.asOf ?? '2025-03-11T00:00:00.000Z',
    ...(fixture.ledgerClosingBalance !== undefined ? { ledgerClosingBalance: fixture.ledgerClosingBalance } : { ledgerOpeningBalance: fixture.ledgerOpeningBalance ?? fixture.statement.openingBalance }),
    ledger: stream(fixture.ledger),
    statement: fixture.statement,
    pendingLocks: fixture.locks ?? [],
    onDiscrepancy: (discrepancy) => {
      discrepancies.push(discrepancy);
    },
    unmatchedEntriesMax: fixture.unmatchedEntriesMax,
  };
  const summary = await reconcile(input);
  return { summary, discrepancies };
}
