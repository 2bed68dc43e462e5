/**
 * Admin REST routes: banks, accounts (open, fund in/out, status, floor), audit, settlement windows and
 * reconciliations. Each route parses, calls one use case, maps the result; errors map through the core's table.
 */
import { z } from 'zod';
import { ValidationError } from '../../domain/errors';
import { parseBic } from '../../domain/bic';
import { accountView } from '../../usecases/settlements';
import { changeAccountStatus, getBank, openAccount, pageLimit, postFundMovement, rebalanceAccountShards, registerBank, splitAccountShards, requireAccount, setAccountFloor, setBankStatus, type StatusAction } from '../../usecases/operations/accounts';
import { actorOf, operationsOf } from '../../usecases/operations/deps';
import { getReport, listReports, requestReconciliation, ReconciliationTrigger } from '../../usecases/operations/reconcile';
import { emergencyClose, getWindow, listWindows, putWindow, reopen } from '../../usecases/operations/windows';
import type { ApiDeps, ApiRequest, ApiResponse, Route } from '../http';
import {
  accountId,
  accountOpeningBody,
  auditQuery,
  bankRegistrationBody,
  bic,
  currency,
  emergencyCloseBody,
  floorBody,
  splitBody,
  fundMovementBody,
  auditExportQuery,
  ledgerQuery,
  noInput,
  pagedQuery,
  reconciliationBody,
  reportId,
  reportListQuery,
  statusBody,
  windowBody,
  type RequestSchema,
} from '../request-schemas';
import { Permission, requireParty } from '../../domain/access';
import { parseAccountId } from '../../domain/admin';
import { recordAudit } from '../../usecases/operations/audit';
import { fundMovementAmount, needsApproval, propose } from '../../usecases/operations/approvals';
import { proposed } from './approval-routes';
import { exportAudit, listAudit } from '../../usecases/operations/audit';
import { accountLedger } from '../../usecases/operations/ledger';

type Handler = (request: ApiRequest, deps: ApiDeps) => Promise<ApiResponse>;

/** Reads need operations.read; every other method changes something and needs operations.write. */
const route = (method: Route['method'], path: string, request: RequestSchema, summary: string, handle: Handler, permission: Permission = method === 'GET' ? Permission.operationsRead : Permission.operationsWrite): Route => ({ method, path, authenticated: true, request, summary, permission, handle });
const bicParams = { params: z.strictObject({ bic }) };
const accountParams = { params: z.strictObject({ accountId }) };
const currencyParams = { params: z.strictObject({ currency }) };
const ok = (body: unknown): ApiResponse => ({ statusCode: 200, body });
const created = (body: unknown, location: string): ApiResponse => ({ statusCode: 201, headers: { location }, body });
const ops = (deps: ApiDeps) => operationsOf(deps);
const actor = (request: ApiRequest, deps: ApiDeps) => actorOf(ops(deps), request.principal);

const statusActions: Readonly<Record<string, StatusAction>> = { FROZEN: 'freeze', ACTIVE: 'unfreeze', CLOSED: 'close' };

function noQuery(request: ApiRequest): void {
  const [key] = Object.keys(request.query);
  if (key !== undefined) throw new ValidationError(key, 'is not a query parameter of this route');
}

