/**
 * The console's live data over HTTP, beside the proxy-event routes because they stream or aggregate the settlements
 * table's change stream, read by the process's one shared reader (adapters/events/shared-reader.ts), the one
 * StreamSettlementEvents reads too. Served by the local engine beside its REST routes and, on AWS, by the gRPC task
 * (bin/grpc-server.ts) behind the console's distribution:
 *
 * - GET /api/v1/events/stream: server-sent events, one `settlement` event per settlement event, each settlement's in
 *   order, from now (or `since`), filtered by `bank` and `currency`; a participant sees only settlements it is party
 *   to. The SSE `id` is the stream cursor.
 * - GET /api/v1/events/stats: the last hour per minute (completed, failed, latency percentiles from submission to
 *   completion), folded by one subscriber of the shared reader per process (adapters/events/last-hour.ts), started
 *   with the first request from an hour back.
 *
 * Both authenticate and authorize like every route (domain/access.ts: settlement.read) before anything else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { Permission, actsFor, authorize, localServicePrincipal, ForbiddenError, type Principal } from '../domain/access';
import { SettlementEngineError, ValidationError } from '../domain/errors';
import { parseBic } from '../domain/bic';
import { parseCurrency } from '../domain/money';
import type { SettlementEvent } from '../ports/stores';
import { errorResponse } from './http';
import { LastHourStats, statsWindowMinutes } from '../adapters/events/last-hour';
import { CatchUpBusyError, SubscriberTooSlowError, type SettlementEventSource } from '../adapters/events/shared-reader';
import { decodeCursor, defaultEventStreamOptions, type StreamRequest } from '../adapters/grpc/event-stream';

/** Concurrent event streams served at most (per process), and per client. */
export const feedStreamsMax = 64;
export const feedStreamsPerClientMax = 8;
/** Comment line sent when idle, so proxies and browsers keep the connection. */
export const feedHeartbeatMs = 15_000;
/** Pause before the stats follower reads again after its reader gave up (the store was unavailable). */
export const statsFollowerRestartMs = 5_000;

export type RawHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface EventFeedOptions {
  /** The process's one reader of the settlements table's change stream. */
  readonly events: SettlementEventSource;
  /** The caller of a request, from its headers (throws UnauthenticatedError / RateLimitedError); absent: the engine itself. */
  readonly authenticate?: (headers: Readonly<Record<string, string>>) => Principal | Promise<Principal>;
  readonly auditRefusal?: (error: ForbiddenError, call: string) => Promise<void>;
  readonly nowMs?: () => number;
  /** Where a failure of the stats follower is reported; default: stderr as JSON. */
  readonly logError?: (message: string, error: unknown) => void;
}

export interface EventFeed {
  readonly handlers: Readonly<Record<string, RawHandler>>;
  stop(): Promise<void>;
}

