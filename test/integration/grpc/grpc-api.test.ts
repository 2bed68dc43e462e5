/**
 * SettlementService with a real @grpc/grpc-js client against the running local engine (DynamoDB Local, the real
 * state-machine file, the mock bank). No fakes of our own code.
 */
import * as grpc from '@grpc/grpc-js';
import { checkHealth, listServicesByReflection } from '../../../lambdas/adapters/grpc/client';
import { balances, newSettlementId } from '../../support/engine';
import { failure, grpcSettlementRequest, startGrpcTestEngine, type GrpcTestEngine } from '../../support/grpc';

let running: GrpcTestEngine;

beforeAll(async () => {
  running = await startGrpcTestEngine();
});

afterAll(async () => {
  await running?.stop();
});

type SettlementMessage = Record<string, unknown> & { settlement_id: string; status: string; checkpoints: Array<Record<string, unknown>> };

async function nothingWritten(settlementId: string): Promise<void> {
  expect(await running.engine.deps.settlements.get(settlementId)).toBeUndefined();
}

describe('ExecuteSettlement', () => {
  it('settles end to end when asked to wait, and GetSettlementStatus returns the same history', async () => {
    const settlementId = newSettlementId('grpc');
    const vostroBefore = await balances(running.engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const executed = await running.client.call<{ created: boolean; settlement: SettlementMessage }>('ExecuteSettlement', { ...grpcSettlementRequest(settlementId), wait_for_terminal_ms: 20_000 });
    expect(executed.created).toBe(true);
    expect(executed.settlement).toMatchObject({ settlement_id: settlementId, status: 'SETTLEMENT_STATUS_COMPLETED', amount: '1250.00', rail: 'RAIL_SEPA', kind: 'SETTLEMENT_KIND_DOMESTIC', lock: { state: 'FUND_LOCK_STATE_POSTED' } });
    expect(executed.settlement.checkpoints.map((checkpoint) => checkpoint.status)).toEqual([
      'SETTLEMENT_STATUS_PENDING',
      'SETTLEMENT_STATUS_VALIDATED',
      'SETTLEMENT_STATUS_LOCKED',
      'SETTLEMENT_STATUS_TRANSFER_INITIATED',
      'SETTLEMENT_STATUS_CONFIRMED',
      'SETTLEMENT_STATUS_COMPLETED',
    ]);
    expect(Number((executed.settlement.completed_at as { seconds: string }).seconds)).toBeGreaterThan(0);
    expect((await balances(running.engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).balance).not.toBe(vostroBefore.balance);

    const status = await running.client.call<{ settlement: SettlementMessage }>('GetSettlementStatus', { settlement_id: settlementId });
    expect(status.settlement).toEqual(executed.settlement);
  });

  it('carries the payer\'s and payee\'s IBANs through to the settlement', async () => {
    const settlementId = newSettlementId('grpc-iban');
    const ibans = { payer_iban: 'DE89370400440532013000', payee_iban: 'FR1420041010050500013M02606' };
    const executed = await running.client.call<{ settlement: SettlementMessage }>('ExecuteSettlement', { ...grpcSettlementRequest(settlementId), ...ibans });
    expect(executed.settlement).toMatchObject(ibans);
  });

  it('answers at once without a wait, then returns the current state for the same request', async () => {
    const request = grpcSettlementRequest(newSettlementId('grpc'));
    const first = await running.client.call<{ created: boolean; settlement: SettlementMessage }>('ExecuteSettlement', request);
    expect(first.created).toBe(true);
    const again = await running.client.call<{ created: boolean; settlement: SettlementMessage }>('ExecuteSettlement', { ...request, wait_for_terminal_ms: 20_000 });
    expect(again.created).toBe(false);
    expect(again.settlement.status).toBe('SETTLEMENT_STATUS_COMPLETED');
  });

  it('answers ALREADY_EXISTS for the same id with a different payload, changing nothing', async () => {
    const request = grpcSettlementRequest(newSettlementId('grpc'));
    await running.client.call('ExecuteSettlement', { ...request, wait_for_terminal_ms: 20_000 });
    const error = await failure(running.client.call('ExecuteSettlement', { ...request, amount: '999.00' }));
    expect(error).toMatchObject({ code: grpc.status.ALREADY_EXISTS, details: expect.stringMatching(/different amount/) });
    expect(error!.metadata.get('error-code')).toEqual(['SETTLEMENT.IDEMPOTENCY_CONFLICT']);
    const status = await running.client.call<{ settlement: SettlementMessage }>('GetSettlementStatus', { settlement_id: request.settlement_id });
    expect(status.settlement.amount).toBe('1250.00');
  });

  it('reports a business failure in the settlement, not as a call error', async () => {
    const settlementId = newSettlementId('grpc');
    const response = await running.client.call<{ settlement: SettlementMessage }>('ExecuteSettlement', { ...grpcSettlementRequest(settlementId, { amount: '999999999.00' }), wait_for_terminal_ms: 20_000 });
    expect(response.settlement).toMatchObject({ status: 'SETTLEMENT_STATUS_FAILED', reason_code: 'SETTLEMENT.INSUFFICIENT_FUNDS', retryable: false });
  });

  it.each([
    ['settlement_id', { settlement_id: '' }],
    ['settlement_id', { settlement_id: 'has space' }],
    ['payer_bic', { payer_bic: 'NOTABIC' }],
    ['payee_bic', { payee_bic: '' }],
    ['payee_bic', { payee_bic: 'DEUTDEFF' }],
    ['amount', { amount: '' }],
    ['amount', { amount: '-5.00' }],
    ['amount', { amount: '1.234' }],
    ['amount', { amount: '1e3' }],
    ['currency', { currency: 'EURO' }],
    ['currency', { currency: 'XXX' }],
    ['rail', { rail: 'RAIL_UNSPECIFIED' }],
    ['rail', { rail: 99 }],
    ['kind', { kind: 'SETTLEMENT_KIND_UNSPECIFIED' }],
    ['value_date', { value_date: '2026-02-30' }],
    ['value_date', { value_date: 'tomorrow' }],
    ['reference', { reference: '' }],
    ['reference', { reference: 'r'.repeat(141) }], // 141 characters
    ['reference', { reference: 'emoji 🙂' }],
    ['wait_for_terminal_ms', { wait_for_terminal_ms: 120_001 }],
    ['payer_iban', { payer_iban: 'DE89370400440532013001' }], // check digits wrong
    ['payee_iban', { payee_iban: 'not an iban' }],
  ] as Array<[string, Record<string, unknown>]>)('refuses an invalid %s with INVALID_ARGUMENT naming it, writing nothing (%#)', async (field, change) => {
    const settlementId = newSettlementId('bad');
    const request: Record<string, unknown> = { ...grpcSettlementRequest(settlementId), ...change };
    const error = await failure(running.client.call('ExecuteSettlement', request));
    expect(error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(new RegExp(`^${field}: `)) });
    expect(error!.metadata.get('error-field')).toEqual([field]);
    await nothingWritten(typeof request.settlement_id === 'string' && request.settlement_id !== '' ? request.settlement_id : settlementId);
  });
});

describe('GetSettlementStatus', () => {
  it('answers NOT_FOUND for an unknown id', async () => {
    expect(await failure(running.client.call('GetSettlementStatus', { settlement_id: 'no-such-settlement' }))).toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: 'settlement no-such-settlement does not exist',
    });
  });
});

