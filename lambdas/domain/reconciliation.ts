/**
 * The reconciliation engine: one account's ledger entries for a period against the bank's statement for it.
 *
 * Pure: it reads two streams and a list of pending locks, and reports. It never changes a balance, a lock or a
 * settlement; an operator (or a later, audited correction) acts on the report.
 *
 * Matching. Every posting carries an end-to-end reference (the settlement id, or the movement id of a fund-in or
 * fund-out) that the bank echoes as EndToEndId. Entries are matched by that reference, then amount, then value
 * date. Per reference, what is left unmatched at the end is classified in this order:
 *   1. same amount, different value date      → VALUE_DATE_MISMATCH
 *   2. entries on one side that cancel exactly → offsetting (a transfer and its reversal: not a discrepancy)
 *   3. different amounts                       → AMOUNT_MISMATCH (paired in arrival order)
 *   4. anything else                           → MISSING_AT_BANK / MISSING_IN_LEDGER
 * The closing balance is then checked: the entry-level discrepancies explain part of (bank closing − ledger
 * closing); only an *unexplained* remainder (opening balances differ, or the statement does not add up) is a
 * CLOSING_BALANCE_MISMATCH, so that every difference is counted exactly once. The raw figures are in `balances`.
 *
 * Memory. Both streams are read incrementally and never collected. The engine holds only entries still waiting
 * for their counterpart (two maps keyed by reference): an arriving entry that matches a waiting one exactly
 * removes it. Both sides are in time order (the ledger by posting time, a statement by booking date) and a
 * posting and its bank booking are close in time, so the engine advances whichever side is behind by date (in
 * lockstep within a date) and the maps stay as small as the skew between the two sides, not the statement's
 * length. What is fundamentally kept until the end is the discrepancies themselves, because an entry may still
 * find its counterpart later in the period. `unmatchedEntriesMax` bounds the worst case (sides in different
 * orders, or a statement for another account) with a typed error instead of an unbounded heap. Discrepancy
 * items go to a sink as they are found (the store writes them out), so the report holds counts and totals only.
 */
import { InvariantViolationError, invariant } from './errors';
import { Money, currencyMinorUnits, formatAmount } from './money';
import { StatementInvalidError, ReconciliationTooLargeError } from './operations-errors';
import { isTerminal, type SettlementStatus } from './settlement';
import type { Statement, StatementEntry } from './statement';

/** Entries waiting for a counterpart that one run may hold (about 300 bytes each: ~75 MB at the maximum). */
export const unmatchedEntriesMaxDefault = 250_000;

/** One posting to the account, as the ledger table holds it (amount signed: negative debits the account). */
export interface LedgerEntryView {
  readonly entryKey: string;
  /** End-to-end reference: the settlement id, or the movement id of a fund-in / fund-out. */
  readonly settlementId: string;
  readonly amount: string;
  readonly currency: string;
  readonly valueDate: string;
  readonly postedAt: string;
}

/** A fund lock still pending on the account, with its settlement's current status. */
export interface PendingLockView {
  readonly settlementId: string;
  readonly accountId: string;
  /** Positive decimal string. */
  readonly amount: string;
  readonly currency: string;
  readonly expiresAt: string;
  readonly settlementStatus: SettlementStatus;
}

export const DiscrepancyKind = {
  missingAtBank: 'MISSING_AT_BANK',
  missingInLedger: 'MISSING_IN_LEDGER',
  amountMismatch: 'AMOUNT_MISMATCH',
  valueDateMismatch: 'VALUE_DATE_MISMATCH',
  closingBalanceMismatch: 'CLOSING_BALANCE_MISMATCH',
  staleLock: 'STALE_LOCK',
} as const;
export type DiscrepancyKind = (typeof DiscrepancyKind)[keyof typeof DiscrepancyKind];
export const discrepancyKinds = Object.values(DiscrepancyKind);

export const StaleLockReason = { expired: 'EXPIRED', terminalSettlement: 'TERMINAL_SETTLEMENT' } as const;
export type StaleLockReason = (typeof StaleLockReason)[keyof typeof StaleLockReason];

