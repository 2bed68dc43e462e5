/**
 * What must hold after every explored schedule, read from the tables (not from what the actors believe), for one
 * world's settlements and accounts:
 * - each settlement is terminal or parked, and its end agrees with its lock, the ledger and the bank's record
 *   (COMPLETED: lock POSTED, two postings of −amount, exactly the final attempt's transfer SETTLED at the bank;
 *   FAILED and not parked: no postings, lock not PENDING, no money out at the bank);
 * - its history is one chain: events numbered 1..version, each starting where the previous ended, each change
 *   allowed by the status graph (lambdas/domain/settlement.ts), in-place changes kept to the actors that make them
 *   and an operator's abandon the one extra edge; COMPLETED at most once and last;
 * - no duplicate ledger entries, transfers, compensations or operations;
 * - every account: ledger sums to balance, available = balance − locked, locked = Σ pending locks, available ≥ floor;
 * - Σ nostro − Σ vostro moved only by fund movements;
 * - the actors' outcomes agree with the record (an execution that ended Completed saw a COMPLETED settlement).
 */
import { withRecordParts } from '../../support/settlement-items';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { toMoney } from '../../../lambdas/adapters/dynamodb/client';
import { getAccountItem } from '../../../lambdas/adapters/dynamodb/account-store';
import { ledgerPartition } from '../../../lambdas/adapters/dynamodb/account-shards';
import { shardViolations } from '../../support/invariants';
import { DynamoMockBankStore } from '../../../lambdas/adapters/dynamodb/mock-bank-store';
import { Money } from '../../../lambdas/domain/money';
import { capPartsOf, capPartsTotal, capShareOf } from '../../../lambdas/domain/account-shards';
import { canTransition, isTerminal, type SettlementStatus } from '../../../lambdas/domain/settlement';
import type { Account } from '../../../lambdas/ports/stores';
import { executionEnd, type ActorOutcome, type World } from './world';

type Item = Record<string, any>;

/** Stages that rewrite a record without changing its status (resume, park). */
const inPlaceStages = ['Recovery', 'Operator', 'Cleanup', 'Retry', 'ParkSettlement'];

export interface BookBaseline {
  /** Σ nostro − Σ vostro of the world's accounts. */
  readonly nostroMinusVostro: Money;
}

export async function baselineOf(world: World): Promise<BookBaseline> {
  const accounts = await readAccounts(world);
  return { nostroMinusVostro: nostroMinusVostro(accounts) };
}

