/**
 * The rollback branch of the workflow, in saga order: BeginRollback records why; Compensate reverses a transfer
 * that may have left the bank; ReleaseLocks voids the lock; MarkFailed ends the settlement. ParkSettlement is the
 * last resort when even these cannot finish: the lock is kept and an operator is told.
 * Each is idempotent: a replay finds the settlement already past it and changes nothing.
 */
import { BankUnavailableError, ErrorCode, ReversalPendingError, ReversalRefusedError, TransferOutcomeUnknownError } from '../domain/errors';
import { errorCodeByName, isRetryableErrorName } from '../domain/error-catalogue';
import type { SettlementStatus } from '../domain/settlement';
import type { Effect, RecordPatch, SettlementRecord } from '../ports/stores';
import { advance, requireNotParked } from './advance';
import type { EngineDeps } from './deps';
import { secondsBetween, transferKey, type StageInput, type StageResult } from './stages';

/** Longest failure text kept on a record (the Cause of a caught error can be a stack trace). */
export const reasonLengthMax = 500;

const rollbackStatuses: readonly SettlementStatus[] = ['ROLLING_BACK', 'COMPENSATING', 'COMPENSATED', 'ROLLED_BACK'];

/**
 * BeginRollback: records the failure; → COMPENSATING when money may have left the bank (a transfer was or may
 * have been initiated), else → ROLLING_BACK. A bank's definitive rejection means nothing left: at initiation before
 * the send was on record (LOCKED), and after it (TRANSFER_INITIATED: the send is recorded before the bank is called)
 * once the bank, asked here with the same idempotency key as Compensate would ask it, says REJECTED. Then nothing is
 * reversed and the rollback stays in the fast path: no hand-off to the Standard workflow (a StartExecution against
 * its quota) for the commonest failure a rail returns. The bank's answer is recorded as Compensate records it
 * (NOT_REQUIRED); a bank that cannot be asked leaves the question to Compensate, whose retries are longer.
 */
export async function beginRollback(deps: EngineDeps, input: StageInput): Promise<StageResult> {
  const errorName = input.error?.Error ?? 'Unknown';
  const record = await advance(deps, input.settlementId, async (current) => {
    if (rollbackStatuses.includes(current.status) || current.status === 'FAILED' || current.status === 'COMPLETED') return { done: current };
    requireNotParked(current);
    const rejected = errorName === 'BankRejectedError';
    const moneyMayHaveLeft = current.status === 'TRANSFER_INITIATED' || current.status === 'CONFIRMED' || (current.status === 'LOCKED' && !rejected);
    const at = deps.clock.now().toISOString();
    const bankSaysRejected = rejected && current.status === 'TRANSFER_INITIATED' ? await rejectedAtBank(deps, current) : undefined;
    const reasonCode = reasonCodeOf(errorName);
    const patch: RecordPatch = { reasonCode, reason: reasonOf(input), retryable: isRetryableErrorName(errorName), failedStage: stageOf(current.status, input) };
    return {
      command: {
        record: current,
        to: moneyMayHaveLeft && !bankSaysRejected ? 'COMPENSATING' : 'ROLLING_BACK',
        stage: 'BeginRollback',
        at,
        reasonCode,
        detail: reasonOf(input),
        patch,
        ...(bankSaysRejected && { effects: [compensationOf(current, 'NOT_REQUIRED', 'REJECTED', 'the bank rejected the transfer', at)] }),
      },
    };
  });
  return { status: record.status };
}

/**
 * Whether the bank's record of this attempt's transfer says REJECTED (final at the bank: nothing left, nothing to
 * reverse). Undefined when the bank cannot answer now: Compensate asks again.
 */
async function rejectedAtBank(deps: EngineDeps, current: SettlementRecord): Promise<boolean | undefined> {
  try {
    return (await deps.banks.forRail(current.rail).getTransfer(transferKey(current)))?.state === 'REJECTED';
  } catch (error) {
    if (error instanceof BankUnavailableError || error instanceof TransferOutcomeUnknownError) return undefined;
    throw error;
  }
}

