/**
 * The retry job and the operator's actions on parked settlements, end to end: REST → the real state machine →
 * DynamoDB Local, the dead-letter queue on the SQS emulator (fauxqs) through @aws-sdk/client-sqs.
 */
import { Money } from '../../../lambdas/domain/money';
import { retryFailedSettlements } from '../../../lambdas/usecases/recovery/retry';
import { requireRecoveryDeps } from '../../../lambdas/usecases/recovery/deps';
import { http, newSettlementId, settled, settlementRequest, balances, type TestEngine } from '../../support/engine';
import { bookViolations } from '../../support/invariants';
import { dayMs, hourMs, ShiftedClock, startRecoveryEngine } from './support';

const clock = new ShiftedClock();
let engine: TestEngine;

beforeAll(async () => {
  engine = await startRecoveryEngine(clock, { limits: { retryAttemptsMax: 3, retryDelaySecondsBase: 60 } });
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

/** Submits a settlement whose bank gateway is down for every call of every attempt until the test says otherwise. */
async function submitWithBankDown(overrides: Record<string, unknown> = {}) {
  const id = newSettlementId('retry');
  engine.bank.setScenario(id, { unavailableCalls: 1_000 });
  const response = await http(engine, 'POST', '/api/v1/settlements', settlementRequest({ settlementId: id, ...overrides }));
  expect(response.status).toBe(202);
  return { id, view: await settled(engine, id) };
}

async function runRetryJob() {
  const report = await engine.jobs!.run('retryFailed');
  await engine.workflow.idle();
  return report;
}

describe('the retry job', () => {
  it('leaves a retryable failure alone until its retryAt, then restarts it as attempt 2 from the beginning', async () => {
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const { id, view } = await submitWithBankDown();
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.UNAVAILABLE', retryable: true, attempt: 1 });
    expect(await runRetryJob()).toMatchObject({ restarted: [] });

    engine.bank.setScenario(id, {});
    clock.advance(2 * 60_000);
    expect((await runRetryJob()).restarted).toEqual([id]);
    const after = await settled(engine, id);

    expect(after).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    expect(after.checkpoints.map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`)).toEqual(
      expect.arrayContaining(['MarkFailed:FAILED', 'Retry:PENDING', 'Validate:VALIDATED', 'LockFunds:LOCKED', 'Finalize:COMPLETED']),
    );
    const retryEvent = after.checkpoints.find((checkpoint) => checkpoint.stage === 'Retry')!;
    expect(retryEvent).toMatchObject({ previousStatus: 'FAILED', reasonCode: 'BANK.UNAVAILABLE', detail: 'attempt 2 of 3 after BANK.UNAVAILABLE' });
    // The failed attempt's lock was voided, the new attempt locked again and posted; one operation per attempt.
    expect((await engine.deps.settlements.get(id))?.operations?.map((operation) => [operation.attempt, operation.state])).toEqual([
      [1, 'ROLLED_BACK'],
      [2, 'COMMITTED'],
    ]);
    expect(await engine.bank.transfer(`${id}:1`)).toBeUndefined();
    expect(await engine.bank.transfer(`${id}:2`)).toMatchObject({ state: 'SETTLED' });
    expect((await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).balance).toBe(new Money(before.balance).minus('1250').toFixed());
  });

  it('restarts a due settlement once when two runs race, and starts one execution for the new attempt', async () => {
    const { id } = await submitWithBankDown();
    engine.bank.setScenario(id, {});
    clock.advance(2 * 60_000);
    const deps = requireRecoveryDeps(engine.deps);
    expect((await deps.recovery.dueRetries(clock.now().toISOString(), { limit: 100 })).items).toContain(id);
    const reports = await Promise.all([retryFailedSettlements(deps, { batchSize: 10 }), retryFailedSettlements(deps, { batchSize: 10 })]);
    expect(reports.flatMap((report) => report.restarted).filter((restarted) => restarted === id)).toHaveLength(1);
    await engine.workflow.idle();
    const view = await settled(engine, id);
    expect(view).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    expect(view.checkpoints.filter((checkpoint) => checkpoint.stage === 'Retry')).toHaveLength(1);
  });

  it('waits longer before each attempt (the delay doubles) and parks after the last one, with a dead-letter message', async () => {
    const { id, view } = await submitWithBankDown();
    const failedAt = (seq: number) => view.checkpoints.find((checkpoint) => checkpoint.seq === seq)!.at;
    const retryAt = async () => (await engine.deps.settlements.get(id))!.retryAt!;
    const firstDelayMs = Date.parse(await retryAt()) - Date.parse(failedAt(view.checkpoints.length));
    expect(firstDelayMs).toBe(60_000);

    clock.advance(2 * 60_000);
    await runRetryJob();
    const second = await settled(engine, id);
    expect(second).toMatchObject({ status: 'FAILED', attempt: 2, retryable: true });
    const secondDelayMs = Date.parse(await retryAt()) - Date.parse(second.checkpoints[second.checkpoints.length - 1].at);
    expect(secondDelayMs).toBe(120_000);

    clock.advance(3 * 60_000);
    await runRetryJob();
    const last = await settled(engine, id);
    expect(last).toMatchObject({ status: 'FAILED', attempt: 3, retryable: false, parked: true, reasonCode: 'BANK.UNAVAILABLE' });
    expect(last.reason).toMatch(/^retries exhausted: attempt 3 of 3 failed/);

    const messages = await engine.deadLetterQueue!.receive();
    expect(messages).toEqual([expect.objectContaining({ settlementId: id, status: 'FAILED', reasonCode: 'BANK.UNAVAILABLE', attempt: 3 })]);
    const parked = await http(engine, 'GET', '/api/v1/settlements/parked?limit=200');
    expect(parked.status).toBe(200);
    expect(parked.json.items).toContainEqual(expect.objectContaining({ settlementId: id, status: 'FAILED', reasonCode: 'BANK.UNAVAILABLE', attempt: 3, reason: last.reason }));
    // Parked: the retry job never picks it up again, however late.
    clock.advance(30 * dayMs);
    expect((await runRetryJob()).restarted).not.toContain(id);
  });
});

describe('an operator', () => {
  async function parkedAfterRetries(): Promise<string> {
    const { id } = await submitWithBankDown();
    for (let attempt = 1; attempt < 3; attempt++) {
      clock.advance(hourMs);
      await runRetryJob();
      await settled(engine, id);
    }
    const view = await settled(engine, id);
    expect(view).toMatchObject({ parked: true, status: 'FAILED', attempt: 3 });
    await engine.deadLetterQueue!.receive();
    return id;
  }

  it('requeues a settlement parked after its last attempt: one more attempt, recorded with the principal', async () => {
    const id = await parkedAfterRetries();
    engine.bank.setScenario(id, {});
    const response = await http(engine, 'POST', `/api/v1/settlements/${id}/requeue`, { reason: 'bank gateway is back' });
    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({ action: 'RESTARTED', executionStarted: true, settlement: { settlementId: id, attempt: 4 } });
    const view = await settled(engine, id);
    expect(view).toMatchObject({ status: 'COMPLETED', attempt: 4 });
    expect(view.parked).toBeUndefined();
    expect(view.checkpoints).toContainEqual(expect.objectContaining({ stage: 'Operator', previousStatus: 'FAILED', status: 'PENDING', detail: 'requeued by unauthenticated-local: bank gateway is back' }));
    expect((await http(engine, 'GET', '/api/v1/settlements/parked?limit=200')).json.items.map((item: { settlementId: string }) => item.settlementId)).not.toContain(id);
  });

  it('abandons a parked settlement: FAILED for good with SETTLEMENT.ABANDONED, who and why in its history', async () => {
    const id = await parkedAfterRetries();
    const missingReason = await http(engine, 'POST', `/api/v1/settlements/${id}/abandon`, {});
    expect(missingReason.status).toBe(400);
    expect(missingReason.json.error).toMatchObject({ code: 'VALIDATION.INVALID_FIELD', field: 'reason' });

    const response = await http(engine, 'POST', `/api/v1/settlements/${id}/abandon`, { reason: 'instruction cancelled by the payer' });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.ABANDONED', retryable: false, reason: 'abandoned by unauthenticated-local: instruction cancelled by the payer' });
    expect(response.json.parked).toBeUndefined();
    expect(response.json.checkpoints[response.json.checkpoints.length - 1]).toMatchObject({ stage: 'Operator', status: 'FAILED', reasonCode: 'SETTLEMENT.ABANDONED' });

    // Abandoned is final: neither requeue nor the retry job brings it back.
    expect((await http(engine, 'POST', `/api/v1/settlements/${id}/requeue`, {})).json.error.code).toBe('SETTLEMENT.NOT_PARKED');
    clock.advance(30 * dayMs);
    expect((await runRetryJob()).restarted).not.toContain(id);
  });

  it('gets 409 for a settlement that is not parked and 404 for one that does not exist', async () => {
    const done = settlementRequest();
    await http(engine, 'POST', '/api/v1/settlements', done);
    await settled(engine, String(done.settlementId));
    for (const action of ['requeue', 'abandon']) {
      const response = await http(engine, 'POST', `/api/v1/settlements/${String(done.settlementId)}/${action}`, { reason: 'x' });
      expect(response.status).toBe(409);
      expect(response.json.error).toMatchObject({ code: 'SETTLEMENT.NOT_PARKED' });
      expect((await http(engine, 'POST', `/api/v1/settlements/no-such-settlement/${action}`, { reason: 'x' })).status).toBe(404);
    }
  });

  it('refuses malformed operator input with 400 naming the field', async () => {
    const id = newSettlementId();
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', `/api/v1/settlements/${id}/abandon`, { reason: 42 }, 'reason'],
      ['POST', `/api/v1/settlements/${id}/abandon`, { reason: 'x'.repeat(501) }, 'reason'],
      ['POST', `/api/v1/settlements/${id}/abandon`, { reason: 'ok', force: true }, 'force'],
      ['POST', `/api/v1/settlements/${id}/requeue`, [], 'body'],
      ['POST', `/api/v1/settlements/${id}/requeue`, { reason: 'bell\u0007' }, 'reason'],
      ['GET', '/api/v1/settlements/parked?limit=0', undefined, 'limit'],
      ['GET', '/api/v1/settlements/parked?limit=201', undefined, 'limit'],
      ['GET', '/api/v1/settlements/parked?cursor=bm90LWEtY3Vyc29y', undefined, 'cursor'],
      ['GET', '/api/v1/settlements/parked?status=FAILED', undefined, 'status'],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await http(engine, method, path, body);
      expect({ path, status: response.status, field: response.json?.error?.field }).toEqual({ path, status: 400, field });
    }
  });

  it('pages through parked settlements in order, every one exactly once', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const id = newSettlementId('page');
      ids.push(id);
      engine.bank.setScenario(id, { unavailableCalls: 1_000 });
      await http(engine, 'POST', '/api/v1/settlements', settlementRequest({ settlementId: id }));
    }
    await engine.workflow.idle();
    for (let attempt = 1; attempt < 3; attempt++) {
      clock.advance(hourMs);
      await runRetryJob();
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const response = await http(engine, 'GET', `/api/v1/settlements/parked?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      expect(response.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...response.json.items.map((item: { settlementId: string }) => item.settlementId));
      cursor = response.json.nextCursor;
      if (!cursor) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
  });
});