/**
 * One discrepancy. `amount` is what the category total adds: the entry's signed amount for a missing entry and a
 * value-date mismatch, bank − ledger for an amount mismatch, the unexplained difference for the closing balance,
 * the locked amount for a stale lock.
 */
export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  /** End-to-end reference (settlement or movement id); the account id for a closing-balance mismatch. */
  readonly reference: string;
  readonly amount: string;
  readonly ledgerEntryKey?: string;
  readonly bankEntryReference?: string;
  readonly ledgerAmount?: string;
  readonly bankAmount?: string;
  readonly ledgerValueDate?: string;
  readonly bankValueDate?: string;
  readonly lockExpiresAt?: string;
  readonly settlementStatus?: SettlementStatus;
  readonly staleLockReason?: StaleLockReason;
  readonly detail: string;
}

/** Count and totals of one category. `total` is signed (debits negative); `grossTotal` adds absolute values. */
export interface CategoryTotal {
  readonly count: number;
  readonly total: string;
  readonly grossTotal: string;
}

export interface BalanceCheck {
  readonly ledgerOpening: string;
  /** ledgerOpening + Σ ledger entries of the period. */
  readonly ledgerClosing: string;
  readonly bankOpening: string;
  readonly bankClosing: string;
  /** bankClosing − ledgerClosing. */
  readonly closingDifference: string;
  /** The part of closingDifference that entry-level discrepancies account for. */
  readonly explainedDifference: string;
  /** closingDifference − explainedDifference = openingDifference + statementInconsistency. */
  readonly unexplainedDifference: string;
  /** bankOpening − ledgerOpening: a difference carried over from an earlier period. */
  readonly openingDifference: string;
  /** bankClosing − (bankOpening + Σ statement entries): non-zero when the statement does not add up. */
  readonly statementInconsistency: string;
}

export interface ReconciliationSummary {
  readonly accountId: string;
  readonly currency: string;
  readonly periodFrom: string;
  readonly periodTo: string;
  readonly asOf: string;
  readonly ledgerEntryCount: number;
  readonly bankEntryCount: number;
  readonly pendingLockCount: number;
  readonly matched: CategoryTotal;
  /** Entries that cancel another one of the same reference on the same side (transfer and reversal). */
  readonly offsetting: CategoryTotal;
  readonly discrepancies: Readonly<Record<DiscrepancyKind, CategoryTotal>>;
  readonly discrepancyCount: number;
  readonly balances: BalanceCheck;
  /** Most entries waiting for a counterpart at once: how far apart the two sides ran (the memory used). */
  readonly unmatchedEntriesPeak: number;
}

export interface ReconciliationInput {
  readonly accountId: string;
  readonly currency: string;
  readonly periodFrom: string;
  readonly periodTo: string;
  /** Instant the run judges lock expiry against. */
  readonly asOf: string;
  /**
   * The engine's balance of the account at the start of the period, or at its end: exactly one of the two (decimal
   * strings, may be negative). The closing form suits a store, which knows the current balance and the few postings
   * after the period, without summing the whole history.
   */
  readonly ledgerOpeningBalance?: string;
  readonly ledgerClosingBalance?: string;
  readonly ledger: AsyncIterable<LedgerEntryView>;
  readonly statement: Statement;
  readonly pendingLocks: AsyncIterable<PendingLockView> | Iterable<PendingLockView>;
  /** Receives each discrepancy as it is found (persist it, count it); awaited, so back-pressure holds. */
  readonly onDiscrepancy: (discrepancy: Discrepancy) => void | Promise<void>;
  readonly unmatchedEntriesMax?: number;
}

/** An entry waiting for its counterpart, amount already canonical for the currency. */
interface Waiting {
  readonly reference: string;
  readonly amount: string;
  readonly valueDate: string;
  /** Ledger entry key or bank entry reference. */
  readonly origin: string;
}

type Side = 'ledger' | 'bank';

