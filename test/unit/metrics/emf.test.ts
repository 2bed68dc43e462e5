import { EmfMetrics, dimensionSetsBufferedMax, flushPeriodically } from '../../../lambdas/adapters/metrics/emf';
import { publishAccountBalances } from '../../../lambdas/adapters/metrics/balances';

interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

function captureStdout(): { lines: () => EmfDocument[]; restore: () => void } {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(chunk.toString());
    return true;
  });
  return {
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as EmfDocument),
    restore: () => spy.mockRestore(),
  };
}

describe('EmfMetrics', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    delete process.env.POWERTOOLS_DEV;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_METRICS_NAMESPACE;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('buffers until flush, then writes one EMF document per dimension set with the seed names', async () => {
    const stdout = captureStdout();
    try {
      const metrics = new EmfMetrics();
      metrics.settlementEnded({ status: 'COMPLETED', currency: 'EUR', amount: '1250.00', durationSeconds: 0.2 });
      metrics.settlementEnded({ status: 'COMPLETED', currency: 'EUR', amount: '10.00', durationSeconds: 0.3 });
      metrics.atomicOperation('COMMITTED');
      metrics.reconciliationDiscrepancies(2);
      metrics.accountBalance({ accountType: 'NOSTRO', bic: 'DEUTDEFF', currency: 'EUR', balance: '1000.00' });
      expect(stdout.lines()).toHaveLength(0);

      await metrics.flush();
      const documents = stdout.lines();
      const find = (name: string) => documents.find((document) => document._aws.CloudWatchMetrics[0].Metrics.some((metric) => metric.Name === name));

      expect(documents.every((document) => document._aws.CloudWatchMetrics[0].Namespace === 'SettlementEngine')).toBe(true);
      const total = find('settlement_total')!;
      expect(total.status).toBe('COMPLETED');
      expect(total.settlement_total).toEqual([1, 1]);
      expect(total._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['status', 'service']));
      expect(find('settlement_amount_total')!.currency).toBe('EUR');
      expect(find('settlement_amount_total')!.settlement_amount_total).toEqual([1250, 10]);
      expect(find('settlement_duration_seconds')!._aws.CloudWatchMetrics[0].Metrics[0].Unit).toBe('Seconds');
      expect(find('atomic_operations_total')!.state).toBe('COMMITTED');
      expect(find('reconciliation_discrepancies_total')!.reconciliation_discrepancies_total).toBe(2);
      const nostro = find('nostro_balance')!;
      expect([nostro.bank, nostro.currency, nostro.nostro_balance]).toEqual(['DEUTDEFF', 'EUR', 1000]);
      expect(nostro._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['bank', 'currency']));

      await metrics.flush();
      expect(stdout.lines()).toHaveLength(documents.length); // nothing left to publish, no warning either
    } finally {
      stdout.restore();
    }
  });

  it('counts settlements by outcome too, so a decline (insufficient funds) is not a failure', async () => {
    const stdout = captureStdout();
    try {
      const metrics = new EmfMetrics();
      metrics.settlementEnded({ status: 'COMPLETED', currency: 'EUR', amount: '1.00', durationSeconds: 1 });
      metrics.settlementEnded({ status: 'FAILED', currency: 'EUR', amount: '1.00', durationSeconds: 1, reasonCode: 'SETTLEMENT.INSUFFICIENT_FUNDS' });
      metrics.settlementEnded({ status: 'FAILED', currency: 'EUR', amount: '1.00', durationSeconds: 1, reasonCode: 'BANK.REJECTED' });
      metrics.settlementEnded({ status: 'FAILED', currency: 'EUR', amount: '1.00', durationSeconds: 1, reasonCode: 'STORE.UNAVAILABLE' });
      metrics.settlementEnded({ status: 'FAILED', currency: 'EUR', amount: '1.00', durationSeconds: 1 });
      await metrics.flush();
      const byOutcome = Object.fromEntries(
        stdout
          .lines()
          .filter((document) => document.outcome !== undefined)
          .map((document) => [document.outcome, document.settlement_total]),
      );
      expect(byOutcome).toEqual({ COMPLETED: 1, DECLINED: [1, 1], FAILED: [1, 1] });
    } finally {
      stdout.restore();
    }
  });

  it('takes its namespace from POWERTOOLS_METRICS_NAMESPACE', async () => {
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'DelTranTest';
    const stdout = captureStdout();
    try {
      const metrics = new EmfMetrics();
      metrics.atomicOperation('STARTED');
      await metrics.flush();
      expect(metrics.namespace).toBe('DelTranTest');
      expect(stdout.lines()[0]._aws.CloudWatchMetrics[0].Namespace).toBe('DelTranTest');
    } finally {
      stdout.restore();
    }
  });

  it('publishes the oldest buffer early rather than growing without bound', async () => {
    const stdout = captureStdout();
    try {
      const metrics = new EmfMetrics();
      for (let index = 0; index <= dimensionSetsBufferedMax; index += 1) metrics.atomicOperation(`STATE_${index}`);
      expect(stdout.lines()).toHaveLength(1);
      expect(stdout.lines()[0].state).toBe('STATE_0');
      await metrics.flush();
      expect(stdout.lines()).toHaveLength(dimensionSetsBufferedMax + 1);
    } finally {
      stdout.restore();
    }
  });
});

describe('flushPeriodically (the gRPC task on Fargate)', () => {
  afterEach(() => jest.useRealTimers());

  it('publishes every interval and once more on stop, then no more', async () => {
    jest.useFakeTimers();
    const flush = jest.fn(async () => undefined);
    const periodic = flushPeriodically({ flush }, 1_000);
    expect(flush).not.toHaveBeenCalled();
    jest.advanceTimersByTime(3_000);
    expect(flush).toHaveBeenCalledTimes(3);
    await periodic.stop();
    expect(flush).toHaveBeenCalledTimes(4);
    jest.advanceTimersByTime(5_000);
    expect(flush).toHaveBeenCalledTimes(4);
  });
});

describe('publishAccountBalances (the publishBalances job)', () => {
  it('sets a gauge per account, nostro and vostro, from the listing', async () => {
    const account = (bic: string, balance: string) => ({ bic, currency: 'EUR', balance: { toFixed: () => balance } });
    const list = jest.fn(async ({ accountType }: { accountType: 'NOSTRO' | 'VOSTRO' }) => ({
      items: accountType === 'NOSTRO' ? [account('DEUTDEFF', '100.00'), account('BNPAFRPP', '5.50')] : [account('COBADEFF', '42.00')],
    }));
    const accountBalance = jest.fn();
    const published = await publishAccountBalances({ list } as never, { accountBalance });
    expect(published).toBe(3);
    expect(accountBalance.mock.calls.map(([sample]) => sample)).toEqual([
      { accountType: 'NOSTRO', bic: 'DEUTDEFF', currency: 'EUR', balance: '100.00' },
      { accountType: 'NOSTRO', bic: 'BNPAFRPP', currency: 'EUR', balance: '5.50' },
      { accountType: 'VOSTRO', bic: 'COBADEFF', currency: 'EUR', balance: '42.00' },
    ]);
  });
});
