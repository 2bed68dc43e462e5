/**
 * Maker-checker routes: list and read proposals, approve or reject one. Proposals are created by the routes of
 * the actions they stand for (fund-in/out above the threshold, freeze, close, abandon, requeue), which answer 202
 * with the proposal when the caller is an operator.
 */
import { ValidationError } from '../../domain/errors';
import { Permission } from '../../domain/access';
import type { Proposal } from '../../ports/operations';
import { approveProposal, getProposal, rejectProposal, withExpiry } from '../../usecases/operations/approvals';
import { pageLimit } from '../../usecases/operations/accounts';
import { operationsOf } from '../../usecases/operations/deps';
import type { ApiResponse, Route } from '../http';
import { z } from 'zod';
import { operatorNoteBody, pagedQuery } from '../request-schemas';

const proposalParams = {
  params: z.strictObject({
    proposalId: z.string().max(64, { error: 'is longer than 64 characters' }).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, { error: 'is not a proposal id' }),
  }),
};

/** 202 Accepted: the action waits for a second operator's approval at the proposal's location. */
export function proposed(proposal: Proposal): ApiResponse {
  return { statusCode: 202, headers: { location: `/api/v1/proposals/${proposal.proposalId}` }, body: { proposal } };
}

export const approvalRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/proposals',
    authenticated: true,
    request: { query: pagedQuery() },
    summary: 'Proposals (maker-checker), newest first, paged.',
    permission: Permission.operationsRead,
    handle: async (request, deps) => {
      for (const key of Object.keys(request.query)) if (key !== 'cursor' && key !== 'limit') throw new ValidationError(key, 'is not a query parameter of this listing (cursor, limit)');
      const ops = operationsOf(deps);
      const page = await ops.proposals.listProposals({ cursor: request.query.cursor, limit: pageLimit(request.query.limit) });
      const now = ops.clock.now().toISOString();
      return { statusCode: 200, body: { items: page.items.map((proposal) => withExpiry(proposal, now)), ...(page.nextCursor && { nextCursor: page.nextCursor }) } };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/proposals/{proposalId}',
    authenticated: true,
    request: proposalParams,
    summary: 'One proposal.',
    permission: Permission.operationsRead,
    handle: async (request, deps) => ({ statusCode: 200, body: await getProposal(operationsOf(deps), request.pathParameters.proposalId) }),
  },
  {
    method: 'POST',
    path: '/api/v1/proposals/{proposalId}/approve',
    authenticated: true,
    request: { ...proposalParams, body: z.strictObject({}), bodyOptional: true },
    summary: 'Approve a proposal (a different operator than its proposer); it runs at once.',
    permission: Permission.proposalDecide,
    handle: async (request, deps) => {
      if (request.body !== undefined && (typeof request.body !== 'object' || request.body === null || Object.keys(request.body).length > 0)) throw new ValidationError('body', 'must be an empty JSON object');
      return { statusCode: 200, body: await approveProposal(deps, request.caller, request.pathParameters.proposalId) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/proposals/{proposalId}/reject',
    authenticated: true,
    request: { ...proposalParams, body: operatorNoteBody, bodyOptional: true },
    summary: 'Reject a proposal; {"reason"} optional.',
    permission: Permission.proposalDecide,
    handle: async (request, deps) => ({ statusCode: 200, body: await rejectProposal(operationsOf(deps), request.caller, request.pathParameters.proposalId, request.body) }),
  },
];
