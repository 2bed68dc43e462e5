/**
 * The recovery sweep: finds settlements that stopped making progress in a non-terminal status (a killed local
 * process, an execution that failed outside the workflow's own Catch, a lost StartExecution) through the jobs
 * index, and resumes each by starting its execution again. Stages are idempotent, so the run replays to the
 * settlement's current stage and continues; a settlement in the rollback branch continues its rollback (Validate
 * refuses it, the Catch leads to BeginRollback, which routes by the current status).
 */
import { resumeAttempt } from './attempts';
import type { RecoveryDeps } from './deps';
import { forEachBounded, logJob, recoveryLimits, type JobSettings } from './limits';

export interface RecoveryRunReport {
  readonly resumed: readonly string[];
  /** In-flight settlements that were not stuck when read (progressing, running here, parked or ended). */
  readonly skipped: number;
  readonly errors: readonly { settlementId: string; error: string }[];
}

export async function recoverStuckSettlements(deps: RecoveryDeps, settings: Pick<JobSettings, 'batchSize' | 'stuckAfterSeconds' | 'isRunning'>): Promise<RecoveryRunReport> {
  const cutoff = new Date(deps.clock.now().getTime() - settings.stuckAfterSeconds * 1000).toISOString();
  const report = { resumed: [] as string[], skipped: 0, errors: [] as { settlementId: string; error: string }[] };
  let cursor: string | undefined;
  for (let page = 0; page < recoveryLimits.pagesPerRunMax; page++) {
    const inFlight = await deps.recovery.inFlight(cutoff, { limit: settings.batchSize, ...(cursor !== undefined && { cursor }) });
    await forEachBounded(inFlight.items, recoveryLimits.concurrencyMax, async (settlementId) => {
      try {
        const stuck = (record: { parked?: boolean; updatedAt: string }) => !record.parked && record.updatedAt <= cutoff && !settings.isRunning?.(settlementId);
        const resumed = await resumeAttempt(deps, settlementId, { stage: 'Recovery', detail: `no progress since ${cutoff} or earlier; execution started again` }, stuck);
        if (resumed) report.resumed.push(settlementId);
        else report.skipped++;
      } catch (error) {
        logJob('error', 'resuming a stuck settlement failed; the next sweep tries again', { settlementId, error: String(error) });
        report.errors.push({ settlementId, error: String(error) });
      }
    });
    if (inFlight.nextCursor === undefined) break;
    cursor = inFlight.nextCursor;
  }
  if (report.resumed.length + report.errors.length > 0) logJob(report.errors.length > 0 ? 'warn' : 'info', 'recovery sweep', { resumed: report.resumed.length, skipped: report.skipped, errors: report.errors.length });
  return report;
}
