/**
 * waitForSettlement (ExecuteSettlement's and the REST wait's poll of the record): soon at first, since a fast-path
 * settlement ends within tens of milliseconds, then less and less often, so that many callers waiting on slow
 * confirmations do not flood the store.
 */
import { waitForSettlement, waitPollIntervalMaxMs, waitPollIntervalMs } from '../../../lambdas/usecases/settlements';
import type { SettlementRecord } from '../../../lambdas/ports/stores';

describe('waitForSettlement', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('reads soon, then half again later each time up to every 250 ms, so two seconds of waiting cost a dozen reads, not eighty', async () => {
    const readAtMs: number[] = [];
    const settlements = {
      get: async () => {
        readAtMs.push(Date.now());
        return { settlementId: 'stl-wait-1', status: Date.now() >= 2_000 ? 'COMPLETED' : 'TRANSFER_INITIATED', parked: false } as unknown as SettlementRecord;
      },
      // The view of the ended settlement is not what this test is about.
      history: async () => undefined,
    };
    const waited = waitForSettlement({ settlements } as never, 'stl-wait-1', 10_000).catch((error: Error) => error.name);
    await jest.advanceTimersByTimeAsync(3_000);

    expect(await waited).toBe('SettlementNotFoundError');
    expect(readAtMs.slice(0, 3)).toEqual([0, waitPollIntervalMs, waitPollIntervalMs + Math.ceil(waitPollIntervalMs * 1.5)]);
    const gaps = readAtMs.slice(1).map((at, index) => at - readAtMs[index]);
    expect(Math.max(...gaps)).toBe(waitPollIntervalMaxMs);
    expect(readAtMs.length).toBeLessThanOrEqual(16);
    expect(readAtMs.at(-1)).toBeGreaterThanOrEqual(2_000);
  });
});