/** Reconciles one account for one period. Throws StatementInvalidError for a statement it cannot read. */
export async function reconcile(input: ReconciliationInput): Promise<ReconciliationSummary> {
  invariant(currencyMinorUnits(input.currency) !== undefined, `reconcile: ${input.currency} is not a settlement currency`);
  invariant((input.ledgerOpeningBalance === undefined) !== (input.ledgerClosingBalance === undefined), 'reconcile: give the ledger opening or the closing balance, not both');
  if (input.statement.currency !== input.currency) throw new StatementInvalidError('statement', 'currency', `is ${input.statement.currency}, the account is ${input.currency}`);
  if (input.statement.accountId !== input.accountId) throw new StatementInvalidError('statement', 'accountId', `is ${input.statement.accountId}, expected ${input.accountId}`);
  const run = new ReconciliationRun(input);
  await run.matchStreams();
  await run.resolveUnmatched();
  await run.checkStaleLocks();
  return run.finish();
}

class Accumulator {
  count = 0;
  private total = new Money(0);
  private gross = new Money(0);
  add(amount: Money): void {
    this.count += 1;
    this.total = this.total.plus(amount);
    this.gross = this.gross.plus(amount.abs());
  }
  get sum(): Money {
    return this.total;
  }
  result(currency: string): CategoryTotal {
    return { count: this.count, total: formatAmount(this.total, currency), grossTotal: formatAmount(this.gross, currency) };
  }
}

class ReconciliationRun {
  private readonly waiting: Record<Side, Map<string, Waiting[]>> = { ledger: new Map(), bank: new Map() };
  private waitingCount = 0;
  private waitingPeak = 0;
  private ledgerCount = 0;
  private bankCount = 0;
  private lockCount = 0;
  private ledgerSum = new Money(0);
  private bankSum = new Money(0);
  private readonly matched = new Accumulator();
  private readonly offsetting = new Accumulator();
  private readonly categories = Object.fromEntries(discrepancyKinds.map((kind) => [kind, new Accumulator()])) as Record<DiscrepancyKind, Accumulator>;
  private readonly unmatchedEntriesMax: number;
  /** The currency's minor units, looked up once: the per-entry path must not search the ISO 4217 table. */
  private readonly minorUnits: number;

  constructor(private readonly input: ReconciliationInput) {
    this.unmatchedEntriesMax = input.unmatchedEntriesMax ?? unmatchedEntriesMaxDefault;
    this.minorUnits = currencyMinorUnits(input.currency) as number;
    invariant(this.unmatchedEntriesMax > 0, 'reconcile: unmatchedEntriesMax must be positive');
  }

  /** Reads both sides, the one behind by date first, matching exact counterparts as they arrive. */
  async matchStreams(): Promise<void> {
    const ledger = this.input.ledger[Symbol.asyncIterator]();
    const bank = this.input.statement.entries[Symbol.asyncIterator]();
    try {
      let ledgerNext = await ledger.next();
      let bankNext = await bank.next();
      let preferLedger = true;
      while (!ledgerNext.done || !bankNext.done) {
        const takeLedger: boolean = bankNext.done || (!ledgerNext.done && this.ledgerGoesFirst(ledgerNext.value, bankNext.value, preferLedger));
        if (takeLedger) {
          invariant(!ledgerNext.done, 'matchStreams: ledger side');
          this.arrive('ledger', this.fromLedger(ledgerNext.value));
          ledgerNext = await ledger.next();
        } else {
          invariant(!bankNext.done, 'matchStreams: bank side');
          this.arrive('bank', this.fromBank(bankNext.value));
          bankNext = await bank.next();
        }
        preferLedger = !takeLedger;
      }
    } finally {
      // Releases the underlying readers (file streams, DynamoDB pagination) when matching stops early.
      await Promise.allSettled([ledger.return?.(), bank.return?.()]);
    }
  }

  private ledgerGoesFirst(ledgerEntry: LedgerEntryView, bankEntry: StatementEntry, preferLedger: boolean): boolean {
    const ledgerDate = ledgerEntry.postedAt.slice(0, 10);
    const bankDate = bankEntry.bookingDate.slice(0, 10);
    return ledgerDate === bankDate ? preferLedger : ledgerDate < bankDate;
  }

