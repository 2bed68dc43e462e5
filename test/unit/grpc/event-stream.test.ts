import { StreamSequencer, type SequencerOptions } from '../../../lambdas/adapters/events/stream-log';
import type { StreamedEvent } from '../../../lambdas/adapters/events/event-source';
import { decodeCursor, defaultEventStreamOptions, encodeCursor, firstBatchCreatedAtOrAfter, parseStreamRequest, settlementEvents, type EventStreamOptions, type StreamRequest } from '../../../lambdas/adapters/grpc/event-stream';
import type { SettlementStatus } from '../../../lambdas/domain/settlement';
import { ValidationError } from '../../../lambdas/domain/errors';
import { FakeEventSource, FakeLogStore } from './fakes';

const base = Date.parse('2030-05-06T07:08:50.000Z');
const iso = (offsetMs: number) => new Date(base + offsetMs).toISOString();
const lifecycle: SettlementStatus[] = ['PENDING', 'VALIDATED', 'LOCKED', 'TRANSFER_INITIATED', 'CONFIRMED', 'COMPLETED'];

function add(source: FakeEventSource, settlementId: string, seq: number, atOffsetMs: number, options: { hidden?: boolean; currency?: string } = {}): StreamedEvent {
  return source.add(
    { settlementId, seq, status: lifecycle[seq - 1], previousStatus: seq === 1 ? null : lifecycle[seq - 2], stage: 'Stage', at: iso(atOffsetMs), payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', currency: options.currency ?? 'EUR', amount: '1.00' },
    { hidden: options.hidden },
  );
}

describe('StreamSequencer', () => {
  let now: number;
  let source: FakeEventSource;
  let log: FakeLogStore;
  const sequencer = (options: Partial<SequencerOptions> = {}) => new StreamSequencer(source, log, { nowMs: () => now, overlapMs: 100, auditIntervalMs: 0, ...options });

  beforeEach(() => {
    now = base;
    source = new FakeEventSource();
    log = new FakeLogStore();
  });

  it('appends what becomes visible, once, in dense batches', async () => {
    const running = sequencer();
    await running.runOnce(); // a new log starts now
    add(source, 'a', 1, 10);
    add(source, 'b', 1, 20);
    now = base + 30;
    expect(await running.runOnce()).toBe(2);
    add(source, 'a', 2, 40);
    now = base + 50;
    expect(await running.runOnce()).toBe(1);
    expect(await running.runOnce()).toBe(0);
    expect(log.order()).toEqual(['a#1', 'b#1', 'a#2']);
    expect([...log.batches.keys()]).toEqual([1, 2, 3]); // 1: the log's empty first batch
  });

  it('repairs a settlement whose earlier event became visible after the scan passed its stamp, keeping its order', async () => {
    const running = sequencer({ auditIntervalMs: 1e9 });
    await running.runOnce();
    add(source, 'a', 1, 10);
    const late = add(source, 'a', 2, 20, { hidden: true }); // stamped at +20 ms, commits seconds later
    add(source, 'b', 1, 4_900);
    now = base + 5_000;
    await running.runOnce();
    source.reveal(late);
    add(source, 'a', 3, 5_100);
    now = base + 5_200;
    await running.runOnce();
    expect(log.order()).toEqual(['a#1', 'b#1', 'a#2', 'a#3']);
    expect(running.gapRepairs).toBe(1);
  });

  it('finds a late newest event through the audit: a first event, an event of a settlement in flight, a terminal one', async () => {
    const running = sequencer();
    await running.runOnce();
    add(source, 'known', 1, 10);
    now = base + 5_000;
    await running.runOnce();
    const lateFirst = add(source, 'new', 1, 20, { hidden: true });
    const lateMiddle = add(source, 'known', 2, 4_000, { hidden: true });
    now = base + 10_000;
    await running.runOnce();
    source.reveal(lateFirst);
    source.reveal(lateMiddle);
    now = base + 10_100;
    await running.runOnce();
    expect(log.order()).toEqual(['known#1', 'new#1', 'known#2']);
    for (let seq = 2; seq <= 5; seq++) add(source, 'new', seq, 10_100 + seq);
    now = base + 10_200;
    await running.runOnce();
    const lateTerminal = add(source, 'new', 6, 10_300, { hidden: true });
    now = base + 20_000;
    await running.runOnce();
    source.reveal(lateTerminal); // it left the inFlight index with this commit
    await running.runOnce();
    expect(log.order().filter((entry) => entry.startsWith('new#'))).toEqual(['new#1', 'new#2', 'new#3', 'new#4', 'new#5', 'new#6']);
  });

  it('rebuilds its memory from the log after a restart and never appends an event twice', async () => {
    await sequencer().runOnce();
    add(source, 'a', 1, 10);
    add(source, 'a', 2, 20);
    now = base + 100;
    await sequencer().runOnce(); // a first process appends both
    add(source, 'a', 3, 150);
    now = base + 200;
    await sequencer().runOnce(); // a second process, fresh memory, re-reads a#1 and a#2 in its overlap
    expect(log.order()).toEqual(['a#1', 'a#2', 'a#3']);
  });

  it('loses a race for a batch number without duplicating: it reloads and goes on', async () => {
    const first = sequencer();
    const second = sequencer();
    await first.runOnce();
    await second.runOnce();
    add(source, 'a', 1, 10);
    now = base + 50;
    await first.runOnce();
    expect(await second.runOnce()).toBe(0); // lost the race for batch 2: reloads
    add(source, 'a', 2, 60);
    now = base + 100;
    await second.runOnce();
    await first.runOnce();
    expect(log.order()).toEqual(['a#1', 'a#2']);
  });
});

describe('settlementEvents (reader of the log)', () => {
  const options: EventStreamOptions = { ...defaultEventStreamOptions, pollIntervalMs: 5, batchesPerRead: 2 };
  const event = (settlementId: string, seq: number, atOffsetMs: number, currency = 'EUR'): StreamedEvent => ({
    settlementId, seq, status: lifecycle[seq - 1], previousStatus: null, stage: 'Stage', at: iso(atOffsetMs), payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', currency, amount: '1.00', eventKey: `${iso(atOffsetMs)}#${settlementId}#${seq}`,
  });
  let log: FakeLogStore;

  beforeEach(async () => {
    log = new FakeLogStore();
    await log.append({ batch: 1, createdAt: iso(100), events: [event('a', 1, 10), event('b', 1, 20, 'USD')] });
    await log.append({ batch: 2, createdAt: iso(60_100), events: [event('a', 2, 60_000)] });
    await log.append({ batch: 3, createdAt: iso(120_100), events: [event('b', 2, 120_000, 'USD'), event('a', 3, 120_010)] });
  });

  async function take(request: StreamRequest, count: number) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 200);
    const received: { id: string; cursor: string }[] = [];
    for await (const delivered of settlementEvents(log, request, options, controller.signal)) {
      received.push({ id: `${delivered.event.settlementId}#${delivered.event.seq}`, cursor: delivered.cursor });
      if (received.length === count) break;
    }
    clearTimeout(timer);
    return received;
  }

  it('delivers from `since` and resumes after any cursor with no gap and no repeat', async () => {
    const all = await take({ filter: {}, start: { kind: 'since', since: iso(0) } }, 10);
    expect(all.map((entry) => entry.id)).toEqual(['a#1', 'b#1', 'a#2', 'b#2', 'a#3']);
    for (const [index, entry] of all.entries()) {
      const rest = await take({ filter: {}, start: { kind: 'cursor', ...decodeCursor(entry.cursor) } }, 10);
      expect(rest.map((next) => next.id)).toEqual(all.slice(index + 1).map((next) => next.id));
    }
  });

  it('filters by currency, bank and settlement, and by since on the events themselves', async () => {
    expect((await take({ filter: { currency: 'USD' }, start: { kind: 'since', since: iso(0) } }, 10)).map((entry) => entry.id)).toEqual(['b#1', 'b#2']);
    expect((await take({ settlementId: 'a', filter: {}, start: { kind: 'since', since: iso(0) } }, 10)).map((entry) => entry.id)).toEqual(['a#1', 'a#2', 'a#3']);
    expect((await take({ filter: { bankBic: 'CITIUS33' }, start: { kind: 'since', since: iso(0) } }, 10))).toEqual([]);
    expect((await take({ filter: {}, start: { kind: 'since', since: iso(60_000) } }, 10)).map((entry) => entry.id)).toEqual(['a#2', 'b#2', 'a#3']);
  });

  it('starts after the newest batch by default and follows new batches', async () => {
    const controller = new AbortController();
    const iterator = settlementEvents(log, { filter: {}, start: { kind: 'latest' } }, options, controller.signal);
    const next = iterator.next();
    await log.append({ batch: 4, createdAt: iso(130_000), events: [event('c', 1, 129_000)] });
    expect((await next).value?.event.settlementId).toBe('c');
    controller.abort();
  });

  it('finds the first batch created at or after a time', async () => {
    expect(await firstBatchCreatedAtOrAfter(log, iso(0))).toBe(1);
    expect(await firstBatchCreatedAtOrAfter(log, iso(60_000))).toBe(2);
    expect(await firstBatchCreatedAtOrAfter(log, iso(200_000))).toBe(4);
  });

  it('refuses a cursor that is ahead of the log or not its own', async () => {
    await expect(take({ filter: {}, start: { kind: 'cursor', batch: 99, index: 0 } }, 1)).rejects.toThrow(/^cursor: is ahead/);
    expect(() => decodeCursor('garbage')).toThrow(ValidationError);
    expect(decodeCursor(encodeCursor(12, 3))).toEqual({ batch: 12, index: 3 });
  });
});

