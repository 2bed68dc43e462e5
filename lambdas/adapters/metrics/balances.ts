/**
 * Every account's balance as gauge samples, read from the account store at scrape time (bounded).
 */
import type { AccountStore, AccountType } from '../../ports/stores';
import type { AccountBalanceSample } from './prometheus';

/** Accounts reported at most per type; beyond it the gauges cover the first ones (a scrape must stay cheap). */
export const balanceSamplesPerTypeMax = 5_000;
const pageSize = 200;

export async function accountBalanceSamples(accounts: Pick<AccountStore, 'list'>): Promise<AccountBalanceSample[]> {
  const samples: AccountBalanceSample[] = [];
  for (const accountType of ['NOSTRO', 'VOSTRO'] as const satisfies readonly AccountType[]) {
    let cursor: string | undefined;
    let read = 0;
    for (let page = 0; page * pageSize < balanceSamplesPerTypeMax; page++) {
      const result = await accounts.list({ accountType, limit: pageSize, ...(cursor && { cursor }) });
      for (const account of result.items) samples.push({ accountType, bic: account.bic, currency: account.currency, balance: account.balance.toFixed() });
      read += result.items.length;
      cursor = result.nextCursor;
      if (cursor === undefined || read >= balanceSamplesPerTypeMax) break;
    }
  }
  return samples;
}
