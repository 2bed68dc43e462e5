/**
 * StreamSettlementEvents: a reader of the settlements table's change stream (lambdas/adapters/events/change-stream.ts).
 * A settlement's events sit in one shard lineage in commit order; the reader reads a shard only once its parent is
 * read to the end, so each settlement's events arrive in order. A cursor is the position reached in every shard
 * (the sequence number last passed), so resuming after it delivers exactly the events not yet delivered: no gap,
 * no repeat, whatever process wrote the events and whichever gRPC task serves the reconnect.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ValidationError } from '../../domain/errors';
import { parseBic } from '../../domain/bic';
import { parseCurrency } from '../../domain/money';
import { parseSettlementId } from '../../domain/settlement';
import type { SettlementEvent } from '../../ports/stores';
import { ShardIteratorExpiredError, StreamTrimmedError, type ChangeStream, type ShardStart, type StreamShard } from '../events/change-stream';
import { timestampToIso } from './mapping';
import type { StreamSettlementEventsRequestMessage } from './proto';

export interface EventFilter {
  /** Payer or payee. */
  readonly bankBic?: string;
  readonly currency?: string;
}

export interface EventStreamOptions {
  /** Pause between reads once every shard is caught up. */
  readonly pollIntervalMs: number;
  /** Records asked of a shard per read (DynamoDB Streams returns at most 1,000). */
  readonly recordsPerRead: number;
  /** How often the shard list is read again (new shards after splits and roll-overs). */
  readonly shardRefreshMs: number;
  /** Oldest `since` accepted: the stream keeps records 24 hours. */
  readonly retentionMs: number;
  /**
   * A `since` or latest start also reads changes made this long before it: a change reaches the stream a moment
   * after it is made, and the stream stamps records to the second.
   */
  readonly startMarginMs: number;
  /** Consecutive failed reads tolerated (with backoff) before the stream ends with UNAVAILABLE. */
  readonly readAttemptsMax: number;
  readonly nowMs: () => number;
}

export const defaultEventStreamOptions: EventStreamOptions = {
  pollIntervalMs: 100,
  recordsPerRead: 1_000,
  shardRefreshMs: 10_000,
  retentionMs: 24 * 3600 * 1000,
  startMarginMs: 2_000,
  readAttemptsMax: 5,
  nowMs: () => Date.now(),
};

/**
 * A shard position: after a sequence number; within the change at a sequence number, after its first `delivered`
 * events (one record write can append several checkpoints); from the shard's start, skipping changes made before a
 * time; read to its end.
 */
export type ShardPosition =
  | { readonly kind: 'after'; readonly sequenceNumber: string }
  | { readonly kind: 'within'; readonly sequenceNumber: string; readonly delivered: number }
  | { readonly kind: 'from'; readonly sinceMs: number }
  | { readonly kind: 'end' };

export type StreamStart = { readonly kind: 'latest' } | { readonly kind: 'since'; readonly since: string } | { readonly kind: 'cursor'; readonly positions: ReadonlyMap<string, ShardPosition> };

export interface StreamRequest {
  readonly settlementId?: string;
  readonly filter: EventFilter;
  readonly start: StreamStart;
}

export interface DeliveredEvent {
  readonly event: SettlementEvent;
  readonly cursor: string;
}

/**
 * A stream record's creation time is rounded down (to the second on AWS, to the minute by DynamoDB Local): a record
 * is passed over as older than a start only when even its latest possible time is. Finer cuts are the events' own
 * `at` (the `since` filter).
 */
export const streamTimePrecisionMs = 60_000;

const cursorVersion = '2';
/** Shards a cursor names at most (the stream keeps 24 h of shards; a table has a shard lineage per partition). */
export const cursorShardsMax = 2_000;
const shardIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const positionPattern = /^(a[0-9]{1,40}|w[0-9]{1,40}\.[1-9][0-9]{0,2}|f[0-9]{1,15}|e)$/;
/** Longer than any cursor this server issues (every shard named with the longest id and position), checked before decoding. */
const cursorLengthMax = Math.ceil(((cursorVersion.length + 3 + cursorShardsMax * (128 + 41 + 6)) * 4) / 3);

/**
 * The opaque cursor: every shard's position, versioned. An ended shard whose child is named is left out (its
 * child's presence says it ended), so the cursor stays as small as the set of live shard lineages.
 */
