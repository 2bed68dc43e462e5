/**
 * DynamoDB adapter of RecoveryStore: Queries on the sparse keys-only `jobs` index of the settlements table, one per
 * partition of the job's, merged in sort-key order (with the retiring indexes it replaces, those the table has).
 * Index reads are eventually consistent; every use case re-reads the record (ConsistentRead) before it acts on an
 * entry, and the listings that return records read them consistently.
 */
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors';
import type { IndexPage, OperationKey, PageQuery, RecoveryStore } from '../../ports/recovery';
import type { FundLock, SettlementRecord } from '../../ports/stores';
import { isConditionalCheckFailed, toInteger } from './client';
import { guard } from './client';
import { SortKey, getRecordItems, lockFromItem, recordFromItem } from './settlement-store';
import { indexShardCount, parkedJobShard, retryJobShard, type TableNames } from './table-definitions';

type Item = Record<string, unknown>;

/** Deletes in flight at once during cleanup. */
export const deleteConcurrencyMax = 8;

const shards = Array.from({ length: indexShardCount }, (_, index) => String(index));

interface IndexSpec {
  readonly indexName: string;
  readonly shardAttribute: string;
  readonly sortAttribute: string;
}

const jobs: IndexSpec = { indexName: 'jobs', shardAttribute: 'jobShard', sortAttribute: 'jobSince' };

/** Retiring (replaced by `jobs`): read for items last written before it, where the table has them, until the release that removes each. */
const retiringIndexes = {
  retryQueue: { indexName: 'retryQueue', shardAttribute: 'retryShard', sortAttribute: 'retryAt' },
  parked: { indexName: 'parked', shardAttribute: 'parkedShard', sortAttribute: 'parkedAt' },
  endedOperations: { indexName: 'endedOperations', shardAttribute: 'endedShard', sortAttribute: 'endedAt' },
  inFlight: { indexName: 'inFlight', shardAttribute: 'inFlightShard', sortAttribute: 'inFlightSince' },
  pendingLocks: { indexName: 'pendingLocks', shardAttribute: 'lockShard', sortAttribute: 'expiresAt' },
} as const satisfies Record<string, IndexSpec>;

/** Upper bound on an index's sort key: `<=` or `<` a value, or none. */
type Bound = { readonly value: string; readonly inclusive: boolean } | undefined;

/** One index partition a listing reads, with its bound: a listing is one or more of these, merged. */
interface Source {
  readonly index: IndexSpec;
  readonly shard: string;
  readonly bound: Bound;
}

function sourcesOf(index: IndexSpec, shardValues: readonly string[], bound: Bound): Source[] {
  return shardValues.map((shard) => ({ index, shard, bound }));
}

/** The `jobs` index partitions: records not ended (or holding a pending lock), parked ones, those due for a retry. */
const activeJobShards = shards;
const parkedJobShards = shards.map(parkedJobShard);
const retryJobShards = shards.map(retryJobShard);

/** Settlement ids of the entries, each once (a record rewritten since it was last in a retiring index can be in both for a moment). */
function distinctIds(items: readonly Item[]): string[] {
  return [...new Set(items.map((item) => String(item.pk)))];
}

export class DynamoRecoveryStore implements RecoveryStore {
  private readonly retiring: ReadonlySet<string>;

