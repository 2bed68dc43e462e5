/**
 * Every account's balance as gauge samples, read from the account store at scrape time (bounded).
 */
import type { MetricsPort } from '../../ports/metrics';
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

/**
 * Sets every account's balance gauge (nostro_balance, vostro_balance) on the metrics port: what the scheduled
 * `publishBalances` job does on AWS, where EMF carries the gauges to CloudWatch. A periodic job rather than a
 * sample after each balance change: a posting's transaction does not return the new balance (one more read per
 * settlement on the hot path), and a gauge written only on change leaves quiet accounts without datapoints, so a
 * balance graph or alarm goes blank. Returns how many accounts were published.
 */
export async function publishAccountBalances(accounts: Pick<AccountStore, 'list'>, metrics: Pick<MetricsPort, 'accountBalance'>): Promise<number> {
  const samples = await accountBalanceSamples(accounts);
  for (const sample of samples) metrics.accountBalance(sample);
  return samples.length;
}
