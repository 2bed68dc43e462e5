/**
 * Races between the actors of one settlement, explored schedule by schedule (test/races/harness): two executions
 * of the real state machine, an execution and the recovery sweep, two settlements contending for one account,
 * and an at-least-once (Express-style) duplicate delivery of every stage. After each schedule every invariant of
 * harness/invariants.ts is checked against the tables. A failure prints the schedule's RACES_REPLAY.
 */
import { stageUseCases, type StageName } from '../../lambdas/handlers/stage-handlers';
import type { SettlementStatus } from '../../lambdas/domain/settlement';
import { recoverStuckSettlements } from '../../lambdas/usecases/recovery/recover';
import { driveTo, exploreScenario, useRacesTables } from './harness/scenario';
import { outcomeOf } from './harness/world';

// A scenario explores many schedules; on a loaded machine that takes longer than jest's default per test.
jest.setTimeout(10 * 60_000);

const database = useRacesTables('executions');

describe('two executions of one settlement', () => {
  it('end in one outcome whatever the order of their store calls', async () => {
    await exploreScenario(database(), {
      name: 'two-executions',
      actors: (world) => {
        world.spawnExecution('execution 1', { settlementId: world.settlementIds[0], attempt: 1 });
        world.spawnExecution('execution 2', { settlementId: world.settlementIds[0], attempt: 1 });
      },
    });
  });

  it('end in one outcome when the bank keeps the transfer pending for a while (the confirmation loop)', async () => {
    await exploreScenario(database(), {
      name: 'two-executions-pending-bank',
      world: { bankScenario: { pendingChecks: 2 } },
      prepare: (world) => driveTo(world, 'LOCKED'),
      actors: (world) => {
        world.spawnExecution('execution 1', { settlementId: world.settlementIds[0], attempt: 1 });
        world.spawnExecution('execution 2', { settlementId: world.settlementIds[0], attempt: 1 });
      },
    });
  });

  it('end in one outcome when the bank rejects the transfer (both run the rollback branch)', async () => {
    await exploreScenario(database(), {
      name: 'two-executions-rejected',
      world: { bankScenario: { reject: 'beneficiary account closed (races)' } },
      prepare: (world) => driveTo(world, 'LOCKED'),
      actors: (world) => {
        world.spawnExecution('execution 1', { settlementId: world.settlementIds[0], attempt: 1 });
        world.spawnExecution('execution 2', { settlementId: world.settlementIds[0], attempt: 1 });
      },
    });
  });
});

describe('an execution and the recovery sweep', () => {
  it('never both finish the settlement when the sweep resumes an execution that is merely slow', async () => {
    await exploreScenario(database(), {
      name: 'execution-and-recovery',
      prepare: (world) => driveTo(world, 'LOCKED'),
      actors: (world) => {
        world.spawnExecution('slow execution', { settlementId: world.settlementIds[0], attempt: 1 });
        world.spawn('recovery sweep', (context) => outcomeOf('recovery', () => recoverStuckSettlements(context.deps, { batchSize: 25, stuckAfterSeconds: 0 })));
      },
    });
  });
});

describe('two settlements on one account', () => {
  it('never lock more than the payer has', async () => {
    await exploreScenario(database(), {
      name: 'two-settlements-one-account',
      world: { settlements: 2, payerBalance: '150.00' },
      // Both executions validate (each reads the payer's available before either locks), then race on the lock.
      actors: (world) => {
        world.spawnExecution('execution A', { settlementId: world.settlementIds[0], attempt: 1 });
        world.spawnExecution('execution B', { settlementId: world.settlementIds[1], attempt: 1 });
      },
    });
  });
});

/**
 * Where each stage starts from (a status a settlement rests in: LockFunds commits Validate's decision, Finalize the
 * confirmation, each deciding it afresh when delivered without it), and the error a rollback stage's input carries.
 */
const duplicateDeliveries: ReadonlyArray<{ stage: StageName; from: SettlementStatus; error?: string; name?: string }> = [
  { stage: 'Validate', from: 'PENDING' },
  { stage: 'LockFunds', from: 'PENDING' },
  { stage: 'InitiateTransfer', from: 'LOCKED' },
  { stage: 'CheckConfirmation', from: 'TRANSFER_INITIATED' },
  { stage: 'Finalize', from: 'TRANSFER_INITIATED' },
  { stage: 'BeginRollback', from: 'LOCKED', error: 'BankUnavailableError' },
  // A rejection after the send was on record: each delivery asks the bank (here the transfer settled: compensating).
  { stage: 'BeginRollback', from: 'TRANSFER_INITIATED', error: 'BankRejectedError', name: 'duplicate-BeginRollback-rejected' },
  { stage: 'Compensate', from: 'COMPENSATING' },
  { stage: 'ReleaseLocks', from: 'ROLLING_BACK' },
  { stage: 'MarkFailed', from: 'ROLLED_BACK' },
  { stage: 'ParkSettlement', from: 'TRANSFER_INITIATED', error: 'StoreUnavailableError' },
];

describe('a stage delivered twice at once (Express at-least-once)', () => {
  it.each(duplicateDeliveries)('$stage from $from: both deliveries together have the effect of one', async ({ stage, from, error, name }) => {
    await exploreScenario(database(), {
      name: name ?? `duplicate-${stage}`,
      prepare: (world) => driveTo(world, from),
      actors: (world) => {
        const input = { settlementId: world.settlementIds[0], ...(error && { error: { Error: error, Cause: `${error} (races)` } }) };
        const useCase = stageUseCases[stage] as (deps: never, input: unknown) => Promise<unknown>;
        for (const delivery of [1, 2]) world.spawn(`${stage} delivery ${delivery}`, (context) => outcomeOf(stage, () => useCase(context.deps as never, input), ['StaleSettlementError']));
      },
      finish: 'resume',
      settings: { dfsSchedulesMax: 3, walks: 3 },
    });
  });
});
