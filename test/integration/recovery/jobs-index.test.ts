/**
 * The `jobs` index: one sparse keys-only entry per settlement a job may have to act on, in that job's partitions:
 * set when the record is created and removed when it has ended, keyed on its attempt's start; a parked record's keyed
 * on when it was parked; a FAILED retryable record's on its next retry time. Its readers (the recovery sweep,
 * cleanup of expired locks, an account's pending locks for reconciliation, the retry job, the parked queue) each
 * find what they need in it, re-reading the records; items last written before it are found through the retiring
 * indexes, which this file's tables have (the shape a table deployed by an earlier release has).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { SortKey, indexShard } from '../../../lambdas/adapters/dynamodb/settlement-store';
import { operationsOf } from '../../../lambdas/usecases/operations/deps';
import { parkInPlace } from '../../../lambdas/usecases/recovery/attempts';
import { requireRecoveryDeps } from '../../../lambdas/usecases/recovery/deps';
import { lockFunds, validate } from '../../../lambdas/usecases/stages';
import { http, newSettlementId, settled, settlementRequest, type TestEngine } from '../../support/engine';
import { bookViolations } from '../../support/invariants';
import { driveTo, hourMs, ShiftedClock, startRecoveryEngine } from './support';

const clock = new ShiftedClock();
let engine: TestEngine;

beforeAll(async () => {
  engine = await startRecoveryEngine(clock, { retiringIndexes: 'with-retiring' });
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

const recovery = () => requireRecoveryDeps(engine.deps).recovery;
const lockTtlMs = () => engine.deps.limits.lockTtlSeconds * 1000;
const page = { limit: 100 };

async function recordItem(settlementId: string): Promise<Record<string, any>> {
  const result = await engine.documentClient.send(new GetCommand({ TableName: engine.tables.settlements, Key: { pk: settlementId, sk: SortKey.record }, ConsistentRead: true }));
  return result.Item!;
}

/** Every id of a listing, page after page. */
async function listAll<T>(read: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const result = await read(cursor);
    items.push(...result.items);
    if (result.nextCursor === undefined) return items;
    cursor = result.nextCursor;
  }
  throw new Error('listAll: more than 50 pages');
}

/** The recovery sweep's cutoff with its default threshold (30 minutes without progress). */
const stuckCutoff = () => new Date(clock.now().getTime() - 30 * 60_000).toISOString();
const inFlightIds = () => listAll((cursor) => recovery().inFlight(stuckCutoff(), { ...page, ...(cursor !== undefined && { cursor }) }));
const expiredLockIds = async () => {
  const now = clock.now();
  const locks = await listAll((cursor) => recovery().expiredLocks(now.toISOString(), new Date(now.getTime() - lockTtlMs()).toISOString(), { ...page, ...(cursor !== undefined && { cursor }) }));
  return locks.map((lock) => lock.settlementId);
};
async function pendingLocksOf(accountId: string, settlementId: string) {
  const found = [];
  for await (const lock of operationsOf(engine.deps).ledger.pendingLocks(accountId)) if (lock.settlementId === settlementId) found.push(lock);
  return found;
}

