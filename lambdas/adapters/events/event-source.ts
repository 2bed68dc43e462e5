/**
 * Reads settlement events back from the settlements table, for StreamSettlementEvents. Reading the table (not an
 * in-process bus) is what lets the stream work when the writer is another process: on AWS the stage Lambdas write
 * and the Fargate task streams.
 *
 * Two access paths:
 * - every settlement: the `eventStream` GSI, partition = minute bucket of the event's `at`, sort = eventKey
 *   (`<at ISO>#<settlementId>#<seq>`), so one Query returns a minute's events in commit-time order;
 * - one settlement: its own partition (sk `EVENT#<seq>`), read with ConsistentRead.
 */
import { BatchGetCommand, QueryCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toInteger } from '../dynamodb/client';
import type { SettlementEvent } from '../../ports/stores';
import { guard } from '../dynamodb/client';
import { eventFromItem, eventKey, SortKey } from '../dynamodb/settlement-store';
import { indexShardCount } from '../dynamodb/table-definitions';

export interface StreamedEvent extends SettlementEvent {
  /** `<at ISO>#<settlementId>#<seq padded to 10>`: the event's position in the stream's total order. */
  readonly eventKey: string;
}

export interface EventFilter {
  /** Payer or payee. */
  readonly bankBic?: string;
  readonly currency?: string;
}

export interface BucketQuery {
  /** Minute bucket `YYYY-MM-DDTHH:MM`. */
  readonly bucket: string;
  /** Exclusive lower bound on eventKey. */
  readonly afterKey: string;
  /** Inclusive upper bound on eventKey (an ISO instant: events strictly before it). */
  readonly untilKey: string;
  readonly filter: EventFilter;
  readonly limit: number;
}

export interface BucketPage {
  /** Matching events, eventKey ascending. */
  readonly events: readonly StreamedEvent[];
  /** Set when the page stopped at `limit` items evaluated: the eventKey to continue after. */
  readonly continueAfterKey?: string;
}

export interface SettlementEventSource {
  readBucket(query: BucketQuery): Promise<BucketPage>;
  /** One settlement's events with seq > afterSeq, seq ascending, at most `limit`. Strongly consistent. */
  readSettlement(query: { settlementId: string; afterSeq: number; limit: number }): Promise<readonly StreamedEvent[]>;
  /** Ids of settlements in a non-terminal, unparked status (the inFlight index), at most `limit`. */
  inFlightSettlementIds(limit: number): Promise<readonly string[]>;
  /** Current version (= seq of the newest event) of each settlement record found. Strongly consistent. */
  settlementVersions(settlementIds: readonly string[]): Promise<ReadonlyMap<string, number>>;
}

type Item = Record<string, unknown>;

export function toStreamedEvent(item: Item): StreamedEvent {
  const event = eventFromItem(item);
  return { ...event, eventKey: typeof item.eventKey === 'string' ? item.eventKey : eventKey(event) };
}

export class DynamoEventSource implements SettlementEventSource {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly settlementsTableName: string,
  ) {}

  async readBucket(query: BucketQuery): Promise<BucketPage> {
    const names: Record<string, string> = { '#bucket': 'eventBucket', '#key': 'eventKey' };
    // BETWEEN is inclusive on both ends: the afterKey item itself (already delivered) is dropped below.
    const values: Record<string, unknown> = { ':bucket': query.bucket, ':after': query.afterKey, ':until': query.untilKey };
    const filters: string[] = [];
    if (query.filter.bankBic !== undefined) {
      filters.push('(payerBic = :bank OR payeeBic = :bank)');
      values[':bank'] = query.filter.bankBic;
    }
    if (query.filter.currency !== undefined) {
      filters.push('currency = :currency');
      values[':currency'] = query.filter.currency;
    }
    const result = await guard(() =>
      this.documentClient.send(
        new QueryCommand({
          TableName: this.settlementsTableName,
          IndexName: 'eventStream',
          KeyConditionExpression: '#bucket = :bucket AND #key BETWEEN :after AND :until',
          ...(filters.length > 0 && { FilterExpression: filters.join(' AND ') }),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          Limit: query.limit,
        }),
      ),
    );
    const events = (result.Items ?? []).map(toStreamedEvent).filter((event) => event.eventKey > query.afterKey);
    const lastKey = result.LastEvaluatedKey?.eventKey;
    return { events, ...(typeof lastKey === 'string' && { continueAfterKey: lastKey }) };
  }

  async readSettlement(query: { settlementId: string; afterSeq: number; limit: number }): Promise<readonly StreamedEvent[]> {
    const result = await guard(() =>
      this.documentClient.send(
        new QueryCommand({
          TableName: this.settlementsTableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': query.settlementId, ':from': SortKey.event(query.afterSeq + 1), ':to': 'EVENT#~' },
          ConsistentRead: true,
          Limit: query.limit,
        }),
      ),
    );
    return (result.Items ?? []).map(toStreamedEvent);
  }

  async inFlightSettlementIds(limit: number): Promise<readonly string[]> {
    const ids: string[] = [];
    for (let shard = 0; shard < indexShardCount && ids.length < limit; shard++) {
      let startKey: Record<string, unknown> | undefined;
      // Bounded: pages of a KEYS_ONLY index, stopping at `limit` ids overall.
      for (let page = 0; page < 100 && ids.length < limit; page++) {
        const result = await guard(() =>
          this.documentClient.send(
            new QueryCommand({
              TableName: this.settlementsTableName,
              IndexName: 'inFlight',
              KeyConditionExpression: 'inFlightShard = :shard',
              ExpressionAttributeValues: { ':shard': String(shard) },
              Limit: Math.min(1_000, limit - ids.length),
              ExclusiveStartKey: startKey,
            }),
          ),
        );
        for (const item of result.Items ?? []) ids.push(String(item.pk));
        startKey = result.LastEvaluatedKey;
        if (!startKey) break;
      }
    }
    return ids;
  }

  async settlementVersions(settlementIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const versions = new Map<string, number>();
    for (let start = 0; start < settlementIds.length; start += 100) {
      let keys: Record<string, unknown>[] | undefined = settlementIds.slice(start, start + 100).map((id) => ({ pk: id, sk: SortKey.record }));
      // Unprocessed keys (throttling) are asked again, a bounded number of times.
      for (let attempt = 0; attempt < 5 && keys !== undefined && keys.length > 0; attempt++) {
        const request: Record<string, unknown>[] = keys;
        const result: BatchGetCommandOutput = await guard(() =>
          this.documentClient.send(
            new BatchGetCommand({
              RequestItems: { [this.settlementsTableName]: { Keys: request, ConsistentRead: true, ProjectionExpression: 'pk, version' } },
            }),
          ),
        );
        for (const item of result.Responses?.[this.settlementsTableName] ?? []) versions.set(String(item.pk), toInteger(item.version));
        keys = result.UnprocessedKeys?.[this.settlementsTableName]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return versions;
  }
}
