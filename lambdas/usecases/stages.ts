/**
 * The settlement stages, one plain function each, run by the state machine's Task states (see
 * statemachines/settlement.asl.json). Every stage is idempotent keyed by the settlement id: it decides on the record
 * (the one the execution carries from the stage before, else a fresh read: `advance`, `onRecord`), returns at once
 * when the settlement is already past it, and otherwise commits one conditional transition.
 */
import {
  AccountNotActiveError,
  AccountNotFoundError,
  BankNotActiveError,
  BankNotFoundError,
  BankRejectedError,
  ConfirmationTimeoutError,
  InsufficientFundsError,
  InvalidTransitionError,
  PayoutRouteNotFoundError,
  ReversalPendingError,
  ReversalRefusedError,
  SanctionsHitError,
  SettlementParkedError,
  TransferOutcomeUnknownError,
  invariant,
} from '../domain/errors';
import { Money, formatAmount } from '../domain/money';
import { forwardOrder, type SettlementStatus } from '../domain/settlement';
import { accountId, type Account, type Bank, type CarriedRecord, type Effect, type HoldRead, type SettlementRecord } from '../ports/stores';
import { assertCompliant, screen, type CompliancePolicy } from '../domain/compliance';
import type { TransferInstruction } from '../ports/bank';
import { advance, carriedRecord, onRecord, readRecord, requireNotParked, requireStatus, staleOr, staleOrContradiction } from './advance';
import { parkInPlace } from './recovery/attempts';
import { readPayout } from './payout-route';
import { carryHold, uncarryHold, type CarriedHold } from './carried-hold';
import type { EngineDeps } from './deps';

