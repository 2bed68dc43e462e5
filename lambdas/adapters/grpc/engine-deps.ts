/**
 * The gRPC server's use cases, bound to the engine's dependencies: the same functions the REST routes call.
 * Shared by the local engine (in-process server) and bin/grpc-server.ts (the Fargate task); both pass what the
 * composition root (lambdas/composition.ts) built.
 */
import type { EngineDeps } from '../../usecases/deps';
import { reconcileAccounts } from '../../usecases/operations/reconcile';
import { getAccount, getSettlement, submitSettlement, waitForSettlement } from '../../usecases/settlements';
import type { SettlementEventSource } from '../events/shared-reader';
import type { SettlementApiDeps } from './server';
import { auditRefusal } from '../../usecases/operations/audit';

export interface GrpcEngineBinding {
  readonly deps: EngineDeps & { checkDatabase(): Promise<boolean> };
  /** The process's one reader of the settlements table's change stream (composition.ts builds it). */
  readonly events: SettlementEventSource;
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
    events: binding.events,
  };
}
