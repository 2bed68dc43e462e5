/**
 * DynamoDB adapter of SettlementStore. A settlement's record, lock, events (checkpoints), operations and
 * compensations share one partition (pk = settlement id), so one Query returns its whole history.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { InvariantViolationError, invariant } from '../../domain/errors';
import { formatAmount } from '../../domain/money';
import { isTerminal, type SettlementRequest, type SettlementStatus } from '../../domain/settlement';
import {
  StaleSettlementError,
  type CompensationRecord,
  type Effect,
  type FundLock,
  type SettlementEvent,
  type SettlementHistory,
  type SettlementRecord,
  type SettlementStore,
  type TransitionCommand,
} from '../../ports/stores';
import { cancellationReasons, guard, toInteger, toMoney, toNumberValue, translateTransientError } from './client';
import { indexShardCount, type TableNames } from './table-definitions';
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

/** Retention of ended atomic operations before cleanup (and DynamoDB TTL) removes them. */
export const operationRetentionSeconds = 7 * 24 * 3600;

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

  async create(request: SettlementRequest, at: string, submittedBy?: string): Promise<{ created: boolean; record: SettlementRecord }> {
    const record: SettlementRecord = { ...request, status: 'PENDING', version: 1, attempt: 1, createdAt: at, updatedAt: at, attemptStartedAt: at, ...(submittedBy !== undefined && { submittedBy }) };
    const event = this.eventOf(record, null, 'Submit', at);
    try {
      await this.documentClient.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tables.settlements,
                Item: this.recordItem(record),
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            // No condition of its own: the record's creation guard above lets exactly one transaction write event 1.
            { Put: { TableName: this.tables.settlements, Item: this.eventItem(event) } },
            { Put: { TableName: this.tables.settlements, Item: this.operationItem(record.settlementId, 1, at) } },
          ],
        }),
      );
      return { created: true, record };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons?.[0]?.Code === 'ConditionalCheckFailed') {
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
    const result = await guard(() => this.documentClient.send(new GetCommand({ TableName: this.tables.settlements, Key: { pk: settlementId, sk: SortKey.lock }, ConsistentRead: true })));
    return result.Item ? lockFromItem(result.Item) : undefined;
  }

  async history(settlementId: string): Promise<SettlementHistory | undefined> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    // Bounded: a settlement has a few dozen items; the page loop guards against a runaway partition.
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
    const recordItem = items.find((item) => item.sk === SortKey.record);
    if (!recordItem) return undefined;
    const lockItem = items.find((item) => item.sk === SortKey.lock);
    return {
      record: recordFromItem(recordItem),
      lock: lockItem ? lockFromItem(lockItem) : undefined,
      events: items.filter((item) => String(item.sk).startsWith('EVENT#')).map(eventFromItem),
      compensations: items.filter((item) => String(item.sk).startsWith('COMPENSATION#')).map(compensationFromItem),
    };
  }

  async transition(command: TransitionCommand): Promise<SettlementRecord> {
    const { record, to, at } = command;
    const next: SettlementRecord = stripUndefined({ ...record, ...command.patch, status: to, version: record.version + 1, updatedAt: at });
    const event = this.eventOf(next, record.status, command.stage, at, command.reasonCode, command.detail);
    const effects = command.effects ?? [];
    const transactItems: DocumentTransactItem[] = [
      {
        Put: {
          TableName: this.tables.settlements,
          Item: this.recordItem(next),
          // The one guard of a transition: a stale or duplicate transition fails here, naming the cause.
          ConditionExpression: '#status = :from AND version = :version',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':from': record.status, ':version': record.version },
        },
      },
      // No condition of its own: the event's sort key is the record's next version, which the record's guard above
      // lets exactly one transition take (a second guard here would only shadow that one).
      { Put: { TableName: this.tables.settlements, Item: this.eventItem(event) } },
    ];
    // An effect may write several items (a lock on a hot account moves surplus between its shards): remember each one's.
    const effectItems = effects.map((effect) => this.effectItems(effect, record.settlementId));
    transactItems.push(...effectItems.flat());
    invariant(transactItems.length <= 100, 'transition: more than 100 items in one transaction');
    try {
      await this.documentClient.send(new TransactWriteCommand({ TransactItems: transactItems }));
      return next;
    } catch (error) {
      throw this.explainCancellation(error, record.settlementId, effects, effectItems.map((items) => items.length));
    }
  }

  /** Maps a cancelled transaction to the condition that failed: stale record, or an effect's business rule. */
  private explainCancellation(error: unknown, settlementId: string, effects: readonly Effect[], itemCounts: readonly number[]): unknown {
    const reasons = cancellationReasons(error);
    if (!reasons) return translateTransientError(error);
    if (reasons.some((reason) => reason.Code === 'TransactionConflict' || reason.Code === 'ThrottlingError')) return translateTransientError(error);
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return new StaleSettlementError(settlementId);
    for (let index = 0, offset = 2; index < effects.length; offset += itemCounts[index], index++) {
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

  private effectItems(effect: Effect, settlementId: string): DocumentTransactItem[] {
    return isAccountEffect(effect) ? accountEffectItems(this.tables, effect, new Date().toISOString()) : [this.effectItem(effect, settlementId)];
  }

  private effectItem(effect: Effect, settlementId: string): DocumentTransactItem {
    switch (effect.type) {
      case 'lockAmount':
      case 'releaseLockedAmount':
      case 'postLockedAmount':
        throw new InvariantViolationError(`effect ${effect.type} writes account items (effectItems)`);
      case 'createLock':
        // A retried attempt locks again: it may replace the lock a previous attempt voided, never a pending or posted one.
        return {
          Put: {
            TableName: this.tables.settlements,
            Item: lockItem(effect.lock),
            ConditionExpression: 'attribute_not_exists(pk) OR lockState = :voided',
            ExpressionAttributeValues: { ':voided': 'VOIDED' },
          },
        };
      case 'endLock':
        return {
          Update: {
            TableName: this.tables.settlements,
            Key: { pk: effect.settlementId, sk: SortKey.lock },
            UpdateExpression: 'SET lockState = :to, endedAt = :at REMOVE lockShard',
            ConditionExpression: 'lockState = :pending AND amount = :amount',
            ExpressionAttributeValues: { ':to': effect.to, ':at': effect.at, ':pending': 'PENDING', ':amount': toNumberValue(effect.amount) },
          },
        };
      case 'ledgerEntry':
        return ledgerEntryPut(this.tables.ledger, effect.entry);
      case 'startOperation':
        return { Put: { TableName: this.tables.settlements, Item: this.operationItem(settlementId, effect.attempt, effect.at), ConditionExpression: 'attribute_not_exists(pk)' } };
      case 'endOperation': {
        // A parked operation has not ended: it stays out of the cleanup index until an operator or retry ends it.
        const ended = effect.state !== 'PARKED';
        const endedAtEpochSeconds = Math.floor(Date.parse(effect.at) / 1000);
        return {
          Update: {
            TableName: this.tables.settlements,
            Key: { pk: settlementId, sk: SortKey.operation(effect.attempt) },
            UpdateExpression: ended
              ? 'SET operationState = :state, endedAt = :at, endedShard = :shard, #ttl = :ttl'
              : 'SET operationState = :state, parkedAt = :at',
            ConditionExpression: 'attribute_exists(pk)',
            ...(ended && { ExpressionAttributeNames: { '#ttl': 'ttl' } }),
            ExpressionAttributeValues: {
              ':state': effect.state,
              ':at': effect.at,
              ...(ended && { ':shard': indexShard(settlementId), ':ttl': endedAtEpochSeconds + operationRetentionSeconds }),
            },
          },
        };
      }
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

  private recordItem(record: SettlementRecord): Item {
    const terminal = isTerminal(record.status);
    const shard = indexShard(record.settlementId);
    return stripUndefined({
      pk: record.settlementId,
      sk: SortKey.record,
      itemType: 'SETTLEMENT',
      ...record,
      amount: toNumberValue(record.amount),
      // Sparse index attributes: present only while the record belongs in the index.
      // A parked record waits for an operator, not for the recovery sweep: it leaves inFlight for the parked index.
      inFlightShard: terminal || record.parked ? undefined : shard,
      inFlightSince: terminal || record.parked ? undefined : record.attemptStartedAt,
      retryShard: record.status === 'FAILED' && record.retryable && !record.parked && record.retryAt ? shard : undefined,
      parkedShard: record.parked ? shard : undefined,
    });
  }

  private eventOf(record: SettlementRecord, previousStatus: SettlementStatus | null, stage: string, at: string, reasonCode?: string, detail?: string): SettlementEvent {
    return stripUndefined({
      settlementId: record.settlementId,
      seq: record.version,
      status: record.status,
      previousStatus,
      stage,
      at,
      reasonCode,
      detail,
      payerBic: record.payerBic,
      payeeBic: record.payeeBic,
      currency: record.currency,
      amount: record.amount,
      submittedBy: record.submittedBy,
    });
  }

  private eventItem(event: SettlementEvent): Item {
    return { pk: event.settlementId, sk: SortKey.event(event.seq), itemType: 'EVENT', ...event };
  }

  private operationItem(settlementId: string, attempt: number, at: string): Item {
    return { pk: settlementId, sk: SortKey.operation(attempt), itemType: 'OPERATION', attempt, operationState: 'STARTED', startedAt: at };
  }
}

function isAccountEffect(effect: Effect): effect is AccountEffect {
  return effect.type === 'lockAmount' || effect.type === 'releaseLockedAmount' || effect.type === 'postLockedAmount';
}

function lockItem(lock: FundLock): Item {
  return stripUndefined({
    pk: lock.settlementId,
    sk: SortKey.lock,
    itemType: 'LOCK',
    settlementId: lock.settlementId,
    lockState: lock.state,
    amount: toNumberValue(lock.amount),
    currency: lock.currency,
    vostroAccountId: lock.vostroAccountId,
    nostroAccountId: lock.nostroAccountId,
    vostroShard: lock.vostroShard,
    nostroShard: lock.nostroShard,
    createdAt: lock.createdAt,
    expiresAt: lock.expiresAt,
    endedAt: lock.endedAt,
    lockShard: lock.state === 'PENDING' ? indexShard(lock.settlementId) : undefined,
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
    updatedAt: String(item.updatedAt),
    attemptStartedAt: String(item.attemptStartedAt),
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
  });
}

export function lockFromItem(item: Item): FundLock {
  return stripUndefined({
    settlementId: String(item.settlementId),
    state: item.lockState as FundLock['state'],
    amount: toMoney(item.amount),
    currency: String(item.currency),
    vostroAccountId: String(item.vostroAccountId),
    nostroAccountId: String(item.nostroAccountId),
    vostroShard: item.vostroShard === undefined ? undefined : toInteger(item.vostroShard),
    nostroShard: item.nostroShard === undefined ? undefined : toInteger(item.nostroShard),
    createdAt: String(item.createdAt),
    expiresAt: String(item.expiresAt),
    endedAt: item.endedAt as string | undefined,
  });
}

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
