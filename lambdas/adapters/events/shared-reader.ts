/**
 * One reader of the settlements table's change stream per process, fanned out to every subscriber: each gRPC
 * StreamSettlementEvents call, each console feed, the last-hour stats. DynamoDB Streams serves about two concurrent
 * readers per shard, so N open feeds must not mean N readers.
 *
 * The reader follows every shard (parent read to its end before its child, as adapters/grpc/event-stream.ts does)
 * and appends what it reads to one log in read order, kept in memory up to `retainedRecordsMax` records. A subscriber
 * is a position in that log plus its own per-shard positions, the same positions its cursor encodes: it walks the log
 * at its own pace, skips what its positions say it has passed, and yields matching events with its cursor. So each
 * subscriber keeps today's promises (each settlement in order; resume after a cursor with no gap and no repeat) and
 * holds no buffer of its own: the log is the only buffer, and its bound is every subscriber's bound. A subscriber that
 * falls so far behind that the log has dropped records it had not walked is ended with SubscriberTooSlowError; it
 * resumes from the last cursor it received, from the log while the log still holds that point.
 *
 * The reader starts `retainedMs` (the stats window, an hour) back, so a `since` or a cursor within the last hour is
 * served from memory. An older start (a cursor from yesterday) cannot be: it is read by a private reader of its own
 * (the per-call reader of event-stream.ts), at most `catchUpReadersMax` at a time, so the stream never has more than
 * 1 + catchUpReadersMax readers from this process.
 */
import type { SettlementEvent } from '../../ports/stores';
import { ShardIteratorExpiredError, StreamTrimmedError, type ChangeRecord, type ChangeStream, type StreamShard } from './change-stream';
import { cursorShardsMax, encodeCursor, matcher, pause, settlementEvents, streamTimePrecisionMs, withRetries, type DeliveredEvent, type EventStreamOptions, type ShardPosition, type StreamRequest } from '../grpc/event-stream';

/** Where the edges (gRPC, the console feed, the stats) read settlement events. */
export interface SettlementEventSource {
  /** Every matching event after the request's start, until `signal` aborts; throws SubscriberTooSlowError, ValidationError, StoreUnavailableError. */
  events(request: StreamRequest, signal: AbortSignal): AsyncIterable<DeliveredEvent>;
}

export interface SharedReaderOptions extends EventStreamOptions {
  /** Change records kept in memory for subscribers to walk (the bound on memory and on how far one may lag). */
  readonly retainedRecordsMax: number;
  /** How far back the reader starts: a `since` or cursor within it is served from memory. */
  readonly retainedMs: number;
  /** Subscribers whose start is older than the log, each read by a private reader, at most at once. */
  readonly catchUpReadersMax: number;
  /** Pause before the reader reads again after it gave up (the stream unavailable past its retries). */
  readonly restartPauseMs: number;
  /** Where a failure of the reader is reported; default: stderr as JSON. */
  readonly logError?: (message: string, error: unknown) => void;
}

export const defaultSharedReaderOptions: Omit<SharedReaderOptions, keyof EventStreamOptions> = {
  retainedRecordsMax: 50_000,
  retainedMs: 60 * 60_000,
  catchUpReadersMax: 1,
  restartPauseMs: 2_000,
};

/** A subscription ended by the reader, not by its consumer: resume from the last cursor received. */
export class SubscriberTooSlowError extends Error {
  override readonly name = 'SubscriberTooSlowError' as const;
  readonly code = 'EVENTS.SUBSCRIBER_TOO_SLOW' as const;
  /** When the client may reconnect. */
  readonly retryAfterMs = 1_000;
}

/** Too many subscribers start further back than the log holds at once. */
export class CatchUpBusyError extends Error {
  override readonly name = 'CatchUpBusyError' as const;
  readonly code = 'EVENTS.CATCH_UP_BUSY' as const;
  readonly retryAfterMs = 5_000;
}

type LogEntry =
  | { readonly kind: 'record'; readonly shardId: string; readonly parentShardId?: string; readonly record: ChangeRecord }
  | { readonly kind: 'ended'; readonly shardId: string; readonly parentShardId?: string }
  | { readonly kind: 'forgotten'; readonly shardId: string };