/** The workflow state every Task receives (the execution's JSON); stages read only what they need. */
export interface StageInput {
  readonly settlementId: string;
  /**
   * Records the execution carries (`$.record` from the start, `$.lock.record` and `$.transfer.record` from the stages
   * that wrote one, `$.confirmation.record`): the freshest is decided on instead of a read ("The carried record").
   */
  readonly record?: unknown;
  readonly lock?: { readonly record?: unknown };
  readonly transfer?: { readonly record?: unknown };
  /** Validate's result ($.validation): its decision, which LockFunds commits with the lock. */
  readonly validation?: Partial<ValidationResult>;
  /** CheckConfirmation's result ($.confirmation): the checks so far, and the bank's settlement Finalize commits. */
  readonly confirmation?: Partial<ConfirmationResult> & { readonly record?: unknown };
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

export interface StageResult {
  readonly status: SettlementStatus;
}

/** A writing stage's result: the status it left and the record as it left it, for the next stage to decide on. */
export interface CarryingStageResult extends StageResult {
  readonly record: CarriedRecord;
}

/** The freshest record the execution carries to this stage, if any (see StageInput). */
function carried(deps: EngineDeps, input: StageInput): SettlementRecord | undefined {
  return carriedRecord(deps, input.settlementId, [input.record, input.lock?.record, input.transfer?.record, input.confirmation?.record]);
}

const isAtOrPast = (record: SettlementRecord, status: SettlementStatus) =>
  forwardOrder[record.status] !== undefined && forwardOrder[record.status]! >= forwardOrder[status]!;

/** Idempotency key the bank deduplicates on: one per settlement attempt. */
export function transferKey(record: Pick<SettlementRecord, 'settlementId' | 'attempt'>): string {
  return `${record.settlementId}:${record.attempt}`;
}

/**
 * Validate's decision, taken on the record at `version`: the accounts the lock will take. It is not written:
 * the settlement rests PENDING until LockFunds commits it, with Validate's checkpoint, in the lock transaction.
 */
export interface ValidationResult extends StageResult {
  readonly attempt: number;
  readonly version: number;
  readonly validatedAt: string;
  readonly payerAccountId: string;
  readonly nostroAccountId: string;
  readonly nostroBic: string;
  /** The reads of both accounts Validate decided on, which LockFunds plans its holds on (carried-hold.ts). */
  readonly holds?: { readonly vostro: CarriedHold; readonly nostro: CarriedHold };
}

/**
 * Validate: compliance, banks, accounts, payout route and the settlement window; PENDING → VALIDATED, decided here
 * and committed by LockFunds (a settlement that fails validation writes nothing before its rollback).
 */
export async function validate(deps: EngineDeps, input: StageInput): Promise<StageResult | ValidationResult> {
  return onRecord(
    deps,
    input.settlementId,
    async (current) => {
      if (isAtOrPast(current, 'VALIDATED')) return { status: current.status };
      requireStatus(current, ['PENDING'], 'VALIDATED');
      requireNotParked(current);
      return decideValidation(deps, current);
    },
    carried(deps, input),
  );
}

async function decideValidation(deps: EngineDeps, current: SettlementRecord): Promise<ValidationResult> {
  // Sanctions screening by BIC comes first: a listed party is refused as such, whatever else is wrong.
  if (deps.compliance) for (const [role, bic] of [['payer', current.payerBic], ['payee', current.payeeBic]] as const) screenParty(deps.compliance, role, bic);
  await deps.windows.assertOpen(current.currency, deps.clock.now());
  // The reads are independent: started together (one round trip instead of four in a row), checked in the order
  // their refusals take precedence. The accounts are read as a hold reads them (the head, and a hot account's home
  // shard), so that LockFunds plans its holds on these reads instead of reading both accounts again.
  const amount = new Money(current.amount);
  const netDebitCap = deps.compliance?.netDebitCaps[current.payerBic]?.[current.currency];
  const payerBankRead = started(deps.reference.getBank(current.payerBic));
  const payeeBankRead = started(deps.reference.getBank(current.payeeBic));
  const vostroId = accountId('VOSTRO', current.payerBic, current.currency);
  const vostroRead = started(deps.accounts.readForHold(vostroId, current.settlementId, amount, netDebitCap));
  // The payout nostro comes with the route once this process has seen the payee's route (payout-route.ts).
  const nostroRead = started(readPayout(deps.reference, (id) => deps.accounts.readForHold(id, current.settlementId, amount), current.payeeBic, current.currency));
  const payerBank = requireActiveBank(current.payerBic, await payerBankRead);
  const payeeBank = requireActiveBank(current.payeeBic, await payeeBankRead);
  const vostro = requireUsableRead(vostroId, await vostroRead);
  // An account of one item is read whole (its funds are checked here as before); of a hot account only the head and
  // the home shard are read, whose figures are not the account's: LockFunds' hold decides. Only a net debit cap's
  // early answer needs the payer's held sum: then the whole account is read.
  const payer = wholeOf(vostro) ?? (netDebitCap !== undefined ? await deps.accounts.get(vostro.accountId) : undefined);
  if (deps.compliance) {
    assertCompliant(deps.compliance, {
      payerBic: current.payerBic,
      payeeBic: current.payeeBic,
      payerName: payerBank.name,
      payeeName: payeeBank.name,
      amount,
      currency: current.currency,
      ...(payer && { payerHeld: payer.locked }),
    });
  }
  const { nostroAccountId, head: nostroHold } = await nostroRead;
  if (!nostroHold) throw new PayoutRouteNotFoundError(current.payeeBic, current.currency);
  const nostro = requireUsableRead(nostroAccountId, nostroHold);
  // An early, clear answer; LockFunds' conditional transaction is what actually guarantees the funds.
  if (payer) requireAvailable(payer, amount);
  const nostroWhole = wholeOf(nostro);
  if (nostroWhole) requireAvailable(nostroWhole, amount);
  return {
    status: 'VALIDATED',
    attempt: current.attempt,
    version: current.version,
    // Stamped after the reads, so the checkpoint's time is when the decision was taken.
    validatedAt: deps.clock.now().toISOString(),
    payerAccountId: vostro.accountId,
    nostroAccountId: nostro.accountId,
    nostroBic: nostro.bic,
    holds: { vostro: carryHold(vostro), nostro: carryHold(nostro) },
  };
}

/**
 * The validation LockFunds commits for a PENDING settlement: Validate's result when it was taken on this very
 * record (same attempt and version: the lock transaction's condition then holds it still), else decided afresh
 * (a record that moved since, or a LockFunds delivered without Validate's result).
 */
async function validationToCommit(deps: EngineDeps, current: SettlementRecord, carried: Partial<ValidationResult> | undefined): Promise<ValidationResult> {
  if (
    carried?.status === 'VALIDATED' &&
    carried.attempt === current.attempt &&
    carried.version === current.version &&
    typeof carried.validatedAt === 'string' &&
    carried.payerAccountId === accountId('VOSTRO', current.payerBic, current.currency) &&
    typeof carried.nostroAccountId === 'string' &&
    typeof carried.nostroBic === 'string'
  ) {
    return carried as ValidationResult;
  }
  return decideValidation(deps, current);
}

/**
 * LockFunds: one transaction locks the amount on the payer's vostro and the payout nostro and commits Validate's
 * decision with it (its accounts, and its checkpoint before the lock's); PENDING → VALIDATED → LOCKED. A record
 * validated by an earlier engine (resting VALIDATED) is locked from there.
 */
export async function lockFunds(deps: EngineDeps, input: StageInput): Promise<CarryingStageResult> {
  const carriedOne = carried(deps, input);
  const record = await advance(deps, input.settlementId, async (current) => {
    if (isAtOrPast(current, 'LOCKED')) return { done: current };
    requireStatus(current, ['PENDING', 'VALIDATED'], 'LOCKED');
    requireNotParked(current);
    let plan: Awaited<ReturnType<typeof lockPlanOn>>;
    try {
      plan = await lockPlanOn(deps, input, current, current === carriedOne);
    } catch (error) {
      // A refusal decided on the carried record (and the reads carried with it) is decided again by `advance`; one
      // decided on a fresh read stands only if the record has not moved since.
      if (current === carriedOne) throw error;
      return staleOr(deps, current, error);
    }
    const { vostro, nostro, validation, netDebitCap, amount } = plan;
    const now = deps.clock.now();
    const lock = {
      settlementId: current.settlementId,
      state: 'PENDING' as const,
      amount,
      currency: current.currency,
      vostroAccountId: vostro.accountId,
      nostroAccountId: nostro.accountId,
      // A hot account's hold lands on the shard its settlement id picks (domain/account-shards.ts); absent: 0.
      ...(vostro.shardCount > 1 && { vostroShard: vostro.home }),
      ...(nostro.shardCount > 1 && { nostroShard: nostro.home }),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + deps.limits.lockTtlSeconds * 1000).toISOString(),
    };
    invariant(lock.amount.equals(amount) && amount.greaterThan(0), 'lockFunds: lock amount must equal the positive settlement amount');
    return {
      command: {
        record: current,
        to: 'LOCKED',
        stage: 'LockFunds',
        at: lock.createdAt,
        ...(validation && {
          via: [{ status: 'VALIDATED' as const, stage: 'Validate', at: validation.validatedAt }],
          patch: { payerAccountId: validation.payerAccountId, nostroAccountId: validation.nostroAccountId, nostroBic: validation.nostroBic },
        }),
        effects: [
          // The net debit cap is a condition of this lock (Validate's check is an early answer on a read that
          // two concurrent settlements could both pass).
          { type: 'lockAmount', account: vostro, amount, ...(netDebitCap && { netDebitCap }) },
          { type: 'lockAmount', account: nostro, amount },
          { type: 'createLock', lock },
        ],
      },
    };
  }, carriedOne);
  return { status: record.status, record: deps.settlements.carry(record) };
}

