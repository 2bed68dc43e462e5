/**
 * Reconciliation matching benchmark: 10,000 and 100,000 ledger entries against a statement of the same length,
 * in-memory sources generated lazily (nothing is materialised up front), so the heap figure is the engine's own.
 *
 *   npx tsx bench/reconciliation.ts [sizes...]          e.g. `npx tsx bench/reconciliation.ts 10000 100000`
 *   node --expose-gc --import tsx bench/reconciliation.ts   (a GC before each run gives a steadier heap baseline)
 *
 * The bank books each entry in the same order as the ledger with local swaps (a few positions apart, as bank
 * booking order really differs), and one entry in a thousand carries a discrepancy (missing on either side, amount,
 * value date). Prints, per size: wall time, entries per second, peak heap above the baseline, the most entries
 * that waited for a counterpart at once, and the discrepancy count. Not a test: figures depend on the machine.
 */
import { Money, formatAmount } from '../lambdas/domain/money';
import { reconcile, type LedgerEntryView } from '../lambdas/domain/reconciliation';
import type { StatementEntry } from '../lambdas/ports/bank';

const currency = 'EUR';
const accountId = 'NOSTRO#DEUTDEFF#EUR';
/** One entry in this many carries an injected discrepancy. */
const discrepancyEvery = 1000;
/** The bank swaps neighbours this far apart. */
const bookingSkewEntries = 5;
const heapSampleEvery = 500;

export interface ReconciliationBenchResult {
  readonly entries: number;
  readonly milliseconds: number;
  readonly entriesPerSecond: number;
  readonly heapPeakMegabytes: number;
  readonly unmatchedEntriesPeak: number;
  readonly discrepancies: number;
}

/** Amounts in cents, formatted without decimal arithmetic so the generator costs little next to the engine. */
function amountOf(index: number): string {
  const cents = 1 + (index % 99_991);
  return `-${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

function postedAtOf(index: number, count: number): string {
  // Spread over one business day, in order.
  return new Date(Date.parse('2025-03-10T06:00:00.000Z') + Math.floor((index * 12 * 3600 * 1000) / count)).toISOString();
}

async function* ledgerEntries(count: number, sampleHeap: () => void): AsyncGenerator<LedgerEntryView> {
  for (let index = 0; index < count; index++) {
    if (index % heapSampleEvery === 0) sampleHeap();
    if (index % discrepancyEvery === 7) continue; // missing in the ledger
    const postedAt = postedAtOf(index, count);
    yield { entryKey: `${postedAt}#stl-${index}#PAYOUT`, settlementId: `stl-${index}`, amount: amountOf(index), currency, valueDate: '2025-03-10', postedAt };
  }
}

function bankEntryOf(index: number): StatementEntry | undefined {
  if (index % discrepancyEvery === 3) return undefined; // missing at the bank
  const amount = index % discrepancyEvery === 5 ? formatAmount(new Money(amountOf(index)).minus('0.01'), currency) : amountOf(index);
  const valueDate = index % discrepancyEvery === 9 ? '2025-03-11' : '2025-03-10';
  return { entryReference: `BNK-${index}`, endToEndId: `stl-${index}`, amount, currency, bookingDate: '2025-03-10', valueDate };
}

async function* bankEntries(count: number): AsyncGenerator<StatementEntry> {
  // Within each block of bookingSkewEntries the bank books in reverse order.
  for (let blockStart = 0; blockStart < count; blockStart += bookingSkewEntries) {
    for (let index = Math.min(blockStart + bookingSkewEntries, count) - 1; index >= blockStart; index--) {
      const entry = bankEntryOf(index);
      if (entry !== undefined) yield entry;
    }
  }
}

function bankTotal(count: number): Money {
  let total = new Money(0);
  for (let index = 0; index < count; index++) {
    const entry = bankEntryOf(index);
    if (entry !== undefined) total = total.plus(entry.amount);
  }
  return total;
}

export async function benchReconciliation(count: number): Promise<ReconciliationBenchResult> {
  const opening = new Money('100000000.00');
  const closing = formatAmount(opening.plus(bankTotal(count)), currency);
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  const sampleHeap = () => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  let discrepancies = 0;
  const started = performance.now();
  const summary = await reconcile({
    accountId,
    currency,
    periodFrom: '2025-03-10T00:00:00.000Z',
    periodTo: '2025-03-10T23:59:59.999Z',
    asOf: '2025-03-11T00:00:00.000Z',
    ledgerOpeningBalance: formatAmount(opening, currency),
    ledger: ledgerEntries(count, sampleHeap),
    statement: { accountId, currency, openingBalance: formatAmount(opening, currency), closingBalance: closing, entries: bankEntries(count) },
    pendingLocks: [],
    onDiscrepancy: () => {
      discrepancies += 1;
    },
  });
  sampleHeap();
  const milliseconds = performance.now() - started;
  return {
    entries: count,
    milliseconds: Math.round(milliseconds),
    entriesPerSecond: Math.round((count / milliseconds) * 1000),
    heapPeakMegabytes: Math.round(((peak - baseline) / 1024 / 1024) * 10) / 10,
    unmatchedEntriesPeak: summary.unmatchedEntriesPeak,
    discrepancies,
  };
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number).filter((size) => Number.isInteger(size) && size > 0);
  for (const size of sizes.length > 0 ? sizes : [10_000, 100_000]) {
    const result = await benchReconciliation(size);
    console.log(
      `reconciliation ${String(result.entries).padStart(7)} entries: ${result.milliseconds} ms (${result.entriesPerSecond}/s), ` +
        `heap peak +${result.heapPeakMegabytes} MB, waiting peak ${result.unmatchedEntriesPeak}, discrepancies ${result.discrepancies}`,
    );
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
