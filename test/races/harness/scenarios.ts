/**
 * Scenarios that both an exploration (operators.race.test.ts) and a replay (regressions.race.test.ts) run, so the
 * replayed order is exactly one of the explored ones.
 */
import { abandonSettlement } from '../../../lambdas/usecases/recovery/operator';
import { beginRollback, compensate, markFailed, parkSettlement, releaseLocks } from '../../../lambdas/usecases/rollback';
import { initiateTransfer } from '../../../lambdas/usecases/stages';
import type { BankDirectory, TransferInstruction } from '../../../lambdas/ports/bank';
import type { Rail } from '../../../lambdas/domain/settlement';
import { driveTo, type Scenario } from './scenario';
import { outcomeOf } from './world';

/**
 * Three actors on one LOCKED settlement: a late execution about to send the transfer, the workflow parking the
 * settlement (another execution's ParkSettlement after a stage gave up), and an operator abandoning it once parked.
 * The bank refuses reversals, so a transfer orphaned by the abandon could not be taken back: the park and the abandon
 * must be ordered against the send by the record's guard, never by a reversal after the fact.
 */
export const parkAbandonDuringInitiate: Scenario = {
  name: 'park-abandon-during-initiate',
  world: { bankScenario: { reversal: 'REFUSED' } },
  prepare: (world) => driveTo(world, 'LOCKED'),
  actors: (world) => {
    const settlementId = world.settlementIds[0];
    world.spawnExecution('late execution', { settlementId, attempt: 1 });
    world.spawn('workflow park', (context) => outcomeOf('park', () => parkSettlement(context.deps, { settlementId, error: { Error: 'StoreUnavailableError', Cause: 'store unavailable (races)' } })));
    world.spawn('operator abandon', (context) =>
      outcomeOf('abandon', () => abandonSettlement(context.deps, settlementId, { principal: 'ops-1', note: 'give up' }), ['SettlementNotParkedError', 'AbandonRefusedError']),
    );
  },
};

/**
 * One execution sending the transfer of a settlement that a duplicate execution, unable to reach the bank, rolls back
 * meanwhile (BeginRollback → Compensate finds nothing at the bank → ReleaseLocks → MarkFailed), run inline at the
 * moment of the send. The transfer then lands orphaned, and the bank refuses its reversal: the settlement must end
 * parked for an operator, with the refusal's reason code, never silently FAILED with the money out.
 */
export const orphanReversalRefused: Scenario = {
  name: 'orphan-reversal-refused',
  world: { bankScenario: { reversal: 'REFUSED' } },
  prepare: (world) => driveTo(world, 'LOCKED'),
  actors: (world) => {
    const settlementId = world.settlementIds[0];
    world.spawn('late sender', (context) => {
      let rolledBack = false;
      const rollBackUnreached = async () => {
        if (rolledBack) return;
        rolledBack = true;
        const input = { settlementId, error: { Error: 'BankUnavailableError', Cause: 'bank unreachable (races)' } };
        for (const stage of [beginRollback, compensate, releaseLocks, markFailed]) await stage(world.deps, input);
      };
      const banks = context.deps.banks;
      const racingBanks: BankDirectory = Object.assign(Object.create(banks) as BankDirectory, {
        forRail: (rail: Rail) => {
          const bank = banks.forRail(rail);
          return { ...bank, initiateTransfer: async (instruction: TransferInstruction) => (await rollBackUnreached(), bank.initiateTransfer(instruction)) };
        },
      });
      const metrics = { ...context.deps.metrics, atomicOperation: (state: string) => world.alarms.push(state) };
      return outcomeOf('InitiateTransfer', () => initiateTransfer({ ...context.deps, banks: racingBanks, metrics }, { settlementId }), ['SettlementParkedError']);
    });
  },
};
