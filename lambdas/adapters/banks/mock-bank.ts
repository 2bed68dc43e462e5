/**
 * The mock bank: a deterministic BankClient for local use and tests, configurable per rail, idempotent on the
 * idempotency key, keeping its own record of transfers (what reconciliation reads as "the bank's side").
 *
 * Behaviour comes from, in order: a scenario set for a settlement id (tests), a marker in the settlement's
 * reference such as "[mock:reject]" (demos, curl), and the rail's defaults.
 */
import { createHash } from 'node:crypto';
import { BankUnavailableError, TransferOutcomeUnknownError } from '../../domain/errors';
import type { Rail } from '../../domain/settlement';
import type { BankClient, BankDirectory, ReversalReceipt, Statement, StatementRequest, TransferInstruction, TransferReceipt, TransferState } from '../../ports/bank';
import type { Clock } from '../../ports';
import { MockStatementBook } from './mock-statements';
import { InMemoryMockBankStore, type MockBankStore, type StoredMockTransfer } from './mock-bank-store';

/** What the mock does with one settlement's transfer. Counts are calls, so tests are exact. */
export interface MockScenario {
  /** Refuse the transfer at initiation with this reason. */
  readonly reject?: string;
  /** The first N initiation calls fail as unreachable (nothing recorded at the bank). */
  readonly unavailableCalls?: number;
  /** Every initiation call of the first N attempts (the `:<attempt>` of the key) fails as unreachable: the retry job's next attempt gets through. */
  readonly unavailableAttempts?: number;
  /** The first N initiation calls are accepted at the bank but the caller sees a timeout (outcome unknown). */
  readonly timeoutCalls?: number;
  /** Status checks that answer ACCEPTED before the transfer settles. */
  readonly pendingChecks?: number;
  /** The first N status checks fail as unreachable. */
  readonly statusUnavailableCalls?: number;
  /** After the pending checks, the bank rejects instead of settling (a late rejection). */
  readonly rejectAfterPending?: string;
  /** After the pending checks, the transfer settles and the beneficiary bank returns it at once: the bank reports it REVERSED, unasked. */
  readonly returnAfterPending?: string;
  /** Outcome of a reversal request. Default REVERSED. */
  readonly reversal?: 'REVERSED' | 'PENDING' | 'REFUSED';
  /** The first N reversal requests fail as unreachable. */
  readonly reversalUnavailableCalls?: number;
}

export interface MockRailConfig {
  /** Simulated bank latency per call. */
  readonly latencyMs: number;
  /** Status checks that answer ACCEPTED before settling, by default (0: settles at once, like an instant rail). */
  readonly pendingChecks: number;
}

export const defaultMockRailConfig: Readonly<Record<Rail, MockRailConfig>> = {
  MOCK: { latencyMs: 0, pendingChecks: 0 },
  SEPA: { latencyMs: 0, pendingChecks: 0 },
  ACH: { latencyMs: 0, pendingChecks: 1 },
  SWIFT: { latencyMs: 0, pendingChecks: 2 },
};

/** A transfer as the bank records it: a plain value, kept by a MockBankStore (each change stores a new one). */
export interface MockTransfer {
  readonly instruction: TransferInstruction;
  readonly bankReference: string;
  readonly state: TransferState;
  readonly reason?: string;
  readonly statusChecks: number;
  readonly receivedAt: string;
  readonly settledAt?: string;
  readonly reversedAt?: string;
}

/** Times a change to one transfer is retried when concurrent calls keep changing it first. */
export const transferUpdateRetriesMax = 8;

const referenceMarkers: Readonly<Record<string, MockScenario>> = {
  '[mock:reject]': { reject: 'beneficiary account closed' },
  '[mock:timeout]': { timeoutCalls: 1 },
  '[mock:unavailable]': { unavailableCalls: 1 },
  '[mock:down]': { unavailableCalls: 1_000, statusUnavailableCalls: 1_000 },
  '[mock:slow]': { pendingChecks: 3 },
  '[mock:late-reject]': { pendingChecks: 1, rejectAfterPending: 'beneficiary bank returned the funds' },
  '[mock:returned]': { pendingChecks: 1, returnAfterPending: 'beneficiary account closed, funds returned' },
};

export class MockBank implements BankDirectory {
  private readonly scenarios = new Map<string, MockScenario>();
  private readonly callCounts = new Map<string, { initiate: number; status: number; reversal: number }>();
  private readonly railConfig: Record<Rail, MockRailConfig>;
  /** Opening balances and injectable discrepancies of the statements this bank produces. */
  readonly statementBook = new MockStatementBook();

