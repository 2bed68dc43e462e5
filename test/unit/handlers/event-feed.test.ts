/**
 * The console's live feed and last-hour stats over an in-memory change stream (the reader is the one
 * StreamSettlementEvents uses); the browser test (test/e2e/console.test.ts) drives the same routes against DynamoDB
 * Local's stream.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEventFeed, type EventFeed } from '../../../lambdas/handlers/event-feed';
import { LastHourStats } from '../../../lambdas/adapters/events/last-hour';
import type { Principal } from '../../../lambdas/domain/access';
import type { SettlementStatus } from '../../../lambdas/domain/settlement';
import type { SettlementEvent } from '../../../lambdas/ports/stores';
import { FakeChangeStream } from '../grpc/fakes';
import { SharedChangeStreamReader, defaultSharedReaderOptions } from '../../../lambdas/adapters/events/shared-reader';
import { defaultEventStreamOptions } from '../../../lambdas/adapters/grpc/event-stream';
import { readSettlementFrames } from '../../support/sse';

const nowMs = Date.parse('2030-05-06T07:30:20.000Z');
const lifecycle: SettlementStatus[] = ['PENDING', 'VALIDATED', 'LOCKED', 'TRANSFER_INITIATED', 'CONFIRMED', 'COMPLETED'];
const participant: Principal = { clientName: 'bnp', method: 'api-key', role: 'participant', bics: ['BNPAFRPP'] };
const operator: Principal = { clientName: 'ops', method: 'api-key', role: 'operator', bics: [] };

function event(settlementId: string, seq: number, at: number, payerBic = 'DEUTDEFF', status = lifecycle[seq - 1]): SettlementEvent {
  return { settlementId, seq, status, previousStatus: seq === 1 ? null : lifecycle[seq - 2], stage: 'Stage', at: new Date(at).toISOString(), payerBic, payeeBic: 'BNPAFRPP', currency: 'EUR', amount: '1.00' };
}

/** A whole settlement: submitted at `at`, each later status 100 ms after the previous one. */
function settle(stream: FakeChangeStream, settlementId: string, at: number, payerBic = 'DEUTDEFF'): void {
  for (let seq = 1; seq <= lifecycle.length; seq++) stream.add(event(settlementId, seq, at + (seq - 1) * 100, payerBic));
}

