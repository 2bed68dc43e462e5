/**
 * Returns after Finalize: a beneficiary bank sends the money of a settlement back (pacs.004) after the engine
 * completed it. The job asks the bank adapter for the returns reported lately and books each one against its
 * settlement: the settlement stays COMPLETED (it did settle; a return is a payment of its own in the other
 * direction), and a RETURN record, both balances and two RETURN ledger entries are written in one transaction,
 * idempotent on the bank's return id (docs/rails.md). Runs before reconciliation (the reconciliation job calls it
 * first), so the ledger already holds the return that the bank's statement shows.
 */
import { Money } from '../domain/money';
import { parseSettlementId } from '../domain/settlement';
import { ValidationError } from '../domain/errors';
import { BankMessageDirection, type BankReturn } from '../ports/bank';
import type { ReturnBooking, ReturnStore } from '../ports/stores';
import type { EngineDeps } from './deps';

/** How far back each run asks for returns; booking is idempotent, so overlapping runs only replay. */
export const returnsLookbackSeconds = 7 * 24 * 3600;

export type ReturnOutcome = ReturnBooking | 'UNMATCHED';

export interface ReturnsRunReport {
  readonly listed: number;
  readonly outcomes: ReadonlyArray<{ readonly returnId: string; readonly settlementId: string; readonly outcome: ReturnOutcome }>;
}

/** Books every return the bank reports since the look-back; a run without a returns feed (mock bank) does nothing. */
export async function bookBankReturns(deps: Pick<EngineDeps, 'banks' | 'settlements' | 'bankMessages' | 'clock'> & { readonly returns?: ReturnStore }): Promise<ReturnsRunReport> {
  if (!deps.banks.listReturns || !deps.returns) return { listed: 0, outcomes: [] };
  const since = new Date(deps.clock.now().getTime() - returnsLookbackSeconds * 1000).toISOString();
  const listed = await deps.banks.listReturns(since);
  const outcomes: Array<ReturnsRunReport['outcomes'][number]> = [];
  for (const bankReturn of listed) outcomes.push({ returnId: bankReturn.returnId, settlementId: bankReturn.originalEndToEndId, outcome: await bookBankReturn(deps as BookingDeps, bankReturn) });
  return { listed: listed.length, outcomes };
}

type BookingDeps = Pick<EngineDeps, 'settlements' | 'bankMessages' | 'clock'> & { readonly returns: ReturnStore };

async function bookBankReturn(deps: BookingDeps, bankReturn: BankReturn): Promise<ReturnOutcome> {
  let settlementId: string;
  try {
    settlementId = parseSettlementId(bankReturn.originalEndToEndId, 'OrgnlEndToEndId');
  } catch (error) {
    if (error instanceof ValidationError) return unmatched(bankReturn, 'its end-to-end id is not a settlement id');
    throw error;
  }
  const record = await deps.settlements.get(settlementId);
  if (!record) return unmatched(bankReturn, 'no such settlement');
  // A return while the settlement is in flight is the confirmation and compensation path's business, not this one's.
  if (record.status !== 'COMPLETED') return 'NOT_APPLICABLE';
  if (!record.payerAccountId || !record.nostroAccountId) return unmatched(bankReturn, 'the settlement has no accounts');
  const booked = await deps.returns.getReturn(settlementId);
  if (booked) return booked.returnId === bankReturn.returnId ? 'EXISTS' : 'CONFLICT';
  const returnedAt = deps.clock.now().toISOString();
  // Kept with the settlement before booking: a failed booking is retried by the next run, the message stays read.
  await deps.bankMessages?.record({ settlementId, direction: BankMessageDirection.received, type: bankReturn.type, messageId: bankReturn.messageId, at: returnedAt, xml: bankReturn.xml });
  let amount: Money;
  try {
    amount = new Money(bankReturn.amount);
  } catch {
    return unmatched(bankReturn, 'its amount is not a decimal');
  }
  // The credit goes back to the shards the settlement's lock held on (a hot account's; absent: 0).
  const lock = record.lock;
  return deps.returns.bookReturn({
    settlementId,
    returnId: bankReturn.returnId,
    amount,
    currency: bankReturn.currency,
    reasonCode: bankReturn.reasonCode,
    returnedAt,
    vostroAccountId: record.payerAccountId,
    nostroAccountId: record.nostroAccountId,
    ...(lock?.vostroShard !== undefined && { vostroShard: lock.vostroShard }),
    ...(lock?.nostroShard !== undefined && { nostroShard: lock.nostroShard }),
  });
}

function unmatched(bankReturn: BankReturn, why: string): ReturnOutcome {
  // Visible to operators in the logs and the job's report; the bank's statement will show the credit as unmatched.
  console.error(JSON.stringify({ level: 'warn', message: 'return not booked', returnId: bankReturn.returnId, endToEndId: bankReturn.originalEndToEndId, why }));
  return 'UNMATCHED';
}