export function encodeCursor(positions: ReadonlyMap<string, { readonly position: ShardPosition; readonly parentShardId?: string }>): string {
  const parents = new Set([...positions.values()].map((shard) => shard.parentShardId).filter((id): id is string => id !== undefined));
  const entries: [string, string][] = [];
  for (const [shardId, { position }] of positions) {
    if (position.kind === 'end' && parents.has(shardId)) continue;
    entries.push([shardId, encodePosition(position)]);
  }
  return Buffer.from(`${cursorVersion}:${JSON.stringify(Object.fromEntries(entries))}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Map<string, ShardPosition> {
  const refused = () => new ValidationError('cursor', 'is not a cursor this server issued');
  if (cursor.length > cursorLengthMax) throw refused();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(`${cursorVersion}:`)) throw refused();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(cursorVersion.length + 1));
  } catch {
    throw refused();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw refused();
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > cursorShardsMax) throw refused();
  const positions = new Map<string, ShardPosition>();
  for (const [shardId, value] of entries) {
    if (!shardIdPattern.test(shardId) || typeof value !== 'string' || !positionPattern.test(value)) throw refused();
    positions.set(shardId, decodePosition(value));
  }
  return positions;
}

function encodePosition(position: ShardPosition): string {
  switch (position.kind) {
    case 'after':
      return `a${position.sequenceNumber}`;
    case 'within':
      return `w${position.sequenceNumber}.${position.delivered}`;
    case 'from':
      return `f${position.sinceMs}`;
    case 'end':
      return 'e';
  }
}

/** A position text that matched positionPattern. */
function decodePosition(value: string): ShardPosition {
  if (value === 'e') return { kind: 'end' };
  if (value.startsWith('a')) return { kind: 'after', sequenceNumber: value.slice(1) };
  if (value.startsWith('w')) {
    const [sequenceNumber, delivered] = value.slice(1).split('.');
    return { kind: 'within', sequenceNumber, delivered: Number(delivered) };
  }
  return { kind: 'from', sinceMs: Number(value.slice(1)) };
}

/** Validates the request (errors name the camelCase field; the gRPC edge spells it the proto's way). */
export function parseStreamRequest(request: StreamSettlementEventsRequestMessage, options: Pick<EventStreamOptions, 'retentionMs' | 'nowMs'>): StreamRequest {
  const filter: { bankBic?: string; currency?: string } = {};
  if (request.bank_bic !== '') filter.bankBic = parseBic(request.bank_bic, 'bankBic');
  if (request.currency !== '') filter.currency = parseCurrency(request.currency, 'currency');
  let settlementId: string | undefined;
  if (request.settlement_id !== '') {
    settlementId = parseSettlementId(request.settlement_id);
  }
  let start: StreamStart = { kind: 'latest' };
  if (request.cursor !== '') {
    start = { kind: 'cursor', positions: decodeCursor(request.cursor) };
  } else if (request.since !== null) {
    const since = timestampToIso(request.since, 'since')!;
    if (Date.parse(since) < options.nowMs() - options.retentionMs) throw new ValidationError('since', `must be within the last ${options.retentionMs / 3_600_000} h`);
    start = { kind: 'since', since };
  }
  return { settlementId, filter, start };
}

interface ShardState {
  position: ShardPosition;
  readonly parentShardId?: string;
  iterator?: string;
  /** The first iterator starts at the shard's newest record (a latest start); later ones from the position. */
  latest?: boolean;
}

/** Every matching event after the start, shard by shard, until `signal` aborts. Read failures are retried, then thrown. */
export async function* settlementEvents(stream: ChangeStream, request: StreamRequest, options: EventStreamOptions, signal: AbortSignal): AsyncGenerator<DeliveredEvent> {
  const read = <T>(operation: () => Promise<T>) => withRetries(operation, options, signal);
  const matches = matcher(request);
  const shards = new Map<string, ShardState>();
  const startedMs = options.nowMs();
  addShards(shards, await read(() => stream.shards()), request.start, startedMs, options.startMarginMs);
  let refreshedMs = startedMs;
  while (!signal.aborted) {
    let progressed = false;
    let ended = false;
    for (const [shardId, shard] of [...shards].sort(([left], [right]) => (left < right ? -1 : 1))) {
      if (shard.position.kind === 'end' || !parentRead(shards, shard)) continue;
      try {
        shard.iterator ??= await read(() => stream.iterator(shardId, shard.latest ? { type: 'LATEST' } : startOf(shard.position)));
        shard.latest = false;
        const page = await read(() => stream.read(shard.iterator!, options.recordsPerRead));
        for (const record of page.records) {
          // From the shard's start, changes made before the start time are passed over; the position stays 'from'.
          if (shard.position.kind === 'from' && record.createdAtMs + streamTimePrecisionMs < shard.position.sinceMs) continue;
          const { sequenceNumber, events } = record;
          // Resuming within this change: its first events were delivered already.
          const skip: number = shard.position.kind === 'within' && shard.position.sequenceNumber === sequenceNumber ? shard.position.delivered : 0;
          shard.position = { kind: 'after', sequenceNumber };
          for (let index: number = skip; index < events.length; index++) {
            // The position names this event as delivered before it is handed out, so its cursor resumes after it.
            if (index + 1 < events.length) shard.position = { kind: 'within', sequenceNumber, delivered: index + 1 };
            else shard.position = { kind: 'after', sequenceNumber };
            if (matches(events[index])) yield { event: events[index], cursor: encodeCursor(shards) };
            if (signal.aborted) return;
          }
        }
        progressed ||= page.records.length > 0;
        shard.iterator = page.nextIterator;
        if (page.nextIterator === undefined) {
          shard.position = { kind: 'end' };
          ended = true;
        }
      } catch (error) {
        if (!(error instanceof ShardIteratorExpiredError)) throw trimmedAsInvalid(error);
        shard.iterator = undefined; // asked again from the position
      }
    }
    if (ended || options.nowMs() - refreshedMs >= options.shardRefreshMs) {
      addShards(shards, await read(() => stream.shards()), undefined, 0, 0);
      refreshedMs = options.nowMs();
    }
    if (!progressed && !ended) await pause(options.pollIntervalMs, signal);
  }
}

/**
 * Adds the shards not yet known. At the start: a cursor's positions (a shard it does not name is new since, unless
 * a shard it names descends from it: then it was read to its end), `since` reads every shard from that time, a latest
 * start reads open shards from their newest record. Shards found later are new: read whole.
 */
function addShards(known: Map<string, ShardState>, listed: readonly StreamShard[], start: StreamStart | undefined, startedMs: number, marginMs: number): void {
  const parentOf = new Map(listed.map((shard) => [shard.shardId, shard.parentShardId]));
  const ancestorsOfNamed = new Set<string>();
  if (start?.kind === 'cursor') {
    for (const [shardId, position] of start.positions) {
      // A shard the cursor was still reading that the stream no longer keeps: its unread records are gone.
      if (position.kind !== 'end' && !parentOf.has(shardId)) throw new ValidationError('cursor', 'is older than the stream retention (24 h); start again with since');
    }
    for (const shardId of start.positions.keys()) {
      let parent = parentOf.get(shardId);
      // Bounded walk up the lineage.
      for (let depth = 0; parent !== undefined && depth < cursorShardsMax; depth++) {
        ancestorsOfNamed.add(parent);
        parent = parentOf.get(parent);
      }
    }
  }
  for (const shard of listed) {
    if (known.has(shard.shardId)) continue;
    const base = { ...(shard.parentShardId && { parentShardId: shard.parentShardId }) };
    if (start === undefined) known.set(shard.shardId, { ...base, position: { kind: 'from', sinceMs: 0 } });
    else if (start.kind === 'cursor') {
      const named = start.positions.get(shard.shardId);
      known.set(shard.shardId, { ...base, position: named ?? (ancestorsOfNamed.has(shard.shardId) ? { kind: 'end' } : { kind: 'from', sinceMs: 0 }) });
    } else if (start.kind === 'since') {
      known.set(shard.shardId, { ...base, position: { kind: 'from', sinceMs: Date.parse(start.since) - marginMs } });
    } else {
      // Latest: a closed shard has nothing new; an open one is read from its newest record, and a cursor issued before
      // it delivers anything resumes it from the start time.
      known.set(shard.shardId, shard.closed ? { ...base, position: { kind: 'end' } } : { ...base, position: { kind: 'from', sinceMs: startedMs - marginMs }, latest: true });
    }
  }
  for (const shardId of [...known.keys()]) {
    const state = known.get(shardId)!;
    // Shards the stream no longer lists (past retention) are forgotten once read.
    if (!parentOf.has(shardId) && state.position.kind === 'end') known.delete(shardId);
  }
}

function parentRead(shards: ReadonlyMap<string, ShardState>, shard: ShardState): boolean {
  if (shard.parentShardId === undefined) return true;
  const parent = shards.get(shard.parentShardId);
  return parent === undefined || parent.position.kind === 'end';
}

function startOf(position: ShardPosition): ShardStart {
  if (position.kind === 'after') return { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: position.sequenceNumber };
  if (position.kind === 'within') return { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: position.sequenceNumber };
  return { type: 'TRIM_HORIZON' };
}

function trimmedAsInvalid(error: unknown): unknown {
  return error instanceof StreamTrimmedError ? new ValidationError('cursor', 'is older than the stream retention (24 h); start again with since') : error;
}

/** Whether an event is one the request asked for (settlement, currency, bank, since); shared with events/shared-reader.ts. */
export function matcher(request: StreamRequest): (event: SettlementEvent) => boolean {
  const since = request.start.kind === 'since' ? request.start.since : undefined;
  return (event) =>
    (request.settlementId === undefined || event.settlementId === request.settlementId) &&
    (request.filter.currency === undefined || event.currency === request.filter.currency) &&
    (request.filter.bankBic === undefined || event.payerBic === request.filter.bankBic || event.payeeBic === request.filter.bankBic) &&
    (since === undefined || event.at >= since);
}

/** A stream read retried on transient failures (not on a bad cursor, an expired iterator or a trimmed stream). */
export async function withRetries<T>(operation: () => Promise<T>, options: EventStreamOptions, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ValidationError || error instanceof ShardIteratorExpiredError || error instanceof StreamTrimmedError || attempt >= options.readAttemptsMax || signal.aborted) throw error;
      // Exponential backoff with full jitter: 100 ms, 200 ms, ... capped at 2 s.
      await pause(Math.random() * Math.min(2_000, 100 * 2 ** (attempt - 1)), signal);
    }
  }
}

export async function pause(milliseconds: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(milliseconds, undefined, { signal });
  } catch {
    // Aborted: the loop condition ends the stream.
  }
}