  private arrive(side: Side, entry: Waiting): void {
    const otherSide: Side = side === 'ledger' ? 'bank' : 'ledger';
    const counterparts = this.waiting[otherSide].get(entry.reference);
    const index = counterparts?.findIndex((other) => other.amount === entry.amount && other.valueDate === entry.valueDate) ?? -1;
    if (counterparts !== undefined && index >= 0) {
      counterparts.splice(index, 1);
      if (counterparts.length === 0) this.waiting[otherSide].delete(entry.reference);
      this.waitingCount -= 1;
      this.matched.add(new Money(entry.amount));
      return;
    }
    const own = this.waiting[side].get(entry.reference);
    if (own === undefined) this.waiting[side].set(entry.reference, [entry]);
    else own.push(entry);
    this.waitingCount += 1;
    this.waitingPeak = Math.max(this.waitingPeak, this.waitingCount);
    if (this.waitingCount > this.unmatchedEntriesMax) throw new ReconciliationTooLargeError(this.input.accountId, this.unmatchedEntriesMax);
  }

  private fromLedger(entry: LedgerEntryView): Waiting {
    this.ledgerCount += 1;
    // A ledger entry in another currency or with too many decimals is corrupt data, not an operating error.
    if (entry.currency !== this.input.currency) throw new InvariantViolationError(`ledger entry ${entry.entryKey} is in ${entry.currency}, account ${this.input.accountId} in ${this.input.currency}`);
    const amount = canonicalAmount(entry.amount, this.input.currency, this.minorUnits);
    if (amount === undefined) throw new InvariantViolationError(`ledger entry ${entry.entryKey} amount "${entry.amount}" is not a ${this.input.currency} amount`);
    this.ledgerSum = this.ledgerSum.plus(amount);
    return { reference: entry.settlementId, amount, valueDate: entry.valueDate, origin: entry.entryKey };
  }

  private fromBank(entry: StatementEntry): Waiting {
    this.bankCount += 1;
    const location = `entry ${entry.entryReference}`;
    if (entry.currency !== this.input.currency) throw new StatementInvalidError('statement', location, `is in ${entry.currency}, the account is in ${this.input.currency}`);
    const amount = canonicalAmount(entry.amount, this.input.currency, this.minorUnits);
    if (amount === undefined) throw new StatementInvalidError('statement', location, `amount "${entry.amount}" is not a ${this.input.currency} amount`);
    this.bankSum = this.bankSum.plus(amount);
    return { reference: entry.endToEndId, amount, valueDate: entry.valueDate, origin: entry.entryReference };
  }

  /** Classifies, per reference, what is still waiting once both streams have ended. */
  async resolveUnmatched(): Promise<void> {
    const references = new Set([...this.waiting.ledger.keys(), ...this.waiting.bank.keys()]);
    for (const reference of references) {
      const ledger = this.waiting.ledger.get(reference) ?? [];
      const bank = this.waiting.bank.get(reference) ?? [];
      this.waiting.ledger.delete(reference);
      this.waiting.bank.delete(reference);
      await this.resolveReference(reference, ledger, bank);
    }
    this.waitingCount = 0;
  }

  private async resolveReference(reference: string, ledger: Waiting[], bank: Waiting[]): Promise<void> {
    for (const ledgerEntry of [...ledger]) {
      const bankEntry = takeFirst(bank, (candidate) => candidate.amount === ledgerEntry.amount);
      if (bankEntry === undefined) continue;
      takeFirst(ledger, (candidate) => candidate === ledgerEntry);
      const detail = bankEntry.valueDate === ledgerEntry.valueDate ? 'matched' : `value date ${ledgerEntry.valueDate} in the ledger, ${bankEntry.valueDate} at the bank`;
      if (bankEntry.valueDate === ledgerEntry.valueDate) this.matched.add(new Money(ledgerEntry.amount));
      else await this.report({ kind: DiscrepancyKind.valueDateMismatch, reference, amount: ledgerEntry.amount, ...pairFields(ledgerEntry, bankEntry), detail });
    }
    this.removeOffsetting(ledger);
    this.removeOffsetting(bank);
    while (ledger.length > 0 && bank.length > 0) {
      const ledgerEntry = ledger.shift() as Waiting;
      const bankEntry = bank.shift() as Waiting;
      const difference = new Money(bankEntry.amount).minus(ledgerEntry.amount);
      const detail = `${ledgerEntry.amount} in the ledger, ${bankEntry.amount} at the bank`;
      await this.report({ kind: DiscrepancyKind.amountMismatch, reference, amount: this.format(difference), ...pairFields(ledgerEntry, bankEntry), detail });
    }
    for (const entry of ledger) {
      await this.report({ kind: DiscrepancyKind.missingAtBank, reference, amount: entry.amount, ledgerEntryKey: entry.origin, ledgerAmount: entry.amount, ledgerValueDate: entry.valueDate, detail: 'posted in the ledger, not on the statement' });
    }
    for (const entry of bank) {
      await this.report({ kind: DiscrepancyKind.missingInLedger, reference, amount: entry.amount, bankEntryReference: entry.origin, bankAmount: entry.amount, bankValueDate: entry.valueDate, detail: 'on the statement, not posted in the ledger' });
    }
  }

