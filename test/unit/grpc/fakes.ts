/** Plain fakes of the use cases behind the gRPC server, for unit tests of the edge (mapping, auth, errors). */
import { AccountNotFoundError, IdempotencyConflictError, SettlementNotFoundError, StoreUnavailableError } from '../../../lambdas/domain/errors';
import { differingFields, parseSettlementRequest, type SettlementStatus } from '../../../lambdas/domain/settlement';
import type { SettlementApiDeps } from '../../../lambdas/adapters/grpc/server';
import type { AccountView, SettlementView } from '../../../lambdas/usecases/views';
import type { ChangeRecord, ChangeStream, ShardPage, ShardStart, StreamShard } from '../../../lambdas/adapters/events/change-stream';
import type { SettlementEvent } from '../../../lambdas/ports/stores';

export class FakeEngine implements SettlementApiDeps {
  readonly settlements = new Map<string, SettlementView>();
  databaseUp = true;
  /** Status waitForSettlement resolves with. */
  finalStatus: SettlementStatus = 'COMPLETED';
  failNextWith: Error | undefined;
  submitCalls = 0;

  async submitSettlement(input: unknown) {
    this.submitCalls += 1;
    if (this.failNextWith) {
      const error = this.failNextWith;
      this.failNextWith = undefined;
      throw error;
    }
    const request = parseSettlementRequest(input);
    const existing = this.settlements.get(request.settlementId);
    if (existing) {
      const differing = differingFields(request, existing);
      if (differing.length > 0) throw new IdempotencyConflictError(request.settlementId, differing);
      return { created: false, settlement: existing };
    }
    const at = '2030-01-02T03:04:05.678Z';
    const settlement: SettlementView = {
      ...request,
      status: 'PENDING',
      attempt: 1,
      createdAt: at,
      updatedAt: at,
      checkpoints: [{ seq: 1, status: 'PENDING', previousStatus: null, stage: 'Submit', at }],
    };
    this.settlements.set(request.settlementId, settlement);
    return { created: true, settlement };
  }

  async getSettlement(settlementId: string) {
    const settlement = this.settlements.get(settlementId);
    if (!settlement) throw new SettlementNotFoundError(settlementId);
    return settlement;
  }

  async waitForSettlement(settlementId: string) {
    const settlement = await this.getSettlement(settlementId);
    const done: SettlementView = { ...settlement, status: this.finalStatus, completedAt: '2030-01-02T03:04:06.000Z' };
    this.settlements.set(settlementId, done);
    return done;
  }

  async getAccount(accountType: 'NOSTRO' | 'VOSTRO', bic: string, currency: string): Promise<AccountView> {
    if (bic !== 'DEUTDEFF') throw new AccountNotFoundError(`${accountType}#${bic}#${currency}`);
    return { accountId: `${accountType}#${bic}#${currency}`, accountType, bic, currency, balance: '1000.00', locked: '250.00', available: '750.00', floor: '0.00', status: 'ACTIVE', version: 7, updatedAt: '2030-01-01T00:00:00.000Z' };
  }

  async checkDatabase() {
    if (!this.databaseUp) throw new StoreUnavailableError('down');
    return true;
  }
}

/**
 * A change stream in memory, shaped like DynamoDB Streams: settlements map to partitions by a hash, each partition
 * has a lineage of shards (a split closes the open shard and opens a child), records carry growing sequence numbers,
 * and iterators are positions in a shard.
 */
export class FakeChangeStream implements ChangeStream {
  readonly #shards: { shardId: string; parentShardId?: string; closed: boolean; partition: number; records: ChangeRecord[] }[] = [];
  #sequence = 0;
  #shardNumber = 0;

  constructor(private readonly partitions = 2) {
    for (let partition = 0; partition < partitions; partition++) this.#open(partition);
  }

  /** Appends a record write that made this one event to the open shard of its settlement's partition. */
  add(event: SettlementEvent, createdAtMs = Date.parse(event.at)): SettlementEvent {
    this.addChange([event], createdAtMs);
    return event;
  }

  /** Appends one record write that made these events (one settlement's, seq order), as a lock with its validation does. */
  addChange(events: readonly SettlementEvent[], createdAtMs = Date.parse(events[0].at)): void {
    this.#openShard(this.#partitionOf(events[0].settlementId)).records.push({ sequenceNumber: this.#nextSequence(), createdAtMs, events });
  }

  /** A change that made no event (a compensation item, an index attribute): it only moves positions. */
  addOther(settlementId: string, createdAtMs: number): void {
    this.#openShard(this.#partitionOf(settlementId)).records.push({ sequenceNumber: this.#nextSequence(), createdAtMs, events: [] });
  }

  /** Closes the open shard of the settlement's partition and opens its child. */
  split(settlementId: string): void {
    const partition = this.#partitionOf(settlementId);
    const parent = this.#openShard(partition);
    parent.closed = true;
    this.#open(partition, parent.shardId);
  }

  async shards(): Promise<readonly StreamShard[]> {
    return this.#shards.map((shard) => ({ shardId: shard.shardId, closed: shard.closed, ...(shard.parentShardId && { parentShardId: shard.parentShardId }) }));
  }

  async iterator(shardId: string, start: ShardStart): Promise<string> {
    const shard = this.#shards.find((candidate) => candidate.shardId === shardId)!;
    if (start.type === 'TRIM_HORIZON') return `${shardId}|0`;
    if (start.type === 'LATEST') return `${shardId}|${shard.records.length}`;
    if (start.type === 'AT_SEQUENCE_NUMBER') return `${shardId}|${shard.records.findIndex((record) => record.sequenceNumber === start.sequenceNumber)}`;
    return `${shardId}|${shard.records.findIndex((record) => record.sequenceNumber === start.sequenceNumber) + 1}`;
  }

  async read(iterator: string, limit: number): Promise<ShardPage> {
    const [shardId, at] = iterator.split('|');
    const shard = this.#shards.find((candidate) => candidate.shardId === shardId)!;
    const index = Number(at);
    const records = shard.records.slice(index, index + limit);
    const next = index + records.length;
    return { records, ...(!(shard.closed && next >= shard.records.length) && { nextIterator: `${shardId}|${next}` }) };
  }

  #partitionOf(settlementId: string): number {
    let hash = 0;
    for (const character of settlementId) hash = (hash * 31 + character.charCodeAt(0)) >>> 0;
    return hash % this.partitions;
  }

  #openShard(partition: number) {
    return this.#shards.find((shard) => shard.partition === partition && !shard.closed)!;
  }

  #open(partition: number, parentShardId?: string): void {
    this.#shards.push({ shardId: `shardId-${String(++this.#shardNumber).padStart(4, '0')}`, partition, closed: false, records: [], ...(parentShardId && { parentShardId }) });
  }

  #nextSequence(): string {
    return String(++this.#sequence).padStart(21, '0');
  }
}
