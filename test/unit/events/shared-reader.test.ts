/**
 * The shared change-stream reader over an in-memory stream, for what DynamoDB Local does not produce on demand: one
 * record write that made several events (a cursor part-way through it), and cursors exchanged with the per-call
 * reader (another gRPC task resumes a cursor this one issued). The DynamoDB Local test
 * (test/integration/events/shared-reader.test.ts) measures the reader itself.
 */
import { SharedChangeStreamReader, defaultSharedReaderOptions } from '../../../lambdas/adapters/events/shared-reader';
import { decodeCursor, defaultEventStreamOptions, settlementEvents, type DeliveredEvent, type StreamRequest } from '../../../lambdas/adapters/grpc/event-stream';
import type { SettlementStatus } from '../../../lambdas/domain/settlement';
import type { SettlementEvent } from '../../../lambdas/ports/stores';
import { FakeChangeStream } from '../grpc/fakes';

const base = Date.parse('2030-05-06T07:08:50.000Z');
const lifecycle: SettlementStatus[] = ['PENDING', 'VALIDATED', 'LOCKED', 'TRANSFER_INITIATED', 'CONFIRMED', 'COMPLETED'];
const options = { ...defaultEventStreamOptions, ...defaultSharedReaderOptions, pollIntervalMs: 2, recordsPerRead: 2, nowMs: () => base + 200_000 };

function event(settlementId: string, seq: number, atOffsetMs: number): SettlementEvent {
  return { settlementId, seq, status: lifecycle[seq - 1], previousStatus: seq === 1 ? null : lifecycle[seq - 2], stage: 'Stage', at: new Date(base + atOffsetMs).toISOString(), payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', currency: 'EUR', amount: '1.00' };
}

async function take(events: AsyncIterable<DeliveredEvent>, count: number, controller: AbortController): Promise<string[][]> {
  const taken: string[][] = [];
  if (count === 0) return taken;
  for await (const delivered of events) {
    taken.push([`${delivered.event.settlementId}#${delivered.event.seq}`, delivered.cursor]);
    if (taken.length === count) break;
  }
  controller.abort();
  return taken;
}

describe('the shared change-stream reader (in-memory stream)', () => {
  let stream: FakeChangeStream;
  let reader: SharedChangeStreamReader;

  beforeEach(() => {
    stream = new FakeChangeStream(2);
    stream.add(event('a', 1, 0));
    stream.addChange([event('a', 2, 1_000), event('a', 3, 1_000), event('a', 4, 1_000)]);
    stream.add(event('b', 1, 2_000));
    stream.split('a');
    stream.addChange([event('a', 5, 3_000), event('a', 6, 3_000)]);
    reader = new SharedChangeStreamReader(stream, options);
  });

  afterEach(() => reader.stop());

  const since: StreamRequest = { filter: {}, start: { kind: 'since', since: new Date(base).toISOString() } };
  const cursorStart = (cursor: string): StreamRequest => ({ filter: {}, start: { kind: 'cursor', positions: decodeCursor(cursor) } });

  it('gives a latest start asked while the reader was still catching up what was written since it was asked', async () => {
    // The reader lists its shards slowly: the settlement below is written after the ask, before the reader has caught up.
    const listed = stream.shards.bind(stream);
    stream.shards = async () => (await new Promise((resolve) => setTimeout(resolve, 30)), listed());
    const controller = new AbortController();
    const received = take(reader.events({ filter: {}, start: { kind: 'latest' } }, controller.signal), 1, controller);
    stream.add(event('c', 1, 199_000));
    expect((await received).map(([id]) => id)).toEqual(['c#1']);
  });

  it('resumes after every cursor, part-way through a change too, with no gap and no repeat, from memory and in the per-call reader alike', async () => {
    const all = await take(reader.events(since, new AbortController().signal), 7, new AbortController());
    expect(all.map(([id]) => id).filter((id) => id.startsWith('a'))).toEqual(['a#1', 'a#2', 'a#3', 'a#4', 'a#5', 'a#6']);
    expect(all.some(([, cursor]) => [...decodeCursor(cursor!).values()].some((position) => position.kind === 'within'))).toBe(true);
    for (const [index, [, cursor]] of all.entries()) {
      const expected = all.slice(index + 1).map(([id]) => id);
      const shared = new AbortController();
      expect((await take(reader.events(cursorStart(cursor!), shared.signal), expected.length, shared)).map(([id]) => id)).toEqual(expected);
      // Another task, reading on its own, resumes the same cursor the same way.
      const perCall = new AbortController();
      expect((await take(settlementEvents(stream, cursorStart(cursor!), options, perCall.signal), expected.length, perCall)).map(([id]) => id).sort()).toEqual([...expected].sort());
    }
  });
});
