/**
 * `npx tsx bench/hostile-client.ts`: one probe per class of hostile input in issue #15, against a real local engine
 * started here (DynamoDB Local, REST and gRPC on free ports, API keys, the default rate limit), printing what the
 * engine answered. Used to measure the edges before and after hardening; every probe is a plain client (fetch,
 * raw sockets, @grpc/grpc-js), nothing reaches into the engine.
 *
 * HOSTILE_SLOW_CAP_SECONDS (default 20) caps how long a slow-client probe waits for the server to hang up.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { parseApiKeys } from '../lambdas/adapters/auth/api-keys';
import { SettlementClient } from '../lambdas/adapters/grpc/client';
import { settlementServiceName } from '../lambdas/adapters/grpc/proto';
import { startLocalEngine, type LocalEngine } from '../lambdas/local/engine';
import { PrometheusMetrics } from '../lambdas/adapters/metrics/prometheus';
import { accountBalanceSamples } from '../lambdas/adapters/metrics/balances';

const slowCapSeconds = Number(process.env.HOSTILE_SLOW_CAP_SECONDS ?? 20);
const keys = { main: 'hostile-main-key-0123456789abcdef', flood: 'hostile-flood-key-0123456789abcdef', other: 'hostile-other-key-0123456789abcdef', greedy: 'hostile-greedy-key-0123456789abcdef' };
const digest = (key: string) => createHash('sha256').update(key).digest('hex');
const today = new Date().toISOString().slice(0, 10);

interface Finding {
  readonly probe: string;
  readonly answer: string;
  /** True when the answer is what a hardened edge gives. */
  readonly hardened: boolean;
}

let sequence = 0;
const id = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++sequence}`;
const request = (overrides: Record<string, unknown> = {}) => ({
  settlementId: id('hostile'),
  payerBic: 'DEUTDEFF',
  payeeBic: 'BNPAFRPP',
  amount: '10.00',
  currency: 'EUR',
  rail: 'SEPA',
  kind: 'DOMESTIC',
  valueDate: today,
  reference: 'hostile probe',
  ...overrides,
});

async function rest(engine: LocalEngine, method: string, path: string, body?: string, key: string | null = keys.main) {
  const response = await fetchOrReset(`${engine.httpUrl}${path}`, {
    method,
    headers: { ...(key !== null && { authorization: `Bearer ${key}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body }),
  });
  const text = await response.text();
  let field: string | undefined;
  try {
    field = (JSON.parse(text) as { error?: { field?: string } }).error?.field;
  } catch {
    field = undefined;
  }
  return { status: response.status, field, text, headers: response.headers };
}

/** A connection the server reset counts as status 0 (a client sees no answer at all). */
async function fetchOrReset(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return new Response('', { status: 599 });
  }
}

const describeRest = (answer: { status: number; field?: string }) => `HTTP ${answer.status}${answer.field ? ` field=${answer.field}` : ''}`;

function grpcError(error: unknown): { code: number; field?: string; errorCode?: string; text: string; metadata?: grpc.Metadata } {
  const serviceError = error as grpc.ServiceError;
  const field = serviceError.metadata?.get('error-field')[0];
  const errorCode = serviceError.metadata?.get('error-code')[0];
  return { code: serviceError.code, field: field === undefined ? undefined : String(field), errorCode: errorCode === undefined ? undefined : String(errorCode), text: `gRPC ${grpc.status[serviceError.code]}${field ? ` field=${String(field)}` : ''}${errorCode ? ` code=${String(errorCode)}` : ''}`, metadata: serviceError.metadata };
}

async function grpcCall(client: SettlementClient, method: Parameters<SettlementClient['call']>[0], message: Record<string, unknown>) {
  try {
    await client.call(method, message, { deadlineMs: 10_000 });
    return { code: grpc.status.OK, text: 'gRPC OK (accepted)' } as ReturnType<typeof grpcError>;
  } catch (error) {
    return grpcError(error);
  }
}

/** Seconds until the server hangs up on a client that sends `payload` and then nothing (capped). */
function secondsUntilHangUp(port: number, payload: string): Promise<{ seconds: number; closed: boolean; response: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let response = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload));
    const finish = (closed: boolean) => {
      clearTimeout(cap);
      socket.destroy();
      resolve({ seconds: Math.round((Date.now() - started) / 100) / 10, closed, response: response.split('\r\n')[0] ?? '' });
    };
    const cap = setTimeout(() => finish(false), slowCapSeconds * 1000);
    socket.on('data', (chunk) => (response += chunk.toString('utf8')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
  });
}

