/**
 * Races between an execution and the people and jobs that act on the same settlement or account: an operator
 * requeueing or abandoning a parked settlement while a late execution still runs (during Finalize), cleanup
 * voiding a stale lock while a late execution moves on, and operators changing one account (fund-out, floor,
 * freeze) while each other or a settlement lock funds on it. Explored schedule by schedule (test/races/harness).
 */
import { abandonSettlement, requeueSettlement } from '../../lambdas/usecases/recovery/operator';
import { cleanupFinished } from '../../lambdas/usecases/recovery/cleanup';
import { changeAccountStatus, postFundMovement, setAccountFloor } from '../../lambdas/usecases/operations/accounts';
import { operationsOf } from '../../lambdas/usecases/operations/deps';
import { driveTo, exploreScenario, park, useRacesTables } from './harness/scenario';
import { parkAbandonDuringInitiate } from './harness/scenarios';
import { outcomeOf, type World } from './harness/world';

// A scenario explores many schedules; on a loaded machine that takes longer than jest's default per test.
jest.setTimeout(10 * 60_000);

const database = useRacesTables('operators');

const dayMs = 24 * 3600_000;
const operatorRefusals = ['SettlementNotParkedError', 'AbandonRefusedError'];
const accountRefusals = ['InsufficientFundsError', 'AccountConflictError', 'AccountNotActiveError', 'TransactionConflictError'];
const actor = (world: World, name: string) => ({ actor: name, at: world.clock.view().now().toISOString() });

describe('an operator and a late execution on a parked settlement', () => {
  it('requeue during Finalize: one completion, one posting', async () => {
    await exploreScenario(database(), {
      name: 'requeue-during-finalize',
      prepare: async (world) => {
        await driveTo(world, 'TRANSFER_INITIATED');
        await park(world);
      },
      actors: (world) => {
        world.spawnExecution('late execution', { settlementId: world.settlementIds[0], attempt: 1 });
        world.spawn('operator requeue', (context) => outcomeOf('requeue', () => requeueSettlement(context.deps, world.settlementIds[0], { principal: 'ops-1', note: 'bank is back' }), operatorRefusals));
      },
    });
  });

  it('abandon during Finalize: refused while the transfer is out, never a FAILED settlement with money gone', async () => {
    await exploreScenario(database(), {
      name: 'abandon-during-finalize',
      prepare: async (world) => {
        await driveTo(world, 'TRANSFER_INITIATED');
        await park(world);
      },
      actors: (world) => {
        world.spawnExecution('late execution', { settlementId: world.settlementIds[0], attempt: 1 });
        world.spawn('operator abandon', (context) => outcomeOf('abandon', () => abandonSettlement(context.deps, world.settlementIds[0], { principal: 'ops-1', note: 'give up' }), operatorRefusals));
      },
    });
  });

  it('abandon while a late execution sends the transfer: never money out for a FAILED settlement', async () => {
    await exploreScenario(database(), {
      name: 'abandon-during-initiate',
      prepare: async (world) => {
        await driveTo(world, 'LOCKED');
        await park(world);
      },
      actors: (world) => {
        world.spawnExecution('late execution', { settlementId: world.settlementIds[0], attempt: 1 });
        world.spawn('operator abandon', (context) => outcomeOf('abandon', () => abandonSettlement(context.deps, world.settlementIds[0], { principal: 'ops-1', note: 'give up' }), operatorRefusals));
      },
    });
  });

  it('three actors: the workflow parks, an operator abandons, while an execution that read LOCKED sends the transfer', async () => {
    await exploreScenario(database(), parkAbandonDuringInitiate);
  });

  it('requeue and abandon at once: exactly one of them acts', async () => {
    await exploreScenario(database(), {
      name: 'requeue-and-abandon',
      world: { bankScenario: { reject: 'closed (races)' } },
      prepare: async (world) => {
        await driveTo(world, 'LOCKED');
        await park(world);
      },
      actors: (world) => {
        world.spawn('operator requeue', (context) => outcomeOf('requeue', () => requeueSettlement(context.deps, world.settlementIds[0], { principal: 'ops-1', note: 'retry' }), operatorRefusals));
        world.spawn('operator abandon', (context) => outcomeOf('abandon', () => abandonSettlement(context.deps, world.settlementIds[0], { principal: 'ops-2', note: 'give up' }), operatorRefusals));
      },
    });
  });
});

