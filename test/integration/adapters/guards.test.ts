/**
 * The DynamoDB adapters' own guarantees, each held by its item's condition and checked here against DynamoDB Local
 * directly, below the use cases: most of these conditions sit in a transaction beside the record's
 * status-and-version guard, which the race harness (test/races) shows stops every concurrent actor first. These
 * tests are what needs them: they present the adapter with a store that disagrees with the record (a lock already
 * ended, an item already there, a stale snapshot) and require that nothing is overwritten, nothing goes negative
 * and nothing is written at all. `npm run ablate` weakens each condition in turn; every one here must fail a test.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAccountStore, DynamoReferenceStore, ledgerEntryKey } from '../../../lambdas/adapters/dynamodb/account-store';
import { DynamoOperationsStore } from '../../../lambdas/adapters/dynamodb/operations-store';
import { DynamoRecoveryStore } from '../../../lambdas/adapters/dynamodb/recovery-store';
import { DynamoSettlementStore, SortKey } from '../../../lambdas/adapters/dynamodb/settlement-store';
import { toNumberValue } from '../../../lambdas/adapters/dynamodb/client';
import { holdReadOfAccount, shardKey } from '../../../lambdas/adapters/dynamodb/account-shards';
import { NetDebitCapExceededError } from '../../../lambdas/domain/errors';
import { capPartsTotal } from '../../../lambdas/domain/account-shards';
import { Money } from '../../../lambdas/domain/money';
import { parseSettlementRequest } from '../../../lambdas/domain/settlement';
import { parseSettlementWindow } from '../../../lambdas/domain/window';
import { StaleAccountPlanError, StaleSettlementError, type Effect, type FundLock, type SettlementRecord } from '../../../lambdas/ports/stores';
import type { Proposal } from '../../../lambdas/ports/operations';
import { racesTables, type RacesTables } from '../../races/harness/scenario';

// Audit ids are random: the audit test fixes one to make two entries collide (every other call stays random).
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return { ...actual, randomUUID: jest.fn(() => actual.randomUUID()) };
});

let database: RacesTables;
let settlements: DynamoSettlementStore;
let accounts: DynamoAccountStore;
let reference: DynamoReferenceStore;
let operations: DynamoOperationsStore;
let sequence = 0;

beforeAll(async () => {
  database = await racesTables();
  settlements = new DynamoSettlementStore(database.client, database.tables);
  accounts = new DynamoAccountStore(database.client, database.tables);
  reference = new DynamoReferenceStore(database.client, database.tables);
  operations = new DynamoOperationsStore(database.client, database.tables);
});
afterAll(() => database?.destroy());

const now = () => new Date().toISOString();

/** A fresh payer vostro and payee nostro (unique BICs) and a PENDING settlement of 100.00 between them. */
async function fixture(balance = '150.00', payerShards = 1) {
  let n = ++sequence;
  let code = '';
  for (let index = 0; index < 3; index++) {
    code = String.fromCharCode(65 + (n % 26)) + code;
    n = Math.floor(n / 26);
  }
  const payerBic = `G${code}DEFF`;
  const payeeBic = `G${code}FRPP`;
  for (const [bic, country] of [[payerBic, 'DE'], [payeeBic, 'FR']] as const) await reference.registerBank({ bic, name: `Guard ${bic}`, country, status: 'ACTIVE' }, now());
  await accounts.open({ accountType: 'VOSTRO', bic: payerBic, currency: 'EUR', floor: new Money(0), openingBalance: new Money(balance), shards: payerShards }, now());
  await accounts.open({ accountType: 'NOSTRO', bic: payeeBic, currency: 'EUR', floor: new Money(0), openingBalance: new Money('1000.00') }, now());
  const request = parseSettlementRequest({ settlementId: `guard-${randomUUID().slice(0, 12)}`, payerBic, payeeBic, amount: '100.00', currency: 'EUR', rail: 'SEPA', kind: 'DOMESTIC', valueDate: '2026-11-25', reference: 'guards' });
  const created = await settlements.create(request, now());
  const vostroId = `VOSTRO#${payerBic}#EUR`;
  const nostroId = `NOSTRO#${payeeBic}#EUR`;
  // The accounts Validate chooses: a lock's legs are the record's own.
  const record = await settlements.transition({ record: created.record, to: 'PENDING', stage: 'GuardTest', at: now(), patch: { payerAccountId: vostroId, nostroAccountId: nostroId, nostroBic: payeeBic } });
  return { record, vostroId, nostroId, payerBic, payeeBic };
}

