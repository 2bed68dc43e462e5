/**
 * The settlement event stream log: events in the order they became visible, in dense numbered batches stored in
 * the settlements table (pk `STREAMLOG`, sk `BATCH#<n>`), so that a cursor (batch, index) names one point of one
 * total order that every process reads the same way.
 *
 * Why a log and not the eventStream index directly. Events are stamped (`at`) by the writer before their
 * transaction commits, and under load the commit comes seconds later (measured locally: over 5 s with 100
 * concurrent settlements, client socket queue plus DynamoDB Local's own queue). Ordered by stamp, an event can thus
 * appear behind a position a reader has already passed; no settle delay is safe, and a cursor that is a stamp
 * either loses such events or repeats others after a reconnect. The sequencer below instead appends events to the
 * log when it sees them, so the log's order is the order of visibility: final once written, and dense, so a
 * reader resuming after (batch, index) gets exactly the events it has not had.
 *
 * What the sequencer relies on (and checks):
 * - a settlement's events are committed strictly one after another (each transition is conditional on the last),
 *   so when event seq k is visible, seq 1..k-1 are too: a gap in a settlement's seqs is repaired by reading its
 *   partition (ConsistentRead) before appending, and per-settlement order holds in the log;
 * - a late event that has no successor yet (the newest of a settlement) is found by the audit: settlements that
 *   enter the inFlight index unseen (a late first event) or leave it while the log still shows them
 *   non-terminal (a late terminal event) have their partition read;
 * - what it has appended is remembered per settlement for `memoryRetentionMs`; an event stamped before that
 *   horizon and never seen is taken to have been appended before (a writer whose commit took longer than that
 *   would lose its event from the stream: 15 minutes by default).
 * Several sequencers (several gRPC tasks) may run: a batch is written only if its number is free; the loser
 * reloads its state from the log and goes on.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { EventEmitter, once } from 'node:events';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isTerminal, type SettlementStatus } from '../../domain/settlement';
import { guard } from '../dynamodb/client';
import { toInteger } from '../dynamodb/client';
import type { SettlementEventSource, StreamedEvent } from './event-source';

export interface StreamBatch {
  /** Dense, from 1. */
  readonly batch: number;
  /** When the sequencer appended it (its own clock). */
  readonly createdAt: string;
  readonly events: readonly StreamedEvent[];
}

export interface StreamLogStore {
  latest(): Promise<StreamBatch | undefined>;
  get(batch: number): Promise<StreamBatch | undefined>;
  /** Batches numbered above `batch`, ascending, at most `limit`. Strongly consistent. */
  after(batch: number, limit: number): Promise<readonly StreamBatch[]>;
  /** Batches numbered below `batch`, descending, at most `limit`. */
  before(batch: number, limit: number): Promise<readonly StreamBatch[]>;
  /** Writes the batch unless its number is taken; false when it is. */
  append(batch: StreamBatch): Promise<boolean>;
}

export const streamLogPartition = 'STREAMLOG';
/** Batches are kept a little longer than the stream's 7-day resume window, then DynamoDB TTL removes them. */
export const streamLogRetentionSeconds = 8 * 24 * 3600;

const batchSortKey = (batch: number) => `BATCH#${String(batch).padStart(12, '0')}`;

export class DynamoStreamLogStore implements StreamLogStore {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly settlementsTableName: string,
  ) {}

  async latest(): Promise<StreamBatch | undefined> {
    return (await this.#query('<', batchSortKey(1e12 - 1), 1, false))[0];
  }

  async get(batch: number): Promise<StreamBatch | undefined> {
    const result = await guard(() => this.documentClient.send(new GetCommand({ TableName: this.settlementsTableName, Key: { pk: streamLogPartition, sk: batchSortKey(batch) }, ConsistentRead: true })));
    return result.Item ? batchFromItem(result.Item) : undefined;
  }

  after(batch: number, limit: number): Promise<readonly StreamBatch[]> {
    return this.#query('>', batchSortKey(batch), limit, true);
  }

  before(batch: number, limit: number): Promise<readonly StreamBatch[]> {
    return this.#query('<', batchSortKey(batch), limit, false);
  }

  async append(batch: StreamBatch): Promise<boolean> {
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.settlementsTableName,
          Item: {
            pk: streamLogPartition,
            sk: batchSortKey(batch.batch),
            itemType: 'STREAM_BATCH',
            batch: batch.batch,
            createdAt: batch.createdAt,
            events: batch.events.map((event) => ({ ...event })),
            ttl: Math.floor(Date.parse(batch.createdAt) / 1000) + streamLogRetentionSeconds,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string })?.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async #query(operator: '<' | '>', sortKey: string, limit: number, forward: boolean): Promise<StreamBatch[]> {
    const result = await guard(() =>
      this.documentClient.send(
        new QueryCommand({
          TableName: this.settlementsTableName,
          KeyConditionExpression: `pk = :pk AND sk ${operator} :sk`,
          ExpressionAttributeValues: { ':pk': streamLogPartition, ':sk': sortKey },
          ConsistentRead: true,
          ScanIndexForward: forward,
          Limit: limit,
        }),
      ),
    );
    return (result.Items ?? []).filter((item) => String(item.sk).startsWith('BATCH#')).map(batchFromItem);
  }
}

