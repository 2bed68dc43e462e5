/**
 * StreamSettlementEvents against the running engine, with the writer in another engine instance: the reader
 * shares nothing with the writer but the DynamoDB tables, as on AWS (Lambdas write, the Fargate task streams).
 */
import * as grpc from '@grpc/grpc-js';
import { startTestEngine, newSettlementId, settled, type TestEngine } from '../../support/engine';
import { startGrpcTestEngine, type GrpcTestEngine } from '../../support/grpc';
import { submitSettlement, getSettlement } from '../../../lambdas/usecases/settlements';

type EventMessage = { cursor: string; settlement_id: string; seq: number; status: string; currency: string; payer_bic: string; payee_bic: string };

let reader: GrpcTestEngine;
let writer: TestEngine;

beforeAll(async () => {
  reader = await startGrpcTestEngine({ grpcEventStream: { pollIntervalMs: 50 } });
  const tablePrefix = reader.engine.tables.settlements.replace(/settlements$/, '');
  writer = await startTestEngine({ tablePrefix, httpPort: null, seed: false });
});

afterAll(async () => {
  await writer?.stop();
  await reader?.stop();
});

/** Reads a stream until `done` says so; resolves with what arrived. Cancels the call at the end. */
function read(request: Record<string, unknown>, done: (received: EventMessage[]) => boolean, timeoutMs = 60_000): Promise<EventMessage[]> {
  return new Promise((resolve, reject) => {
    const received: EventMessage[] = [];
    const stream = reader.client.streamEvents(request);
    const timer = setTimeout(() => {
      stream.cancel();
      reject(Object.assign(new Error(`stream timed out with ${received.length} events`), { received }));
    }, timeoutMs);
    stream.on('data', (message: EventMessage) => {
      received.push(message);
      if (done(received)) {
        clearTimeout(timer);
        stream.cancel();
        resolve(received);
      }
    });
    stream.on('error', (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) {
        clearTimeout(timer);
        reject(error);
      }
    });
  });
}

function nowTimestamp(offsetMs = 0) {
  const milliseconds = Date.now() + offsetMs;
  return { seconds: String(Math.floor(milliseconds / 1000)), nanos: (milliseconds % 1000) * 1_000_000 };
}

describe('StreamSettlementEvents', () => {
  it('delivers every event of 100 concurrent settlements in per-settlement order, and resumes from a cursor with no gap and no repeat', async () => {
    const since = nowTimestamp(-1_000);
    const requests = Array.from({ length: 100 }, (_, index) => {
      const usd = index % 4 === 0;
      return {
        settlementId: newSettlementId('stream'),
        payerBic: usd ? 'CHASUS33' : 'DEUTDEFF',
        payeeBic: usd ? 'CITIUS33' : 'BNPAFRPP',
        // Every tenth fails for insufficient funds: a different path through the lifecycle.
        amount: index % 10 === 5 ? '999999999.00' : `${index + 1}.00`,
        currency: usd ? 'USD' : 'EUR',
        rail: usd ? 'ACH' : 'SEPA',
        kind: 'DOMESTIC',
        valueDate: new Date().toISOString().slice(0, 10),
        reference: `stream ${index}`,
      };
    });

    // The first connection reads 150 events, then drops while settlements are still moving.
    const firstPart = read({ since }, (received) => received.length >= 150);
    await Promise.all(requests.map((request) => submitSettlement(writer.deps, request)));
    const head = await firstPart;
    // Generous: this file shares DynamoDB Local with the race files, which can hold a settlement's retries for a
    // minute; the stream's order, gaps and repeats are what this test judges, not speed.
    await Promise.all(requests.map((request) => settled(writer, request.settlementId, 120_000)));

    // Everything the workflow wrote, as the store holds it.
    const histories = await Promise.all(requests.map((request) => getSettlement(writer.deps, request.settlementId)));
    const expected = new Map(histories.map((view) => [view.settlementId, view.checkpoints.map((checkpoint) => checkpoint.seq)]));
    const total = histories.reduce((sum, view) => sum + view.checkpoints.length, 0);
    expect(total).toBeGreaterThanOrEqual(500);

    // The second connection resumes after the last event the first one received.
    const tail = await read({ cursor: head[head.length - 1].cursor }, (received) => head.length + received.length >= total, 30_000).catch((error: Error & { received?: EventMessage[] }) => {
      // Name what is missing: far more useful than a timeout.
      const got = new Set([...head, ...(error.received ?? [])].map((event) => `${event.settlement_id}#${event.seq}`));
      const missing = histories.flatMap((view) => view.checkpoints.filter((checkpoint) => !got.has(`${view.settlementId}#${checkpoint.seq}`)).map((checkpoint) => `${view.settlementId}#${checkpoint.seq}`));
      throw new Error(`${error.message}; missing ${missing.length}: ${missing.slice(0, 10).join(', ')}`);
    });
    const all = [...head, ...tail];

    const keys = all.map((event) => `${event.settlement_id}#${event.seq}`);
    expect(new Set(keys).size).toBe(keys.length); // no repeat
    expect(all).toHaveLength(total); // no gap
    const delivered = new Map<string, number[]>();
    for (const event of all) delivered.set(event.settlement_id, [...(delivered.get(event.settlement_id) ?? []), event.seq]);
    expect(new Map([...delivered].sort())).toEqual(new Map([...expected].sort())); // per-settlement order, complete
    const terminal = new Map(histories.map((view) => [view.settlementId, `SETTLEMENT_STATUS_${view.status}`]));
    for (const [settlementId, status] of terminal) expect(all.filter((event) => event.settlement_id === settlementId).pop()?.status).toBe(status);

    // Filters: one currency, one bank, one settlement.
    const usdCount = histories.filter((view) => view.currency === 'USD').reduce((sum, view) => sum + view.checkpoints.length, 0);
    const usd = await read({ since, currency: 'USD' }, (received) => received.length >= usdCount);
    expect(usd.every((event) => event.currency === 'USD')).toBe(true);
    expect(new Set(usd.map((event) => `${event.settlement_id}#${event.seq}`)).size).toBe(usdCount);
    const citi = await read({ since, bank_bic: 'CITIUS33' }, (received) => received.length >= usdCount);
    expect(citi.every((event) => event.payee_bic === 'CITIUS33' || event.payer_bic === 'CITIUS33')).toBe(true);
    const one = histories[7];
    const own = await read({ since, settlement_id: one.settlementId }, (received) => received.length >= one.checkpoints.length);
    expect(own.map((event) => event.seq)).toEqual(one.checkpoints.map((checkpoint) => checkpoint.seq));
  }, 240_000);

  it('follows a single settlement live, from its submission to its terminal status', async () => {
    const settlementId = newSettlementId('follow');
    const live = read({ settlement_id: settlementId, since: nowTimestamp(-1_000) }, (received) => received.some((event) => event.status === 'SETTLEMENT_STATUS_COMPLETED'));
    await submitSettlement(writer.deps, { settlementId, payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: '10.00', currency: 'EUR', rail: 'SEPA', kind: 'DOMESTIC', valueDate: new Date().toISOString().slice(0, 10), reference: 'follow' });
    const events = await live;
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
