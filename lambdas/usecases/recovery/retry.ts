/**
 * The retry job: restarts FAILED settlements marked retryable once their `retryAt` is due, read from the
 * jobs index's retry partitions (no scan). The delay grows per attempt (MarkFailed computes `retryAt` from
 * limits.retryDelaySecondsBase, doubling); attempts are bounded by limits.retryAttemptsMax, after which the
 * settlement is parked for an operator (MarkFailed does it on the last attempt; this job catches any record that
 * reached the limit otherwise, e.g. after the limit was lowered).
 */
import type { SettlementRecord } from '../../ports/stores';
import { parkInPlace, restartAttempt } from './attempts';
import type { RecoveryDeps } from './deps';
import { forEachBounded, logJob, recoveryLimits, type JobSettings } from './limits';

export interface RetryRunReport {
  readonly restarted: readonly string[];
  readonly parked: readonly string[];
  /** Index entries that were no longer due or retryable when read (another run or an operator acted). */
  readonly skipped: number;
  readonly errors: readonly { settlementId: string; error: string }[];
}

type Outcome = 'restarted' | 'parked' | 'skipped' | { error: string };

export async function retryFailedSettlements(deps: RecoveryDeps, settings: Pick<JobSettings, 'batchSize'>): Promise<RetryRunReport> {
  const now = deps.clock.now().toISOString();
  const report = { restarted: [] as string[], parked: [] as string[], skipped: 0, errors: [] as { settlementId: string; error: string }[] };
  let cursor: string | undefined;
  for (let page = 0; page < recoveryLimits.pagesPerRunMax; page++) {
    const due = await deps.recovery.dueRetries(now, { limit: settings.batchSize, ...(cursor !== undefined && { cursor }) });
    const outcomes = await forEachBounded(due.items, recoveryLimits.concurrencyMax, (settlementId) => retryOne(deps, settlementId, now));
    due.items.forEach((settlementId, index) => {
      const outcome = outcomes[index];
      if (outcome === 'restarted') report.restarted.push(settlementId);
      else if (outcome === 'parked') report.parked.push(settlementId);
      else if (outcome === 'skipped') report.skipped++;
      else report.errors.push({ settlementId, error: outcome.error });
    });
    if (due.nextCursor === undefined) break;
    cursor = due.nextCursor;
  }
  if (report.restarted.length + report.parked.length + report.errors.length > 0) logJob(report.errors.length > 0 ? 'warn' : 'info', 'retry run', summary(report));
  return report;
}

async function retryOne(deps: RecoveryDeps, settlementId: string, now: string): Promise<Outcome> {
  try {
    const record = await deps.settlements.get(settlementId);
    if (!record || !isDue(record, now)) return 'skipped';
    const attemptsMax = deps.limits.retryAttemptsMax;
    if (record.attempt >= attemptsMax) {
      const reason = `retries exhausted: attempt ${record.attempt} of ${attemptsMax} failed (${record.reason ?? record.reasonCode ?? 'unknown failure'})`;
      const parked = await parkInPlace(deps, settlementId, { stage: 'Retry', detail: reason }, record.reasonCode ?? 'INTERNAL.UNEXPECTED', reason);
      return parked ? 'parked' : 'skipped';
    }
    const detail = `attempt ${record.attempt + 1} of ${attemptsMax} after ${record.reasonCode ?? 'a transient failure'}`;
    const started = await restartAttempt(deps, settlementId, { stage: 'Retry', detail }, (current) => isDue(current, now) && current.attempt < attemptsMax);
    return started ? 'restarted' : 'skipped';
  } catch (error) {
    logJob('error', 'retry of a settlement failed; the next run tries again', { settlementId, error: String(error) });
    return { error: String(error) };
  }
}

function isDue(record: SettlementRecord, now: string): boolean {
  return record.status === 'FAILED' && record.retryable === true && !record.parked && record.retryAt !== undefined && record.retryAt <= now;
}

function summary(report: RetryRunReport) {
  return { restarted: report.restarted.length, parked: report.parked.length, skipped: report.skipped, errors: report.errors.length };
}
