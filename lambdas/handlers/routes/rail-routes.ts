/**
 * Routes of the bank rails: the messages a settlement exchanged with its bank.
 */
import { bankMessageView } from '../../usecases/bank-messages';
import type { Route } from '../http';
import { getSettlement } from '../../usecases/settlements';
import { importStatement } from '../../usecases/operations/statements';
import { operationsOf } from '../../usecases/operations/deps';
import { statementContentBytesMax } from '../../adapters/statements/reader';
import { z } from 'zod';
import { Permission, requireParty } from '../../domain/access';
import { accountId, isoInstant, settlementId } from '../request-schemas';

/** A statement upload (the use case checks the file itself: format, size, parse, period). */
const statementUploadBody = z.strictObject({
  format: z.enum(['CAMT053', 'CSV'], { error: 'must be CAMT053 or CSV' }),
  content: z.string().min(1, { error: 'is required: the statement file as text' }).meta({ description: 'The statement file as text (camt.053 XML or CSV).' }),
  accountId,
  statementId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, { error: 'must be 1 to 128 letters, digits or . _ : / -' })
    .optional()
    .meta({ description: 'Idempotency key of the upload; default: the id the file carries.' }),
  from: isoInstant.optional(),
  to: isoInstant.optional(),
});

export const railRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/v1/settlements/{settlementId}/messages',
    authenticated: true,
    permission: Permission.settlementRead,
    request: { params: z.strictObject({ settlementId }) },
    summary: 'Every message the settlement exchanged with its bank (type, direction, time, the message itself).',
    handle: async (request, deps) => {
      const settlement = await getSettlement(deps, request.pathParameters.settlementId);
      requireParty(request.caller, Permission.settlementRead, [settlement.payerBic, settlement.payeeBic]);
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
    permission: Permission.operationsWrite,
    request: { body: statementUploadBody },
    summary: 'Upload a correspondent statement (camt.053 or CSV); idempotent on the statement id.',
    handle: async (request, deps) => {
      const { created, statement } = await importStatement(operationsOf(deps), request.body, statementContentBytesMax, { actor: request.caller.clientName, via: 'API' });
      return { statusCode: created ? 201 : 200, headers: { location: `/api/v1/statements/${encodeURIComponent(statement.statementId)}` }, body: statement };
    },
  },
];
