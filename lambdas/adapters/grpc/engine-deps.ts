/**
 * The gRPC server's use cases, bound to the engine's dependencies: the same functions the REST routes call.
 * Shared by the local engine (in-process server) and bin/grpc-server.ts (the Fargate task); both pass what the
 * composition root (lambdas/composition.ts) built.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EngineDeps } from '../../usecases/deps';
import { reconcileAccounts } from '../../usecases/operations/reconcile';
import { getAccount, getSettlement, submitSettlement, waitForSettlement } from '../../usecases/settlements';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoChangeStream, type ChangeStream } from '../events/change-stream';
import type { SettlementApiDeps } from './server';
import { auditRefusal } from '../../usecases/operations/audit';

export interface GrpcEngineBinding {
  readonly deps: EngineDeps & { checkDatabase(): Promise<boolean> };
  readonly documentClient: DynamoDBDocumentClient;
  readonly settlementsTableName: string;
  /** The settlements table's change stream; default: read with a client from the environment (region, AWS_ENDPOINT_URL). */
  readonly changeStream?: ChangeStream;
}

export function settlementApiDeps(binding: GrpcEngineBinding): Required<SettlementApiDeps> {
  const { deps } = binding;
  return {
    submitSettlement: (request, submittedBy) => submitSettlement(deps, request, submittedBy),
    auditRefusal: (error, call) => auditRefusal(deps, error, call),
    getSettlement: (settlementId) => getSettlement(deps, settlementId),
    waitForSettlement: (settlementId, timeoutMs) => waitForSettlement(deps, settlementId, timeoutMs),
    getAccount: (accountType, bic, currency) => getAccount(deps, accountType, bic, currency),
    checkDatabase: () => deps.checkDatabase(),
    reconcileAccounts: (request) => reconcileAccounts(deps.operations, request),
    events: {
      stream: binding.changeStream ?? new DynamoChangeStream(new DynamoDBStreamsClient({}), binding.documentClient as unknown as DynamoDBClient, binding.settlementsTableName),
    },
  };
}