export async function worldViolations(world: World, baseline: BookBaseline, outcomes: ReadonlyArray<{ name: string; outcome: ActorOutcome | { error: unknown } }>): Promise<string[]> {
  const violations: string[] = [];
  for (const { name, outcome } of outcomes) {
    if ('error' in outcome) violations.push(`actor ${name} threw: ${String((outcome.error as Error)?.stack ?? outcome.error)}`);
    else if (outcome.kind.endsWith(':unexpected') || outcome.kind === 'execution:Failed') violations.push(`actor ${name} ended ${outcome.kind}: ${outcome.detail ?? ''}`);
  }
  const accounts = await readAccounts(world);
  const ledger = new Map<string, Item[]>();
  for (const account of accounts) {
    // A hot account's postings are spread over one ledger partition per shard.
    const partitions = Array.from({ length: account.shards?.length ?? 1 }, (_, shard) => ledgerPartition(account.accountId, shard));
    ledger.set(account.accountId, (await Promise.all(partitions.map((partition) => query(world, world.tables.ledger, 'accountId', partition)))).flat());
    for (const shard of account.shards ?? []) violations.push(...shardViolations(account.accountId, shard));
  }
  const pendingByAccount = new Map<string, Money>();
  const bank = new DynamoMockBankStore(world.client, world.tables);
  for (const settlementId of world.settlementIds) {
    const items = withRecordParts(await query(world, world.tables.settlements, 'pk', settlementId));
    const record = items.find((item) => item.sk === 'RECORD');
    if (!record) {
      violations.push(`${settlementId}: no record`);
      continue;
    }
    const lock = items.find((item) => item.sk === 'LOCK');
    if (lock?.lockState === 'PENDING') {
      for (const id of [String(lock.vostroAccountId), String(lock.nostroAccountId)]) pendingByAccount.set(id, (pendingByAccount.get(id) ?? new Money(0)).plus(toMoney(lock.amount)));
    }
    const events = items.filter((item) => String(item.sk).startsWith('EVENT#')).sort((a, b) => Number(a.seq) - Number(b.seq));
    const postings = [...ledger.values()].flat().filter((entry) => entry.kind === 'SETTLEMENT' && entry.reference === settlementId);
    const transfers = [];
    for (let attempt = 1; attempt <= Number(record.attempt); attempt++) {
      const stored = await bank.get(`${settlementId}:${attempt}`);
      if (stored) transfers.push(stored.transfer);
    }
    violations.push(...settlementViolations(settlementId, record, lock, events, postings, transfers, items, outcomes).map((violation) => `${settlementId}: ${violation}`));
  }
  for (const account of accounts) {
    const entries = ledger.get(account.accountId) ?? [];
    const sum = entries.reduce((total: Money, entry) => total.plus(toMoney(entry.amount)), new Money(0));
    if (!sum.equals(account.balance)) violations.push(`${account.accountId}: ledger sums to ${sum.toFixed()} but balance is ${account.balance.toFixed()}`);
    if (!account.available.equals(account.balance.minus(account.locked))) violations.push(`${account.accountId}: available ${account.available.toFixed()} ≠ balance ${account.balance.toFixed()} − locked ${account.locked.toFixed()}`);
    const pending = pendingByAccount.get(account.accountId) ?? new Money(0);
    if (!account.locked.equals(pending)) violations.push(`${account.accountId}: locked ${account.locked.toFixed()} but pending locks hold ${pending.toFixed()}`);
    if (account.available.lessThan(account.floor)) violations.push(`${account.accountId}: available ${account.available.toFixed()} below its floor ${account.floor.toFixed()}`);
    if (account.available.lessThan(0)) violations.push(`${account.accountId}: available ${account.available.toFixed()} below zero`);
    const references = entries.map((entry) => `${String(entry.kind)}#${String(entry.reference)}#${String(entry.leg)}`);
    const duplicates = references.filter((reference, index) => references.indexOf(reference) !== index);
    if (duplicates.length > 0) violations.push(`${account.accountId}: duplicate ledger entries ${[...new Set(duplicates)].join(', ')}`);
  }
  violations.push(...(await auditViolations(world, accounts)));
  const movements = [...ledger.entries()]
    .filter(([id]) => id.startsWith('VOSTRO#'))
    .flatMap(([, entries]) => entries)
    .filter((entry) => entry.kind === 'FUND_IN' || entry.kind === 'FUND_OUT')
    .reduce((total: Money, entry) => total.plus(toMoney(entry.amount)), new Money(0));
  const expected = baseline.nostroMinusVostro.minus(movements);
  const actual = nostroMinusVostro(accounts);
  if (!actual.equals(expected)) violations.push(`Σ nostro − Σ vostro is ${actual.toFixed()}, expected ${expected.toFixed()}`);
  return violations;
}

