/**
 * DynamoDB adapter of reconciliation persistence and of the ledger reads a run needs.
 *
 * Reconciliation table: RUN#<accountId>#<from>#<to>/RUN (the run lock: conditional put with an expiry),
 * REPORT#<id>/SUMMARY (gsi1 = REPORTS#<accountId> / <startedAt>#<id>), REPORT#<id>/ITEM#<seq> (one discrepancy
 * each, written in batches as the engine finds them). Reports expire by TTL after `reportRetentionDays`.
 *
 * Ledger reads page through one account's partition in posting order (ConsistentRead: a run must see every
 * posting committed before it started), so the engine's memory does not grow with the period's length.
 */
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError, invariant } from '../../domain/errors';
import { Money, formatAmount } from '../../domain/money';
import type { Discrepancy, LedgerEntryView, PendingLockView } from '../../domain/reconciliation';
import type { SettlementStatus } from '../../domain/settlement';
import type { LedgerReader, Page, ReconciliationStore, StoredReport } from '../../ports/operations';
import { isConditionalCheckFailed, toInteger, toMoney, translateTransientError } from './client';
import { guard } from './client';
import { indexShardCount, parkedJobShard, type TableNames } from './table-definitions';
import { getAccountItem } from './account-store';
import { ledgerPartition, shardCountOf } from './account-shards';
import { getRecordItems, lockFromItem } from './settlement-store';

type Item = Record<string, unknown>;

/** How long reports and their items are kept (DynamoDB TTL). */
export const reportRetentionDays = 400;
/** Items per BatchWriteItem (DynamoDB's maximum). */
export const discrepancyBatchSize = 25;
/** Attempts to write a batch's unprocessed items before giving up. */
export const batchWriteAttemptsMax = 8;
/** Ledger items per Query page. */
export const ledgerPageSize = 1000;
/** Re-reads of the balance when a posting lands while the run computes the balance at the period's end. */
export const balanceReadAttemptsMax = 5;
/** Pending locks one run reads (all shards together). */
export const pendingLocksMax = 10_000;
export const reportPageSizeMax = 200;

const shards = Array.from({ length: indexShardCount }, (_, index) => String(index));

/**
 * The index partitions an account's pending locks are found in: the `jobs` partitions of records not ended and of
 * parked ones (a record due for a retry holds no pending lock: one that does stays in the first), and the retiring
 * `pendingLocks` where the table has it.
 */
function pendingLockSources(retiring: readonly string[]) {
  return [
    ...[...shards, ...shards.map(parkedJobShard)].map((shard) => ({ indexName: 'jobs', shardAttribute: 'jobShard', shard })),
    ...(retiring.includes('pendingLocks') ? shards.map((shard) => ({ indexName: 'pendingLocks', shardAttribute: 'lockShard', shard })) : []),
  ];
}

export class DynamoReconciliationStore implements ReconciliationStore, LedgerReader {
  private readonly pendingLockSources: ReturnType<typeof pendingLockSources>;

