/**
 * Statements of the mock bank, produced from its own record of transfers: the network's nostro at the bank is
 * debited when a transfer settles and credited back when a settled transfer is reversed. Opening balances come
 * from a resolver (locally: the amount each nostro was opened with), so the bank's balance is its own book, not
 * the engine's. Tests inject discrepancies, each applied to every statement it concerns until cleared.
 */
import { Money, formatAmount } from '../../domain/money';
import type { Statement, StatementEntry, StatementRequest } from '../../ports/bank';
import type { MockTransfer } from './mock-bank';

/** A difference between the bank's book and what really happened, for reconciliation tests and demos. */
export type InjectedDiscrepancy =
  /** The bank never booked the transfer of this settlement. */
  | { readonly kind: 'dropEntry'; readonly endToEndId: string }
  /** The bank booked an entry the engine knows nothing of (a fee, a stray credit), on `accountId`. */
  | { readonly kind: 'extraEntry'; readonly accountId: string; readonly entry: Omit<StatementEntry, 'currency'> & { readonly bookedAt: string } }
  /** The bank booked this settlement with another signed amount. */
  | { readonly kind: 'amount'; readonly endToEndId: string; readonly amount: string }
  /** The bank booked this settlement with another value date. */
  | { readonly kind: 'valueDate'; readonly endToEndId: string; readonly valueDate: string }
  /** The bank's closing balance of `accountId` is off by `delta` (its statement does not add up). */
  | { readonly kind: 'closingBalance'; readonly accountId: string; readonly delta: string };

/** Opening balance of an account at the bank, as of the account's opening (decimal string). */
export type OpeningBalanceResolver = (accountId: string) => Promise<string>;

interface Booking {
  readonly bookedAt: string;
  readonly entry: StatementEntry;
}

export class MockStatementBook {
  private readonly injected: InjectedDiscrepancy[] = [];
  private openingBalanceOf: OpeningBalanceResolver = async () => '0';

  /** Where the bank's opening balances come from. */
  useOpeningBalances(resolver: OpeningBalanceResolver): void {
    this.openingBalanceOf = resolver;
  }

  inject(discrepancy: InjectedDiscrepancy): void {
    this.injected.push(discrepancy);
  }

  clearInjected(): void {
    this.injected.length = 0;
  }

  /** The statement of `request.accountId` for [from, to] (inclusive), from the transfers the bank recorded. */
  async statement(transfers: readonly MockTransfer[], request: StatementRequest): Promise<Statement> {
    const bookings = this.bookings(transfers, request);
    const initial = new Money(await this.openingBalanceOf(request.accountId));
    let opening = initial;
    const inPeriod: StatementEntry[] = [];
    for (const booking of bookings) {
      if (booking.bookedAt < request.from) opening = opening.plus(booking.entry.amount);
      else if (booking.bookedAt <= request.to) inPeriod.push(booking.entry);
    }
    let closing = inPeriod.reduce((sum, entry) => sum.plus(entry.amount), opening);
    for (const discrepancy of this.injected) {
      if (discrepancy.kind === 'closingBalance' && discrepancy.accountId === request.accountId) closing = closing.plus(discrepancy.delta);
    }
    return {
      accountId: request.accountId,
      currency: request.currency,
      openingBalance: formatAmount(opening, request.currency),
      closingBalance: formatAmount(closing, request.currency),
      entries: (async function* () {
        yield* inPeriod;
      })(),
    };
  }

  /** Every booking on the account, injected discrepancies applied, in booking order. */
  private bookings(transfers: readonly MockTransfer[], request: StatementRequest): Booking[] {
    const bookings: Booking[] = [];
    for (const transfer of transfers) {
      const { instruction } = transfer;
      if (instruction.currency !== request.currency || `NOSTRO#${instruction.debtorAgentBic}#${instruction.currency}` !== request.accountId) continue;
      if (transfer.settledAt === undefined) continue;
      const base = { endToEndId: instruction.settlementId, currency: instruction.currency, valueDate: instruction.valueDate };
      bookings.push({ bookedAt: transfer.settledAt, entry: { ...base, entryReference: transfer.bankReference, amount: `-${instruction.amount}`, bookingDate: transfer.settledAt.slice(0, 10) } });
      if (transfer.state === 'REVERSED' && transfer.reversedAt !== undefined) {
        bookings.push({ bookedAt: transfer.reversedAt, entry: { ...base, entryReference: `${transfer.bankReference}R`, amount: instruction.amount, bookingDate: transfer.reversedAt.slice(0, 10) } });
      }
    }
    for (const discrepancy of this.injected) {
      if (discrepancy.kind === 'extraEntry' && discrepancy.accountId === request.accountId) {
        const { bookedAt, ...entry } = discrepancy.entry;
        bookings.push({ bookedAt, entry: { ...entry, currency: request.currency } });
      }
    }
    return bookings.flatMap((booking) => this.applyInjected(booking)).sort((a, b) => a.bookedAt.localeCompare(b.bookedAt));
  }

  private applyInjected(booking: Booking): Booking[] {
    let entry = booking.entry;
    for (const discrepancy of this.injected) {
      if (!('endToEndId' in discrepancy) || discrepancy.endToEndId !== entry.endToEndId) continue;
      if (discrepancy.kind === 'dropEntry') return [];
      if (discrepancy.kind === 'amount') entry = { ...entry, amount: discrepancy.amount };
      if (discrepancy.kind === 'valueDate') entry = { ...entry, valueDate: discrepancy.valueDate };
    }
    return [{ bookedAt: booking.bookedAt, entry }];
  }
}
