/**
 * DynamoDB adapter of RecoveryStore: Queries on the sparse indexes of the settlements table, one per shard, merged
 * in sort-key order. Index reads are eventually consistent; every use case re-reads the record (ConsistentRead)
 * before it acts on an entry.
 */
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors';
import type { IndexPage, OperationKey, PageQuery, RecoveryStore } from '../../ports/recovery';
import type { FundLock, SettlementRecord } from '../../ports/stores';
import { isConditionalCheckFailed, toInteger } from './client';
import { guard } from './client';
import { SortKey, getRecordItems, lockFromItem, recordFromItem } from './settlement-store';
import { indexShardCount, type TableNames } from './table-definitions';

type Item = Record<string, unknown>;

/** Deletes in flight at once during cleanup. */
export const deleteConcurrencyMax = 8;

const shards = Array.from({ length: indexShardCount }, (_, index) => String(index));

interface IndexSpec {
  readonly indexName: string;
  readonly shardAttribute: string;
  readonly sortAttribute: string;
}

const indexes = {
  retryQueue: { indexName: 'retryQueue', shardAttribute: 'retryShard', sortAttribute: 'retryAt' },
  inFlight: { indexName: 'inFlight', shardAttribute: 'inFlightShard', sortAttribute: 'inFlightSince' },
  pendingLocks: { indexName: 'pendingLocks', shardAttribute: 'lockShard', sortAttribute: 'expiresAt' },
  endedOperations: { indexName: 'endedOperations', shardAttribute: 'endedShard', sortAttribute: 'endedAt' },
  parked: { indexName: 'parked', shardAttribute: 'parkedShard', sortAttribute: 'parkedAt' },
} as const satisfies Record<string, IndexSpec>;

/** Upper bound on an index's sort key: `<=` or `<` a value, or none. */
type Bound = { readonly value: string; readonly inclusive: boolean } | undefined;

export class DynamoRecoveryStore implements RecoveryStore {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async dueRetries(now: string, page: PageQuery): Promise<IndexPage<string>> {
    return mapPage(await this.page(indexes.retryQueue, { value: now, inclusive: true }, page), (item) => String(item.pk));
  }

  async inFlight(startedBefore: string, page: PageQuery): Promise<IndexPage<string>> {
    return mapPage(await this.page(indexes.inFlight, { value: startedBefore, inclusive: true }, page), (item) => String(item.pk));
  }

  async expiredLocks(now: string, page: PageQuery): Promise<IndexPage<FundLock>> {
    // The index holds the keys of settlement records whose lock is PENDING (lockShard is set only then): keys only,
    // so the writes of a settlement whose lock is pending (InitiateTransfer) do not rewrite its entry. The records
    // are read here; one whose lock ended since the index was read is left out (the entry was on its way out).
    const entries = await this.page(indexes.pendingLocks, { value: now, inclusive: false }, page);
    const records = await getRecordItems(this.documentClient, this.tables, entries.items.map((item) => String(item.pk)));
    const locks = records.flatMap((item) => {
      const lock = lockFromItem(item);
      return lock?.state === 'PENDING' ? [lock] : [];
    });
    return { items: locks, ...(entries.nextCursor !== undefined && { nextCursor: entries.nextCursor }) };
  }

  async endedOperations(endedBefore: string, page: PageQuery): Promise<IndexPage<OperationKey>> {
    return mapPage(await this.page(indexes.endedOperations, { value: endedBefore, inclusive: false }, page), (item) => ({
      settlementId: String(item.pk),
      attempt: toInteger(String(item.sk).slice('OPERATION#'.length)),
    }));
  }

  async parked(page: PageQuery): Promise<IndexPage<SettlementRecord>> {
    return mapPage(await this.page(indexes.parked, undefined, page), recordFromItem);
  }

  async deleteEndedOperations(keys: readonly OperationKey[]): Promise<number> {
    let deleted = 0;
    for (let start = 0; start < keys.length; start += deleteConcurrencyMax) {
      const outcomes = await Promise.all(keys.slice(start, start + deleteConcurrencyMax).map((key) => this.deleteEndedOperation(key)));
      deleted += outcomes.filter(Boolean).length;
    }
    return deleted;
  }

