import { PrometheusMetrics, settlementDurationBucketsSeconds } from '../../../lambdas/adapters/metrics/prometheus';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text';

describe('PrometheusMetrics', () => {
  it('renders the seed metric names as parseable Prometheus text with the recorded counts', async () => {
    const metrics = new PrometheusMetrics();
    metrics.settlementEnded({ status: 'COMPLETED', currency: 'EUR', amount: '1250.00', durationSeconds: 0.2 });
    metrics.settlementEnded({ status: 'COMPLETED', currency: 'EUR', amount: '0.50', durationSeconds: 3 });
    metrics.settlementEnded({ status: 'FAILED', currency: 'USD', amount: '99.99', durationSeconds: 0.05 });
    metrics.atomicOperation('STARTED');
    metrics.atomicOperation('STARTED');
    metrics.atomicOperation('COMMITTED');
    metrics.reconciliationDiscrepancies(3);
    metrics.reconciliationDiscrepancies(0);
    metrics.accountBalance({ accountType: 'NOSTRO', bic: 'DEUTDEFF', currency: 'EUR', balance: '1000000.00' });
    metrics.accountBalance({ accountType: 'VOSTRO', bic: 'BNPAFRPP', currency: 'EUR', balance: '250.25' });
    metrics.accountBalance({ accountType: 'VOSTRO', bic: 'BNPAFRPP', currency: 'EUR', balance: '200.25' });

    const { contentType, body } = await metrics.render();
    const exposition = parsePrometheusText(body);

    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(exposition.types.get('settlement_total')).toBe('counter');
    expect(exposition.types.get('settlement_duration_seconds')).toBe('histogram');
    expect(exposition.types.get('nostro_balance')).toBe('gauge');
    expect(sampleValue(exposition, 'settlement_total', { status: 'COMPLETED' })).toBe(2);
    expect(sampleValue(exposition, 'settlement_total', { status: 'FAILED' })).toBe(1);
    expect(sampleValue(exposition, 'settlement_amount_total', { currency: 'EUR' })).toBeCloseTo(1250.5, 6);
    expect(sampleValue(exposition, 'settlement_amount_total', { currency: 'USD' })).toBe(0); // failed: nothing moved
    expect(sampleValue(exposition, 'settlement_duration_seconds_count')).toBe(3);
    expect(sampleValue(exposition, 'settlement_duration_seconds_bucket', { le: '0.25' })).toBe(2);
    expect(sampleValue(exposition, 'settlement_duration_seconds_bucket', { le: '+Inf' })).toBe(3);
    expect(sampleValue(exposition, 'atomic_operations_total', { state: 'STARTED' })).toBe(2);
    expect(sampleValue(exposition, 'reconciliation_discrepancies_total')).toBe(3);
    expect(sampleValue(exposition, 'nostro_balance', { bank: 'DEUTDEFF', currency: 'EUR' })).toBe(1000000);
    expect(sampleValue(exposition, 'vostro_balance', { bank: 'BNPAFRPP', currency: 'EUR' })).toBe(200.25);
    expect(exposition.types.has('process_cpu_seconds_total')).toBe(true);
  });

  it('keeps each instance in its own registry', async () => {
    const first = new PrometheusMetrics({ collectProcessMetrics: false });
    const second = new PrometheusMetrics({ collectProcessMetrics: false });
    first.atomicOperation('STARTED');
    expect(sampleValue(parsePrometheusText((await second.render()).body), 'atomic_operations_total')).toBe(0);
    expect(sampleValue(parsePrometheusText((await first.render()).body), 'atomic_operations_total')).toBe(1);
  });

  it('drops a malformed amount instead of throwing into the caller', async () => {
    const metrics = new PrometheusMetrics({ collectProcessMetrics: false });
    expect(() => metrics.settlementEnded({ status: 'COMPLETED', currency: 'EUR', amount: 'not-a-number', durationSeconds: Number.NaN })).not.toThrow();
    const exposition = parsePrometheusText((await metrics.render()).body);
    expect(sampleValue(exposition, 'settlement_total', { status: 'COMPLETED' })).toBe(1);
    expect(sampleValue(exposition, 'settlement_duration_seconds_count')).toBe(0);
  });

  it('has buckets around the seed latency targets', () => {
    expect(settlementDurationBucketsSeconds).toEqual(expect.arrayContaining([5, 30]));
  });
});

describe('PrometheusMetrics with a balance source', () => {
  it('reads the balances at each scrape and drops accounts that are gone', async () => {
    let samples = [
      { accountType: 'NOSTRO' as const, bic: 'DEUTDEFF', currency: 'EUR', balance: '10.00' },
      { accountType: 'VOSTRO' as const, bic: 'BNPAFRPP', currency: 'EUR', balance: '20.00' },
    ];
    const metrics = new PrometheusMetrics({ collectProcessMetrics: false, balances: async () => samples });
    let exposition = parsePrometheusText((await metrics.render()).body);
    expect(sampleValue(exposition, 'vostro_balance', { bank: 'BNPAFRPP' })).toBe(20);
    samples = [samples[0]];
    exposition = parsePrometheusText((await metrics.render()).body);
    expect(exposition.samples.filter((sample) => sample.name === 'vostro_balance')).toHaveLength(0);
    expect(sampleValue(exposition, 'nostro_balance', { bank: 'DEUTDEFF', currency: 'EUR' })).toBe(10);
  });
});
