/**
 * The console's live data over HTTP, beside the proxy-event routes because they stream or aggregate the event
 * stream log (adapters/events/stream-log.ts), the same log StreamSettlementEvents reads:
 *
 * - GET /api/v1/events/stream: server-sent events, one `settlement` event per settlement event in log order, from
 *   now (or `since`), filtered by `bank` and `currency`; a participant sees only settlements it is party to.
 * - GET /api/v1/events/stats: the last hour per minute (completed, failed, latency percentiles from submission to
 *   completion), computed from the same log; cached a few seconds per scope.
 *
 * Both authenticate and authorize like every route (domain/access.ts: settlement.read) before anything else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Permission, actsFor, authorize, localServicePrincipal, ForbiddenError, type Principal } from '../domain/access';
import { SettlementEngineError, ValidationError } from '../domain/errors';
import { parseBic } from '../domain/bic';
import { parseCurrency } from '../domain/money';
import { errorResponse } from './http';
import type { SettlementEventSource, StreamedEvent } from '../adapters/events/event-source';
import { StreamSequencer, type StreamLogStore } from '../adapters/events/stream-log';
import { defaultEventStreamOptions, firstBatchCreatedAtOrAfter, settlementEvents, type StreamRequest } from '../adapters/grpc/event-stream';

/** Concurrent event streams served at most (per process), and per client. */
export const feedStreamsMax = 64;
export const feedStreamsPerClientMax = 8;
/** Comment line sent when idle, so proxies and browsers keep the connection. */
export const feedHeartbeatMs = 15_000;
export const statsWindowMinutes = 60;
export const statsCacheMs = 5_000;
/** Log batches one stats computation reads at most (a bound on its cost under heavy load). */
export const statsBatchesMax = 2_000;

export type RawHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface EventFeedOptions {
  readonly log: StreamLogStore;
  /** Where the sequencer reads; it is started with the first stream (several sequencers may run, see stream-log.ts). */
  readonly source: SettlementEventSource;
  /** The caller of a request, from its headers (throws UnauthenticatedError / RateLimitedError); absent: the engine itself. */
  readonly authenticate?: (headers: Readonly<Record<string, string>>) => Principal;
  readonly auditRefusal?: (error: ForbiddenError, call: string) => Promise<void>;
  readonly nowMs?: () => number;
}

export interface EventFeed {
  readonly handlers: Readonly<Record<string, RawHandler>>;
  stop(): Promise<void>;
}

export interface MinuteStats {
  readonly minute: string;
  readonly completed: number;
  readonly failed: number;
  readonly latencyMsP50: number | null;
  readonly latencyMsP95: number | null;
  readonly latencyMsP99: number | null;
}

export function createEventFeed(options: EventFeedOptions): EventFeed {
  const nowMs = options.nowMs ?? (() => Date.now());
  const streams = new Map<string, number>();
  const stop = new AbortController();
  let sequencer: StreamSequencer | undefined;
  const statsCache = new Map<string, { atMs: number; body: unknown }>();

  const admit = async (request: IncomingMessage, response: ServerResponse, call: string): Promise<Principal | undefined> => {
    try {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]));
      const caller = options.authenticate ? options.authenticate(headers) : localServicePrincipal;
      authorize(caller, Permission.settlementRead);
      return caller;
    } catch (error) {
      if (error instanceof ForbiddenError) await options.auditRefusal?.(error, call);
      sendError(response, error);
      return undefined;
    }
  };

  const stream: RawHandler = (request, response) => {
    void (async () => {
      const caller = await admit(request, response, 'GET /api/v1/events/stream');
      if (!caller) return;
      let parsed: StreamRequest;
      try {
        parsed = parseFeedQuery(new URL(request.url ?? '/', 'http://localhost').searchParams, nowMs());
      } catch (error) {
        return sendError(response, error);
      }
      const open = streams.get(caller.clientName) ?? 0;
      const total = [...streams.values()].reduce((sum, count) => sum + count, 0);
      if (total >= feedStreamsMax || open >= feedStreamsPerClientMax) {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        return response.end(JSON.stringify({ error: { code: 'HTTP.TOO_MANY_STREAMS', message: `at most ${feedStreamsMax} event streams (${feedStreamsPerClientMax} per client); retry later` } }));
      }
      sequencer ??= startSequencer(options);
      streams.set(caller.clientName, open + 1);
      const ended = new AbortController();
      const end = () => ended.abort();
      stop.signal.addEventListener('abort', end, { once: true });
      request.on('close', end);
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      response.write(': settlement events\n\n');
      const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), feedHeartbeatMs);
      try {
        const wake = (timeoutMs: number, signal: AbortSignal) => sequencer!.appendedOrTimeout(timeoutMs, signal);
        for await (const delivered of settlementEvents(options.log, parsed, { ...defaultEventStreamOptions, pollIntervalMs: 200, nowMs }, ended.signal, wake)) {
          if (!partyTo(caller, delivered.event)) continue;
          response.write(`id: ${delivered.cursor}\nevent: settlement\ndata: ${JSON.stringify(delivered.event)}\n\n`);
        }
      } catch (error) {
        if (!ended.signal.aborted) response.write(`event: error\ndata: ${JSON.stringify({ message: error instanceof SettlementEngineError ? error.message : 'the event stream failed; reconnect' })}\n\n`);
      } finally {
        clearInterval(heartbeat);
        stop.signal.removeEventListener('abort', end);
        streams.set(caller.clientName, (streams.get(caller.clientName) ?? 1) - 1);
        response.end();
      }
    })();
  };

  const stats: RawHandler = (request, response) => {
    void (async () => {
      const caller = await admit(request, response, 'GET /api/v1/events/stats');
      if (!caller) return;
      try {
        const scope = caller.role === 'participant' ? caller.bics.join('+') : '*';
        const cached = statsCache.get(scope);
        const body = cached && nowMs() - cached.atMs < statsCacheMs ? cached.body : { minutes: await lastHour(options.log, caller, nowMs()) };
        if (!cached || cached.body !== body) statsCache.set(scope, { atMs: nowMs(), body });
        response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(JSON.stringify(body));
      } catch (error) {
        sendError(response, error);
      }
    })();
  };

  return {
    handlers: { '/api/v1/events/stream': stream, '/api/v1/events/stats': stats },
    stop: async () => {
      stop.abort();
      await sequencer?.stop();
    },
  };
}