describe('the console event feed', () => {
  let stream: FakeChangeStream;
  let feed: EventFeed;
  let reader: SharedChangeStreamReader;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    stream = new FakeChangeStream();
    reader = new SharedChangeStreamReader(stream, { ...defaultEventStreamOptions, ...defaultSharedReaderOptions, pollIntervalMs: 5, nowMs: () => nowMs });
    feed = createEventFeed({
      events: reader,
      nowMs: () => nowMs,
      authenticate: (headers) => (headers.authorization === 'Bearer bnp' ? participant : operator),
    });
    server = createServer((request, response) => feed.handlers[new URL(request.url ?? '/', 'http://localhost').pathname]!(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await feed.stop();
    await reader.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** The first `count` settlement events of the SSE stream. */
  async function read(query: string, key: string, count: number): Promise<SettlementEvent[]> {
    const controller = new AbortController();
    const response = await fetch(`${url}/api/v1/events/stream?${query}`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readSettlementFrames<SettlementEvent>(response, (received) => received.length >= count);
    controller.abort();
    return events;
  }

  // `since` (not the latest start) so that no assertion depends on when the reader opens its shards.
  const since = `since=${encodeURIComponent(new Date(nowMs - 1_000).toISOString())}`;

  it('streams the events stamped from `since`, each settlement in order, only those a participant is party to', async () => {
    settle(stream, 'before', nowMs - 10_000);
    const reading = read(since, 'bnp', 7);
    stream.add(event('other-pair', 1, nowMs, 'COBADEFF'));
    stream.addOther('other-pair', nowMs);
    for (let seq = 1; seq <= 3; seq++) stream.add({ ...event('not-mine', seq, nowMs), payeeBic: 'CHASUS33' });
    settle(stream, 'mine', nowMs);
    const events = await reading;
    expect(events.map((each) => `${each.settlementId}#${each.seq}`)).toEqual(['other-pair#1', ...lifecycle.map((_, index) => `mine#${index + 1}`)]);
  });

  it('filters by bank and currency, and refuses an unknown query parameter naming it', async () => {
    const reading = read(`bank=COBADEFF&currency=EUR&${since}`, 'ops', 1);
    settle(stream, 'deutsche', nowMs);
    stream.add({ ...event('commerz-usd', 1, nowMs, 'COBADEFF'), currency: 'USD' });
    stream.add(event('commerz', 1, nowMs, 'COBADEFF'));
    expect((await reading).map((each) => each.settlementId)).toEqual(['commerz']);
    const refused = await fetch(`${url}/api/v1/events/stream?colour=red`, { headers: { authorization: 'Bearer ops' } });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('colour');
  });

  it('counts the last hour from the stream, started an hour back, per scope', async () => {
    settle(stream, 'early', nowMs - 2 * 3600_000);
    settle(stream, 'a', nowMs - 5 * 60_000);
    settle(stream, 'b', nowMs - 5 * 60_000 + 1_000, 'COBADEFF');
    stream.add(event('failed', 1, nowMs - 60_000, 'DEUTDEFF'));
    stream.add({ ...event('failed', 2, nowMs - 60_000 + 10, 'DEUTDEFF', 'FAILED'), payeeBic: 'CHASUS33' });
    const minutes = async (key: string) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const body = (await (await fetch(`${url}/api/v1/events/stats`, { headers: { authorization: `Bearer ${key}` } })).json()) as { minutes: { completed: number; failed: number; latencyMsP50: number | null }[] };
        if (body.minutes.some((minute) => minute.failed > 0)) return body.minutes;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the stats follower never read the stream');
    };
    const all = await minutes('ops');
    expect(all).toHaveLength(60);
    expect(all.reduce((sum, minute) => sum + minute.completed, 0)).toBe(2);
    expect(all.find((minute) => minute.completed > 0)).toMatchObject({ completed: 2, latencyMsP50: 500 });
    expect(all.reduce((sum, minute) => sum + minute.failed, 0)).toBe(1);
    // The participant is payee of both completions, not party to the failure (DEUTDEFF → CHASUS33).
    const mine = await fetch(`${url}/api/v1/events/stats`, { headers: { authorization: 'Bearer bnp' } }).then((response) => response.json() as Promise<{ minutes: { completed: number; failed: number }[] }>);
    expect(mine.minutes.reduce((sum, minute) => sum + minute.completed, 0)).toBe(2);
    expect(mine.minutes.reduce((sum, minute) => sum + minute.failed, 0)).toBe(0);
  });
});

describe('LastHourStats', () => {
  it('drops minutes that left the window and forgets a submission once it completed', () => {
    const stats = new LastHourStats();
    const stream = new FakeChangeStream();
    const events: SettlementEvent[] = [];
    for (let seq = 1; seq <= lifecycle.length; seq++) events.push(event('a', seq, nowMs - 61 * 60_000 + seq * 100));
    for (let seq = 1; seq <= lifecycle.length; seq++) events.push(event('b', seq, nowMs - 10_000 + seq * 100));
    events.forEach((each) => stats.record(stream.add(each)));
    const minutes = stats.lastHour(nowMs, () => true);
    expect(minutes[0].minute).toBe('2030-05-06T06:31:00.000Z');
    expect(minutes.reduce((sum, minute) => sum + minute.completed, 0)).toBe(1);
    // A replayed completion has no submission to measure from: counted, not timed again.
    stats.record(events[events.length - 1]);
    expect(stats.lastHour(nowMs, () => true).at(-1)).toMatchObject({ completed: 2, latencyMsP50: 500, latencyMsP99: 500 });
  });
});
