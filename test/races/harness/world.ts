/**
 * A world for one schedule: fresh banks, accounts and settlements in shared tables (so a schedule costs a few
 * writes, not a table creation), and the actors that run on them, each with its own dependencies built on a
 * gated document client so the scheduler knows who calls. Actors speak to use cases, ports and the real ASL
 * file only; nothing here knows how a transition is laid out in transactions.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { DynamoAccountStore, DynamoReferenceStore } from '../../../lambdas/adapters/dynamodb/account-store';
import { DynamoSettlementStore } from '../../../lambdas/adapters/dynamodb/settlement-store';
import { DynamoRecoveryStore } from '../../../lambdas/adapters/dynamodb/recovery-store';
import { DynamoMockBankStore } from '../../../lambdas/adapters/dynamodb/mock-bank-store';
import { createOperationsDeps } from '../../../lambdas/composition';
import type { TableNames } from '../../../lambdas/adapters/dynamodb/table-definitions';
import { MockBank, type MockScenario } from '../../../lambdas/adapters/banks/mock-bank';
import { InMemoryDeadLetterQueue } from '../../../lambdas/adapters/sqs/dead-letter-queue';
import { Money } from '../../../lambdas/domain/money';
import { parseSettlementRequest, type SettlementRequest } from '../../../lambdas/domain/settlement';
import { createStageHandlers, stageNames } from '../../../lambdas/handlers/stage-handlers';
import { loadStateMachineDefinition, localFunctionArn } from '../../../lambdas/local/local-workflow';
import { executionName } from '../../../lambdas/adapters/sfn/step-functions-workflow';
import { noMetrics, type Clock, type WorkflowPort } from '../../../lambdas/ports';
import type { RecoveryStore } from '../../../lambdas/ports/recovery';
import { accountId } from '../../../lambdas/ports/stores';
import { alwaysOpenWindows, defaultEngineLimits, type EngineDeps, type EngineLimits } from '../../../lambdas/usecases/deps';
import type { RecoveryDeps } from '../../../lambdas/usecases/recovery/deps';
import type { Scheduler } from './scheduler';

/** What an actor ended with: a label the invariants read (an execution's end state, a use case's answer). */
export type ActorOutcome = { readonly kind: string; readonly detail?: string; readonly settlementId?: string };

export const executionEnd = { completed: 'execution:Completed', rolledBack: 'execution:RolledBack', parked: 'execution:Parked' } as const;

let bankSequence = 0;
/** A fresh, valid BIC per bank of a world: the tables are shared, the worlds never touch each other. */
function freshBic(country: 'DE' | 'FR'): string {
  let n = bankSequence++;
  let code = '';
  for (let index = 0; index < 4; index++) {
    code = String.fromCharCode(65 + (n % 26)) + code;
    n = Math.floor(n / 26);
  }
  return `${code}${country}${country === 'DE' ? 'FF' : 'PP'}`;
}

/** Deterministic time: a fixed start plus one millisecond per reading, shared by every actor of a world. */
export class TickingClock {
  private ticks = 0;
  constructor(private readonly startMs: number) {}
  view(offsetMs = 0): Clock {
    return { now: () => new Date(this.startMs + offsetMs + this.ticks++) };
  }
}

export interface WorldOptions {
  readonly payerBalance?: string;
  readonly nostroBalance?: string;
  readonly amount?: string;
  /** Settlements on the same two accounts. */
  readonly settlements?: number;
  readonly limits?: Partial<EngineLimits>;
  /** What the mock bank does with the settlements' transfers (every actor's bank view). */
  readonly bankScenario?: MockScenario;
  /** The payer's vostro as a hot account of this many balance shards (absent: one item). */
  readonly payerShards?: number;
  /** A net debit cap on the payer in EUR (decimal string): every actor's compliance policy then carries it. */
  readonly netDebitCap?: string;
}

export interface ActorContext {
  readonly deps: RecoveryDeps;
  readonly bank: MockBank;
}

const machine = new StateMachine(loadStateMachineDefinition() as never, { validationOptions: { checkArn: true, checkPaths: true } });

