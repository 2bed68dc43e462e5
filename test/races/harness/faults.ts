/**
 * The fault-injection soak: thousands of random operations over the engine (submissions across rails and account
 * pairs, duplicate submissions, executions of the real ASL file and duplicate deliveries of them, operators'
 * requeue, abandon, fund movements and floor changes, cleanup, recovery and retry sweeps), run a few at a time,
 * with DynamoDB faults injected under every store call: transaction conflicts, throttling
 * (ProvisionedThroughputExceeded / ThrottlingException) and lost responses (the write applied, its response
 * dropped). Then, without faults, every started execution is run and the recovery sweep resumes what is in flight
 * until each settlement is terminal or parked, and the race harness's invariants (harness/invariants.ts) are
 * checked for every account pair. `npm run soak -- --faults 10000` runs it long; CI (faults.race.test.ts) runs
 * 1,000 operations.
 */
import { randomUUID } from 'node:crypto';
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InvariantViolationError, NetDebitCapExceededError, SettlementEngineError } from '../../../lambdas/domain/errors';
import { Money } from '../../../lambdas/domain/money';
import { parseSettlementRequest, type Rail, type SettlementKind } from '../../../lambdas/domain/settlement';
import type { WorkflowPort } from '../../../lambdas/ports';
import { submitSettlement } from '../../../lambdas/usecases/settlements';
import { postFundMovement, setAccountFloor } from '../../../lambdas/usecases/operations/accounts';
import { operationsOf } from '../../../lambdas/usecases/operations/deps';
import { abandonSettlement, requeueSettlement } from '../../../lambdas/usecases/recovery/operator';
import { cleanupFinished } from '../../../lambdas/usecases/recovery/cleanup';
import { recoverStuckSettlements } from '../../../lambdas/usecases/recovery/recover';
import { retryFailedSettlements } from '../../../lambdas/usecases/recovery/retry';
import type { TableNames } from '../../../lambdas/adapters/dynamodb/table-definitions';
import { seededRandom } from '../../support/random';
import { baselineOf, capViolations, worldViolations, type BookBaseline } from './invariants';
import { World, runExecution, type ActorOutcome } from './world';

/** Probability of each fault per store call (conflicts and lost responses only on writes). */
export interface FaultRates {
  readonly conflict: number;
  readonly throttle: number;
  readonly lostResponse: number;
}

export const faultRatesDefault: FaultRates = { conflict: 0.015, throttle: 0.015, lostResponse: 0.01 };

export interface FaultCounts {
  calls: number;
  conflicts: number;
  throttles: number;
  lostResponses: number;
}

const writeCommands = new Set(['PutCommand', 'UpdateCommand', 'DeleteCommand', 'TransactWriteCommand']);

/** A document client whose calls fail now and then as DynamoDB's do, before or after the write applies. */
export function faultyClient(base: DynamoDBDocumentClient, random: () => number, rates: FaultRates, counts: FaultCounts): DynamoDBDocumentClient {
  const fault = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name, $fault: 'client', ...extra });
  const send = async (command: { input: unknown; constructor: { name: string } }) => {
    counts.calls++;
    const isWrite = writeCommands.has(command.constructor.name);
    const roll = random();
    if (isWrite && roll < rates.conflict) {
      counts.conflicts++;
      if (command instanceof TransactWriteCommand) {
        const items = (command.input.TransactItems ?? []).map((_, index) => ({ Code: index === 0 ? 'TransactionConflict' : 'None' }));
        throw fault('TransactionCanceledException', 'Transaction cancelled (injected conflict)', { CancellationReasons: items });
      }
      throw fault('TransactionConflictException', 'Transaction is ongoing for the item (injected)');
    }
    if (roll < rates.conflict + rates.throttle) {
      counts.throttles++;
      throw random() < 0.5 ? fault('ProvisionedThroughputExceededException', 'injected throttle') : fault('ThrottlingException', 'injected throttle');
    }
    const result = await base.send(command as never);
    if (isWrite && roll < rates.conflict + rates.throttle + rates.lostResponse) {
      counts.lostResponses++;
      throw fault('TimeoutError', 'the write applied but its response was lost (injected)');
    }
    return result;
  };
  return new Proxy(base, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) });
}

