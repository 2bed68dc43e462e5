/**
 * The process's one reader of the settlements table's change stream (lambdas/adapters/events/shared-reader.ts)
 * against DynamoDB Local's stream, with real settlements written by the engine. Its own Streams client counts the
 * calls, so "one reader" is measured: however many subscribers, each shard is opened once and read by one loop.
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoChangeStream } from '../../../lambdas/adapters/events/change-stream';
import { SharedChangeStreamReader, SubscriberTooSlowError, defaultSharedReaderOptions, type SharedReaderOptions } from '../../../lambdas/adapters/events/shared-reader';
import { decodeCursor, defaultEventStreamOptions, type DeliveredEvent, type StreamRequest } from '../../../lambdas/adapters/grpc/event-stream';
import { localCredentials, localRegion } from '../../../lambdas/local/dynamodb-local';
import { submitSettlement } from '../../../lambdas/usecases/settlements';
import { settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';

let engine: TestEngine;
let streams: DynamoDBStreamsClient;
const calls = { GetShardIterator: 0, GetRecords: 0, inFlightReads: 0, inFlightReadsMax: 0, shardsOpened: new Set<string>() };
const readers: SharedChangeStreamReader[] = [];

beforeAll(async () => {
  engine = await startTestEngine({ httpPort: null });
  // DynamoDB Local refuses to read an empty shard from its start (TrimmedDataAccessException): give it a record.
  await settle(1);
  streams = new DynamoDBStreamsClient({ endpoint: engine.dynamoEndpoint, region: localRegion, credentials: localCredentials });
  streams.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName as string;
      if (command === 'GetShardIteratorCommand') {
        calls.GetShardIterator += 1;
        calls.shardsOpened.add((args.input as { ShardId: string }).ShardId);
      }
      if (command !== 'GetRecordsCommand') return next(args);
      calls.GetRecords += 1;
      calls.inFlightReadsMax = Math.max(calls.inFlightReadsMax, ++calls.inFlightReads);
      try {
        return await next(args);
      } finally {
        calls.inFlightReads -= 1;
      }
    },
    { step: 'initialize', name: 'countStreamCalls' },
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(readers.map((reader) => reader.stop()));
  streams?.destroy();
  await engine?.stop();
});

function sharedReader(options: Partial<SharedReaderOptions> = {}): SharedChangeStreamReader {
  const reader = new SharedChangeStreamReader(new DynamoChangeStream(streams, engine.documentClient as unknown as DynamoDBClient, engine.tables.settlements), {
    ...defaultEventStreamOptions,
    ...defaultSharedReaderOptions,
    pollIntervalMs: 20,
    ...options,
  });
  readers.push(reader);
  return reader;
}

/** Settles `count` settlements through the engine; their ids. */
async function settle(count: number): Promise<string[]> {
  const requests = Array.from({ length: count }, () => settlementRequest({ amount: '3.00' }));
  await Promise.all(requests.map((request) => submitSettlement(engine.deps, request)));
  await Promise.all(requests.map((request) => settled(engine, request.settlementId as string)));
  return requests.map((request) => request.settlementId as string);
}

/** Takes events of `ids` from a subscription until `done`; the subscription's iterator stays usable. */
async function take(iterator: AsyncIterator<DeliveredEvent>, ids: ReadonlySet<string>, done: (taken: DeliveredEvent[]) => boolean): Promise<DeliveredEvent[]> {
  const taken: DeliveredEvent[] = [];
  while (!done(taken)) {
    const next = await iterator.next();
    if (next.done) break;
    if (ids.has(next.value.event.settlementId)) taken.push(next.value);
  }
  return taken;
}

const key = (delivered: DeliveredEvent) => `${delivered.event.settlementId}#${delivered.event.seq}`;
const completed = (ids: ReadonlySet<string>) => (taken: DeliveredEvent[]) => taken.filter((each) => each.event.status === 'COMPLETED').length === ids.size;