interface ReaderShard {
  position: ShardPosition;
  readonly parentShardId?: string;
  iterator?: string;
  /** The newest record of this shard that the log does not hold (older than the start, or dropped). */
  unavailableThrough?: { readonly sequenceNumber: string; readonly createdAtMs: number };
}

type Positions = Map<string, { position: ShardPosition; readonly parentShardId?: string }>;

/** Records dropped from the log's head in one go once it is over its bound (keeps the drop amortized). */
const dropBatchRecords = 1_024;

export class SharedChangeStreamReader implements SettlementEventSource {
  readonly #stream: ChangeStream;
  readonly #options: SharedReaderOptions;
  readonly #stop = new AbortController();
  readonly #shards = new Map<string, ReaderShard>();
  #log: LogEntry[] = [];
  /** Absolute index of #log[0]. */
  #dropped = 0;
  /** Bumped when the reader fails: subscribers of an earlier generation end with #failure. */
  #generation = 0;
  #failure: unknown;
  #wake: { promise: Promise<void>; resolve: () => void } = wakeSignal();
  #ready: Promise<void> | undefined;
  #isReady = false;
  #running: Promise<void> | undefined;
  #catchUpReaders = 0;

  constructor(stream: ChangeStream, options: SharedReaderOptions) {
    this.#stream = stream;
    this.#options = options;
  }

  /** Starts the reader (else the first subscriber does); resolves once it has caught up with the stream. */
  async start(): Promise<void> {
    await this.#started(this.#stop.signal);
  }

