/**
 * The mock bank: a deterministic BankClient for local use and tests, configurable per rail, idempotent on the
 * idempotency key, keeping its own record of transfers (what reconciliation reads as "the bank's side").
 *
 * Behaviour comes from, in order: a scenario set for a settlement id (tests), a marker in the settlement's
 * reference such as "[mock:reject]" (demos, curl), and the rail's defaults.
 */
import { BankUnavailableError, TransferOutcomeUnknownError } from '../../domain/errors';
import type { Rail } from '../../domain/settlement';
import type { BankClient, BankDirectory, ReversalReceipt, Statement, StatementRequest, TransferInstruction, TransferReceipt, TransferState } from '../../ports/bank';
import type { Clock } from '../../ports';

/** What the mock does with one settlement's transfer. Counts are calls, so tests are exact. */
export interface MockScenario {
  /** Refuse the transfer at initiation with this reason. */
  readonly reject?: string;
  /** The first N initiation calls fail as unreachable (nothing recorded at the bank). */
  readonly unavailableCalls?: number;
  /** The first N initiation calls are accepted at the bank but the caller sees a timeout (outcome unknown). */
  readonly timeoutCalls?: number;
  /** Status checks that answer ACCEPTED before the transfer settles. */
  readonly pendingChecks?: number;
  /** The first N status checks fail as unreachable. */
  readonly statusUnavailableCalls?: number;
  /** After the pending checks, the bank rejects instead of settling (a late rejection). */
  readonly rejectAfterPending?: string;
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

/** A transfer as the bank records it. */
export interface MockTransfer {
  readonly instruction: TransferInstruction;
  readonly bankReference: string;
  state: TransferState;
  reason?: string;
  statusChecks: number;
  readonly receivedAt: string;
  settledAt?: string;
  reversedAt?: string;
}

const referenceMarkers: Readonly<Record<string, MockScenario>> = {
  '[mock:reject]': { reject: 'beneficiary account closed' },
  '[mock:timeout]': { timeoutCalls: 1 },
  '[mock:unavailable]': { unavailableCalls: 1 },
  '[mock:down]': { unavailableCalls: 1_000, statusUnavailableCalls: 1_000 },
  '[mock:slow]': { pendingChecks: 3 },
  '[mock:late-reject]': { pendingChecks: 1, rejectAfterPending: 'beneficiary bank returned the funds' },
};

export class MockBank implements BankDirectory {
  private readonly transfers = new Map<string, MockTransfer>();
  private readonly scenarios = new Map<string, MockScenario>();
  private readonly callCounts = new Map<string, { initiate: number; status: number; reversal: number }>();
  private readonly railConfig: Record<Rail, MockRailConfig>;
  private sequence = 0;

