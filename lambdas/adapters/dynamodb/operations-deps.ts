/**
 * Builds the operations dependencies over DynamoDB: used by the Lambda deps and the local engine alike.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { positiveInteger, type Environment } from '../../config';
import type { BankDirectory, Clock, MetricsPort } from '../../ports';
import type { AccountStore } from '../../ports/stores';
import { defaultOperationsLimits, type OperationsDeps, type OperationsLimits } from '../../usecases/operations/deps';
import { DynamoOperationsStore } from './operations-store';
import { DynamoReconciliationStore } from './reconciliation-store';
import type { TableNames } from './table-definitions';

/** Correspondent statements arrive on the SWIFT rail's client (MT940/camt.053); the mock serves every rail. */
export const statementRail = 'SWIFT';

export function createOperationsDeps(input: {
  documentClient: DynamoDBDocumentClient;
  tables: TableNames;
  accounts: Pick<AccountStore, 'list'>;
  banks: BankDirectory;
  metrics: MetricsPort;
  clock: Clock;
  limits?: Partial<OperationsLimits>;
}): OperationsDeps {
  const store = new DynamoOperationsStore(input.documentClient, input.tables);
  const reconciliations = new DynamoReconciliationStore(input.documentClient, input.tables);
  return {
    bankRegistry: store,
    accountAdmin: store,
    accountList: input.accounts,
    audit: store,
    proposals: store,
    windows: store,
    reconciliations,
    ledger: reconciliations,
    statements: { statement: (request) => input.banks.forRail(statementRail).statement(request) },
    metrics: input.metrics,
    clock: input.clock,
    limits: { ...defaultOperationsLimits, ...input.limits },
  };
}

/**
 * Operations limits from environment variables (README lists them): RECONCILIATION_INTERVAL_SECONDS (must match
 * the schedule: the job reconciles the previous complete interval), RECONCILIATION_RUN_LOCK_SECONDS,
 * WINDOW_CACHE_SECONDS.
 */
export function operationsLimitsFromEnvironment(env: Environment): OperationsLimits {
  return {
    ...defaultOperationsLimits,
    reconciliationIntervalSeconds: positiveInteger(env, 'RECONCILIATION_INTERVAL_SECONDS', defaultOperationsLimits.reconciliationIntervalSeconds),
    runLockSeconds: positiveInteger(env, 'RECONCILIATION_RUN_LOCK_SECONDS', defaultOperationsLimits.runLockSeconds),
    windowCacheSeconds: positiveInteger(env, 'WINDOW_CACHE_SECONDS', defaultOperationsLimits.windowCacheSeconds),
    fundMovementApprovalAbove: decimalSetting(env, 'FUND_MOVEMENT_APPROVAL_ABOVE', defaultOperationsLimits.fundMovementApprovalAbove),
    proposalTtlSeconds: positiveInteger(env, 'PROPOSAL_TTL_SECONDS', defaultOperationsLimits.proposalTtlSeconds),
  };
}

/** A non-negative decimal amount setting, kept as its string (never a float). */
function decimalSetting(env: Environment, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^(0|[1-9][0-9]{0,17})(\.[0-9]{1,4})?$/.test(raw)) throw new Error(`configuration: ${name} must be a non-negative decimal amount such as "250000.00", got "${raw}"`);
  return raw;
}
