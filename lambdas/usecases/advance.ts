/**
 * The one way a stage changes a settlement: read it (or take the record the execution carries), decide, commit a
 * conditional transition; on a concurrent change, read again and decide again. Replays are no-ops because the
 * decision sees the newer status.
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
 * `decide` must be pure over the record (plus reads), so running it again after a race is safe. With `carried`, the
 * first decision is taken on it instead of a read; only a transition (conditional on its version) is taken on it.
 */
export async function advance(
  deps: Pick<EngineDeps, 'settlements'>,
  settlementId: string,
  decide: (record: SettlementRecord) => Promise<Decision>,
  carried?: SettlementRecord,
): Promise<SettlementRecord> {
  for (let attempt = 0, onCarried = carried !== undefined; ; attempt++, onCarried = false) {
    try {
      const record = onCarried ? carried! : await readRecord(deps, settlementId);
      const decision = await decide(record);
      // Only a write, which its version guards, is taken on the carried record: "nothing to do" is a decision on
      // the record as it stands (InitiateTransfer sends again what it finds sent, unless parked), so it is re-read.
      if ('done' in decision) {
        if (onCarried) continue;
        return decision.done;
      }
      const { command } = decision;
      // Every step of the path is a transition of the lifecycle: through the statuses it passes (`via`) to `to`.
      let from = record.status;
      for (const to of [...(command.via ?? []).map((checkpoint) => checkpoint.status), command.to]) {
        if (to !== from && !canTransition(from, to)) throw new InvalidTransitionError(settlementId, from, to);
        from = to;
      }
      return await deps.settlements.transition(command);
    } catch (error) {
      // A refusal decided on the carried record may be a decision on a record another actor has moved since: decided
      // again on a fresh read (a transient failure is not a decision: the workflow's retry delivers the same input).
      // The carried attempt counts against the stale-retry budget like any other.
      if (onCarried && !isTransient(error)) continue;
      // A stale record, or a hot account's lock planned on shards a concurrent lock changed: read and decide again.
      if (!(error instanceof StaleSettlementError || error instanceof StaleAccountPlanError) || attempt >= staleRetriesMax) throw error;
    }
  }
}

/**
 * For a stage that decides without writing (Validate; CheckConfirmation reads the record, see there): `decide` on
 * the carried record when the execution carries one, else on a fresh read; a refusal on the carried record is
 * decided again on a fresh read, and one on a record another actor has moved since is decided again on it (as
 * `staleOr` does inside `advance`). What it decides is committed later only on the version it was decided on (the
 * writing stage's condition).
 */
export async function onRecord<T>(deps: Pick<EngineDeps, 'settlements'>, settlementId: string, decide: (record: SettlementRecord) => Promise<T>, carried?: SettlementRecord): Promise<T> {
  if (carried) {
    try {
      return await decide(carried);
    } catch (error) {
      if (isTransient(error)) throw error;
    }
  }
  let record = await readRecord(deps, settlementId);
  for (let attempt = 0; ; attempt++) {
    try {
      return await decide(record);
    } catch (error) {
      if (isTransient(error) || attempt >= staleRetriesMax) throw error;
      // A refusal stands only on the record as it still is. The stage's own reads come after its read of the
      // record, so another actor may have moved the settlement meanwhile (a duplicate execution that locked the very
      // funds this one then found short): decided again on the record as it now is.
      const now = await readRecord(deps, settlementId);
      if (now.version === record.version) throw error;
      record = now;
    }
  }
}

/**
 * The freshest record an execution carries (the one with the highest version among those the stages before left
 * in its state), or undefined: a state without one (a hand-off, a requeue, an execution started by an engine from
 * before) and anything that is not a record of this settlement are read instead.
 */
export function carriedRecord(deps: Pick<EngineDeps, 'settlements'>, settlementId: string, values: readonly unknown[]): SettlementRecord | undefined {
  let freshest: SettlementRecord | undefined;
  for (const value of values) {
    const record = value === undefined ? undefined : deps.settlements.uncarry(value);
    if (record?.settlementId === settlementId && (!freshest || record.version > freshest.version)) freshest = record;
  }
  return freshest;
}

function isTransient(error: unknown): boolean {
  return (error as { kind?: string } | undefined)?.kind === 'transient';
}

/**
 * For a decision that reads another item of the settlement after the record (its lock): when that item is not
 * what the record promised, either a concurrent writer moved both after our read of the record (the record's
 * version tells: then decide again on the fresh record, by throwing StaleSettlementError inside `advance`), or
 * the two disagree for real (an engine bug: stop loudly).
 */
export async function staleOrContradiction(deps: Pick<EngineDeps, 'settlements'>, record: SettlementRecord, contradiction: string): Promise<never> {
  return staleOr(deps, record, new InvariantViolationError(contradiction));
}

/**
 * For a decision inside `advance` that failed on what it read after the record (a refusal on the accounts, the banks):
 * it stands only on the record as it still is. A record another actor has moved since (a duplicate delivery that
 * locked the very funds this one then found short) makes it a lost race: decide again on the fresh record, by
 * throwing StaleSettlementError. Otherwise, or when `error` is transient, `error` is thrown.
 */
export async function staleOr(deps: Pick<EngineDeps, 'settlements'>, record: SettlementRecord, error: unknown): Promise<never> {
  // A transient failure is not a decision: the workflow retries it.
  if (isTransient(error)) throw error;
  const fresh = await readRecord(deps, record.settlementId);
  if (fresh.version !== record.version) throw new StaleSettlementError(record.settlementId);
  throw error;
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
