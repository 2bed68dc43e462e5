/**
 * Settlement events from the settlements table's change stream: DynamoDB Streams (view type NEW_AND_OLD_IMAGES)
 * on AWS, the same API served by DynamoDB Local. A settlement's checkpoints live in its record (the lean write
 * path): every write of a record appears once in the stream, in the shard of its partition (pk = settlement id), in
 * commit order, and the checkpoints it appended are those of the new image past the old image's version. A shard
 * that splits or rolls over names its parent, and is read only after the parent has been read to its end. So a
 * settlement's events arrive in order, and a position per shard (the sequence number last delivered, and how many
 * of that record's events) names a point that resumes with no gap and no repeat. Nothing is written to make this
 * so: no time-bucketed index, no log partition every event passes through.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type AttributeValue as StreamAttributeValue, type DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SettlementEvent } from '../../ports/stores';
import { StoreUnavailableError } from '../../domain/errors';
import { eventFromItem, eventsOf, recordFromItem } from '../dynamodb/settlement-store';

export interface StreamShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  /** No new records will be added to it (split or rolled over); it may still hold unread ones. */
  readonly closed: boolean;
}

export interface ChangeRecord {
  readonly sequenceNumber: string;
  /** When the change was made (the stream's approximate creation time, to the second), epoch ms. */
  readonly createdAtMs: number;
  /** The settlement events the change made, in seq order (none for a change that made none: it only moves the position). */
  readonly events: readonly SettlementEvent[];
}

export type ShardStart =
  | { readonly type: 'TRIM_HORIZON' }
  | { readonly type: 'LATEST' }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string }
  | { readonly type: 'AT_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

export interface ShardPage {
  readonly records: readonly ChangeRecord[];
  /** Absent when the shard is closed and every record of it has been read. */
  readonly nextIterator?: string;
}

/** The change stream as the event reader needs it; DynamoChangeStream below, an in-memory one in the tests. */
export interface ChangeStream {
  /** Every shard the stream still retains (open and closed), parents named. */
  shards(): Promise<readonly StreamShard[]>;
  iterator(shardId: string, start: ShardStart): Promise<string>;
  read(iterator: string, limit: number): Promise<ShardPage>;
}

/** The position asked for is older than the stream keeps (24 h on DynamoDB Streams). */
export class StreamTrimmedError extends Error {
  override readonly name = 'StreamTrimmedError';
}

/** A shard iterator is valid for 15 minutes; the reader asks for a new one from its position. */
export class ShardIteratorExpiredError extends Error {
  override readonly name = 'ShardIteratorExpiredError';
}

/** Shard listing pages read at most (100 shards each). */
const describePagesMax = 100;

export class DynamoChangeStream implements ChangeStream {
  #streamArn: Promise<string> | undefined;

  constructor(
    private readonly streams: DynamoDBStreamsClient,
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async shards(): Promise<readonly StreamShard[]> {
    const streamArn = await this.#arn();
    const shards: StreamShard[] = [];
    let startShardId: string | undefined;
    for (let page = 0; page < describePagesMax; page++) {
      const result = await this.#send(() => this.streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: startShardId })));
      for (const shard of result.StreamDescription?.Shards ?? []) {
        if (shard.ShardId) shards.push({ shardId: shard.ShardId, closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined, ...(shard.ParentShardId && { parentShardId: shard.ParentShardId }) });
      }
      startShardId = result.StreamDescription?.LastEvaluatedShardId;
      if (!startShardId) break;
    }
    return shards;
  }

  async iterator(shardId: string, start: ShardStart): Promise<string> {
    const streamArn = await this.#arn();
    const result = await this.#send(() =>
      this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: start.type,
          ...((start.type === 'AFTER_SEQUENCE_NUMBER' || start.type === 'AT_SEQUENCE_NUMBER') && { SequenceNumber: start.sequenceNumber }),
        }),
      ),
    );
    if (!result.ShardIterator) throw new StreamTrimmedError(`shard ${shardId} is no longer in the stream`);
    return result.ShardIterator;
  }

  async read(iterator: string, limit: number): Promise<ShardPage> {
    const result = await this.#send(() => this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit })));
    return { records: (result.Records ?? []).map(changeRecord), ...(result.NextShardIterator && { nextIterator: result.NextShardIterator }) };
  }

  #arn(): Promise<string> {
    this.#streamArn ??= this.#send(() => this.dynamo.send(new DescribeTableCommand({ TableName: this.tableName }))).then((result) => {
      const arn = result.Table?.LatestStreamArn;
      if (!arn) throw new StoreUnavailableError(`table ${this.tableName} has no change stream (StreamSpecification NEW_AND_OLD_IMAGES)`);
      return arn;
    });
    // A failed lookup is asked again next time.
    this.#streamArn.catch(() => (this.#streamArn = undefined));
    return this.#streamArn;
  }

  async #send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'ExpiredIteratorException') throw new ShardIteratorExpiredError('shard iterator expired', { cause: error });
      if (name === 'TrimmedDataAccessException' || name === 'ResourceNotFoundException') throw new StreamTrimmedError('the position is older than the stream retention', { cause: error });
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`DynamoDB Streams unavailable (${name ?? 'error'})`, { cause: error });
    }
  }
}

/**
 * A stream record → the settlement events its change made: the checkpoints a record write appended (those of the
 * new image with a seq past the old image's version), or an EVENT item inserted by the layout before the lean write
 * path.
 */
export function changeRecord(record: _Record): ChangeRecord {
  const change = record.dynamodb;
  const createdAtMs = change?.ApproximateCreationDateTime ? new Date(change.ApproximateCreationDateTime).getTime() : 0;
  const image = (value: Record<string, StreamAttributeValue> | undefined) => (value ? unmarshall(value as Parameters<typeof unmarshall>[0], { wrapNumbers: true }) : undefined);
  const newImage = image(change?.NewImage);
  let events: readonly SettlementEvent[] = [];
  if (newImage?.itemType === 'SETTLEMENT' && (record.eventName === 'INSERT' || record.eventName === 'MODIFY')) {
    const oldVersion = Number(image(change?.OldImage)?.version?.toString() ?? 0);
    events = eventsOf(recordFromItem(newImage)).filter((event) => event.seq > oldVersion);
  } else if (newImage?.itemType === 'EVENT' && record.eventName === 'INSERT') {
    events = [eventFromItem(newImage)];
  }
  return { sequenceNumber: String(change?.SequenceNumber), createdAtMs, events };
}
