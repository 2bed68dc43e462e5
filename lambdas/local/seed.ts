/**
 * Seeds demo banks, accounts and payout routes (config/demo-seed.json) where they do not exist yet, so that a
 * restart of `npm start` keeps balances as they are.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AccountConflictError, ValidationError } from '../domain/errors';
import { parseBic } from '../domain/bic';
import { Money, parseCurrency, currencyMinorUnits } from '../domain/money';
import type { AccountType } from '../ports/stores';
import { accountShardsMax } from '../domain/account-shards';
import type { DynamoAccountStore, DynamoReferenceStore } from '../adapters/dynamodb/account-store';

export interface DemoSeed {
  readonly banks: ReadonlyArray<{ bic: string; name: string; country: string }>;
  readonly accounts: ReadonlyArray<{ accountType: AccountType; bic: string; currency: string; openingBalance: string; floor?: string; /** Balance shards of a hot account (default 1). */ shards?: number }>;
  readonly routes: ReadonlyArray<{ payeeBic: string; currency: string; nostroAccountId: string }>;
}

export const demoSeedPath = path.resolve(__dirname, '../../config/demo-seed.json');

export function loadSeed(file: string = demoSeedPath): DemoSeed {
  const seed = JSON.parse(readFileSync(file, 'utf8')) as DemoSeed;
  seed.banks.forEach((bank, index) => parseBic(bank.bic, `banks[${index}].bic`));
  seed.accounts.forEach((account, index) => {
    parseBic(account.bic, `accounts[${index}].bic`);
    parseCurrency(account.currency, `accounts[${index}].currency`);
    if (account.accountType !== 'NOSTRO' && account.accountType !== 'VOSTRO') throw new ValidationError(`accounts[${index}].accountType`, 'must be NOSTRO or VOSTRO');
    const balance = new Money(account.openingBalance);
    if (balance.isNegative() || balance.decimalPlaces() > (currencyMinorUnits(account.currency) ?? 0)) throw new ValidationError(`accounts[${index}].openingBalance`, 'must be a non-negative amount in the currency\'s minor units');
    if (account.shards !== undefined && !(Number.isInteger(account.shards) && account.shards >= 1 && account.shards <= accountShardsMax)) throw new ValidationError(`accounts[${index}].shards`, `must be an integer from 1 to ${accountShardsMax}`);
  });
  return seed;
}

export async function applySeed(seed: DemoSeed, stores: { accounts: DynamoAccountStore; reference: DynamoReferenceStore }, at: string): Promise<{ accountsOpened: number }> {
  for (const bank of seed.banks) await stores.reference.registerBank({ ...bank, status: 'ACTIVE' }, at);
  let accountsOpened = 0;
  for (const account of seed.accounts) {
    try {
      await stores.accounts.open({ ...account, floor: new Money(account.floor ?? '0'), openingBalance: new Money(account.openingBalance) }, at);
      accountsOpened++;
    } catch (error) {
      if (!(error instanceof AccountConflictError)) throw error;
    }
  }
  for (const route of seed.routes) await stores.reference.putPayoutRoute(route, at);
  return { accountsOpened };
}
