/**
 * Core REST routes: health, metrics, settlements and account listings.
 */
import { ValidationError } from '../../domain/errors';
import { parseBic } from '../../domain/bic';
import { parseCurrency } from '../../domain/money';
import type { AccountType } from '../../ports/stores';
import { accountView, getSettlement, submitSettlement } from '../../usecases/settlements';
import type { ApiRequest, Route } from '../http';

/** Page size of account listings: default and maximum. */
export const accountPageSizeDefault = 50;
export const accountPageSizeMax = 200;

export const coreRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/health',
    authenticated: false,
    // Liveness for anyone: the process answers. It touches no database, so an anonymous flood costs no reads.
    handle: async () => ({ statusCode: 200, body: { status: 'SERVING' } }),
  },
  {
    method: 'GET',
    path: '/health/deep',
    authenticated: true,
    // Readiness for authenticated callers: the database answers (a DescribeTable, no item read).
    handle: async (_request, deps) => {
      const databaseUp = await deps.checkDatabase();
      return { statusCode: databaseUp ? 200 : 503, body: { status: databaseUp ? 'SERVING' : 'NOT_SERVING', checks: { database: databaseUp ? 'up' : 'down' } } };
    },
  },
  {
    method: 'GET',
    path: '/metrics',
    authenticated: false,
    handle: async (_request, deps) => {
      if (!deps.metricsText) return { statusCode: 404, body: { error: { code: 'HTTP.NOT_FOUND', message: 'this deployment publishes metrics to CloudWatch (EMF), not Prometheus' } } };
      return { statusCode: 200, text: await deps.metricsText() };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/settlements',
    authenticated: true,
    handle: async (request, deps) => {
      const { created, settlement } = await submitSettlement(deps, request.body);
      return { statusCode: created ? 202 : 200, headers: { location: `/api/v1/settlements/${encodeURIComponent(settlement.settlementId)}` }, body: settlement };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/settlements/{settlementId}',
    authenticated: true,
    handle: async (request, deps) => ({ statusCode: 200, body: await getSettlement(deps, request.pathParameters.settlementId) }),
  },
  accountListRoute('NOSTRO', '/api/v1/accounts/nostro'),
  accountListRoute('VOSTRO', '/api/v1/accounts/vostro'),
];

function accountListRoute(accountType: AccountType, path: string): Route {
  return {
    method: 'GET',
    path,
    authenticated: true,
    handle: async (request, deps) => {
      const query = parseAccountQuery(request);
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