function startSequencer(options: EventFeedOptions): StreamSequencer {
  const sequencer = new StreamSequencer(options.source, options.log, {});
  sequencer.start();
  return sequencer;
}

function partyTo(caller: Principal, event: StreamedEvent): boolean {
  return actsFor(caller, event.payerBic) || actsFor(caller, event.payeeBic);
}

function parseFeedQuery(query: URLSearchParams, nowMs: number): StreamRequest {
  const filter: { bankBic?: string; currency?: string } = {};
  for (const key of query.keys()) if (!['bank', 'currency', 'since'].includes(key)) throw new ValidationError(key, 'is not a query parameter of the event stream (bank, currency, since)');
  const bank = query.get('bank');
  const currency = query.get('currency');
  const since = query.get('since');
  if (bank) filter.bankBic = parseBic(bank, 'bank');
  if (currency) filter.currency = parseCurrency(currency, 'currency');
  if (since) {
    const time = Date.parse(since);
    if (Number.isNaN(time) || time < nowMs - defaultEventStreamOptions.retentionMs) throw new ValidationError('since', 'must be an ISO instant within the stream retention');
    return { filter, start: { kind: 'since', since: new Date(time).toISOString() } };
  }
  return { filter, start: { kind: 'latest' } };
}

/** Per minute of the last hour: settlements completed and failed, and completion latency percentiles (ms). */
export async function lastHour(log: StreamLogStore, caller: Principal, nowMs: number): Promise<MinuteStats[]> {
  const windowStartMs = Math.floor(nowMs / 60_000) * 60_000 - (statsWindowMinutes - 1) * 60_000;
  const since = new Date(windowStartMs).toISOString();
  const submittedAt = new Map<string, number>();
  const minutes = Array.from({ length: statsWindowMinutes }, () => ({ completed: 0, failed: 0, latencies: [] as number[] }));
  let after = (await firstBatchCreatedAtOrAfter(log, since)) - 1;
  for (let read = 0; read < statsBatchesMax; read += 20) {
    const batches = await log.after(after, 20);
    for (const batch of batches) {
      for (const event of batch.events) {
        if (!partyTo(caller, event)) continue;
        const atMs = Date.parse(event.at);
        if (event.seq === 1) submittedAt.set(event.settlementId, atMs);
        const minute = Math.floor((atMs - windowStartMs) / 60_000);
        if (minute < 0 || minute >= statsWindowMinutes) continue;
        if (event.status === 'COMPLETED') {
          minutes[minute].completed += 1;
          const submitted = submittedAt.get(event.settlementId);
          if (submitted !== undefined) minutes[minute].latencies.push(atMs - submitted);
        } else if (event.status === 'FAILED') minutes[minute].failed += 1;
      }
      after = batch.batch;
    }
    if (batches.length < 20) break;
  }
  return minutes.map((bucket, index) => {
    const sorted = bucket.latencies.sort((a, b) => a - b);
    const percentile = (p: number) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
    return { minute: new Date(windowStartMs + index * 60_000).toISOString(), completed: bucket.completed, failed: bucket.failed, latencyMsP50: percentile(50), latencyMsP95: percentile(95), latencyMsP99: percentile(99) };
  });
}

function sendError(response: ServerResponse, error: unknown): void {
  const answer = errorResponse(error);
  response.writeHead(answer.statusCode, { 'content-type': 'application/json', ...answer.headers });
  response.end(JSON.stringify(answer.body));
}
