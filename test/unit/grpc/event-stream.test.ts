import { decodeCursor, defaultEventStreamOptions, encodeCursor, parseStreamRequest, settlementEvents, type EventStreamOptions, type StreamRequest } from '../../../lambdas/adapters/grpc/event-stream';
import type { SettlementStatus } from '../../../lambdas/domain/settlement';
import type { SettlementEvent } from '../../../lambdas/ports/stores';
import { ValidationError } from '../../../lambdas/domain/errors';
import { FakeChangeStream } from './fakes';

const base = Date.parse('2030-05-06T07:08:50.000Z');
const iso = (offsetMs: number) => new Date(base + offsetMs).toISOString();
const lifecycle: SettlementStatus[] = ['PENDING', 'VALIDATED', 'LOCKED', 'TRANSFER_INITIATED', 'CONFIRMED', 'COMPLETED'];

function event(settlementId: string, seq: number, atOffsetMs: number, currency = 'EUR'): SettlementEvent {
  return { settlementId, seq, status: lifecycle[seq - 1], previousStatus: seq === 1 ? null : lifecycle[seq - 2], stage: 'Stage', at: iso(atOffsetMs), payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', currency, amount: '1.00' };
}

describe('settlementEvents (reader of the change stream)', () => {
  const options: EventStreamOptions = { ...defaultEventStreamOptions, pollIntervalMs: 2, recordsPerRead: 2, nowMs: () => base + 200_000 };
  let stream: FakeChangeStream;

  async function take(request: StreamRequest, count: number, waitMs = 100) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), waitMs);
    const received: { id: string; cursor: string }[] = [];
    for await (const delivered of settlementEvents(stream, request, options, controller.signal)) {
      received.push({ id: `${delivered.event.settlementId}#${delivered.event.seq}`, cursor: delivered.cursor });
      if (received.length === count) break;
    }
    clearTimeout(timer);
    return received;
  }

  /** Many settlements over two partitions, with other changes between events and splits part-way. */
  function fill(): Map<string, number> {
    const lastSeq = new Map<string, number>();
    for (let step = 0; step < 60; step++) {
      const settlementId = `s${step % 7}`;
      const seq = (lastSeq.get(settlementId) ?? 0) + 1;
      lastSeq.set(settlementId, seq);
      stream.add(event(settlementId, seq, step * 1_000));
      if (step % 5 === 0) stream.addOther(settlementId, base + step * 1_000);
      if (step === 20 || step === 41) stream.split(settlementId);
    }
    return lastSeq;
  }

  beforeEach(() => {
    stream = new FakeChangeStream(2);
  });

  it('delivers every event once, each settlement in order, following splits parent first', async () => {
    const lastSeq = fill();
    const all = await take({ filter: {}, start: { kind: 'since', since: iso(0) } }, 60);
    expect(new Set(all.map((entry) => entry.id)).size).toBe(60);
    for (const [settlementId, last] of lastSeq) {
      expect(all.filter((entry) => entry.id.startsWith(`${settlementId}#`)).map((entry) => Number(entry.id.split('#')[1]))).toEqual(Array.from({ length: last }, (_, index) => index + 1));
    }
  });

  it('resumes after any cursor with exactly the events not yet delivered: no gap, no repeat', async () => {
    fill();
    const all = await take({ filter: {}, start: { kind: 'since', since: iso(0) } }, 60);
    for (const [index, entry] of all.entries()) {
      const rest = await take({ filter: {}, start: { kind: 'cursor', positions: decodeCursor(entry.cursor) } }, 60 - index - 1, 50);
      expect(new Set([...all.slice(0, index + 1), ...rest].map((next) => next.id)).size).toBe(60);
      expect(rest).toHaveLength(60 - index - 1);
    }
  });

  it('resumes within a change that made several events (a lock with its validation) with no gap and no repeat', async () => {
    stream.add(event('a', 1, 0));
    stream.addChange([event('a', 2, 1_000), event('a', 3, 1_000), event('a', 4, 1_000)]);
    stream.add(event('b', 1, 2_000));
    const all = await take({ filter: {}, start: { kind: 'since', since: iso(0) } }, 5);
    expect(all.map((entry) => entry.id).filter((id) => id.startsWith('a'))).toEqual(['a#1', 'a#2', 'a#3', 'a#4']);
    for (const [index, entry] of all.entries()) {
      const rest = await take({ filter: {}, start: { kind: 'cursor', positions: decodeCursor(entry.cursor) } }, 5, 50);
      expect(rest.map((next) => next.id).sort()).toEqual(all.slice(index + 1).map((next) => next.id).sort());
    }
    // A filter that drops the change's first events still resumes after the ones it delivered.
    const [second] = await take({ settlementId: 'a', filter: {}, start: { kind: 'since', since: iso(0) } }, 3).then((received) => received.slice(2));
    expect(second.id).toBe('a#3');
    expect((await take({ settlementId: 'a', filter: {}, start: { kind: 'cursor', positions: decodeCursor(second.cursor) } }, 5, 50)).map((next) => next.id)).toEqual(['a#4']);
  });

  it('resumes into shards that appeared after the cursor was issued', async () => {
    stream.add(event('a', 1, 0));
    const [first] = await take({ filter: {}, start: { kind: 'since', since: iso(0) } }, 1);
    stream.split('a');
    stream.add(event('a', 2, 1_000));
    stream.add(event('b', 1, 2_000));
    const rest = await take({ filter: {}, start: { kind: 'cursor', positions: decodeCursor(first.cursor) } }, 2);
    expect(rest.map((entry) => entry.id).sort()).toEqual(['a#2', 'b#1']);
  });

  it('filters by currency, bank and settlement, and by since on the events themselves', async () => {
    stream.add(event('a', 1, 10));
    stream.add(event('b', 1, 20, 'USD'));
    stream.add(event('a', 2, 60_000));
    stream.add(event('b', 2, 120_000, 'USD'));
    const since = (offsetMs: number): StreamRequest['start'] => ({ kind: 'since', since: iso(offsetMs) });
    expect((await take({ filter: { currency: 'USD' }, start: since(0) }, 10)).map((entry) => entry.id)).toEqual(['b#1', 'b#2']);
    expect((await take({ settlementId: 'a', filter: {}, start: since(0) }, 10)).map((entry) => entry.id)).toEqual(['a#1', 'a#2']);
    expect(await take({ filter: { bankBic: 'CITIUS33' }, start: since(0) }, 10)).toEqual([]);
    expect((await take({ filter: {}, start: since(60_000) }, 10)).map((entry) => entry.id).sort()).toEqual(['a#2', 'b#2']);
  });

  it('reads a change whose stream time is rounded down past the start (DynamoDB Local rounds to the minute)', async () => {
    const minute = Math.floor(base / 60_000) * 60_000;
    stream.add(event('old', 1, minute - base - 120_000), minute - 120_000);
    stream.add(event('a', 1, minute - base + 30_000), minute);
    const received = await take({ filter: {}, start: { kind: 'since', since: new Date(minute + 10_000).toISOString() } }, 1);
    expect(received.map((entry) => entry.id)).toEqual(['a#1']);
  });

  it('starts after the newest record by default and follows new ones', async () => {
    stream.add(event('a', 1, 0));
    const controller = new AbortController();
    const iterator = settlementEvents(stream, { filter: {}, start: { kind: 'latest' } }, options, controller.signal);
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    stream.add(event('c', 1, 199_000));
    expect((await next).value?.event.settlementId).toBe('c');
    controller.abort();
  });

  it('refuses a cursor whose shard the stream no longer keeps', async () => {
    stream.add(event('a', 1, 0));
    const positions = new Map([['shardId-9999', { kind: 'after' as const, sequenceNumber: '1' }]]);
    await expect(take({ filter: {}, start: { kind: 'cursor', positions } }, 1)).rejects.toThrow(/^cursor: is older than the stream retention/);
  });

  it('refuses a cursor that is not its own, and round-trips its own', () => {
    expect(() => decodeCursor('garbage')).toThrow(ValidationError);
    expect(() => decodeCursor(Buffer.from('2:{"shard/../x":"e"}').toString('base64url'))).toThrow(ValidationError);
    expect(() => decodeCursor(Buffer.from('2:{"shardId-1":"a12x"}').toString('base64url'))).toThrow(ValidationError);
    const positions = new Map([
      ['shardId-1', { position: { kind: 'end' as const } }],
      ['shardId-2', { position: { kind: 'after' as const, sequenceNumber: '000000000000000000042' }, parentShardId: 'shardId-1' }],
      ['shardId-3', { position: { kind: 'from' as const, sinceMs: 123 } }],
    ]);
    // An ended shard with a child named is left out: the child says it ended.
    expect(decodeCursor(encodeCursor(positions))).toEqual(
      new Map([
        ['shardId-2', { kind: 'after', sequenceNumber: '000000000000000000042' }],
        ['shardId-3', { kind: 'from', sinceMs: 123 }],
      ]),
    );
  });
});