  /** Removes pairs of entries on one side that cancel exactly (a booking and its reversal), counting them. */
  private removeOffsetting(entries: Waiting[]): void {
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index];
      const negated = this.format(new Money(entry.amount).negated());
      const partnerIndex = entries.findIndex((candidate, candidateIndex) => candidateIndex > index && candidate.amount === negated);
      if (partnerIndex < 0) continue;
      this.offsetting.add(new Money(entry.amount));
      this.offsetting.add(new Money(negated));
      entries.splice(partnerIndex, 1);
      entries.splice(index, 1);
      index -= 1;
    }
  }

  /** Reports pending locks that are past expiry, or whose settlement has already ended. */
  async checkStaleLocks(): Promise<void> {
    const asOf = Date.parse(this.input.asOf);
    invariant(!Number.isNaN(asOf), `reconcile: asOf ${this.input.asOf} is not an instant`);
    for await (const lock of this.input.pendingLocks) {
      this.lockCount += 1;
      invariant(lock.currency === this.input.currency, `lock of ${lock.settlementId} is in ${lock.currency}`);
      const amount = canonicalAmount(lock.amount, this.input.currency);
      invariant(amount !== undefined, `lock of ${lock.settlementId} amount "${lock.amount}"`);
      // A lock on an ended settlement is the stronger signal (it should not exist at all), so it wins.
      const reason = isTerminal(lock.settlementStatus) ? StaleLockReason.terminalSettlement : Date.parse(lock.expiresAt) <= asOf ? StaleLockReason.expired : undefined;
      if (reason === undefined) continue;
      const detail = reason === StaleLockReason.expired ? `lock expired at ${lock.expiresAt}` : `settlement is ${lock.settlementStatus}, lock still pending`;
      await this.report({ kind: DiscrepancyKind.staleLock, reference: lock.settlementId, amount, lockExpiresAt: lock.expiresAt, settlementStatus: lock.settlementStatus, staleLockReason: reason, detail });
    }
  }

  async finish(): Promise<ReconciliationSummary> {
    const balances = this.balanceCheck();
    const unexplained = new Money(balances.unexplainedDifference);
    if (!unexplained.isZero()) {
      const detail = `bank closing ${balances.bankClosing}, ledger closing ${balances.ledgerClosing}; ${balances.explainedDifference} explained by entries, opening difference ${balances.openingDifference}, statement inconsistency ${balances.statementInconsistency}`;
      await this.report({ kind: DiscrepancyKind.closingBalanceMismatch, reference: this.input.accountId, amount: balances.unexplainedDifference, detail });
    }
    const currency = this.input.currency;
    const discrepancies = Object.fromEntries(discrepancyKinds.map((kind) => [kind, this.categories[kind].result(currency)])) as Record<DiscrepancyKind, CategoryTotal>;
    return {
      accountId: this.input.accountId,
      currency,
      periodFrom: this.input.periodFrom,
      periodTo: this.input.periodTo,
      asOf: this.input.asOf,
      ledgerEntryCount: this.ledgerCount,
      bankEntryCount: this.bankCount,
      pendingLockCount: this.lockCount,
      matched: this.matched.result(currency),
      offsetting: this.offsetting.result(currency),
      discrepancies,
      discrepancyCount: discrepancyKinds.reduce((sum, kind) => sum + discrepancies[kind].count, 0),
      balances,
      unmatchedEntriesPeak: this.waitingPeak,
    };
  }

  private balanceCheck(): BalanceCheck {
    const currency = this.input.currency;
    const ledgerOpening =
      this.input.ledgerOpeningBalance !== undefined
        ? this.balance(this.input.ledgerOpeningBalance, 'ledgerOpeningBalance')
        : this.balance(this.input.ledgerClosingBalance as string, 'ledgerClosingBalance').minus(this.ledgerSum);
    const bankOpening = this.bankBalance(this.input.statement.openingBalance, 'openingBalance');
    const bankClosing = this.bankBalance(this.input.statement.closingBalance, 'closingBalance');
    const ledgerClosing = ledgerOpening.plus(this.ledgerSum);
    const closingDifference = bankClosing.minus(ledgerClosing);
    // Σ missing in ledger − Σ missing at bank + Σ (bank − ledger): value-date mismatches and offsetting net to zero.
    const explained = this.categories.MISSING_IN_LEDGER.sum.minus(this.categories.MISSING_AT_BANK.sum).plus(this.categories.AMOUNT_MISMATCH.sum);
    const unexplained = closingDifference.minus(explained);
    const openingDifference = bankOpening.minus(ledgerOpening);
    const statementInconsistency = bankClosing.minus(bankOpening.plus(this.bankSum));
    invariant(unexplained.equals(openingDifference.plus(statementInconsistency)), 'reconcile: matched entries must net to zero across the two sides');
    return {
      ledgerOpening: formatAmount(ledgerOpening, currency),
      ledgerClosing: formatAmount(ledgerClosing, currency),
      bankOpening: formatAmount(bankOpening, currency),
      bankClosing: formatAmount(bankClosing, currency),
      closingDifference: formatAmount(closingDifference, currency),
      explainedDifference: formatAmount(explained, currency),
      unexplainedDifference: formatAmount(unexplained, currency),
      openingDifference: formatAmount(openingDifference, currency),
      statementInconsistency: formatAmount(statementInconsistency, currency),
    };
  }

  private balance(value: string, field: string): Money {
    const amount = canonicalAmount(value, this.input.currency);
    invariant(amount !== undefined, `reconcile: ${field} "${value}" is not a ${this.input.currency} amount`);
    return new Money(amount);
  }

  private bankBalance(value: string, field: string): Money {
    const amount = canonicalAmount(value, this.input.currency);
    if (amount === undefined) throw new StatementInvalidError('statement', field, `"${value}" is not a ${this.input.currency} amount`);
    return new Money(amount);
  }

  private async report(discrepancy: Discrepancy): Promise<void> {
    this.categories[discrepancy.kind].add(new Money(discrepancy.amount));
    await this.input.onDiscrepancy(discrepancy);
  }

  private format(amount: Money): string {
    return formatAmount(amount, this.input.currency);
  }
}

