/**
 * The REST side of the service interfaces against the running engine: account listings walked page by page,
 * Prometheus metrics that match the settlements run, and access control (401 / 429, nothing written).
 */
import { accountBalanceSamples } from '../../../lambdas/adapters/metrics/balances';
import { PrometheusMetrics } from '../../../lambdas/adapters/metrics/prometheus';
import { Money } from '../../../lambdas/domain/money';
import type { LocalEngine } from '../../../lambdas/local/engine';
import { http, newSettlementId, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { testAccess } from '../../support/grpc';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text';

const access = testAccess();
const auth = { authorization: `Bearer ${access.apiKey}` };
let engine: TestEngine;

beforeAll(async () => {
  let started: LocalEngine | undefined;
  const metrics = new PrometheusMetrics({ balances: async () => (started ? accountBalanceSamples(started.accounts) : []) });
  engine = await startTestEngine({ access, metrics, metricsText: async () => (await metrics.render()).body });
  started = engine;
  // More accounts than one page holds, across banks and currencies.
  const at = new Date().toISOString();
  for (const [index, bank] of ['AAAA', 'BBBB', 'CCCC', 'DDDD', 'EEEE', 'FFFF', 'GGGG'].entries()) {
    for (const currency of ['EUR', 'USD', 'CHF']) {
      await engine.accounts.open({ accountType: 'VOSTRO', bic: `${bank}DEFF`, currency, floor: new Money(0), openingBalance: new Money(1000 + index) }, at);
    }
  }
});

afterAll(async () => {
  await engine?.stop();
});

type AccountJson = { accountId: string; accountType: string; bic: string; currency: string; balance: string };

async function walk(path: string, query: Record<string, string>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const parameters = new URLSearchParams({ ...query, ...(cursor && { cursor }) });
    const response = await http(engine, 'GET', `${path}?${parameters}`, undefined, auth);
    expect(response.status).toBe(200);
    ids.push(...(response.json.items as AccountJson[]).map((account) => account.accountId));
    cursor = response.json.nextCursor;
    pages += 1;
    expect(pages).toBeLessThan(100);
  } while (cursor);
  return { ids, pages };
}

describe('GET /api/v1/accounts/{nostro,vostro}', () => {
  it('walks every account exactly once, page by page', async () => {
    for (const accountType of ['NOSTRO', 'VOSTRO'] as const) {
      const expected = (await engine.accounts.listAll(accountType)).map((account) => account.accountId).sort();
      const { ids, pages } = await walk(`/api/v1/accounts/${accountType.toLowerCase()}`, { limit: '4' });
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(expected);
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(expected.length / 4));
    }
  });

  it('filters by bank and by currency, still exactly once', async () => {
    const eur = await walk('/api/v1/accounts/vostro', { currency: 'EUR', limit: '3' });
    const expectedEur = (await engine.accounts.listAll('VOSTRO')).filter((account) => account.currency === 'EUR').map((account) => account.accountId);
    expect([...eur.ids].sort()).toEqual(expectedEur.sort());
    const bank = await walk('/api/v1/accounts/vostro', { bank: 'CCCCDEFF', limit: '2' });
    expect([...bank.ids].sort()).toEqual(['VOSTRO#CCCCDEFF#CHF', 'VOSTRO#CCCCDEFF#EUR', 'VOSTRO#CCCCDEFF#USD']);
    const one = await walk('/api/v1/accounts/vostro', { bank: 'CCCCDEFF', currency: 'USD' });
    expect(one.ids).toEqual(['VOSTRO#CCCCDEFF#USD']);
  });

  it('refuses a bad filter naming it', async () => {
    const response = await http(engine, 'GET', '/api/v1/accounts/vostro?bank=nope', undefined, auth);
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ code: 'VALIDATION.INVALID_FIELD', field: 'bank' });
  });
});

