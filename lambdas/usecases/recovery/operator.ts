/**
 * What an operator can do with a parked settlement (admin REST routes): list them, requeue one (the engine tries
 * again) or abandon one (it ends FAILED for good). Each action writes an event with stage 'Operator', the
 * principal and the operator's note, so the settlement's history says who did what and why.
 */
import { SettlementNotFoundError, ValidationError, invariant } from '../../domain/errors';
import { isTerminal, type SettlementStatus } from '../../domain/settlement';
import { StaleSettlementError, type Effect, type RecordPatch, type SettlementRecord } from '../../ports/stores';
import type { IndexPage, PageQuery } from '../../ports/recovery';
import type { TransferReceipt } from '../../ports/bank';
import { readRecord, staleRetriesMax } from '../advance';
import type { EngineDeps } from '../deps';
import { getSettlement } from '../settlements';
import { secondsBetween, transferKey } from '../stages';
import type { SettlementView } from '../views';
import { restartAttempt, resumeAttempt } from './attempts';
import type { RecoveryDeps } from './deps';
import { AbandonRefusedError, SettlementNotParkedError } from '../../domain/recovery-errors';
import { RecoveryReasonCode } from './errors';
import { recoveryLimits } from './limits';

/** A parked settlement in the operator's list: enough to decide, with the full history one GET away. */
export interface ParkedSettlementView {
  readonly settlementId: string;
  readonly status: SettlementStatus;
  readonly reasonCode?: string;
  readonly reason?: string;
  readonly attempt: number;
  readonly parkedAt?: string;
  readonly payerBic: string;
  readonly payeeBic: string;
  readonly amount: string;
  readonly currency: string;
  readonly rail: string;
  readonly updatedAt: string;
}

export interface OperatorAction {
  /** Who acts: the authenticated principal (API key client, IAM caller). */
  readonly principal: string;
  /** Why, in the operator's words (kept in the settlement's history). */
  readonly note?: string;
}

export interface RequeueResult {
  /** RESTARTED: a new attempt from the beginning (the settlement had FAILED); RESUMED: the current attempt continues. */
  readonly action: 'RESTARTED' | 'RESUMED';
  readonly executionStarted: boolean;
  readonly settlement: SettlementView;
}