export function createEventFeed(options: EventFeedOptions): EventFeed {
  const nowMs = options.nowMs ?? (() => Date.now());
  const streams = new Map<string, number>();
  const stop = new AbortController();
  let stats: { readonly folded: LastHourStats; readonly following: Promise<void> } | undefined;

  const admit = async (request: IncomingMessage, response: ServerResponse, call: string): Promise<Principal | undefined> => {
    try {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]));
      const caller = options.authenticate ? await options.authenticate(headers) : localServicePrincipal;
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
        // A browser's EventSource reconnects with the last id it received: the cursor, resumed with no gap and no repeat.
        const lastEventId = request.headers['last-event-id'];
        if (typeof lastEventId === 'string' && lastEventId !== '') parsed = { ...parsed, start: { kind: 'cursor', positions: decodeCursor(lastEventId) } };
      } catch (error) {
        return sendError(response, error);
      }
      const open = streams.get(caller.clientName) ?? 0;
      const total = [...streams.values()].reduce((sum, count) => sum + count, 0);
      if (total >= feedStreamsMax || open >= feedStreamsPerClientMax) {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        return response.end(JSON.stringify({ error: { code: 'HTTP.TOO_MANY_STREAMS', message: `at most ${feedStreamsMax} event streams (${feedStreamsPerClientMax} per client); retry later` } }));
      }
      streams.set(caller.clientName, open + 1);
      const ended = new AbortController();
      const end = () => ended.abort();
      stop.signal.addEventListener('abort', end, { once: true });
      request.on('close', end);
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      response.write(': settlement events\n\n');
      const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), feedHeartbeatMs);
      try {
        for await (const delivered of options.events.events(parsed, ended.signal)) {
          if (!partyTo(caller, delivered.event)) continue;
          // A slow client holds its place in the shared reader's log, not a buffer here: wait until the socket drains.
          if (!response.write(`id: ${delivered.cursor}\nevent: settlement\ndata: ${JSON.stringify(delivered.event)}\n\n`)) await once(response, 'drain', { signal: ended.signal }).catch(() => undefined);
          if (ended.signal.aborted) break;
        }
      } catch (error) {
        if (!ended.signal.aborted) response.write(`event: error\ndata: ${JSON.stringify(feedError(error))}\n\n`);
      } finally {
        clearInterval(heartbeat);
        stop.signal.removeEventListener('abort', end);
        streams.set(caller.clientName, (streams.get(caller.clientName) ?? 1) - 1);
        response.end();
      }
    })();
  };

  const lastHour: RawHandler = (request, response) => {
    void (async () => {
      const caller = await admit(request, response, 'GET /api/v1/events/stats');
      if (!caller) return;
      try {
        if (!stats) {
          const folded = new LastHourStats();
          stats = { folded, following: followStats(options, nowMs, folded, stop.signal) };
        }
        const minutes = stats.folded.lastHour(nowMs(), (payerBic, payeeBic) => actsFor(caller, payerBic) || actsFor(caller, payeeBic));
        response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(JSON.stringify({ minutes }));
      } catch (error) {
        sendError(response, error);
      }
    })();
  };

  return {
    handlers: { '/api/v1/events/stream': stream, '/api/v1/events/stats': lastHour },
    stop: async () => {
      stop.abort();
      await stats?.following;
    },
  };
}

/**
 * Folds every settlement event of the stream into `folded`, from the start of the stats window, until `signal`
 * aborts. When the reader gives up (the stream unavailable past its retries) it starts again after a pause from the
 * cursor it reached, so nothing is counted twice.
 */
async function followStats(options: EventFeedOptions, nowMs: () => number, folded: LastHourStats, signal: AbortSignal): Promise<void> {
  const windowStartMs = nowMs() - statsWindowMinutes * 60_000;
  const since: StreamRequest = { filter: {}, start: { kind: 'since', since: new Date(windowStartMs).toISOString() } };
  let reached: string | undefined;
  const logError = options.logError ?? ((message, error) => console.error(JSON.stringify({ level: 'ERROR', message, error: String(error) })));
  while (!signal.aborted) {
    try {
      const request: StreamRequest = reached === undefined ? since : { filter: {}, start: { kind: 'cursor', positions: decodeCursor(reached) } };
      for await (const delivered of options.events.events(request, signal)) {
        folded.record(delivered.event);
        reached = delivered.cursor;
      }
    } catch (error) {
      logError('the last-hour stats follower stopped reading the change stream; it starts again', error);
      await delay(statsFollowerRestartMs, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** What the client is told when its stream ends: the stable code, and that it may reconnect from its last id. */
function feedError(error: unknown): { code?: string; message: string } {
  if (error instanceof SubscriberTooSlowError || error instanceof CatchUpBusyError) return { code: error.code, message: error.message };
  if (error instanceof SettlementEngineError) return { code: error.code, message: error.message };
  return { message: 'the event stream failed; reconnect' };
}

function partyTo(caller: Principal, event: SettlementEvent): boolean {
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

function sendError(response: ServerResponse, error: unknown): void {
  const answer = errorResponse(error);
  response.writeHead(answer.statusCode, { 'content-type': 'application/json', ...answer.headers });
  response.end(JSON.stringify(answer.body));
}
