/**
 * The one way a stage changes a settlement: read it, decide, commit a conditional transition; on a concurrent
 * change, read again and decide again. Replays are no-ops because the decision sees the newer status.
 */
import { InvalidTransitionError, InvariantViolationError, SettlementNotFoundError, SettlementParkedError } from '../domain/errors';
import { canTransition, type SettlementStatus } from '../domain/settlement';
import { StaleAccountPlanError, StaleSettlementError, type SettlementRecord, type TransitionCommand } from '../ports/stores';
import type { EngineDeps } from './deps';

/** Times a stage re-reads after losing a race before giving up (each race means another writer progressed). */
export const staleRetriesMax = 5;

export type Decision = { readonly done: SettlementRecord } | { readonly command: TransitionCommand };

export async function readRecord(deps: Pick<EngineDeps, 'settlements'>, settlementId: string): Promise<SettlementRecord> {
  const record = await deps.settlements.get(settlementId);
  if (!record) throw new SettlementNotFoundError(settlementId);
  return record;
}

/**
 * Runs `decide` against the freshest record until its transition commits or it says the work is done.
 * `decide` must be pure over the record (plus reads), so running it again after a race is safe.
 */
export async function advance(deps: Pick<EngineDeps, 'settlements'>, settlementId: string, decide: (record: SettlementRecord) => Promise<Decision>): Promise<SettlementRecord> {
  for (let attempt = 0; ; attempt++) {
    try {
      const record = await readRecord(deps, settlementId);
      const decision = await decide(record);
      if ('done' in decision) return decision.done;
      const { command } = decision;
      // Every step of the path is a transition of the lifecycle: through the statuses it passes (`via`) to `to`.
      let from = record.status;
      for (const to of [...(command.via ?? []).map((checkpoint) => checkpoint.status), command.to]) {
        if (to !== from && !canTransition(from, to)) throw new InvalidTransitionError(settlementId, from, to);
        from = to;
      }
      return await deps.settlements.transition(command);
    } catch (error) {
      // A stale record, or a hot account's lock planned on shards a concurrent lock changed: read and decide again.
      if (!(error instanceof StaleSettlementError || error instanceof StaleAccountPlanError) || attempt >= staleRetriesMax) throw error;
    }
  }
}

/**
 * For a decision that reads another item of the settlement after the record (its lock): when that item is not
 * what the record promised, either a concurrent writer moved both after our read of the record (the record's
 * version tells: then decide again on the fresh record, by throwing StaleSettlementError inside `advance`), or
 * the two disagree for real (an engine bug: stop loudly).
 */
export async function staleOrContradiction(deps: Pick<EngineDeps, 'settlements'>, record: SettlementRecord, contradiction: string): Promise<never> {
  const fresh = await readRecord(deps, record.settlementId);
  if (fresh.version !== record.version) throw new StaleSettlementError(record.settlementId);
  throw new InvariantViolationError(contradiction);
}

/**
 * Refuses a stage that would act on a parked settlement. Parked means handed to an operator (requeue clears it
 * first): a late or duplicate execution that still runs must neither send a transfer nor void or post a lock
 * while the operator decides, or an abandon could end FAILED a settlement whose money is on its way out.
 */
export function requireNotParked(record: SettlementRecord): void {
  if (record.parked) throw new SettlementParkedError(record.settlementId, record.status);
}

/** Refuses a stage that finds the settlement in a status it does not start from. */
export function requireStatus(record: SettlementRecord, allowed: readonly SettlementStatus[], to: SettlementStatus): void {
  if (!allowed.includes(record.status)) throw new InvalidTransitionError(record.settlementId, record.status, to);
}
