/**
 * Dependencies of the operations use cases (banks, accounts, windows, reconciliation): ports only, wired at the edge
 * (lambdas/composition.ts) and reached from the engine's dependency bag as `deps.operations`.
 */
import { InvariantViolationError } from '../../domain/errors';
import type { Clock, MetricsPort } from '../../ports';
import type { AccountAdminStore, AuditLog, BankRegistry, LedgerReader, ProposalStore, ReconciliationStore, StatementInbox, StatementReader, StatementSourcePort, WindowStore } from '../../ports/operations';
import type { AccountStore } from '../../ports/stores';

export interface OperationsLimits {
  /** How long a reconciliation run holds its (account, period) lock; a run that dies frees it after this. */
  readonly runLockSeconds: number;
  /** Period of the scheduled reconciliation (the job reconciles the previous complete period). */
  readonly reconciliationIntervalSeconds: number;
  /** How long the Validate stage may use a window it read (an edit or emergency close takes effect within it). */
  readonly windowCacheSeconds: number;
  /** Accounts one scheduled run reconciles at most. */
  readonly scheduledAccountsMax: number;
  /** Fund-ins and fund-outs by an operator above this amount (decimal string, in the account's currency) need a second operator's approval. */
  readonly fundMovementApprovalAbove: string;
  /** How long a proposal may wait for its approval. */
  readonly proposalTtlSeconds: number;
}

export const defaultOperationsLimits: OperationsLimits = {
  runLockSeconds: 15 * 60,
  reconciliationIntervalSeconds: 6 * 3600,
  windowCacheSeconds: 5,
  scheduledAccountsMax: 10_000,
  fundMovementApprovalAbove: '1000000',
  proposalTtlSeconds: 24 * 3600,
};

export interface OperationsDeps {
  readonly bankRegistry: BankRegistry;
  readonly accountAdmin: AccountAdminStore;
  /** Paged account listings (the core's store). */
  readonly accountList: Pick<AccountStore, 'list'>;
  /** A hot account's balance shards evened now (the cleanup job does it on its schedule), or an account split into them. */
  readonly accountShards: Pick<AccountStore, 'rebalanceShards' | 'splitShards'>;
  readonly audit: AuditLog;
  readonly proposals: ProposalStore;
  readonly windows: WindowStore;
  readonly reconciliations: ReconciliationStore;
  readonly ledger: LedgerReader;
  readonly statements: StatementSourcePort;
  /** Uploaded statements (POST /api/v1/statements) and the importers that read them. */
  readonly statementInbox?: StatementInbox;
  readonly statementReader?: StatementReader;
  readonly metrics: MetricsPort;
  readonly clock: Clock;
  readonly limits: OperationsLimits;
}

/** The operations deps of an engine bag; a wiring mistake (not an operating error) when absent. */
export function operationsOf(deps: { readonly operations?: OperationsDeps }): OperationsDeps {
  if (deps.operations === undefined) throw new InvariantViolationError('operations dependencies are not wired (deps.operations)');
  return deps.operations;
}

/** Actor of a change: the authenticated principal, or the job/system that made it. */
export function actorOf(ops: Pick<OperationsDeps, 'clock'>, principal: string | undefined): { actor: string; at: string } {
  return { actor: principal ?? 'anonymous', at: ops.clock.now().toISOString() };
}