  /** Stops the reader; open subscriptions end. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake.resolve();
    await this.#running;
  }

  async *events(asked: StreamRequest, signal: AbortSignal): AsyncGenerator<DeliveredEvent> {
    const askedAtMs = this.#options.nowMs();
    const wasReady = this.#isReady;
    await this.#started(signal);
    // A latest start asked while the reader was still catching up means "from when it was asked", not "from when the
    // reader caught up": what was written in between is read from the log, stamped from then (as `since` does).
    const request: StreamRequest = asked.start.kind === 'latest' && !wasReady ? { ...asked, start: { kind: 'since', since: new Date(askedAtMs - this.#options.startMarginMs).toISOString() } } : asked;
    const generation = this.#generation;
    const start = this.#subscription(request.start);
    if (start === undefined) {
      yield* this.#catchUp(request, signal);
      return;
    }
    const { positions } = start;
    let index = start.index;
    const matches = matcher(request);
    while (!signal.aborted && !this.#stop.signal.aborted) {
      if (this.#generation !== generation) throw this.#failure;
      if (index < this.#dropped) throw new SubscriberTooSlowError(`this subscriber fell more than ${this.#options.retainedRecordsMax} change records behind and was ended; resume from the last cursor received`);
      const wake = this.#wake.promise;
      while (index < this.#dropped + this.#log.length) {
        const entry = this.#log[index - this.#dropped]!;
        index += 1;
        const shardId = entry.shardId;
        for (const { event, position } of advance(positions, entry)) {
          if (!matches(event)) continue;
          // The cursor names this event delivered; the shard's position is set back to the change's end after.
          const reached = positions.get(shardId)!;
          const end = reached.position;
          reached.position = position;
          const cursor = encodeCursor(positions);
          reached.position = end;
          yield { event, cursor };
          if (signal.aborted) return;
        }
        if (index < this.#dropped) break;
      }
      if (index < this.#dropped + this.#log.length) continue;
      await untilAborted(wake, signal);
    }
  }

  /** Starts the reader with the first subscriber; resolves once it has caught up with the stream. */
  async #started(signal: AbortSignal): Promise<void> {
    if (this.#ready === undefined) {
      let resolveReady!: () => void;
      let rejectReady!: (error: unknown) => void;
      this.#ready = new Promise<void>((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
      this.#ready.catch(() => undefined);
      this.#running = this.#run(resolveReady, (error) => {
        rejectReady(error);
        // The next subscriber starts it again.
        this.#ready = undefined;
      });
    }
    await untilAborted(this.#ready, signal);
  }

  async #run(ready: () => void, failedBeforeReady: (error: unknown) => void): Promise<void> {
    let isReady = false;
    while (!this.#stop.signal.aborted) {
      try {
        await this.#follow(() => {
          isReady = true;
          this.#isReady = true;
          ready();
        });
      } catch (error) {
        (this.#options.logError ?? logToStderr)('the shared change-stream reader stopped reading; it starts again from where it was', error);
        this.#failure = error;
        this.#generation += 1;
        this.#notify();
        if (!isReady) return failedBeforeReady(error);
        await pause(this.#options.restartPauseMs, this.#stop.signal);
      }
    }
  }

  /** Reads every shard, appending to the log, until stopped; `caughtUp` once a pass found nothing new. */
  async #follow(caughtUp: () => void): Promise<void> {
    const options = this.#options;
    const signal = this.#stop.signal;
    const read = <T>(operation: () => Promise<T>) => withRetries(operation, options, signal);
    if (this.#shards.size === 0) this.#addShards(await read(() => this.#stream.shards()), options.nowMs() - options.retainedMs - options.startMarginMs);
    let refreshedMs = options.nowMs();
    while (!signal.aborted) {
      let progressed = false;
      let ended = false;
      for (const [shardId, shard] of [...this.#shards].sort(([left], [right]) => (left < right ? -1 : 1))) {
        if (shard.position.kind === 'end' || !this.#parentRead(shard)) continue;
        try {
          shard.iterator ??= await read(() => this.#stream.iterator(shardId, shard.position.kind === 'after' ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: shard.position.sequenceNumber } : { type: 'TRIM_HORIZON' }));
          const page = await read(() => this.#stream.read(shard.iterator!, options.recordsPerRead));
          for (const record of page.records) this.#append(shardId, shard, record);
          progressed ||= page.records.length > 0;
          shard.iterator = page.nextIterator;
          if (page.nextIterator === undefined) {
            shard.position = { kind: 'end' };
            this.#push({ kind: 'ended', shardId, ...(shard.parentShardId && { parentShardId: shard.parentShardId }) });
            ended = true;
          }
        } catch (error) {
          if (error instanceof ShardIteratorExpiredError) shard.iterator = undefined;
          else if (error instanceof StreamTrimmedError) this.#restartTrimmed(shard);
          else throw error;
        }
      }
      this.#notify();
      if (ended || options.nowMs() - refreshedMs >= options.shardRefreshMs) {
        this.#addShards(await read(() => this.#stream.shards()), 0);
        refreshedMs = options.nowMs();
      }
      if (!progressed && !ended) {
        caughtUp();
        await pause(options.pollIntervalMs, signal);
      }
    }
  }

  #append(shardId: string, shard: ReaderShard, record: ChangeRecord): void {
    const position = shard.position;
    shard.position = { kind: 'after', sequenceNumber: record.sequenceNumber };
    // Older than where the reader starts: passed over, and a subscriber that would need it reads privately.
    if (position.kind === 'from' && record.createdAtMs + streamTimePrecisionMs < position.sinceMs) {
      shard.unavailableThrough = { sequenceNumber: record.sequenceNumber, createdAtMs: record.createdAtMs };
      return;
    }
    this.#push({ kind: 'record', shardId, ...(shard.parentShardId && { parentShardId: shard.parentShardId }), record });
  }

  #push(entry: LogEntry): void {
    this.#log.push(entry);
    if (this.#log.length <= this.#options.retainedRecordsMax + Math.min(dropBatchRecords, Math.ceil(this.#options.retainedRecordsMax / 4))) return;
    const dropCount = this.#log.length - this.#options.retainedRecordsMax;
    for (const dropped of this.#log.slice(0, dropCount)) {
      const shard = dropped.kind === 'record' ? this.#shards.get(dropped.shardId) : undefined;
      if (shard && dropped.kind === 'record') shard.unavailableThrough = { sequenceNumber: dropped.record.sequenceNumber, createdAtMs: dropped.record.createdAtMs };
    }
    this.#log = this.#log.slice(dropCount);
    this.#dropped += dropCount;
  }

  /**
   * The shard's records before the reader's position were trimmed. From the shard's start (DynamoDB Local answers so
   * for an empty shard): asked again next pass, nothing lost that the log would hold. After a record (the reader
   * stood still for a day): it starts the shard over, and nothing before that can be served from the log.
   */
  #restartTrimmed(shard: ReaderShard): void {
    shard.iterator = undefined;
    if (shard.position.kind === 'from') return;
    shard.position = { kind: 'from', sinceMs: 0 };
    // Nothing before now can be served from the log for this shard any more.
    shard.unavailableThrough = { sequenceNumber: '9'.repeat(40), createdAtMs: Number.MAX_SAFE_INTEGER };
  }

  /** Shards not yet known start from `sinceMs` (0: read whole); ended shards the stream no longer lists are forgotten. */
  #addShards(listed: readonly StreamShard[], sinceMs: number): void {
    const listedIds = new Set(listed.map((shard) => shard.shardId));
    for (const shard of listed) {
      if (!this.#shards.has(shard.shardId)) this.#shards.set(shard.shardId, { position: { kind: 'from', sinceMs }, ...(shard.parentShardId && { parentShardId: shard.parentShardId }) });
    }
    for (const [shardId, shard] of this.#shards) {
      if (!listedIds.has(shardId) && shard.position.kind === 'end') {
        this.#shards.delete(shardId);
        this.#push({ kind: 'forgotten', shardId });
      }
    }
  }

  #parentRead(shard: ReaderShard): boolean {
    if (shard.parentShardId === undefined) return true;
    const parent = this.#shards.get(shard.parentShardId);
    return parent === undefined || parent.position.kind === 'end';
  }

  #notify(): void {
    const woken = this.#wake;
    this.#wake = wakeSignal();
    woken.resolve();
  }

  /**
   * Where a new subscriber starts in the log and its positions, or undefined when the log no longer holds all it
   * needs (then it reads privately). Latest: the end of the log, at the reader's positions. Since and cursor: the
   * head of the log, at their positions, when no shard has dropped a record they have not passed.
   */
  #subscription(start: StreamRequest['start']): { index: number; positions: Positions } | undefined {
    const positions: Positions = new Map();
    if (start.kind === 'latest') {
      for (const [shardId, shard] of this.#shards) {
        positions.set(shardId, { position: shard.position.kind === 'from' ? { kind: 'from', sinceMs: 0 } : shard.position, ...(shard.parentShardId && { parentShardId: shard.parentShardId }) });
      }
      return { index: this.#dropped + this.#log.length, positions };
    }
    if (start.kind === 'since') {
      const sinceMs = Date.parse(start.since) - this.#options.startMarginMs;
      for (const [shardId, shard] of this.#shards) positions.set(shardId, { position: { kind: 'from', sinceMs }, ...(shard.parentShardId && { parentShardId: shard.parentShardId }) });
    } else {
      // A shard the cursor does not name: ended if a shard it names descends from it, else new since: read whole.
      const ancestorsOfNamed = new Set<string>();
      for (const shardId of start.positions.keys()) {
        let parent = this.#shards.get(shardId)?.parentShardId;
        for (let depth = 0; parent !== undefined && depth < cursorShardsMax; depth++) {
          ancestorsOfNamed.add(parent);
          parent = this.#shards.get(parent)?.parentShardId;
        }
      }
      for (const [shardId, position] of start.positions) {
        // A shard this reader does not know (too new, or past retention): the private reader decides.
        if (position.kind !== 'end' && !this.#shards.has(shardId)) return undefined;
        positions.set(shardId, { position, ...(this.#shards.get(shardId)?.parentShardId && { parentShardId: this.#shards.get(shardId)!.parentShardId }) });
      }
      for (const [shardId, shard] of this.#shards) {
        if (!positions.has(shardId)) positions.set(shardId, { position: ancestorsOfNamed.has(shardId) ? { kind: 'end' } : { kind: 'from', sinceMs: 0 }, ...(shard.parentShardId && { parentShardId: shard.parentShardId }) });
      }
    }
    for (const [shardId, { position }] of positions) {
      const unavailable = this.#shards.get(shardId)?.unavailableThrough;
      if (unavailable === undefined || position.kind === 'end') continue;
      if (position.kind === 'after' && compareSequenceNumbers(position.sequenceNumber, unavailable.sequenceNumber) >= 0) continue;
      // Part-way through a change: that change itself must still be held.
      if (position.kind === 'within' && compareSequenceNumbers(position.sequenceNumber, unavailable.sequenceNumber) > 0) continue;
      if (position.kind === 'from' && unavailable.createdAtMs + streamTimePrecisionMs < position.sinceMs) continue;
      return undefined;
    }
    return { index: this.#dropped, positions };
  }

  /** A start older than the log: its own reader, one of at most catchUpReadersMax. */
  async *#catchUp(request: StreamRequest, signal: AbortSignal): AsyncGenerator<DeliveredEvent> {
    if (this.#catchUpReaders >= this.#options.catchUpReadersMax) throw new CatchUpBusyError(`at most ${this.#options.catchUpReadersMax} streams may start further back than the last hour at once; retry later`);
    this.#catchUpReaders += 1;
    const stopped = AbortSignal.any([signal, this.#stop.signal]);
    try {
      yield* settlementEvents(this.#stream, request, this.#options, stopped);
    } finally {
      this.#catchUpReaders -= 1;
    }
  }
}

/**
 * Moves a subscriber's positions over one log entry; the events of it the subscriber has not passed, each with the
 * position that names it delivered (one record write can append several checkpoints: `within` names how many of them).
 */
function advance(positions: Positions, entry: LogEntry): readonly { readonly event: SettlementEvent; readonly position: ShardPosition }[] {
  const known = positions.get(entry.shardId);
  if (entry.kind === 'forgotten') {
    if (known?.position.kind === 'end') positions.delete(entry.shardId);
    return [];
  }
  if (entry.kind === 'ended') {
    if (known) known.position = { kind: 'end' };
    else positions.set(entry.shardId, { position: { kind: 'end' }, ...(entry.parentShardId && { parentShardId: entry.parentShardId }) });
    return [];
  }
  // A shard new since the subscriber started is read whole.
  const shard = known ?? { position: { kind: 'from', sinceMs: 0 } as ShardPosition, ...(entry.parentShardId && { parentShardId: entry.parentShardId }) };
  if (!known) positions.set(entry.shardId, shard);
  const { position } = shard;
  const { sequenceNumber, events, createdAtMs } = entry.record;
  if (position.kind === 'end') return [];
  if (position.kind === 'after' && compareSequenceNumbers(sequenceNumber, position.sequenceNumber) <= 0) return [];
  if (position.kind === 'within' && compareSequenceNumbers(sequenceNumber, position.sequenceNumber) < 0) return [];
  if (position.kind === 'from' && createdAtMs + streamTimePrecisionMs < position.sinceMs) return [];
  // Resuming within this change: its first events were delivered already.
  const skip = position.kind === 'within' && position.sequenceNumber === sequenceNumber ? position.delivered : 0;
  shard.position = { kind: 'after', sequenceNumber };
  return events.slice(skip).map((event, index) => ({
    event,
    position: skip + index + 1 < events.length ? { kind: 'within', sequenceNumber, delivered: skip + index + 1 } : { kind: 'after', sequenceNumber },
  }));
}

/** Stream sequence numbers are decimal strings of up to 40 digits, growing within a shard. */
export function compareSequenceNumbers(left: string, right: string): number {
  const a = left.replace(/^0+/, '');
  const b = right.replace(/^0+/, '');
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

async function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort!: () => void;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function wakeSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

function logToStderr(message: string, error: unknown): void {
  console.error(JSON.stringify({ level: 'ERROR', message, error: String(error) }));
}
