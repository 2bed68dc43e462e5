/**
 * The cleanup job: ended operations past retention are deleted (TTL set as a backstop), checkpoints kept; expired
 * locks are voided only where no money can have left, through the normal rollback path, and everything else with
 * an expired lock is parked or reported, never touched.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SortKey, indexShard } from '../../../lambdas/adapters/dynamodb/settlement-store';
import { initiateTransfer, transferKey } from '../../../lambdas/usecases/stages';
import type { TransferInstruction } from '../../../lambdas/ports/bank';
import { balances, http, settled, settlementRequest, type TestEngine } from '../../support/engine';
import { bookSummary, bookViolations } from '../../support/invariants';
import { dayMs, driveTo, partition, ShiftedClock, startRecoveryEngine } from './support';

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

async function runCleanup() {
  const report = await engine.jobs!.run('cleanup');
  await engine.workflow.idle();
  return report;
}

const outcomeOf = (report: Awaited<ReturnType<typeof runCleanup>>, id: string) => report.expiredLocks.find((outcome) => outcome.settlementId === id);

describe('the cleanup job', () => {
  it('keeps a settlement whole (its operations and checkpoints live in its record) and deletes operation items of the earlier layout that ended more than the retention ago', async () => {
    const request = settlementRequest();
    const id = String(request.settlementId);
    await http(engine, 'POST', '/api/v1/settlements', request);
    const view = await settled(engine, id);
    expect((await engine.deps.settlements.get(id))?.operations).toEqual([expect.objectContaining({ attempt: 1, state: 'COMMITTED' })]);
    // An OPERATION item as the layout before the lean write path wrote it, ended now.
    const endedAt = clock.now().toISOString();
    const legacy = { pk: id, sk: SortKey.operation(9), itemType: 'OPERATION', attempt: 9, operationState: 'COMMITTED', startedAt: endedAt, endedAt, endedShard: indexShard(id) };
    await engine.documentClient.send(new PutCommand({ TableName: engine.tables.settlements, Item: legacy }));

    expect((await runCleanup()).operationsDeleted).toBe(0);
    clock.advance(8 * dayMs);
    expect((await runCleanup()).operationsDeleted).toBeGreaterThanOrEqual(1);
    const items = await partition(engine, id);
    expect(items.filter((item) => item.itemType === 'OPERATION')).toEqual([]);
    expect((await settled(engine, id)).checkpoints).toHaveLength(view.checkpoints.length);
    expect((await settled(engine, id)).status).toBe('COMPLETED');
  });

  it('voids an expired lock of a LOCKED settlement the bank never heard of: rollback path, locked amounts released, FAILED LOCK.EXPIRED', async () => {
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const books = await bookSummary(engine);
    const id = await driveTo(engine, 'LOCKED', { amount: '321.00' });
    expect((await runCleanup()).expiredLocks).toEqual([]);
    clock.advance(25 * 3600_000);
    const report = await runCleanup();
    expect(outcomeOf(report, id)).toMatchObject({ status: 'LOCKED', action: 'VOIDED' });
    const view = await settled(engine, id);
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'LOCK.EXPIRED', retryable: false, lock: { state: 'VOIDED' } });
    expect(view.checkpoints.slice(-3).map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`)).toEqual(['Cleanup:ROLLING_BACK', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']);
    expect(await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).toEqual(before);
    expect(await bookSummary(engine)).toEqual(books);
  });

  it('voids the expired lock of a ROLLING_BACK settlement, and of a COMPENSATED one (the bank reversed it)', async () => {
    const rollingBack = await driveTo(engine, 'ROLLING_BACK');
    const compensated = await driveTo(engine, 'COMPENSATED');
    clock.advance(25 * 3600_000);
    const report = await runCleanup();
    for (const id of [rollingBack, compensated]) {
      expect(outcomeOf(report, id)).toMatchObject({ action: 'VOIDED' });
      expect(await settled(engine, id)).toMatchObject({ status: 'FAILED', lock: { state: 'VOIDED' } });
    }
  });

  it('never voids where money may have left: parks LOCKED-with-a-transfer-at-the-bank and TRANSFER_INITIATED, reports parked ones', async () => {
    // A crash between the bank call and the LOCKED → TRANSFER_INITIATED write leaves the transfer out, status LOCKED.
    const crashedMidCall = await driveTo(engine, 'LOCKED');
    const record = (await engine.deps.settlements.get(crashedMidCall))!;
    const instruction: TransferInstruction = {
      idempotencyKey: transferKey(record),
      settlementId: record.settlementId,
      rail: record.rail,
      debtorAgentBic: record.nostroBic!,
      creditorAgentBic: record.payeeBic,
      amount: record.amount,
      currency: record.currency,
      valueDate: record.valueDate,
      reference: record.reference,
    };
    await engine.bank.forRail(record.rail).initiateTransfer(instruction);
    const initiated = await driveTo(engine, 'TRANSFER_INITIATED');
    clock.advance(25 * 3600_000);

    const report = await runCleanup();
    expect(outcomeOf(report, crashedMidCall)).toMatchObject({ status: 'LOCKED', action: 'PARKED', reason: expect.stringContaining(`${crashedMidCall}:1 as SETTLED`) });
    expect(outcomeOf(report, initiated)).toMatchObject({ status: 'TRANSFER_INITIATED', action: 'PARKED' });
    for (const id of [crashedMidCall, initiated]) {
      expect(await settled(engine, id)).toMatchObject({ parked: true, reasonCode: 'LOCK.EXPIRED', lock: { state: 'PENDING' } });
    }
    const messages = await engine.deadLetterQueue!.receive();
    expect(messages.map((message) => message.settlementId).sort()).toEqual([crashedMidCall, initiated].sort());

    // Next run: parked, so reported and left for an operator.
    const again = await runCleanup();
    expect(outcomeOf(again, initiated)).toMatchObject({ action: 'REPORTED', reason: expect.stringContaining('parked') });
    expect((await settled(engine, initiated)).lock?.state).toBe('PENDING');

    // The operator lets the engine finish them: both complete (the money did leave).
    for (const id of [crashedMidCall, initiated]) expect((await http(engine, 'POST', `/api/v1/settlements/${id}/requeue`, { reason: 'finish it' })).status).toBe(202);
    for (const id of [crashedMidCall, initiated]) expect(await settled(engine, id)).toMatchObject({ status: 'COMPLETED', lock: { state: 'POSTED' } });
  });

  it('leaves an expired lock alone while an execution is still working on the settlement', async () => {
    const id = await driveTo(engine, 'LOCKED');
    clock.advance(25 * 3600_000);
    // The settlement moved a moment ago (a resumed execution): not idle, so not touched.
    await initiateTransfer(engine.deps, { settlementId: id });
    const report = await runCleanup();
    expect(outcomeOf(report, id)).toMatchObject({ action: 'REPORTED', reason: 'an execution is still working on it' });
    expect((await engine.deps.settlements.getLock(id))?.state).toBe('PENDING');
    clock.advance(2 * 60_000);
    await engine.jobs!.run('recoverStuck');
    expect(await settled(engine, id)).toMatchObject({ status: 'COMPLETED' });
  });
});
