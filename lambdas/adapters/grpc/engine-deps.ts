/**
 * The gRPC server's use cases, bound to the engine's dependencies: the same functions the REST routes call.
 * Shared by the local engine (in-process server) and bin/grpc-server.ts (the Fargate task).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EngineDeps } from '../../usecases/deps';
import { getAccount, getSettlement, submitSettlement, waitForSettlement } from '../../usecases/settlements';
import { DynamoEventSource } from '../events/event-source';
import { DynamoStreamLogStore } from '../events/stream-log';
import type { SettlementApiDeps } from './server';
import { auditRefusal } from '../../usecases/operations/audit';

export interface GrpcEngineBinding {
  readonly deps: EngineDeps & { checkDatabase(): Promise<boolean> };
  readonly documentClient: DynamoDBDocumentClient;
  readonly settlementsTableName: string;
  /** The reconciliation use case, once that module is wired. */
  readonly reconcileAccounts?: (request: unknown) => Promise<unknown>;
}

export function settlementApiDeps(binding: GrpcEngineBinding): SettlementApiDeps {
  const { deps } = binding;
  return {
    submitSettlement: (request, submittedBy) => submitSettlement(deps, request, submittedBy),
    auditRefusal: (error, call) => auditRefusal(deps, error, call),
    getSettlement: (settlementId) => getSettlement(deps, settlementId),
    waitForSettlement: (settlementId, timeoutMs) => waitForSettlement(deps, settlementId, timeoutMs),
    getAccount: (accountType, bic, currency) => getAccount(deps, accountType, bic, currency),
    checkDatabase: () => deps.checkDatabase(),
    ...(binding.reconcileAccounts && { reconcileAccounts: binding.reconcileAccounts }),
    events: {
      source: new DynamoEventSource(binding.documentClient, binding.settlementsTableName),
      log: new DynamoStreamLogStore(binding.documentClient, binding.settlementsTableName),
    },
  };
}
