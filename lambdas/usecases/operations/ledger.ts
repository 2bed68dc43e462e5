/**
 * Ledger reads for the console: an account's postings over a period with the balance after each (for its balance
 * chart), and the postings of one settlement (its page). Amounts are decimal strings; running balances are
 * computed with decimal.js from the account's balance at the end of the period.
 */
import { ValidationError } from '../../domain/errors';
import { instant } from '../../domain/admin';
import { Money, formatAmount } from '../../domain/money';
import type { LedgerEntryView } from '../../domain/reconciliation';
import type { Account } from '../../ports/stores';
import type { SettlementView } from '../views';
import type { OperationsDeps } from './deps';

/** Postings one account listing returns at most (the newest are kept). */
export const accountLedgerEntriesMax = 2_000;
export const accountLedgerDefaultHours = 24;

export interface LedgerPosting extends LedgerEntryView {
  readonly accountId: string;
  /** The account's balance right after this posting. */
  readonly balanceAfter: string;
}

export async function accountLedger(ops: OperationsDeps, account: Account, query: Readonly<Record<string, string>>): Promise<{ items: LedgerPosting[]; balanceAtStart: string; balanceAtEnd: string; from: string; to: string }> {
  for (const key of Object.keys(query)) if (key !== 'from' && key !== 'to') throw new ValidationError(key, 'is not a query parameter of an account ledger (from, to)');
  const to = query.to === undefined ? ops.clock.now().toISOString() : instant(query.to, 'to');
  const from = query.from === undefined ? new Date(Date.parse(to) - accountLedgerDefaultHours * 3_600_000).toISOString() : instant(query.from, 'from');
  if (to < from) throw new ValidationError('to', 'must not be before from');
  const entries: LedgerEntryView[] = [];
  for await (const entry of ops.ledger.entries(account.accountId, from, to)) {
    entries.push(entry);
    if (entries.length > accountLedgerEntriesMax) entries.shift();
  }
  const balanceAtEnd = await ops.ledger.balanceAt(account.accountId, to);
  // Walk back from the end balance: the balance after entry i is the end balance minus what was posted after it.
  let running = new Money(balanceAtEnd);
  const items: LedgerPosting[] = [];
  for (let index = entries.length - 1; index >= 0; index--) {
    items.unshift({ ...entries[index], accountId: account.accountId, balanceAfter: formatAmount(running, account.currency) });
    running = running.minus(entries[index].amount);
  }
  return { items, balanceAtStart: formatAmount(running, account.currency), balanceAtEnd: formatAmount(new Money(balanceAtEnd), account.currency), from, to };
}

/** The postings a settlement made (both legs), found in its accounts' ledgers between its creation and last change. */
export async function settlementLedger(ops: OperationsDeps, settlement: SettlementView): Promise<Array<LedgerEntryView & { accountId: string }>> {
  const accounts = [settlement.payerAccountId, settlement.nostroAccountId].filter((id): id is string => id !== undefined);
  const to = new Date(Date.parse(settlement.updatedAt) + 1_000).toISOString();
  const postings: Array<LedgerEntryView & { accountId: string }> = [];
  for (const accountId of accounts) {
    for await (const entry of ops.ledger.entries(accountId, settlement.createdAt, to)) {
      if (entry.settlementId === settlement.settlementId) postings.push({ ...entry, accountId });
    }
  }
  return postings;
}
