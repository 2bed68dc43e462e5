/**
 * Store ports: what the use cases read and the effects they ask to commit. The DynamoDB adapters turn one
 * `transition` with its effects into ONE TransactWriteItems with conditions, so a status change and every
 * money movement it implies commit together or not at all.
 */
import type { AccountShard, RebalanceOutcome } from '../domain/account-shards';
import type { Money } from '../domain/money';
import type { SettlementRequest, SettlementStatus } from '../domain/settlement';
import { TransactionConflictError } from '../domain/errors';

export type AccountType = 'NOSTRO' | 'VOSTRO';
export type AccountStatus = 'ACTIVE' | 'FROZEN' | 'CLOSED';

export interface Account {
  readonly accountId: string;
  readonly accountType: AccountType;
  readonly bic: string;
  readonly currency: string;
  readonly balance: Money;
  /** Sum of pending locks. */
  readonly locked: Money;
  /** balance − locked, stored so a ConditionExpression can guard it (DynamoDB conditions cannot do arithmetic). */
  readonly available: Money;
  /** Lowest `available` may go. */
  readonly floor: Money;
  readonly status: AccountStatus;
  readonly version: number;
  readonly updatedAt: string;
  /**
   * The balance shards of a hot account (more than one), as read; absent for an account that is one item. The
   * figures above are their exact sums (version: the sum of the shards' versions).
   */
  readonly shards?: readonly AccountShard[];
}

/**
 * An account's head: its own item (shard 0), read alone. Enough for a decision on existence, status, currency and
 * shard count; for an account of one item it is the whole account (`whole`), so a decision on its balance costs no
 * further read. A hot account's balance figures are not in it: they are the sums of every shard (AccountStore.get).
 */
export interface AccountHead {
  readonly accountId: string;
  readonly accountType: AccountType;
  readonly bic: string;
  readonly currency: string;
  readonly status: AccountStatus;
  /** Balance shards (1: the account is its one item). */
  readonly shardCount: number;
  /** The account itself, when it is one item. */
  readonly whole?: Account;
}

/**
 * What a hold (a lock's `lockAmount`) is decided on (AccountStore.readForHold): the account's head and the shards
 * read, the home shard alone when its surplus covers the hold, else every shard. Not the account's figures (a partial
 * read sums to nothing meaningful): never shown, only planned on; the hold's conditions re-check every shard written.
 */
export interface HoldRead {
  readonly accountId: string;
  readonly bic: string;
  readonly currency: string;
  readonly status: AccountStatus;
  readonly shardCount: number;
  /** The shard the hold lands on (0 for an account of one item). */
  readonly home: number;
  /** The shards read, in shard order: the home shard, or all `shardCount` of them. */
  readonly shards: readonly AccountShard[];
}

export function accountId(accountType: AccountType, bic: string, currency: string): string {
  return `${accountType}#${bic}#${currency}`;
}

/** A settlement as stored: the request plus its lifecycle state. */
export interface SettlementRecord extends SettlementRequest {
  readonly status: SettlementStatus;
  /** Number of events written so far; the next event's seq is version + 1. */
  readonly version: number;
  /** Execution attempt, from 1; the retry job increments it. */
  readonly attempt: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attemptStartedAt: string;
  readonly completedAt?: string;
  readonly reasonCode?: string;
  readonly reason?: string;
  readonly retryable?: boolean;
  readonly parked?: boolean;
  readonly parkedAt?: string;
  /** When the retry job may start the next attempt (set while FAILED and retryable). */
  readonly retryAt?: string;
  readonly payerAccountId?: string;
  readonly nostroAccountId?: string;
  /** Bank holding the nostro the payout leaves from. */
  readonly nostroBic?: string;
  readonly bankReference?: string;
  readonly confirmationPolls?: number;
  /** Stage that failed, recorded by BeginRollback. */
  readonly failedStage?: string;
  /** The principal that submitted it (API key client, certificate, IAM caller); absent on records from before. */
  readonly submittedBy?: string;
  /** The fund lock of the current (or last) attempt, kept in the record (set only through lock effects). */
  readonly lock?: FundLock;
  /** Every checkpoint so far, seq 1 … version, kept in the record (appended only by transitions). */
  readonly checkpoints?: readonly Checkpoint[];
  /** One atomic operation per attempt, kept in the record (changed only through operation effects). */
  readonly operations?: readonly OperationEntry[];
}