  /** `retiring`: the retiring indexes the settlements table has (config `retiringIndexes`). */
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
    retiring: readonly string[],
  ) {
    this.pendingLockSources = pendingLockSources(retiring);
  }

  // ---- run lock ----

  async acquireRunLock(run: { accountId: string; from: string; to: string; reportId: string; lockedUntil: string; now: string }): Promise<{ acquired: true } | { acquired: false; lockedUntil?: string }> {
    const key = runKey(run);
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tables.reconciliation,
          Item: { ...key, itemType: 'RUN', reportId: run.reportId, lockedUntil: run.lockedUntil, ttl: epochSeconds(run.lockedUntil) + 3600 },
          // A lock past its expiry belongs to a run that died: it may be taken over.
          ConditionExpression: 'attribute_not_exists(pk) OR lockedUntil < :now',
          ExpressionAttributeValues: { ':now': run.now },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        const old = (error as { Item?: Item }).Item;
        return { acquired: false, ...(old?.lockedUntil !== undefined && { lockedUntil: readString(old.lockedUntil) }) };
      }
      throw translateTransientError(error);
    }
  }

  async releaseRunLock(run: { accountId: string; from: string; to: string; reportId: string }): Promise<void> {
    try {
      await this.documentClient.send(
        new DeleteCommand({ TableName: this.tables.reconciliation, Key: runKey(run), ConditionExpression: 'reportId = :reportId', ExpressionAttributeValues: { ':reportId': run.reportId } }),
      );
    } catch (error) {
      // Taken over after expiry by another run: that run owns it now.
      if (isConditionalCheckFailed(error)) return;
      throw translateTransientError(error);
    }
  }

  // ---- reports ----

  async putReport(report: StoredReport): Promise<void> {
    const item = {
      pk: `REPORT#${report.reportId}`,
      sk: 'SUMMARY',
      itemType: 'REPORT',
      gsi1pk: `REPORTS#${report.accountId}`,
      gsi1sk: `${report.startedAt}#${report.reportId}`,
      ttl: epochSeconds(report.startedAt) + reportRetentionDays * 24 * 3600,
      // JSON text: every amount stays a decimal string, exactly as the engine produced it.
      report: JSON.stringify(report),
    };
    await guard(() => this.documentClient.send(new PutCommand({ TableName: this.tables.reconciliation, Item: item })));
  }

  discrepancyWriter(reportId: string): { write(discrepancy: Discrepancy): Promise<void>; flush(): Promise<void> } {
    let seq = 0;
    let batch: Item[] = [];
    const ttl = epochSeconds(new Date().toISOString()) + reportRetentionDays * 24 * 3600;
    const flush = async () => {
      const items = batch;
      batch = [];
      if (items.length > 0) await this.batchPut(items);
    };
    return {
      write: async (discrepancy) => {
        seq += 1;
        batch.push({ pk: `REPORT#${reportId}`, sk: `ITEM#${String(seq).padStart(9, '0')}`, itemType: 'DISCREPANCY', seq, ttl, discrepancy: JSON.stringify(discrepancy) });
        if (batch.length >= discrepancyBatchSize) await flush();
      },
      flush,
    };
  }

  async getReport(reportId: string): Promise<StoredReport | undefined> {
    const result = await guard(() => this.documentClient.send(new GetCommand({ TableName: this.tables.reconciliation, Key: { pk: `REPORT#${reportId}`, sk: 'SUMMARY' }, ConsistentRead: true })));
    return result.Item ? (JSON.parse(String(result.Item.report)) as StoredReport) : undefined;
  }

  async listDiscrepancies(reportId: string, query: { cursor?: string; limit: number }): Promise<Page<Discrepancy & { readonly seq: number }>> {
    const partition = `REPORT#${reportId}`;
    const result = await guard(() =>
      this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.reconciliation,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :item)',
          ExpressionAttributeValues: { ':pk': partition, ':item': 'ITEM#' },
          Limit: Math.min(query.limit, reportPageSizeMax),
          ExclusiveStartKey: query.cursor ? { pk: partition, sk: decodeItemCursor(query.cursor) } : undefined,
        }),
      ),
    );
    const items = (result.Items ?? []).map((item) => ({ seq: toInteger(item.seq), ...(JSON.parse(String(item.discrepancy)) as Discrepancy) }));
    const last = result.LastEvaluatedKey;
    return { items, ...(last && { nextCursor: Buffer.from(String(last.sk)).toString('base64url') }) };
  }

  async listReports(accountId: string, query: { cursor?: string; limit: number }): Promise<Page<StoredReport>> {
    const partition = `REPORTS#${accountId}`;
    const result = await guard(() =>
      this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.reconciliation,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': partition },
          ScanIndexForward: false,
          Limit: Math.min(query.limit, reportPageSizeMax),
          ExclusiveStartKey: query.cursor ? decodeReportCursor(query.cursor, partition) : undefined,
        }),
      ),
    );
    const last = result.LastEvaluatedKey;
    return {
      items: (result.Items ?? []).map((item) => JSON.parse(String(item.report)) as StoredReport),
      ...(last && { nextCursor: Buffer.from(JSON.stringify([last.pk, last.gsi1sk])).toString('base64url') }),
    };
  }

  // ---- ledger reads ----

  async *entries(accountId: string, from: string, to: string): AsyncIterable<LedgerEntryView> {
    const partitions = await this.ledgerPartitions(accountId);
    // A hot account's postings are spread over its shards' partitions: merged back into posting order.
    for await (const item of mergeByEntryKey(partitions.map((partition) => this.ledgerItems(partition, from, `${to}$`)))) {
      // The opening posting is part of the opening balance, not a movement a bank statement shows.
      if (item.kind === 'OPENING') continue;
      const currency = String(item.currency);
      yield {
        entryKey: String(item.entryKey),
        settlementId: String(item.reference),
        amount: formatAmount(toMoney(item.amount), currency),
        currency,
        valueDate: String(item.valueDate),
        postedAt: String(item.postedAt),
      };
    }
  }

  /** The ledger partitions of an account: one, or one per balance shard of a hot account. */
  private async ledgerPartitions(accountId: string): Promise<string[]> {
    const result = await guard(() => this.documentClient.send(new GetCommand({ TableName: this.tables.accounts, Key: { accountId }, ConsistentRead: true, ProjectionExpression: 'shardCount' })));
    const shardCount = result.Item ? shardCountOf(result.Item) : 1;
    return Array.from({ length: shardCount }, (_, shard) => ledgerPartition(accountId, shard));
  }

  /** One ledger partition's items between two sort keys, in order, page by page. */
  private async *ledgerItems(partition: string, low: string, high: string): AsyncGenerator<Item> {
    let startKey: Item | undefined;
    do {
      const page = await this.ledgerPage(partition, low, high, startKey);
      yield* page.items;
      startKey = page.lastKey;
    } while (startKey !== undefined);
  }

  async balanceAt(accountId: string, to: string): Promise<string> {
    for (let attempt = 1; attempt <= balanceReadAttemptsMax; attempt++) {
      const before = await this.currentBalance(accountId);
      let postedAfter = new Money(0);
      // Everything after `to`: '$' sorts after the '#' that follows a posting time in the sort key.
      for (const partition of await this.ledgerPartitions(accountId)) {
        for await (const item of this.ledgerItems(partition, `${to}$`, '\uffff')) postedAfter = postedAfter.plus(toMoney(item.amount));
      }
      const after = await this.currentBalance(accountId);
      // A posting commits the balance and its ledger entry together: an unchanged balance means a consistent sum.
      if (before.balance.equals(after.balance)) return formatAmount(before.balance.minus(postedAfter), before.currency);
    }
    throw new ValidationError('accountId', `${accountId} kept changing while its balance was read; try again`);
  }

  async *pendingLocks(accountId: string): AsyncIterable<PendingLockView> {
    let count = 0;
    const seen = new Set<string>();
    // Every record whose lock may be pending has an entry in the `jobs` index (parked ones in its parked
    // partitions); records last written before it, in the retiring `pendingLocks` index. Keys only, and not by
    // account (an index keyed by account would put a hot pair's settlements on one partition, and the account is
    // not what the recovery jobs look for): the records are read, strongly consistent, and those whose lock is still
    // PENDING on this account (payer vostro or payout nostro, the lock's legs) are the account's pending locks.
    for (const source of this.pendingLockSources) {
      let startKey: Item | undefined;
      do {
        const result = await guard(() =>
          this.documentClient.send(
            new QueryCommand({
              TableName: this.tables.settlements,
              IndexName: source.indexName,
              KeyConditionExpression: '#shard = :shard',
              ExpressionAttributeNames: { '#shard': source.shardAttribute },
              ExpressionAttributeValues: { ':shard': source.shard },
              ExclusiveStartKey: startKey,
            }),
          ),
        );
        const ids = (result.Items ?? []).map((item) => String(item.pk)).filter((id) => !seen.has(id));
        const records = await getRecordItems(this.documentClient, this.tables, ids);
        for (const item of records) {
          const lock = lockFromItem(item);
          if (lock?.state !== 'PENDING' || (lock.vostroAccountId !== accountId && lock.nostroAccountId !== accountId)) continue;
          // A record in both indexes (rewritten since the retiring one was read) is one lock.
          if (seen.has(lock.settlementId)) continue;
          seen.add(lock.settlementId);
          count += 1;
          invariant(count <= pendingLocksMax, `more than ${pendingLocksMax} pending locks on ${accountId}`);
          yield { settlementId: lock.settlementId, accountId, amount: formatAmount(lock.amount, lock.currency), currency: lock.currency, expiresAt: lock.expiresAt, settlementStatus: item.status as SettlementStatus };
        }
        startKey = result.LastEvaluatedKey;
      } while (startKey !== undefined);
    }
  }

  private async currentBalance(accountId: string): Promise<{ balance: Money; currency: string }> {
    const account = await getAccountItem(this.documentClient, this.tables, accountId);
    invariant(account !== undefined, `balanceAt: account ${accountId} does not exist`);
    return { balance: account.balance, currency: account.currency };
  }

  private async ledgerPage(accountId: string, low: string, high: string, startKey: Item | undefined): Promise<{ items: Item[]; lastKey?: Item }> {
    const result = await guard(() =>
      this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.ledger,
          KeyConditionExpression: 'accountId = :account AND entryKey BETWEEN :low AND :high',
          ExpressionAttributeValues: { ':account': accountId, ':low': low, ':high': high },
          ConsistentRead: true,
          Limit: ledgerPageSize,
          ExclusiveStartKey: startKey,
        }),
      ),
    );
    return { items: result.Items ?? [], ...(result.LastEvaluatedKey && { lastKey: result.LastEvaluatedKey }) };
  }

  private async batchPut(items: Item[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; requests.length > 0; attempt++) {
      invariant(attempt <= batchWriteAttemptsMax, `discrepancy items still unprocessed after ${batchWriteAttemptsMax} attempts`);
      const result = await guard(() => this.documentClient.send(new BatchWriteCommand({ RequestItems: { [this.tables.reconciliation]: requests } })));
      requests = (result.UnprocessedItems?.[this.tables.reconciliation] ?? []) as typeof requests;
      if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 10));
    }
  }
}

