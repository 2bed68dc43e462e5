/**
 * Maker-checker: the actions that move money or stop a bank (fund-in and fund-out above a configured amount,
 * freeze, close, abandon and requeue of a parked settlement) are proposed by one operator and approved or rejected
 * by another. A proposal expires; its proposer can never decide it (the store's conditional write enforces it).
 * Every step is in the PROPOSAL audit stream with its actor; the action itself is audited as its approver's.
 *
 * Only operators go through it: a `service` caller is the engine's own code (jobs, integrations) and acts directly.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, SettlementEngineError, ValidationError } from '../../domain/errors';
import type { Principal } from '../../domain/access';
import { parseAccountId, parseFundMovement } from '../../domain/admin';
import { Money, formatAmount } from '../../domain/money';
import type { Actor, Proposal, ProposalAction } from '../../ports/operations';
import type { EngineDeps } from '../deps';
import { abandonSettlement, requeueSettlement } from '../recovery/operator';
import { changeAccountStatus, postFundMovement, requireAccount } from './accounts';
import { actorOf, operationsOf, type OperationsDeps } from './deps';

export const proposalIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** 409: a proposal that is no longer PENDING (decided, or run). */
export class ProposalNotPendingError extends SettlementEngineError {
  override readonly name = 'ProposalNotPendingError' as const;
  override readonly code = ErrorCode.proposalNotPending;
  override readonly kind = 'conflict' as const;
}

/** 422: the proposal waited longer than its time to live. */
export class ProposalExpiredError extends SettlementEngineError {
  override readonly name = 'ProposalExpiredError' as const;
  override readonly code = ErrorCode.proposalExpired;
  override readonly kind = 'precondition' as const;
}

/** 403: the four-eyes rule; the proposer may not decide their own proposal. */
export class SelfApprovalError extends SettlementEngineError {
  override readonly name = 'SelfApprovalError' as const;
  override readonly code = ErrorCode.selfApproval;
  override readonly kind = 'forbidden' as const;
}

export class ProposalNotFoundError extends SettlementEngineError {
  override readonly name = 'ProposalNotFoundError' as const;
  override readonly code = ErrorCode.proposalNotFound;
  override readonly kind = 'not_found' as const;
}

/** Whether this caller's action must be proposed rather than done (fund movements: only above the threshold). */
export function needsApproval(ops: OperationsDeps, caller: Principal, action: ProposalAction, amount?: string): boolean {
  if (caller.role !== 'operator') return false;
  if (action === 'FUND_IN' || action === 'FUND_OUT') return amount !== undefined && new Money(amount).greaterThan(ops.limits.fundMovementApprovalAbove);
  return true;
}

/** The amount of a fund-movement body, validated in the account's currency (undefined for other actions). */
export async function fundMovementAmount(ops: OperationsDeps, accountId: string, body: unknown): Promise<string> {
  const account = await requireAccount(ops, accountId);
  return parseFundMovement(body, account.currency).amount;
}

/** Records a PENDING proposal: the request is validated now, so a checker never approves something unrunnable. */
export async function propose(ops: OperationsDeps, caller: Principal, action: ProposalAction, target: string, request: Readonly<Record<string, unknown>>): Promise<Proposal> {
  const actor = actorOf(ops, caller.clientName);
  const summary = await summarize(ops, action, target, request);
  const proposal: Proposal = {
    proposalId: randomUUID(),
    action,
    target,
    request,
    summary,
    status: 'PENDING',
    proposedBy: caller.clientName,
    proposedAt: actor.at,
    expiresAt: new Date(Date.parse(actor.at) + ops.limits.proposalTtlSeconds * 1000).toISOString(),
  };
  await ops.proposals.createProposal(proposal, actor);
  return proposal;
}

async function summarize(ops: OperationsDeps, action: ProposalAction, target: string, request: Readonly<Record<string, unknown>>): Promise<string> {
  switch (action) {
    case 'FUND_IN':
    case 'FUND_OUT': {
      const account = await requireAccount(ops, target);
      const movement = parseFundMovement(request, account.currency);
      return `${action} ${formatAmount(new Money(movement.amount), account.currency)} ${account.currency} on ${target} (${movement.movementId})`;
    }
    case 'FREEZE':
    case 'CLOSE':
      await requireAccount(ops, parseAccountId(target));
      return `${action} ${target}`;
    case 'ABANDON':
    case 'REQUEUE':
      return `${action} settlement ${target}${typeof request.reason === 'string' ? `: ${request.reason}` : ''}`;
  }
}

export async function getProposal(ops: OperationsDeps, proposalId: string): Promise<Proposal> {
  if (!proposalIdPattern.test(proposalId)) throw new ValidationError('proposalId', 'is not a proposal id');
  const proposal = await ops.proposals.getProposal(proposalId);
  if (!proposal) throw new ProposalNotFoundError(`proposal ${proposalId} does not exist`);
  return withExpiry(proposal, ops.clock.now().toISOString());
}

