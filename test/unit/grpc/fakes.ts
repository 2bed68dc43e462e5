/** Plain fakes of the use cases behind the gRPC server, for unit tests of the edge (mapping, auth, errors). */
import { AccountNotFoundError, IdempotencyConflictError, SettlementNotFoundError, StoreUnavailableError } from '../../../lambdas/domain/errors';
import { differingFields, parseSettlementRequest, type SettlementStatus } from '../../../lambdas/domain/settlement';
import type { SettlementApiDeps } from '../../../lambdas/adapters/grpc/server';
import type { AccountView, SettlementView } from '../../../lambdas/usecases/views';
import type { SettlementEventSource, StreamedEvent, BucketQuery } from '../../../lambdas/adapters/events/event-source';
import type { StreamBatch, StreamLogStore } from '../../../lambdas/adapters/events/stream-log';
import { isTerminal } from '../../../lambdas/domain/settlement';

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
 * Events in memory, answering like the DynamoDB source (bounds, limit, continuation). An event added hidden is
 * committed but not yet visible: the way a late commit looks to a reader.
 */
export class FakeEventSource implements SettlementEventSource {
  readonly #all: StreamedEvent[] = [];
  readonly #hidden = new Set<string>();
  bucketReads = 0;

  get events(): StreamedEvent[] {
    return this.#all.filter((event) => !this.#hidden.has(event.eventKey));
  }

  add(event: Omit<StreamedEvent, 'eventKey'>, options: { hidden?: boolean } = {}): StreamedEvent {
    const streamed = { ...event, eventKey: `${event.at}#${event.settlementId}#${String(event.seq).padStart(10, '0')}` };
    this.#all.push(streamed);
    if (options.hidden) this.#hidden.add(streamed.eventKey);
    return streamed;
  }

  reveal(event: StreamedEvent): void {
    this.#hidden.delete(event.eventKey);
  }

  async inFlightSettlementIds() {
    const newest = new Map<string, StreamedEvent>();
    for (const event of this.events) if ((newest.get(event.settlementId)?.seq ?? 0) < event.seq) newest.set(event.settlementId, event);
    return [...newest.values()].filter((event) => !isTerminal(event.status)).map((event) => event.settlementId);
  }

  async settlementVersions(settlementIds: readonly string[]) {
    const versions = new Map<string, number>();
    for (const event of this.events) if (settlementIds.includes(event.settlementId)) versions.set(event.settlementId, Math.max(versions.get(event.settlementId) ?? 0, event.seq));
    return versions;
  }

  async readBucket(query: BucketQuery) {
    this.bucketReads += 1;
    const inRange = this.events
      .filter((event) => event.at.slice(0, 16) === query.bucket && event.eventKey >= query.afterKey && event.eventKey <= query.untilKey)
      .sort((a, b) => (a.eventKey < b.eventKey ? -1 : 1));
    const evaluated = inRange.slice(0, query.limit);
    const matching = evaluated.filter(
      (event) =>
        event.eventKey > query.afterKey &&
        (query.filter.currency === undefined || event.currency === query.filter.currency) &&
        (query.filter.bankBic === undefined || event.payerBic === query.filter.bankBic || event.payeeBic === query.filter.bankBic),
    );
    return { events: matching, ...(inRange.length > query.limit && { continueAfterKey: evaluated[evaluated.length - 1].eventKey }) };
  }

  async readSettlement(query: { settlementId: string; afterSeq: number; limit: number }) {
    return this.events
      .filter((event) => event.settlementId === query.settlementId && event.seq > query.afterSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, query.limit);
  }
}

/** The stream log in memory. */
export class FakeLogStore implements StreamLogStore {
  readonly batches = new Map<number, StreamBatch>();

  async latest() {
    return this.batches.get(Math.max(0, ...this.batches.keys()));
  }

  async get(batch: number) {
    return this.batches.get(batch);
  }

  async after(batch: number, limit: number) {
    return [...this.batches.values()].filter((entry) => entry.batch > batch).sort((a, b) => a.batch - b.batch).slice(0, limit);
  }

  async before(batch: number, limit: number) {
    return [...this.batches.values()].filter((entry) => entry.batch < batch).sort((a, b) => b.batch - a.batch).slice(0, limit);
  }

  async append(batch: StreamBatch) {
    if (this.batches.has(batch.batch)) return false;
    this.batches.set(batch.batch, batch);
    return true;
  }

  /** Every event in log order, as `settlementId#seq`. */
  order(): string[] {
    return [...this.batches.values()].sort((a, b) => a.batch - b.batch).flatMap((batch) => batch.events.map((event) => `${event.settlementId}#${event.seq}`));
  }
}
