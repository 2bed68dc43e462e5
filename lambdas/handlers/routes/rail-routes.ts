/**
 * Routes of the bank rails: the messages a settlement exchanged with its bank.
 */
import { bankMessageView } from '../../usecases/bank-messages';
import type { Route } from '../http';
import { getSettlement } from '../../usecases/settlements';
import { importStatement } from '../../usecases/operations/statements';
import { operationsOf } from '../../usecases/operations/deps';
import { statementContentBytesMax } from '../../adapters/statements/reader';

export const railRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/settlements/{settlementId}/messages',
    authenticated: true,
    handle: async (request, deps) => {
      const settlement = await getSettlement(deps, request.pathParameters.settlementId);
      const messages = deps.bankMessages ? await deps.bankMessages.list(settlement.settlementId) : [];
      return { statusCode: 200, body: { settlementId: settlement.settlementId, items: messages.map(bankMessageView) } };
    },
  },
];

export const statementRoutes: readonly Route[] = [
  {
    method: 'POST',
    path: '/api/v1/statements',
    authenticated: true,
    handle: async (request, deps) => {
      const { created, statement } = await importStatement(operationsOf(deps), request.body, statementContentBytesMax);
      return { statusCode: created ? 201 : 200, headers: { location: `/api/v1/statements/${encodeURIComponent(statement.statementId)}` }, body: statement };
    },
  },
];