/** A status change as the record keeps it; with the record's request fields it is a SettlementEvent. */
export interface Checkpoint {
  readonly seq: number;
  readonly status: SettlementStatus;
  readonly stage: string;
  readonly at: string;
  readonly reasonCode?: string;
  readonly detail?: string;
}

/** The atomic operation of one execution attempt (the seed's settlement_atomic_operations row). */
export interface OperationEntry {
  readonly attempt: number;
  readonly state: OperationState;
  readonly startedAt: string;
  readonly endedAt?: string;
}

export type FundLockState = 'PENDING' | 'POSTED' | 'VOIDED';

/** A lock on both legs of one settlement: ended exactly once, posted by Finalize or voided by rollback. */
export interface FundLock {
  readonly settlementId: string;
  readonly state: FundLockState;
  readonly amount: Money;
  readonly currency: string;
  readonly vostroAccountId: string;
  readonly nostroAccountId: string;
  /** The balance shard holding the lock on each leg (absent: 0, the account's only item). */
  readonly vostroShard?: number;
  readonly nostroShard?: number;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly endedAt?: string;
}

/** One status change: the settlement's checkpoint and the event streamed to subscribers. */
export interface SettlementEvent {
  readonly settlementId: string;
  readonly seq: number;
  readonly status: SettlementStatus;
  readonly previousStatus: SettlementStatus | null;
  readonly stage: string;
  readonly at: string;
  readonly reasonCode?: string;
  readonly detail?: string;
  readonly payerBic: string;
  readonly payeeBic: string;
  readonly currency: string;
  readonly amount: string;
  /** The principal that submitted the settlement, on every event of it. */
  readonly submittedBy?: string;
}

export type LedgerEntryKind = 'SETTLEMENT' | 'FUND_IN' | 'FUND_OUT' | 'OPENING' | 'RETURN';

/** A posting to one account's balance, written in the same transaction as the balance change. */
export interface LedgerEntry {
  readonly accountId: string;
  /** Signed: negative decreases the balance. */
  readonly amount: Money;
  readonly currency: string;
  readonly kind: LedgerEntryKind;
  /** Settlement id or movement id: the end-to-end reference reconciliation matches on. */
  readonly reference: string;
  readonly leg: string;
  readonly postedAt: string;
  readonly valueDate: string;
  readonly counterpartyAccountId?: string;
  /** The account's shard the posting moved (its ledger partition too); absent: 0. */
  readonly shard?: number;
}

export type OperationState = 'STARTED' | 'COMMITTED' | 'ROLLED_BACK' | 'PARKED' | 'ABANDONED';

/** Effects committed atomically with a settlement transition. */
export type Effect =
  /**
   * locked += amount, available −= amount; requires ACTIVE and available − amount ≥ floor, and, with a net debit
   * cap, locked + amount ≤ cap (NetDebitCapExceededError otherwise).
   */
  | { readonly type: 'lockAmount'; readonly account: HoldRead; readonly amount: Money; readonly netDebitCap?: Money }
  /** locked −= amount, available += amount; requires locked ≥ amount (on the lock's shard). */
  | { readonly type: 'releaseLockedAmount'; readonly accountId: string; readonly amount: Money; readonly shard?: number }
  /** balance −= amount, locked −= amount (available unchanged); requires locked ≥ amount (on the lock's shard). */
  | { readonly type: 'postLockedAmount'; readonly accountId: string; readonly amount: Money; readonly shard?: number }
  | { readonly type: 'createLock'; readonly lock: FundLock }
  | { readonly type: 'endLock'; readonly settlementId: string; readonly amount: Money; readonly to: 'POSTED' | 'VOIDED'; readonly at: string }
  | { readonly type: 'ledgerEntry'; readonly entry: LedgerEntry }
  | { readonly type: 'startOperation'; readonly attempt: number; readonly at: string }
  | { readonly type: 'endOperation'; readonly attempt: number; readonly state: OperationState; readonly at: string }
  | { readonly type: 'putCompensation'; readonly compensation: CompensationRecord };

