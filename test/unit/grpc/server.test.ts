import * as grpc from '@grpc/grpc-js';
import { hashApiKey, parseApiKeys } from '../../../lambdas/adapters/auth/api-keys';
import type { AccessConfiguration } from '../../../lambdas/adapters/auth/config';
import { SettlementClient, checkHealth, listServicesByReflection } from '../../../lambdas/adapters/grpc/client';
import { createGrpcServer, type SettlementGrpcServer } from '../../../lambdas/adapters/grpc/server';
import { InvariantViolationError, TransactionConflictError, WindowClosedError } from '../../../lambdas/domain/errors';
import { FakeChangeStream, FakeEngine } from './fakes';
import { SharedChangeStreamReader, defaultSharedReaderOptions } from '../../../lambdas/adapters/events/shared-reader';
import { defaultEventStreamOptions } from '../../../lambdas/adapters/grpc/event-stream';

const apiKey = 'unit-test-key';
const access = (overrides: Partial<AccessConfiguration> = {}): AccessConfiguration => ({
  apiKeys: parseApiKeys(`tests:${hashApiKey(apiKey)}`),
  rateLimit: { ratePerSecond: 1_000, burst: 1_000 },
  grpcMessageBytesMax: 16 * 1024,
  httpBodyBytesMax: 16 * 1024,
  ...overrides,
});

const validRequest = {
  settlement_id: 'unit-1',
  payer_bic: 'DEUTDEFF',
  payee_bic: 'BNPAFRPP',
  amount: '1250.00',
  currency: 'EUR',
  rail: 'RAIL_SEPA',
  kind: 'SETTLEMENT_KIND_INTERNATIONAL',
  value_date: '2030-01-02',
  reference: 'invoice 42',
};

async function expectStatus(promise: Promise<unknown>, code: grpc.status, details?: RegExp): Promise<grpc.ServiceError> {
  const error = (await promise.then(
    () => undefined,
    (caught: grpc.ServiceError) => caught,
  )) as grpc.ServiceError | undefined;
  expect(error).toBeDefined();
  expect({ code: grpc.status[error!.code], details: error!.details }).toEqual({ code: grpc.status[code], details: details ? expect.stringMatching(details) : expect.anything() });
  return error!;
}

