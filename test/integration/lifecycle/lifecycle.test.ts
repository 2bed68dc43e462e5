/**
 * The settlement lifecycle end to end: REST → the real state-machine file in the ASL interpreter → the stage
 * handlers → DynamoDB Local, with the mock bank. No mocks of our own code.
 */
import { Money } from '../../../lambdas/domain/money';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { balances, http, newSettlementId, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { bookSummary, bookViolations, scanAll } from '../../support/invariants';

let engine: TestEngine;

beforeAll(async () => {
  engine = await startTestEngine();
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

async function submit(request: Record<string, unknown>) {
  const response = await http(engine, 'POST', '/api/v1/settlements', request);
  expect(response.status).toBe(202);
  return settled(engine, String(request.settlementId));
}

describe('a settlement', () => {
  it('goes Validate → Lock → Initiate → Confirm → Finalize and moves the money exactly once', async () => {
    const vostroBefore = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const nostroBefore = await balances(engine, 'NOSTRO', 'BNPAFRPP', 'EUR');
    const books = await bookSummary(engine);
    const request = settlementRequest({ amount: '1250.00' });

    const view = await submit(request);

    expect(view.status).toBe('COMPLETED');
    expect(view.checkpoints.map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`)).toEqual([
      'Submit:PENDING',
      'Validate:VALIDATED',
      'LockFunds:LOCKED',
      'InitiateTransfer:TRANSFER_INITIATED',
      'CheckConfirmation:CONFIRMED',
      'Finalize:COMPLETED',
    ]);
    expect(view.lock).toMatchObject({ state: 'POSTED', amount: '1250.00', vostroAccountId: 'VOSTRO#DEUTDEFF#EUR', nostroAccountId: 'NOSTRO#BNPAFRPP#EUR' });
    expect(await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).toEqual({ ...vostroBefore, balance: new Money(vostroBefore.balance).minus('1250').toFixed(), available: new Money(vostroBefore.available).minus('1250').toFixed() });
    expect(await balances(engine, 'NOSTRO', 'BNPAFRPP', 'EUR')).toEqual({ ...nostroBefore, balance: new Money(nostroBefore.balance).minus('1250').toFixed(), available: new Money(nostroBefore.available).minus('1250').toFixed() });
    expect(await bookSummary(engine)).toEqual(books);
    const ledger = (await scanAll(engine, 'ledger')).filter((entry) => entry.reference === request.settlementId);
    expect(ledger.map((entry) => [entry.accountId, String(entry.amount)]).sort()).toEqual([
      ['NOSTRO#BNPAFRPP#EUR', '-1250'],
      ['VOSTRO#DEUTDEFF#EUR', '-1250'],
    ]);
    expect(await engine.bank.transfer(`${request.settlementId}:1`)).toMatchObject({ state: 'SETTLED' });
  });

  it('pays out through the nostro a route names, not the payee bank\'s own', async () => {
    const view = await submit(settlementRequest({ payeeBic: 'INGBNL2A', amount: '10.00' }));
    expect(view).toMatchObject({ status: 'COMPLETED', nostroAccountId: 'NOSTRO#DEUTDEFF#EUR' });
  });

  it('rolls back on insufficient funds with balances untouched', async () => {
    const before = await balances(engine, 'VOSTRO', 'INGBNL2A', 'EUR');
    const nostroBefore = await balances(engine, 'NOSTRO', 'DEUTDEFF', 'EUR');
    const view = await submit(settlementRequest({ payerBic: 'INGBNL2A', amount: '2500000.01' }));
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.INSUFFICIENT_FUNDS', retryable: false });
    expect(view.checkpoints.map((checkpoint) => checkpoint.status)).toEqual(['PENDING', 'ROLLING_BACK', 'ROLLED_BACK', 'FAILED']);
    expect(await balances(engine, 'VOSTRO', 'INGBNL2A', 'EUR')).toEqual(before);
    expect(await balances(engine, 'NOSTRO', 'DEUTDEFF', 'EUR')).toEqual(nostroBefore);
  });

  it('rolls back when the bank rejects the transfer: lock voided, nothing moved', async () => {
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const id = newSettlementId();
    engine.bank.setScenario(id, { reject: 'beneficiary account closed' });
    const view = await submit(settlementRequest({ settlementId: id }));
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.REJECTED', retryable: false, lock: { state: 'VOIDED' } });
    // TRANSFER_INITIATED commits before the bank call; BeginRollback then asks the bank, which says REJECTED: nothing
    // left, nothing to compensate.
    expect(view.checkpoints.map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`).slice(-4)).toEqual(['InitiateTransfer:TRANSFER_INITIATED', 'BeginRollback:ROLLING_BACK', 'ReleaseLocks:ROLLED_BACK', 'MarkFailed:FAILED']);
    expect(await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).toEqual(before);
  });

  it('completes when the bank times out, is asked again with the same key, and confirms later', async () => {
    const id = newSettlementId();
    engine.bank.setScenario(id, { timeoutCalls: 2, pendingChecks: 3 });
    const view = await submit(settlementRequest({ settlementId: id, rail: 'SWIFT', kind: 'INTERNATIONAL' }));
    expect(view.status).toBe('COMPLETED');
    // One transfer at the bank, whatever the number of calls: the idempotency key held.
    expect((await engine.bank.allTransfers()).filter((transfer) => transfer.instruction.settlementId === id)).toHaveLength(1);
  });

  it('compensates a transfer that went out but was never confirmed, then releases the lock', async () => {
    const id = newSettlementId();
    engine.bank.setScenario(id, { pendingChecks: 1_000 });
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const view = await submit(settlementRequest({ settlementId: id }));
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.CONFIRMATION_TIMEOUT', lock: { state: 'VOIDED' } });
    expect(view.checkpoints.map((checkpoint) => checkpoint.status)).toEqual(['PENDING', 'VALIDATED', 'LOCKED', 'TRANSFER_INITIATED', 'COMPENSATING', 'COMPENSATED', 'ROLLED_BACK', 'FAILED']);
    expect(await engine.bank.transfer(`${id}:1`)).toMatchObject({ state: 'REVERSED' });
    expect(await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).toEqual(before);
  });

  it('asks the bank before voiding when the transfer outcome stays unknown, and voids only when nothing left', async () => {
    const id = newSettlementId();
    engine.bank.setScenario(id, { unavailableCalls: 1_000 });
    const view = await submit(settlementRequest({ settlementId: id }));
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.UNAVAILABLE', retryable: true, lock: { state: 'VOIDED' } });
    expect(view.checkpoints.map((checkpoint) => checkpoint.stage)).toContain('Compensate');
    expect(await engine.bank.transfer(`${id}:1`)).toBeUndefined();
  });
});

describe('idempotency', () => {
  it('answers a duplicate with the current state and a conflicting reuse of the id with 409, starting nothing twice', async () => {
    const request = settlementRequest();
    const first = await http(engine, 'POST', '/api/v1/settlements', request);
    expect(first.status).toBe(202);
    await settled(engine, String(request.settlementId));
    const again = await http(engine, 'POST', '/api/v1/settlements', request);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ settlementId: request.settlementId, status: 'COMPLETED' });
    const conflicting = await http(engine, 'POST', '/api/v1/settlements', { ...request, amount: '1.00' });
    expect(conflicting.status).toBe(409);
    expect(conflicting.json.error).toMatchObject({ code: 'SETTLEMENT.IDEMPOTENCY_CONFLICT' });
    expect(conflicting.json.error.message).toContain('amount');
    const postings = (await scanAll(engine, 'ledger')).filter((entry) => entry.reference === request.settlementId);
    expect(postings).toHaveLength(2);
  });

  it('changes nothing when every stage is replayed twice, during and after the run', async () => {
    const stages = ['Validate', 'LockFunds', 'InitiateTransfer', 'CheckConfirmation', 'Finalize'] as const;
    const { stageUseCases } = await import('../../../lambdas/handlers/stage-handlers');
    const { parseSettlementRequest } = await import('../../../lambdas/domain/settlement');
    const request = parseSettlementRequest(settlementRequest({ amount: '77.00' }));
    const vostroBefore = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    await engine.deps.settlements.create(request, new Date().toISOString());
    // Drive the stages by hand, each one twice in a row, as a retried Lambda would.
    let state: Record<string, unknown> = { settlementId: request.settlementId };
    for (const stage of stages) {
      const first = await (stageUseCases[stage] as (deps: unknown, input: unknown) => Promise<unknown>)(engine.deps, state);
      const second = await (stageUseCases[stage] as (deps: unknown, input: unknown) => Promise<unknown>)(engine.deps, state);
      // The same outcome; Validate and CheckConfirmation decide without writing, so each stamps its own decision time.
      const decision = (result: unknown) => ({ ...(result as object), validatedAt: undefined, confirmedAt: undefined });
      expect(decision(second)).toEqual(decision(first));
      if (stage === 'Validate') state = { ...state, validation: first };
      if (stage === 'CheckConfirmation') state = { ...state, confirmation: first };
    }
    const partition = async () => (await engine.documentClient.send(new ScanCommand({ TableName: engine.tables.settlements, FilterExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': request.settlementId } }))).Items ?? [];
    const itemsAfterRun = await partition();
    const vostroAfterRun = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    expect(vostroAfterRun.balance).toBe(new Money(vostroBefore.balance).minus('77').toFixed());
    // Replay the whole workflow after it ended: every stage sees the settlement past it.
    for (const stage of stages) await (stageUseCases[stage] as (deps: unknown, input: unknown) => Promise<unknown>)(engine.deps, state);
    await engine.deps.workflow.startSettlement({ settlementId: request.settlementId, attempt: 1 });
    await engine.workflow.idle();
    expect(await partition()).toHaveLength(itemsAfterRun.length);
    expect(await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).toEqual(vostroAfterRun);
  });
});

describe('decisions carried from one stage to the next (Validate to LockFunds, CheckConfirmation to Finalize)', () => {
  const stagesModule = () => import('../../../lambdas/usecases/stages');
  const create = async (overrides: Record<string, unknown> = {}) => {
    const { parseSettlementRequest } = await import('../../../lambdas/domain/settlement');
    const request = parseSettlementRequest(settlementRequest({ settlementId: newSettlementId('carried'), amount: '3.00', ...overrides }));
    await engine.deps.settlements.create(request, new Date().toISOString());
    return request.settlementId;
  };
  /** Another writer moves the record on (the recovery sweep's checkpoint, say) after the decision was taken. */
  const moveOn = async (settlementId: string) => {
    const record = (await engine.deps.settlements.get(settlementId))!;
    await engine.deps.settlements.transition({ record, to: record.status, stage: 'Recovery', at: new Date().toISOString() });
  };

  it('commits Validate\'s decision only on the record it was taken on, else LockFunds decides afresh', async () => {
    const { validate, lockFunds } = await stagesModule();
    const settlementId = await create();
    const validation = await validate(engine.deps, { settlementId });
    await moveOn(settlementId);
    // A result taken on the older version, naming another nostro: not committed.
    await lockFunds(engine.deps, { settlementId, validation: { ...validation, nostroAccountId: 'NOSTRO#BNPAFRPP#USD' } });
    const record = (await engine.deps.settlements.get(settlementId))!;
    expect(record).toMatchObject({ status: 'LOCKED', nostroAccountId: 'NOSTRO#BNPAFRPP#EUR', lock: { state: 'PENDING', nostroAccountId: 'NOSTRO#BNPAFRPP#EUR' } });
    expect(record.checkpoints!.map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`)).toEqual(['Submit:PENDING', 'Recovery:PENDING', 'Validate:VALIDATED', 'LockFunds:LOCKED']);
    await engine.deps.workflow.startSettlement({ settlementId, attempt: 1 });
    expect(await settled(engine, settlementId)).toMatchObject({ status: 'COMPLETED' });
  });

  it('finalizes on a carried confirmation only for the record it was taken on, else asks the bank and posts nothing while it has not settled', async () => {
    const { validate, lockFunds, initiateTransfer, finalize } = await stagesModule();
    const settlementId = await create();
    engine.bank.setScenario(settlementId, { pendingChecks: 1_000 });
    await lockFunds(engine.deps, { settlementId, validation: await validate(engine.deps, { settlementId }) });
    await initiateTransfer(engine.deps, { settlementId });
    const version = (await engine.deps.settlements.get(settlementId))!.version;
    await moveOn(settlementId);
    // A confirmation claimed for the older version while the bank still has the transfer pending: refused.
    const claimed = { state: 'CONFIRMED' as const, polls: 1, waitSeconds: 0, attempt: 1, version, confirmedAt: new Date().toISOString() };
    await expect(finalize(engine.deps, { settlementId, confirmation: claimed })).rejects.toMatchObject({ name: 'InvalidTransitionError' });
    expect(await engine.deps.settlements.get(settlementId)).toMatchObject({ status: 'TRANSFER_INITIATED', lock: { state: 'PENDING' } });
    // Once the bank has settled it, the same Finalize posts (the bank asked again), with the confirmation's checkpoint.
    engine.bank.setScenario(settlementId, { pendingChecks: 0 });
    await engine.bank.forRail('SEPA').getTransfer(`${settlementId}:1`);
    await finalize(engine.deps, { settlementId, confirmation: claimed });
    const record = (await engine.deps.settlements.get(settlementId))!;
    expect(record).toMatchObject({ status: 'COMPLETED', lock: { state: 'POSTED' } });
    expect(record.checkpoints!.slice(-2).map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`)).toEqual(['CheckConfirmation:CONFIRMED', 'Finalize:COMPLETED']);
  });
});

describe('bad input', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['settlementId', { settlementId: '' }],
    ['payerBic', { payerBic: 'NOTABIC' }],
    ['payeeBic', { payeeBic: 'DEUTDEFF' }],
    ['amount', { amount: '12.345' }],
    ['amount', { amount: 12.34 }],
    ['amount', { amount: '-1.00' }],
    ['amount', { amount: '1e5' }],
    ['currency', { currency: 'ABC' }],
    ['rail', { rail: 'CARRIER_PIGEON' }],
    ['kind', { kind: 'LOCAL' }],
    ['valueDate', { valueDate: '2026-13-01' }],
    ['reference', { reference: 'x'.repeat(200) }],
    ['color', { color: 'blue' }],
  ];

  it.each(cases)('gets 400 naming %s and writes nothing', async (field, override) => {
    const before = (await scanAll(engine, 'settlements')).length;
    const response = await http(engine, 'POST', '/api/v1/settlements', settlementRequest(override));
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ code: 'VALIDATION.INVALID_FIELD', field });
    expect((await scanAll(engine, 'settlements')).length).toBe(before);
  });

  it('refuses a body that is not JSON (400), of the wrong content type (415) or too large (413)', async () => {
    expect((await http(engine, 'POST', '/api/v1/settlements', '{"settlementId":')).status).toBe(400);
    expect((await http(engine, 'POST', '/api/v1/settlements', JSON.stringify(settlementRequest()), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await http(engine, 'POST', '/api/v1/settlements', settlementRequest({ reference: 'x'.repeat(70_000) }))).status).toBe(413);
  });

  it('answers 404 for an unknown settlement', async () => {
    const response = await http(engine, 'GET', '/api/v1/settlements/does-not-exist');
    expect(response.status).toBe(404);
    expect(response.json.error.code).toBe('SETTLEMENT.NOT_FOUND');
  });
});