describe('the jobs index', () => {
  it('holds a settlement from its creation to its end under its attempt\'s start, unchanged by the stages between, so a happy path writes the entry once and removes it once', async () => {
    const id = await driveTo(engine, 'PENDING');
    const created = await recordItem(id);
    expect({ jobShard: created.jobShard, jobSince: created.jobSince }).toEqual({ jobShard: indexShard(id), jobSince: created.createdAt });
    // The attributes of the retiring indexes are never written.
    expect(Object.keys(created)).not.toEqual(expect.arrayContaining(['inFlightShard']));
    await validate(engine.deps, { settlementId: id });
    await lockFunds(engine.deps, { settlementId: id });
    const locked = await recordItem(id);
    expect({ status: locked.status, jobShard: locked.jobShard, jobSince: locked.jobSince, lockShard: locked.lockShard }).toEqual({ status: 'LOCKED', jobShard: created.jobShard, jobSince: created.jobSince, lockShard: undefined });

    clock.advance(31 * 60_000);
    expect(await inFlightIds()).toContain(id);
    expect((await engine.jobs!.run('recoverStuck')).resumed).toContain(id);
    expect(await settled(engine, id)).toMatchObject({ status: 'COMPLETED' });
    const ended = await recordItem(id);
    expect([ended.jobShard, ended.jobSince]).toEqual([undefined, undefined]);
    expect(await inFlightIds()).not.toContain(id);
  });

  it('keeps a parked settlement out of the recovery sweep, in a parked partition keyed on when it was parked, where the operator\'s queue, cleanup and reconciliation find it and its pending lock on both legs', async () => {
    const id = await driveTo(engine, 'TRANSFER_INITIATED');
    await parkInPlace(engine.deps, id, { stage: 'Operator', detail: 'parked (test)' }, 'TEST.PARKED', 'parked (test)');
    const item = await recordItem(id);
    expect({ jobShard: item.jobShard, jobSince: item.jobSince }).toEqual({ jobShard: `P${indexShard(id)}`, jobSince: item.parkedAt });
    expect(item.jobSince > item.createdAt).toBe(true);
    expect((await listAll((cursor) => recovery().parked({ ...page, ...(cursor !== undefined && { cursor }) }))).map((record) => record.settlementId)).toContain(id);
    clock.advance(31 * 60_000);
    expect(await inFlightIds()).not.toContain(id);
    const lock = (await engine.deps.settlements.get(id))!.lock!;
    for (const accountId of [lock.vostroAccountId, lock.nostroAccountId]) {
      expect(await pendingLocksOf(accountId, id)).toEqual([expect.objectContaining({ accountId, settlementStatus: 'TRANSFER_INITIATED', amount: lock.amount.toFixed(2) })]);
    }
    clock.advance(lockTtlMs());
    expect(await expiredLockIds()).toContain(id);
    const report = await engine.jobs!.run('cleanup');
    expect(report.expiredLocks.find((outcome) => outcome.settlementId === id)).toMatchObject({ action: 'REPORTED', reason: expect.stringContaining('parked') });
    expect((await engine.jobs!.run('recoverStuck')).resumed).not.toContain(id);
  });

  it('gives cleanup the expired lock of a settlement parked after its lock expired, though it was parked less than a lock TTL ago', async () => {
    const id = await driveTo(engine, 'LOCKED');
    clock.advance(lockTtlMs() + 60_000);
    await parkInPlace(engine.deps, id, { stage: 'Operator', detail: 'parked (test)' }, 'TEST.PARKED', 'parked (test)');
    expect(await expiredLockIds()).toContain(id);
    const report = await engine.jobs!.run('cleanup');
    expect(report.expiredLocks.find((outcome) => outcome.settlementId === id)).toMatchObject({ action: 'REPORTED', reason: expect.stringContaining('parked') });
  });

  it('lists the parked queue earliest parked first, whatever order the attempts started in', async () => {
    const first = await driveTo(engine, 'LOCKED');
    const second = await driveTo(engine, 'LOCKED');
    clock.advance(60_000);
    await parkInPlace(engine.deps, second, { stage: 'Operator', detail: 'parked (test)' }, 'TEST.PARKED', 'parked (test)');
    clock.advance(60_000);
    await parkInPlace(engine.deps, first, { stage: 'Operator', detail: 'parked (test)' }, 'TEST.PARKED', 'parked (test)');
    const queue = (await listAll((cursor) => recovery().parked({ limit: 1, ...(cursor !== undefined && { cursor }) }))).map((record) => record.settlementId);
    expect(queue.filter((settlementId) => settlementId === first || settlementId === second)).toEqual([second, first]);
  });

  it('moves a FAILED settlement marked retryable to the retry partitions under its next retry time, where the retry job finds it once due, and a settlement that failed for good to none', async () => {
    const retryable = newSettlementId('jobs-retry');
    engine.bank.setScenario(retryable, { unavailableCalls: 1_000 });
    await http(engine, 'POST', '/api/v1/settlements', settlementRequest({ settlementId: retryable }));
    const failed = await settled(engine, retryable);
    expect(failed).toMatchObject({ status: 'FAILED', retryable: true });
    const item = await recordItem(retryable);
    expect({ jobShard: item.jobShard, jobSince: item.jobSince }).toEqual({ jobShard: `R${indexShard(retryable)}`, jobSince: item.retryAt });
    const due = () => listAll((cursor) => recovery().dueRetries(clock.now().toISOString(), { ...page, ...(cursor !== undefined && { cursor }) }));
    expect(await due()).not.toContain(retryable);
    expect(await inFlightIds()).not.toContain(retryable);
    clock.advance(hourMs);
    expect(await due()).toContain(retryable);

    const refused = newSettlementId('jobs-final');
    await http(engine, 'POST', '/api/v1/settlements', settlementRequest({ settlementId: refused, amount: '900000000.00' }));
    expect(await settled(engine, refused)).toMatchObject({ status: 'FAILED', retryable: false });
    expect((await recordItem(refused)).jobShard).toBeUndefined();
    engine.bank.setScenario(retryable, {});
    expect((await engine.jobs!.run('retryFailed')).restarted).toContain(retryable);
    expect(await settled(engine, retryable)).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    expect((await recordItem(retryable)).jobShard).toBeUndefined();
  });

  it('gives cleanup the locks that expired, among the attempts started a lock TTL ago, and not a lock taken later in such an attempt', async () => {
    const expired = await driveTo(engine, 'LOCKED');
    // Same start, but locked two hours into its attempt: its lock expires two hours after the other's.
    const late = await driveTo(engine, 'PENDING');
    clock.advance(2 * hourMs);
    await validate(engine.deps, { settlementId: late });
    await lockFunds(engine.deps, { settlementId: late });
    clock.advance(lockTtlMs() - hourMs);

    const found = await expiredLockIds();
    expect(found).toContain(expired);
    expect(found).not.toContain(late);
    const report = await engine.jobs!.run('cleanup');
    await engine.workflow.idle();
    expect(report.expiredLocks.find((outcome) => outcome.settlementId === expired)).toMatchObject({ status: 'LOCKED', action: 'VOIDED' });
    expect(report.expiredLocks.find((outcome) => outcome.settlementId === late)).toBeUndefined();
    expect(await settled(engine, expired)).toMatchObject({ status: 'FAILED', lock: { state: 'VOIDED' } });
    expect((await engine.deps.settlements.get(late))?.lock?.state).toBe('PENDING');

    clock.advance(2 * hourMs);
    expect(await expiredLockIds()).toContain(late);
    expect((await engine.jobs!.run('cleanup')).expiredLocks.find((outcome) => outcome.settlementId === late)).toMatchObject({ action: 'VOIDED' });
  });

  it('still finds a record last written before it, through the retiring inFlight and pendingLocks indexes, and moves it to the jobs index at its next write', async () => {
    const id = await driveTo(engine, 'LOCKED');
    // The record as the engine before the jobs index wrote it.
    const { jobShard, jobSince, ...rest } = await recordItem(id);
    const legacy = { ...rest, inFlightShard: jobShard, inFlightSince: jobSince, lockShard: jobShard };
    await engine.documentClient.send(new PutCommand({ TableName: engine.tables.settlements, Item: legacy }));
    const lock = (await engine.deps.settlements.get(id))!.lock!;

    clock.advance(31 * 60_000);
    expect(await inFlightIds()).toContain(id);
    for (const accountId of [lock.vostroAccountId, lock.nostroAccountId]) expect(await pendingLocksOf(accountId, id)).toHaveLength(1);
    clock.advance(lockTtlMs());
    expect(await expiredLockIds()).toContain(id);
    const report = await engine.jobs!.run('cleanup');
    await engine.workflow.idle();
    expect(report.expiredLocks.find((outcome) => outcome.settlementId === id)).toMatchObject({ action: 'VOIDED' });
    const rewritten = await recordItem(id);
    expect([rewritten.status, rewritten.inFlightShard, rewritten.lockShard, rewritten.jobShard]).toEqual(['FAILED', undefined, undefined, undefined]);
  });

  it('still finds parked and retryable records last written before it, through the retiring parked and retryQueue indexes, each once', async () => {
    const parked = await driveTo(engine, 'LOCKED');
    await parkInPlace(engine.deps, parked, { stage: 'Operator', detail: 'parked (test)' }, 'TEST.PARKED', 'parked (test)');
    const { jobShard: parkedShard, jobSince: parkedAt, ...parkedRest } = await recordItem(parked);
    await engine.documentClient.send(new PutCommand({ TableName: engine.tables.settlements, Item: { ...parkedRest, parkedShard: parkedShard.slice(1), parkedAt } }));

    const retryable = newSettlementId('jobs-legacy-retry');
    engine.bank.setScenario(retryable, { unavailableCalls: 1_000 });
    await http(engine, 'POST', '/api/v1/settlements', settlementRequest({ settlementId: retryable }));
    await settled(engine, retryable);
    const { jobShard: retryShard, jobSince: retryAt, ...retryRest } = await recordItem(retryable);
    await engine.documentClient.send(new PutCommand({ TableName: engine.tables.settlements, Item: { ...retryRest, retryShard: retryShard.slice(1), retryAt } }));

    // And one parked by the release before, in both the parked index and the jobs index's parked partitions (then keyed on the attempt's start).
    const both = await driveTo(engine, 'LOCKED');
    await parkInPlace(engine.deps, both, { stage: 'Operator', detail: 'parked (test)' }, 'TEST.PARKED', 'parked (test)');
    const bothItem = await recordItem(both);
    await engine.documentClient.send(new PutCommand({ TableName: engine.tables.settlements, Item: { ...bothItem, jobSince: bothItem.attemptStartedAt ?? bothItem.createdAt, parkedShard: bothItem.jobShard.slice(1), parkedAt: bothItem.parkedAt } }));

    const queue = (await listAll((cursor) => recovery().parked({ limit: 1, ...(cursor !== undefined && { cursor }) }))).map((record) => record.settlementId);
    expect(queue.filter((settlementId) => settlementId === parked || settlementId === both).sort()).toEqual([parked, both].sort());
    clock.advance(hourMs);
    expect(await listAll((cursor) => recovery().dueRetries(clock.now().toISOString(), { ...page, ...(cursor !== undefined && { cursor }) }))).toContain(retryable);
  });
});
