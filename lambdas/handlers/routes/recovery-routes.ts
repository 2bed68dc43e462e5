/**
 * Operator routes for parked settlements: list them, requeue one (the engine tries again), abandon one (it ends
 * FAILED for good, refused while money may be out). Each action is recorded in the settlement's history with
 * stage 'Operator' and the authenticated principal.
 */
import { z } from 'zod';
import { ValidationError } from '../../domain/errors';
import { requireRecoveryDeps } from '../../usecases/recovery/deps';
import { recoveryLimits } from '../../usecases/recovery/limits';
import { abandonSettlement, listParkedSettlements, requeueSettlement } from '../../usecases/recovery/operator';
import type { ApiRequest, Route } from '../http';
import { operatorNoteBody, pagedQuery, settlementId } from '../request-schemas';
import type { EngineDeps } from '../../usecases/deps';
import { getSettlement } from '../../usecases/settlements';
import { SettlementNotParkedError } from '../../domain/recovery-errors';
import { actorOf, operationsOf } from '../../usecases/operations/deps';
import { recordAudit } from '../../usecases/operations/audit';
import { needsApproval, propose } from '../../usecases/operations/approvals';
import { proposed } from './approval-routes';
import { Permission } from '../../domain/access';

/** Page size of the parked listing: default and maximum. */
export const parkedPageSizeDefault = 50;
export const parkedPageSizeMax = 200;

// Printable ASCII plus Latin-1 letters, like a settlement reference: notes end up in logs and exports.
const notePattern = /^[\x20-\x7E\u00C0-\u00FF]*$/;

export const recoveryRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/settlements/parked',
    authenticated: true,
    request: { query: pagedQuery(parkedPageSizeMax) },
    summary: 'Settlements waiting for an operator, paged.',
    permission: Permission.operationsRead,
    handle: async (request, deps) => {
      const page = await listParkedSettlements(requireRecoveryDeps(deps), parseParkedQuery(request));
      return { statusCode: 200, body: { items: page.items, ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) } };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/settlements/{settlementId}/requeue',
    authenticated: true,
    request: { params: z.strictObject({ settlementId }), body: operatorNoteBody },
    summary: 'Requeue a parked settlement (the engine tries again); {"reason"} optional.',
    permission: Permission.operationsWrite,
    handle: async (request, deps) => {
      const note = parseOperatorBody(request.body, false);
      const settlementId = request.pathParameters.settlementId;
      if (needsApproval(operationsOf(deps), request.caller, 'REQUEUE')) return proposed(await propose(operationsOf(deps), request.caller, 'REQUEUE', await parkedId(deps, settlementId), { ...(note !== undefined && { reason: note }) }));
      const result = await requeueSettlement(deps, settlementId, { principal: principalOf(request), ...(note !== undefined && { note }) });
      await recordAudit(deps, { action: 'SETTLEMENT.REQUEUE', entityType: 'SETTLEMENT', entityId: settlementId, before: null, after: { action: result.action, status: result.settlement.status }, ...(note !== undefined && { detail: note }) }, actorOf(operationsOf(deps), principalOf(request)));
      return { statusCode: 202, headers: { location: `/api/v1/settlements/${encodeURIComponent(result.settlement.settlementId)}` }, body: result };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/settlements/{settlementId}/abandon',
    authenticated: true,
    request: { params: z.strictObject({ settlementId }), body: operatorNoteBody },
    summary: 'Abandon a parked settlement: it ends FAILED for good; {"reason"} is required.',
    permission: Permission.operationsWrite,
    handle: async (request, deps) => {
      const note = parseOperatorBody(request.body, true);
      const settlementId = request.pathParameters.settlementId;
      if (needsApproval(operationsOf(deps), request.caller, 'ABANDON')) return proposed(await propose(operationsOf(deps), request.caller, 'ABANDON', await parkedId(deps, settlementId), { reason: note }));
      const settlement = await abandonSettlement(deps, settlementId, { principal: principalOf(request), ...(note !== undefined && { note }) });
      await recordAudit(deps, { action: 'SETTLEMENT.ABANDON', entityType: 'SETTLEMENT', entityId: settlementId, before: null, after: { status: settlement.status, reasonCode: settlement.reasonCode ?? null }, ...(note !== undefined && { detail: note }) }, actorOf(operationsOf(deps), principalOf(request)));
      return { statusCode: 200, body: settlement };
    },
  },
];

/** A settlement id that names a parked settlement now (a proposal for anything else would only fail later). */
async function parkedId(deps: EngineDeps, settlementId: string): Promise<string> {
  const settlement = await getSettlement(deps, settlementId);
  if (!settlement.parked) throw new SettlementNotParkedError(settlementId, settlement.status);
  return settlementId;
}

/** The caller as the audit trail names it; API Gateway's IAM authorizer or the API-key check set it. */
function principalOf(request: ApiRequest): string {
  return request.principal ?? 'unauthenticated-local';
}

function parseParkedQuery(request: ApiRequest): { limit: number; cursor?: string } {
  for (const key of Object.keys(request.query)) {
    if (key !== 'limit' && key !== 'cursor') throw new ValidationError(key, 'is not a query parameter of this listing (cursor, limit)');
  }
  const { limit, cursor } = request.query;
  let pageSize = parkedPageSizeDefault;
  if (limit !== undefined) {
    if (!/^[1-9][0-9]{0,3}$/.test(limit) || Number(limit) > parkedPageSizeMax) throw new ValidationError('limit', `must be an integer from 1 to ${parkedPageSizeMax}`);
    pageSize = Number(limit);
  }
  return { limit: pageSize, ...(cursor !== undefined && { cursor }) };
}

/** `{ "reason": "..." }`: required to abandon (the audit trail must say why), optional to requeue. */
function parseOperatorBody(body: unknown, reasonRequired: boolean): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('body', 'must be a JSON object such as {"reason": "..."}');
  for (const key of Object.keys(body)) if (key !== 'reason') throw new ValidationError(key, 'is not a field of this request (reason)');
  const reason = (body as { reason?: unknown }).reason;
  if (reason === undefined && !reasonRequired) return undefined;
  if (typeof reason !== 'string' || reason.trim() === '') throw new ValidationError('reason', reasonRequired ? 'is required: say why the settlement is abandoned' : 'must be a non-empty string');
  if (reason.length > recoveryLimits.operatorNoteLengthMax) throw new ValidationError('reason', `is longer than ${recoveryLimits.operatorNoteLengthMax} characters`);
  if (!notePattern.test(reason)) throw new ValidationError('reason', 'contains characters outside printable ASCII and Latin-1 letters');
  return reason.trim();
}
