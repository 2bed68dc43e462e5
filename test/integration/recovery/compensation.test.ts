/**
 * Compensation through the real state machine, path by path: a transfer that went out but cannot be finalized is
 * reversed at the bank and recorded in compensation_transactions, once; an unknown outcome is resolved by asking
 * the bank with the same key before anything is voided; a reversal the bank keeps pending or refuses parks the
 * settlement with its lock held, for an operator.
 */
import { beginRollback, compensate, markFailed, releaseLocks } from '../../../lambdas/usecases/rollback';
import { balances, http, newSettlementId, settled, settlementRequest, type TestEngine } from '../../support/engine';
import { bookSummary, bookViolations } from '../../support/invariants';
import { partition, ShiftedClock, startRecoveryEngine } from './support';

const clock = new ShiftedClock();
let engine: TestEngine;
/** A fault the test switches on: Finalize's transaction (it writes ledger entries) fails. */
let failFinalize = false;

beforeAll(async () => {
  engine = await startRecoveryEngine(clock, { limits: { confirmationChecksMax: 3 } });
  engine.documentClient.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TransactItems?: Array<{ Put?: { TableName?: string } }> };
      if (failFinalize && input.TransactItems?.some((item) => item.Put?.TableName === engine.tables.ledger)) throw Object.assign(new Error('disk on fire (injected)'), { name: 'InjectedFault' });
      return next(args);
    },
    { step: 'initialize', name: 'failFinalize' },
  );
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  failFinalize = false;
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

async function submit(id: string, overrides: Record<string, unknown> = {}) {
  const response = await http(engine, 'POST', '/api/v1/settlements', settlementRequest({ settlementId: id, ...overrides }));
  expect(response.status).toBe(202);
  return settled(engine, id);
}