  constructor(
    private readonly clock: Clock,
    railConfig: Partial<Record<Rail, Partial<MockRailConfig>>> = {},
    /** The bank's record of transfers: durable (DynamoDB) in the local engine and on Lambda, in memory in unit tests. */
    private readonly store: MockBankStore = new InMemoryMockBankStore(),
  ) {
    this.railConfig = Object.fromEntries(
      (Object.keys(defaultMockRailConfig) as Rail[]).map((rail) => [rail, { ...defaultMockRailConfig[rail], ...railConfig[rail] }]),
    ) as Record<Rail, MockRailConfig>;
  }

  /** Sets what the bank will do with one settlement's transfers (all attempts). */
  setScenario(settlementId: string, scenario: MockScenario): void {
    this.scenarios.set(settlementId, scenario);
  }

  /** The bank's record of every transfer, for reconciliation and tests. */
  async allTransfers(): Promise<readonly MockTransfer[]> {
    return this.store.list();
  }

  async transfer(idempotencyKey: string): Promise<MockTransfer | undefined> {
    return (await this.store.get(idempotencyKey))?.transfer;
  }

  forRail(rail: Rail): BankClient {
    return {
      rail,
      initiateTransfer: (instruction) => this.withLatency(rail, () => this.initiate(instruction)),
      getTransfer: (idempotencyKey) => this.withLatency(rail, () => this.status(rail, idempotencyKey)),
      reverseTransfer: (idempotencyKey, reason) => this.withLatency(rail, () => this.reverse(idempotencyKey, reason)),
      statement: (request) => this.withLatency(rail, () => this.statement(request)).then((statement) => statement),
    };
  }

  private async initiate(instruction: TransferInstruction): Promise<TransferReceipt> {
    const key = instruction.idempotencyKey;
    const scenario = this.scenarioFor(instruction.settlementId, instruction.reference);
    const calls = this.countCall(key, 'initiate');
    if (calls <= (scenario.unavailableCalls ?? 0)) throw new BankUnavailableError(`${instruction.rail} gateway unreachable (mock, call ${calls})`);
    if (attemptOf(key) <= (scenario.unavailableAttempts ?? 0)) throw new BankUnavailableError(`${instruction.rail} gateway unreachable (mock, attempt ${attemptOf(key)})`);
    const at = this.clock.now().toISOString();
    const rejected = scenario.reject !== undefined;
    const settlesAtOnce = !rejected && this.pendingChecksFor(instruction.rail, scenario) === 0 && !scenario.rejectAfterPending && !scenario.returnAfterPending;
    const received: MockTransfer = {
      instruction,
      bankReference: bankReferenceOf(key),
      state: rejected ? 'REJECTED' : settlesAtOnce ? 'SETTLED' : 'ACCEPTED',
      ...(rejected && { reason: scenario.reject }),
      statusChecks: 0,
      receivedAt: at,
      ...(settlesAtOnce && { settledAt: at }),
    };
    // One conditional write, first writer wins: a repeated or concurrent call with the key gets the transfer the
    // bank already has (a read first would cost every new transfer a round trip).
    const transfer = (await this.store.create(received)).transfer;
    if (calls <= (scenario.timeoutCalls ?? 0)) throw new TransferOutcomeUnknownError(`${instruction.rail} did not answer in time (mock, call ${calls})`);
    return receiptOf(key, transfer);
  }

  private async status(rail: Rail, idempotencyKey: string): Promise<TransferReceipt | undefined> {
    const stored = await this.store.get(idempotencyKey);
    const scenario = stored ? this.scenarioFor(stored.transfer.instruction.settlementId, stored.transfer.instruction.reference) : {};
    const calls = this.countCall(idempotencyKey, 'status');
    if (calls <= (scenario.statusUnavailableCalls ?? 0)) throw new BankUnavailableError(`${rail} status service unreachable (mock, call ${calls})`);
    if (!stored) return undefined;
    const transfer = await this.change(stored, (current): MockTransfer => {
      if (current.state !== 'ACCEPTED') return current;
      const statusChecks = current.statusChecks + 1;
      if (statusChecks <= this.pendingChecksFor(rail, scenario)) return { ...current, statusChecks };
      if (scenario.rejectAfterPending) return { ...current, statusChecks, state: 'REJECTED', reason: scenario.rejectAfterPending };
      if (scenario.returnAfterPending) {
        const at = this.clock.now().toISOString();
        return { ...current, statusChecks, state: 'REVERSED', reason: scenario.returnAfterPending, settledAt: at, reversedAt: at };
      }
      return { ...current, statusChecks, state: 'SETTLED', settledAt: this.clock.now().toISOString() };
    });
    return receiptOf(idempotencyKey, transfer);
  }

