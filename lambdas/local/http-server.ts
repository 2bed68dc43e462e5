/**
 * The local REST server: turns each HTTP request into an API Gateway proxy event (REST API, payload 1.0) for the
 * same handler Lambda runs behind API Gateway, and writes the proxy result back.
 *
 * It also does what API Gateway does in front of the Lambda on AWS, against slow and greedy clients: headers must
 * arrive within seconds and the whole request soon after (Node's `headersTimeout` and `requestTimeout`, checked
 * every second rather than every 30 s); an idle keep-alive socket is closed; the caller's key is checked on the
 * headers before a byte of body is read (a `preflight`); connections are capped per client address and overall.
 */
import http from 'node:http';
import { listen, type ListeningServer } from '../adapters/http/listening';
import type { Socket } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { requestBodyBytesMax, type PreflightVerdict } from '../handlers/http';
import { positiveInteger, type Environment } from '../config';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type Preflight = (method: string, path: string, headers: Readonly<Record<string, string>>) => Promise<PreflightVerdict>;

export type LocalHttpServer = ListeningServer;

/** Limits on clients of the local REST server; each has an environment variable (README configuration table). */
export interface HttpServerLimits {
  /** HTTP_HEADERS_TIMEOUT_MS: the request line and headers must have arrived by then (else 408, closed). */
  readonly headersTimeoutMs: number;
  /** HTTP_REQUEST_TIMEOUT_MS: the whole request, body included, must have arrived by then. */
  readonly requestTimeoutMs: number;
  /** HTTP_IDLE_TIMEOUT_MS: a socket on which the client sends nothing for this long is closed (keep-alive included; not while the engine answers). */
  readonly idleTimeoutMs: number;
  /** HTTP_CONNECTIONS_MAX: open connections at most; more are answered 503 with Retry-After and closed. */
  readonly connectionsMax: number;
  /** HTTP_CONNECTIONS_PER_CLIENT_MAX: open connections from one client address at most. */
  readonly connectionsPerClientMax: number;
}

export const defaultHttpServerLimits: HttpServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 5_000,
  connectionsMax: 1_024,
  connectionsPerClientMax: 64,
};

export function httpServerLimitsFromEnvironment(env: Environment): HttpServerLimits {
  const limits = {
    headersTimeoutMs: positiveInteger(env, 'HTTP_HEADERS_TIMEOUT_MS', defaultHttpServerLimits.headersTimeoutMs),
    requestTimeoutMs: positiveInteger(env, 'HTTP_REQUEST_TIMEOUT_MS', defaultHttpServerLimits.requestTimeoutMs),
    idleTimeoutMs: positiveInteger(env, 'HTTP_IDLE_TIMEOUT_MS', defaultHttpServerLimits.idleTimeoutMs),
    connectionsMax: positiveInteger(env, 'HTTP_CONNECTIONS_MAX', defaultHttpServerLimits.connectionsMax),
    connectionsPerClientMax: positiveInteger(env, 'HTTP_CONNECTIONS_PER_CLIENT_MAX', defaultHttpServerLimits.connectionsPerClientMax),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new Error('configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  return limits;
}

/** How often Node checks the header and request timeouts (its default, 30 s, would let a slow client stay 30 s longer). */
const timeoutCheckIntervalMs = 1_000;
/** A refused client whose body keeps coming is cut off after this long. */
const refusalLingerMs = 1_000;

const localContext = { functionName: 'settlement-engine-api', awsRequestId: 'local', callbackWaitsForEmptyEventLoop: false } as unknown as Context;

/**
 * GET /metrics alone, without credentials, on its own address (METRICS_ADDRESS): for a Prometheus scraper on a
 * private interface. Everything else answers 404.
 */
export async function startMetricsServer(metricsText: () => Promise<string>, options: { port: number; host: string }): Promise<LocalHttpServer> {
  const server = http.createServer({ headersTimeout: 5_000, requestTimeout: 10_000, connectionsCheckingInterval: timeoutCheckIntervalMs }, (request, response) => {
    if (request.method !== 'GET' || new URL(request.url ?? '/', 'http://localhost').pathname !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metricsText().then(
      (text) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
      () => response.writeHead(503, { 'retry-after': '5' }).end(),
    );
  });
  server.maxConnections = 64;
  return listen(server, options);
}

/** `host:port` of METRICS_ADDRESS, or undefined when unset (then /metrics is served on the REST port, with a key). */
export function metricsAddressFromEnvironment(env: Environment): { host: string; port: number } | undefined {
  const raw = env.METRICS_ADDRESS?.trim();
  if (!raw) return undefined;
  const match = /^(.+):(\d{1,5})$/.exec(raw);
  if (!match || Number(match[2]) > 65_535) throw new Error(`configuration: METRICS_ADDRESS must be host:port, got "${raw}"`);
  return { host: match[1], port: Number(match[2]) };
}

/** Handlers that answer from the raw request (streams): GET only, by exact path, before any body is read. */
export type RawHandlers = Readonly<Record<string, (request: http.IncomingMessage, response: http.ServerResponse) => void>>;

export async function startHttpServer(handler: ProxyHandler, options: { port: number; host: string; preflight?: Preflight; limits?: Partial<HttpServerLimits>; rawHandlers?: RawHandlers }): Promise<LocalHttpServer> {
  const limits = { ...defaultHttpServerLimits, ...options.limits };
  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: timeoutCheckIntervalMs,
  });
  server.keepAliveTimeout = Math.min(5_000, limits.idleTimeoutMs);
  server.setTimeout(limits.idleTimeoutMs, (socket: Socket) => socket.destroy());
  capConnections(server, limits);
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const raw = request.method === 'GET' ? options.rawHandlers?.[new URL(request.url ?? '/', 'http://localhost').pathname] : undefined;
    if (raw) {
      // A live stream (server-sent events) is long-lived by design: the idle cut-off is for requests, not streams.
      request.socket.setTimeout(0);
      raw(request, response);
      return;
    }
    void serve(handler, options.preflight, request, response);
  });
  return listen(server, options);
}