  /**
   * One page of an index over every shard, in sort-key order. Each shard is read from where the previous page
   * stopped consuming it, so entries that stay in the index (parked, skipped) never hide the ones behind them.
   */
  private async page(index: IndexSpec, bound: Bound, query: PageQuery): Promise<IndexPage<Item>> {
    const cursor = query.cursor === undefined ? shards.map((): ShardCursor => 'start') : decodeCursor(query.cursor, index);
    const reads = await Promise.all(shards.map((shard, position) => this.readShard(index, shard, bound, query.limit, cursor[position])));
    const merged = reads
      .flatMap((read, position) => read.items.map((item) => ({ item, position })))
      .sort((a, b) => String(a.item[index.sortAttribute]).localeCompare(String(b.item[index.sortAttribute])) || String(a.item.pk).localeCompare(String(b.item.pk)))
      .slice(0, query.limit);
    const next = cursor.slice();
    reads.forEach((read, position) => {
      const consumed = merged.filter((entry) => entry.position === position);
      if (consumed.length === read.items.length && read.exhausted) next[position] = 'done';
      else if (consumed.length > 0) next[position] = indexKey(consumed[consumed.length - 1].item, index);
    });
    const more = next.some((state) => state !== 'done');
    return { items: merged.map((entry) => entry.item), ...(more && { nextCursor: encodeCursor(next) }) };
  }

  private async readShard(index: IndexSpec, shard: string, bound: Bound, limit: number, state: ShardCursor): Promise<{ items: Item[]; exhausted: boolean }> {
    if (state === 'done') return { items: [], exhausted: true };
    const result = await guard(() =>
      this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.settlements,
          IndexName: index.indexName,
          KeyConditionExpression: bound ? `#shard = :shard AND #sort ${bound.inclusive ? '<=' : '<'} :bound` : '#shard = :shard',
          ExpressionAttributeNames: { '#shard': index.shardAttribute, ...(bound && { '#sort': index.sortAttribute }) },
          ExpressionAttributeValues: { ':shard': shard, ...(bound && { ':bound': bound.value }) },
          Limit: limit,
          ...(state !== 'start' && { ExclusiveStartKey: state }),
        }),
      ),
    );
    return { items: result.Items ?? [], exhausted: result.LastEvaluatedKey === undefined };
  }

  private async deleteEndedOperation(key: OperationKey): Promise<boolean> {
    try {
      await guard(() =>
        this.documentClient.send(
          new DeleteCommand({
            TableName: this.tables.settlements,
            Key: { pk: key.settlementId, sk: SortKey.operation(key.attempt) },
            // Only an operation that has ended: a resumed one is never removed under a running attempt.
            ConditionExpression: 'attribute_exists(endedAt)',
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

/** Per shard: not read yet, the index key after which to continue, or nothing left. */
type ShardCursor = 'start' | 'done' | Item;

function mapPage<T>(page: IndexPage<Item>, map: (item: Item) => T): IndexPage<T> {
  return { items: page.items.map(map), ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
}

function indexKey(item: Item, index: IndexSpec): Item {
  return { pk: item.pk, sk: item.sk, [index.shardAttribute]: item[index.shardAttribute], [index.sortAttribute]: item[index.sortAttribute] };
}

function encodeCursor(cursor: readonly ShardCursor[]): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** A cursor is only ever one this listing issued: anything else is a client error, not a read position. */
function decodeCursor(cursor: string, index: IndexSpec): ShardCursor[] {
  const attributes = ['pk', 'sk', index.shardAttribute, index.sortAttribute];
  const valid = (state: unknown, position: number): boolean => {
    if (state === 'start' || state === 'done') return true;
    if (typeof state !== 'object' || state === null || Array.isArray(state)) return false;
    const key = state as Item;
    return Object.keys(key).length === attributes.length && attributes.every((name) => typeof key[name] === 'string') && key[index.shardAttribute] === shards[position];
  };
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === shards.length && value.every(valid)) return value as ShardCursor[];
  } catch {
    // falls through to the validation error
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this listing');
}