  private async reverse(idempotencyKey: string, reason: string): Promise<ReversalReceipt> {
    const stored = await this.store.get(idempotencyKey);
    const scenario = stored ? this.scenarioFor(stored.transfer.instruction.settlementId, stored.transfer.instruction.reference) : {};
    const calls = this.countCall(idempotencyKey, 'reversal');
    if (calls <= (scenario.reversalUnavailableCalls ?? 0)) throw new BankUnavailableError(`reversal service unreachable (mock, call ${calls})`);
    if (!stored) return { idempotencyKey, state: 'REFUSED', reason: 'no such transfer' };
    let receipt: ReversalReceipt = { idempotencyKey, state: 'REVERSED' };
    await this.change(stored, (current): MockTransfer => {
      if (current.state === 'REVERSED') {
        receipt = { idempotencyKey, state: 'REVERSED' };
        return current;
      }
      if (current.state === 'REJECTED') {
        receipt = { idempotencyKey, state: 'REFUSED', reason: 'transfer was rejected; nothing to reverse' };
        return current;
      }
      const outcome = scenario.reversal ?? 'REVERSED';
      receipt = { idempotencyKey, state: outcome, ...(outcome === 'REFUSED' && { reason: 'reversal refused by the beneficiary bank' }) };
      return outcome === 'REVERSED' ? { ...current, state: 'REVERSED', reason, reversedAt: this.clock.now().toISOString() } : current;
    });
    return receipt;
  }

  /**
   * Applies `change` to a stored transfer and stores the result, conditional on the version it read; on a
   * concurrent update it reads again and re-applies (bounded). Returns the transfer as stored.
   */
  private async change(first: StoredMockTransfer, change: (transfer: MockTransfer) => MockTransfer): Promise<MockTransfer> {
    const key = first.transfer.instruction.idempotencyKey;
    let stored: StoredMockTransfer | undefined = first;
    for (let attempt = 0; attempt < transferUpdateRetriesMax && stored; attempt++) {
      const next = change(stored.transfer);
      if (next === stored.transfer || (await this.store.update(next, stored.version))) return next;
      stored = await this.store.get(key);
    }
    throw new BankUnavailableError(`mock bank: transfer ${key} kept changing under concurrent calls`);
  }

  /** Statement of the network's account at this bank, produced from the bank's own record (mock-statements.ts). */
  private async statement(request: StatementRequest): Promise<Statement> {
    return this.statementBook.statement(await this.allTransfers(), request);
  }

  private scenarioFor(settlementId: string, reference: string): MockScenario {
    const explicit = this.scenarios.get(settlementId);
    if (explicit) return explicit;
    const marker = Object.keys(referenceMarkers).find((key) => reference.toLowerCase().includes(key));
    return marker ? referenceMarkers[marker] : {};
  }

  private pendingChecksFor(rail: Rail, scenario: MockScenario): number {
    return scenario.pendingChecks ?? this.railConfig[rail].pendingChecks;
  }

  private countCall(idempotencyKey: string, kind: 'initiate' | 'status' | 'reversal'): number {
    const counts = this.callCounts.get(idempotencyKey) ?? { initiate: 0, status: 0, reversal: 0 };
    counts[kind]++;
    this.callCounts.set(idempotencyKey, counts);
    return counts[kind];
  }

  private async withLatency<T>(rail: Rail, call: () => T | Promise<T>): Promise<T> {
    const latencyMs = this.railConfig[rail].latencyMs;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    return call();
  }
}

/** The attempt in an engine idempotency key `<settlementId>:<attempt>` (1 when the key has none). */
function attemptOf(idempotencyKey: string): number {
  const attempt = Number(idempotencyKey.slice(idempotencyKey.lastIndexOf(':') + 1));
  return Number.isSafeInteger(attempt) && attempt > 0 ? attempt : 1;
}

/** The bank's own reference: derived from the key, so it is stable across restarts and unique per transfer. */
function bankReferenceOf(idempotencyKey: string): string {
  return `MOCK${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16).toUpperCase()}`;
}

function receiptOf(idempotencyKey: string, transfer: MockTransfer): TransferReceipt {
  return { idempotencyKey, bankReference: transfer.bankReference, state: transfer.state, reason: transfer.reason };
}

