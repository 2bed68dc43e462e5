/**
 * The cleanup job.
 * 1. Deletes OPERATION items of the earlier layout that ended more than the retention period ago (the retiring
 *    endedOperations index, where the table has it), in bounded
 *    batches; DynamoDB TTL (set when the operation ended) is the backstop. Checkpoints (the EVENT items) are the
 *    settlement's audit history, served by GET /settlements/{id} and the event stream: they are kept.
 * 2. Ends expired pending locks (jobs index: the settlements whose attempt started a lock TTL ago or earlier, each
 *    record read and its lock checked) only where the settlement is known not to have moved money:
 *    ROLLING_BACK (the rollback decided nothing left), COMPENSATED (the bank reversed the transfer), or LOCKED with
 *    no transfer at the bank (asked with the same idempotency key). Those take the normal rollback path:
 *    ReleaseLocks (one transaction: lock VOIDED, locked amounts released on both legs), then MarkFailed. Every other
 *    expired lock is left untouched and reported; a settlement not parked yet is parked for an operator.
 * 3. Rebalances the hot accounts' balance shards (AccountStore.rebalanceShards).
 */
import type { RebalanceOutcome } from '../../domain/account-shards';
import type { SettlementStatus } from '../../domain/settlement';
import type { FundLock, SettlementRecord } from '../../ports/stores';
import { advance } from '../advance';
import { markFailed, releaseLocks } from '../rollback';
import { transferKey } from '../stages';
import { parkInPlace } from './attempts';
import type { RecoveryDeps } from './deps';
import { RecoveryReasonCode } from './errors';
import { forEachBounded, logJob, recoveryLimits, type JobSettings } from './limits';

export type ExpiredLockAction = 'VOIDED' | 'PARKED' | 'REPORTED';

export interface ExpiredLockOutcome {
  readonly settlementId: string;
  readonly status: SettlementStatus | 'MISSING';
  readonly action: ExpiredLockAction;
  readonly reason: string;
}

export interface CleanupRunReport {
  readonly operationsDeleted: number;
  /** The rebalancer's outcome on each hot (sharded) account. */
  readonly rebalanced: readonly RebalanceOutcome[];
  readonly expiredLocks: readonly ExpiredLockOutcome[];
  readonly errors: readonly { settlementId: string; error: string }[];
}

export async function cleanupFinished(deps: RecoveryDeps, settings: Pick<JobSettings, 'batchSize' | 'operationRetentionSeconds' | 'stuckAfterSeconds' | 'isRunning'>): Promise<CleanupRunReport> {
  const operationsDeleted = await deleteEndedOperations(deps, settings);
  const { outcomes, errors } = await endExpiredLocks(deps, settings);
  // 3. Evens the hot accounts' balance shards, so a lock rarely needs more than its home shard. A failure here (the
  // store throttled) costs only evenness: the next run tries again.
  let rebalanced: RebalanceOutcome[] = [];
  try {
    // A payer's net debit cap parts are evened with its funds (policy names the caps).
    rebalanced = await deps.accounts.rebalanceShards(undefined, (bic, currency) => deps.compliance?.netDebitCaps[bic]?.[currency]);
  } catch (error) {
    logJob('error', 'rebalancing hot accounts failed; the next run tries again', { error: String(error) });
  }
  const report = { operationsDeleted, rebalanced, expiredLocks: outcomes, errors };
  const shardsMoved = rebalanced.filter((outcome) => outcome.result === 'MOVED' || outcome.result === 'BUSY');
  if (operationsDeleted + outcomes.length + errors.length + shardsMoved.length > 0) {
    logJob(errors.length > 0 || outcomes.some((outcome) => outcome.action !== 'VOIDED') ? 'warn' : 'info', 'cleanup run', {
      operationsDeleted,
      locksVoided: outcomes.filter((outcome) => outcome.action === 'VOIDED').length,
      locksParked: outcomes.filter((outcome) => outcome.action === 'PARKED').length,
      locksReported: outcomes.filter((outcome) => outcome.action === 'REPORTED').map((outcome) => `${outcome.settlementId} (${outcome.status}): ${outcome.reason}`),
      accountsRebalanced: shardsMoved.map((outcome) => `${outcome.accountId} ${outcome.result}${outcome.moved ? ` ${outcome.moved}` : ''}`),
      errors: errors.length,
    });
  }
  return report;
}

async function deleteEndedOperations(deps: RecoveryDeps, settings: Pick<JobSettings, 'batchSize' | 'operationRetentionSeconds'>): Promise<number> {
  const endedBefore = new Date(deps.clock.now().getTime() - settings.operationRetentionSeconds * 1000).toISOString();
  let deleted = 0;
  let cursor: string | undefined;
  for (let page = 0; page < recoveryLimits.pagesPerRunMax; page++) {
    const ended = await deps.recovery.endedOperations(endedBefore, { limit: settings.batchSize, ...(cursor !== undefined && { cursor }) });
    deleted += await deps.recovery.deleteEndedOperations(ended.items);
    if (ended.nextCursor === undefined) break;
    cursor = ended.nextCursor;
  }
  return deleted;
}

