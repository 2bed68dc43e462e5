/**
 * Core REST routes: health, metrics, settlements and account listings.
 */
import { z } from 'zod';
import { ValidationError } from '../../domain/errors';
import { parseBic } from '../../domain/bic';
import { parseCurrency } from '../../domain/money';
import type { AccountType } from '../../ports/stores';
import { accountView, getSettlement, submitSettlement } from '../../usecases/settlements';
import type { ApiRequest, Route } from '../http';
import { accountListQuery, noInput, settlementId, settlementRequestBody } from '../request-schemas';
import { settlementLedger } from '../../usecases/operations/ledger';
import { operationsOf } from '../../usecases/operations/deps';
import { Permission, requireParty, requirePayer, ForbiddenError } from '../../domain/access';

/** Page size of account listings: default and maximum. */
export const accountPageSizeDefault = 50;
export const accountPageSizeMax = 200;

export const coreRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/health',
    authenticated: false,
    request: noInput,
    permission: Permission.operationsRead,
    summary: 'Liveness: 200 SERVING while the process answers (no database call, so an anonymous flood costs no reads).',
    // Liveness for anyone: the process answers. It touches no database, so an anonymous flood costs no reads.
    handle: async () => ({ statusCode: 200, body: { status: 'SERVING' } }),
  },
  {
    method: 'GET',
    path: '/health/deep',
    authenticated: true,
    request: noInput,
    permission: Permission.operationsRead,
    summary: 'Readiness: 200 SERVING when the database answers, else 503 with Retry-After.',
    // Readiness for authenticated callers: the database answers (a DescribeTable, no item read).
    handle: async (_request, deps) => {
      const databaseUp = await deps.checkDatabase();
      return { statusCode: databaseUp ? 200 : 503, ...(!databaseUp && { headers: { 'retry-after': '5' } }), body: { status: databaseUp ? 'SERVING' : 'NOT_SERVING', checks: { database: databaseUp ? 'up' : 'down' } } };
    },
  },
  {
    method: 'GET',
    path: '/metrics',
    // Every bank's balance is in there: a key is needed unless METRICS_ADDRESS serves it on its own listener.
    authenticated: true,
    request: noInput,
    summary: 'Prometheus metrics (text exposition format).',
    permission: Permission.operationsRead,
    handle: async (_request, deps) => {
      if (!deps.metricsText) return { statusCode: 404, body: { error: { code: 'HTTP.NOT_FOUND', message: 'this deployment publishes metrics to CloudWatch (EMF), not Prometheus' } } };
      return { statusCode: 200, text: await deps.metricsText() };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/settlements',
    authenticated: true,
    request: { body: settlementRequestBody },
    summary: 'Submit a settlement (idempotent on settlementId): 202 created, 200 the same request again, 409 the same id with a different request.',
    permission: Permission.settlementSubmit,
    handle: async (request, deps) => {
      // A participant settles only as its own payer: checked before anything is written.
      requirePayer(request.caller, (request.body as { payerBic?: unknown } | null)?.payerBic);
      const { created, settlement } = await submitSettlement(deps, request.body, request.caller.clientName);
      return { statusCode: created ? 202 : 200, headers: { location: `/api/v1/settlements/${encodeURIComponent(settlement.settlementId)}` }, body: settlement };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/settlements/{settlementId}',
    authenticated: true,
    request: { params: z.strictObject({ settlementId }) },
    summary: 'A settlement, with its checkpoints and lock.',
    permission: Permission.settlementRead,
    handle: async (request, deps) => {
      const settlement = await getSettlement(deps, request.pathParameters.settlementId);
      requireParty(request.caller, Permission.settlementRead, [settlement.payerBic, settlement.payeeBic]);
      return { statusCode: 200, body: settlement };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/settlements/{settlementId}/ledger',
    request: { params: z.strictObject({ settlementId }) },
    summary: 'The ledger entries a settlement posted (both legs).',
    authenticated: true,
    permission: Permission.settlementRead,
    handle: async (request, deps) => {
      const settlement = await getSettlement(deps, request.pathParameters.settlementId);
      requireParty(request.caller, Permission.settlementRead, [settlement.payerBic, settlement.payeeBic]);
      return { statusCode: 200, body: { items: await settlementLedger(operationsOf(deps), settlement) } };
    },
  },
  accountListRoute('NOSTRO', '/api/v1/accounts/nostro'),
  accountListRoute('VOSTRO', '/api/v1/accounts/vostro'),
];

function accountListRoute(accountType: AccountType, path: string): Route {
  return {
    method: 'GET',
    path,
    authenticated: true,
    request: { query: accountListQuery },
    summary: `List ${accountType.toLowerCase()} accounts, optionally of one bank or currency, paged.`,
    permission: Permission.accountRead,
    handle: async (request, deps) => {
      const query = participantScoped(request, parseAccountQuery(request));
      const page = await deps.accounts.list({ accountType, ...query });
      return { statusCode: 200, body: { items: page.items.map(accountView), ...(page.nextCursor && { nextCursor: page.nextCursor }) } };
    },
  };
}

function parseAccountQuery(request: ApiRequest): { bic?: string; currency?: string; cursor?: string; limit: number } {
  for (const key of Object.keys(request.query)) {
    if (!['bank', 'currency', 'cursor', 'limit'].includes(key)) throw new ValidationError(key, 'is not a query parameter of this listing (bank, currency, cursor, limit)');
  }
  const { bank, currency, cursor, limit } = request.query;
  let pageSize = accountPageSizeDefault;
  if (limit !== undefined) {
    if (!/^[1-9][0-9]{0,3}$/.test(limit) || Number(limit) > accountPageSizeMax) throw new ValidationError('limit', `must be an integer from 1 to ${accountPageSizeMax}`);
    pageSize = Number(limit);
  }
  return {
    ...(bank !== undefined && { bic: parseBic(bank, 'bank') }),
    ...(currency !== undefined && { currency: parseCurrency(currency, 'currency') }),
    ...(cursor !== undefined && { cursor }),
    limit: pageSize,
  };
}

/** A participant lists only its own bank's accounts: `bank` defaults to its BIC and must be one of its BICs. */
function participantScoped<Query extends { bic?: string }>(request: ApiRequest, query: Query): Query {
  const caller = request.caller;
  if (caller.role !== 'participant') return query;
  if (query.bic === undefined) {
    if (caller.bics.length !== 1) throw new ForbiddenError(caller, Permission.accountRead, `give bank: this key acts for ${caller.bics.join(', ')}`);
    return { ...query, bic: caller.bics[0] };
  }
  requireParty(caller, Permission.accountRead, [query.bic]);
  return query;
}
