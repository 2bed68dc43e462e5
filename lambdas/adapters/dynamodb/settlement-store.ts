/**
 * DynamoDB adapter of SettlementStore: the lean write path. A settlement is one item, its RECORD, holding the
 * request, the status, its checkpoints (a bounded list, `cp`), its fund lock and its atomic operations; only a
 * compensation (rollback path) is an item of its own, in the same partition. So a status change that moves no
 * money is ONE conditional PutItem on the record's status and version, and one that moves money is ONE transaction:
 * the record plus the account and ledger items. Subscribers get each checkpoint from the table's change stream
 * (old and new images of the record: the checkpoints a write appended).
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { InvariantViolationError, invariant } from '../../domain/errors';
import { formatAmount } from '../../domain/money';
import { isTerminal, type SettlementRequest, type SettlementStatus } from '../../domain/settlement';
import {
  StaleSettlementError,
  type Checkpoint,
  type CompensationRecord,
  type Effect,
  type FundLock,
  type OperationEntry,
  type OperationState,
  type SettlementEvent,
  type SettlementHistory,
  type SettlementRecord,
  type SettlementStore,
  type TransitionCommand,
  type CarriedRecord,
} from '../../ports/stores';
import { batchGetConsistent, cancellationReasons, guard, isConditionalCheckFailed, toInteger, toMoney, toNumberValue, translateTransientError } from './client';
import { indexShardCount, parkedJobShard, retryJobShard, type TableNames } from './table-definitions';
import { ledgerEntryPut } from './account-store';
import { accountEffectItems, explainAccountEffectFailure, type AccountEffect } from './account-shards';

type Item = Record<string, unknown>;
type DocumentTransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

export const SortKey = {
  record: 'RECORD',
  lock: 'LOCK',
  event: (seq: number) => `EVENT#${String(seq).padStart(10, '0')}`,
  operation: (attempt: number) => `OPERATION#${String(attempt).padStart(4, '0')}`,
  compensation: (attempt: number) => `COMPENSATION#${String(attempt).padStart(4, '0')}`,
} as const;

/** Retention of ended atomic operations before cleanup (and DynamoDB TTL) removes them (OPERATION items of records written before the lean layout). */
export const operationRetentionSeconds = 7 * 24 * 3600;
/**
 * Checkpoints one record holds at most: a happy path writes 6, each retry attempt about 8 more, an operator action
 * 1; far beyond any lifecycle the limits allow, and far below DynamoDB's 400 KB item (a checkpoint is ≤ 600 bytes).
 */
export const checkpointsMax = 200;
/** Atomic operations (attempts) one record holds at most. */
export const operationsMax = 50;

/** Deterministic shard of a sparse index, so a job can query every shard. */
export function indexShard(settlementId: string): string {
  let hash = 0;
  for (let index = 0; index < settlementId.length; index++) hash = (hash * 31 + settlementId.charCodeAt(index)) >>> 0;
  return String(hash % indexShardCount);
}

const requestAttributes = ['settlementId', 'payerBic', 'payeeBic', 'currency', 'rail', 'kind', 'valueDate', 'reference', 'payerIban', 'payeeIban'] as const;