describe('parseStreamRequest', () => {
  const nowMs = () => base;
  const request = { settlement_id: '', bank_bic: '', currency: '', cursor: '', since: null };

  it('starts at the newest batch without cursor or since, and validates filters and retention', () => {
    expect(parseStreamRequest(request, { ...defaultEventStreamOptions, nowMs }).start).toEqual({ kind: 'latest' });
    expect(parseStreamRequest({ ...request, since: { seconds: String(base / 1000 - 60), nanos: 0 } }, { ...defaultEventStreamOptions, nowMs }).start).toEqual({ kind: 'since', since: iso(-60_000) });
    expect(() => parseStreamRequest({ ...request, since: { seconds: String(base / 1000 - 8 * 86_400), nanos: 0 } }, { ...defaultEventStreamOptions, nowMs })).toThrow(/^since: /);
    expect(() => parseStreamRequest({ ...request, currency: 'EURO' }, { ...defaultEventStreamOptions, nowMs })).toThrow(/^currency: /);
    expect(() => parseStreamRequest({ ...request, bank_bic: 'x' }, { ...defaultEventStreamOptions, nowMs })).toThrow(/^bankBic: /);
    expect(() => parseStreamRequest({ ...request, cursor: 'nope' }, { ...defaultEventStreamOptions, nowMs })).toThrow(/^cursor: /);
  });
});
