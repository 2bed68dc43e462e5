/**
 * Group commit for DynamoDB Local: concurrent writes from unrelated settlements go out as ONE TransactWriteItems,
 * and concurrent strongly consistent GetItems as one BatchGetItem, the way a database's group commit shares one
 * log flush among many transactions.
 *
 * Why only locally: DynamoDB Local runs transactions one at a time and pays a large fixed cost per call (measured on
 * 2 cores, table with a change stream, 64 callers: 165 three-item transactions/s but 83 of 24 items, i.e. 495 → 1,990
 * items/s; 1,100 GetItems/s but 11,000 keys/s in BatchGetItems of 25). DynamoDB itself runs transactions on
 * different items in parallel, bills per item whatever the grouping, and a Lambda invocation has one settlement to
 * write, so on AWS grouping would only couple unrelated settlements' failures: the AWS composition never uses this.
 *
 * Why it is safe: a group is a superset transaction. It commits every member's items atomically, each under its own
 * conditions, so a member either takes effect whole or not at all, exactly as alone. Members never share an item
 * (DynamoDB refuses that, and two writes of one item would make the second's condition see the first's effect): a
 * member whose keys meet the group's waits for the next group. When a group fails for any reason, nothing of it was
 * written (or, for a lost response, the members' own conditions make a repeat safe, as for the SDK's own retries),
 * and each member is sent again ALONE, as its caller sent it, so every caller sees exactly the error or the result it
 * would have seen without grouping (ConditionalCheckFailedException with its item, its own cancellation reasons, a
 * throttle). A group of one is the caller's own command, untouched.
 *
 * Reads: a GetItem's answer comes from a BatchGetItem sent after the GetItem was asked, so a strongly consistent read
 * still sees every write that completed before it was asked; reads of the same key in one batch share one answer.
 */
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  NumberValue,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { tableDefinitions, type TableNames } from './table-definitions';

/** TransactWriteItems' item limit, and a margin under its 4 MB request limit (estimated from the items' JSON). */
export const groupItemsMax = 100;
export const groupBytesMax = 3_500_000;
/** BatchGetItem's key limit. */
export const batchKeysMax = 100;
/**
 * Groups in flight at once. DynamoDB Local runs one transaction at a time, so more than a couple in flight only
 * makes groups smaller; reads are not serialized the same way and overlap more.
 */
export const writeGroupsInFlightMax = 2;
export const readBatchesInFlightMax = 4;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