export class DynamoSettlementStore implements SettlementStore {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  /** One conditional PutItem: the record with its first checkpoint and its first operation. */
  async create(request: SettlementRequest, at: string, submittedBy?: string): Promise<{ created: boolean; record: SettlementRecord }> {
    const record: SettlementRecord = {
      ...request,
      status: 'PENDING',
      version: 1,
      attempt: 1,
      createdAt: at,
      updatedAt: at,
      attemptStartedAt: at,
      ...(submittedBy !== undefined && { submittedBy }),
      checkpoints: [{ seq: 1, status: 'PENDING', stage: 'Submit', at }],
      operations: [{ attempt: 1, state: 'STARTED', startedAt: at }],
    };
    try {
      await this.documentClient.send(new PutCommand({ TableName: this.tables.settlements, Item: recordItem(record), ConditionExpression: 'attribute_not_exists(pk)' }));
      return { created: true, record };
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        const existing = await this.get(request.settlementId);
        invariant(existing !== undefined, `create: ${request.settlementId} exists but cannot be read`);
        return { created: false, record: existing };
      }
      throw translateTransientError(error);
    }
  }

  async get(settlementId: string): Promise<SettlementRecord | undefined> {
    const result = await guard(() => this.documentClient.send(new GetCommand({ TableName: this.tables.settlements, Key: { pk: settlementId, sk: SortKey.record }, ConsistentRead: true })));
    return result.Item ? recordFromItem(result.Item) : undefined;
  }

  async getLock(settlementId: string): Promise<FundLock | undefined> {
    return (await this.get(settlementId))?.lock;
  }

  async history(settlementId: string): Promise<SettlementHistory | undefined> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    // Bounded: a settlement is its record and a compensation per rolled-back attempt; the page loop guards against a runaway partition.
    for (let page = 0; page < 20; page++) {
      const result = await guard(() =>
        this.documentClient.send(
          new QueryCommand({
            TableName: this.tables.settlements,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': settlementId },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
      if (!startKey) break;
    }
    const found = items.find((item) => item.sk === SortKey.record);
    if (!found) return undefined;
    const record = recordFromItem(found);
    return {
      record,
      lock: record.lock,
      events: eventsOf(record),
      compensations: items.filter((item) => String(item.sk).startsWith('COMPENSATION#')).map(compensationFromItem),
    };
  }

  carry(record: SettlementRecord): CarriedRecord {
    // The stored item with its amount as a decimal string, the same codec a read goes through (recordFromItem),
    // less its index keys, which say nothing to a stage.
    const { jobShard, jobSince, ...item } = recordItem(record);
    return { ...item, amount: record.amount };
  }

  uncarry(value: unknown): SettlementRecord | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const item = value as Item;
    if (item.itemType !== 'SETTLEMENT' || item.sk !== SortKey.record || typeof item.amount !== 'string') return undefined;
    try {
      const record = recordFromItem(item);
      return typeof record.settlementId === 'string' && record.settlementId === item.pk ? record : undefined;
    } catch {
      // Not a record this store encoded (a hand-made or truncated state): the stage reads the record instead.
      return undefined;
    }
  }

  /**
   * The record rewritten on the condition of the status and version it was read with, its new checkpoints
   * appended, the lock and operation effects applied to it; account, ledger and compensation effects are items of
   * their own in the same transaction. With none of those, one conditional PutItem.
   */
  async transition(command: TransitionCommand): Promise<SettlementRecord> {
    const { record } = command;
    const next = await this.nextOrStale(command);
    const itemEffects = (command.effects ?? []).filter(isItemEffect);
    const recordPut = {
      TableName: this.tables.settlements,
      Item: recordItem(next),
      // The one guard of every status change: a stale, duplicate or concurrent transition fails here.
      ConditionExpression: '#status = :from AND version = :version',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':from': record.status, ':version': record.version },
    };
    if (itemEffects.length === 0) {
      try {
        await this.documentClient.send(new PutCommand(recordPut));
        return next;
      } catch (error) {
        if (isConditionalCheckFailed(error)) throw new StaleSettlementError(record.settlementId);
        throw translateTransientError(error);
      }
    }
    // An effect may write several items (a lock on a hot account moves surplus between its shards): remember each one's.
    const effectItems = itemEffects.map((effect) => this.effectItems(effect));
    const transactItems: DocumentTransactItem[] = [{ Put: recordPut }, ...effectItems.flat()];
    invariant(transactItems.length <= 100, 'transition: more than 100 items in one transaction');
    try {
      await this.documentClient.send(new TransactWriteCommand({ TransactItems: transactItems }));
      return next;
    } catch (error) {
      throw this.explainCancellation(error, record.settlementId, itemEffects, effectItems.map((items) => items.length));
    }
  }

  /**
   * The record to write. An effect that contradicts the record it was decided on is either a decision taken on a
   * record that has moved since (a fresh read shows another version: decide again) or an engine bug (stop loudly).
   */
  private async nextOrStale(command: TransitionCommand): Promise<SettlementRecord> {
    try {
      return nextRecord(command);
    } catch (error) {
      if (!(error instanceof InvariantViolationError)) throw error;
      const fresh = await this.get(command.record.settlementId);
      if (fresh?.version !== command.record.version) throw new StaleSettlementError(command.record.settlementId);
      throw error;
    }
  }

  /** Maps a cancelled transaction to the condition that failed: stale record, or an effect's business rule. */
  private explainCancellation(error: unknown, settlementId: string, effects: readonly ItemEffect[], itemCounts: readonly number[]): unknown {
    const reasons = cancellationReasons(error);
    if (!reasons) return translateTransientError(error);
    if (reasons.some((reason) => reason.Code === 'TransactionConflict' || reason.Code === 'ThrottlingError')) return translateTransientError(error);
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return new StaleSettlementError(settlementId);
    for (let index = 0, offset = 1; index < effects.length; offset += itemCounts[index], index++) {
      const own = reasons.slice(offset, offset + itemCounts[index]);
      if (!own.some((reason) => reason?.Code === 'ConditionalCheckFailed')) continue;
      const effect = effects[index];
      const explained = isAccountEffect(effect) ? explainAccountEffectFailure(effect, own) : undefined;
      if (explained) return explained;
      // Any other effect failing means the engine's own bookkeeping disagrees with the store: a bug, stop loudly.
      return new InvariantViolationError(`settlement ${settlementId}: condition of effect ${effect.type} failed`, { cause: error });
    }
    return translateTransientError(error);
  }

  /** The items of one effect: the account effects' come from account-shards.ts (a hot account's lock may write several). */
  private effectItems(effect: ItemEffect): DocumentTransactItem[] {
    return isAccountEffect(effect) ? accountEffectItems(this.tables, effect, new Date().toISOString()) : [this.effectItem(effect)];
  }

  private effectItem(effect: Exclude<ItemEffect, AccountEffect>): DocumentTransactItem {
    switch (effect.type) {
      case 'ledgerEntry':
        return ledgerEntryPut(this.tables.ledger, effect.entry);
      case 'putCompensation':
        return {
          Put: {
            TableName: this.tables.settlements,
            Item: { pk: effect.compensation.settlementId, sk: SortKey.compensation(effect.compensation.attempt), itemType: 'COMPENSATION', ...effect.compensation },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        };
      default:
        return assertNeverEffect(effect);
    }
  }

}

/** Effects written as items of their own; the lock and operation effects change the record itself. */
type ItemEffect = Extract<Effect, { type: 'lockAmount' | 'releaseLockedAmount' | 'postLockedAmount' | 'ledgerEntry' | 'putCompensation' }>;
const itemEffectTypes: ReadonlySet<Effect['type']> = new Set(['lockAmount', 'releaseLockedAmount', 'postLockedAmount', 'ledgerEntry', 'putCompensation']);
function isAccountEffect(effect: Effect): effect is AccountEffect {
  return effect.type === 'lockAmount' || effect.type === 'releaseLockedAmount' || effect.type === 'postLockedAmount';
}
function isItemEffect(effect: Effect): effect is ItemEffect {
  return itemEffectTypes.has(effect.type);
}

/**
 * The record a transition writes: the patch, the new status and version, the checkpoints it passes through and
 * reaches appended, and the lock and operation effects applied. Throws InvariantViolationError when an effect
 * contradicts the record it was decided on (the caller tells a stale read from a bug).
 */
function nextRecord(command: TransitionCommand): SettlementRecord {
  const { record, to, at } = command;
  const checkpoints = record.checkpoints ?? [];
  // A record rewritten whole must have been read whole: otherwise its history would be cut.
  invariant(checkpoints.length === record.version, `transition: ${record.settlementId} holds ${checkpoints.length} checkpoints at version ${record.version}`);
  const appended = [...(command.via ?? []), { status: to, stage: command.stage, at, reasonCode: command.reasonCode, detail: command.detail }].map(
    (checkpoint, index): Checkpoint => stripUndefined({ ...checkpoint, seq: record.version + index + 1 }),
  );
  invariant(checkpoints.length + appended.length <= checkpointsMax, `transition: ${record.settlementId} would hold more than ${checkpointsMax} checkpoints`);
  let next: SettlementRecord = stripUndefined({ ...record, ...command.patch, status: to, version: record.version + appended.length, updatedAt: at, checkpoints: [...checkpoints, ...appended] });
  for (const effect of command.effects ?? []) next = applyToRecord(next, effect);
  return next;
}

function applyToRecord(record: SettlementRecord, effect: Effect): SettlementRecord {
  const operations = record.operations ?? [];
  switch (effect.type) {
    case 'createLock': {
      const { lock } = effect;
      // A retried attempt locks again: it may replace the lock a previous attempt voided, never a pending or posted one.
      invariant(record.lock === undefined || record.lock.state === 'VOIDED', `createLock: ${record.settlementId} already has a ${record.lock?.state} lock`);
      // The record keeps the lock's legs as its own accounts: they must be the same.
      invariant(lock.vostroAccountId === record.payerAccountId && lock.nostroAccountId === record.nostroAccountId && lock.currency === record.currency, `createLock: ${record.settlementId} lock legs differ from the settlement`);
      invariant(lock.amount.equals(toMoney(record.amount)), `createLock: ${record.settlementId} lock must be for the settlement amount`);
      return { ...record, lock };
    }
    case 'endLock':
      // Ended exactly once: only a PENDING lock of exactly this amount.
      invariant(record.lock?.state === 'PENDING' && record.lock.amount.equals(effect.amount), `endLock: ${record.settlementId} has no PENDING lock of ${effect.amount.toFixed()}`);
      return { ...record, lock: { ...record.lock, state: effect.to, endedAt: effect.at } };
    case 'startOperation':
      invariant(!operations.some((operation) => operation.attempt === effect.attempt), `startOperation: ${record.settlementId} already has operation ${effect.attempt}`);
      invariant(operations.length < operationsMax, `startOperation: ${record.settlementId} has ${operationsMax} operations`);
      return { ...record, operations: [...operations, { attempt: effect.attempt, state: 'STARTED', startedAt: effect.at }] };
    case 'endOperation': {
      invariant(operations.some((operation) => operation.attempt === effect.attempt), `endOperation: ${record.settlementId} has no operation ${effect.attempt}`);
      // A parked operation has not ended: an operator or the retry job ends it.
      const ended = effect.state !== 'PARKED';
      return {
        ...record,
        operations: operations.map((operation) => (operation.attempt === effect.attempt ? stripUndefined({ ...operation, state: effect.state, endedAt: ended ? effect.at : undefined }) : operation)),
      };
    }
    default:
      return record;
  }
}

/** The record as stored. Compact: checkpoints `cp` {q, s, g, t, r, d}, operations `ops` {a, s, t, e}; the lock's legs and amount are the record's. */
/**
 * The stage that usually reaches each status: a checkpoint by that stage is stored without its stage name (`g`),
 * which keeps a happy-path record within one 1 KB write unit at Finalize (each started KB is a unit, twice in a
 * transaction). Changing an entry changes how stored checkpoints read: only add statuses.
 */
export const usualStage: Readonly<Record<SettlementStatus, string>> = {
  PENDING: 'Submit',
  VALIDATED: 'Validate',
  LOCKED: 'LockFunds',
  TRANSFER_INITIATED: 'InitiateTransfer',
  CONFIRMED: 'CheckConfirmation',
  COMPLETED: 'Finalize',
  ROLLING_BACK: 'BeginRollback',
  COMPENSATING: 'BeginRollback',
  COMPENSATED: 'Compensate',
  ROLLED_BACK: 'ReleaseLocks',
  FAILED: 'MarkFailed',
};

/** The record's `jobs` index keys, or none (table-definitions.ts: the index's partitions). */
function jobEntry(record: SettlementRecord, shard: string): { jobShard?: string; jobSince?: string } {
  if (record.parked) return { jobShard: parkedJobShard(shard), jobSince: record.parkedAt ?? record.attemptStartedAt };
  if (!isTerminal(record.status) || record.lock?.state === 'PENDING') return { jobShard: shard, jobSince: record.attemptStartedAt };
  if (record.status === 'FAILED' && record.retryable && record.retryAt) return { jobShard: retryJobShard(shard), jobSince: record.retryAt };
  return {};
}

function recordItem(record: SettlementRecord): Item {
  const { lock, checkpoints, operations, updatedAt, attemptStartedAt, ...fields } = record;
  const shard = indexShard(record.settlementId);
  const last = checkpoints?.[checkpoints.length - 1];
  return stripUndefined({
    pk: record.settlementId,
    sk: SortKey.record,
    itemType: 'SETTLEMENT',
    ...fields,
    // Stored only where they say more than the rest of the record (recordFromItem derives them otherwise): the
    // time of the last change is its last checkpoint's, an attempt 1 starts when the settlement was created.
    updatedAt: updatedAt === last?.at ? undefined : updatedAt,
    attemptStartedAt: attemptStartedAt === record.createdAt ? undefined : attemptStartedAt,
    amount: toNumberValue(record.amount),
    cp: (checkpoints ?? []).map((checkpoint) =>
      stripUndefined({ q: checkpoint.seq, s: checkpoint.status, g: checkpoint.stage === usualStage[checkpoint.status] ? undefined : checkpoint.stage, t: checkpoint.at, r: checkpoint.reasonCode, d: checkpoint.detail }),
    ),
    ops: (operations ?? []).map((operation) => stripUndefined({ a: operation.attempt, s: operation.state, t: operation.startedAt, e: operation.endedAt })),
    lockState: lock?.state,
    lockedAt: lock?.createdAt,
    expiresAt: lock?.expiresAt,
    lockEndedAt: lock?.endedAt,
    // The balance shards a hot account's legs hold the lock on (absent: 0).
    vostroShard: lock?.vostroShard,
    nostroShard: lock?.nostroShard,
    // The `jobs` index entry (sparse: present only while a job may have to act on the record), in the partitions of
    // the job that acts on it:
    // - not ended, or holding a pending lock (a terminal record with one is an anomaly cleanup and reconciliation
    //   must still see): keyed on the attempt's start, so only the first and the last write of a happy path touch
    //   the index;
    // - parked: waiting for an operator, not for the recovery sweep; keyed on when it was parked;
    // - FAILED and marked retryable: the retry job's, keyed on its next retry time.
    ...jobEntry(record, shard),
  });
}

export function recordFromItem(item: Item): SettlementRecord {
  const currency = String(item.currency);
  const request = Object.fromEntries(requestAttributes.map((name) => [name, item[name]])) as Omit<SettlementRequest, 'amount'>;
  return stripUndefined({
    ...request,
    amount: formatAmount(toMoney(item.amount), currency),
    status: item.status as SettlementStatus,
    version: toInteger(item.version),
    attempt: toInteger(item.attempt),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt ?? ((item.cp ?? []) as Item[]).at(-1)?.t),
    attemptStartedAt: String(item.attemptStartedAt ?? item.createdAt),
    completedAt: item.completedAt as string | undefined,
    reasonCode: item.reasonCode as string | undefined,
    reason: item.reason as string | undefined,
    retryable: item.retryable as boolean | undefined,
    parked: item.parked as boolean | undefined,
    parkedAt: item.parkedAt as string | undefined,
    retryAt: item.retryAt as string | undefined,
    payerAccountId: item.payerAccountId as string | undefined,
    nostroAccountId: item.nostroAccountId as string | undefined,
    nostroBic: item.nostroBic as string | undefined,
    bankReference: item.bankReference as string | undefined,
    confirmationPolls: item.confirmationPolls === undefined ? undefined : toInteger(item.confirmationPolls),
    failedStage: item.failedStage as string | undefined,
    submittedBy: item.submittedBy as string | undefined,
    lock: lockFromItem(item),
    checkpoints: ((item.cp ?? []) as Item[]).map(
      (checkpoint): Checkpoint =>
        stripUndefined({ seq: toInteger(checkpoint.q), status: checkpoint.s as SettlementStatus, stage: String(checkpoint.g ?? usualStage[checkpoint.s as SettlementStatus]), at: String(checkpoint.t), reasonCode: checkpoint.r as string | undefined, detail: checkpoint.d as string | undefined }),
    ),
    operations: ((item.ops ?? []) as Item[]).map(
      (operation): OperationEntry => stripUndefined({ attempt: toInteger(operation.a), state: operation.s as OperationState, startedAt: String(operation.t), endedAt: operation.e as string | undefined }),
    ),
  });
}