function settlementViolations(
  settlementId: string,
  record: Item,
  lock: Item | undefined,
  events: Item[],
  postings: Item[],
  transfers: Array<{ instruction: { idempotencyKey: string }; state: string }>,
  items: Item[],
  outcomes: ReadonlyArray<{ name: string; outcome: ActorOutcome | { error: unknown } }>,
): string[] {
  const violations: string[] = [];
  const status = record.status as SettlementStatus;
  const amount = toMoney(record.amount);
  if (!isTerminal(status) && !record.parked) violations.push(`left in ${status}, neither terminal nor parked`);
  // The history: one chain of allowed changes.
  if (events.length !== Number(record.version)) violations.push(`${events.length} events for record version ${String(record.version)}`);
  events.forEach((event, index) => {
    if (Number(event.seq) !== index + 1) violations.push(`event #${index + 1} has seq ${String(event.seq)}`);
    const previous = index === 0 ? null : (events[index - 1].status as SettlementStatus);
    if ((event.previousStatus ?? null) !== previous) violations.push(`event ${String(event.seq)} starts from ${String(event.previousStatus)} but the previous event ended in ${String(previous)}`);
    if (previous === null) return;
    const to = event.status as SettlementStatus;
    const allowed = (to === previous && inPlaceStages.includes(String(event.stage))) || canTransition(previous, to) || (event.stage === 'Operator' && to === 'FAILED');
    if (!allowed) violations.push(`event ${String(event.seq)}: ${previous} → ${to} by ${String(event.stage)} is not in the status graph`);
  });
  if (events.length > 0 && events[events.length - 1].status !== status) violations.push(`record is ${status} but the last event says ${String(events[events.length - 1].status)}`);
  const completions = events.filter((event) => event.status === 'COMPLETED' && event.previousStatus !== 'COMPLETED');
  if (completions.length > 1) violations.push(`completed ${completions.length} times`);
  if (completions.length === 1 && status !== 'COMPLETED') violations.push(`completed, then moved to ${status}`);
  // The end agrees with the lock, the ledger and the bank.
  const posted = postings.reduce((total: Money, entry) => total.plus(toMoney(entry.amount)), new Money(0));
  const out = transfers.filter((transfer) => transfer.state === 'ACCEPTED' || transfer.state === 'SETTLED');
  if (lock && !toMoney(lock.amount).equals(amount)) violations.push(`lock of ${toMoney(lock.amount).toFixed()} for a settlement of ${amount.toFixed()}`);
  if (status === 'COMPLETED') {
    if (lock?.lockState !== 'POSTED') violations.push(`COMPLETED but its lock is ${String(lock?.lockState)}`);
    if (postings.length !== 2 || !posted.equals(amount.times(-2))) violations.push(`COMPLETED with ${postings.length} postings summing to ${posted.toFixed()}`);
    const finalKey = `${settlementId}:${String(record.attempt)}`;
    if (out.length !== 1 || out[0].instruction.idempotencyKey !== finalKey || out[0].state !== 'SETTLED') violations.push(`COMPLETED but the bank holds ${describe(transfers)} (expected exactly ${finalKey} SETTLED)`);
  } else {
    if (postings.length > 0) violations.push(`${status} with ${postings.length} postings`);
    if (lock?.lockState === 'POSTED') violations.push(`${status} with a POSTED lock`);
    if (status === 'FAILED' && lock?.lockState === 'PENDING') violations.push('FAILED with its lock still PENDING');
    if (!record.parked && out.length > 0) violations.push(`${status} (not parked) while the bank holds ${describe(out)}: money out for a settlement the engine calls failed`);
  }
  // No duplicates of what must exist once.
  const operations = items.filter((item) => item.itemType === 'OPERATION');
  const operationAttempts = operations.map((item) => Number(item.attempt));
  if (new Set(operationAttempts).size !== operationAttempts.length) violations.push(`duplicate operations ${operationAttempts.join(', ')}`);
  const current = operations.find((item) => Number(item.attempt) === Number(record.attempt));
  // (An ended operation may be gone: cleanup deletes it after its retention.)
  if (status === 'COMPLETED' && current && current.operationState !== 'COMMITTED') violations.push(`COMPLETED but operation ${String(record.attempt)} is ${String(current?.operationState)}`);
  if (status === 'FAILED' && !record.parked && current && !['ROLLED_BACK', 'ABANDONED'].includes(String(current.operationState))) violations.push(`FAILED but operation ${String(record.attempt)} is ${String(current.operationState)}`);
  // What the actors saw agrees with what was written.
  const executions = outcomes
    .flatMap((entry) => ('error' in entry.outcome ? [] : [entry.outcome]))
    .filter((outcome) => outcome.kind.startsWith('execution:') && outcome.settlementId === settlementId)
    .map((outcome) => outcome.kind);
  const restarted = events.some((event) => event.status === 'PENDING' && event.previousStatus === 'FAILED');
  const operatorActed = events.some((event) => event.stage === 'Operator');
  if (executions.includes(executionEnd.completed) && status !== 'COMPLETED') violations.push(`an execution ended Completed but the settlement is ${status}`);
  if (executions.includes(executionEnd.rolledBack) && status !== 'FAILED' && !restarted) violations.push(`an execution ended RolledBack but the settlement is ${status}`);
  // A parked execution raises the alarm for a person: it must mean the settlement waits for one.
  if (executions.includes(executionEnd.parked) && !record.parked && !operatorActed) violations.push(`an execution ended Parked but the settlement is ${status} and not parked (a false alarm)`);
  return violations;
}

/**
 * Admin changes are each based on what their author read: the audit of one entity must be one chain (each change
 * starting from the state the previous one left). Two changes based on the same state mean one overwrote the other
 * unseen. A CLOSED account holds nothing; a lock taken after a freeze committed is a lock on a frozen account.
 */