export interface FaultSoakOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly operations: number;
  readonly seed: number;
  /** Account pairs (one world of the harness each). */
  readonly pairs?: number;
  /**
   * One more pair whose payer is a hot account (4 balance shards) under a net debit cap, checked between every two
   * waves of operations (default: on).
   */
  readonly cappedHotPair?: boolean;
  /** Operations run at once. */
  readonly concurrency?: number;
  readonly rates?: FaultRates;
  readonly onProgress?: (done: number) => void;
}

export interface FaultSoakReport {
  readonly operations: number;
  readonly byKind: Readonly<Record<string, number>>;
  readonly settlements: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly faults: FaultCounts;
  readonly violations: readonly string[];
  /** The capped hot pair: settlements it refused for the cap, whether cap parts moved, the most held between waves. */
  readonly capped?: { readonly refusals: number; readonly partsMoved: boolean; readonly peakHeld: string };
}

/** Rounds of the fault-free drain (run started executions, resume what is in flight) before giving up. */
const drainRoundsMax = 20;
/** Submissions a client repeats (same id) after a transient failure. */
const submitAttemptsMax = 4;
const dayMs = 24 * 3600_000;
const railsAndKinds: ReadonlyArray<[Rail, SettlementKind]> = [
  ['SEPA', 'DOMESTIC'],
  ['SWIFT', 'INTERNATIONAL'],
  ['MOCK', 'DOMESTIC'],
];
const bankMarkers = ['', '', '', '', '', '[mock:slow]', '[mock:timeout]', '[mock:unavailable]', '[mock:reject]', '[mock:late-reject]'];

type Kind = 'submit' | 'duplicate-submit' | 'deliver' | 'duplicate-delivery' | 'requeue' | 'abandon' | 'fund-movement' | 'floor' | 'cleanup' | 'recovery' | 'retry';
const weights: ReadonlyArray<[Kind, number]> = [
  ['submit', 22],
  ['duplicate-submit', 5],
  ['deliver', 30],
  ['duplicate-delivery', 10],
  ['requeue', 5],
  ['abandon', 4],
  ['fund-movement', 8],
  ['floor', 4],
  ['cleanup', 2],
  ['recovery', 6],
  ['retry', 4],
];