/**
 * Settlement RECORD items by settlement id, strongly consistent, in the order given (missing ids left out). The
 * keys-only indexes (`jobs`) return ids; their readers fetch the records here.
 */
export async function getRecordItems(documentClient: DynamoDBDocumentClient, tables: Pick<TableNames, 'settlements'>, settlementIds: readonly string[]): Promise<Item[]> {
  const keys = [...new Set(settlementIds)].map((pk) => ({ pk, sk: SortKey.record }));
  const found = new Map((await batchGetConsistent(documentClient, tables.settlements, keys)).map((item) => [String(item.pk), item]));
  return settlementIds.flatMap((settlementId): Item[] => {
    const item = found.get(settlementId);
    return item ? [item] : [];
  });
}

/** The fund lock a record item holds (its legs are the record's accounts, its amount the settlement's), if any. */
export function lockFromItem(item: Item): FundLock | undefined {
  if (item.lockState === undefined) return undefined;
  return stripUndefined({
    settlementId: String(item.settlementId),
    state: item.lockState as FundLock['state'],
    amount: toMoney(item.amount),
    currency: String(item.currency),
    vostroAccountId: String(item.payerAccountId),
    nostroAccountId: String(item.nostroAccountId),
    vostroShard: item.vostroShard === undefined ? undefined : toInteger(item.vostroShard),
    nostroShard: item.nostroShard === undefined ? undefined : toInteger(item.nostroShard),
    createdAt: String(item.lockedAt),
    expiresAt: String(item.expiresAt),
    endedAt: item.lockEndedAt as string | undefined,
  });
}

