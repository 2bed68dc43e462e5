/**
 * The pieces of the recovery module that need no database: job settings from the environment, execution names
 * per attempt and resume, and the local scheduler's rules (runs of a job never overlap; a failed run does not
 * stop its timer).
 */
import type { Context } from 'aws-lambda';
import { executionName } from '../../../lambdas/adapters/sfn/step-functions-workflow';
import { jobSettingsFromEnvironment, type JobHandlers } from '../../../lambdas/handlers/job-handlers';
import { forEachBounded, recoveryLimits } from '../../../lambdas/usecases/recovery/limits';
import { jobIntervalsFromEnvironment, localJobsFromEnvironment, startLocalScheduler } from '../../../lambdas/local/scheduler';

describe('job settings', () => {
  it('default to the documented values and refuse nonsense', () => {
    expect(jobSettingsFromEnvironment({})).toEqual({ batchSize: 25, stuckAfterSeconds: 1800, operationRetentionSeconds: 604_800 });
    expect(jobSettingsFromEnvironment({ JOB_BATCH_SIZE: '100', RECOVERY_STUCK_AFTER_SECONDS: '90' })).toMatchObject({ batchSize: 100, stuckAfterSeconds: 90 });
    expect(() => jobSettingsFromEnvironment({ JOB_BATCH_SIZE: '101' })).toThrow(/JOB_BATCH_SIZE must be at most 100/);
    expect(() => jobSettingsFromEnvironment({ RECOVERY_STUCK_AFTER_SECONDS: '-1' })).toThrow(/RECOVERY_STUCK_AFTER_SECONDS/);
    expect(() => jobSettingsFromEnvironment({ OPERATION_RETENTION_SECONDS: '1.5' })).toThrow(/OPERATION_RETENTION_SECONDS/);
    expect(jobIntervalsFromEnvironment({ RECOVERY_JOB_INTERVAL_SECONDS: '2' })).toEqual({ retryIntervalMs: 300_000, cleanupIntervalMs: 600_000, recoveryIntervalMs: 2_000 });
    expect(localJobsFromEnvironment({ JOBS: 'off' })).toBe(false);
    // Only what is set overrides the local defaults (a 60 s local stuck threshold, not AWS's 30 minutes).
    expect(localJobsFromEnvironment({})).toMatchObject({ settings: {} });
  });
});

describe('execution names', () => {
  it('are unique per attempt and per resume, valid for Step Functions, and unchanged for a first run', () => {
    const id = 'INV-2025/03:10 ÷ long'.padEnd(64, 'x');
    const names = [executionName(id, 1), executionName(id, 2), executionName(id, 1, 7), executionName(id, 1, 8), executionName(id, 12, 123_456)];
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(80);
      expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    expect(executionName('stl-1', 1)).toMatch(/^stl-1-[0-9a-f]{12}-a1$/);
  });
});

describe('forEachBounded', () => {
  it('keeps the order of results and never runs more than the bound at once', async () => {
    let running = 0;
    let most = 0;
    const results = await forEachBounded([5, 1, 4, 2, 3, 0], recoveryLimits.concurrencyMax, async (value) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, value));
      running--;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBeLessThanOrEqual(recoveryLimits.concurrencyMax);
  });
});

describe('the local scheduler', () => {
  function fakeHandlers(onRun: (name: string) => Promise<void>): JobHandlers {
    const handler = (name: string) => async (_event: unknown, _context: Context) => {
      await onRun(name);
      return { restarted: [], parked: [], skipped: 0, errors: [], resumed: [], operationsDeleted: 0, expiredLocks: [] } as never;
    };
    return { retryFailed: handler('retryFailed'), cleanup: handler('cleanup'), recoverStuck: handler('recoverStuck') };
  }

  it('runs the start-up sweep, keeps each job to one run at a time, and survives a failing run', async () => {
    const log: string[] = [];
    let inRetry = 0;
    let overlapped = false;
    let failNext = true;
    const scheduler = startLocalScheduler(
      fakeHandlers(async (name) => {
        log.push(name);
        if (name !== 'retryFailed') return;
        inRetry++;
        overlapped ||= inRetry > 1;
        await new Promise((resolve) => setTimeout(resolve, 30));
        inRetry--;
        if (failNext) {
          failNext = false;
          throw new Error('first run fails (test)');
        }
      }),
      { retryIntervalMs: 10, cleanupIntervalMs: 3_600_000, recoveryIntervalMs: 3_600_000 },
    );
    await scheduler.startup;
    await Promise.all([scheduler.run('retryFailed').catch(() => undefined), scheduler.run('retryFailed')]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await scheduler.stop();
    expect(log[0]).toBe('recoverStuck');
    expect(log.filter((name) => name === 'retryFailed').length).toBeGreaterThanOrEqual(4);
    expect(overlapped).toBe(false);
  });
});