describe('parseStreamRequest', () => {
  const nowMs = () => base;
  const request = { settlement_id: '', bank_bic: '', currency: '', cursor: '', since: null };

  it('starts at the newest records without cursor or since, and validates filters and the 24 h retention', () => {
    expect(parseStreamRequest(request, { ...defaultEventStreamOptions, nowMs }).start).toEqual({ kind: 'latest' });
    expect(parseStreamRequest({ ...request, since: { seconds: String(base / 1000 - 60), nanos: 0 } }, { ...defaultEventStreamOptions, nowMs }).start).toEqual({ kind: 'since', since: iso(-60_000) });
    expect(() => parseStreamRequest({ ...request, since: { seconds: String(base / 1000 - 2 * 86_400), nanos: 0 } }, { ...defaultEventStreamOptions, nowMs })).toThrow(/^since: /);
    expect(() => parseStreamRequest({ ...request, currency: 'EURO' }, { ...defaultEventStreamOptions, nowMs })).toThrow(/^currency: /);
    expect(() => parseStreamRequest({ ...request, bank_bic: 'x' }, { ...defaultEventStreamOptions, nowMs })).toThrow(/^bankBic: /);
    expect(() => parseStreamRequest({ ...request, cursor: 'nope' }, { ...defaultEventStreamOptions, nowMs })).toThrow(/^cursor: /);
  });
});
