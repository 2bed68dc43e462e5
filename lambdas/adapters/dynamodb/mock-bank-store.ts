/**
 * DynamoDB adapter of the mock bank's record: one item per transfer in the reference table,
 * pk `MOCKBANK#<idempotencyKey>`, sk `TRANSFER`, listed through gsi1 (`MOCKBANK#TRANSFERS#<shard>`, `<receivedAt>#<key>`).
 * The listing partition is spread over `transferListShards` values: every update of a transfer rewrites its
 * (all-attributes) index entry, and one value would take every settlement's.
 * Updates are conditional on a version, so two executions asking about the same transfer never lose a change.
 */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MockTransfer } from '../banks/mock-bank';
import type { MockBankStore, StoredMockTransfer } from '../banks/mock-bank-store';
import { isConditionalCheckFailed, toInteger, translateTransientError } from './client';
import type { TableNames } from './table-definitions';

type Item = Record<string, unknown>;

/** Listing partitions of the transfers index: at 1,000 settlements/s (4 writes each) ~125 write units/s apiece. */
export const transferListShards = 32;
const listPartition = (shard: number) => `MOCKBANK#TRANSFERS#${shard}`;

function listShardOf(idempotencyKey: string): number {
  let hash = 0;
  for (let index = 0; index < idempotencyKey.length; index++) hash = (hash * 31 + idempotencyKey.charCodeAt(index)) >>> 0;
  return hash % transferListShards;
}
/** Pages read by `list` at most (1 MB each): far beyond what a local run or a test produces. */
const listPagesMax = 1000;

export class DynamoMockBankStore implements MockBankStore {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async get(idempotencyKey: string): Promise<StoredMockTransfer | undefined> {
    const result = await this.send(() => this.documentClient.send(new GetCommand({ TableName: this.tables.reference, Key: { pk: pkOf(idempotencyKey), sk: 'TRANSFER' }, ConsistentRead: true })));
    return result.Item ? storedFromItem(result.Item) : undefined;
  }

  async create(transfer: MockTransfer): Promise<StoredMockTransfer> {
    try {
      await this.documentClient.send(new PutCommand({ TableName: this.tables.reference, Item: itemOf(transfer, 1), ConditionExpression: 'attribute_not_exists(pk)' }));
      return { transfer, version: 1 };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw translateTransientError(error);
      const existing = await this.get(transfer.instruction.idempotencyKey);
      if (!existing) throw new Error(`mock bank: transfer ${transfer.instruction.idempotencyKey} exists but cannot be read`, { cause: error });
      return existing;
    }
  }

  async update(transfer: MockTransfer, version: number): Promise<boolean> {
    try {
      await this.documentClient.send(
        new PutCommand({ TableName: this.tables.reference, Item: itemOf(transfer, version + 1), ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': version } }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw translateTransientError(error);
    }
  }

  /** Every transfer, in the order the bank received them. */
  async list(): Promise<MockTransfer[]> {
    const entries: { sortKey: string; transfer: MockTransfer }[] = [];
    for (let shard = 0; shard < transferListShards; shard++) {
      let startKey: Item | undefined;
      for (let page = 0; page < listPagesMax; page++) {
        const result = await this.send(() =>
          this.documentClient.send(
            new QueryCommand({ TableName: this.tables.reference, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': listPartition(shard) }, ExclusiveStartKey: startKey }),
          ),
        );
        entries.push(...(result.Items ?? []).map((item) => ({ sortKey: String(item.gsi1sk), transfer: storedFromItem(item).transfer })));
        startKey = result.LastEvaluatedKey;
        if (!startKey) break;
      }
    }
    return entries.sort((left, right) => (left.sortKey < right.sortKey ? -1 : left.sortKey > right.sortKey ? 1 : 0)).map((entry) => entry.transfer);
  }

  private async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateTransientError(error);
    }
  }
}

function pkOf(idempotencyKey: string): string {
  return `MOCKBANK#${idempotencyKey}`;
}

function itemOf(transfer: MockTransfer, version: number): Item {
  const key = transfer.instruction.idempotencyKey;
  return {
    pk: pkOf(key),
    sk: 'TRANSFER',
    itemType: 'MOCKBANK_TRANSFER',
    gsi1pk: listPartition(listShardOf(key)),
    gsi1sk: `${transfer.receivedAt}#${key}`,
    version,
    // The transfer as one JSON attribute: the mock's own record, never read by the engine's queries.
    transfer: JSON.stringify(transfer),
  };
}

function storedFromItem(item: Item): StoredMockTransfer {
  return { transfer: JSON.parse(String(item.transfer)) as MockTransfer, version: toInteger(item.version) };
}