const compensationItems = async (id: string) => (await partition(engine, id)).filter((item) => item.itemType === 'COMPENSATION');
const trail = (view: { checkpoints: readonly { stage: string; status: string }[] }) => view.checkpoints.map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`);

describe('compensation', () => {
  it('reverses a transfer that went out but was never confirmed, records it once, and never runs it twice', async () => {
    const books = await bookSummary(engine);
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const id = newSettlementId('comp');
    engine.bank.setScenario(id, { pendingChecks: 1_000 });
    const view = await submit(id);

    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.CONFIRMATION_TIMEOUT', retryable: false, lock: { state: 'VOIDED' } });
    expect(trail(view).slice(-5)).toEqual(['InitiateTransfer:TRANSFER_INITIATED', 'BeginRollback:COMPENSATING', 'Compensate:COMPENSATED', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']);
    expect(await compensationItems(id)).toEqual([expect.objectContaining({ sk: 'COMPENSATION#0001', state: 'REVERSED', bankState: 'REVERSED', idempotencyKey: `${id}:1` })]);
    const reversed = await engine.bank.transfer(`${id}:1`);
    expect(reversed).toMatchObject({ state: 'REVERSED' });

    // Replayed rollback stages after the end (a duplicate delivery, a late retry): nothing changes.
    for (const stage of [beginRollback, compensate, releaseLocks, markFailed]) await stage(engine.deps, { settlementId: id, error: { Error: 'ConfirmationTimeoutError' } });
    expect(await compensationItems(id)).toHaveLength(1);
    expect(await engine.bank.transfer(`${id}:1`)).toEqual(reversed);
    expect((await settled(engine, id)).checkpoints).toHaveLength(view.checkpoints.length);
    expect(await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).toEqual(before);
    expect(await bookSummary(engine)).toEqual(books);
  });

  it('asks the bank before voiding when the outcome stays unknown, and reverses what it finds went out', async () => {
    const id = newSettlementId('unknown');
    // Every initiation reaches the bank (which settles it) but the caller sees a timeout.
    engine.bank.setScenario(id, { timeoutCalls: 1_000 });
    const view = await submit(id);
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.OUTCOME_UNKNOWN', retryable: true, lock: { state: 'VOIDED' } });
    expect(trail(view)).toEqual(expect.arrayContaining(['BeginRollback:COMPENSATING', 'Compensate:COMPENSATED']));
    expect(await engine.bank.transfer(`${id}:1`)).toMatchObject({ state: 'REVERSED' });
    expect(await compensationItems(id)).toEqual([expect.objectContaining({ state: 'REVERSED' })]);
  });

  it('records NOT_REQUIRED and voids plainly when the bank rejected the transfer late (nothing left), without compensating', async () => {
    const id = newSettlementId('late');
    const view = await submit(id, { reference: 'Invoice 7 [mock:late-reject]' });
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.REJECTED', lock: { state: 'VOIDED' } });
    // BeginRollback asked the bank itself: REJECTED is final there, so the rollback never went through COMPENSATING
    // (no hand-off to the Standard workflow).
    expect(trail(view).slice(-4)).toEqual(['InitiateTransfer:TRANSFER_INITIATED', 'BeginRollback:ROLLING_BACK', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']);
    expect(await compensationItems(id)).toEqual([expect.objectContaining({ state: 'NOT_REQUIRED', bankState: 'REJECTED', idempotencyKey: `${id}:1` })]);
  });

  it('leaves a rejection to Compensate when the bank cannot be asked in BeginRollback, which then finds nothing left', async () => {
    const id = newSettlementId('reject-unasked');
    // The send is rejected; the first status call (BeginRollback's) finds the bank's status service down.
    engine.bank.setScenario(id, { reject: 'beneficiary account closed', statusUnavailableCalls: 1 });
    const view = await submit(id);
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.REJECTED', lock: { state: 'VOIDED' } });
    expect(trail(view).slice(-4)).toEqual(['BeginRollback:COMPENSATING', 'Compensate:ROLLING_BACK', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']);
    expect(await compensationItems(id)).toEqual([expect.objectContaining({ state: 'NOT_REQUIRED', bankState: 'REJECTED' })]);
  });

  it('compensates a transfer the beneficiary bank returned on its own: nothing asked of the bank, recorded REVERSED once', async () => {
    const books = await bookSummary(engine);
    const id = newSettlementId('returned');
    const view = await submit(id, { reference: 'Invoice 8 [mock:returned]' });
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.REJECTED', lock: { state: 'VOIDED' } });
    // The bank says REVERSED, not REJECTED: money went out and came back, so the rollback compensates (Compensate
    // finds it reversed already and sends no reversal).
    expect(trail(view).slice(-4)).toEqual(['BeginRollback:COMPENSATING', 'Compensate:COMPENSATED', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']);
    expect(await compensationItems(id)).toEqual([expect.objectContaining({ state: 'REVERSED', bankState: 'REVERSED' })]);
    expect(await engine.bank.transfer(`${id}:1`)).toMatchObject({ state: 'REVERSED', reason: 'beneficiary account closed, funds returned' });
    expect(await bookSummary(engine)).toEqual(books);
  });

  it('parks a reversal the bank keeps pending, holding the lock; a requeue once the bank answers finishes the rollback', async () => {
    const id = newSettlementId('pending');
    engine.bank.setScenario(id, { pendingChecks: 1_000, reversal: 'PENDING' });
    const view = await submit(id);
    expect(view).toMatchObject({ status: 'COMPENSATING', parked: true, reasonCode: 'BANK.REVERSAL_PENDING', lock: { state: 'PENDING' } });
    expect(await engine.deadLetterQueue!.receive()).toEqual([expect.objectContaining({ settlementId: id, status: 'COMPENSATING', reasonCode: 'BANK.REVERSAL_PENDING' })]);
    expect(await compensationItems(id)).toEqual([]);

    engine.bank.setScenario(id, { pendingChecks: 1_000, reversal: 'REVERSED' });
    const requeued = await http(engine, 'POST', `/api/v1/settlements/${id}/requeue`, { reason: 'bank confirmed the recall' });
    expect(requeued.status).toBe(202);
    expect(requeued.json).toMatchObject({ action: 'RESUMED', executionStarted: true });
    const end = await settled(engine, id);
    expect(end).toMatchObject({ status: 'FAILED', lock: { state: 'VOIDED' } });
    expect(end.parked).toBeUndefined();
    expect(await compensationItems(id)).toEqual([expect.objectContaining({ state: 'REVERSED' })]);
  });

  it('parks a refused reversal; abandon is refused while the bank reports the money out, allowed once it is reversed', async () => {
    const id = newSettlementId('refused');
    engine.bank.setScenario(id, { pendingChecks: 1_000, reversal: 'REFUSED' });
    const view = await submit(id);
    expect(view).toMatchObject({ status: 'COMPENSATING', parked: true, reasonCode: 'BANK.REVERSAL_REFUSED', lock: { state: 'PENDING' } });
    await engine.deadLetterQueue!.receive();

    const refused = await http(engine, 'POST', `/api/v1/settlements/${id}/abandon`, { reason: 'give up' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('SETTLEMENT.ABANDON_REFUSED');
    expect(refused.json.error.message).toContain(`${id}:1 as ACCEPTED`);
    expect((await settled(engine, id)).lock?.state).toBe('PENDING');

    // Operations had the beneficiary bank return the funds by hand.
    engine.bank.setScenario(id, { reversal: 'REVERSED' });
    await engine.bank.forRail('SEPA').reverseTransfer(`${id}:1`, 'returned after a phone call');
    const abandoned = await http(engine, 'POST', `/api/v1/settlements/${id}/abandon`, { reason: 'funds returned by hand, ticket OPS-42' });
    expect(abandoned.status).toBe(200);
    expect(abandoned.json).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.ABANDONED', lock: { state: 'VOIDED' } });
    expect(await compensationItems(id)).toEqual([expect.objectContaining({ state: 'REVERSED', reason: expect.stringContaining('abandoned') })]);
  });

  it('parks a settlement whose transfer settled but Finalize cannot commit: never reversed, lock held; a requeue completes it', async () => {
    const id = newSettlementId('final');
    failFinalize = true;
    const view = await submit(id);
    // Parked where it rests: TRANSFER_INITIATED (the confirmation is committed with Finalize's posting, which failed).
    expect(view).toMatchObject({ status: 'TRANSFER_INITIATED', parked: true, lock: { state: 'PENDING' } });
    expect(await engine.bank.transfer(`${id}:1`)).toMatchObject({ state: 'SETTLED' });
    expect(await compensationItems(id)).toEqual([]);
    expect((await engine.deadLetterQueue!.receive()).map((message) => message.settlementId)).toEqual([id]);
    expect((await http(engine, 'POST', `/api/v1/settlements/${id}/abandon`, { reason: 'x' })).json.error.code).toBe('SETTLEMENT.ABANDON_REFUSED');

    failFinalize = false;
    expect((await http(engine, 'POST', `/api/v1/settlements/${id}/requeue`, {})).json).toMatchObject({ action: 'RESUMED' });
    const end = await settled(engine, id);
    expect(end).toMatchObject({ status: 'COMPLETED', lock: { state: 'POSTED' } });
    expect(end.reasonCode).toBeUndefined();
  });
});