async function auditViolations(world: World, accounts: readonly Account[]): Promise<string[]> {
  const violations: string[] = [];
  const audit = world.deps.operations!.audit;
  const entities: Array<['ACCOUNT' | 'BANK', string]> = [...world.accountIds.map((id) => ['ACCOUNT', id] as ['ACCOUNT', string]), ['BANK', world.payerBic], ['BANK', world.payeeBic]];
  for (const [entityType, entityId] of entities) {
    const entries = (await audit.listByEntity(entityType, entityId, { limit: 200 })).items.filter((entry) => entry.before !== null);
    const key = (snapshot: unknown) => JSON.stringify(entityType === 'ACCOUNT' ? (snapshot as { version: number }).version : (snapshot as { status: string }).status);
    const starts = entries.map((entry) => key(entry.before));
    const duplicates = starts.filter((start, index) => starts.indexOf(start) !== index);
    if (duplicates.length > 0) violations.push(`${entityType} ${entityId}: ${entries.length} admin changes, two of them from the same state ${duplicates[0]} (a lost update): ${entries.map((entry) => entry.action).join(', ')}`);
  }
  for (const account of accounts) {
    if (account.status === 'CLOSED' && (!account.balance.isZero() || !account.locked.isZero())) violations.push(`${account.accountId}: CLOSED with balance ${account.balance.toFixed()} and ${account.locked.toFixed()} locked`);
  }
  const freezes = (await audit.listByEntity('ACCOUNT', world.vostroId, { limit: 200 })).items.filter((entry) => entry.action === 'ACCOUNT.FREEZE');
  for (const freeze of freezes) {
    // Frozen before this settlement held or posted anything: nothing locked, the opening balance untouched.
    const before = freeze.before as { locked: string; balance: string };
    const untouched = new Money(before.locked).isZero() && new Money(before.balance).equals(world.options.payerBalance ?? '150.00');
    for (const settlementId of world.settlementIds) {
      const lock = await world.deps.settlements.getLock(settlementId);
      if (lock && untouched && !freezes.some((entry) => entry.after !== null && (entry.after as { status: string }).status === 'ACTIVE')) {
        violations.push(`${settlementId}: a lock on ${world.vostroId} taken after the account was frozen with nothing locked`);
      }
    }
  }
  return violations;
}

function describe(transfers: ReadonlyArray<{ instruction: { idempotencyKey: string }; state: string }>): string {
  return transfers.length === 0 ? 'nothing' : transfers.map((transfer) => `${transfer.instruction.idempotencyKey}=${transfer.state}`).join(', ');
}

async function readAccounts(world: World): Promise<Account[]> {
  const accounts: Account[] = [];
  for (const id of world.accountIds) {
    // A hot account's figures are its shards' sums (read as one snapshot).
    const account = await getAccountItem(world.client, world.tables, id);
    if (account) accounts.push(account);
  }
  return accounts;
}

function nostroMinusVostro(accounts: readonly Account[]): Money {
  return accounts.reduce((total, account) => (account.accountType === 'NOSTRO' ? total.plus(account.balance) : total.minus(account.balance)), new Money(0));
}

async function query(world: World, table: string, keyName: string, value: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  for (let page = 0; page < 50; page++) {
    const result = await world.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': keyName }, ExpressionAttributeValues: { ':v': value }, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(result.Items ?? []));
    startKey = result.LastEvaluatedKey;
    if (!startKey) break;
  }
  return items;
}

/**
 * A world whose payer has a net debit cap, read while nothing runs (between two waves of operations): the payer's
 * vostro holds at most the cap; on a hot account its cap parts sum to the whole and every shard holds at most its
 * share.
 */
export async function capViolations(world: World): Promise<string[]> {
  const { netDebitCap } = world.options;
  if (netDebitCap === undefined) return [];
  const cap = new Money(netDebitCap);
  const account = await world.deps.accounts.get(world.vostroId);
  if (!account) return [`${world.vostroId}: missing`];
  const violations: string[] = [];
  if (account.locked.greaterThan(cap)) violations.push(`${world.vostroId}: ${account.locked.toFixed(2)} locked, above its net debit cap of ${netDebitCap}`);
  const shards = account.shards ?? [];
  const parts = shards.map((shard) => capPartsOf(shard, shards.length));
  if (shards.length > 0 && parts.reduce((total, part) => total + part, 0) !== capPartsTotal) violations.push(`${world.vostroId}: cap parts ${parts.join(' + ')} do not sum to ${capPartsTotal}`);
  for (const [index, shard] of shards.entries()) {
    const share = capShareOf(cap, parts[index], 'EUR');
    if (shard.locked.greaterThan(share)) violations.push(`${world.vostroId} shard ${shard.shard}: ${shard.locked.toFixed(2)} locked, above its share ${share.toFixed(2)} of the cap (${parts[index]} parts)`);
  }
  return violations;
}