export interface CompensationRecord {
  readonly settlementId: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly state: 'REVERSED' | 'NOT_REQUIRED' | 'ESCALATED';
  readonly bankState?: string;
  readonly reason: string;
  readonly at: string;
}

/** Record fields a transition may set; `undefined` removes the attribute. The lock, checkpoints and operations change only through the command. */
export type RecordPatch = { -readonly [K in Exclude<keyof SettlementRecord, 'lock' | 'checkpoints' | 'operations'>]?: SettlementRecord[K] | undefined };

/** A checkpoint a transition passes through before its final status (recorded in the same write). */
export interface IntermediateCheckpoint {
  readonly status: SettlementStatus;
  readonly stage: string;
  readonly at: string;
}

export interface TransitionCommand {
  /** The record as read: its status and version are the transition's condition. */
  readonly record: SettlementRecord;
  readonly to: SettlementStatus;
  readonly stage: string;
  readonly at: string;
  readonly patch?: RecordPatch;
  readonly reasonCode?: string;
  readonly detail?: string;
  /**
   * Statuses passed through on the way to `to`, each recorded as its own checkpoint (seq order) in the same write:
   * Validate's checkpoint rides on the lock transaction, an immediate confirmation on Finalize's.
   */
  readonly via?: readonly IntermediateCheckpoint[];
  readonly effects?: readonly Effect[];
}

export interface SettlementHistory {
  readonly record: SettlementRecord;
  readonly lock?: FundLock;
  readonly events: readonly SettlementEvent[];
  readonly compensations: readonly CompensationRecord[];
}

/**
 * A return of a completed settlement (a pacs.004 after Finalize): the money came back to the payout nostro and goes
 * back to the payer's vostro. The settlement stays COMPLETED (it did settle; the return is a payment of its own in
 * the other direction, as ISO 20022 treats it); this record, its two ledger entries and the balances are written
 * in one transaction.
 */
export interface SettlementReturn {
  readonly settlementId: string;
  /** The bank's return id: booking is idempotent on it. */
  readonly returnId: string;
  readonly amount: Money;
  readonly currency: string;
  /** ISO external return reason (AC04, ...). */
  readonly reasonCode: string;
  readonly returnedAt: string;
  readonly vostroAccountId: string;
  readonly nostroAccountId: string;
  /** The shards the settlement's lock held on, where the credit lands (absent: 0). */
  readonly vostroShard?: number;
  readonly nostroShard?: number;
}

/**
 * BOOKED: written now; EXISTS: this return id was booked before (a replay); CONFLICT: the settlement has another
 * return already; NOT_APPLICABLE: the settlement is not COMPLETED or the amount or currency differ.
 */
export type ReturnBooking = 'BOOKED' | 'EXISTS' | 'CONFLICT' | 'NOT_APPLICABLE';

export interface ReturnStore {
  /** One conditional transaction: the return record, both balances, both ledger entries (docs/rails.md). */
  bookReturn(settlementReturn: SettlementReturn): Promise<ReturnBooking>;
  getReturn(settlementId: string): Promise<SettlementReturn | undefined>;
}