function holdIdleTimeoutWhileAnswering(request: http.IncomingMessage, response: http.ServerResponse): void {
  const socket = request.socket;
  const idleTimeoutMs = socket.timeout;
  if (!idleTimeoutMs) return;
  socket.setTimeout(0);
  response.once('finish', () => {
    if (!socket.destroyed) socket.setTimeout(idleTimeoutMs);
  });
}

async function serve(handler: ProxyHandler, preflight: Preflight | undefined, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]));
  let verdict: PreflightVerdict = {};
  try {
    if (overCap.has(request.socket)) verdict = { refusal: tooManyConnections };
    else verdict = preflight ? await preflight(request.method ?? 'GET', url.pathname, headers) : {};
  } catch (error) {
    verdict = { refusal: { statusCode: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'INTERNAL.UNEXPECTED', message: 'internal error' } }) } };
    console.error(JSON.stringify({ level: 'error', message: 'local HTTP preflight failed', error: String(error) }));
  }
  if ('refusal' in verdict) {
    // Answered from the headers: the body is never read, and the connection is closed behind the answer.
    response.setHeader('connection', 'close');
    response.on('finish', () => {
      request.socket.end();
      setTimeout(() => request.socket.destroy(), refusalLingerMs).unref();
    });
    writeResult(response, verdict.refusal);
    return;
  }
  const body = await readBody(request);
  if (body === undefined) return;
  // The idle cut-off is for a client that sends nothing (or nothing more); once its whole request is in, the time
  // the engine takes to answer (a busy database) is not the client's idleness. It is armed again for keep-alive.
  holdIdleTimeoutWhileAnswering(request, response);
  const event = {
    httpMethod: request.method ?? 'GET',
    path: url.pathname,
    resource: url.pathname,
    headers,
    multiValueHeaders: {},
    queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: { identity: { sourceIp: request.socket.remoteAddress ?? '' }, authorizer: verdict.principal === undefined ? null : { principal: verdict.principal } },
  } as unknown as APIGatewayProxyEvent;
  try {
    writeResult(response, await handler(event, localContext));
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', message: 'local HTTP adapter failed', error: String(error) }));
    writeResult(response, { statusCode: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'INTERNAL.UNEXPECTED', message: 'internal error' } }) });
  }
}

/** The body as text; past the limit, a stand-in just over it (the handler answers 413 from the size). Undefined when the client went away. */
function readBody(request: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Stop buffering early.
      if (size > requestBodyBytesMax) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? 'x'.repeat(requestBodyBytesMax + 1) : Buffer.concat(chunks).toString('utf8')));
    request.on('error', () => resolve(undefined));
    request.on('aborted', () => resolve(undefined));
  });
}

function writeResult(response: http.ServerResponse, result: APIGatewayProxyResult): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(result.statusCode, result.headers as http.OutgoingHttpHeaders);
  response.end(result.body);
}

/** Sockets over a cap: their request is answered 503 (with Retry-After) from the headers, and they are closed. */
const overCap = new WeakSet<Socket>();

/**
 * One client address may hold connectionsPerClientMax connections, everyone together connectionsMax. A connection
 * over a cap still gets a proper answer (503, Retry-After) rather than a reset; past twice the global cap Node
 * drops new connections outright (server.maxConnections), so refusing stays cheap.
 */
function capConnections(server: http.Server, limits: HttpServerLimits): void {
  const perClient = new Map<string, number>();
  let open = 0;
  server.maxConnections = limits.connectionsMax * 2;
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? 'unknown';
    const held = perClient.get(client) ?? 0;
    if (open >= limits.connectionsMax || held >= limits.connectionsPerClientMax) {
      overCap.add(socket);
      setTimeout(() => socket.destroy(), refusalLingerMs * 5).unref();
      return;
    }
    open++;
    perClient.set(client, held + 1);
    socket.once('close', () => {
      open--;
      const remaining = (perClient.get(client) ?? 1) - 1;
      if (remaining === 0) perClient.delete(client);
      else perClient.set(client, remaining);
    });
  });
}

const tooManyConnections: APIGatewayProxyResult = {
  statusCode: 503,
  headers: { 'content-type': 'application/json', 'retry-after': '1' },
  body: JSON.stringify({ error: { code: 'HTTP.TOO_MANY_CONNECTIONS', message: 'too many open connections; retry later' } }),
};