  constructor(
    private readonly clock: Clock,
    railConfig: Partial<Record<Rail, Partial<MockRailConfig>>> = {},
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
  allTransfers(): readonly MockTransfer[] {
    return [...this.transfers.values()];
  }

  transfer(idempotencyKey: string): MockTransfer | undefined {
    return this.transfers.get(idempotencyKey);
  }

  forRail(rail: Rail): BankClient {
    return {
      rail,
      initiateTransfer: (instruction) => this.withLatency(rail, () => this.initiate(instruction)),
      getTransfer: (idempotencyKey) => this.withLatency(rail, () => this.status(rail, idempotencyKey)),
      reverseTransfer: (idempotencyKey, reason) => this.withLatency(rail, () => this.reverse(idempotencyKey, reason)),
      statement: (request) => this.withLatency(rail, () => this.statement(request)),
    };
  }

  private initiate(instruction: TransferInstruction): TransferReceipt {
    const scenario = this.scenarioFor(instruction.settlementId, instruction.reference);
    const calls = this.countCall(instruction.idempotencyKey, 'initiate');
    if (calls <= (scenario.unavailableCalls ?? 0)) throw new BankUnavailableError(`${instruction.rail} gateway unreachable (mock, call ${calls})`);
    let transfer = this.transfers.get(instruction.idempotencyKey);
    if (!transfer) {
      const at = this.clock.now().toISOString();
      const rejected = scenario.reject !== undefined;
      transfer = {
        instruction,
        bankReference: `MOCK${String(++this.sequence).padStart(10, '0')}`,
        state: rejected ? 'REJECTED' : 'ACCEPTED',
        reason: scenario.reject,
        statusChecks: 0,
        receivedAt: at,
      };
      if (!rejected && this.pendingChecksFor(instruction.rail, scenario) === 0 && !scenario.rejectAfterPending) {
        transfer.state = 'SETTLED';
        transfer.settledAt = at;
      }
      this.transfers.set(instruction.idempotencyKey, transfer);
    }
    if (calls <= (scenario.timeoutCalls ?? 0)) throw new TransferOutcomeUnknownError(`${instruction.rail} did not answer in time (mock, call ${calls})`);
    return receiptOf(instruction.idempotencyKey, transfer);
  }

  private status(rail: Rail, idempotencyKey: string): TransferReceipt | undefined {
    const transfer = this.transfers.get(idempotencyKey);
    const scenario = transfer ? this.scenarioFor(transfer.instruction.settlementId, transfer.instruction.reference) : {};
    const calls = this.countCall(idempotencyKey, 'status');
    if (calls <= (scenario.statusUnavailableCalls ?? 0)) throw new BankUnavailableError(`${rail} status service unreachable (mock, call ${calls})`);
    if (!transfer) return undefined;
    if (transfer.state === 'ACCEPTED') {
      transfer.statusChecks++;
      if (transfer.statusChecks > this.pendingChecksFor(rail, scenario)) {
        if (scenario.rejectAfterPending) {
          transfer.state = 'REJECTED';
          transfer.reason = scenario.rejectAfterPending;
        } else {
          transfer.state = 'SETTLED';
          transfer.settledAt = this.clock.now().toISOString();
        }
      }
    }
    return receiptOf(idempotencyKey, transfer);
  }

  private reverse(idempotencyKey: string, reason: string): ReversalReceipt {
    const transfer = this.transfers.get(idempotencyKey);
    const scenario = transfer ? this.scenarioFor(transfer.instruction.settlementId, transfer.instruction.reference) : {};
    const calls = this.countCall(idempotencyKey, 'reversal');
    if (calls <= (scenario.reversalUnavailableCalls ?? 0)) throw new BankUnavailableError(`reversal service unreachable (mock, call ${calls})`);
    if (!transfer) return { idempotencyKey, state: 'REFUSED', reason: 'no such transfer' };
    if (transfer.state === 'REVERSED') return { idempotencyKey, state: 'REVERSED' };
    if (transfer.state === 'REJECTED') return { idempotencyKey, state: 'REFUSED', reason: 'transfer was rejected; nothing to reverse' };
    const outcome = scenario.reversal ?? 'REVERSED';
    if (outcome === 'REVERSED') {
      transfer.state = 'REVERSED';
      transfer.reason = reason;
      transfer.reversedAt = this.clock.now().toISOString();
    }
    return { idempotencyKey, state: outcome, reason: outcome === 'REFUSED' ? 'reversal refused by the beneficiary bank' : undefined };
  }

  /** Statement of the network's account at this bank, produced from the bank's own record. */
  private statement(request: StatementRequest): Statement {
    const entries = this.allTransfers()
      .filter((transfer) => transfer.settledAt !== undefined && transfer.instruction.currency === request.currency)
      .filter((transfer) => `NOSTRO#${transfer.instruction.debtorAgentBic}#${transfer.instruction.currency}` === request.accountId)
      .filter((transfer) => transfer.settledAt! >= request.from && transfer.settledAt! <= request.to);
    return {
      accountId: request.accountId,
      currency: request.currency,
      openingBalance: '0',
      closingBalance: '0',
      entries: (async function* () {
        for (const transfer of entries) {
          yield {
            entryReference: transfer.bankReference,
            endToEndId: transfer.instruction.settlementId,
            amount: `-${transfer.instruction.amount}`,
            currency: transfer.instruction.currency,
            bookingDate: transfer.settledAt!.slice(0, 10),
            valueDate: transfer.instruction.valueDate,
          };
        }
      })(),
    };
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

  private async withLatency<T>(rail: Rail, call: () => T): Promise<T> {
    const latencyMs = this.railConfig[rail].latencyMs;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    return call();
  }
}

function receiptOf(idempotencyKey: string, transfer: MockTransfer): TransferReceipt {
  return { idempotencyKey, bankReference: transfer.bankReference, state: transfer.state, reason: transfer.reason };
}