  /** `retiring`: the retiring indexes the table has (config `retiringIndexes`); the others are not queried. */
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    retiring: readonly string[],
  ) {
    this.retiring = new Set(retiring);
  }

  async dueRetries(now: string, page: PageQuery): Promise<IndexPage<string>> {
    const bound = { value: now, inclusive: true };
    const entries = await this.page([...sourcesOf(jobs, retryJobShards, bound), ...this.retiringSources('retryQueue', bound)], page);
    return { items: distinctIds(entries.items), ...(entries.nextCursor !== undefined && { nextCursor: entries.nextCursor }) };
  }

  async inFlight(startedBefore: string, page: PageQuery): Promise<IndexPage<string>> {
    const bound = { value: startedBefore, inclusive: true };
    const entries = await this.page([...sourcesOf(jobs, activeJobShards, bound), ...this.retiringSources('inFlight', bound)], page);
    return { items: distinctIds(entries.items), ...(entries.nextCursor !== undefined && { nextCursor: entries.nextCursor }) };
  }

  async expiredLocks(now: string, attemptsStartedBefore: string, page: PageQuery): Promise<IndexPage<FundLock>> {
    // The `jobs` index holds the keys of every record whose lock may be pending. Not parked: keyed on the attempt's
    // start; a lock is taken after its attempt started, so every lock that expired before `now` is on a record whose
    // attempt started before `attemptsStartedBefore` (now − the lock TTL). Parked: keyed on when it was parked, which
    // says nothing of the lock's expiry, so the parked partitions (an operator's queue, short) are read whole. The
    // records are read here (consistent) and only a lock still PENDING and expired is returned; one that ended since
    // the index was read is left out. The retiring `pendingLocks` index is keyed on the expiry itself.
    const entries = await this.page(
      [
        ...sourcesOf(jobs, activeJobShards, { value: attemptsStartedBefore, inclusive: true }),
        ...sourcesOf(jobs, parkedJobShards, undefined),
        ...this.retiringSources('pendingLocks', { value: now, inclusive: false }),
      ],
      page,
    );
    const records = await getRecordItems(this.documentClient, this.tables, distinctIds(entries.items));
    const locks = records.flatMap((item) => {
      const lock = lockFromItem(item);
      return lock?.state === 'PENDING' && lock.expiresAt < now ? [lock] : [];
    });
    return { items: locks, ...(entries.nextCursor !== undefined && { nextCursor: entries.nextCursor }) };
  }

  async endedOperations(endedBefore: string, page: PageQuery): Promise<IndexPage<OperationKey>> {
    // OPERATION items are the layout before the lean write path (the record holds its operations now): only a table
    // deployed before it has any, and the retiring index that finds them.
    const sources = this.retiringSources('endedOperations', { value: endedBefore, inclusive: false });
    if (sources.length === 0) return { items: [] };
    return mapPage(await this.page(sources, page), (item) => ({
      settlementId: String(item.pk),
      attempt: toInteger(String(item.sk).slice('OPERATION#'.length)),
    }));
  }

  async parked(page: PageQuery): Promise<IndexPage<SettlementRecord>> {
    // Keys, earliest parked first; then the records, read consistently: one unparked since the index was read is
    // left out (the page may then hold fewer than its limit, with more to come).
    const entries = await this.page([...sourcesOf(jobs, parkedJobShards, undefined), ...this.retiringSources('parked', undefined)], page);
    // A record the release before this one parked is in both: the `parked` index (all attributes, so its entry
    // shows the `jobs` keys too) and the parked `jobs` partitions (then keyed on the attempt's start). It is listed
    // from `jobs` only, so a page after page listing names it once.
    const fromJobs = entries.items.filter((item) => item.parkedShard === undefined || item.jobShard === undefined);
    const records = (await getRecordItems(this.documentClient, this.tables, distinctIds(fromJobs))).map(recordFromItem).filter((record) => record.parked === true);
    return { items: records, ...(entries.nextCursor !== undefined && { nextCursor: entries.nextCursor }) };
  }

  async deleteEndedOperations(keys: readonly OperationKey[]): Promise<number> {
    let deleted = 0;
    for (let start = 0; start < keys.length; start += deleteConcurrencyMax) {
      const outcomes = await Promise.all(keys.slice(start, start + deleteConcurrencyMax).map((key) => this.deleteEndedOperation(key)));
      deleted += outcomes.filter(Boolean).length;
    }
    return deleted;
  }

  /** The shards of a retiring index, when the table has it; none otherwise. */
  private retiringSources(name: keyof typeof retiringIndexes, bound: Bound): Source[] {
    return this.retiring.has(name) ? sourcesOf(retiringIndexes[name], shards, bound) : [];
  }

  /**
   * One page of a listing (index partitions, each with its bound), in sort-key order. Each partition is read from
   * where the previous page stopped consuming it, so entries that stay in the index (parked, skipped) never hide
   * the ones behind them.
   */
  private async page(sources: readonly Source[], query: PageQuery): Promise<IndexPage<Item>> {
    const cursor = query.cursor === undefined ? sources.map((): ShardCursor => 'start') : decodeCursor(query.cursor, sources);
    const reads = await Promise.all(sources.map((source, position) => this.readShard(source, query.limit, cursor[position])));
    const sortValue = (entry: { item: Item; position: number }) => String(entry.item[sources[entry.position].index.sortAttribute]);
    const merged = reads
      .flatMap((read, position) => read.items.map((item) => ({ item, position })))
      .sort((a, b) => sortValue(a).localeCompare(sortValue(b)) || String(a.item.pk).localeCompare(String(b.item.pk)))
      .slice(0, query.limit);
    const next = cursor.slice();
    reads.forEach((read, position) => {
      const consumed = merged.filter((entry) => entry.position === position);
      if (consumed.length === read.items.length && read.exhausted) next[position] = 'done';
      else if (consumed.length > 0) next[position] = indexKey(consumed[consumed.length - 1].item, sources[position].index);
    });
    const more = next.some((state) => state !== 'done');
    return { items: merged.map((entry) => entry.item), ...(more && { nextCursor: encodeCursor(next) }) };
  }

  private async readShard(source: Source, limit: number, state: ShardCursor): Promise<{ items: Item[]; exhausted: boolean }> {
    if (state === 'done') return { items: [], exhausted: true };
    const { index, shard, bound } = source;
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
function decodeCursor(cursor: string, sources: readonly Source[]): ShardCursor[] {
  const valid = (state: unknown, position: number): boolean => {
    if (state === 'start' || state === 'done') return true;
    if (typeof state !== 'object' || state === null || Array.isArray(state)) return false;
    const { index, shard } = sources[position];
    const attributes = ['pk', 'sk', index.shardAttribute, index.sortAttribute];
    const key = state as Item;
    return Object.keys(key).length === attributes.length && attributes.every((name) => typeof key[name] === 'string') && key[index.shardAttribute] === shard;
  };
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === sources.length && value.every(valid)) return value as ShardCursor[];
  } catch {
    // falls through to the validation error
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this listing');
}