/** The compensation record of this attempt's transfer: what was done about it, what the bank said, and why. */
function compensationOf(current: SettlementRecord, state: 'REVERSED' | 'NOT_REQUIRED', bankState: string, reason: string, at: string): Effect {
  return { type: 'putCompensation', compensation: { settlementId: current.settlementId, attempt: current.attempt, idempotencyKey: transferKey(current), state, bankState, reason, at } };
}

/**
 * Compensate: asks the bank about the transfer with the same idempotency key before anything is voided; reverses
 * it when it went out. COMPENSATING → COMPENSATED (reversed) or → ROLLING_BACK (nothing left the bank).
 */
export async function compensate(deps: EngineDeps, input: StageInput): Promise<StageResult> {
  const record = await advance(deps, input.settlementId, async (current) => {
    if (current.status !== 'COMPENSATING') return { done: current };
    requireNotParked(current);
    const bank = deps.banks.forRail(current.rail);
    const key = transferKey(current);
    const at = deps.clock.now().toISOString();
    const receipt = await bank.getTransfer(key);
    if (!receipt || receipt.state === 'REJECTED') {
      const why = receipt ? 'the bank rejected the transfer' : 'the bank never received the transfer';
      return {
        command: { record: current, to: 'ROLLING_BACK', stage: 'Compensate', at, detail: why, effects: [compensationOf(current, 'NOT_REQUIRED', receipt?.state ?? 'NONE', why, at)] },
      };
    }
    if (receipt.state !== 'REVERSED') {
      const reversal = await bank.reverseTransfer(key, current.reason ?? 'settlement could not be finalized');
      if (reversal.state === 'PENDING') throw new ReversalPendingError(`reversal of ${key} is pending at the bank`);
      if (reversal.state === 'REFUSED') throw new ReversalRefusedError(`the bank refused to reverse ${key}: ${reversal.reason ?? 'no reason given'}`);
    }
    return {
      command: { record: current, to: 'COMPENSATED', stage: 'Compensate', at, detail: `transfer ${key} reversed`, effects: [compensationOf(current, 'REVERSED', 'REVERSED', current.reason ?? 'rollback', at)] },
    };
  });
  return { status: record.status };
}

/** ReleaseLocks: one transaction voids the pending lock and gives the locked amount back on both legs; → ROLLED_BACK. */
export async function releaseLocks(deps: EngineDeps, input: StageInput): Promise<StageResult> {
  const record = await advance(deps, input.settlementId, async (current) => {
    if (current.status === 'ROLLED_BACK' || current.status === 'FAILED' || current.status === 'COMPLETED') return { done: current };
    if (current.status !== 'ROLLING_BACK' && current.status !== 'COMPENSATED') return { done: current };
    requireNotParked(current);
    const at = deps.clock.now().toISOString();
    // The lock is part of the record: read with it, in the same consistent read.
    const lock = current.lock;
    const effects: Effect[] =
      lock?.state === 'PENDING'
        ? [
            { type: 'endLock', settlementId: current.settlementId, amount: lock.amount, to: 'VOIDED', at },
            { type: 'releaseLockedAmount', accountId: lock.vostroAccountId, amount: lock.amount, shard: lock.vostroShard },
            { type: 'releaseLockedAmount', accountId: lock.nostroAccountId, amount: lock.amount, shard: lock.nostroShard },
          ]
        : [];
    return { command: { record: current, to: 'ROLLED_BACK', stage: 'ReleaseLocks', at, effects } };
  });
  return { status: record.status };
}

/**
 * MarkFailed: ROLLED_BACK → FAILED, with the reason and when the retry job may try again (if retryable). A
 * transient failure on the last allowed attempt leaves no retry: the settlement is parked for an operator (FAILED,
 * nothing locked) and the dead-letter queue told, message first as in ParkSettlement.
 */