export async function listParkedSettlements(deps: RecoveryDeps, query: PageQuery): Promise<IndexPage<ParkedSettlementView>> {
  const page = await deps.recovery.parked(query);
  return { items: page.items.map(parkedView), ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
}

/**
 * Requeue: a parked FAILED settlement (retries exhausted) gets one more attempt from the beginning; a parked
 * settlement in any other status resumes its current attempt (stages are idempotent).
 */
export async function requeueSettlement(deps: EngineDeps, settlementId: string, action: OperatorAction): Promise<RequeueResult> {
  const record = await readRecord(deps, settlementId);
  if (!record.parked) throw new SettlementNotParkedError(settlementId, record.status);
  const audit = { stage: 'Operator' as const, detail: operatorDetail('requeued', action) };
  const parked = (current: SettlementRecord) => current.parked === true;
  const started = record.status === 'FAILED' ? await restartAttempt(deps, settlementId, audit, parked) : await resumeAttempt(deps, settlementId, audit, parked);
  if (!started) {
    // Someone acted between our read and our write: report what the settlement is now.
    const now = await readRecord(deps, settlementId);
    throw new SettlementNotParkedError(settlementId, now.status);
  }
  return { action: record.status === 'FAILED' ? 'RESTARTED' : 'RESUMED', executionStarted: started.executionStarted, settlement: await getSettlement(deps, settlementId) };
}

/**
 * Abandon: ends a parked settlement as FAILED (reason SETTLEMENT.ABANDONED, not retryable) in one transaction that
 * also voids its lock if one is still pending. Refused with AbandonRefusedError when money may have left the
 * nostro: the bank is asked with the same idempotency key, and a transfer it reports as ACCEPTED or SETTLED
 * must be compensated (requeue) or reversed at the bank first.
 */
export async function abandonSettlement(deps: EngineDeps, settlementId: string, action: OperatorAction): Promise<SettlementView> {
  if (!action.note) throw new ValidationError('reason', 'is required: say why the settlement is abandoned');
  let endedNow = false;
  let record: SettlementRecord | undefined;
  for (let attempt = 0; ; attempt++) {
    const current = await readRecord(deps, settlementId);
    if (!current.parked) throw new SettlementNotParkedError(settlementId, current.status);
    const effects = await abandonEffects(deps, current);
    const at = deps.clock.now().toISOString();
    const reason = operatorDetail('abandoned', action);
    const patch: RecordPatch = { parked: undefined, parkedAt: undefined, retryable: false, retryAt: undefined, reasonCode: RecoveryReasonCode.abandoned, reason };
    try {
      // An operator-only transition (any parked status → FAILED), allowed here and nowhere else: the stages'
      // allowedTransitions stay as the lifecycle defines them.
      record = await deps.settlements.transition({ record: current, to: 'FAILED', stage: 'Operator', at, reasonCode: RecoveryReasonCode.abandoned, detail: reason, patch, effects });
      endedNow = !isTerminal(current.status);
      break;
    } catch (error) {
      if (!(error instanceof StaleSettlementError) || attempt >= staleRetriesMax) throw error;
    }
  }
  if (endedNow) {
    deps.metrics.settlementEnded({ status: 'FAILED', currency: record.currency, amount: record.amount, durationSeconds: secondsBetween(record.createdAt, record.updatedAt), reasonCode: record.reasonCode });
  }
  deps.metrics.atomicOperation('ABANDONED');
  return getSettlement(deps, settlementId);
}

/** The lock voided and the operation ended with the abandon, once the bank confirms no money is out. */
async function abandonEffects(deps: EngineDeps, record: SettlementRecord): Promise<Effect[]> {
  const lock = await deps.settlements.getLock(record.settlementId);
  const pendingLock = lock?.state === 'PENDING' ? lock : undefined;
  const at = deps.clock.now().toISOString();
  const effects: Effect[] = [];
  // Before LockFunds no transfer can exist; from then on only the bank knows, so it is asked.
  const transferPossible = pendingLock !== undefined || !['PENDING', 'VALIDATED', 'FAILED'].includes(record.status);
  if (transferPossible) {
    const key = transferKey(record);
    const receipt = await deps.banks.forRail(record.rail).getTransfer(key);
    if (receipt && (receipt.state === 'ACCEPTED' || receipt.state === 'SETTLED')) throw new AbandonRefusedError(record.settlementId, key, receipt.state);
    // TRANSFER_INITIATED is committed before the bank call (stages.ts): the bank's silence is no answer yet.
    if (!receipt && record.status === 'TRANSFER_INITIATED') throw new AbandonRefusedError(record.settlementId, key, 'NONE');
    effects.push(...(await reversalRecord(deps, record, receipt, at)));
  }
  if (pendingLock) {
    invariant(pendingLock.amount.equals(record.amount), `abandon: lock of ${record.settlementId} differs from its amount`);
    effects.push(
      { type: 'endLock', settlementId: record.settlementId, amount: pendingLock.amount, to: 'VOIDED', at },
      { type: 'releaseLockedAmount', accountId: pendingLock.vostroAccountId, amount: pendingLock.amount },
      { type: 'releaseLockedAmount', accountId: pendingLock.nostroAccountId, amount: pendingLock.amount },
    );
  }
  // A live attempt's operation ends here; a FAILED one's ended with MarkFailed.
  if (!isTerminal(record.status)) effects.push({ type: 'endOperation', attempt: record.attempt, state: 'ABANDONED', at });
  return effects;
}

/** A transfer the bank reports REVERSED that no compensation item records yet is recorded with the abandon. */
async function reversalRecord(deps: EngineDeps, record: SettlementRecord, receipt: TransferReceipt | undefined, at: string): Promise<Effect[]> {
  if (receipt?.state !== 'REVERSED') return [];
  const history = await deps.settlements.history(record.settlementId);
  if (!history) throw new SettlementNotFoundError(record.settlementId);
  if (history.compensations.some((compensation) => compensation.attempt === record.attempt)) return [];
  return [
    {
      type: 'putCompensation',
      compensation: { settlementId: record.settlementId, attempt: record.attempt, idempotencyKey: receipt.idempotencyKey, state: 'REVERSED', bankState: 'REVERSED', reason: 'found reversed at the bank when an operator abandoned the settlement', at },
    },
  ];
}

function operatorDetail(verb: string, action: OperatorAction): string {
  const note = action.note ? `: ${action.note}` : '';
  const text = `${verb} by ${action.principal}${note}`;
  return text.length > recoveryLimits.operatorNoteLengthMax ? `${text.slice(0, recoveryLimits.operatorNoteLengthMax)}…` : text;
}

function parkedView(record: SettlementRecord): ParkedSettlementView {
  return {
    settlementId: record.settlementId,
    status: record.status,
    ...(record.reasonCode !== undefined && { reasonCode: record.reasonCode }),
    ...(record.reason !== undefined && { reason: record.reason }),
    attempt: record.attempt,
    ...(record.parkedAt !== undefined && { parkedAt: record.parkedAt }),
    payerBic: record.payerBic,
    payeeBic: record.payeeBic,
    amount: record.amount,
    currency: record.currency,
    rail: record.rail,
    updatedAt: record.updatedAt,
  };
}
