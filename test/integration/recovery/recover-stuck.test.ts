/**
 * The recovery sweep: a settlement left in any non-terminal status (as a killed process leaves it) is resumed by
 * starting its execution again through the real state machine, and ends where that status leads: forward
 * statuses complete, rollback statuses finish their rollback. Parked and running settlements are left alone.
 */
import type { ExecutionOutcome } from '../../../lambdas/local/local-workflow';
import { requireRecoveryDeps } from '../../../lambdas/usecases/recovery/deps';
import { recoverStuckSettlements } from '../../../lambdas/usecases/recovery/recover';
import { parkInPlace } from '../../../lambdas/usecases/recovery/attempts';
import { abandonSettlement } from '../../../lambdas/usecases/recovery/operator';
import { executionName } from '../../../lambdas/adapters/sfn/step-functions-workflow';
import { parseSettlementRequest } from '../../../lambdas/domain/settlement';
import { balances, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { bookSummary, bookViolations } from '../../support/invariants';
import { driveTo, eventually, partition, ShiftedClock, startRecoveryEngine, type DrivableStatus } from './support';

const clock = new ShiftedClock();
const executions: ExecutionOutcome[] = [];
let engine: TestEngine;

beforeAll(async () => {
  engine = await startRecoveryEngine(clock, { onExecutionEnd: (outcome) => executions.push(outcome) });
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

/** What the periodic sweep does once the settlement has been quiet past the threshold (60 s locally). */
async function sweepAfterQuiet() {
  clock.advance(2 * 60_000);
  const report = await engine.jobs!.run('recoverStuck');
  await engine.workflow.idle();
  return report;
}

// VALIDATED and CONFIRMED: left by an engine from before Validate and CheckConfirmation stopped writing (support.ts).
const cases: Array<[DrivableStatus, 'COMPLETED' | 'FAILED', string[]]> = [
  ['PENDING', 'COMPLETED', ['Recovery:PENDING', 'Validate:VALIDATED', 'Finalize:COMPLETED']],
  ['VALIDATED', 'COMPLETED', ['Recovery:VALIDATED', 'LockFunds:LOCKED', 'Finalize:COMPLETED']],
  ['LOCKED', 'COMPLETED', ['Recovery:LOCKED', 'InitiateTransfer:TRANSFER_INITIATED', 'Finalize:COMPLETED']],
  ['TRANSFER_INITIATED', 'COMPLETED', ['Recovery:TRANSFER_INITIATED', 'CheckConfirmation:CONFIRMED', 'Finalize:COMPLETED']],
  ['CONFIRMED', 'COMPLETED', ['Recovery:CONFIRMED', 'Finalize:COMPLETED']],
  ['ROLLING_BACK', 'FAILED', ['Recovery:ROLLING_BACK', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']],
  ['COMPENSATING', 'FAILED', ['Recovery:COMPENSATING', 'Compensate:COMPENSATED', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']],
  ['COMPENSATED', 'FAILED', ['Recovery:COMPENSATED', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']],
  ['ROLLED_BACK', 'FAILED', ['Recovery:ROLLED_BACK', 'MarkFailed:FAILED']],
];

describe('the recovery sweep', () => {
  it.each(cases)('resumes a settlement left in %s and it ends %s, each stage once', async (status, end, expectedTail) => {
    const books = await bookSummary(engine);
    const id = await driveTo(engine, status);
    const report = await sweepAfterQuiet();
    expect(report.resumed).toContain(id);
    const view = await settled(engine, id);
    expect(view.status).toBe(end);
    const trail = view.checkpoints.map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`);
    const fromRecovery = trail.slice(trail.indexOf(`Recovery:${status}`));
    for (const step of expectedTail) expect(fromRecovery).toContain(step);
    // No stage ran twice: every status after the resume appears once.
    expect(new Set(fromRecovery).size).toBe(fromRecovery.length);
    expect(view.lock?.state ?? 'NONE').toBe(end === 'COMPLETED' ? 'POSTED' : status === 'PENDING' || status === 'VALIDATED' ? 'NONE' : 'VOIDED');
    if (status === 'COMPENSATING' || status === 'COMPENSATED') {
      const compensations = (await partition(engine, id)).filter((item) => item.itemType === 'COMPENSATION');
      expect(compensations).toEqual([expect.objectContaining({ state: 'REVERSED', idempotencyKey: `${id}:1` })]);
    }
    expect(await bookSummary(engine)).toEqual(books);
  });

  it('names a resumed run after the version it committed: Step Functions never reuses a closed execution\'s name', async () => {
    const id = await driveTo(engine, 'LOCKED');
    engine.bank.setScenario(id, { unavailableCalls: 1_000, statusUnavailableCalls: 1_000 });
    await sweepAfterQuiet();
    const resumedVersion = (await settled(engine, id)).checkpoints.find((checkpoint) => checkpoint.stage === 'Recovery')!.seq;
    const names = executions.filter((outcome) => outcome.settlementId === id).map((outcome) => outcome.executionName);
    expect(names).toEqual([executionName(id, 1, resumedVersion)]);
    expect(names[0]).not.toBe(executionName(id, 1));
    expect(executionName('x'.repeat(64), 5, 123456).length).toBeLessThanOrEqual(80);
    expect(await engine.deps.settlements.get(id)).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.UNAVAILABLE', retryable: true });
  });

  it('leaves alone a parked settlement, a progressing one and one whose execution runs in this process', async () => {
    const parkedId = await driveTo(engine, 'COMPENSATING');
    await parkInPlace(engine.deps, parkedId, { stage: 'Operator', detail: 'test' }, 'TEST.PARKED', 'parked by the test');
    const runningId = await driveTo(engine, 'LOCKED');
    clock.advance(2 * 60_000);
    const progressingId = await driveTo(engine, 'PENDING');
    const report = await recoverStuckSettlements(requireRecoveryDeps(engine.deps), { batchSize: 10, stuckAfterSeconds: 60, isRunning: (id) => id === runningId });
    expect(report.resumed).not.toContain(parkedId);
    expect(report.resumed).not.toContain(runningId);
    expect(report.resumed).not.toContain(progressingId);
    expect((await engine.deps.settlements.get(parkedId))).toMatchObject({ status: 'COMPENSATING', parked: true });
    // Clean up what this test left mid-flight.
    await recoverStuckSettlements(requireRecoveryDeps(engine.deps), { batchSize: 10, stuckAfterSeconds: 0 });
    await engine.workflow.idle();
    // The parked one money may have left for (COMPENSATING, bank SETTLED) cannot be abandoned: refused.
    await expect(abandonSettlement(engine.deps, parkedId, { principal: 'test', note: 'done' })).rejects.toMatchObject({ code: 'SETTLEMENT.ABANDON_REFUSED', bankState: 'SETTLED' });
    await engine.deps.settlements.get(parkedId).then((record) => expect(record).toMatchObject({ parked: true, status: 'COMPENSATING' }));
    await engine.bank.forRail('SEPA').reverseTransfer(`${parkedId}:1`, 'reversed by the test');
    await abandonSettlement(engine.deps, parkedId, { principal: 'test', note: 'reversed at the bank by hand' });
  });

  it('holds the books through a recovery: the lock of a resumed settlement is held exactly once', async () => {
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const id = await driveTo(engine, 'LOCKED', { amount: '777.77' });
    const whileLocked = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    expect(whileLocked.locked).not.toBe(before.locked);
    await sweepAfterQuiet();
    await settled(engine, id);
    const after = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    expect(after.locked).toBe(before.locked);
  });
});

describe('the local scheduler', () => {
  it('resumes what a stopped engine left in flight at start-up, then sweeps on its own timer', async () => {
    const tablePrefix = `t${Date.now().toString(36)}r-`;
    const first = await startTestEngine({ tablePrefix, sqs: false, jobs: false });
    const leftInFlight = await driveTo(first, 'TRANSFER_INITIATED');
    await first.stop();

    const second = await startTestEngine({ tablePrefix, sqs: false, jobs: { recoveryIntervalMs: 200, retryIntervalMs: 3_600_000, cleanupIntervalMs: 3_600_000, settings: { stuckAfterSeconds: 1 } } });
    try {
      expect((await second.jobs!.startup)?.resumed).toContain(leftInFlight);
      expect(await settled(second, leftInFlight)).toMatchObject({ status: 'COMPLETED' });
      // Created but never started (a StartExecution lost after the write): the periodic sweep starts it.
      const request = parseSettlementRequest(settlementRequest());
      await second.deps.settlements.create(request, second.deps.clock.now().toISOString());
      const view = await eventually(() => second.deps.settlements.get(request.settlementId), (record) => record?.status === 'COMPLETED', 15_000);
      expect(view?.attempt).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
