/**
 * Submitting and reading settlements: what the REST and gRPC edges call.
 */
import { AccountNotFoundError, IdempotencyConflictError, SettlementNotFoundError, ValidationError } from '../domain/errors';
import { checkValueDate, valueDateWindowFor } from '../domain/value-date';
import { formatAmount } from '../domain/money';
import { differingFields, isTerminal, parseSettlementRequest, requireIbans, type SettlementRequest } from '../domain/settlement';
import type { Account, AccountType, SettlementEvent, SettlementHistory, SettlementRecord } from '../ports/stores';
import { accountId } from '../ports/stores';
import type { EngineDeps } from './deps';
import { isKnownBank } from './known-banks';
import type { AccountView, SettlementView } from './views';

/**
 * Poll intervals of waitForSettlement: the first check soon (a fast-path settlement ends within tens of ms), then
 * each wait half again as long, up to the maximum, so a caller waiting on a slow confirmation costs a read every
 * quarter second, not forty a second (64 waiting ExecuteSettlement calls polling every 25 ms were 2,500 reads/s).
 */
export const waitPollIntervalMs = 25;
export const waitPollIntervalMaxMs = 250;

/**
 * Accepts a settlement request. New id: creates it (PENDING) and starts its workflow. Same id and same request:
 * returns the current state, and starts the workflow again if it never started (idempotent by execution name).
 * Same id, different request: IdempotencyConflictError. Invalid input: ValidationError, nothing written.
 */
export async function submitSettlement(deps: EngineDeps, body: unknown, submittedBy?: string): Promise<{ created: boolean; settlement: SettlementView }> {
  const request = parseSettlementRequest(body);
  await admissible(deps, request);
  const { created, record } = await deps.settlements.create(request, deps.clock.now().toISOString(), submittedBy);
  if (!created) {
    const differing = differingFields(request, record as SettlementRequest);
    if (differing.length > 0) throw new IdempotencyConflictError(request.settlementId, differing);
  }
  if (created || record.status === 'PENDING') {
    await deps.workflow.startSettlement({ settlementId: record.settlementId, attempt: record.attempt, record: deps.settlements.carry(record) });
    if (created) deps.metrics.atomicOperation('STARTED');
  }
  // A new settlement is answered from what was just written (202: accepted, PENDING) without reading it back.
  if (created) return { created, settlement: settlementView({ record, events: [submittedEvent(record)], compensations: [] }) };
  return { created, settlement: await getSettlement(deps, request.settlementId) };
}

/**
 * Checks that need the clock or the registry, before anything is written: the value date lies in its window (a
 * replay of an accepted settlement days later is judged by the record, not again here: it is found first), and
 * both banks are registered (an unknown BIC is the caller's mistake, named, not a FAILED settlement).
 */
async function admissible(deps: EngineDeps, request: SettlementRequest): Promise<void> {
  const now = deps.clock.now();
  try {
    checkValueDate(request.valueDate, now, valueDateWindowFor(deps.limits.valueDateWindows, request.rail, request.currency));
    requireIbans(request, deps.limits.ibanRequiredRails);
    for (const field of ['payerBic', 'payeeBic'] as const) {
      if (!(await isKnownBank(deps.reference, request[field], deps.limits.bankCacheSeconds, now.getTime()))) throw new ValidationError(field, `${request[field]} is not a bank the registry knows`);
    }
  } catch (error) {
    // Read only on refusal, so the hot path stays one write: a replay of a settlement accepted earlier passes.
    if (error instanceof ValidationError && (await deps.settlements.get(request.settlementId)) !== undefined) return;
    throw error;
  }
}

/** The event the store writes with a new record (seq 1, PENDING, stage Submit). */
function submittedEvent(record: SettlementRecord): SettlementEvent {
  const { settlementId, payerBic, payeeBic, currency, amount, createdAt, submittedBy } = record;
  return { settlementId, seq: 1, status: 'PENDING', previousStatus: null, stage: 'Submit', at: createdAt, payerBic, payeeBic, currency, amount, ...(submittedBy !== undefined && { submittedBy }) };
}