describe('the shared change-stream reader', () => {
  it('serves eight subscribers with one reader: each shard opened once, one read at a time, every event to each in per-settlement order', async () => {
    const reader = sharedReader();
    const stop = new AbortController();
    // `since` (not the latest start) so that no assertion depends on when the reader has opened its shards.
    const since: StreamRequest = { filter: {}, start: { kind: 'since', since: new Date(Date.now() - 1_000).toISOString() } };
    const subscriptions = Array.from({ length: 8 }, () => reader.events(since, stop.signal)[Symbol.asyncIterator]());
    const first = subscriptions.map((subscription) => subscription.next());
    const ids = new Set(await settle(4));
    const received = await Promise.all(
      subscriptions.map(async (subscription, index) => {
        const head = await first[index]!;
        const rest = await take(subscription, ids, completed(ids));
        return [...(head.done || !ids.has(head.value.event.settlementId) ? [] : [head.value]), ...rest];
      }),
    );
    stop.abort();
    for (const events of received) {
      for (const settlementId of ids) {
        const seqs = events.filter((each) => each.event.settlementId === settlementId).map((each) => each.event.seq);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => index + 1));
        expect(seqs.length).toBeGreaterThanOrEqual(6);
      }
    }
    // One reader: one iterator per shard (not one per subscriber), never two reads at once.
    expect(calls.GetShardIterator).toBe(calls.shardsOpened.size);
    expect(calls.inFlightReadsMax).toBe(1);
  });

  it('resumes after any cursor it issued with no gap and no repeat, from memory, without opening a shard again', async () => {
    const reader = sharedReader();
    const since = new Date(Date.now() - 1_000).toISOString();
    const ids = new Set(await settle(3));
    const request: StreamRequest = { filter: {}, start: { kind: 'since', since } };
    const all = await take(reader.events(request, new AbortController().signal)[Symbol.asyncIterator](), ids, completed(ids));
    const openedBefore = calls.GetShardIterator;
    for (let cut = 0; cut < all.length - 1; cut++) {
      const resumed = await take(reader.events({ filter: {}, start: { kind: 'cursor', positions: decodeCursor(all[cut]!.cursor) } }, new AbortController().signal)[Symbol.asyncIterator](), ids, (taken) => taken.length === all.length - cut - 1);
      expect([...all.slice(0, cut + 1), ...resumed].map(key)).toEqual(all.map(key));
    }
    expect(calls.GetShardIterator).toBe(openedBefore);
  });

  it('ends a subscriber that fell behind what it keeps, with SubscriberTooSlowError, and its last cursor resumes with no gap and no repeat', async () => {
    const reader = sharedReader({ retainedRecordsMax: 8 });
    const since = new Date(Date.now() - 1_000).toISOString();
    const stop = new AbortController();
    await reader.start();
    const slow = reader.events({ filter: {}, start: { kind: 'latest' } }, stop.signal)[Symbol.asyncIterator]();
    const pending = slow.next();
    const ids = new Set(await settle(3));
    const head = await pending;
    // It took one event and then read nothing while the reader went on: the log has dropped its place.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(take(slow, ids, completed(ids))).rejects.toBeInstanceOf(SubscriberTooSlowError);
    expect(head.done).toBe(false);
    const delivered = head.value as DeliveredEvent;
    // Older than the log: read by a private catch-up reader, from the same cursor.
    const rest = await take(reader.events({ filter: {}, start: { kind: 'cursor', positions: decodeCursor(delivered.cursor) } }, stop.signal)[Symbol.asyncIterator](), ids, completed(ids));
    const everything = await take(sharedReader().events({ filter: {}, start: { kind: 'since', since } }, stop.signal)[Symbol.asyncIterator](), ids, completed(ids));
    stop.abort();
    expect([delivered, ...rest].filter((each) => ids.has(each.event.settlementId)).map(key)).toEqual(everything.map(key));
  });
});