describe('GetNostroBalance and GetVostroBalance', () => {
  it('return the account position with decimal strings', async () => {
    const nostro = await running.client.call<{ account: Record<string, unknown> }>('GetNostroBalance', { bic: 'CHASUS33', currency: 'USD' });
    expect(nostro.account).toMatchObject({ account_id: 'NOSTRO#CHASUS33#USD', account_type: 'ACCOUNT_TYPE_NOSTRO', status: 'ACCOUNT_STATUS_ACTIVE', balance: expect.stringMatching(/^\d+\.\d{2}$/) });
    const vostro = await running.client.call<{ account: Record<string, unknown> }>('GetVostroBalance', { bic: 'MHCBJPJT', currency: 'JPY' });
    const expected = await balances(running.engine, 'VOSTRO', 'MHCBJPJT', 'JPY');
    expect(vostro.account).toMatchObject({ account_id: 'VOSTRO#MHCBJPJT#JPY', balance: expected.balance, available: expected.available, locked: expected.locked });
  });

  it('answer NOT_FOUND for an account that does not exist and INVALID_ARGUMENT for a bad field', async () => {
    expect(await failure(running.client.call('GetVostroBalance', { bic: 'DEUTDEFF', currency: 'JPY' }))).toMatchObject({ code: grpc.status.NOT_FOUND });
    expect(await failure(running.client.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: '' }))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^currency: /) });
    expect(await failure(running.client.call('GetNostroBalance', { bic: 'x', currency: 'EUR' }))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^bic: /) });
  });
});

describe('ReconcileAccounts', () => {
  it('reconciles the selected nostro and returns the report summary', async () => {
    const response = await running.client.call<Record<string, unknown>>('ReconcileAccounts', { account_type: 'ACCOUNT_TYPE_NOSTRO', bic: 'CHASUS33', currency: 'USD' }, { deadlineMs: 60_000 });
    expect(response).toMatchObject({ status: 'COMPLETED', accounts: 1, report_id: expect.stringMatching(/.+/), report_ids: [response.report_id], discrepancies: 0 });
  });

  it('refuses vostro accounts and bad filters naming the field', async () => {
    expect(await failure(running.client.call('ReconcileAccounts', { account_type: 'ACCOUNT_TYPE_VOSTRO' }))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^account_type: /) });
    expect(await failure(running.client.call('ReconcileAccounts', { currency: 'EURO' }))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^currency: /) });
  });
});

describe('access control', () => {
  it('refuses every RPC without credentials with UNAUTHENTICATED, writing nothing', async () => {
    const settlementId = newSettlementId('anon');
    const none = new grpc.Metadata();
    for (const [method, request] of [
      ['ExecuteSettlement', grpcSettlementRequest(settlementId)],
      ['GetSettlementStatus', { settlement_id: settlementId }],
      ['GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }],
      ['GetVostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }],
      ['ReconcileAccounts', {}],
    ] as const) {
      expect(await failure(running.client.call(method, request, { metadata: none }))).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    }
    const wrong = new grpc.Metadata();
    wrong.set('authorization', 'Bearer sk_dev_not-the-key');
    expect(await failure(running.client.call('ExecuteSettlement', grpcSettlementRequest(settlementId), { metadata: wrong }))).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await nothingWritten(settlementId);
    const stream = running.client.streamEvents({}, none);
    stream.on('data', () => undefined);
    expect(await new Promise((resolve) => stream.on('error', resolve))).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it('accepts the key in x-api-key too', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-api-key', running.apiKey);
    await expect(running.client.call('GetVostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }, { metadata })).resolves.toBeDefined();
  });
});

describe('health and reflection', () => {
  it('serves health for the server and the service without credentials', async () => {
    expect(await checkHealth(running.address)).toBe('SERVING');
    expect(await checkHealth(running.address, 'deltran.settlement.v1.SettlementService')).toBe('SERVING');
  });

  it('lists the service through reflection', async () => {
    expect(await listServicesByReflection(running.address)).toEqual(expect.arrayContaining(['deltran.settlement.v1.SettlementService', 'grpc.health.v1.Health']));
  });
});