/**
 * What LockFunds decides on: Validate's decision (committed with the lock, or taken afresh) and the reads of both
 * legs its holds are planned on. Those are the reads Validate decided on when it decided just now, or when the
 * execution carried them with the record this decision is taken on (a refusal on those is decided again by
 * `advance`); else both legs are read together. The payer's refusal, if any, comes first.
 */
async function lockPlanOn(deps: EngineDeps, input: StageInput, current: SettlementRecord, onCarriedRecord: boolean) {
  const validation = current.status === 'PENDING' ? await validationToCommit(deps, current, input.validation) : undefined;
  const payerAccountId = validation?.payerAccountId ?? current.payerAccountId;
  const nostroAccountId = validation?.nostroAccountId ?? current.nostroAccountId;
  invariant(payerAccountId && nostroAccountId, `lockFunds: ${current.settlementId} was validated without accounts`);
  const amount = new Money(current.amount);
  const netDebitCap = deps.compliance?.netDebitCaps[current.payerBic]?.[current.currency];
  const decidedNow = validation !== undefined && validation !== input.validation;
  const reads = validation?.holds && (decidedNow || onCarriedRecord) ? readsOf(validation.holds, payerAccountId, nostroAccountId, current.settlementId) : undefined;
  if (reads) return { vostro: requireUsableRead(payerAccountId, reads.vostro), nostro: requireUsableRead(nostroAccountId, reads.nostro), validation, netDebitCap, amount };
  const vostroRead = started(requireUsableHold(deps, payerAccountId, current.settlementId, amount, netDebitCap));
  const nostroRead = started(requireUsableHold(deps, nostroAccountId, current.settlementId, amount));
  return { vostro: await vostroRead, nostro: await nostroRead, validation, netDebitCap, amount };
}