/** A PENDING proposal past its expiry reads as EXPIRED (no job needed: the decide condition refuses it anyway). */
export function withExpiry(proposal: Proposal, now: string): Proposal {
  return proposal.status === 'PENDING' && proposal.expiresAt <= now ? { ...proposal, status: 'EXPIRED' } : proposal;
}

/** Approves and runs the action as the approver. Refused for the proposer, once decided, or once expired. */
export async function approveProposal(deps: EngineDeps, caller: Principal, proposalId: string): Promise<Proposal> {
  const ops = operationsOf(deps);
  const proposal = await getProposal(ops, proposalId);
  const actor = actorOf(ops, caller.clientName);
  // A retry by the same approver after a failure between approval and execution runs the (idempotent) action again.
  const approved = proposal.status === 'APPROVED' && proposal.decidedBy === caller.clientName ? proposal : await decide(ops, proposal, 'APPROVED', actor);
  let outcome: Record<string, unknown>;
  let executed = true;
  try {
    outcome = await execute(deps, approved, actor);
  } catch (error) {
    if (!(error instanceof SettlementEngineError) || error.kind === 'internal' || error.kind === 'transient') throw error;
    executed = false;
    outcome = { error: { code: error.code, message: error.message } };
  }
  await ops.proposals.finishProposal(approved, executed ? 'EXECUTED' : 'FAILED', outcome, actorOf(ops, caller.clientName));
  return { ...approved, status: executed ? 'EXECUTED' : 'FAILED', outcome };
}

export async function rejectProposal(ops: OperationsDeps, caller: Principal, proposalId: string, body: unknown): Promise<Proposal> {
  const note = parseNote(body);
  const proposal = await getProposal(ops, proposalId);
  return decide(ops, proposal, 'REJECTED', actorOf(ops, caller.clientName), note);
}

async function decide(ops: OperationsDeps, proposal: Proposal, to: 'APPROVED' | 'REJECTED', actor: Actor, note?: string): Promise<Proposal> {
  if (proposal.proposedBy === actor.actor) throw new SelfApprovalError(`${actor.actor} proposed ${proposal.proposalId}: another operator must decide it`);
  if (proposal.status === 'EXPIRED') throw new ProposalExpiredError(`proposal ${proposal.proposalId} expired at ${proposal.expiresAt}`);
  if (proposal.status !== 'PENDING') throw new ProposalNotPendingError(`proposal ${proposal.proposalId} is ${proposal.status}`);
  const decision = await ops.proposals.decideProposal(proposal, to, actor, note);
  if (decision.decided) return decision.proposal;
  // The conditional write refused it: say which rule, from the proposal as it is now.
  const current = decision.current;
  if (!current) throw new ProposalNotFoundError(`proposal ${proposal.proposalId} does not exist`);
  if (current.proposedBy === actor.actor) throw new SelfApprovalError(`${actor.actor} proposed ${proposal.proposalId}: another operator must decide it`);
  if (current.status === 'PENDING') throw new ProposalExpiredError(`proposal ${proposal.proposalId} expired at ${current.expiresAt}`);
  throw new ProposalNotPendingError(`proposal ${proposal.proposalId} is ${current.status}`);
}

async function execute(deps: EngineDeps, proposal: Proposal, actor: Actor): Promise<Record<string, unknown>> {
  const ops = operationsOf(deps);
  const principal = `${actor.actor} (approving ${proposal.proposedBy}, proposal ${proposal.proposalId})`;
  switch (proposal.action) {
    case 'FUND_IN':
    case 'FUND_OUT': {
      const result = await postFundMovement(ops, proposal.target, proposal.action, proposal.request, actor);
      return { movement: result.movement, account: result.account };
    }
    case 'FREEZE':
      return { account: await changeAccountStatus(ops, proposal.target, 'freeze', actor) };
    case 'CLOSE':
      return { account: await changeAccountStatus(ops, proposal.target, 'close', actor) };
    case 'ABANDON': {
      const settlement = await abandonSettlement(deps, proposal.target, { principal, note: String(proposal.request.reason) });
      return { settlementId: settlement.settlementId, status: settlement.status };
    }
    case 'REQUEUE': {
      const note = typeof proposal.request.reason === 'string' ? proposal.request.reason : undefined;
      const result = await requeueSettlement(deps, proposal.target, { principal, ...(note !== undefined && { note }) });
      return { settlementId: result.settlement.settlementId, action: result.action, status: result.settlement.status };
    }
  }
}

function parseNote(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('body', 'must be a JSON object such as {"reason": "..."}');
  for (const key of Object.keys(body)) if (key !== 'reason') throw new ValidationError(key, 'is not a field of this request (reason)');
  const reason = (body as { reason?: unknown }).reason;
  if (reason === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500 || /[\u0000-\u001f]/.test(reason)) throw new ValidationError('reason', 'must be a non-empty string of at most 500 printable characters');
  return reason;
}