/** The record's checkpoints as events: each with the status before it and the settlement's request fields. */
export function eventsOf(record: SettlementRecord): SettlementEvent[] {
  const checkpoints = record.checkpoints ?? [];
  return checkpoints.map((checkpoint, index) =>
    stripUndefined({
      settlementId: record.settlementId,
      seq: checkpoint.seq,
      status: checkpoint.status,
      previousStatus: index === 0 ? null : checkpoints[index - 1].status,
      stage: checkpoint.stage,
      at: checkpoint.at,
      reasonCode: checkpoint.reasonCode,
      detail: checkpoint.detail,
      payerBic: record.payerBic,
      payeeBic: record.payeeBic,
      currency: record.currency,
      amount: record.amount,
      submittedBy: record.submittedBy,
    }),
  );
}

/** An EVENT item of the layout before the lean write path (one item per checkpoint), as the change stream may still carry. */
export function eventFromItem(item: Item): SettlementEvent {
  return stripUndefined({
    settlementId: String(item.settlementId),
    seq: toInteger(item.seq),
    status: item.status as SettlementStatus,
    previousStatus: (item.previousStatus ?? null) as SettlementStatus | null,
    stage: String(item.stage),
    at: String(item.at),
    reasonCode: item.reasonCode as string | undefined,
    detail: item.detail as string | undefined,
    payerBic: String(item.payerBic),
    payeeBic: String(item.payeeBic),
    currency: String(item.currency),
    amount: String(item.amount),
    submittedBy: item.submittedBy as string | undefined,
  });
}

function compensationFromItem(item: Item): CompensationRecord {
  return stripUndefined({
    settlementId: String(item.settlementId),
    attempt: toInteger(item.attempt),
    idempotencyKey: String(item.idempotencyKey),
    state: item.state as CompensationRecord['state'],
    bankState: item.bankState as string | undefined,
    reason: String(item.reason),
    at: String(item.at),
  });
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function assertNeverEffect(effect: never): never {
  throw new InvariantViolationError(`unknown effect ${JSON.stringify(effect)}`);
}

export type { TransactWriteItem };