/** Both legs' carried reads, when both decode as reads of these accounts for this settlement (else none). */
function readsOf(holds: NonNullable<ValidationResult['holds']>, payerAccountId: string, nostroAccountId: string, settlementId: string): { vostro: HoldRead; nostro: HoldRead } | undefined {
  const vostro = uncarryHold(holds.vostro, payerAccountId, settlementId);
  const nostro = uncarryHold(holds.nostro, nostroAccountId, settlementId);
  return vostro && nostro ? { vostro, nostro } : undefined;
}

/** Statuses in which the engine has decided, or may decide, that no money left: a transfer sent now is orphaned. */
const noMoneyLeftStatuses: readonly SettlementStatus[] = ['COMPENSATING', 'COMPENSATED', 'ROLLING_BACK', 'ROLLED_BACK', 'FAILED'];

/**
 * InitiateTransfer: LOCKED → TRANSFER_INITIATED, then sends the payout to the bank, idempotent on `<id>:<attempt>`.
 * The transition commits BEFORE the bank call: a park, an abandon, cleanup or a rollback that reads LOCKED is
 * ordered against the sending execution by the record's status-and-version guard (whichever commits first wins, and
 * the loser re-decides), so none of them can end the settlement while its transfer is on the way. A settlement
 * found TRANSFER_INITIATED is sent again with the same key (a crash may have come between commit and call; the bank
 * deduplicates), unless it is parked. After the call the record is read once more: if another actor rolled the
 * settlement back meanwhile (a duplicate execution that could not reach the bank and compensated), the transfer just
 * sent is orphaned and is reversed; a reversal the bank refuses or leaves pending parks the settlement visibly.
 */