export const operationsRoutes: readonly Route[] = [
  // ---- banks ----
  route('GET', '/api/v1/banks', { query: pagedQuery() }, 'Registered banks, paged.', async (request, deps) => {
    for (const key of Object.keys(request.query)) if (key !== 'cursor' && key !== 'limit') throw new ValidationError(key, 'is not a query parameter of this listing (cursor, limit)');
    return ok(await ops(deps).bankRegistry.listBanks({ cursor: request.query.cursor, limit: pageLimit(request.query.limit) }));
  }),
  route('POST', '/api/v1/banks', { body: bankRegistrationBody }, 'Register a bank (one BIC, one bank: DEUTDEFFXXX is DEUTDEFF).', async (request, deps) => {
    const result = await registerBank(ops(deps), request.body, actor(request, deps));
    return result.created ? created(result.bank, `/api/v1/banks/${result.bank.bic}`) : ok(result.bank);
  }),
  route('GET', '/api/v1/banks/{bic}', bicParams, 'A registered bank.', async (request, deps) => ok(await getBank(ops(deps), parseBic(request.pathParameters.bic, 'bic')))),
  route('PUT', '/api/v1/banks/{bic}/status', { ...bicParams, body: statusBody(['ACTIVE', 'SUSPENDED', 'CLOSED']) }, 'Set a bank\'s status.', async (request, deps) => ok(await setBankStatus(ops(deps), parseBic(request.pathParameters.bic, 'bic'), request.body, actor(request, deps)))),

  // ---- accounts ----
  route('POST', '/api/v1/accounts', { body: accountOpeningBody }, 'Open a nostro or vostro account.', async (request, deps) => {
    const account = await openAccount(ops(deps), request.body, actor(request, deps));
    return created(account, `/api/v1/accounts/${encodeURIComponent(account.accountId)}`);
  }),
  route(
    'GET',
    '/api/v1/accounts/{accountId}',
    accountParams,
    "An account's position.",
    async (request, deps) => {
      noQuery(request);
      const account = await requireAccount(ops(deps), request.pathParameters.accountId);
      requireParty(request.caller, Permission.accountRead, [account.bic]);
      return ok(accountView(account));
    },
    Permission.accountRead,
  ),
  route(
    'GET',
    '/api/v1/accounts/{accountId}/ledger',
    { ...accountParams, query: ledgerQuery },
    "An account's ledger entries for a period (default: the last day).",
    async (request, deps) => {
      const account = await requireAccount(ops(deps), request.pathParameters.accountId);
      requireParty(request.caller, Permission.accountRead, [account.bic]);
      return ok(await accountLedger(ops(deps), account, request.query));
    },
    Permission.accountRead,
  ),
  route('POST', '/api/v1/accounts/{accountId}/fund-in', { ...accountParams, body: fundMovementBody }, 'Prefund a vostro (idempotent on movementId).', async (request, deps) => fundMovement(request, deps, 'FUND_IN')),
  route('POST', '/api/v1/accounts/{accountId}/fund-out', { ...accountParams, body: fundMovementBody }, 'Withdraw from a vostro (idempotent on movementId).', async (request, deps) => fundMovement(request, deps, 'FUND_OUT')),
  route('PUT', '/api/v1/accounts/{accountId}/status', { ...accountParams, body: statusBody(['ACTIVE', 'FROZEN', 'CLOSED']) }, 'Freeze, unfreeze or close an account.', async (request, deps) => {
    const body = request.body as Record<string, unknown> | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('body', 'must be a JSON object');
    for (const key of Object.keys(body)) if (key !== 'status') throw new ValidationError(key, 'is not a field of this request (status)');
    const action = typeof body.status === 'string' ? statusActions[body.status] : undefined;
    if (action === undefined) throw new ValidationError('status', `must be one of ${Object.keys(statusActions).join(', ')}`);
    // Freezing and closing stop a bank: an operator proposes, another approves (unfreezing is direct).
    const proposalAction = action === 'freeze' ? 'FREEZE' : action === 'close' ? 'CLOSE' : undefined;
    if (proposalAction && needsApproval(ops(deps), request.caller, proposalAction)) return proposed(await propose(ops(deps), request.caller, proposalAction, parseAccountId(request.pathParameters.accountId), body));
    return ok(await changeAccountStatus(ops(deps), request.pathParameters.accountId, action, actor(request, deps)));
  }),
  route('POST', '/api/v1/accounts/{accountId}/rebalance', accountParams, "Even a hot account's balance shards now (sums unchanged; MOVED, EVEN, NOT_SHARDED or BUSY).", async (request, deps) => ok(await rebalanceAccountShards(ops(deps), request.pathParameters.accountId, actor(request, deps)))),
  route('POST', '/api/v1/accounts/{accountId}/split', { ...accountParams, body: splitBody }, 'Split an account of one item into `shards` balance shards (a hot account; balance, held, available and floor unchanged).', async (request, deps) => ok(await splitAccountShards(ops(deps), request.pathParameters.accountId, (request.body as { shards: number }).shards, actor(request, deps)))),
  route('PUT', '/api/v1/accounts/{accountId}/floor', { ...accountParams, body: floorBody }, 'Set an account\'s floor.', async (request, deps) => ok(await setAccountFloor(ops(deps), request.pathParameters.accountId, request.body, actor(request, deps)))),

  // ---- audit ----
  route('GET', '/api/v1/audit', { query: auditQuery }, 'Audit entries by entity, actor or period, newest first, paged.', async (request, deps) => ok(await listAudit(ops(deps), request.query)), Permission.auditRead),
  route(
    'GET',
    '/api/v1/audit/export',
    { query: auditExportQuery },
    'Audit entries of a period as JSON lines or CSV, with their hash chain (npm run audit -- verify).',
    async (request, deps) => {
      const exported = await exportAudit(ops(deps), request.query);
      return { statusCode: 200, text: exported.text, contentType: exported.contentType, headers: { 'x-audit-entries': String(exported.entries) } };
    },
    Permission.auditRead,
  ),

  // ---- windows ----
  route('GET', '/api/v1/windows', noInput, 'Every settlement window, judged now.', async (request, deps) => {
    noQuery(request);
    return ok({ items: await listWindows(ops(deps)) });
  }),
  route('GET', '/api/v1/windows/{currency}', currencyParams, 'A currency\'s settlement window, judged now.', async (request, deps) => {
    noQuery(request);
    return ok(await getWindow(ops(deps), request.pathParameters.currency));
  }),
  route('PUT', '/api/v1/windows/{currency}', { ...currencyParams, body: windowBody, bodyFieldPrefix: 'body.' }, 'Create or replace a currency\'s settlement window.', async (request, deps) => {
    const result = await putWindow(ops(deps), request.pathParameters.currency, request.body, actor(request, deps));
    return result.created ? created(result.window, `/api/v1/windows/${result.window.window.currency}`) : ok(result.window);
  }),
  route('POST', '/api/v1/windows/{currency}/emergency-close', { ...currencyParams, body: emergencyCloseBody }, 'Close a currency\'s window now, until reopened.', async (request, deps) => ok(await emergencyClose(ops(deps), request.pathParameters.currency, request.body, actor(request, deps)))),
  route('DELETE', '/api/v1/windows/{currency}/emergency-close', currencyParams, 'Lift an emergency close.', async (request, deps) => ok(await reopen(ops(deps), request.pathParameters.currency, actor(request, deps)))),

  // ---- reconciliations ----
  route('POST', '/api/v1/reconciliations', { body: reconciliationBody }, 'Reconcile one nostro for a period against its statement.', async (request, deps) => {
    const report = await requestReconciliation(ops(deps), request.body, ReconciliationTrigger.api);
    await recordAudit(deps, { action: 'RECONCILIATION.REQUEST', entityType: 'RECONCILIATION', entityId: report.reportId, before: null, after: { accountId: report.accountId, periodFrom: report.periodFrom, periodTo: report.periodTo, status: report.status } }, actor(request, deps));
    return created(report, `/api/v1/reconciliations/${report.reportId}`);
  }),
  route('GET', '/api/v1/reconciliations', { query: reportListQuery }, 'Reconciliation reports of an account, paged.', async (request, deps) => ok(await listReports(ops(deps), request.query))),
  route('GET', '/api/v1/reconciliations/{reportId}', { params: z.strictObject({ reportId }), query: pagedQuery(200) }, 'A reconciliation report with a page of its discrepancies.', async (request, deps) => ok(await getReport(ops(deps), request.pathParameters.reportId, request.query))),
];

async function fundMovement(request: ApiRequest, deps: ApiDeps, direction: 'FUND_IN' | 'FUND_OUT'): Promise<ApiResponse> {
  const accountId = parseAccountId(request.pathParameters.accountId);
  if (request.caller.role === 'operator') {
    // Above the configured amount, an operator's movement waits for a second operator.
    const amount = await fundMovementAmount(ops(deps), accountId, request.body);
    if (needsApproval(ops(deps), request.caller, direction, amount)) return proposed(await propose(ops(deps), request.caller, direction, accountId, request.body as Record<string, unknown>));
  }
  const result = await postFundMovement(ops(deps), request.pathParameters.accountId, direction, request.body, actor(request, deps));
  return { statusCode: result.created ? 201 : 200, body: { movement: result.movement, account: result.account } };
}
