/**
 * advance: a stage decides on the freshest record and commits one transition; when the commit loses a race it
 * reads again and decides again, a bounded number of times (usecases/advance.ts).
 */
import { advance, staleRetriesMax } from '../../../lambdas/usecases/advance';
import { StaleAccountPlanError, StaleSettlementError, type SettlementRecord, type TransitionCommand } from '../../../lambdas/ports/stores';
import { TransactionConflictError } from '../../../lambdas/domain/errors';

const record = { settlementId: 'stl-advance-1', status: 'PENDING', version: 1 } as SettlementRecord;

/** A store whose transition fails with `failures` in turn, then commits. */
function storeFailing(failures: readonly Error[]) {
  const calls = { reads: 0, transitions: 0 };
  const settlements = {
    get: async () => {
      calls.reads++;
      return record;
    },
    transition: async (command: TransitionCommand) => {
      const failure = failures[calls.transitions++];
      if (failure) throw failure;
      return { ...command.record, status: command.to, version: command.record.version + 1 } as SettlementRecord;
    },
  };
  return { calls, deps: { settlements } as unknown as Parameters<typeof advance>[0] };
}

const validate = async (current: SettlementRecord) => ({ command: { record: current, to: 'VALIDATED' as const, stage: 'Validate', at: '2026-12-02T00:00:00.000Z' } });

describe('advance', () => {
  it('decides again on a fresh read when a hot account\'s lock was planned on shards a concurrent lock changed', async () => {
    const { calls, deps } = storeFailing([new StaleAccountPlanError('shards changed'), new StaleAccountPlanError('shards changed')]);

    const committed = await advance(deps, record.settlementId, validate);

    expect(committed.status).toBe('VALIDATED');
    expect(calls).toEqual({ reads: 3, transitions: 3 });
  });

  it('decides again after a stale record, and gives up after its bounded re-reads with the error the workflow retries', async () => {
    const failures = Array.from({ length: staleRetriesMax + 1 }, () => new StaleAccountPlanError('shards changed'));
    const { calls, deps } = storeFailing(failures);

    const outcome = advance(deps, record.settlementId, validate);

    await expect(outcome).rejects.toBeInstanceOf(TransactionConflictError);
    await expect(outcome).rejects.toMatchObject({ name: 'TransactionConflictError' });
    expect(calls.transitions).toBe(staleRetriesMax + 1);
    const stale = storeFailing([new StaleSettlementError(record.settlementId)]);
    expect((await advance(stale.deps, record.settlementId, validate)).status).toBe('VALIDATED');
  });

  it('does not re-read on any other conflict: the workflow retries it', async () => {
    const { calls, deps } = storeFailing([new TransactionConflictError('conflict')]);

    await expect(advance(deps, record.settlementId, validate)).rejects.toBeInstanceOf(TransactionConflictError);
    expect(calls.transitions).toBe(1);
  });
});
