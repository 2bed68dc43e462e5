/**
 * A recording middleware for any DynamoDB client (low-level or document): it counts, per attribution key (the
 * bench uses the settlement id a call runs for), the transactions, the items written, the write units (table and
 * each index, by the model in model.ts), the read units, and the partition each write lands on. It changes no
 * request and no response.
 *
 * Item sizes of updates and deletes need the item before the change: the recorder keeps the last image it saw of
 * each item (from puts, updates it evaluated, and full reads), bounded in number.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  applyUpdateExpression,
  indexWrites,
  itemSizeBytes,
  readUnitsFor,
  scalarText,
  writeUnitsFor,
  type ItemImage,
  type ReadConsistency,
  type TableShape,
} from './model';

export interface RecordedTable {
  /** The name the tally uses for it (the logical table name). */
  readonly label: string;
  readonly shape: TableShape;
}

export interface Tally {
  transactions: number;
  itemWrites: number;
  /** Table and index write units. */
  writeUnits: number;
  indexWriteUnits: number;
  readUnits: number;
  /** Writes whose condition failed or whose transaction was cancelled (their table units are counted). */
  failedWrites: number;
  /** Calls by operation name (PutItem, TransactWriteItems, ...). */
  readonly calls: Map<string, number>;
  /** Write units by partition: `<table> <partition key value>` or `<table>.<index> <index partition key value>`. */
  readonly partitions: Map<string, number>;
}

export function emptyTally(): Tally {
  return { transactions: 0, itemWrites: 0, writeUnits: 0, indexWriteUnits: 0, readUnits: 0, failedWrites: 0, calls: new Map(), partitions: new Map() };
}

/** Item images remembered for sizing updates, at most. */
const imagesMax = 200_000;
/** Tallies kept at most (one per attribution key). */
const talliesMax = 100_000;

const documentCommandOperations: Readonly<Record<string, string>> = {
  PutCommand: 'PutItem',
  GetCommand: 'GetItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
  TransactGetCommand: 'TransactGetItems',
  TransactWriteCommand: 'TransactWriteItems',
};

type Input = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the SDK's command inputs, read defensively
type Stack = { add: (middleware: any, options: any) => void }; // eslint-disable-line @typescript-eslint/no-explicit-any -- any client's middleware stack

export class CapacityRecorder {
  readonly tallies = new Map<string, Tally>();
  readonly #tables: ReadonlyMap<string, RecordedTable>;
  readonly #images = new Map<string, ItemImage>();
  enabled = true;

  /**
   * @param tables   physical table name → how to label and model it
   * @param attribute which tally a call belongs to (called synchronously when the call starts, with the operation and
   *                  its marshalled input); undefined → 'unattributed'
   */
  constructor(
    tables: ReadonlyMap<string, RecordedTable>,
    private readonly attribute: (operation: string, input: Readonly<Record<string, unknown>>) => string | undefined,
  ) {
    this.#tables = tables;
  }

  /** Adds the middleware to a client's stack (the document client shares its client's stack). */
  install(client: { middlewareStack: unknown }): void {
    (client.middlewareStack as Stack).add(
      (next: (args: { input: Input }) => Promise<{ output: Input }>, context: { commandName?: string }) => async (args: { input: Input }) => {
        if (!this.enabled) return next(args);
        const operation = operationOf(context.commandName ?? '');
        const key = this.attribute(operation, args.input) ?? 'unattributed';
        try {
          const result = await next(args);
          this.#record(key, operation, args.input, result.output, true);
          return result;
        } catch (error) {
          this.#record(key, operation, args.input, undefined, false);
          throw error;
        }
      },
      // After serialization's marshalling (the input is in AttributeValue form), outside the retry loop.
      { step: 'build', name: 'capacityRecorder', override: true },
    );
  }