describe('cleanup and a late execution', () => {
  const cleanup = (world: World) =>
    world.spawn('cleanup', (context) => outcomeOf('cleanup', () => cleanupFinished(context.deps, { batchSize: 25, operationRetentionSeconds: 0, stuckAfterSeconds: 0 })), 2 * dayMs);

  it('voids a stale lock only where no money can have left, while the late execution sends the transfer', async () => {
    await exploreScenario(database(), {
      name: 'cleanup-and-late-transfer',
      prepare: (world) => driveTo(world, 'LOCKED'),
      actors: (world) => {
        world.spawnExecution('late execution', { settlementId: world.settlementIds[0], attempt: 1 });
        cleanup(world);
      },
    });
  });

  it('ends a stale lock once while the late execution posts or releases it', async () => {
    await exploreScenario(database(), {
      name: 'cleanup-and-late-rollback',
      prepare: (world) => driveTo(world, 'ROLLING_BACK'),
      actors: (world) => {
        world.spawnExecution('late execution', { settlementId: world.settlementIds[0], attempt: 1 });
        cleanup(world);
      },
    });
  });

  it('two cleanup runs at once end each lock and delete each ended operation once', async () => {
    await exploreScenario(database(), {
      name: 'two-cleanups',
      prepare: (world) => driveTo(world, 'ROLLING_BACK'),
      actors: (world) => {
        cleanup(world);
        cleanup(world);
      },
    });
  });
});

describe('operators and settlements on one account', () => {
  const fundOut = (world: World, name: string, amount: string) =>
    world.spawn(name, (context) =>
      outcomeOf('fund-out', () => postFundMovement(operationsOf(context.deps), world.vostroId, 'FUND_OUT', { movementId: `${world.payerBic}-${name.replace(/\W/g, '')}`, amount }, actor(world, name)), accountRefusals),
    );
  const setFloor = (world: World, name: string, floor: string) =>
    world.spawn(name, (context) => outcomeOf('floor', () => setAccountFloor(operationsOf(context.deps), world.vostroId, { floor }, actor(world, name)), accountRefusals));
  const freeze = (world: World, name: string) => world.spawn(name, (context) => outcomeOf('freeze', () => changeAccountStatus(operationsOf(context.deps), world.vostroId, 'freeze', actor(world, name)), accountRefusals));
  const lockingExecution = (world: World) => world.spawnExecution('execution', { settlementId: world.settlementIds[0], attempt: 1 });

  it('two fund-outs that fit only one at a time never overdraw', async () => {
    await exploreScenario(database(), { name: 'two-fund-outs', world: { settlements: 0 }, actors: (world) => (fundOut(world, 'operator 1', '100.00'), fundOut(world, 'operator 2', '100.00')) });
  });

  it('a fund-out and a floor change never leave available below the floor', async () => {
    await exploreScenario(database(), { name: 'fund-out-and-floor', world: { settlements: 0 }, actors: (world) => (fundOut(world, 'operator 1', '100.00'), setFloor(world, 'operator 2', '100.00')) });
  });

  it('a freeze and a fund-out: no movement on a frozen account', async () => {
    await exploreScenario(database(), { name: 'freeze-and-fund-out', world: { settlements: 0 }, actors: (world) => (freeze(world, 'operator 1'), fundOut(world, 'operator 2', '10.00')) });
  });

  it('a settlement locking funds and a fund-out never overdraw the payer', async () => {
    await exploreScenario(database(), { name: 'lock-and-fund-out', actors: (world) => (lockingExecution(world), fundOut(world, 'operator', '100.00')) });
  });

  it('a settlement locking funds and a floor change never leave available below the floor', async () => {
    await exploreScenario(database(), { name: 'lock-and-floor', actors: (world) => (lockingExecution(world), setFloor(world, 'operator', '100.00')) });
  });

  it('a settlement locking funds and a freeze: no new lock on a frozen account', async () => {
    await exploreScenario(database(), { name: 'lock-and-freeze', actors: (world) => (lockingExecution(world), freeze(world, 'operator')) });
  });
});