function runKey(run: { accountId: string; from: string; to: string }): { pk: string; sk: string } {
  return { pk: `RUN#${run.accountId}#${run.from}#${run.to}`, sk: 'RUN' };
}

function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

function readString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'S' in value) return String((value as { S: string }).S);
  return String(value);
}

function decodeItemCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^ITEM#\d{9}$/.test(sk)) throw new ValidationError('cursor', 'is not a cursor returned by this listing');
  return sk;
}

function decodeReportCursor(cursor: string, partition: string): Item {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(values) && values.length === 2 && values.every((value) => typeof value === 'string') && /^REPORT#/.test(values[0])) {
      return { pk: values[0], sk: 'SUMMARY', gsi1pk: partition, gsi1sk: values[1] };
    }
  } catch {
    // falls through
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this listing');
}


/**
 * The amount an account was opened with (its first ledger posting when that is the OPENING entry, else zero):
 * what the mock bank takes as a nostro's opening balance at the bank.
 */
export async function openingPosting(documentClient: DynamoDBDocumentClient, tables: TableNames, accountId: string): Promise<string> {
  const result = await guard(() =>
    documentClient.send(new QueryCommand({ TableName: tables.ledger, KeyConditionExpression: 'accountId = :account', ExpressionAttributeValues: { ':account': accountId }, Limit: 1, ConsistentRead: true })),
  );
  const first = result.Items?.[0];
  return first?.kind === 'OPENING' ? toMoney(first.amount).toFixed() : '0';
}

/**
 * Items of several ledger partitions, each in sort-key order, merged into one sort-key order (posting time first).
 * Bounded by the partitions given (at most accountShardsMax).
 */
async function* mergeByEntryKey(sources: readonly AsyncGenerator<Item>[]): AsyncGenerator<Item> {
  const heads = await Promise.all(sources.map((source) => source.next()));
  for (;;) {
    let next = -1;
    for (let index = 0; index < heads.length; index++) {
      if (heads[index].done) continue;
      if (next < 0 || String(heads[index].value.entryKey) < String(heads[next].value.entryKey)) next = index;
    }
    if (next < 0) return;
    yield heads[next].value as Item;
    heads[next] = await sources[next].next();
  }
}