describe('concurrency', () => {
  // One item, and a hot account split into 4 balance shards (its locks move surplus between shards near the end).
  it.each([
    { shards: 1, bic: 'DRAINDE1' },
    { shards: 4, bic: 'DRAINDE4' },
  ])('never overdraws: 50 concurrent settlements drain one account of $shards shard(s) and every lock ends exactly once', async ({ shards, bic }) => {
    const at = new Date().toISOString();
    await engine.reference.registerBank({ bic, name: 'Drain Test Bank', country: 'DE', status: 'ACTIVE' }, at);
    await engine.accounts.open({ accountType: 'VOSTRO', bic, currency: 'EUR', floor: new Money(0), openingBalance: new Money('10000.00'), shards }, at);
    const books = await bookSummary(engine);
    const requests = Array.from({ length: 50 }, () => settlementRequest({ payerBic: bic, amount: '300.00' }));
    const responses = await Promise.all(requests.map((request) => http(engine, 'POST', '/api/v1/settlements', request)));
    expect(responses.map((response) => response.status)).toEqual(requests.map(() => 202));
    const views = await Promise.all(requests.map((request) => settled(engine, String(request.settlementId), 60_000)));
    const completed = views.filter((view) => view.status === 'COMPLETED');
    const failed = views.filter((view) => view.status === 'FAILED');
    expect(completed).toHaveLength(33); // 33 × 300 = 9,900 ≤ 10,000 < 34 × 300
    expect(failed.map((view) => view.reasonCode)).toEqual(failed.map(() => 'SETTLEMENT.INSUFFICIENT_FUNDS'));
    expect(await balances(engine, 'VOSTRO', bic, 'EUR')).toEqual({ balance: '100', locked: '0', available: '100' });
    expect((await engine.accounts.get(`VOSTRO#${bic}#EUR`))?.shards?.length ?? 1).toBe(shards);
    expect(views.every((view) => view.lock === undefined || view.lock.state === (view.status === 'COMPLETED' ? 'POSTED' : 'VOIDED'))).toBe(true);
    expect(await bookSummary(engine)).toEqual(books);
  });
});