describe('access control over HTTP', () => {
  it('answers 401 without credentials, or with a wrong key, and writes nothing', async () => {
    const request = settlementRequest();
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { 'x-api-key': 'wrong' }] as Record<string, string>[]) {
      expect((await http(engine, 'POST', '/api/v1/settlements', request, headers)).status).toBe(401);
    }
    expect((await http(engine, 'GET', '/api/v1/accounts/nostro', undefined, {})).status).toBe(401);
    expect(await engine.deps.settlements.get(String(request.settlementId))).toBeUndefined();
  });

  it('serves /health without credentials, /metrics (every balance) only with them, and accepts x-api-key', async () => {
    expect((await http(engine, 'GET', '/health')).status).toBe(200);
    expect((await http(engine, 'GET', '/metrics')).status).toBe(401);
    expect((await http(engine, 'GET', '/metrics', undefined, auth)).status).toBe(200);
    expect((await http(engine, 'GET', '/api/v1/accounts/nostro', undefined, { 'x-api-key': access.apiKey })).status).toBe(200);
  });
});

describe('GET /metrics', () => {
  it('parses as Prometheus text and its counters match the settlements run', async () => {
    const completed = [120.5, 10, 0.99, 3000, 45.25].map((amount) => settlementRequest({ amount: amount.toFixed(2) }));
    const failed = [1, 2].map(() => settlementRequest({ amount: '999999999.00' }));
    for (const request of [...completed, ...failed]) expect((await http(engine, 'POST', '/api/v1/settlements', request, auth)).status).toBe(202);
    for (const request of completed) expect((await settled(engine, String(request.settlementId))).status).toBe('COMPLETED');
    for (const request of failed) expect((await settled(engine, String(request.settlementId))).status).toBe('FAILED');

    const response = await http(engine, 'GET', '/metrics', undefined, auth);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const exposition = parsePrometheusText(response.text);
    expect(sampleValue(exposition, 'settlement_total', { status: 'COMPLETED' })).toBe(5);
    expect(sampleValue(exposition, 'settlement_total', { status: 'FAILED' })).toBe(2);
    // Insufficient funds is a business decline, not a fault: the failure-ratio alarm counts outcome=FAILED only.
    expect(sampleValue(exposition, 'settlement_total', { status: 'FAILED', outcome: 'DECLINED' })).toBe(2);
    expect(sampleValue(exposition, 'settlement_total', { outcome: 'FAILED' })).toBe(0);
    expect(sampleValue(exposition, 'settlement_amount_total', { currency: 'EUR' })).toBeCloseTo(3176.74, 2);
    expect(sampleValue(exposition, 'settlement_duration_seconds_count')).toBe(7);
    expect(sampleValue(exposition, 'atomic_operations_total', { state: 'STARTED' })).toBe(7);
    expect(sampleValue(exposition, 'atomic_operations_total', { state: 'COMMITTED' })).toBe(5);
    expect(exposition.types.get('reconciliation_discrepancies_total')).toBe('counter');
    const vostro = (await engine.accounts.get('VOSTRO#DEUTDEFF#EUR'))!;
    expect(sampleValue(exposition, 'vostro_balance', { bank: 'DEUTDEFF', currency: 'EUR' })).toBe(Number(vostro.balance.toFixed()));
    const nostro = (await engine.accounts.get('NOSTRO#BNPAFRPP#EUR'))!;
    expect(sampleValue(exposition, 'nostro_balance', { bank: 'BNPAFRPP', currency: 'EUR' })).toBe(Number(nostro.balance.toFixed()));
    expect(exposition.types.has('process_resident_memory_bytes')).toBe(true);
  });
});

describe('rate limiting over HTTP', () => {
  let limited: TestEngine;
  const limitedAccess = testAccess({ rateLimit: { ratePerSecond: 0.01, burst: 3 } });

  beforeAll(async () => {
    limited = await startTestEngine({ access: limitedAccess, seed: false });
  });

  afterAll(async () => {
    await limited?.stop();
  });

  it('answers 429 beyond the client rate, and writes nothing', async () => {
    const headers = { authorization: `Bearer ${limitedAccess.apiKey}` };
    for (let call = 0; call < 3; call++) expect((await http(limited, 'GET', '/api/v1/accounts/vostro', undefined, headers)).status).toBe(200);
    const request = settlementRequest({ settlementId: newSettlementId('limited') });
    const response = await http(limited, 'POST', '/api/v1/settlements', request, headers);
    expect(response.status).toBe(429);
    expect(response.json.error.code).toBe('AUTH.RATE_LIMITED');
    expect(await limited.deps.settlements.get(String(request.settlementId))).toBeUndefined();
  });
});