function batchFromItem(item: Record<string, unknown>): StreamBatch {
  const events = (item.events as Record<string, unknown>[]).map((event) => ({
    settlementId: String(event.settlementId),
    seq: toInteger(event.seq),
    status: event.status as SettlementStatus,
    previousStatus: (event.previousStatus ?? null) as SettlementStatus | null,
    stage: String(event.stage),
    at: String(event.at),
    ...(event.reasonCode !== undefined && { reasonCode: String(event.reasonCode) }),
    payerBic: String(event.payerBic),
    payeeBic: String(event.payeeBic),
    currency: String(event.currency),
    amount: String(event.amount),
    eventKey: String(event.eventKey),
  }));
  return { batch: toInteger(item.batch), createdAt: String(item.createdAt), events };
}

export interface SequencerOptions {
  /** Pause between polls of the eventStream index. */
  readonly pollIntervalMs: number;
  /** Each poll re-reads this much behind the newest stamp seen, catching events that commit a little late cheaply. */
  readonly overlapMs: number;
  /** How often the inFlight index is compared with the log (late newest events). */
  readonly auditIntervalMs: number;
  /** How long the sequencer remembers what it appended for a settlement (see the module comment). */
  readonly memoryRetentionMs: number;
  /** At start-up, how far back the log is read to rebuild that memory. */
  readonly startupLookbackMs: number;
  readonly batchEventsMax: number;
  /** Index pages read per poll (catch-up after downtime continues on the next poll). */
  readonly scanPagesMax: number;
  readonly inFlightMax: number;
  readonly nowMs: () => number;
  readonly onError: (error: unknown) => void;
}

export const defaultSequencerOptions: SequencerOptions = {
  pollIntervalMs: 50,
  overlapMs: 500,
  auditIntervalMs: 250,
  memoryRetentionMs: 15 * 60_000,
  startupLookbackMs: 15 * 60_000,
  batchEventsMax: 300,
  scanPagesMax: 50,
  inFlightMax: 20_000,
  nowMs: () => Date.now(),
  onError: (error) => console.error(JSON.stringify({ level: 'WARN', message: 'event stream sequencer poll failed; it reloads from the log and retries with backoff', error: String(error) })),
};

interface Remembered {
  lastSeq: number;
  lastStatus: SettlementStatus;
  touchedMs: number;
  /** The audit read its partition after it left the inFlight index, at this seq: no need to read again. */
  auditedAtSeq?: number;
}

/** Batches read back at start-up at most (about 160k events). */
const startupBatchesMax = 400;
const settlementPageSize = 100;

export class StreamSequencer {
  readonly #options: SequencerOptions;
  readonly #appended = new EventEmitter();
  #initialized = false;
  #nextBatch = 1;
  #newestSeenKey = '';
  #originKey = '';
  #lastAuditMs = 0;
  readonly #remembered = new Map<string, Remembered>();
  #running: Promise<void> | undefined;
  readonly #stop = new AbortController();
  /** Times a settlement's partition was read to fill a gap: how often events became visible late. */
  gapRepairs = 0;