export async function initiateTransfer(deps: EngineDeps, input: StageInput): Promise<CarryingStageResult & { bankReference?: string }> {
  const record = await advance(
    deps,
    input.settlementId,
    async (current) => {
      if (isAtOrPast(current, 'TRANSFER_INITIATED')) return { done: current };
      requireStatus(current, ['LOCKED'], 'TRANSFER_INITIATED');
      requireNotParked(current);
      invariant(current.nostroBic, `initiateTransfer: ${current.settlementId} has no payout nostro`);
      return { command: { record: current, to: 'TRANSFER_INITIATED', stage: 'InitiateTransfer', at: deps.clock.now().toISOString() } };
    },
    carried(deps, input),
  );
  if (record.status !== 'TRANSFER_INITIATED') return { status: record.status, bankReference: record.bankReference, record: deps.settlements.carry(record) };
  requireNotParked(record);
  invariant(record.nostroBic, `initiateTransfer: ${record.settlementId} has no payout nostro`);
  const instruction: TransferInstruction = {
    idempotencyKey: transferKey(record),
    settlementId: record.settlementId,
    rail: record.rail,
    debtorAgentBic: record.nostroBic,
    creditorAgentBic: record.payeeBic,
    amount: record.amount,
    currency: record.currency,
    valueDate: record.valueDate,
    reference: record.reference,
    ...(record.payerIban && { debtorIban: record.payerIban }),
    ...(record.payeeIban && { creditorIban: record.payeeIban }),
  };
  const receipt = await deps.banks.forRail(record.rail).initiateTransfer(instruction);
  if (receipt.state === 'REJECTED') throw new BankRejectedError(record.rail, receipt.reason ?? 'no reason given', receipt.reasonCode);
  // The read after the call (a rollback meanwhile orphans the transfer) is also the record the next stage decides on.
  const now = await reverseIfOrphaned(deps, record);
  return { status: record.status, bankReference: receipt.bankReference, record: deps.settlements.carry(now) };
}

/**
 * The transfer of `sent` (TRANSFER_INITIATED when it was sent) has left; if the settlement has been rolled back since,
 * reverses it. A reversal the bank refuses or leaves pending would leave money out for a settlement the engine calls
 * failed: the settlement is parked in place (dead-letter queue, PARKED metric, reason code of the refusal) for an
 * operator, never left silently FAILED.
 */
async function reverseIfOrphaned(deps: EngineDeps, sent: SettlementRecord): Promise<SettlementRecord> {
  const now = await readRecord(deps, sent.settlementId);
  if (now.attempt !== sent.attempt || !noMoneyLeftStatuses.includes(now.status)) return now;
  const key = transferKey(sent);
  const rolledBack = new InvalidTransitionError(sent.settlementId, now.status, 'TRANSFER_INITIATED');
  const reversal = await deps.banks.forRail(sent.rail).reverseTransfer(key, `settlement ${sent.settlementId} was rolled back while its transfer was being sent`);
  if (reversal.state === 'REVERSED') throw rolledBack;
  const error =
    reversal.state === 'PENDING'
      ? new ReversalPendingError(`reversal of orphaned transfer ${key} is pending at the bank`, { cause: rolledBack })
      : new ReversalRefusedError(`the bank refused to reverse orphaned transfer ${key}: ${reversal.reason ?? 'no reason given'}`, { cause: rolledBack });
  const code = reversal.state === 'PENDING' ? ReversalPendingError.code : ReversalRefusedError.code;
  const reason = `${error.message}; settlement ${now.status} with money out at the bank`;
  await parkInPlace(deps, sent.settlementId, { stage: 'ParkSettlement', detail: reason }, code, reason);
  throw new SettlementParkedError(sent.settlementId, now.status);
}

export interface ConfirmationResult {
  readonly state: 'CONFIRMED' | 'PENDING';
  readonly polls: number;
  readonly waitSeconds: number;
  /** When CONFIRMED by this check: the record it was decided on, the bank's reference and when it was seen settled. */
  readonly attempt?: number;
  readonly version?: number;
  readonly bankReference?: string;
  readonly confirmedAt?: string;
}

/**
 * CheckConfirmation: asks the bank; TRANSFER_INITIATED → CONFIRMED once settled, decided here and committed by
 * Finalize with its posting (the settlement rests TRANSFER_INITIATED until then). While pending, returns the wait
 * before the next check (kept in the execution state). Nothing here writes. Bounded.
 */
