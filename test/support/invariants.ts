/**
 * Whole-database checks of the money invariants, used by lifecycle, property and crash tests.
 */
import { withRecordParts } from './settlement-items';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Money } from '../../lambdas/domain/money';
import { accountFromItem } from '../../lambdas/adapters/dynamodb/account-store';
import { toMoney } from '../../lambdas/adapters/dynamodb/client';
import type { TestEngine } from './engine';

type Item = Record<string, unknown>;

export async function scanAll(engine: TestEngine, table: keyof TestEngine['tables']): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const page = await engine.documentClient.send(new ScanCommand({ TableName: engine.tables[table], ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

export interface BookSummary {
  /** Σ nostro balances − Σ vostro balances, per currency. */
  readonly nostroMinusVostro: Record<string, string>;
  readonly accounts: number;
}

export async function bookSummary(engine: TestEngine): Promise<BookSummary> {
  const accounts = (await scanAll(engine, 'accounts')).map(accountFromItem);
  const difference: Record<string, Money> = {};
  for (const account of accounts) {
    const sign = account.accountType === 'NOSTRO' ? 1 : -1;
    difference[account.currency] = (difference[account.currency] ?? new Money(0)).plus(account.balance.times(sign));
  }
  return { nostroMinusVostro: Object.fromEntries(Object.entries(difference).map(([currency, value]) => [currency, value.toFixed()])), accounts: accounts.length };
}

/**
 * Checks every invariant that must hold whenever no settlement is mid-flight. Returns the violations (empty when
 * the books are sound) so a test can print all of them at once.
 */
export async function bookViolations(engine: TestEngine, options: { allSettled?: boolean } = {}): Promise<string[]> {
  const violations: string[] = [];
  const accounts = (await scanAll(engine, 'accounts')).map(accountFromItem);
  const ledger = await scanAll(engine, 'ledger');
  const settlementItems = withRecordParts(await scanAll(engine, 'settlements'));
  const locks = settlementItems.filter((item) => item.sk === 'LOCK');
  const records = settlementItems.filter((item) => item.sk === 'RECORD');
  const pendingLockedByAccount = new Map<string, Money>();
  for (const lock of locks.filter((item) => item.lockState === 'PENDING')) {
    for (const id of [String(lock.vostroAccountId), String(lock.nostroAccountId)]) {
      pendingLockedByAccount.set(id, (pendingLockedByAccount.get(id) ?? new Money(0)).plus(toMoney(lock.amount)));
    }
  }
  for (const account of accounts) {
    const entries = ledger.filter((entry) => entry.accountId === account.accountId);
    const ledgerSum = entries.reduce((sum: Money, entry) => sum.plus(toMoney(entry.amount)), new Money(0));
    if (!ledgerSum.equals(account.balance)) violations.push(`${account.accountId}: ledger sums to ${ledgerSum.toFixed()} but balance is ${account.balance.toFixed()}`);
    if (!account.available.equals(account.balance.minus(account.locked))) violations.push(`${account.accountId}: available ${account.available.toFixed()} != balance − locked`);
    if (account.available.lessThan(account.floor)) violations.push(`${account.accountId}: available ${account.available.toFixed()} below floor ${account.floor.toFixed()}`);
    const expectedLocked = pendingLockedByAccount.get(account.accountId) ?? new Money(0);
    if (!account.locked.equals(expectedLocked)) violations.push(`${account.accountId}: locked ${account.locked.toFixed()} but pending locks hold ${expectedLocked.toFixed()}`);
  }
  // A return after Finalize: two RETURN postings per RETURN record, only on a COMPLETED settlement.
  const returnItems = settlementItems.filter((item) => item.sk === 'RETURN');
  for (const item of returnItems) {
    const postings = ledger.filter((entry) => entry.kind === 'RETURN' && entry.reference === item.pk).length;
    if (postings !== 2) violations.push(`${String(item.pk)}: returned with ${postings} RETURN postings (expected 2)`);
    if (records.find((record) => record.pk === item.pk)?.status !== 'COMPLETED') violations.push(`${String(item.pk)}: a return on a settlement that is not COMPLETED`);
  }
  if (ledger.filter((entry) => entry.kind === 'RETURN').length !== returnItems.length * 2) violations.push('RETURN postings without a RETURN record');
  const postingsBySettlement = new Map<string, number>();
  for (const entry of ledger.filter((item) => item.kind === 'SETTLEMENT')) postingsBySettlement.set(String(entry.reference), (postingsBySettlement.get(String(entry.reference)) ?? 0) + 1);
  for (const record of records) {
    const id = String(record.pk);
    const postings = postingsBySettlement.get(id) ?? 0;
    const lock = locks.find((item) => item.pk === id);
    if (record.status === 'COMPLETED') {
      if (postings !== 2) violations.push(`${id}: COMPLETED with ${postings} ledger postings (expected 2)`);
      if (lock?.lockState !== 'POSTED') violations.push(`${id}: COMPLETED but lock is ${String(lock?.lockState)}`);
    } else if (postings !== 0) {
      violations.push(`${id}: ${String(record.status)} but has ${postings} ledger postings`);
    }
    if (record.status === 'FAILED' && lock && lock.lockState !== 'VOIDED') violations.push(`${id}: FAILED but lock is ${String(lock.lockState)}`);
    if (options.allSettled && record.status !== 'COMPLETED' && record.status !== 'FAILED' && !record.parked) violations.push(`${id}: left in ${String(record.status)}`);
  }
  return violations;
}