export class World {
  readonly payerBic = freshBic('DE');
  readonly payeeBic = freshBic('FR');
  readonly vostroId: string;
  readonly nostroId: string;
  readonly requests: SettlementRequest[] = [];
  readonly clock = new TickingClock(Date.now());
  readonly deadLetters = new InMemoryDeadLetterQueue();
  /** Atomic-operation metrics (PARKED raises the alarm) counted by actors that record them. */
  readonly alarms: string[] = [];
  /** Deps on the ungated client: set-up and the invariant reads. */
  readonly deps: RecoveryDeps;
  readonly bank: MockBank;
  private scheduler: Scheduler<ActorOutcome> | undefined;

  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly tables: TableNames,
    readonly options: WorldOptions = {},
  ) {
    this.vostroId = accountId('VOSTRO', this.payerBic, 'EUR');
    this.nostroId = accountId('NOSTRO', this.payeeBic, 'EUR');
    const ungated = this.depsOn(client, 0, { startSettlement: async () => ({ executionName: 'none', alreadyStarted: true }) });
    this.deps = ungated.deps;
    this.bank = ungated.bank;
  }

  get settlementIds(): string[] {
    return this.requests.map((request) => request.settlementId);
  }

  get accountIds(): string[] {
    return [this.vostroId, this.nostroId];
  }

  /** Banks, the payer's vostro, the payee's nostro and the settlements (PENDING, no execution started). */
  async create(): Promise<this> {
    const at = this.clock.view().now().toISOString();
    const reference = new DynamoReferenceStore(this.client, this.tables);
    const accounts = new DynamoAccountStore(this.client, this.tables);
    for (const [bic, country] of [[this.payerBic, 'DE'], [this.payeeBic, 'FR']] as const) await reference.registerBank({ bic, name: `Races ${bic}`, country, status: 'ACTIVE' }, at);
    await accounts.open({ accountType: 'VOSTRO', bic: this.payerBic, currency: 'EUR', floor: new Money(0), openingBalance: new Money(this.options.payerBalance ?? '150.00'), shards: this.options.payerShards ?? 1 }, at);
    await accounts.open({ accountType: 'NOSTRO', bic: this.payeeBic, currency: 'EUR', floor: new Money(0), openingBalance: new Money(this.options.nostroBalance ?? '1000.00') }, at);
    for (let index = 0; index < (this.options.settlements ?? 1); index++) {
      const request = parseSettlementRequest({
        settlementId: `race-${randomUUID().slice(0, 12)}-${index}`,
        payerBic: this.payerBic,
        payeeBic: this.payeeBic,
        amount: this.options.amount ?? '100.00',
        currency: 'EUR',
        rail: 'SEPA',
        kind: 'DOMESTIC',
        valueDate: '2026-11-25',
        reference: `races ${index}`,
      });
      await this.deps.settlements.create(request, this.clock.view().now().toISOString());
      this.requests.push(request);
      if (this.options.bankScenario) this.bank.setScenario(request.settlementId, this.options.bankScenario);
    }
    return this;
  }

  /** Binds the world to the scheduler of the schedule about to run (actors spawned later use it too). */
  attach(scheduler: Scheduler<ActorOutcome>): void {
    this.scheduler = scheduler;
  }

  /**
   * Engine dependencies on `client` for one actor: its own stores, its own view of the mock bank (the bank's
   * record is shared through the table), a clock `clockOffsetMs` ahead of the world's, and a workflow that starts
   * each execution as a new actor of the schedule.
   */
  depsOn(client: DynamoDBDocumentClient, clockOffsetMs: number, workflow?: WorkflowPort): ActorContext {
    const clock = this.clock.view(clockOffsetMs);
    const bank = new MockBank(clock, {}, new DynamoMockBankStore(client, this.tables));
    if (this.options.bankScenario) for (const request of this.requests) bank.setScenario(request.settlementId, this.options.bankScenario);
    const accounts = new DynamoAccountStore(client, this.tables);
    const deps: RecoveryDeps = {
      settlements: new DynamoSettlementStore(client, this.tables),
      accounts,
      reference: new DynamoReferenceStore(client, this.tables),
      windows: alwaysOpenWindows,
      banks: bank,
      workflow: workflow ?? this.spawningWorkflow(),
      deadLetters: this.deadLetters,
      metrics: noMetrics,
      clock,
      limits: { ...defaultEngineLimits, ...this.options.limits },
      ...(this.options.netDebitCap !== undefined && {
        compliance: { sanctions: { source: 'none', parties: [] }, amountLimitPerCurrency: {}, amountLimitPerBank: {}, netDebitCaps: { [this.payerBic]: { EUR: new Money(this.options.netDebitCap) } } },
      }),
      // The harness's tables are created afresh (racesTables): without the retiring indexes.
      recovery: this.scoped(new DynamoRecoveryStore(client, this.tables, [])),
      operations: createOperationsDeps({ documentClient: client, tables: this.tables, retiringIndexes: [], accounts, banks: bank, metrics: noMetrics, clock }),
    };
    return { deps, bank };
  }

  /** Adds an actor to the schedule: `body` gets deps on its own gated client. */
  spawn(name: string, body: (context: ActorContext) => Promise<ActorOutcome>, clockOffsetMs = 0): void {
    if (!this.scheduler) throw new Error('world not attached to a scheduler');
    this.scheduler.spawn(name, (gate) => body(this.depsOn(gate(this.client), clockOffsetMs)));
  }

  /** An execution of the real state machine on one settlement, its Task states calling the stage handlers. */
  spawnExecution(name: string, input: { settlementId: string; attempt: number; resume?: number }, clockOffsetMs = 0): void {
    this.spawn(name, (context) => runExecution(context.deps, input), clockOffsetMs);
  }

  /** Like Step Functions: a started execution runs on its own (here: as a new actor of the schedule). */
  private spawningWorkflow(): WorkflowPort {
    return {
      startSettlement: async (input) => {
        const name = executionName(input.settlementId, input.attempt, input.resume);
        this.spawnExecution(`execution ${input.resume === undefined ? `a${input.attempt}` : `a${input.attempt}-r${input.resume}`}`, input);
        return { executionName: name, alreadyStarted: false };
      },
    };
  }

  /** The jobs' index reads, kept to this world's settlements (other worlds share the tables). */
  private scoped(store: RecoveryStore): RecoveryStore {
    const mine = (id: string) => this.settlementIds.includes(id);
    const filter = <T>(page: { items: T[]; nextCursor?: string }, id: (item: T) => string) => ({ ...page, items: page.items.filter((item) => mine(id(item))) });
    return {
      dueRetries: async (now, page) => filter(await store.dueRetries(now, page), (id) => id),
      inFlight: async (before, page) => filter(await store.inFlight(before, page), (id) => id),
      expiredLocks: async (now, startedBefore, page) => filter(await store.expiredLocks(now, startedBefore, page), (lock) => lock.settlementId),
      endedOperations: async (before, page) => filter(await store.endedOperations(before, page), (key) => key.settlementId),
      parked: async (page) => filter(await store.parked(page), (record) => record.settlementId),
      deleteEndedOperations: (keys) => store.deleteEndedOperations(keys),
    };
  }
}