async function endExpiredLocks(deps: RecoveryDeps, settings: Pick<JobSettings, 'batchSize' | 'stuckAfterSeconds' | 'isRunning'>) {
  const now = deps.clock.now();
  // A lock expires a lock TTL after it was taken, and it is taken after its attempt started: every lock expired by
  // now is on an attempt started a TTL ago or earlier. (A lock taken under a shorter TTL than today's, before
  // LOCK_TTL_SECONDS was raised, is found that much later, never missed.)
  const attemptsStartedBefore = new Date(now.getTime() - deps.limits.lockTtlSeconds * 1000).toISOString();
  const outcomes: ExpiredLockOutcome[] = [];
  const errors: { settlementId: string; error: string }[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < recoveryLimits.pagesPerRunMax; page++) {
    const expired = await deps.recovery.expiredLocks(now.toISOString(), attemptsStartedBefore, { limit: settings.batchSize, ...(cursor !== undefined && { cursor }) });
    await forEachBounded(expired.items, recoveryLimits.concurrencyMax, async (lock) => {
      try {
        outcomes.push(await endExpiredLock(deps, lock, now, settings));
      } catch (error) {
        logJob('error', 'ending an expired lock failed; the next run tries again', { settlementId: lock.settlementId, error: String(error) });
        errors.push({ settlementId: lock.settlementId, error: String(error) });
      }
    });
    if (expired.nextCursor === undefined) break;
    cursor = expired.nextCursor;
  }
  return { outcomes, errors };
}

async function endExpiredLock(deps: RecoveryDeps, lock: FundLock, now: Date, settings: Pick<JobSettings, 'stuckAfterSeconds' | 'isRunning'>): Promise<ExpiredLockOutcome> {
  const settlementId = lock.settlementId;
  const record = await deps.settlements.get(settlementId);
  const outcome = (status: ExpiredLockOutcome['status'], action: ExpiredLockAction, reason: string): ExpiredLockOutcome => ({ settlementId, status, action, reason });
  if (!record) return outcome('MISSING', 'REPORTED', 'a pending lock without its settlement record: investigate (never touched automatically)');
  if (record.parked) return outcome(record.status, 'REPORTED', 'parked: waiting for an operator (requeue or abandon)');
  // An execution still working on the settlement owns its lock; the recovery sweep deals with one that stopped.
  const idleSince = new Date(now.getTime() - settings.stuckAfterSeconds * 1000).toISOString();
  if (record.updatedAt > idleSince || settings.isRunning?.(settlementId)) return outcome(record.status, 'REPORTED', 'an execution is still working on it');
  const moved = await moneyMayHaveLeft(deps, record);
  if (moved === false) {
    await voidThroughRollback(deps, record, lock);
    return outcome(record.status, 'VOIDED', 'no money left the nostro: lock voided through the rollback path');
  }
  const reason = `lock expired at ${lock.expiresAt} while ${record.status}: ${moved}; not voided automatically`;
  const parked = await parkInPlace(deps, settlementId, { stage: 'Cleanup', detail: reason }, RecoveryReasonCode.lockExpired, reason);
  return outcome(record.status, parked ? 'PARKED' : 'REPORTED', reason);
}

/** False when the settlement is known not to have moved money; otherwise why it may have. */
async function moneyMayHaveLeft(deps: RecoveryDeps, record: SettlementRecord): Promise<false | string> {
  switch (record.status) {
    case 'ROLLING_BACK':
    case 'COMPENSATED':
      return false;
    case 'VALIDATED':
    case 'LOCKED': {
      const key = transferKey(record);
      const receipt = await deps.banks.forRail(record.rail).getTransfer(key);
      if (!receipt || receipt.state === 'REJECTED') return false;
      return `the bank reports transfer ${key} as ${receipt.state}`;
    }
    case 'TRANSFER_INITIATED':
    case 'CONFIRMED':
    case 'COMPENSATING':
      return 'a transfer was initiated at the bank';
    case 'PENDING':
    case 'ROLLED_BACK':
    case 'COMPLETED':
    case 'FAILED':
      return `a pending lock on a ${record.status} settlement contradicts the lifecycle (engine bug)`;
  }
}

/**
 * LOCKED → ROLLING_BACK (reason LOCK.EXPIRED, not retryable: the instruction is stale), then the ReleaseLocks and
 * MarkFailed stages, exactly as the workflow's rollback branch runs them.
 */
async function voidThroughRollback(deps: RecoveryDeps, record: SettlementRecord, lock: FundLock): Promise<void> {
  if (record.status === 'VALIDATED' || record.status === 'LOCKED') {
    const reason = `lock expired at ${lock.expiresAt} before any transfer reached the bank`;
    await advance(deps, record.settlementId, async (current) => {
      if (current.status !== record.status || current.version !== record.version) return { done: current };
      return {
        command: {
          record: current,
          to: 'ROLLING_BACK',
          stage: 'Cleanup',
          at: deps.clock.now().toISOString(),
          reasonCode: RecoveryReasonCode.lockExpired,
          detail: reason,
          patch: { reasonCode: RecoveryReasonCode.lockExpired, reason, retryable: false, failedStage: 'Cleanup' },
        },
      };
    });
  }
  await releaseLocks(deps, { settlementId: record.settlementId });
  await markFailed(deps, { settlementId: record.settlementId });
}
