/**
 * The gRPC server's use cases, bound to the engine's dependencies: the same functions the REST routes call.
 * Shared by the local engine (in-process server) and bin/grpc-server.ts (the Fargate task).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EngineDeps } from '../../usecases/deps';
import { getAccount, getSettlement, submitSettlement, waitForSettlement } from '../../usecases/settlements';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoChangeStream } from '../events/change-stream';
import type { SettlementApiDeps } from './server';

export interface GrpcEngineBinding {
  readonly deps: EngineDeps & { checkDatabase(): Promise<boolean> };
  readonly documentClient: DynamoDBDocumentClient;
  readonly settlementsTableName: string;
  /** Client of the table's change stream; default: one from the environment (region, AWS_ENDPOINT_URL). */
  readonly streamsClient?: DynamoDBStreamsClient;
  /** The reconciliation use case, once that module is wired. */
  readonly reconcileAccounts?: (request: unknown) => Promise<unknown>;
}

export function settlementApiDeps(binding: GrpcEngineBinding): SettlementApiDeps {
  const { deps } = binding;
  return {
    submitSettlement: (request) => submitSettlement(deps, request),
    getSettlement: (settlementId) => getSettlement(deps, settlementId),
    waitForSettlement: (settlementId, timeoutMs) => waitForSettlement(deps, settlementId, timeoutMs),
    getAccount: (accountType, bic, currency) => getAccount(deps, accountType, bic, currency),
    checkDatabase: () => deps.checkDatabase(),
    ...(binding.reconcileAccounts && { reconcileAccounts: binding.reconcileAccounts }),
    events: {
      stream: new DynamoChangeStream(binding.streamsClient ?? new DynamoDBStreamsClient({}), binding.documentClient as unknown as DynamoDBClient, binding.settlementsTableName),
    },
  };
}