/** Runs the ASL file with instant retries and waits; resolves to how the execution ended. */
export async function runExecution(deps: EngineDeps, input: { settlementId: string; attempt: number; resume?: number }): Promise<ActorOutcome> {
  const handlers = createStageHandlers(() => deps);
  const name = executionName(input.settlementId, input.attempt, input.resume);
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(stageNames.map((stage) => [stage, async (state: unknown) => (await handlers[stage](state as never, { functionName: stage } as never)) as never])),
      waitTimeOverrides: { WaitForConfirmation: 0 },
      retryIntervalOverrides: Object.fromEntries(stageNames.map((stage) => [stage, 0])),
    },
    noThrowOnAbort: true,
    context: {
      Execution: { Id: `arn:aws:states:us-east-1:000000000000:execution:races:${name}`, Name: name, StartTime: new Date().toISOString() },
      StateMachine: { Id: localFunctionArn('races'), Name: 'races' },
    },
  });
  try {
    const output = (await execution.result) as Record<string, unknown>;
    return { kind: output.outcome !== undefined ? executionEnd.rolledBack : executionEnd.completed, settlementId: input.settlementId };
  } catch (error) {
    // The interpreter wraps the Fail state's error: its name is the ASL's Error field.
    if ((error as { cause?: { name?: string } }).cause?.name === 'SettlementParked') return { kind: executionEnd.parked, settlementId: input.settlementId };
    return { kind: 'execution:Failed', detail: (error as Error)?.message ?? String(error), settlementId: input.settlementId };
  }
}

/** A use case's answer as an outcome: its result, or the name of the typed error it refused with. */
export async function outcomeOf(label: string, work: () => Promise<unknown>, expectedErrors: readonly string[] = []): Promise<ActorOutcome> {
  try {
    await work();
    return { kind: `${label}:ok` };
  } catch (error) {
    const name = (error as Error)?.name ?? 'Error';
    if (expectedErrors.includes(name)) return { kind: `${label}:${name}` };
    return { kind: `${label}:unexpected`, detail: `${name}: ${(error as Error)?.message ?? String(error)}` };
  }
}