  tally(key: string): Tally {
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      if (this.tallies.size >= talliesMax) this.tallies.delete(this.tallies.keys().next().value!);
      tally = emptyTally();
      this.tallies.set(key, tally);
    }
    return tally;
  }

  reset(): void {
    this.tallies.clear();
  }

  #record(key: string, operation: string, input: Input, output: Input | undefined, succeeded: boolean): void {
    const tally = this.tally(key);
    tally.calls.set(operation, (tally.calls.get(operation) ?? 0) + 1);
    switch (operation) {
      case 'PutItem':
        this.#write(tally, input.TableName, 'put', input, false, succeeded);
        break;
      case 'UpdateItem':
        this.#write(tally, input.TableName, 'update', input, false, succeeded);
        break;
      case 'DeleteItem':
        this.#write(tally, input.TableName, 'delete', input, false, succeeded);
        break;
      case 'TransactWriteItems':
        tally.transactions += 1;
        for (const entry of (input.TransactItems ?? []) as Input[]) {
          if (entry.Put) this.#write(tally, entry.Put.TableName, 'put', entry.Put, true, succeeded);
          else if (entry.Update) this.#write(tally, entry.Update.TableName, 'update', entry.Update, true, succeeded);
          else if (entry.Delete) this.#write(tally, entry.Delete.TableName, 'delete', entry.Delete, true, succeeded);
          else if (entry.ConditionCheck) this.#write(tally, entry.ConditionCheck.TableName, 'check', entry.ConditionCheck, true, succeeded);
        }
        break;
      case 'BatchWriteItem':
        for (const [tableName, requests] of Object.entries((input.RequestItems ?? {}) as Record<string, Input[]>)) {
          for (const request of requests) {
            if (request.PutRequest) this.#write(tally, tableName, 'put', { Item: request.PutRequest.Item }, false, succeeded);
            if (request.DeleteRequest) this.#write(tally, tableName, 'delete', { Key: request.DeleteRequest.Key }, false, succeeded);
          }
        }
        break;
      case 'GetItem':
        if (output?.Item) this.#read(tally, input.TableName, [output.Item], input.ConsistentRead ? 'strong' : 'eventual', input.ProjectionExpression === undefined, false);
        else tally.readUnits += readUnitsFor(0, input.ConsistentRead ? 'strong' : 'eventual');
        break;
      case 'Query':
      case 'Scan':
        this.#read(tally, input.TableName, (output?.Items ?? []) as Input[], input.ConsistentRead ? 'strong' : 'eventual', input.ProjectionExpression === undefined && input.IndexName === undefined, true, input.IndexName !== undefined);
        break;
      case 'BatchGetItem':
        for (const [tableName, request] of Object.entries((input.RequestItems ?? {}) as Record<string, Input>)) {
          const items = ((output?.Responses ?? {}) as Record<string, Input[]>)[tableName] ?? [];
          this.#read(tally, tableName, items, request.ConsistentRead ? 'strong' : 'eventual', request.ProjectionExpression === undefined, false);
        }
        break;
      case 'TransactGetItems':
        ((input.TransactItems ?? []) as Input[]).forEach((entry, index) => {
          const item = (output?.Responses as Input[] | undefined)?.[index]?.Item;
          this.#read(tally, entry.Get.TableName, item ? [item] : [], 'transactional', entry.Get.ProjectionExpression === undefined, false);
        });
        break;
      default:
        break;
    }
  }

  #write(tally: Tally, tableName: string, kind: 'put' | 'update' | 'delete' | 'check', request: Input, transactional: boolean, succeeded: boolean): void {
    const table = this.#tables.get(tableName);
    const shape: TableShape = table?.shape ?? { partitionKey: 'pk', sortKey: 'sk', indexes: [] };
    const label = table?.label ?? tableName;
    const key: ItemImage = kind === 'put' ? keyOf(request.Item as ItemImage, shape) : (request.Key as ItemImage);
    const imageKey = `${tableName}|${JSON.stringify(key)}`;
    const before = this.#images.get(imageKey);
    let after: ItemImage | undefined;
    if (kind === 'put') after = request.Item as ItemImage;
    else if (kind === 'update') after = applyUpdateExpression(before ?? key, String(request.UpdateExpression ?? ''), request.ExpressionAttributeNames, request.ExpressionAttributeValues);
    else if (kind === 'delete') after = undefined;
    else after = before;
    // A write is sized by the larger of the item before and after it.
    const sizeBytes = Math.max(before ? itemSizeBytes(before) : 0, after ? itemSizeBytes(after) : 0);
    const units = writeUnitsFor(sizeBytes, transactional);
    tally.writeUnits += units;
    if (kind !== 'check') tally.itemWrites += 1;
    const partition = `${label} ${scalarText(key[shape.partitionKey])}`;
    tally.partitions.set(partition, (tally.partitions.get(partition) ?? 0) + units);
    if (!succeeded) {
      tally.failedWrites += 1;
      return;
    }
    if (kind === 'check') return;
    for (const write of indexWrites(before, after, shape)) {
      tally.writeUnits += write.writeUnits;
      tally.indexWriteUnits += write.writeUnits;
      const indexPartition = `${label}.${write.indexName} ${write.partitionKeyValue}`;
      tally.partitions.set(indexPartition, (tally.partitions.get(indexPartition) ?? 0) + write.writeUnits);
    }
    this.#remember(imageKey, after);
  }

  #read(tally: Tally, tableName: string, items: readonly Input[], consistency: ReadConsistency, fullItems: boolean, summed: boolean, fromIndex = false): void {
    const shape = this.#tables.get(tableName)?.shape ?? { partitionKey: 'pk', sortKey: 'sk', indexes: [] };
    const sizes = items.map((raw) => {
      const item = asAttributeMap(raw);
      const imageKey = `${tableName}|${JSON.stringify(keyOf(item, shape))}`;
      if (fullItems) this.#remember(imageKey, item);
      // A projection does not make a read cheaper: it is billed by the whole item.
      const known = fromIndex ? undefined : this.#images.get(imageKey);
      return Math.max(itemSizeBytes(item), known ? itemSizeBytes(known) : 0);
    });
    if (summed) tally.readUnits += readUnitsFor(sizes.reduce((sum, size) => sum + size, 0), consistency);
    else for (const size of sizes) tally.readUnits += readUnitsFor(size, consistency);
  }

  #remember(imageKey: string, image: ItemImage | undefined): void {
    this.#images.delete(imageKey);
    if (image === undefined) return;
    if (this.#images.size >= imagesMax) this.#images.delete(this.#images.keys().next().value!);
    this.#images.set(imageKey, image);
  }
}

function operationOf(commandName: string): string {
  return documentCommandOperations[commandName] ?? commandName.replace(/Command$/, '');
}

function keyOf(item: ItemImage, shape: TableShape): ItemImage {
  const key: ItemImage = { [shape.partitionKey]: item[shape.partitionKey] };
  if (shape.sortKey !== undefined) key[shape.sortKey] = item[shape.sortKey];
  return key;
}

const attributeValueTypes = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);

/** Responses reach this step already unmarshalled when a document client sent them: marshal them back for sizing. */
function asAttributeMap(item: Input): ItemImage {
  const values = Object.values(item);
  const isAttributeMap = values.every((value) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && attributeValueTypes.has(Object.keys(value)[0]));
  if (isAttributeMap) return item as ItemImage;
  return marshall(item, { convertClassInstanceToMap: false, removeUndefinedValues: true }) as Record<string, AttributeValue>;
}