export interface SettlementStore {
  /** Creates the record (PENDING, attempt 1) with its first event and operation, unless the id exists. */
  create(request: SettlementRequest, at: string, submittedBy?: string): Promise<{ created: boolean; record: SettlementRecord }>;
  get(settlementId: string): Promise<SettlementRecord | undefined>;
  getLock(settlementId: string): Promise<FundLock | undefined>;
  history(settlementId: string): Promise<SettlementHistory | undefined>;
  /**
   * Moves the record from its current status (and version) to `to`, writing the event and every effect in one
   * transaction. Throws StaleSettlementError when the record changed since it was read, and the effect's own
   * error (InsufficientFundsError, AccountNotActiveError, ...) when an effect's condition fails.
   */
  transition(command: TransitionCommand): Promise<SettlementRecord>;
  /**
   * The record as an execution carries it from one stage to the next (the store's own encoding, JSON-safe), so the
   * next stage can decide without reading it again: exact for its version, since every write of a record changes
   * its version and is conditional on the version it was decided on.
   */
  carry(record: SettlementRecord): CarriedRecord;
  /** The record a carried value encodes; undefined for anything that is not one (a stage then reads the record). */
  uncarry(value: unknown): SettlementRecord | undefined;
}

/** A settlement record in the form executions carry it between stages (docs/architecture.md, "The carried record"). */
export type CarriedRecord = Readonly<Record<string, unknown>>;

export interface AccountQuery {
  readonly accountType: AccountType;
  readonly bic?: string;
  readonly currency?: string;
  /** Opaque cursor from the previous page. */
  readonly cursor?: string;
  readonly limit: number;
}

export interface AccountStore {
  /** The whole account: a hot account's figures are the exact sums of every shard (views, reconciliation). */
  get(accountId: string): Promise<Account | undefined>;
  /** The account's head alone (one item), strongly consistent: existence, status, currency (Validate). */
  getHead(accountId: string): Promise<AccountHead | undefined>;
  /**
   * What a hold of `amount` for `reference` (a settlement id) is decided on, strongly consistent: the head and the
   * home shard `reference` picks; every shard only when the home shard's surplus is short, or its share of the
   * payer's net debit cap (when given) is.
   */
  readForHold(accountId: string, reference: string, amount: Money, netDebitCap?: Money): Promise<HoldRead | undefined>;
  /**
   * The rebalancer (cleanup job, and on demand): evens each hot account's shards, one conditional transaction per
   * account; every sharded account when `accountIds` is absent. With `netDebitCapOf`, a capped payer's vostro has its
   * cap parts evened in the same transaction.
   */
  rebalanceShards(accountIds?: readonly string[], netDebitCapOf?: (bic: string, currency: string) => Money | undefined): Promise<RebalanceOutcome[]>;
  /**
   * Splits an account of one item, as read (`account`), into `shardCount` balance shards in one transaction pinned
   * on its version: TransactionConflictError when it changed since (read it again). Returns the account after.
   */
  splitShards(account: Account, shardCount: number): Promise<Account>;
  /** One page of accounts of a type, in BIC then currency order. Throws ValidationError('cursor') on a bad cursor. */
  list(query: AccountQuery): Promise<{ items: Account[]; nextCursor?: string }>;
}

export interface Bank {
  readonly bic: string;
  readonly name: string;
  readonly country: string;
  readonly status: 'ACTIVE' | 'SUSPENDED' | 'CLOSED';
}

export interface ReferenceStore {
  getBank(bic: string): Promise<Bank | undefined>;
  /** The nostro configured to pay out to `payeeBic` in `currency`, if a route item exists. */
  getPayoutRoute(payeeBic: string, currency: string): Promise<{ nostroAccountId: string } | undefined>;
}

/** The record moved since it was read (a concurrent or replayed step). The caller re-reads and decides. */
/**
 * A hot account's lock was planned on a read of its shards that a concurrent lock changed before the transaction
 * (docs/architecture.md, "Hot accounts"): the account as read held enough, so the stage decides again on a fresh
 * read, as for a stale record (usecases/advance.ts). It is a TransactionConflictError, name included: one that
 * escapes the stage's re-reads is retried by the workflow like any conflict.
 */
export class StaleAccountPlanError extends TransactionConflictError {}

export class StaleSettlementError extends Error {
  override readonly name = 'StaleSettlementError' as const;
  constructor(readonly settlementId: string) {
    super(`settlement ${settlementId} changed since it was read`);
  }
}