export async function runFaultSoak(options: FaultSoakOptions): Promise<FaultSoakReport> {
  const random = seededRandom(options.seed);
  const rates = options.rates ?? faultRatesDefault;
  const faults: FaultCounts = { calls: 0, conflicts: 0, throttles: 0, lostResponses: 0 };
  const client = faultyClient(options.client, seededRandom(options.seed ^ 0x5eed), rates, faults);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const worlds: World[] = [];
  const baselines: BookBaseline[] = [];
  for (let index = 0; index < (options.pairs ?? 3); index++) {
    const world = await new World(options.client, options.tables, { settlements: 0, payerBalance: '5000000.00', nostroBalance: '5000000.00' }).create();
    worlds.push(world);
    baselines.push(await baselineOf(world));
  }
  // Settlements of 300 to 900 against a cap of 1,000.00 over 4 shards (250.00 each until parts move): every lock takes
  // cap parts from other shards, and two pending at once (concurrent deliveries, parked settlements) pass the cap.
  const capped = options.cappedHotPair === false ? undefined : await new World(options.client, options.tables, { settlements: 0, payerBalance: '5000000.00', nostroBalance: '5000000.00', payerShards: 4, netDebitCap: '1000.00' }).create();
  if (capped) {
    worlds.push(capped);
    baselines.push(await baselineOf(capped));
  }
  const capChecks: string[] = [];
  let peakHeld = new Money(0);
  /** Executions started and not yet run (the workflow's queue): a delivery takes one. */
  const started: Array<{ world: World; input: { settlementId: string; attempt: number; resume?: number } }> = [];
  const workflowOf = (world: World): WorkflowPort => ({
    startSettlement: async (input) => {
      started.push({ world, input });
      return { executionName: `${input.settlementId}-${input.attempt}-${input.resume ?? 0}`, alreadyStarted: false };
    },
  });
  const outcomes: Array<{ name: string; outcome: ActorOutcome | { error: unknown } }> = [];
  const byKind: Record<string, number> = {};
  const depsOf = (world: World, offsetMs = 0) => world.depsOn(client, offsetMs, workflowOf(world)).deps;
  const execute = async (world: World, input: { settlementId: string; attempt: number; resume?: number }, deps = depsOf(world)) => {
    outcomes.push({ name: `execution ${input.settlementId}`, outcome: await runExecution(deps, input) });
  };
  const useCase = async (label: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      // Typed refusals and transient store errors are answers; a broken invariant or an untyped error is a defect.
      if (!(error instanceof SettlementEngineError) || error instanceof InvariantViolationError || error.kind === 'internal') {
        outcomes.push({ name: label, outcome: { kind: `${label}:unexpected`, detail: `${(error as Error)?.name}: ${(error as Error)?.message}` } });
      }
    }
  };
  const submit = async (world: World, body: Record<string, string>) => {
    for (let attempt = 1; attempt <= submitAttemptsMax; attempt++) {
      try {
        await submitSettlement(depsOf(world), body);
        break;
      } catch (error) {
        if (!(error instanceof SettlementEngineError) || error.kind !== 'transient') throw error;
      }
    }
    // A submission whose every attempt failed may still have written (a lost response): track what exists.
    if (!world.settlementIds.includes(body.settlementId) && (await world.deps.settlements.get(body.settlementId))) {
      world.requests.push(parseSettlementRequest(body));
    }
  };
  const someSettlement = (world: World) => (world.settlementIds.length === 0 ? undefined : pick(world.settlementIds));

  const operation = async (kind: Kind): Promise<void> => {
    const world = pick(worlds);
    const actor = { actor: `soak-${kind}`, at: world.clock.view().now().toISOString() };
    switch (kind) {
      case 'submit':
      case 'duplicate-submit': {
        const existing = kind === 'duplicate-submit' ? someSettlement(world) : undefined;
        const request = existing !== undefined ? world.requests.find((candidate) => candidate.settlementId === existing) : undefined;
        const [rail, settlementKind] = pick(railsAndKinds);
        const body = request
          ? { ...request }
          : {
              settlementId: `soak-${randomUUID().slice(0, 13)}`,
              payerBic: world.payerBic,
              payeeBic: world.payeeBic,
              amount: random() < 0.03 ? '9000000.00' : world === capped ? `${300 + Math.floor(random() * 600)}.00` : `${1 + Math.floor(random() * 500)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`,
              currency: 'EUR',
              rail,
              kind: settlementKind,
              valueDate: '2026-11-25',
              reference: `soak ${pick(bankMarkers)}`.trim(),
            };
        return useCase('submit', () => submit(world, body as Record<string, string>));
      }
      case 'deliver':
      case 'duplicate-delivery': {
        const index = started.findIndex((entry) => entry.world === world);
        if (index < 0) return operation('submit');
        const [{ input }] = started.splice(index, 1);
        // At-least-once delivery: the same execution input run twice at once.
        await Promise.all(kind === 'deliver' ? [execute(world, input)] : [execute(world, input), execute(world, input)]);
        return;
      }
      case 'requeue':
      case 'abandon': {
        const page = await world.deps.recovery.parked({ limit: 10 });
        const parked = page.items.length === 0 ? undefined : pick(page.items).settlementId;
        if (parked === undefined) return;
        const deps = depsOf(world);
        const action = { principal: 'soak-operator', note: `soak ${kind}` };
        return useCase(kind, () => (kind === 'requeue' ? requeueSettlement(deps, parked, action) : abandonSettlement(deps, parked, action)));
      }
      case 'fund-movement': {
        const direction = random() < 0.5 ? 'FUND_IN' : 'FUND_OUT';
        const amount = `${1 + Math.floor(random() * 1000)}.00`;
        return useCase('fund-movement', () => postFundMovement(operationsOf(depsOf(world)), world.vostroId, direction, { movementId: `soak-${randomUUID().slice(0, 12)}`, amount }, actor));
      }
      case 'floor':
        return useCase('floor', () => setAccountFloor(operationsOf(depsOf(world)), world.vostroId, { floor: random() < 0.5 ? '0.00' : '1000.00' }, actor));
      case 'cleanup':
        // Two days ahead: every lock has expired and every settlement looks idle.
        return useCase('cleanup', () => cleanupFinished(depsOf(world, 2 * dayMs), { batchSize: 25, operationRetentionSeconds: 0, stuckAfterSeconds: 0 }));
      case 'recovery':
        return useCase('recovery', () => recoverStuckSettlements(depsOf(world), { batchSize: 25, stuckAfterSeconds: 0 }));
      case 'retry':
        return useCase('retry', () => retryFailedSettlements(depsOf(world, 2 * dayMs), { batchSize: 25 }));
    }
  };

  const totalWeight = weights.reduce((sum, [, weight]) => sum + weight, 0);
  const nextKind = (): Kind => {
    let roll = random() * totalWeight;
    for (const [kind, weight] of weights) {
      roll -= weight;
      if (roll < 0) return kind;
    }
    return 'submit';
  };
  const concurrency = options.concurrency ?? 6;
  let done = 0;
  while (done < options.operations) {
    const wave = Array.from({ length: Math.min(concurrency, options.operations - done) }, nextKind);
    for (const kind of wave) byKind[kind] = (byKind[kind] ?? 0) + 1;
    await Promise.all(wave.map((kind) => operation(kind).catch((error: unknown) => outcomes.push({ name: kind, outcome: { error } }))));
    done += wave.length;
    // Nothing runs between two waves: the capped payer's shards, read now, are a snapshot.
    if (capped) {
      capChecks.push(...(await capViolations(capped)).map((violation) => `after ${done} operations: ${violation}`));
      const held = (await capped.deps.accounts.get(capped.vostroId))?.locked;
      if (held && held.greaterThan(peakHeld)) peakHeld = held;
    }
    options.onProgress?.(done);
  }
  await drain(worlds, started, outcomes);

  const violations: string[] = [...capChecks];
  if (capped) violations.push(...(await capViolations(capped)));
  for (const [index, world] of worlds.entries()) {
    const mine = outcomes.filter(({ outcome }) => 'error' in outcome || outcome.settlementId === undefined ? index === 0 : world.settlementIds.includes(outcome.settlementId));
    violations.push(...(await worldViolations(world, baselines[index], mine)));
  }
  const ends: Record<string, number> = {};
  for (const world of worlds) {
    for (const settlementId of world.settlementIds) {
      const record = await world.deps.settlements.get(settlementId);
      const end = record ? `${record.status}${record.parked ? ' (parked)' : ''}` : 'MISSING';
      ends[end] = (ends[end] ?? 0) + 1;
    }
  }
  let cappedReport: FaultSoakReport['capped'];
  if (capped) {
    let refusals = 0;
    for (const settlementId of capped.settlementIds) if ((await capped.deps.settlements.get(settlementId))?.reasonCode === NetDebitCapExceededError.code) refusals++;
    const shards = (await capped.deps.accounts.get(capped.vostroId))?.shards ?? [];
    cappedReport = { refusals, partsMoved: shards.some((shard) => shard.capParts !== undefined), peakHeld: peakHeld.toFixed(2) };
  }
  return { operations: done, byKind, settlements: worlds.reduce((sum, world) => sum + world.settlementIds.length, 0), outcomes: ends, faults: { ...faults }, violations, ...(cappedReport && { capped: cappedReport }) };
}

/** Without faults: runs every started execution, then resumes what is still in flight, until nothing moves. */
async function drain(worlds: readonly World[], started: Array<{ world: World; input: { settlementId: string; attempt: number; resume?: number } }>, outcomes: Array<{ name: string; outcome: ActorOutcome | { error: unknown } }>): Promise<void> {
  for (let round = 0; round < drainRoundsMax; round++) {
    while (started.length > 0) {
      const { world, input } = started.shift()!;
      outcomes.push({ name: `execution ${input.settlementId}`, outcome: await runExecution(world.deps, input) });
    }
    let inFlight = 0;
    for (const world of worlds) {
      for (const settlementId of world.settlementIds) {
        const record = await world.deps.settlements.get(settlementId);
        if (!record || record.parked || record.status === 'COMPLETED' || record.status === 'FAILED') continue;
        inFlight++;
        outcomes.push({ name: `resume ${settlementId}`, outcome: await runExecution(world.deps, { settlementId, attempt: record.attempt, resume: record.version }) });
      }
    }
    if (inFlight === 0) return;
  }
}