interface WriteMember {
  readonly command: object;
  readonly items: readonly TransactItem[];
  readonly keys: readonly string[];
  readonly bytes: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface ReadMember {
  readonly command: GetCommand;
  readonly table: string;
  readonly key: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Calls waiting to be sent together, and how many of their groups may be in flight at once. */
interface Lane<M> {
  readonly queue: M[];
  inFlight: number;
  readonly inFlightMax: number;
  take(): M[];
  sendGroup(members: M[]): Promise<void>;
}

export interface GroupCommitStats {
  /** Write commands callers sent that were eligible, and the calls that carried them. */
  writesGrouped: number;
  writeGroups: number;
  /** Groups that failed and were sent again member by member. */
  groupsSplit: number;
  readsGrouped: number;
  readBatches: number;
}

/** Key attribute names of each physical table this engine writes: a member's keys come from its items. */
export function keyNamesByTable(tables: TableNames): ReadonlyMap<string, readonly string[]> {
  return new Map(tableDefinitions.map((definition) => [tables[definition.logicalName], [definition.partitionKey.name, ...(definition.sortKey ? [definition.sortKey.name] : [])]]));
}

function keyValue(value: unknown): string {
  if (value instanceof NumberValue) return `N:${value.value}`;
  if (typeof value === 'number' || typeof value === 'bigint') return `N:${String(value)}`;
  return `S:${String(value)}`;
}

/**
 * The client, with eligible writes and reads grouped. Everything else (queries, scans, table management,
 * TransactGetItems, writes asking for ReturnValues, a ClientRequestToken or consumed capacity, reads with a
 * projection) passes through untouched.
 */
export function withGroupCommit(base: DynamoDBDocumentClient, keyNames: ReadonlyMap<string, readonly string[]>, stats?: GroupCommitStats): DynamoDBDocumentClient {
  let pumpScheduled = false;
  const send = base.send.bind(base) as (command: object) => Promise<unknown>;

  const itemKey = (table: string | undefined, key: Record<string, unknown> | undefined): string | undefined => {
    const names = table === undefined ? undefined : keyNames.get(table);
    if (!names || !key) return undefined;
    const parts: string[] = [table!];
    for (const name of names) {
      if (key[name] === undefined) return undefined;
      parts.push(keyValue(key[name]));
    }
    return JSON.stringify(parts);
  };

  /** The transaction items a write stands for, or undefined when it must pass through as it is. */
  const asTransactItems = (command: object): TransactItem[] | undefined => {
    if (command instanceof TransactWriteCommand) {
      const { TransactItems, ClientRequestToken, ReturnConsumedCapacity, ReturnItemCollectionMetrics } = command.input;
      if (!TransactItems || ClientRequestToken !== undefined || (ReturnConsumedCapacity ?? 'NONE') !== 'NONE' || (ReturnItemCollectionMetrics ?? 'NONE') !== 'NONE') return undefined;
      return TransactItems;
    }
    const single = command as PutCommand | UpdateCommand | DeleteCommand;
    if (!(command instanceof PutCommand || command instanceof UpdateCommand || command instanceof DeleteCommand)) return undefined;
    const input = single.input as Record<string, unknown>;
    // Legacy parameters and anything asking for more than success or failure stay as they are.
    if ((input.ReturnValues ?? 'NONE') !== 'NONE' || (input.ReturnConsumedCapacity ?? 'NONE') !== 'NONE' || (input.ReturnItemCollectionMetrics ?? 'NONE') !== 'NONE') return undefined;
    if (input.Expected !== undefined || input.ConditionalOperator !== undefined || input.AttributeUpdates !== undefined) return undefined;
    const { ReturnValues: _values, ReturnConsumedCapacity: _capacity, ReturnItemCollectionMetrics: _metrics, ...rest } = input;
    if (command instanceof PutCommand) return [{ Put: rest } as TransactItem];
    if (command instanceof UpdateCommand) return [{ Update: rest } as TransactItem];
    return [{ Delete: rest } as TransactItem];
  };

  const keysOf = (items: readonly TransactItem[]): string[] | undefined => {
    const keys: string[] = [];
    for (const item of items) {
      const key = item.Put
        ? itemKey(item.Put.TableName, item.Put.Item as Record<string, unknown>)
        : item.Update
          ? itemKey(item.Update.TableName, item.Update.Key as Record<string, unknown>)
          : item.Delete
            ? itemKey(item.Delete.TableName, item.Delete.Key as Record<string, unknown>)
            : item.ConditionCheck
              ? itemKey(item.ConditionCheck.TableName, item.ConditionCheck.Key as Record<string, unknown>)
              : undefined;
      if (key === undefined) return undefined;
      keys.push(key);
    }
    return keys;
  };

  const schedulePump = () => {
    if (pumpScheduled) return;
    pumpScheduled = true;
    // One turn of the event loop lets callers that are ready at the same moment join the same group.
    setImmediate(() => {
      pumpScheduled = false;
      pump(writes);
      pump(reads);
    });
  };

  const takeWriteGroup = (): WriteMember[] => {
    const group: WriteMember[] = [];
    const taken = new Set<string>();
    let items = 0;
    let bytes = 0;
    for (let index = 0; index < writes.queue.length; ) {
      const member = writes.queue[index];
      const fits = items + member.items.length <= groupItemsMax && bytes + member.bytes <= groupBytesMax && !member.keys.some((key) => taken.has(key));
      if (fits) {
        group.push(member);
        writes.queue.splice(index, 1);
        member.keys.forEach((key) => taken.add(key));
        items += member.items.length;
        bytes += member.bytes;
      } else {
        // A member whose item another member of this group writes waits for the next group, in its order.
        index++;
      }
      if (items >= groupItemsMax) break;
    }
    return group;
  };

  const alone = (member: { command: object; resolve: (value: unknown) => void; reject: (error: unknown) => void }): Promise<void> =>
    send(member.command).then(member.resolve, member.reject);

  /** Sends what waits on a lane, a group at a time, while fewer than its maximum are in flight; one member goes alone. */
  const pump = <M extends WriteMember | ReadMember>(lane: Lane<M>) => {
    while (lane.inFlight < lane.inFlightMax && lane.queue.length > 0) {
      const members = lane.take();
      lane.inFlight++;
      void (members.length === 1 ? alone(members[0]) : lane.sendGroup(members)).finally(() => {
        lane.inFlight--;
        if (lane.queue.length > 0) schedulePump();
      });
    }
  };

  const sendWriteGroup = (group: WriteMember[]): Promise<void> => {
    if (stats) {
      stats.writeGroups++;
      stats.writesGrouped += group.length;
    }
    return send(new TransactWriteCommand({ TransactItems: group.flatMap((member) => member.items) })).then(
      (output) => {
        const metadata = (output as { $metadata?: unknown }).$metadata;
        for (const member of group) member.resolve({ $metadata: metadata });
      },
      () => {
        // Nothing of the group was written: each member again alone, so its caller sees its own outcome.
        if (stats) stats.groupsSplit++;
        group.forEach(alone);
      },
    );
  };

  const takeReadBatch = (): ReadMember[] => {
    const first = reads.queue[0];
    const batch: ReadMember[] = [];
    const keys = new Set<string>();
    for (let index = 0; index < reads.queue.length; ) {
      const member = reads.queue[index];
      const joins = member.table === first.table && (keys.has(member.key) || keys.size < batchKeysMax);
      if (joins) {
        batch.push(member);
        keys.add(member.key);
        reads.queue.splice(index, 1);
      } else index++;
    }
    return batch;
  };

  const sendReadBatch = (batch: ReadMember[]): Promise<void> => {
    if (stats) {
      stats.readBatches++;
      stats.readsGrouped += batch.length;
    }
    const table = batch[0].table;
    const unique = new Map<string, Record<string, unknown>>();
    for (const member of batch) unique.set(member.key, member.command.input.Key as Record<string, unknown>);
    return send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [...unique.values()], ConsistentRead: true } } })).then(
      (output) => {
        const result = output as BatchGetCommandOutput;
        const found = new Map<string, Record<string, unknown>>();
        for (const item of result.Responses?.[table] ?? []) {
          const key = itemKey(table, item);
          if (key !== undefined) found.set(key, item);
        }
        const unprocessed = new Set((result.UnprocessedKeys?.[table]?.Keys ?? []).map((key) => itemKey(table, key)));
        for (const member of batch) {
          // A key DynamoDB left unprocessed is asked again on its own; the others have their answer.
          if (unprocessed.has(member.key)) void alone(member);
          else member.resolve({ $metadata: result.$metadata, ...(found.has(member.key) && { Item: found.get(member.key) }) });
        }
      },
      () => batch.forEach(alone),
    );
  };

  const writes: Lane<WriteMember> = { queue: [], inFlight: 0, inFlightMax: writeGroupsInFlightMax, take: takeWriteGroup, sendGroup: sendWriteGroup };
  const reads: Lane<ReadMember> = { queue: [], inFlight: 0, inFlightMax: readBatchesInFlightMax, take: takeReadBatch, sendGroup: sendReadBatch };

  const grouped = (command: object): Promise<unknown> | undefined => {
    if (command instanceof GetCommand) {
      const { TableName, Key, ConsistentRead, ProjectionExpression, AttributesToGet, ReturnConsumedCapacity } = command.input;
      // Only strongly consistent whole-item reads: the engine's reads that decide; anything else passes through.
      if (ConsistentRead !== true || ProjectionExpression !== undefined || AttributesToGet !== undefined || (ReturnConsumedCapacity ?? 'NONE') !== 'NONE') return undefined;
      const key = itemKey(TableName, Key as Record<string, unknown>);
      if (key === undefined || TableName === undefined) return undefined;
      return new Promise((resolve, reject) => {
        reads.queue.push({ command, table: TableName, key, resolve, reject });
        schedulePump();
      });
    }
    const items = asTransactItems(command);
    if (!items) return undefined;
    const keys = keysOf(items);
    if (!keys) return undefined;
    return new Promise((resolve, reject) => {
      writes.queue.push({ command, items, keys, bytes: JSON.stringify(items).length, resolve, reject });
      schedulePump();
    });
  };

  const groupedSend = (command: object, ...rest: unknown[]): Promise<unknown> => {
    // Callbacks and abort signals are the caller's own business with the SDK: such calls pass through.
    if (rest.length > 0) return (base.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    return grouped(command) ?? send(command);
  };
  // The stores use `send` only; everything else of the real client (middleware, config, destroy) stays reachable.
  return new Proxy(base, { get: (target, property, receiver) => (property === 'send' ? groupedSend : Reflect.get(target, property, receiver)) });
}