/** Whether the server answers a request whose body has not finished arriving (it did not wait for the body). */
function answersBeforeBody(port: number, key: string): Promise<string> {
  return new Promise((resolve) => {
    let response = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`POST /api/v1/settlements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"settlementId":`);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no answer within 3 s: the server waits for the whole body before checking the key');
    }, 3_000);
    socket.on('data', (chunk) => {
      response += chunk.toString('utf8');
      clearTimeout(timer);
      socket.destroy();
      resolve(`answered before the body: ${response.split('\r\n')[0]}`);
    });
    socket.on('error', () => undefined);
  });
}

async function main(): Promise<void> {
  const access = {
    apiKeys: parseApiKeys(Object.entries(keys).map(([name, key]) => `${name}:${digest(key)}`).join(',')),
    // A low rate so that a flood from one client runs into its limit within the probe.
    rateLimit: { ratePerSecond: 5, burst: 300 },
    grpcMessageBytesMax: 64 * 1024,
    httpBodyBytesMax: 64 * 1024,
  };
  let started: LocalEngine | undefined;
  const metrics = new PrometheusMetrics({ balances: async () => (started ? accountBalanceSamples(started.accounts) : []) });
  const engine = await startLocalEngine({ httpPort: 0, grpcPort: 0, access, metrics, metricsText: async () => (await metrics.render()).body, jobs: false, sqs: false, tablePrefix: `hostile${Date.now().toString(36)}-` });
  started = engine;
  const client = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey: keys.main });
  const findings: Finding[] = [];
  const note = (probe: string, answer: string, hardened: boolean) => {
    findings.push({ probe, answer, hardened });
    console.log(`${hardened ? 'ok  ' : 'OPEN'}  ${probe}: ${answer}`);
  };
  try {
    // ---- input that changes what settles ----
    const duplicate = JSON.stringify(request()).replace('"amount":"10.00"', '"amount":"10.00","amount":"9999.00"');
    const dup = await rest(engine, 'POST', '/api/v1/settlements', duplicate);
    note('duplicate JSON key (amount twice)', describeRest(dup), dup.status === 400 && dup.field === 'amount');
    for (const valueDate of ['1999-01-04', '2099-12-31']) {
      const answer = await rest(engine, 'POST', '/api/v1/settlements', JSON.stringify(request({ valueDate })));
      note(`value date ${valueDate}`, describeRest(answer), answer.status === 400 && answer.field === 'valueDate');
    }
    // ---- identifiers without limits ----
    const long = 'x'.repeat(3_000);
    for (const path of [`/api/v1/settlements/${long}`, `/api/v1/accounts/${long}`, `/api/v1/reconciliations/${long}`, `/api/v1/banks/${long}`, `/api/v1/settlements/${long}/requeue`]) {
      const answer = await rest(engine, path.endsWith('requeue') ? 'POST' : 'GET', path, path.endsWith('requeue') ? '{}' : undefined);
      note(`3,000-char id in ${path.replace(long, '{id}')}`, describeRest(answer), answer.status === 400);
    }
    const longGrpc = await grpcCall(client, 'GetSettlementStatus', { settlement_id: long });
    note('3,000-char settlement_id, gRPC GetSettlementStatus', longGrpc.text, longGrpc.code === grpc.status.INVALID_ARGUMENT && longGrpc.field === 'settlement_id');
    const longStream = await new Promise<string>((resolve) => {
      const stream = client.streamEvents({ settlement_id: `${'a'.repeat(60)}\u0000` });
      stream.on('error', (error) => resolve(grpcError(error).text));
      stream.on('data', () => undefined);
      setTimeout(() => {
        stream.cancel();
        resolve('stream accepted');
      }, 1_500);
    });
    note('NUL in settlement_id, gRPC StreamSettlementEvents', longStream, /INVALID_ARGUMENT/.test(longStream));
    // ---- calendar and enum leniency ----
    const now = new Date();
    const feb30 = await rest(engine, 'POST', '/api/v1/reconciliations', JSON.stringify({ accountId: 'NOSTRO#BNPAFRPP#EUR', from: '2026-02-30T00:00:00Z', to: '2026-03-05T00:00:00Z' }));
    note('reconciliation from 2026-02-30', describeRest(feb30), feb30.status === 400 && feb30.field === 'from');
    const auditDay = await rest(engine, 'GET', '/api/v1/audit?day=2026-02-31');
    note('audit day=2026-02-31', describeRest(auditDay), auditDay.status === 400 && auditDay.field === 'day');
    const badPeriod = await rest(engine, 'POST', '/api/v1/reconciliations', JSON.stringify({ accountId: 'NOSTRO#BNPAFRPP#EUR', from: 'yesterday', to: now.toISOString() }));
    note('reconciliation from="yesterday"', describeRest(badPeriod), badPeriod.status === 400 && badPeriod.field === 'from');
    const seconds = Math.floor(now.getTime() / 1000);
    const reversed = await grpcCall(client, 'ReconcileAccounts', { period_start: { seconds: seconds - 60, nanos: 0 }, period_end: { seconds: seconds - 3_600, nanos: 0 } });
    note('gRPC ReconcileAccounts period_end before period_start', reversed.text, reversed.code === grpc.status.INVALID_ARGUMENT && reversed.field === 'period_end');
    const unknownEnum = await grpcCall(client, 'ReconcileAccounts', { account_type: 99, bic: 'ZZZZDEFF' });
    note('gRPC ReconcileAccounts account_type=99', unknownEnum.text, unknownEnum.code === grpc.status.INVALID_ARGUMENT && unknownEnum.field === 'account_type');
    const unknownRail = await grpcCall(client, 'ExecuteSettlement', { ...snake(request()), rail: 99 });
    note('gRPC ExecuteSettlement rail=99', unknownRail.text, unknownRail.code === grpc.status.INVALID_ARGUMENT && unknownRail.field === 'rail');
    for (const [label, bytes] of [
      ['truncated varint', Buffer.from([0x0a, 0xff])],
      ['length past the end', Buffer.from([0x0a, 0x05, 0x61])],
      ['varint of 11 bytes', Buffer.from([0x50, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ] as const) {
      const answer = await rawGrpc(engine.grpcPort!, 'ExecuteSettlement', bytes, keys.main);
      note(`undecodable protobuf (${label})`, answer.text, answer.code === grpc.status.INVALID_ARGUMENT && answer.errorCode === 'VALIDATION.INVALID_FIELD');
    }
    // ---- same institution, two spellings; control characters ----
    const spelled = await rest(engine, 'POST', '/api/v1/settlements', JSON.stringify(request({ payeeBic: 'DEUTDEFFXXX' })));
    note('payer DEUTDEFF, payee DEUTDEFFXXX', describeRest(spelled), spelled.status === 400 && spelled.field === 'payeeBic');
    const second = await rest(engine, 'POST', '/api/v1/banks', JSON.stringify({ bic: 'DEUTDEFFXXX', name: 'Deutsche Bank (again)', country: 'DE' }));
    note('register DEUTDEFFXXX beside DEUTDEFF', describeRest(second), second.status === 409 || (second.status === 400 && second.field === 'bic'));
    const nul = await rest(engine, 'POST', '/api/v1/banks', JSON.stringify({ bic: 'NULLDEFF', name: 'Null\u0000Bank', country: 'DE' }));
    note('NUL in a bank name', describeRest(nul), nul.status === 400 && nul.field === 'name');
    const unknownBank = await rest(engine, 'POST', '/api/v1/settlements', JSON.stringify(request({ payerBic: 'ZZZZDEFF' })));
    note('payer bank unknown to the registry', describeRest(unknownBank), unknownBank.status === 400 && unknownBank.field === 'payerBic');
    // ---- slow and greedy clients ----
    const port = engine.httpPort!;
    const [headers, body] = await Promise.all([
      secondsUntilHangUp(port, 'GET /health HTTP/1.1\r\nHost: x\r\n'),
      secondsUntilHangUp(port, `POST /api/v1/settlements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${keys.main}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"a":`),
    ]);
    note('partial headers, then silence', headers.closed ? `closed after ${headers.seconds} s` : `still open after ${slowCapSeconds} s`, headers.closed && headers.seconds <= 15);
    note('partial body, then silence', body.closed ? `closed after ${body.seconds} s (${body.response || 'no response'})` : `still open after ${slowCapSeconds} s`, body.closed && body.seconds <= 35);
    const early = await answersBeforeBody(port, 'not-a-valid-key');
    note('wrong key with a body that never finishes', early, early.startsWith('answered'));
    const metricsAnswer = await rest(engine, 'GET', '/metrics', undefined, null);
    note('GET /metrics without a key', `HTTP ${metricsAnswer.status}${/vostro_balance\{/.test(metricsAnswer.text) ? ' with every vostro balance' : ''}`, metricsAnswer.status === 401 || metricsAnswer.status === 404);
    // Floods: one client past its burst.
    // 32 connections (within the per-client connection cap) sending 1,200 requests as fast as answers come.
    const floodAnswers: Awaited<ReturnType<typeof rest>>[] = [];
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (floodAnswers.length < 1_200) floodAnswers.push(await rest(engine, 'GET', '/api/v1/settlements/flood%20probe', undefined, keys.flood));
    }));
    const limited = floodAnswers.filter((answer) => answer.status === 429);
    const withRetryAfter = limited.filter((answer) => /^\d+$/.test(answer.headers.get('retry-after') ?? ''));
    note('REST flood (1,200 over 32 connections, burst 300)', `${limited.length} × 429, ${withRetryAfter.length} with Retry-After; ${floodAnswers.filter((answer) => answer.status === 503).length} × 503 (connection cap), ${floodAnswers.filter((answer) => answer.status === 503 && answer.headers.get('retry-after')).length} with Retry-After; ${floodAnswers.filter((answer) => answer.status === 599).length} reset; statuses: ${[...new Set(floodAnswers.map((answer) => answer.status))].join(',')}`, limited.length > 0 && withRetryAfter.length === limited.length && floodAnswers.every((answer) => answer.status !== 599 && (answer.status < 500 || answer.headers.get('retry-after') !== null)));
    const floodClient = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey: keys.flood });
    const grpcFlood = await Promise.all(Array.from({ length: 600 }, () => grpcCall(floodClient, 'GetSettlementStatus', { settlement_id: 'flood-probe' })));
    const exhausted = grpcFlood.filter((answer) => answer.code === grpc.status.RESOURCE_EXHAUSTED);
    const pushback = exhausted.filter((answer) => answer.metadata?.get('grpc-retry-pushback-ms')[0] !== undefined);
    note('gRPC flood (same client, bucket empty)', `${exhausted.length} × RESOURCE_EXHAUSTED, ${pushback.length} with grpc-retry-pushback-ms`, exhausted.length > 0 && pushback.length === exhausted.length);
    floodClient.close();
    // One client opens streams up to the global cap; can another client still get one?
    const greedy = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey: keys.greedy });
    const streams = Array.from({ length: 256 }, () => greedy.streamEvents({}));
    const greedyRefused = streams.map((stream) => new Promise<boolean>((resolve) => {
      stream.on('error', () => resolve(true));
      stream.on('data', () => undefined);
      setTimeout(() => resolve(false), 8_000);
    }));
    const refusedCount = (await Promise.all(greedyRefused)).filter(Boolean).length;
    const otherClient = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey: keys.other });
    const other = await new Promise<string>((resolve) => {
      const stream = otherClient.streamEvents({});
      stream.on('error', (error) => resolve(grpcError(error).text));
      stream.on('data', () => undefined);
      setTimeout(() => {
        stream.cancel();
        resolve('admitted');
      }, 1_500);
    });
    note('one client opens 256 event streams', `${256 - refusedCount} of its streams admitted; another client then: ${other}`, other === 'admitted');
    for (const stream of streams) stream.cancel();
    greedy.close();
    otherClient.close();
  } finally {
    client.close();
    await engine.stop(1_000);
  }
  const open = findings.filter((finding) => !finding.hardened);
  console.log(`\n${findings.length} probes, ${findings.length - open.length} hardened, ${open.length} open`);
}

function snake(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), key === 'rail' ? `RAIL_${String(value)}` : key === 'kind' ? `SETTLEMENT_KIND_${String(value)}` : value]));
}

/** A unary call whose request bytes are sent as given (no serializer in the way). */
export function rawGrpc(port: number, method: string, bytes: Buffer, key: string, reuse?: grpc.Client): Promise<ReturnType<typeof grpcError>> {
  const client = reuse ?? new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${key}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${settlementServiceName}/${method}`, (value: Buffer) => value, (value: Buffer) => value, bytes, metadata, { deadline: Date.now() + 10_000 }, (error) => {
      if (reuse === undefined) client.close();
      resolve(error ? grpcError(error) : { code: grpc.status.OK, text: 'gRPC OK (accepted)' });
    });
  });
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
