/**
 * Limits of the recovery jobs: every batch, page loop and wait has a named maximum (TIGER_STYLE). Deployments
 * override the defaults through environment variables (lambdas/handlers/jobs.ts), within these maxima.
 */
export const recoveryLimits = {
  /** Settlements one page of a job handles. */
  batchSizeDefault: 25,
  batchSizeMax: 100,
  /** Pages one job run reads from an index before it stops (the next run continues). */
  pagesPerRunMax: 40,
  /** Settlements a job handles at once. */
  concurrencyMax: 4,
  /**
   * A settlement with no progress for this long (and no execution known to run it) is resumed by the sweep.
   * On AWS it must exceed the longest silent stretch of a healthy execution: the confirmation wait loop writes
   * nothing for up to ~13 minutes (30 checks, waits capped at 30 s), so 30 minutes leaves a wide margin.
   */
  stuckAfterSecondsDefault: 30 * 60,
  /** Ended atomic operations are kept this long before cleanup deletes them (DynamoDB TTL is set to the same). */
  operationRetentionSecondsDefault: 7 * 24 * 3600,
  /** Longest operator note kept on a settlement. */
  operatorNoteLengthMax: 500,
} as const;

export interface JobSettings {
  readonly batchSize: number;
  readonly stuckAfterSeconds: number;
  readonly operationRetentionSeconds: number;
  /**
   * Whether this process runs an execution of the settlement (local engine: the in-process ASL interpreter).
   * Absent on AWS, where the timeout alone tells a stuck settlement from a slow one.
   */
  readonly isRunning?: (settlementId: string) => boolean;
}

export const defaultJobSettings: JobSettings = {
  batchSize: recoveryLimits.batchSizeDefault,
  stuckAfterSeconds: recoveryLimits.stuckAfterSecondsDefault,
  operationRetentionSeconds: recoveryLimits.operationRetentionSecondsDefault,
};

/** Runs `work` over `items`, at most `concurrency` at a time; the results keep the items' order. */
export async function forEachBounded<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Logs one structured line (CloudWatch on Lambda, stdout locally). */
export function logJob(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
