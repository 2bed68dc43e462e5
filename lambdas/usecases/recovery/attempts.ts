/**
 * The three ways the recovery module moves a settlement, each one conditional transition on the record's status
 * and version (so two jobs, or a job and an operator, never both act):
 * - restart: the next attempt of a FAILED settlement, from the beginning (FAILED → PENDING, attempt + 1);
 * - resume: the current attempt once more, from the top of the state machine (status unchanged; stages are
 *   idempotent, so the run replays to where the settlement stands and continues from there);
 * - park: hand the settlement to an operator (status unchanged, lock kept, dead-letter message).
 */
import { ErrorCode } from '../../domain/errors';
import { forwardOrder, isTerminal } from '../../domain/settlement';
import type { RecordPatch, SettlementRecord } from '../../ports/stores';
import { advance } from '../advance';
import type { EngineDeps } from '../deps';
import { logJob } from './limits';

/** A transition's audit: the stage name in the settlement's history and a human-readable detail. */
export interface Audit {
  readonly stage: 'Retry' | 'Recovery' | 'Cleanup' | 'Operator' | 'ParkSettlement';
  readonly detail: string;
}

export interface Started {
  readonly record: SettlementRecord;
  /** False when the workflow could not be started now; the record is in flight, so the recovery sweep will. */
  readonly executionStarted: boolean;
}

/**
 * Starts the next attempt of a FAILED settlement: FAILED → PENDING with attempt + 1, the previous failure cleared
 * from the record (its history keeps it) and a new operation item, in one transaction; then its execution, named
 * after the new attempt. Returns undefined when `eligible` refuses the freshest record (someone acted first).
 */
export async function restartAttempt(deps: EngineDeps, settlementId: string, audit: Audit, eligible: (record: SettlementRecord) => boolean): Promise<Started | undefined> {
  let restarted = false;
  const record = await advance(deps, settlementId, async (current) => {
    restarted = false;
    if (current.status !== 'FAILED' || !eligible(current)) return { done: current };
    const at = deps.clock.now().toISOString();
    const attempt = current.attempt + 1;
    restarted = true;
    const patch: RecordPatch = {
      attempt,
      attemptStartedAt: at,
      retryable: undefined,
      retryAt: undefined,
      reasonCode: undefined,
      reason: undefined,
      failedStage: undefined,
      parked: undefined,
      parkedAt: undefined,
      bankReference: undefined,
      confirmationPolls: undefined,
    };
    return {
      command: { record: current, to: 'PENDING', stage: audit.stage, at, reasonCode: current.reasonCode, detail: audit.detail, patch, effects: [{ type: 'startOperation', attempt, at }] },
    };
  });
  if (!restarted) return undefined;
  deps.metrics.atomicOperation('STARTED');
  return { record, executionStarted: await startExecution(deps, { settlementId, attempt: record.attempt }) };
}

/**
 * Runs the current attempt of a non-terminal settlement again: an in-place transition (clears `parked`, moves
 * `updatedAt` and the version) then an execution named after that version. A settlement on the forward path
 * loses the failure it was parked with; one in the rollback branch keeps it (MarkFailed reports it).
 */
export async function resumeAttempt(deps: EngineDeps, settlementId: string, audit: Audit, eligible: (record: SettlementRecord) => boolean): Promise<Started | undefined> {
  let resumed = false;
  const record = await advance(deps, settlementId, async (current) => {
    resumed = false;
    if (isTerminal(current.status) || !eligible(current)) return { done: current };
    resumed = true;
    const forward = forwardOrder[current.status] !== undefined;
    const patch: RecordPatch = { parked: undefined, parkedAt: undefined, ...(forward && { reasonCode: undefined, reason: undefined }) };
    return { command: { record: current, to: current.status, stage: audit.stage, at: deps.clock.now().toISOString(), detail: audit.detail, patch } };
  });
  if (!resumed) return undefined;
  return { record, executionStarted: await startExecution(deps, { settlementId, attempt: record.attempt, resume: record.version }) };
}

/**
 * Parks a settlement where it stands (status and lock unchanged) with a reason an operator can act on, and tells
 * the dead-letter queue first, as ParkSettlement does: a crash between the two repeats the message (consumers
 * dedupe on the settlement id) rather than losing it. Returns undefined when it was parked already.
 */
export async function parkInPlace(deps: EngineDeps, settlementId: string, audit: Audit, reasonCode: string, reason: string): Promise<SettlementRecord | undefined> {
  let parkedNow = false;
  const record = await advance(deps, settlementId, async (current) => {
    parkedNow = false;
    if (current.parked) return { done: current };
    const at = deps.clock.now().toISOString();
    await deps.deadLetters.send({ settlementId, status: current.status, reasonCode, reason, attempt: current.attempt, parkedAt: at });
    parkedNow = true;
    const operationEnds = !isTerminal(current.status);
    return {
      command: {
        record: current,
        to: current.status,
        stage: audit.stage,
        at,
        reasonCode,
        detail: audit.detail,
        patch: { parked: true, parkedAt: at, reasonCode, reason, retryable: current.status === 'FAILED' ? false : current.retryable, retryAt: undefined },
        // A FAILED settlement's operation has ended already; a live one's is marked parked (kept out of cleanup).
        effects: operationEnds ? [{ type: 'endOperation', attempt: current.attempt, state: 'PARKED', at }] : [],
      },
    };
  });
  if (!parkedNow) return undefined;
  deps.metrics.atomicOperation('PARKED');
  return record;
}

/** Starts an execution; a failure is logged, not thrown: the record is in flight and the recovery sweep retries. */
async function startExecution(deps: EngineDeps, input: { settlementId: string; attempt: number; resume?: number }): Promise<boolean> {
  try {
    await deps.workflow.startSettlement(input);
    return true;
  } catch (error) {
    logJob('error', 'could not start the execution; the recovery sweep will', { ...input, error: String(error), code: ErrorCode.unexpected });
    return false;
  }
}