export async function getSettlement(deps: Pick<EngineDeps, 'settlements' | 'returns'>, settlementId: string): Promise<SettlementView> {
  const history = await deps.settlements.history(settlementId);
  if (!history) throw new SettlementNotFoundError(settlementId);
  const view = settlementView(history);
  // Only a completed settlement can have a return (usecases/returns.ts): one more read, there only.
  const returned = view.status === 'COMPLETED' ? await deps.returns?.getReturn(settlementId) : undefined;
  if (!returned) return view;
  return { ...view, returned: { returnId: returned.returnId, amount: formatAmount(returned.amount, returned.currency), reasonCode: returned.reasonCode, returnedAt: returned.returnedAt } };
}

/** Resolves when the settlement is terminal or parked, or at the deadline with its current view. */
export async function waitForSettlement(deps: Pick<EngineDeps, 'settlements'>, settlementId: string, timeoutMs: number): Promise<SettlementView> {
  const deadline = Date.now() + timeoutMs;
  for (let intervalMs = waitPollIntervalMs; ; intervalMs = Math.min(waitPollIntervalMaxMs, Math.ceil(intervalMs * 1.5))) {
    const record = await deps.settlements.get(settlementId);
    if (!record) throw new SettlementNotFoundError(settlementId);
    if (isTerminal(record.status) || record.parked || Date.now() >= deadline) return getSettlement(deps, settlementId);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))));
  }
}

export async function getAccount(deps: Pick<EngineDeps, 'accounts'>, accountType: AccountType, bic: string, currency: string): Promise<AccountView> {
  const id = accountId(accountType, bic, currency);
  const account = await deps.accounts.get(id);
  if (!account) throw new AccountNotFoundError(id);
  return accountView(account);
}

export function accountView(account: Account): AccountView {
  const money = (value: Account['balance']) => formatAmount(value, account.currency);
  return {
    accountId: account.accountId,
    accountType: account.accountType,
    bic: account.bic,
    currency: account.currency,
    balance: money(account.balance),
    locked: money(account.locked),
    available: money(account.available),
    floor: money(account.floor),
    status: account.status,
    version: account.version,
    updatedAt: account.updatedAt,
  };
}

export function settlementView(history: SettlementHistory): SettlementView {
  const { record, lock, events } = history;
  return {
    settlementId: record.settlementId,
    payerBic: record.payerBic,
    payeeBic: record.payeeBic,
    amount: record.amount,
    currency: record.currency,
    rail: record.rail,
    kind: record.kind,
    valueDate: record.valueDate,
    reference: record.reference,
    ...(record.payerIban && { payerIban: record.payerIban }),
    ...(record.payeeIban && { payeeIban: record.payeeIban }),
    status: record.status,
    ...(record.reasonCode !== undefined && { reasonCode: record.reasonCode }),
    ...(record.reason !== undefined && { reason: record.reason }),
    ...(record.status === 'FAILED' && { retryable: record.retryable === true }),
    ...(record.parked && { parked: true }),
    attempt: record.attempt,
    ...(record.submittedBy !== undefined && { submittedBy: record.submittedBy }),
    ...(record.payerAccountId && { payerAccountId: record.payerAccountId }),
    ...(record.nostroAccountId && { nostroAccountId: record.nostroAccountId }),
    ...(record.bankReference && { bankReference: record.bankReference }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.completedAt && { completedAt: record.completedAt }),
    ...(lock && {
      lock: {
        state: lock.state,
        amount: formatAmount(lock.amount, lock.currency),
        vostroAccountId: lock.vostroAccountId,
        nostroAccountId: lock.nostroAccountId,
        createdAt: lock.createdAt,
        expiresAt: lock.expiresAt,
        ...(lock.endedAt && { endedAt: lock.endedAt }),
      },
    }),
    checkpoints: events.map((event) => ({
      seq: event.seq,
      status: event.status,
      previousStatus: event.previousStatus,
      stage: event.stage,
      at: event.at,
      ...(event.reasonCode && { reasonCode: event.reasonCode }),
      ...(event.detail && { detail: event.detail }),
    })),
  };
}