  constructor(
    private readonly source: SettlementEventSource,
    private readonly log: StreamLogStore,
    options: Partial<SequencerOptions> = {},
  ) {
    this.#options = { ...defaultSequencerOptions, ...options };
    this.#appended.setMaxListeners(0);
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** Resolves when a batch is appended by this process, or after `timeoutMs`: readers in-process wake at once. */
  async appendedOrTimeout(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      await once(this.#appended, 'batch', { signal: AbortSignal.any([signal, timeout, this.#stop.signal]) });
    } catch {
      // Timed out or aborted: the caller polls the log anyway.
    }
  }

  /** One poll: read what became visible, repair gaps, append. Returns the number of events appended. */
  async runOnce(): Promise<number> {
    try {
      if (!this.#initialized) await this.#initialize();
      const now = this.#options.nowMs();
      const pending: StreamedEvent[] = [];
      for (const event of await this.#scan(now)) await this.#consider(event, pending, now);
      if (now - this.#lastAuditMs >= this.#options.auditIntervalMs) {
        await this.#audit(pending, now);
        this.#lastAuditMs = now;
      }
      if (!(await this.#write(pending, now))) {
        // Another sequencer took the batch number: its batch has (most of) these events. Reload and go on.
        this.#initialized = false;
        return 0;
      }
      this.#forget(now);
      return pending.length;
    } catch (error) {
      // Memory may now be ahead of the log (a failed append): rebuild it from the log.
      this.#initialized = false;
      throw error;
    }
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        await this.runOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        // Logged on the 1st, 2nd, 4th, 8th... failure in a row: a store outage does not flood the log.
        if ((failures & (failures - 1)) === 0) this.#options.onError(error);
      }
      try {
        // Backs off while the store fails: poll interval doubled per failure, at most 5 s.
        await delay(Math.min(5_000, this.#options.pollIntervalMs * 2 ** Math.min(failures, 10)), undefined, { signal: this.#stop.signal });
      } catch {
        // Stopped.
      }
    }
  }

  async #initialize(): Promise<void> {
    const now = this.#options.nowMs();
    this.#remembered.clear();
    let latest = await this.log.latest();
    if (latest === undefined) {
      // An empty first batch records when the log started, so a restart knows it is not a new log.
      const genesis = { batch: 1, createdAt: new Date(now).toISOString(), events: [] };
      latest = (await this.log.append(genesis)) ? undefined : await this.log.latest();
      this.#nextBatch = 2;
    }
    this.#nextBatch = (latest?.batch ?? 1) + 1;
    const lookbackKey = new Date(now - this.#options.startupLookbackMs).toISOString();
    // A new log starts now: what was committed before it is not part of the stream.
    this.#originKey = latest === undefined ? new Date(now).toISOString() : lookbackKey;
    this.#newestSeenKey = this.#originKey;
    const batches = latest === undefined ? [] : [latest, ...(await this.#batchesBack(latest.batch, lookbackKey))];
    for (const batch of [...batches].reverse()) {
      for (const event of batch.events) {
        this.#remember(event, Date.parse(batch.createdAt));
        if (event.eventKey > this.#newestSeenKey) this.#newestSeenKey = event.eventKey;
      }
    }
    // If the sequencer was down for longer than the lookback, resume the scan where the log ends, not later.
    if (latest !== undefined && Date.parse(latest.createdAt) < now - this.#options.startupLookbackMs) {
      const newest = latest.events.reduce((key, event) => (event.eventKey > key ? event.eventKey : key), latest.createdAt);
      this.#newestSeenKey = newest;
      this.#originKey = newest < this.#originKey ? newest : this.#originKey;
    }
    this.#initialized = true;
  }

  async #batchesBack(fromBatch: number, untilCreatedAt: string): Promise<StreamBatch[]> {
    const batches: StreamBatch[] = [];
    let cursor = fromBatch;
    while (batches.length < startupBatchesMax) {
      const page = await this.log.before(cursor, 50);
      if (page.length === 0) break;
      batches.push(...page);
      cursor = page[page.length - 1].batch;
      if (page[page.length - 1].createdAt < untilCreatedAt) break;
    }
    return batches;
  }

  /** Events stamped from (newest seen − overlap) on, bucket by bucket, in stamp order. */
  async #scan(now: number): Promise<StreamedEvent[]> {
    const fromKey = new Date(Date.parse(this.#newestSeenKey.slice(0, 24)) - this.#options.overlapMs).toISOString();
    const lastBucket = new Date(now + 60_000).toISOString().slice(0, 16); // tolerate writers whose clock runs ahead
    const events: StreamedEvent[] = [];
    let bucket = fromKey.slice(0, 16);
    let afterKey = fromKey;
    for (let pages = 0; pages < this.#options.scanPagesMax && bucket <= lastBucket; pages++) {
      const page = await this.source.readBucket({ bucket, afterKey, untilKey: `${bucket}~`, filter: {}, limit: 500 });
      events.push(...page.events);
      const last = page.continueAfterKey ?? page.events[page.events.length - 1]?.eventKey;
      if (last !== undefined && last > this.#newestSeenKey) this.#newestSeenKey = last;
      if (page.continueAfterKey !== undefined) {
        afterKey = page.continueAfterKey;
        continue;
      }
      bucket = new Date(Date.parse(`${bucket}:00.000Z`) + 60_000).toISOString().slice(0, 16);
      afterKey = bucket;
    }
    return events;
  }

  /** Appends `event` unless already appended; first appends any earlier seq of its settlement not yet appended. */
  async #consider(event: StreamedEvent, pending: StreamedEvent[], now: number): Promise<void> {
    const known = this.#remembered.get(event.settlementId);
    if (known !== undefined && event.seq <= known.lastSeq) return;
    if (known === undefined && event.eventKey <= this.#floorKey(now)) return;
    const expectedSeq = known === undefined ? 1 : known.lastSeq + 1;
    if (event.seq === expectedSeq) {
      this.#append(event, pending, now);
      return;
    }
    // A gap: earlier events of this settlement committed but were not seen (late). Its partition has them all.
    this.gapRepairs += 1;
    let afterSeq = known?.lastSeq ?? 0;
    for (let page = 0; page < 100 && afterSeq < event.seq; page++) {
      const events = await this.source.readSettlement({ settlementId: event.settlementId, afterSeq, limit: settlementPageSize });
      if (events.length === 0) break;
      for (const earlier of events) {
        if (earlier.seq > event.seq) break;
        afterSeq = earlier.seq;
        const remembered = this.#remembered.get(event.settlementId);
        if (remembered !== undefined && earlier.seq <= remembered.lastSeq) continue;
        // Unknown settlement: what was stamped before the floor was appended long ago.
        if (remembered === undefined && earlier.eventKey <= this.#floorKey(now)) continue;
        this.#append(earlier, pending, now);
      }
    }
  }

  /**
   * Newest events with no successor yet (late, and nothing after them reveals the gap): settlements in flight
   * that the log has not seen or whose record is ahead of the log, and settlements that left the inFlight index
   * (terminal or parked) while the log still shows them in flight.
   */
  async #audit(pending: StreamedEvent[], now: number): Promise<void> {
    const inFlight = new Set(await this.source.inFlightSettlementIds(this.#options.inFlightMax));
    const knownInFlight: string[] = [];
    for (const settlementId of inFlight) {
      if (this.#remembered.has(settlementId)) knownInFlight.push(settlementId);
      else await this.#readPartition(settlementId, pending, now);
    }
    const versions = await this.source.settlementVersions(knownInFlight);
    for (const [settlementId, version] of versions) {
      if (version > (this.#remembered.get(settlementId)?.lastSeq ?? 0)) await this.#readPartition(settlementId, pending, now);
    }
    for (const [settlementId, remembered] of this.#remembered) {
      if (inFlight.has(settlementId) || isTerminal(remembered.lastStatus) || remembered.auditedAtSeq === remembered.lastSeq) continue;
      await this.#readPartition(settlementId, pending, now);
      const after = this.#remembered.get(settlementId);
      if (after !== undefined) after.auditedAtSeq = after.lastSeq;
    }
  }

  async #readPartition(settlementId: string, pending: StreamedEvent[], now: number): Promise<void> {
    const afterSeq = this.#remembered.get(settlementId)?.lastSeq ?? 0;
    const events = await this.source.readSettlement({ settlementId, afterSeq, limit: settlementPageSize });
    const newest = events[events.length - 1];
    if (newest !== undefined) await this.#consider(newest, pending, now);
  }

  #append(event: StreamedEvent, pending: StreamedEvent[], now: number): void {
    // The stream carries no free-text detail (it can be long); GetSettlementStatus has it.
    const { detail: _detail, ...streamed } = event;
    pending.push(streamed);
    this.#remember(event, now);
  }

  #remember(event: StreamedEvent, touchedMs: number): void {
    const known = this.#remembered.get(event.settlementId);
    if (known !== undefined && known.lastSeq >= event.seq) return;
    this.#remembered.set(event.settlementId, { lastSeq: event.seq, lastStatus: event.status, touchedMs });
  }

  /** Appends the events in batches; false when another sequencer took a batch number first. */
  async #write(pending: readonly StreamedEvent[], now: number): Promise<boolean> {
    for (let start = 0; start < pending.length; start += this.#options.batchEventsMax) {
      const batch = { batch: this.#nextBatch, createdAt: new Date(now).toISOString(), events: pending.slice(start, start + this.#options.batchEventsMax) };
      if (!(await this.log.append(batch))) return false;
      this.#nextBatch += 1;
      this.#appended.emit('batch', batch.batch);
    }
    return true;
  }

  #floorKey(now: number): string {
    const retained = new Date(now - this.#options.memoryRetentionMs).toISOString();
    return retained > this.#originKey ? retained : this.#originKey;
  }

  #forget(now: number): void {
    for (const [settlementId, remembered] of this.#remembered) {
      if (remembered.touchedMs < now - this.#options.memoryRetentionMs) this.#remembered.delete(settlementId);
    }
  }
}