describe('gRPC server (fake use cases)', () => {
  let engine: FakeEngine;
  let events: FakeChangeStream;
  let reader: SharedChangeStreamReader;
  let server: SettlementGrpcServer;
  let client: SettlementClient;
  let address: string;
  const logged: unknown[] = [];

  beforeEach(async () => {
    engine = new FakeEngine();
    events = new FakeChangeStream(1); // one shard: its order is the commit order the test expects
    reader = new SharedChangeStreamReader(events, { ...defaultEventStreamOptions, ...defaultSharedReaderOptions, pollIntervalMs: 10 });
    server = createGrpcServer({
      deps: Object.assign(engine, { events: reader }),
      access: access(),
      logger: { error: (_message, detail) => logged.push(detail) },
    });
    address = `127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    client = new SettlementClient({ address, apiKey });
  });

  afterEach(async () => {
    client.close();
    await server.stop(100);
    await reader.stop();
  });

  describe('ExecuteSettlement', () => {
    it('creates a settlement and maps every field of the view', async () => {
      const response = await client.call<{ created: boolean; settlement: Record<string, unknown> }>('ExecuteSettlement', validRequest);
      expect(response.created).toBe(true);
      expect(response.settlement).toMatchObject({
        settlement_id: 'unit-1',
        amount: '1250.00',
        rail: 'RAIL_SEPA',
        kind: 'SETTLEMENT_KIND_INTERNATIONAL',
        status: 'SETTLEMENT_STATUS_PENDING',
        created_at: { seconds: String(Date.parse('2030-01-02T03:04:05Z') / 1000), nanos: 678_000_000 },
        completed_at: null,
        checkpoints: [{ seq: 1, status: 'SETTLEMENT_STATUS_PENDING', previous_status: 'SETTLEMENT_STATUS_UNSPECIFIED', stage: 'Submit' }],
      });
    });

    it('answers the current state for a duplicate and ALREADY_EXISTS for a conflicting one', async () => {
      await client.call('ExecuteSettlement', validRequest);
      expect(await client.call('ExecuteSettlement', validRequest)).toMatchObject({ created: false });
      const error = await expectStatus(client.call('ExecuteSettlement', { ...validRequest, amount: '1.00' }), grpc.status.ALREADY_EXISTS, /different amount/);
      expect(error.metadata.get('error-code')).toEqual(['SETTLEMENT.IDEMPOTENCY_CONFLICT']);
    });

    it('waits for a terminal status when asked', async () => {
      const response = await client.call<{ settlement: { status: string } }>('ExecuteSettlement', { ...validRequest, wait_for_terminal_ms: 5_000 });
      expect(response.settlement.status).toBe('SETTLEMENT_STATUS_COMPLETED');
    });

    it.each([
      [{ settlement_id: '' }, 'settlement_id'],
      [{ payer_bic: 'nope' }, 'payer_bic'],
      [{ payee_bic: 'DEUTDEFF' }, 'payee_bic'],
      [{ amount: '1.001' }, 'amount'],
      [{ currency: 'EURO' }, 'currency'],
      [{ rail: 'RAIL_UNSPECIFIED' }, 'rail'],
      [{ rail: 42 }, 'rail'],
      [{ kind: 'SETTLEMENT_KIND_UNSPECIFIED' }, 'kind'],
      [{ value_date: '2030-02-30' }, 'value_date'],
      [{ reference: '' }, 'reference'],
      [{ wait_for_terminal_ms: 500_000 }, 'wait_for_terminal_ms'],
    ])('refuses %j with INVALID_ARGUMENT naming %s, writing nothing', async (change, field) => {
      const error = await expectStatus(client.call('ExecuteSettlement', { ...validRequest, ...change }), grpc.status.INVALID_ARGUMENT, new RegExp(`^${field}: `));
      expect(error.metadata.get('error-field')).toEqual([field]);
      expect(error.metadata.get('error-code')).toEqual(['VALIDATION.INVALID_FIELD']);
      expect(engine.settlements.size).toBe(0);
    });

    it('names the proto enum values when rail is unspecified', async () => {
      await expectStatus(client.call('ExecuteSettlement', { ...validRequest, rail: 'RAIL_UNSPECIFIED' }), grpc.status.INVALID_ARGUMENT, /^rail: is required: one of RAIL_SWIFT, RAIL_SEPA, RAIL_ACH, RAIL_MOCK$/);
    });

    it.each([
      ['WindowClosedError', new WindowClosedError('EUR', 'after cut-off', '2030-01-03T07:00:00Z'), grpc.status.FAILED_PRECONDITION, /window for EUR is closed/],
      ['TransactionConflictError', new TransactionConflictError('conflict'), grpc.status.UNAVAILABLE, /conflict/],
      ['an untranslated ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' }), grpc.status.UNAVAILABLE, /store is unavailable/],
      ['InvariantViolationError', new InvariantViolationError('locked went negative on VOSTRO#X'), grpc.status.INTERNAL, /^internal error \(reference [0-9a-f-]{36}\)$/],
      ['a TypeError', new TypeError('cannot read properties of undefined (secret internals)'), grpc.status.INTERNAL, /^internal error/],
    ])('maps %s to its status without leaking internals', async (_name, failure, code, details) => {
      engine.failNextWith = failure;
      const error = await expectStatus(client.call('ExecuteSettlement', validRequest), code, details);
      expect(error.details).not.toMatch(/secret|negative/);
    });
  });

  describe('access control', () => {
    it('refuses a call without credentials with UNAUTHENTICATED before touching the use case', async () => {
      await expectStatus(client.call('ExecuteSettlement', validRequest, { metadata: new grpc.Metadata() }), grpc.status.UNAUTHENTICATED, /credentials required/);
      expect(engine.submitCalls).toBe(0);
      const metadata = new grpc.Metadata();
      metadata.set('x-api-key', 'wrong');
      await expectStatus(client.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }, { metadata }), grpc.status.UNAUTHENTICATED, /not valid/);
    });

    it('accepts x-api-key as well as a Bearer authorization', async () => {
      const metadata = new grpc.Metadata();
      metadata.set('x-api-key', apiKey);
      await expect(client.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }, { metadata })).resolves.toBeDefined();
    });

    it('answers RESOURCE_EXHAUSTED beyond the client rate', async () => {
      const limited = createGrpcServer({ deps: engine, access: access({ rateLimit: { ratePerSecond: 0.001, burst: 2 } }) });
      const limitedClient = new SettlementClient({ address: `127.0.0.1:${await limited.listen(0, '127.0.0.1')}`, apiKey });
      try {
        await limitedClient.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' });
        await limitedClient.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' });
        await expectStatus(limitedClient.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' }), grpc.status.RESOURCE_EXHAUSTED, /exceeded/);
      } finally {
        limitedClient.close();
        await limited.stop(100);
      }
    });

    it('refuses a message larger than the configured maximum', async () => {
      await expectStatus(client.call('ExecuteSettlement', { ...validRequest, reference: 'x'.repeat(20_000) }), grpc.status.RESOURCE_EXHAUSTED);
      expect(engine.submitCalls).toBe(0);
    });
  });

  describe('reads', () => {
    it('GetSettlementStatus answers NOT_FOUND for an unknown id and INVALID_ARGUMENT for none', async () => {
      await expectStatus(client.call('GetSettlementStatus', { settlement_id: 'nope' }), grpc.status.NOT_FOUND, /nope does not exist/);
      await expectStatus(client.call('GetSettlementStatus', {}), grpc.status.INVALID_ARGUMENT, /^settlement_id: is required/);
    });

    it('GetNostroBalance and GetVostroBalance map the account, and validate bic and currency', async () => {
      const response = await client.call<{ account: Record<string, unknown> }>('GetVostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' });
      expect(response.account).toMatchObject({ account_id: 'VOSTRO#DEUTDEFF#EUR', account_type: 'ACCOUNT_TYPE_VOSTRO', available: '750.00', status: 'ACCOUNT_STATUS_ACTIVE', version: '7' });
      await expectStatus(client.call('GetNostroBalance', { bic: 'BNPAFRPP', currency: 'EUR' }), grpc.status.NOT_FOUND);
      await expectStatus(client.call('GetNostroBalance', { bic: 'x', currency: 'EUR' }), grpc.status.INVALID_ARGUMENT, /^bic: /);
      await expectStatus(client.call('GetNostroBalance', { bic: 'DEUTDEFF', currency: 'ZZZ' }), grpc.status.INVALID_ARGUMENT, /^currency: /);
    });

    it('ReconcileAccounts says it is not available yet when the use case is absent', async () => {
      await expectStatus(client.call('ReconcileAccounts', {}), grpc.status.UNIMPLEMENTED, /reconciliation engine/);
    });
  });

  describe('health and reflection', () => {
    it('reports NOT_SERVING while the database probe fails, and SERVING again after', async () => {
      expect(await checkHealth(address)).toBe('SERVING');
      expect(await checkHealth(address, 'deltran.settlement.v1.SettlementService')).toBe('SERVING');
      engine.databaseUp = false;
      await server.probeDatabase();
      expect(await checkHealth(address)).toBe('NOT_SERVING');
      expect(await checkHealth(address, 'deltran.settlement.v1.SettlementService')).toBe('NOT_SERVING');
      engine.databaseUp = true;
      await server.probeDatabase();
      expect(await checkHealth(address)).toBe('SERVING');
    });

    it('lists the settlement and health services through reflection, without credentials', async () => {
      expect(await listServicesByReflection(address)).toEqual(expect.arrayContaining(['deltran.settlement.v1.SettlementService', 'grpc.health.v1.Health']));
    });
  });

  describe('StreamSettlementEvents', () => {
    const event = (settlementId: string, seq: number, at: string, currency = 'EUR') =>
      events.add({ settlementId, seq, status: seq === 1 ? 'PENDING' : 'VALIDATED', previousStatus: seq === 1 ? null : 'PENDING', stage: seq === 1 ? 'Submit' : 'Validate', at, payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', currency, amount: '1.00' });

    function collect(request: Record<string, unknown>, count: number, metadata?: grpc.Metadata): Promise<Record<string, unknown>[]> {
      return new Promise((resolve, reject) => {
        const received: Record<string, unknown>[] = [];
        const stream = client.streamEvents(request, metadata);
        stream.on('data', (message) => {
          received.push(message);
          if (received.length === count) {
            stream.cancel();
            resolve(received);
          }
        });
        stream.on('error', (error: grpc.ServiceError) => (error.code === grpc.status.CANCELLED ? undefined : reject(error)));
      });
    }

    it('delivers events in order from `since`, and resumes after a cursor without gap or repeat', async () => {
      const base = Date.now() + 10;
      const at = (offsetMs: number) => new Date(base + offsetMs).toISOString();
      const since = { seconds: String(Math.floor(base / 1000)), nanos: (base % 1000) * 1_000_000 };
      await new Promise((resolve) => setTimeout(resolve, 20));
      event('a', 1, at(0));
      event('b', 1, at(1));
      await new Promise((resolve) => setTimeout(resolve, 50));
      event('a', 2, at(60));
      event('b', 2, at(61), 'USD');
      const all = await collect({ since }, 4);
      expect(all.map((message) => `${message.settlement_id}${message.seq}`)).toEqual(['a1', 'b1', 'a2', 'b2']);
      expect(all[0]).toMatchObject({ status: 'SETTLEMENT_STATUS_PENDING', previous_status: 'SETTLEMENT_STATUS_UNSPECIFIED', stage: 'Submit' });
      const resumed = await collect({ cursor: all[1].cursor }, 2);
      expect(resumed.map((message) => `${message.settlement_id}${message.seq}`)).toEqual(['a2', 'b2']);
      const usd = await collect({ since, currency: 'USD' }, 1);
      expect(usd.map((message) => `${message.settlement_id}${message.seq}`)).toEqual(['b2']);
      const onlyA = await collect({ since, settlement_id: 'a' }, 2);
      expect(onlyA.map((message) => `${message.settlement_id}${message.seq}`)).toEqual(['a1', 'a2']);
    });

    it('refuses a stream without credentials and a forged cursor', async () => {
      await expect(collect({}, 1, new grpc.Metadata())).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      await expect(collect({ cursor: 'v1.bm9wZQ' }, 1)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^cursor: /) });
      await expect(collect({ bank_bic: 'x' }, 1)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^bank_bic: /) });
    });

    it('ends open streams with UNAVAILABLE on shutdown', async () => {
      const stream = client.streamEvents({});
      const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      stream.on('data', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await server.stop(1_000);
      expect((await ended).code).toBe(grpc.status.UNAVAILABLE);
    });
  });

  it('drains an in-flight call on stop', async () => {
    let release: () => void = () => undefined;
    engine.getSettlement = () => new Promise((resolve) => (release = () => resolve({ ...[...engine.settlements.values()][0] })));
    await client.call('ExecuteSettlement', validRequest);
    const pending = client.call('GetSettlementStatus', { settlement_id: 'unit-1' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = server.stop(5_000);
    setTimeout(() => release(), 100);
    await expect(pending).resolves.toMatchObject({ settlement: { settlement_id: 'unit-1' } });
    await stopped;
  });
});