export async function checkConfirmation(deps: EngineDeps, input: StageInput): Promise<ConfirmationResult & { record: CarriedRecord }> {
  const polls = (input.confirmation?.polls ?? 0) + 1;
  // Read, not carried: this read is what sees a rollback or a park that came while the bank was settling, and sends
  // the execution to BeginRollback; left to Finalize, whose failures park, it would end Parked over a settlement another
  // actor ended (a false alarm the fault soak found). The record read is carried on to Finalize.
  const current = await readRecord(deps, input.settlementId);
  return { ...(await decideConfirmation(deps, current, polls)), record: deps.settlements.carry(current) };
}

async function decideConfirmation(deps: EngineDeps, current: SettlementRecord, polls: number): Promise<ConfirmationResult> {
  if (isAtOrPast(current, 'CONFIRMED')) return { state: 'CONFIRMED', polls, waitSeconds: 0 };
  requireStatus(current, ['TRANSFER_INITIATED'], 'CONFIRMED');
  requireNotParked(current);
  const receipt = await deps.banks.forRail(current.rail).getTransfer(transferKey(current));
  if (!receipt) throw new TransferOutcomeUnknownError(`bank has no record of transfer ${transferKey(current)}`);
  switch (receipt.state) {
    case 'SETTLED':
      // The bank's reference is kept once the transfer settled (InitiateTransfer commits before the bank answers).
      return { state: 'CONFIRMED', polls, waitSeconds: 0, attempt: current.attempt, version: current.version, bankReference: receipt.bankReference, confirmedAt: deps.clock.now().toISOString() };
    case 'REJECTED':
    case 'REVERSED':
      throw new BankRejectedError(current.rail, receipt.reason ?? `transfer ${receipt.state.toLowerCase()}`, receipt.reasonCode);
    case 'ACCEPTED': {
      // Bounded twice: by the number of checks, and by the kind's confirmation deadline from the attempt's start.
      const elapsedSeconds = secondsBetween(current.attemptStartedAt, deps.clock.now().toISOString());
      const deadlineSeconds = deps.limits.confirmationDeadlineSeconds?.[current.kind] ?? Number.POSITIVE_INFINITY;
      if (elapsedSeconds > deadlineSeconds) throw new ConfirmationTimeoutError(current.settlementId, polls, `the ${current.kind.toLowerCase()} confirmation deadline of ${deadlineSeconds} s has passed`);
      if (polls >= deps.limits.confirmationChecksMax) throw new ConfirmationTimeoutError(current.settlementId, polls);
      return { state: 'PENDING', polls, waitSeconds: confirmationWaitSeconds(polls, deps.limits) };
    }
  }
}

/**
 * The confirmation Finalize commits for a TRANSFER_INITIATED settlement: CheckConfirmation's when it was taken on
 * this very record (same attempt and version: Finalize's transaction condition then holds it still), else the
 * bank is asked again (a record that moved since, or a Finalize delivered without it). Only a SETTLED transfer
 * of this attempt is finalized; anything else is an order the workflow never gives (Finalize parks on it).
 */
async function confirmationToCommit(deps: EngineDeps, current: SettlementRecord, carried: Partial<ConfirmationResult> | undefined): Promise<{ bankReference?: string; confirmedAt: string }> {
  if (carried?.state === 'CONFIRMED' && carried.attempt === current.attempt && carried.version === current.version && typeof carried.confirmedAt === 'string') {
    return { ...(typeof carried.bankReference === 'string' && { bankReference: carried.bankReference }), confirmedAt: carried.confirmedAt };
  }
  const receipt = await deps.banks.forRail(current.rail).getTransfer(transferKey(current));
  if (receipt?.state !== 'SETTLED') throw new InvalidTransitionError(current.settlementId, current.status, 'COMPLETED');
  return { ...(receipt.bankReference !== undefined && { bankReference: receipt.bankReference }), confirmedAt: deps.clock.now().toISOString() };
}

