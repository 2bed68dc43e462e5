/**
 * Limits on clients, against a real engine with small limits: a slow client is cut off in seconds, a wrong key is
 * refused before the body is read, one client cannot take every connection or event stream, refusals say when to
 * retry, /metrics needs a key or its own address; and a bank's identity: an unknown bank or a second spelling of
 * one is refused at submission, named, with nothing written.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { parseApiKeys } from '../../../lambdas/adapters/auth/api-keys';
import { SettlementClient } from '../../../lambdas/adapters/grpc/client';
import { http, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';

const keys = { main: 'limits-main-key-0123456789abcdef', streams: 'limits-streams-key-0123456789abcd', other: 'limits-other-key-0123456789abcdef', burst: 'limits-burst-key-0123456789abcdef' };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
let engine: TestEngine;

beforeAll(async () => {
  engine = await startTestEngine({
    grpcPort: 0,
    access: {
      apiKeys: parseApiKeys(Object.entries(keys).map(([name, key]) => `${name}:${createHash('sha256').update(key).digest('hex')}`).join(',')),
      rateLimit: { ratePerSecond: 0.01, burst: 12 },
      grpcMessageBytesMax: 64 * 1024,
      httpBodyBytesMax: 64 * 1024,
    },
    httpLimits: { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, idleTimeoutMs: 1_500, connectionsPerClientMax: 6 },
    grpcStreamLimits: { activeStreamsPerClientMax: 2 },
    metricsText: async () => 'vostro_balance{bank="DEUTDEFF",currency="EUR"} 1\n',
    metricsAddress: { host: '127.0.0.1', port: 0 },
  });
});

afterAll(async () => {
  await engine?.stop();
});

/** Sends `payload`, then nothing; resolves with what came back when the server hung up (or 'open' at the cap). */
function untilHangUp(payload: string, capMs = 15_000): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const socket = net.connect(engine.httpPort!, '127.0.0.1', () => socket.write(payload));
    const cap = setTimeout(() => {
      socket.destroy();
      resolve('open');
    }, capMs);
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('close', () => {
      clearTimeout(cap);
      resolve(received === '' ? 'closed' : received.split('\r\n')[0]);
    });
    socket.on('error', () => undefined);
  });
}

describe('slow and greedy clients over HTTP', () => {
  it('hangs up on a client whose headers or body never finish, within the configured seconds', async () => {
    const [headers, body] = await Promise.all([
      untilHangUp('GET /health HTTP/1.1\r\nHost: x\r\n'),
      untilHangUp(`POST /api/v1/settlements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${keys.main}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"a":`),
    ]);
    expect(headers).not.toBe('open');
    expect(body).not.toBe('open');
  });

  it('refuses a wrong key from the headers, before the body has arrived', async () => {
    const answer = await untilHangUp(`POST /api/v1/settlements HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"settlementId":`);
    expect(answer).toBe('HTTP/1.1 401 Unauthorized');
  });

  it('answers 503 with Retry-After to connections past the per-client cap', async () => {
    const sockets = await Promise.all(Array.from({ length: 6 }, () => new Promise<net.Socket>((resolve) => {
      const socket = net.connect(engine.httpPort!, '127.0.0.1', () => resolve(socket));
      socket.on('error', () => undefined);
    })));
    try {
      const response = await http(engine, 'GET', '/health');
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  it('says when to retry on 429', async () => {
    const answers = [];
    for (let index = 0; index < 15; index++) answers.push(await http(engine, 'GET', '/api/v1/settlements/burst-probe', undefined, bearer(keys.burst)));
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const answer of limited) expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('serves /metrics only on its own address when one is configured; the REST port has none', async () => {
    expect((await http(engine, 'GET', '/metrics', undefined, bearer(keys.main))).status).toBe(404);
    const response = await fetch(`http://127.0.0.1:${engine.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('vostro_balance');
  });
});

describe('event streams per client', () => {
  it('caps one client\'s concurrent streams and tells it when to retry, while another client still gets one', async () => {
    const greedy = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey: keys.streams });
    const other = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey: keys.other });
    const outcome = (stream: grpc.ClientReadableStream<unknown>) =>
      new Promise<grpc.ServiceError | 'open'>((resolve) => {
        stream.on('error', (error: grpc.ServiceError) => resolve(error));
        stream.on('data', () => undefined);
        setTimeout(() => resolve('open'), 1_500);
      });
    const streams = [greedy.streamEvents({}), greedy.streamEvents({}), greedy.streamEvents({})];
    try {
      const outcomes = await Promise.all(streams.map(outcome));
      const refused = outcomes.filter((result): result is grpc.ServiceError => result !== 'open');
      expect(refused).toHaveLength(1);
      expect(refused[0].code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(Number(refused[0].metadata.get('grpc-retry-pushback-ms')[0])).toBeGreaterThan(0);
      const otherStream = other.streamEvents({});
      expect(await outcome(otherStream)).toBe('open');
      otherStream.cancel();
    } finally {
      for (const stream of streams) stream.cancel();
      greedy.close();
      other.close();
    }
  });
});

describe('one identity per bank', () => {
  it('refuses a payer the registry does not know, and a payee that is the payer spelled with XXX, writing nothing', async () => {
    for (const [overrides, field] of [
      [{ payerBic: 'ZZZZDEFF' }, 'payerBic'],
      [{ payeeBic: 'QQQQFRPP' }, 'payeeBic'],
      [{ payeeBic: 'DEUTDEFFXXX' }, 'payeeBic'],
    ] as const) {
      const request = settlementRequest(overrides);
      const response = await http(engine, 'POST', '/api/v1/settlements', request, bearer(keys.main));
      expect({ overrides, status: response.status, field: response.json?.error?.field }).toEqual({ overrides, status: 400, field });
      expect(await engine.deps.settlements.get(String(request.settlementId))).toBeUndefined();
    }
  });

  it('treats DEUTDEFFXXX as DEUTDEFF: no second bank, and its accounts are the same accounts', async () => {
    const again = await http(engine, 'POST', '/api/v1/banks', { bic: 'DEUTDEFFXXX', name: 'Deutsche Bank (second spelling)', country: 'DE' }, bearer(keys.main));
    expect(again.status).toBe(409);
    const account = await http(engine, 'GET', `/api/v1/accounts/${encodeURIComponent('VOSTRO#DEUTDEFFXXX#EUR')}`, undefined, bearer(keys.main));
    expect(account.json?.accountId).toBe('VOSTRO#DEUTDEFF#EUR');
  });
});
