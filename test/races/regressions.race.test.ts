/**
 * The races the harness found, each replayed in exactly the order that broke an invariant before its fix (the
 * choice sequences the harness printed). Each must now end with every invariant of harness/invariants.ts intact.
 */
import { stageUseCases } from '../../lambdas/handlers/stage-handlers';
import { abandonSettlement } from '../../lambdas/usecases/recovery/operator';
import { cleanupFinished } from '../../lambdas/usecases/recovery/cleanup';
import { driveTo, park, useRacesTables, replayOf, runSchedule, type Scenario } from './harness/scenario';
import { outcomeOf, type World } from './harness/world';
import { orphanReversalRefused, parkAbandonDuringInitiate } from './harness/scenarios';

// A scenario explores many schedules; on a loaded machine that takes longer than jest's default per test.
jest.setTimeout(10 * 60_000);

const database = useRacesTables();

const twoExecutions: Scenario = {
  name: 'two-executions',
  actors: (world) => {
    world.spawnExecution('execution 1', { settlementId: world.settlementIds[0], attempt: 1 });
    world.spawnExecution('execution 2', { settlementId: world.settlementIds[0], attempt: 1 });
  },
};

const duplicateFinalize: Scenario = {
  name: 'duplicate-Finalize',
  prepare: (world) => driveTo(world, 'TRANSFER_INITIATED'),
  actors: (world) => {
    for (const delivery of [1, 2]) world.spawn(`Finalize delivery ${delivery}`, (context) => outcomeOf('Finalize', () => stageUseCases.Finalize(context.deps, { settlementId: world.settlementIds[0] })));
  },
};

const duplicateLockFunds: Scenario = {
  name: 'duplicate-LockFunds',
  actors: (world) => {
    for (const delivery of [1, 2]) world.spawn(`LockFunds delivery ${delivery}`, (context) => outcomeOf('LockFunds', () => stageUseCases.LockFunds(context.deps, { settlementId: world.settlementIds[0] }), ['StaleSettlementError']));
  },
  // Two deliveries of one stage leave the settlement LOCKED: an execution resumes it to its end.
  finish: 'resume',
};

const abandonDuringInitiate: Scenario = {
  name: 'abandon-during-initiate',
  prepare: async (world) => {
    await driveTo(world, 'LOCKED');
    await park(world);
  },
  actors: (world) => {
    world.spawnExecution('late execution', { settlementId: world.settlementIds[0], attempt: 1 });
    world.spawn('operator abandon', (context) => outcomeOf('abandon', () => abandonSettlement(context.deps, world.settlementIds[0], { principal: 'ops-1', note: 'give up' }), ['SettlementNotParkedError', 'AbandonRefusedError']));
  },
};

const cleanupAndLateTransfer: Scenario = {
  name: 'cleanup-and-late-transfer',
  prepare: (world) => driveTo(world, 'LOCKED'),
  actors: (world) => {
    world.spawnExecution('late execution', { settlementId: world.settlementIds[0], attempt: 1 });
    world.spawn('cleanup', (context) => outcomeOf('cleanup', () => cleanupFinished(context.deps, { batchSize: 25, operationRetentionSeconds: 0, stuckAfterSeconds: 0 })), 2 * 24 * 3600_000);
  },
};

describe('races found by the harness, replayed in the order that broke them', () => {
  it.each([
    ['a duplicate Finalize that finds the lock already posted re-decides instead of failing the stage', duplicateFinalize, '0.0.0.1.0.1'],
    ['a duplicate LockFunds that read PENDING, then validated afresh against the funds the first had just locked, decides again instead of refusing', duplicateLockFunds, '0.0.0.0.1.0.1'],
    ['two executions: a Validate that read PENDING, then found short the funds the other had just locked, decides again instead of rolling back a settlement the other completes', twoExecutions, '0.0.0.0.1.1.1.1.0.1.1.0.1.1.1.0.0.0.0.1.0.1.0.0.0.0.1.1'],
    ['two executions: the one that loses Finalize ends Completed, not Parked (no false alarm)', twoExecutions, '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.1'],
    ['abandon while a late execution sends the transfer: the execution stops at the parked settlement', abandonDuringInitiate, '0.0.0.1.0.0.1.1.0.0'],
    ['cleanup voids a lock while a late execution sends the transfer: the orphaned transfer is reversed', cleanupAndLateTransfer, '0.0.0.1.0.0.1.1.0.0.1.1.1.1.0.0.1.0.1.1.1.1.1'],
    ['three actors: parked, then abandoned, while an execution that read LOCKED sends the transfer: the send is refused by the record', parkAbandonDuringInitiate, '0.0.0.0.1.0.0.1.0.0.0.0.0'],
  ] as const)('%s', async (_title, scenario, choices) => {
    const run = await runSchedule(database(), scenario, replayOf(choices));
    expect({ violations: run.violations, trace: run.violations.length > 0 ? run.trace : [] }).toEqual({ violations: [], trace: [] });
  });
});

describe('an orphaned transfer whose reversal the bank refuses', () => {
  it('parks the settlement visibly (dead-letter queue, PARKED alarm, reason code), never leaves it silently FAILED', async () => {
    let world: World | undefined;
    const run = await runSchedule(database(), { ...orphanReversalRefused, prepare: async (created) => ((world = created), orphanReversalRefused.prepare?.(created)) }, replayOf(''));
    expect({ violations: run.violations, trace: run.violations.length > 0 ? run.trace : [] }).toEqual({ violations: [], trace: [] });
    const settlementId = world!.settlementIds[0];
    expect(await world!.deps.settlements.get(settlementId)).toMatchObject({ status: 'FAILED', parked: true, reasonCode: 'BANK.REVERSAL_REFUSED', retryable: false });
    expect(world!.deadLetters.messages).toEqual([expect.objectContaining({ settlementId, reasonCode: 'BANK.REVERSAL_REFUSED' })]);
    expect(world!.alarms).toContain('PARKED');
    expect((await world!.bank.allTransfers()).filter((transfer) => transfer.instruction.settlementId === settlementId).map((transfer) => transfer.state)).toEqual([expect.stringMatching(/^(ACCEPTED|SETTLED)$/)]);
  });
});
