/**
 * StreamSettlementEvents: a reader of the stream log (lambdas/adapters/events/stream-log.ts), which holds every
 * settlement event in the order it became visible, in dense numbered batches. A cursor is a position in that log
 * (batch, index), so resuming after it delivers exactly the events not yet delivered: no gap, no repeat, whatever
 * process wrote the events and whichever gRPC task serves the reconnect.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ValidationError } from '../../domain/errors';
import { parseBic } from '../../domain/bic';
import { parseCurrency } from '../../domain/money';
import { parseSettlementId } from '../../domain/settlement';
import type { EventFilter, StreamedEvent } from '../events/event-source';
import type { SequencerOptions, StreamLogStore } from '../events/stream-log';
import { timestampToIso } from './mapping';
import type { StreamSettlementEventsRequestMessage } from './proto';

export interface EventStreamOptions {
  /** Pause between reads of the log once caught up (a sequencer in the same process wakes readers sooner). */
  readonly pollIntervalMs: number;
  /** Batches read per query. */
  readonly batchesPerRead: number;
  /** Oldest `since` accepted (the log keeps batches a day longer). */
  readonly retentionMs: number;
  /** Consecutive failed reads tolerated (with backoff) before the stream ends with UNAVAILABLE. */
  readonly readAttemptsMax: number;
  readonly nowMs: () => number;
  /** Options of the sequencer this server runs; false: another process sequences (none runs here). */
  readonly sequencer?: Partial<SequencerOptions> | false;
}

export const defaultEventStreamOptions: EventStreamOptions = {
  pollIntervalMs: 100,
  batchesPerRead: 20,
  retentionMs: 7 * 24 * 3600 * 1000,
  readAttemptsMax: 5,
  nowMs: () => Date.now(),
};

export type StreamStart = { readonly kind: 'latest' } | { readonly kind: 'since'; readonly since: string } | { readonly kind: 'cursor'; readonly batch: number; readonly index: number };

export interface StreamRequest {
  readonly settlementId?: string;
  readonly filter: EventFilter;
  readonly start: StreamStart;
}

export interface DeliveredEvent {
  readonly event: StreamedEvent;
  readonly cursor: string;
}

/** Wakes a reader when a batch is appended in this process, or after the timeout. */
export type WaitForAppend = (timeoutMs: number, signal: AbortSignal) => Promise<void>;

const cursorVersion = '1';
/** Longer than any cursor this server issues ("1:<12 digits>:<6 digits>" in base64url). */
const cursorLengthMax = 64;

/** The opaque cursor of an event: its position in the stream log, versioned. */
export function encodeCursor(batch: number, index: number): string {
  return Buffer.from(`${cursorVersion}:${batch}:${index}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { batch: number; index: number } {
  if (cursor.length > cursorLengthMax) throw new ValidationError('cursor', 'is not a cursor this server issued');
  const match = /^1:([1-9][0-9]{0,11}):(0|[1-9][0-9]{0,5})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new ValidationError('cursor', 'is not a cursor this server issued');
  return { batch: Number(match[1]), index: Number(match[2]) };
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
    start = { kind: 'cursor', ...decodeCursor(request.cursor) };
  } else if (request.since !== null) {
    const since = timestampToIso(request.since, 'since')!;
    if (Date.parse(since) < options.nowMs() - options.retentionMs) throw new ValidationError('since', `must be within the last ${options.retentionMs / 3_600_000} h`);
    start = { kind: 'since', since };
  }
  return { settlementId, filter, start };
}

/** Every matching event after the start, in log order, until `signal` aborts. Read failures are retried, then thrown. */
export async function* settlementEvents(log: StreamLogStore, request: StreamRequest, options: EventStreamOptions, signal: AbortSignal, waitForAppend?: WaitForAppend): AsyncGenerator<DeliveredEvent> {
  const read = <T>(operation: () => Promise<T>) => withRetries(operation, options, signal);
  const matches = matcher(request);
  let afterBatch: number;
  switch (request.start.kind) {
    case 'latest':
      afterBatch = (await read(() => log.latest()))?.batch ?? 0;
      break;
    case 'since':
      afterBatch = (await read(() => firstBatchCreatedAtOrAfter(log, request.start.kind === 'since' ? request.start.since : ''))) - 1;
      break;
    case 'cursor': {
      const { batch: cursorBatch, index } = request.start;
      const batch = await read(() => log.get(cursorBatch));
      if (batch === undefined) {
        const latest = (await read(() => log.latest()))?.batch ?? 0;
        throw new ValidationError('cursor', cursorBatch > latest ? 'is ahead of the stream: not a cursor this server issued' : 'is older than the stream retention; start again with since');
      }
      for (const [position, event] of batch.events.entries()) {
        if (position > index && matches(event)) yield { event, cursor: encodeCursor(batch.batch, position) };
      }
      afterBatch = batch.batch;
      break;
    }
  }
  while (!signal.aborted) {
    const batches = await read(() => log.after(afterBatch, options.batchesPerRead));
    for (const batch of batches) {
      for (const [position, event] of batch.events.entries()) {
        if (signal.aborted) return;
        if (matches(event)) yield { event, cursor: encodeCursor(batch.batch, position) };
      }
      afterBatch = batch.batch;
    }
    if (batches.length < options.batchesPerRead) await (waitForAppend ?? pause)(options.pollIntervalMs, signal);
  }
}

function matcher(request: StreamRequest): (event: StreamedEvent) => boolean {
  const since = request.start.kind === 'since' ? request.start.since : undefined;
  return (event) =>
    (request.settlementId === undefined || event.settlementId === request.settlementId) &&
    (request.filter.currency === undefined || event.currency === request.filter.currency) &&
    (request.filter.bankBic === undefined || event.payerBic === request.filter.bankBic || event.payeeBic === request.filter.bankBic) &&
    (since === undefined || event.at >= since);
}

/**
 * The first batch created at or after `since` (binary search over the dense batch numbers; expired batches count
 * as older). A batch holds events stamped before its creation, so no event stamped at or after `since` is earlier.
 */
export async function firstBatchCreatedAtOrAfter(log: StreamLogStore, since: string): Promise<number> {
  const latest = await log.latest();
  if (latest === undefined) return 1;
  let low = 1;
  let high = latest.batch + 1;
  // Bounded: at most 40 reads for 2^40 batches.
  for (let step = 0; step < 40 && low < high; step++) {
    const middle = Math.floor((low + high) / 2);
    const batch = await log.get(middle);
    if (batch !== undefined && batch.createdAt >= since) high = middle;
    else low = middle + 1;
  }
  return low;
}

async function withRetries<T>(operation: () => Promise<T>, options: EventStreamOptions, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ValidationError || attempt >= options.readAttemptsMax || signal.aborted) throw error;
      // Exponential backoff with full jitter: 100 ms, 200 ms, ... capped at 2 s.
      await pause(Math.random() * Math.min(2_000, 100 * 2 ** (attempt - 1)), signal);
    }
  }
}

async function pause(milliseconds: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(milliseconds, undefined, { signal });
  } catch {
    // Aborted: the loop condition ends the stream.
  }
}