export async function markFailed(deps: EngineDeps, input: StageInput): Promise<StageResult> {
  let failedNow = false;
  let exhausted = false;
  const record = await advance(deps, input.settlementId, async (current) => {
    if (current.status !== 'ROLLED_BACK') return { done: current };
    requireNotParked(current);
    const now = deps.clock.now();
    const at = now.toISOString();
    exhausted = current.retryable === true && current.attempt >= deps.limits.retryAttemptsMax;
    const retryable = current.retryable === true && !exhausted;
    const retryAt = retryable ? new Date(now.getTime() + deps.limits.retryDelaySecondsBase * 1000 * 2 ** (current.attempt - 1)).toISOString() : undefined;
    let patch: RecordPatch = { retryable, retryAt };
    if (exhausted) {
      const reasonCode = current.reasonCode ?? ErrorCode.unexpected;
      const reason = truncateReason(`retries exhausted: attempt ${current.attempt} of ${deps.limits.retryAttemptsMax} failed (${current.reason ?? reasonCode})`);
      await deps.deadLetters.send({ settlementId: current.settlementId, status: 'FAILED', reasonCode, reason, attempt: current.attempt, parkedAt: at });
      patch = { ...patch, parked: true, parkedAt: at, reason };
    }
    failedNow = true;
    return {
      command: {
        record: current,
        to: 'FAILED',
        stage: 'MarkFailed',
        at,
        reasonCode: current.reasonCode,
        ...(exhausted && { detail: patch.reason }),
        patch,
        effects: [{ type: 'endOperation', attempt: current.attempt, state: 'ROLLED_BACK', at }],
      },
    };
  });
  if (failedNow) {
    deps.metrics.settlementEnded({ status: 'FAILED', currency: record.currency, amount: record.amount, durationSeconds: secondsBetween(record.createdAt, record.updatedAt), reasonCode: record.reasonCode });
    deps.metrics.atomicOperation('ROLLED_BACK');
    if (exhausted) deps.metrics.atomicOperation('PARKED');
  }
  return { status: record.status };
}

/**
 * ParkSettlement: the workflow could not finish on its own. Keeps the status and the lock (money may be in
 * flight), marks the settlement parked with the reason, and tells operators through the dead-letter queue.
 * The message goes first: a crash between the two repeats the message (consumers dedupe on the settlement id)
 * rather than losing it.
 */
export async function parkSettlement(deps: EngineDeps, input: StageInput): Promise<StageResult> {
  const errorName = input.error?.Error ?? 'Unknown';
  let parkedNow = false;
  const record = await advance(deps, input.settlementId, async (current) => {
    if (current.parked || current.status === 'COMPLETED' || current.status === 'FAILED') return { done: current };
    const at = deps.clock.now().toISOString();
    const reasonCode = reasonCodeOf(errorName);
    const reason = reasonOf(input);
    await deps.deadLetters.send({ settlementId: current.settlementId, status: current.status, reasonCode, reason, attempt: current.attempt, parkedAt: at });
    parkedNow = true;
    return {
      command: {
        record: current,
        to: current.status,
        stage: 'ParkSettlement',
        at,
        reasonCode,
        detail: reason,
        patch: { parked: true, parkedAt: at, reasonCode, reason },
        effects: [{ type: 'endOperation', attempt: current.attempt, state: 'PARKED', at }],
      },
    };
  });
  if (parkedNow) deps.metrics.atomicOperation('PARKED');
  return { status: record.status };
}

function reasonCodeOf(errorName: string): string {
  return errorCodeByName[errorName] ?? (errorName.startsWith('Lambda.') ? ErrorCode.storeUnavailable : ErrorCode.unexpected);
}

function reasonOf(input: StageInput): string {
  const cause = input.error?.Cause ?? input.error?.Error ?? 'unknown failure';
  // Lambda reports Cause as a JSON string {errorType, errorMessage, trace}; keep the message only.
  let message = cause;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // a plain message
  }
  return truncateReason(message);
}

function truncateReason(message: string): string {
  return message.length > reasonLengthMax ? `${message.slice(0, reasonLengthMax)}…` : message;
}

/** The stage that failed, from where the settlement rests (a validated settlement rests PENDING until LockFunds). */
function stageOf(status: SettlementStatus, input: StageInput): string {
  switch (status) {
    case 'PENDING':
      return input.validation?.status === 'VALIDATED' ? 'LockFunds' : 'Validate';
    case 'VALIDATED':
      return 'LockFunds';
    case 'LOCKED':
      return 'InitiateTransfer';
    case 'TRANSFER_INITIATED':
      return 'CheckConfirmation';
    case 'CONFIRMED':
      return 'Finalize';
    default:
      return status;
  }
}