const signedDecimal = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/**
 * The canonical string of a signed decimal in `currency` ("-100" → "-100.00"), or undefined when it is not one or
 * carries more decimals than the currency's minor units (trailing zeros beyond them are accepted: "1.500" EUR).
 */
export function canonicalAmount(value: string, currency: string, minorUnits = currencyMinorUnits(currency)): string | undefined {
  if (minorUnits === undefined || typeof value !== 'string' || !signedDecimal.test(value)) return undefined;
  const amount = new Money(value);
  if (amount.decimalPlaces() > minorUnits) return undefined;
  // Decimal keeps the sign of zero; the canonical form never shows "-0.00".
  return (amount.isZero() ? new Money(0) : amount).toFixed(minorUnits);
}

function takeFirst(entries: Waiting[], predicate: (entry: Waiting) => boolean): Waiting | undefined {
  const index = entries.findIndex(predicate);
  return index < 0 ? undefined : entries.splice(index, 1)[0];
}

function pairFields(ledgerEntry: Waiting, bankEntry: Waiting) {
  return {
    ledgerEntryKey: ledgerEntry.origin,
    bankEntryReference: bankEntry.origin,
    ledgerAmount: ledgerEntry.amount,
    bankAmount: bankEntry.amount,
    ledgerValueDate: ledgerEntry.valueDate,
    bankValueDate: bankEntry.valueDate,
  };
}