function lockOf(record: SettlementRecord, vostroId: string, nostroId: string, state: FundLock['state'] = 'PENDING'): FundLock {
  return { settlementId: record.settlementId, state, amount: new Money(record.amount), currency: 'EUR', vostroAccountId: vostroId, nostroAccountId: nostroId, createdAt: now(), expiresAt: now() };
}

/** One in-place transition of the record carrying `effects`: its own guard passes, only the effects' can fail. */
const transitionWith = (record: SettlementRecord, effects: readonly Effect[]) => settlements.transition({ record, to: record.status, stage: 'GuardTest', at: now(), effects });

async function item(table: string, key: Record<string, string>) {
  return (await database.client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
}

async function balances(id: string) {
  const account = await accounts.get(id);
  return { balance: account!.balance.toFixed(2), locked: account!.locked.toFixed(2), available: account!.available.toFixed(2), version: account!.version };
}

describe('DynamoSettlementStore.transition', () => {
  it('moves a record only from the status and version it was read at', async () => {
    const { record } = await fixture();
    await settlements.transition({ record, to: 'VALIDATED', stage: 'Validate', at: now() });
    await expect(settlements.transition({ record, to: 'ROLLING_BACK', stage: 'BeginRollback', at: now() })).rejects.toBeInstanceOf(StaleSettlementError);
    expect((await settlements.get(record.settlementId))?.status).toBe('VALIDATED');
  });

  it('locks funds only on an active account of the currency, above its floor, with the floor it was read with', async () => {
    const { record, vostroId, nostroId } = await fixture();
    const vostro = (await accounts.get(vostroId))!;
    const lockOn = (account: typeof vostro, amount: string) => transitionWith(record, [{ type: 'lockAmount', account: holdReadOfAccount(account), amount: new Money(amount) }]);
    await expect(lockOn(vostro, '150.01')).rejects.toThrow(/less than .* available/);
    await expect(lockOn({ ...vostro, floor: new Money('-100.00') }, '200.00')).rejects.toThrow(/less than .* available/);
    await expect(lockOn({ ...vostro, currency: 'USD' }, '1.00')).rejects.toThrow();
    const nostro = (await accounts.get(nostroId))!;
    await operations.setStatus(nostro, 'FROZEN', 'ACCOUNT.FREEZE', { actor: 'guard-test', at: now() });
    await expect(lockOn(nostro, '1.00')).rejects.toThrow(/FROZEN|not active/i);
    expect((await balances(vostroId)).locked).toBe('0.00');
    expect((await balances(nostroId)).locked).toBe('0.00');
  });
  it('never locks past the payer\'s net debit cap, whatever the snapshot the lock was decided on shows held', async () => {
    const { record, vostroId } = await fixture();
    const vostro = (await accounts.get(vostroId))!;
    const netDebitCap = new Money('120.00');
    await transitionWith(record, [{ type: 'lockAmount', account: holdReadOfAccount(vostro), amount: new Money('100.00'), netDebitCap }]);
    const current = (await settlements.get(record.settlementId))!;
    // Decided on the snapshot taken before that lock (nothing held): 30.00 fits what is available, not the cap.
    await expect(transitionWith(current, [{ type: 'lockAmount', account: holdReadOfAccount(vostro), amount: new Money('30.00'), netDebitCap }])).rejects.toBeInstanceOf(NetDebitCapExceededError);
    expect(await balances(vostroId)).toMatchObject({ locked: '100.00', available: '50.00' });
  });

  it('never lets a hot payer\'s locks pass its net debit cap: a donor of cap parts keeps its own locked within the share it keeps', async () => {
    // Two balance shards, cap 1,000.00: 500.00 of it on each shard until a lock moves parts.
    const { record, vostroId } = await fixture('5000.00', 2);
    const netDebitCap = new Money('1000.00');
    const before = (await accounts.get(vostroId))!;
    // Meanwhile, 400.00 locks on shard 0 (its own share covers it: no parts move).
    await transitionWith(record, [{ type: 'lockAmount', account: holdReadOfAccount(before, 0), amount: new Money('400.00'), netDebitCap }]);
    // Planned on the read before it: 700.00 on shard 1 takes 200,000 parts from shard 0, whose 300.00 share left
    // would now hold 400.00. Refused as a stale plan (decided again on a fresh read); nothing written.
    const current = (await settlements.get(record.settlementId))!;
    await expect(transitionWith(current, [{ type: 'lockAmount', account: holdReadOfAccount(before, 1), amount: new Money('700.00'), netDebitCap }])).rejects.toBeInstanceOf(StaleAccountPlanError);
    expect(await balances(vostroId)).toMatchObject({ locked: '400.00' });
    // On a fresh read the account has 600.00 of room: 700.00 is the cap exceeded, 600.00 locks (parts move to shard 1).
    const fresh = (await accounts.get(vostroId))!;
    const latest = (await settlements.get(record.settlementId))!;
    await expect(transitionWith(latest, [{ type: 'lockAmount', account: holdReadOfAccount(fresh, 1), amount: new Money('700.00'), netDebitCap }])).rejects.toMatchObject({ name: NetDebitCapExceededError.name, position: '1100.00' });
    await transitionWith(latest, [{ type: 'lockAmount', account: holdReadOfAccount(fresh, 1), amount: new Money('600.00'), netDebitCap }]);
    const parts = [await item(database.tables.accounts, { accountId: vostroId }), await item(database.tables.accounts, { accountId: `${vostroId}#S1` })].map((shard) => Number(shard?.capParts));
    expect(parts).toEqual([400_000, 600_000]);
    expect(parts[0] + parts[1]).toBe(capPartsTotal);
    expect(await balances(vostroId)).toMatchObject({ locked: '1000.00' });
  });

  it('never lets a hot payer\'s locks pass its net debit cap: a home shard\'s cap parts are pinned as the lock read them', async () => {
    const { record, vostroId } = await fixture('5000.00', 2);
    const netDebitCap = new Money('1000.00');
    const before = (await accounts.get(vostroId))!;
    // Meanwhile, 800.00 on shard 0 takes 300,000 parts from shard 1 (shard 1's share is now 200.00).
    await transitionWith(record, [{ type: 'lockAmount', account: holdReadOfAccount(before, 0), amount: new Money('800.00'), netDebitCap }]);
    // Decided on the read before it: 400.00 fits shard 1's 500.00 share as read, not its 200.00 share now.
    const current = (await settlements.get(record.settlementId))!;
    await expect(transitionWith(current, [{ type: 'lockAmount', account: holdReadOfAccount(before, 1), amount: new Money('400.00'), netDebitCap }])).rejects.toBeInstanceOf(StaleAccountPlanError);
    expect(await balances(vostroId)).toMatchObject({ locked: '800.00' });
  });

  it('never cuts the history: a record presented without all its checkpoints is refused and nothing is written', async () => {
    const { record } = await fixture();
    await expect(settlements.transition({ record: { ...record, checkpoints: record.checkpoints!.slice(1) }, to: 'VALIDATED', stage: 'Validate', at: now() })).rejects.toThrow(/checkpoints/);
    const stored = (await settlements.history(record.settlementId))!;
    expect(stored.record).toMatchObject({ status: 'PENDING', version: record.version });
    expect(stored.events.map((event) => event.seq)).toEqual([1, 2]);
  });

  it('appends every checkpoint a transition passes through, in seq order, in one write', async () => {
    const { record } = await fixture();
    await settlements.transition({ record, to: 'LOCKED', stage: 'LockFunds', at: now(), via: [{ status: 'VALIDATED', stage: 'Validate', at: now() }] });
    const events = (await settlements.history(record.settlementId))!.events;
    expect(events.map((event) => [event.seq, event.previousStatus, event.status])).toEqual([
      [1, null, 'PENDING'],
      [2, 'PENDING', 'PENDING'],
      [3, 'PENDING', 'VALIDATED'],
      [4, 'VALIDATED', 'LOCKED'],
    ]);
  });

  it('stores a stage, the last change\'s time and an attempt\'s start only where they say more than the record, and reads every layout back whole', async () => {
    const { record } = await fixture();
    const at = now();
    await settlements.transition({ record, to: 'VALIDATED', stage: 'Validate', at });
    const raw = (await item(database.tables.settlements, { pk: record.settlementId, sk: SortKey.record }))!;
    expect(raw.cp.map((checkpoint: Record<string, unknown>) => checkpoint.g)).toEqual([undefined, 'GuardTest', undefined]);
    expect([raw.updatedAt, raw.attemptStartedAt]).toEqual([undefined, undefined]);
    const read = (await settlements.get(record.settlementId))!;
    expect(read.checkpoints!.map((checkpoint) => checkpoint.stage)).toEqual(['Submit', 'GuardTest', 'Validate']);
    expect(read).toMatchObject({ updatedAt: at, attemptStartedAt: record.createdAt });
    // A later attempt starts after the creation (the retry job's patch): then it is stored.
    const retriedAt = new Date(Date.parse(at) + 1000).toISOString();
    await settlements.transition({ record: read, to: 'ROLLING_BACK', stage: 'BeginRollback', at: retriedAt, patch: { attempt: 2, attemptStartedAt: retriedAt } });
    expect((await item(database.tables.settlements, { pk: record.settlementId, sk: SortKey.record }))?.attemptStartedAt).toBe(retriedAt);
    expect(await settlements.get(record.settlementId)).toMatchObject({ attempt: 2, attemptStartedAt: retriedAt, updatedAt: retriedAt });
    // A record written whole (the layout before): every stored value wins over what would be derived.
    const whole = { ...raw, attempt: 1, updatedAt: '2026-01-02T00:00:00.000Z', attemptStartedAt: '2026-01-01T00:00:00.000Z', cp: raw.cp.map((checkpoint: Record<string, unknown>) => ({ ...checkpoint, g: 'Written' })) };
    await database.client.send(new PutCommand({ TableName: database.tables.settlements, Item: whole }));
    const legacy = (await settlements.get(record.settlementId))!;
    expect(legacy.checkpoints!.map((checkpoint) => checkpoint.stage)).toEqual(['Written', 'Written', 'Written']);
    expect(legacy).toMatchObject({ updatedAt: '2026-01-02T00:00:00.000Z', attemptStartedAt: '2026-01-01T00:00:00.000Z' });
  });

  it('never creates a second pending lock over one that is pending or posted', async () => {
    const { record, vostroId, nostroId } = await fixture();
    await transitionWith(record, [{ type: 'createLock', lock: lockOf(record, vostroId, nostroId) }]);
    const current = (await settlements.get(record.settlementId))!;
    await expect(transitionWith(current, [{ type: 'createLock', lock: { ...lockOf(record, vostroId, nostroId), amount: new Money('1.00') } }])).rejects.toThrow(/createLock/);
    expect((await settlements.getLock(record.settlementId))?.amount.toFixed(2)).toBe('100.00');
  });

  it('replaces a voided lock when a later attempt locks again', async () => {
    const { record, vostroId, nostroId } = await fixture();
    await transitionWith(record, [{ type: 'createLock', lock: lockOf(record, vostroId, nostroId, 'VOIDED') }]);
    const current = (await settlements.get(record.settlementId))!;
    await transitionWith(current, [{ type: 'createLock', lock: lockOf(record, vostroId, nostroId) }]);
    expect((await settlements.getLock(record.settlementId))?.state).toBe('PENDING');
  });

  it('ends a lock only while it is pending and only for its own amount', async () => {
    const { record, vostroId, nostroId } = await fixture();
    await transitionWith(record, [{ type: 'createLock', lock: lockOf(record, vostroId, nostroId, 'VOIDED') }]);
    let current = (await settlements.get(record.settlementId))!;
    await expect(transitionWith(current, [{ type: 'endLock', settlementId: record.settlementId, amount: new Money('100.00'), to: 'POSTED', at: now() }])).rejects.toThrow(/endLock/);
    expect((await settlements.getLock(record.settlementId))?.state).toBe('VOIDED');
    await transitionWith(current, [{ type: 'createLock', lock: lockOf(record, vostroId, nostroId) }]);
    current = (await settlements.get(record.settlementId))!;
    await expect(transitionWith(current, [{ type: 'endLock', settlementId: record.settlementId, amount: new Money('99.99'), to: 'VOIDED', at: now() }])).rejects.toThrow(/endLock/);
    expect((await settlements.getLock(record.settlementId))?.state).toBe('PENDING');
  });

  it('never releases or posts more than an account has locked (locked never goes negative)', async () => {
    const { record, vostroId, nostroId } = await fixture();
    const before = await balances(vostroId);
    await expect(transitionWith(record, [{ type: 'releaseLockedAmount', accountId: vostroId, amount: new Money('100.00') }])).rejects.toThrow(/releaseLockedAmount/);
    await expect(transitionWith(record, [{ type: 'postLockedAmount', accountId: nostroId, amount: new Money('100.00') }])).rejects.toThrow(/postLockedAmount/);
    expect(await balances(vostroId)).toEqual(before);
    expect((await balances(nostroId)).locked).toBe('0.00');
  });

  it('never overwrites a ledger entry', async () => {
    const { record, vostroId } = await fixture();
    const entry = { accountId: vostroId, amount: new Money('-100.00'), currency: 'EUR', kind: 'SETTLEMENT' as const, reference: record.settlementId, leg: 'PAYER_VOSTRO', postedAt: now(), valueDate: '2026-11-25' };
    await transitionWith(record, [{ type: 'ledgerEntry', entry }]);
    const current = (await settlements.get(record.settlementId))!;
    await expect(transitionWith(current, [{ type: 'ledgerEntry', entry: { ...entry, amount: new Money('-1.00') } }])).rejects.toThrow(/ledgerEntry/);
    expect(String((await item(database.tables.ledger, { accountId: vostroId, entryKey: ledgerEntryKey(entry) }))?.amount)).toBe('-100');
  });

  it('never starts an operation twice, ends only an operation that exists, and never overwrites a compensation', async () => {
    const { record } = await fixture();
    await expect(transitionWith(record, [{ type: 'startOperation', attempt: 1, at: now() }])).rejects.toThrow(/startOperation/);
    await expect(transitionWith(record, [{ type: 'endOperation', attempt: 2, state: 'COMMITTED', at: now() }])).rejects.toThrow(/endOperation/);
    expect((await settlements.get(record.settlementId))?.operations).toEqual([{ attempt: 1, state: 'STARTED', startedAt: record.createdAt }]);
    const compensation = { settlementId: record.settlementId, attempt: 1, idempotencyKey: `${record.settlementId}:1`, state: 'REVERSED' as const, reason: 'first', at: now() };
    await transitionWith(record, [{ type: 'putCompensation', compensation }]);
    const current = (await settlements.get(record.settlementId))!;
    await expect(transitionWith(current, [{ type: 'putCompensation', compensation: { ...compensation, state: 'NOT_REQUIRED', reason: 'second' } }])).rejects.toThrow(/putCompensation/);
    expect((await settlements.history(record.settlementId))?.compensations.map((entry) => entry.reason)).toEqual(['first']);
  });
});

describe('DynamoSettlementStore.create', () => {
  it('never overwrites a record: a second create of the same id returns the first, unchanged', async () => {
    const request = parseSettlementRequest({ settlementId: `guard-${randomUUID().slice(0, 12)}`, payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: '1.00', currency: 'EUR', rail: 'SEPA', kind: 'DOMESTIC', valueDate: '2026-11-25', reference: 'guards' });
    const first = await settlements.create(request, now());
    const moved = await settlements.transition({ record: first.record, to: 'VALIDATED', stage: 'Validate', at: now() });
    const second = await settlements.create({ ...request, amount: '2.00' }, now());
    expect(second).toMatchObject({ created: false, record: { amount: '1.00', status: 'VALIDATED', version: moved.version } });
    expect((await settlements.history(request.settlementId))?.events.map((event) => event.status)).toEqual(['PENDING', 'VALIDATED']);
  });
});

describe('DynamoRecoveryStore.deleteEndedOperations', () => {
  it('deletes only operations that ended, and counts an operation once when two cleanups race', async () => {
    // OPERATION items are the layout before the lean write path (operations now live in the record): planted here.
    const { record } = await fixture();
    const running = { settlementId: record.settlementId, attempt: 1 };
    const operation = { pk: record.settlementId, sk: SortKey.operation(1), itemType: 'OPERATION', attempt: 1, operationState: 'STARTED', startedAt: now() };
    await database.client.send(new PutCommand({ TableName: database.tables.settlements, Item: operation }));
    expect(await new DynamoRecoveryStore(database.client, database.tables, []).deleteEndedOperations([running])).toBe(0);
    expect(await item(database.tables.settlements, { pk: record.settlementId, sk: SortKey.operation(1) })).toBeDefined();
    await database.client.send(new PutCommand({ TableName: database.tables.settlements, Item: { ...operation, operationState: 'ROLLED_BACK', endedAt: now() } }));
    const store = new DynamoRecoveryStore(database.client, database.tables, []);
    const counts = [await store.deleteEndedOperations([running]), await store.deleteEndedOperations([running])];
    expect(counts).toEqual([1, 0]);
  });
});

describe('DynamoAccountStore and DynamoReferenceStore', () => {
  it('open never overwrites an account nor an opening entry', async () => {
    const { vostroId, payerBic } = await fixture();
    await expect(accounts.open({ accountType: 'VOSTRO', bic: payerBic, currency: 'EUR', floor: new Money(0), openingBalance: new Money('5.00') }, now())).rejects.toThrow(/already exists/);
    expect((await balances(vostroId)).balance).toBe('150.00');
    const at = now();
    const id = `VOSTRO#${payerBic}#USD`;
    const entry = { accountId: id, postedAt: at, reference: `OPENING-${id}`, leg: 'OPENING' };
    await database.client.send(new PutCommand({ TableName: database.tables.ledger, Item: { ...entry, entryKey: ledgerEntryKey(entry), amount: toNumberValue('7'), kind: 'OPENING' } }));
    await expect(accounts.open({ accountType: 'VOSTRO', bic: payerBic, currency: 'USD', floor: new Money(0), openingBalance: new Money('5.00') }, at)).rejects.toThrow();
    expect(await accounts.get(id)).toBeUndefined();
  });

  it('never overwrites a bank or a payout route that exists', async () => {
    const { payerBic, payeeBic } = await fixture();
    expect(await reference.registerBank({ bic: payerBic, name: 'Someone Else', country: 'DE', status: 'SUSPENDED' }, now())).toBe(false);
    expect(await reference.getBank(payerBic)).toMatchObject({ name: `Guard ${payerBic}`, status: 'ACTIVE' });
    expect(await reference.putPayoutRoute({ payeeBic, currency: 'EUR', nostroAccountId: 'NOSTRO#FIRST' }, now())).toBe(true);
    expect(await reference.putPayoutRoute({ payeeBic, currency: 'EUR', nostroAccountId: 'NOSTRO#SECOND' }, now())).toBe(false);
    expect(await reference.getPayoutRoute(payeeBic, 'EUR')).toEqual({ nostroAccountId: 'NOSTRO#FIRST' });
  });
});

describe('DynamoOperationsStore', () => {
  const actor = () => ({ actor: 'guard-test', at: now() });

  it('registers a bank once, and changes its status only from the status it was read in', async () => {
    const { payerBic } = await fixture();
    const bank = (await operations.getBank(payerBic))!;
    expect(await operations.registerBank({ ...bank, name: 'Overwritten' }, actor())).toBe(false);
    expect(await operations.setBankStatus(bank, 'SUSPENDED', actor())).toBe(true);
    // A second operator still holding the ACTIVE snapshot must not close over the suspension unseen.
    expect(await operations.setBankStatus(bank, 'CLOSED', actor())).toBe(false);
    expect(await operations.getBank(payerBic)).toMatchObject({ name: `Guard ${payerBic}`, status: 'SUSPENDED' });
  });

  it('opens no account at a bank that is not active, and never overwrites an account or its opening entry', async () => {
    const { payerBic, vostroId } = await fixture();
    expect(await operations.open({ accountType: 'VOSTRO', bic: payerBic, currency: 'EUR', floor: new Money(0), openingBalance: new Money('1.00') }, actor())).toBe('exists');
    expect((await balances(vostroId)).balance).toBe('150.00');
    const at = actor();
    const id = `NOSTRO#${payerBic}#USD`;
    const entry = { accountId: id, postedAt: at.at, reference: `OPENING-${id}`, leg: 'OPENING' };
    await database.client.send(new PutCommand({ TableName: database.tables.ledger, Item: { ...entry, entryKey: ledgerEntryKey(entry), amount: toNumberValue('7'), kind: 'OPENING' } }));
    await expect(operations.open({ accountType: 'NOSTRO', bic: payerBic, currency: 'USD', floor: new Money(0), openingBalance: new Money('5.00') }, at)).rejects.toThrow();
    expect(await operations.get(id)).toBeUndefined();
    const bank = (await operations.getBank(payerBic))!;
    await operations.setBankStatus(bank, 'SUSPENDED', actor());
    expect(await operations.open({ accountType: 'NOSTRO', bic: payerBic, currency: 'GBP', floor: new Money(0), openingBalance: new Money('1.00') }, actor())).toBe('bankNotActive');
    expect(await operations.get(`NOSTRO#${payerBic}#GBP`)).toBeUndefined();
  });

  it('posts a movement once: an existing movement record or ledger entry stops it, and nothing is written', async () => {
    const { vostroId } = await fixture();
    const account = (await operations.get(vostroId))!;
    const movement = { movementId: `mov-${randomUUID().slice(0, 8)}`, accountId: vostroId, direction: 'FUND_IN' as const, amount: '10.00', currency: 'EUR', valueDate: '2026-11-25', reference: 'guards', postedAt: now(), actor: 'guard-test' };
    expect(await operations.postMovement(account, movement, actor())).toMatchObject({ committed: true });
    const after = (await operations.get(vostroId))!;
    expect(await operations.postMovement(after, { ...movement, postedAt: now() }, actor())).toMatchObject({ committed: false, reason: 'movementExists' });
    const entry = { accountId: vostroId, postedAt: now(), reference: `mov-${randomUUID().slice(0, 8)}`, leg: 'FUND_IN' };
    await database.client.send(new PutCommand({ TableName: database.tables.ledger, Item: { ...entry, entryKey: ledgerEntryKey(entry), amount: toNumberValue('1'), kind: 'FUND_IN' } }));
    await expect(operations.postMovement(after, { ...movement, movementId: entry.reference, postedAt: entry.postedAt }, actor())).rejects.toThrow();
    expect((await balances(vostroId)).balance).toBe('160.00');
  });

  it('changes an account only from the version it was read at, and never takes a fund-out below the floor', async () => {
    const { vostroId } = await fixture();
    const stale = (await operations.get(vostroId))!;
    const movement = (movementId: string, direction: 'FUND_IN' | 'FUND_OUT', amount: string) => ({ movementId, accountId: vostroId, direction, amount, currency: 'EUR', valueDate: '2026-11-25', reference: 'guards', postedAt: now(), actor: 'guard-test' });
    expect(await operations.postMovement(stale, movement(`mov-${randomUUID().slice(0, 8)}`, 'FUND_IN', '1.00'), actor())).toMatchObject({ committed: true });
    // Every write below works from the snapshot taken before that fund-in.
    expect(await operations.postMovement(stale, movement(`mov-${randomUUID().slice(0, 8)}`, 'FUND_IN', '1.00'), actor())).toMatchObject({ committed: false, reason: 'changed' });
    expect(await operations.setFloor(stale, new Money('10.00'), actor())).toMatchObject({ committed: false, reason: 'changed' });
    expect(await operations.setStatus(stale, 'FROZEN', 'ACCOUNT.FREEZE', actor())).toMatchObject({ committed: false, reason: 'changed' });
    const current = (await operations.get(vostroId))!;
    expect(await operations.setFloor(current, new Money('151.01'), actor())).toMatchObject({ committed: false });
    // A snapshot that claims more available than there is: the store's own condition refuses the withdrawal.
    expect(await operations.postMovement({ ...current, available: new Money('1000.00') }, movement(`mov-${randomUUID().slice(0, 8)}`, 'FUND_OUT', '500.00'), actor())).toMatchObject({ committed: false });
    expect(await balances(vostroId)).toMatchObject({ balance: '151.00', available: '151.00' });
    expect((await operations.get(vostroId))).toMatchObject({ status: 'ACTIVE' });
    expect((await operations.get(vostroId))?.floor.toFixed(2)).toBe('0.00');
  });

  it('tells a floor change on a hot account that another shard than the first changed since it was read (found by the fault soak, seed 12)', async () => {
    const { vostroId } = await fixture('400.00', 4);
    const stale = (await operations.get(vostroId))!;
    // A lock landed on shard 2 after the operator's read: its version moved, the head's did not.
    await database.client.send(new UpdateCommand({ TableName: database.tables.accounts, Key: { accountId: shardKey(vostroId, 2) }, UpdateExpression: 'SET version = version + :one', ExpressionAttributeValues: { ':one': 1 } }));
    expect(await operations.setFloor(stale, new Money('40.00'), actor())).toMatchObject({ committed: false, reason: 'changed' });
    expect((await operations.get(vostroId))?.floor.toFixed(2)).toBe('0.00');
  });

  it('closes an account only when nothing is left on it, even on a snapshot that says otherwise', async () => {
    const { vostroId } = await fixture('0.00');
    const account = (await operations.get(vostroId))!;
    // The snapshot claims the account is empty; a fund-in landed in between without moving the version (a hand-made
    // change): the close must still see the balance.
    await database.client.send(new PutCommand({ TableName: database.tables.accounts, Item: { ...(await item(database.tables.accounts, { accountId: vostroId })), balance: toNumberValue('5'), available: toNumberValue('5') } }));
    expect(await operations.setStatus(account, 'CLOSED', 'ACCOUNT.CLOSE', actor())).toMatchObject({ committed: false });
    expect((await operations.get(vostroId))?.status).toBe('ACTIVE');
  });

  it('replaces a window only from the version it was read at, and creates one only where none exists', async () => {
    const currency = ['SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF'][sequence++ % 6];
    const window = parseSettlementWindow({ currency, timeZone: 'Europe/Stockholm', days: ['MON'], opensAt: '08:00', cutoffAt: '16:00', holidays: [] }, 'window');
    const fresh = operations;
    const existing = await fresh.getWindow(currency);
    const version = existing?.version ?? 0;
    expect(await fresh.putWindow(window, version, 'WINDOW.REPLACE', actor())).toBe(true);
    expect(await fresh.putWindow({ ...window, opensAt: '09:00' }, version, 'WINDOW.REPLACE', actor())).toBe(false);
    expect((await fresh.getWindow(currency))?.window.opensAt).toBe('08:00');
  });

  it('never overwrites an audit entry (the trail only grows)', async () => {
    const { payerBic } = await fixture();
    const fixedId = randomUUID();
    const at = now();
    const bank = (await operations.getBank(payerBic))!;
    (randomUUID as jest.MockedFunction<typeof randomUUID>).mockReturnValueOnce(fixedId).mockReturnValueOnce(fixedId);
    expect(await operations.setBankStatus(bank, 'SUSPENDED', { actor: 'first', at })).toBe(true);
    await expect(operations.setBankStatus({ ...bank, status: 'SUSPENDED' }, 'ACTIVE', { actor: 'second', at })).rejects.toThrow();
    const trail = await database.client.send(new QueryCommand({ TableName: database.tables.reference, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': `AUDIT#BANK#${payerBic}` } }));
    expect(trail.Items?.map((entry) => entry.actor)).toEqual(['first']);
    expect((await operations.getBank(payerBic))?.status).toBe('SUSPENDED');
  });
});

describe('DynamoOperationsStore: two operators on one proposal or one audit chain head', () => {
  const at = (offsetMs = 0) => new Date(Date.now() + offsetMs).toISOString();
  const proposalOf = (): Proposal => ({
    proposalId: randomUUID(),
    action: 'FREEZE',
    target: 'VOSTRO#GUARDEFF#EUR',
    request: {},
    summary: 'FREEZE VOSTRO#GUARDEFF#EUR',
    status: 'PENDING',
    proposedBy: 'maker',
    proposedAt: at(),
    expiresAt: at(3600_000),
  });

  it('records a proposal once: a second one with the same id is refused and the first kept', async () => {
    const proposal = proposalOf();
    await operations.createProposal(proposal, { actor: 'maker', at: at() });
    await expect(operations.createProposal({ ...proposal, summary: 'replaced' }, { actor: 'intruder', at: at() })).rejects.toThrow(/exists already/);
    expect((await operations.getProposal(proposal.proposalId))?.summary).toBe(proposal.summary);
  });

  it('decides a proposal once when two checkers both read it PENDING, never by its proposer, never once expired', async () => {
    const proposal = proposalOf();
    await operations.createProposal(proposal, { actor: 'maker', at: at() });
    // Both checkers read the proposal PENDING; the first decision commits, the second arrives with the stale read.
    expect((await operations.decideProposal(proposal, 'APPROVED', { actor: 'checker-1', at: at() })).decided).toBe(true);
    const late = await operations.decideProposal(proposal, 'REJECTED', { actor: 'checker-2', at: at() });
    expect(late).toMatchObject({ decided: false, current: { status: 'APPROVED', decidedBy: 'checker-1' } });

    const own = proposalOf();
    await operations.createProposal(own, { actor: 'maker', at: at() });
    expect((await operations.decideProposal(own, 'APPROVED', { actor: 'maker', at: at() })).decided).toBe(false);
    expect((await operations.decideProposal(own, 'APPROVED', { actor: 'checker-1', at: at(7200_000) })).decided).toBe(false);
    expect((await operations.getProposal(own.proposalId))?.status).toBe('PENDING');
  });

  it('finishes an approved proposal once: the outcome of a repeated finish never replaces the first', async () => {
    const proposal = proposalOf();
    await operations.createProposal(proposal, { actor: 'maker', at: at() });
    const decision = await operations.decideProposal(proposal, 'APPROVED', { actor: 'checker-1', at: at() });
    if (!decision.decided) throw new Error('the first decision must commit');
    await operations.finishProposal(decision.proposal, 'EXECUTED', { account: 'frozen' }, { actor: 'checker-1', at: at() });
    await operations.finishProposal(decision.proposal, 'FAILED', { error: 'late' }, { actor: 'checker-1', at: at() });
    expect(await operations.getProposal(proposal.proposalId)).toMatchObject({ status: 'EXECUTED', outcome: { account: 'frozen' } });
    const trail = await operations.listByEntity('PROPOSAL', proposal.proposalId, { limit: 10 });
    expect(trail.items.map((entry) => entry.action).sort()).toEqual(['PROPOSAL.APPROVE', 'PROPOSAL.CREATE', 'PROPOSAL.EXECUTED']);
  });

  it('links two audit appends that read the same chain head one after the other, never both after that head', async () => {
    const entityId = `race-${randomUUID().slice(0, 8)}`;
    const draft = (action: string) => ({ action, entityType: 'RECONCILIATION' as const, entityId, before: null, after: { action } });
    // Operator A reads the head; operator B appends in full before A's transaction reaches the table.
    let raced = false;
    const racingClient = new Proxy(database.client, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
          if (command instanceof TransactWriteCommand && !raced) {
            raced = true;
            await operations.append(draft('B'), { actor: 'operator-b', at: at() });
          }
          return target.send(command);
        };
      },
    });
    const a = await new DynamoOperationsStore(racingClient, database.tables).append(draft('A'), { actor: 'operator-a', at: at() });
    const entries = (await operations.listByEntity('RECONCILIATION', entityId, { limit: 10 })).items;
    const b = entries.find((entry) => entry.action === 'B')!;
    expect(raced).toBe(true);
    expect(entries).toHaveLength(2);
    expect(a.seq).toBeGreaterThan(b.seq);
    expect(a.prevHash).toBe(b.hash);
  });
});
