/**
 * What the recovery jobs (retry, cleanup, stuck-settlement sweep) and the parked-settlement admin API read: the
 * sparse indexes of the settlements table, never a scan. Every call returns one bounded page.
 */
import type { FundLock, SettlementRecord } from './stores';

/** One atomic operation item: a settlement's execution attempt. */
export interface OperationKey {
  readonly settlementId: string;
  readonly attempt: number;
}

export interface PageQuery {
  readonly limit: number;
  /** Opaque cursor from the previous page of the same listing. */
  readonly cursor?: string;
}

export interface IndexPage<T> {
  readonly items: T[];
  /** Absent on the last page. */
  readonly nextCursor?: string;
}

/** Every listing is earliest first and throws ValidationError('cursor') on a cursor it did not issue. */
export interface RecoveryStore {
  /** Ids of FAILED, retryable, unparked settlements whose `retryAt` ≤ `now` (jobs index, retry partitions). */
  dueRetries(now: string, page: PageQuery): Promise<IndexPage<string>>;
  /**
   * Ids of unparked settlements in a non-terminal status (or, an anomaly, holding a pending lock) whose attempt
   * started at or before `startedBefore` (jobs index): the caller re-reads each record before it acts.
   */
  inFlight(startedBefore: string, page: PageQuery): Promise<IndexPage<string>>;
  /**
   * Pending locks, parked settlements' included, that expired before `now`, found among the settlements whose attempt
   * started at or before `attemptsStartedBefore` (jobs index). A lock is taken after its attempt starts, so
   * `now` − the lock TTL finds every one; a page may hold fewer locks than its limit, even none, with more to come.
   */
  expiredLocks(now: string, attemptsStartedBefore: string, page: PageQuery): Promise<IndexPage<FundLock>>;
  /** OPERATION items of the layout before the lean write path that ended before `endedBefore` (the retiring endedOperations index; none on a table without it). */
  endedOperations(endedBefore: string, page: PageQuery): Promise<IndexPage<OperationKey>>;
  /** Deletes ended operations; one that is no longer ended is left alone. Returns how many were deleted. */
  deleteEndedOperations(keys: readonly OperationKey[]): Promise<number>;
  /** Parked settlements, earliest parked first (jobs index, parked partitions), read consistently: a page may hold fewer than its limit. */
  parked(page: PageQuery): Promise<IndexPage<SettlementRecord>>;
}