/** The wait after the `polls`-th pending check: doubling from 1 s, capped (the state machines' Wait reads it). */
export function confirmationWaitSeconds(polls: number, limits: Pick<EngineDeps['limits'], 'confirmationWaitSecondsMax'>): number {
  return Math.min(2 ** (polls - 1), limits.confirmationWaitSecondsMax);
}

/**
 * Finalize: one transaction posts the lock, moves both balances as a balanced double entry with their ledger
 * entries, and completes the settlement, committing the confirmation with it; TRANSFER_INITIATED → CONFIRMED →
 * COMPLETED.
 */
export async function finalize(deps: EngineDeps, input: StageInput): Promise<StageResult> {
  let completedNow = false;
  const record = await advance(deps, input.settlementId, async (current) => {
    if (current.status === 'COMPLETED') return { done: current };
    requireStatus(current, ['TRANSFER_INITIATED', 'CONFIRMED'], 'COMPLETED');
    requireNotParked(current);
    // Resting TRANSFER_INITIATED: the confirmation's checkpoint rides on this transaction (a record confirmed by an
    // earlier engine rests CONFIRMED and is finalized from there).
    const confirmation = current.status === 'TRANSFER_INITIATED' ? await confirmationToCommit(deps, current, input.confirmation) : undefined;
    // The lock is part of the record: read with it, in the same consistent read.
    const lock = current.lock;
    const amount = new Money(current.amount);
    // A duplicate delivery may have posted the lock since we read CONFIRMED: then the record moved too.
    if (!lock || lock.state !== 'PENDING') await staleOrContradiction(deps, current, `finalize: ${current.settlementId} has no pending lock`);
    invariant(lock && lock.state === 'PENDING', `finalize: ${current.settlementId} has no pending lock`);
    invariant(lock.amount.equals(amount), `finalize: lock ${lock.amount.toFixed()} differs from amount ${current.amount}`);
    invariant(lock.vostroAccountId === current.payerAccountId && lock.nostroAccountId === current.nostroAccountId, 'finalize: lock accounts differ from the settlement');
    const at = deps.clock.now().toISOString();
    const debit = amount.negated();
    const entry = (account: string, counterparty: string, leg: string, shard: number | undefined) => ({
      type: 'ledgerEntry' as const,
      entry: { accountId: account, amount: debit, currency: current.currency, kind: 'SETTLEMENT' as const, reference: current.settlementId, leg, postedAt: at, valueDate: current.valueDate, counterpartyAccountId: counterparty, ...(shard !== undefined && { shard }) },
    });
    const effects: Effect[] = [
      { type: 'endLock', settlementId: current.settlementId, amount, to: 'POSTED', at },
      { type: 'postLockedAmount', accountId: lock.vostroAccountId, amount, shard: lock.vostroShard },
      { type: 'postLockedAmount', accountId: lock.nostroAccountId, amount, shard: lock.nostroShard },
      entry(lock.vostroAccountId, lock.nostroAccountId, 'PAYER_VOSTRO', lock.vostroShard),
      entry(lock.nostroAccountId, lock.vostroAccountId, 'PAYOUT_NOSTRO', lock.nostroShard),
      { type: 'endOperation', attempt: current.attempt, state: 'COMMITTED', at },
    ];
    assertBalancedPosting(effects, amount);
    completedNow = true;
    return {
      command: {
        record: current,
        to: 'COMPLETED',
        stage: 'Finalize',
        at,
        patch: { completedAt: at, ...(confirmation?.bankReference !== undefined && { bankReference: confirmation.bankReference }) },
        ...(confirmation && { via: [{ status: 'CONFIRMED' as const, stage: 'CheckConfirmation', at: confirmation.confirmedAt }] }),
        effects,
      },
    };
  }, carried(deps, input));
  if (completedNow) {
    deps.metrics.settlementEnded({ status: 'COMPLETED', currency: record.currency, amount: record.amount, durationSeconds: secondsBetween(record.createdAt, record.completedAt!) });
    deps.metrics.atomicOperation('COMMITTED');
  }
  return { status: record.status };
}

