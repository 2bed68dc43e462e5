/**
 * Local stand-in for the reconciliation schedule: a timer that invokes the same handler as the EventBridge rule
 * (handlers/reconcile-job.ts), aligned on the interval's boundaries (plus a settle delay) so that each run
 * reconciles the interval that has just ended. Runs never overlap, the timer is unref'd, a failure is logged and
 * the next interval runs as usual.
 */
import type { Context } from 'aws-lambda';
import type { ReconcileJobReport } from '../handlers/reconcile-job';

/** After a boundary, wait this long so that settlements finishing at the boundary are posted before the run. */
export const reconcileSettleDelayMs = 60_000;

export interface ReconcileTimer {
  /** Runs the job now (after a run in progress). */
  run(): Promise<ReconcileJobReport>;
  stop(): Promise<void>;
}

const context = { functionName: 'settlement-engine-reconcile', awsRequestId: 'local', callbackWaitsForEmptyEventLoop: false } as unknown as Context;

export function startReconcileTimer(job: (event: unknown, context: Context) => Promise<ReconcileJobReport>, intervalMs: number, now: () => number = Date.now): ReconcileTimer {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inProgress: Promise<unknown> = Promise.resolve();
  const run = (): Promise<ReconcileJobReport> => {
    const next = inProgress.catch(() => undefined).then(() => job({}, context));
    inProgress = next.catch(() => undefined);
    return next;
  };
  const schedule = () => {
    if (stopped) return;
    const delayMs = intervalMs - (now() % intervalMs) + reconcileSettleDelayMs;
    timer = setTimeout(() => {
      run()
        .then((report) => console.log(JSON.stringify({ level: 'info', message: 'scheduled reconciliation', period: report.period, runs: report.runs.length, discrepancies: report.runs.reduce((sum, item) => sum + (item.discrepancyCount ?? 0), 0) })))
        .catch((error: unknown) => console.error(JSON.stringify({ level: 'error', message: 'scheduled reconciliation failed; it runs again at the next interval', error: String(error) })))
        .finally(schedule);
    }, delayMs);
    timer.unref();
  };
  schedule();
  return {
    run,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inProgress;
    },
  };
}