/**
 * Double entry: both legs fall by exactly the settlement amount, so Σ nostro − Σ vostro is unchanged, and each
 * posted lock has its ledger entry.
 */
function assertBalancedPosting(effects: readonly Effect[], amount: Money): void {
  const entries = effects.flatMap((effect) => (effect.type === 'ledgerEntry' ? [effect.entry] : []));
  const posts = effects.flatMap((effect) => (effect.type === 'postLockedAmount' ? [effect] : []));
  const nostroChange = entries.filter((entry) => entry.accountId.startsWith('NOSTRO#')).reduce((sum, entry) => sum.plus(entry.amount), new Money(0));
  const vostroChange = entries.filter((entry) => entry.accountId.startsWith('VOSTRO#')).reduce((sum, entry) => sum.plus(entry.amount), new Money(0));
  invariant(nostroChange.minus(vostroChange).isZero(), 'finalize: posting changes Σ nostro − Σ vostro');
  invariant(nostroChange.equals(amount.negated()), 'finalize: nostro leg differs from the amount');
  invariant(posts.length === entries.length && posts.every((post) => entries.some((entry) => entry.accountId === post.accountId && entry.amount.negated().equals(post.amount))), 'finalize: a posted lock has no matching ledger entry');
}

/**
 * A read started now and awaited later, possibly never (an earlier refusal ends the stage first): its failure then
 * is not an unhandled rejection; awaiting it still throws.
 */
function started<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

function requireActiveBank(bic: string, bank: Bank | undefined): Bank {
  if (!bank) throw new BankNotFoundError(bic);
  if (bank.status !== 'ACTIVE') throw new BankNotActiveError(bic, bank.status);
  return bank;
}

function screenParty(policy: CompliancePolicy, role: 'payer' | 'payee', bic: string): void {
  const hit = screen(policy.sanctions, bic);
  if (hit) throw new SanctionsHitError(role, bic, `${hit.name} (${policy.sanctions.source} entry ${hit.entryId})`);
}

function requireUsableRead<T extends Pick<Account, 'accountId' | 'status'>>(id: string, read: T | undefined): T {
  if (!read) throw new AccountNotFoundError(id);
  requireUsable(read);
  return read;
}

/** The figures of an account of one item, from a hold's read of it (its one shard); undefined for a hot account. */
function wholeOf(read: HoldRead): AccountFigures | undefined {
  if (read.shardCount !== 1) return undefined;
  const [only] = read.shards;
  return { accountId: read.accountId, currency: read.currency, locked: only.locked, available: only.available, floor: only.floor };
}

type AccountFigures = Pick<Account, 'accountId' | 'currency' | 'locked' | 'available' | 'floor'>;

/** The read a hold is planned on (the head and the home shard; every shard when the home shard is short of funds or cap). */
async function requireUsableHold(deps: EngineDeps, id: string, settlementId: string, amount: Money, netDebitCap?: Money): Promise<HoldRead> {
  return requireUsableRead(id, await deps.accounts.readForHold(id, settlementId, amount, netDebitCap));
}

/** A FROZEN or CLOSED account accepts no new lock. */
function requireUsable(account: Pick<Account, 'accountId' | 'status'>): void {
  if (account.status !== 'ACTIVE') throw new AccountNotActiveError(account.accountId, account.status);
}

function requireAvailable(account: AccountFigures, amount: Money): void {
  if (account.available.minus(amount).lessThan(account.floor)) throw new InsufficientFundsError(account.accountId, formatAmount(amount, account.currency));
}

export function secondsBetween(fromIso: string, toIso: string): number {
  return Math.max(0, (Date.parse(toIso) - Date.parse(fromIso)) / 1000);
}

