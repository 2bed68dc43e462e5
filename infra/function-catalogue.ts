/**
 * Every Lambda function of the engine as data: which handler it runs and exactly what it may touch.
 *
 * The grants are the least each handler needs; test/infra/functions.test.ts asserts them one by one, so widening a
 * grant is a visible, reviewed change.
 */
import { Duration } from 'aws-cdk-lib';
import type { LogicalTableName } from '../lambdas/adapters/dynamodb/table-definitions';

/** The item writes DynamoDB authorizes one by one (TransactWriteItems is authorized item by item through these). */
export type TableWriteAction = 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem';

/**
 * What a function may do on one table: `describe` (DescribeTable only: the deep health check), `read` (get, query,
 * condition check), or read plus exactly the write actions its code issues.
 */
export type TableAccess = 'describe' | 'read' | { readonly write: readonly TableWriteAction[] };
export type HandlerModule = 'stages' | 'api' | 'jobs' | 'statement-import';

/** Read plus the listed writes. */
export const write = (...actions: TableWriteAction[]): TableAccess => ({ write: actions });
/**
 * The ledger is append-only: entries are put with `attribute_not_exists` and never updated, deleted or batch-written
 * (a batch put could overwrite). Every grant on the ledger is this one or `read`; table-access.ts refuses any other.
 */
export const ledgerAppend = write('PutItem');

export interface FunctionSpec {
  /** Construct id (and the stem of the CloudFormation logical id). */
  readonly id: string;
  /** lambdas/handlers/<module>.ts */
  readonly module: HandlerModule;
  /** The export name; the Lambda handler is `index.<export>`. */
  readonly exportName: string;
  readonly description: string;
  readonly tables: Readonly<Partial<Record<LogicalTableName, TableAccess>>>;
  /**
   * Concurrent executions reserved for the function (and its ceiling), unless the deployment turns reservation off
   * (`reservedConcurrency=none`) or overrides it per function id. See docs/deploy.md, capacity.
   */
  readonly reservedConcurrency: number;
  /** sfn:StartExecution on the settlement state machine, with STATE_MACHINE_ARN in the environment. */
  readonly startsExecutions: boolean;
  /** sqs:SendMessage on the dead-letter queue, with DEAD_LETTER_QUEUE_URL in the environment. */
  readonly sendsToDeadLetterQueue: boolean;
  readonly timeout: Duration;
  readonly memorySizeMiB: number;
}

/** The Task states of statemachines/settlement.asl.json, in workflow order. */
export const stageStateNames = [
  'Validate',
  'LockFunds',
  'InitiateTransfer',
  'CheckConfirmation',
  'Finalize',
  'BeginRollback',
  'Compensate',
  'ReleaseLocks',
  'MarkFailed',
  'ParkSettlement',
] as const;
export type StageStateName = (typeof stageStateNames)[number];

/** `${ValidateFunctionArn}` → the state's substitution key in the ASL file. */
export function substitutionKey(state: StageStateName): string {
  return `${state}FunctionArn`;
}

/** `LockFunds` → `lockFunds`: the export of lambdas/handlers/stages.ts that runs the state. */
export function stageExportName(state: StageStateName): string {
  return `${state.charAt(0).toLowerCase()}${state.slice(1)}`;
}

/**
 * What each stage touches, read off its use case (lambdas/usecases/stages.ts, rollback.ts). Every stage reads its
 * settlement and moves it on: the record and its event are put on the condition of the previous version, locks and
 * operations are updated. Balances change only by UpdateItem (holds, postings, releases); Finalize alone appends
 * to the ledger. The reference table is written only by the stages that call the bank: the mock bank (the MVP's only
 * rail adapter, lambdas/adapters/banks) keeps its record of transfers there; with a real rail they become 'read'.
 */
const settlementTransitions = write('PutItem', 'UpdateItem');
const stageTables: Readonly<Record<StageStateName, FunctionSpec['tables']>> = {
  // Validate only reads: banks, accounts, route and window; its one write is the settlement's own transition.
  Validate: { settlements: settlementTransitions, accounts: 'read', reference: 'read' },
  LockFunds: { settlements: settlementTransitions, accounts: write('UpdateItem') },
  InitiateTransfer: { settlements: settlementTransitions, reference: write('PutItem') },
  CheckConfirmation: { settlements: settlementTransitions, reference: write('PutItem') },
  Finalize: { settlements: settlementTransitions, accounts: write('UpdateItem'), ledger: ledgerAppend },
  // BeginRollback asks the bank about a rejected transfer (rollback.ts): the mock bank counts the status call there.
  BeginRollback: { settlements: settlementTransitions, reference: write('PutItem') },
  Compensate: { settlements: settlementTransitions, reference: write('PutItem') },
  ReleaseLocks: { settlements: settlementTransitions, accounts: write('UpdateItem') },
  MarkFailed: { settlements: settlementTransitions },
  ParkSettlement: { settlements: settlementTransitions },
};

// A stage Task has TimeoutSeconds 30 in the ASL file: the function stops first so the state sees its typed error.
const stageTimeout = Duration.seconds(25);

export const stageFunctions: readonly (FunctionSpec & { readonly state: StageStateName })[] = stageStateNames.map((state) => ({
  id: `${state}Function`,
  state,
  module: 'stages',
  exportName: stageExportName(state),
  description: `Settlement state machine stage ${state}`,
  tables: stageTables[state],
  startsExecutions: false,
  // ParkSettlement parks a stuck settlement; MarkFailed parks one whose retries are exhausted.
  sendsToDeadLetterQueue: state === 'ParkSettlement' || state === 'MarkFailed',
  timeout: stageTimeout,
  memorySizeMiB: 512,
  // The seed's 1,000 settlements/minute is ~17/s; a stage runs for well under a second against DynamoDB (bank
  // calls aside), so 40 per stage is over twice the target with the bank's latency included. Throttled Tasks are
  // retried by the ASL (Lambda.TooManyRequestsException), never failed.
  reservedConcurrency: 40,
}));

/**
 * Three functions run the same REST handler (lambdas/handlers/api.ts), each behind the routes API Gateway sends it
 * (infra/api-routes.ts), each with its own grants: a route can only do what the function behind it may.
 */
export const apiFunction: FunctionSpec = {
  id: 'ApiFunction',
  module: 'api',
  exportName: 'handler',
  description: 'REST API (API Gateway proxy): settlement submission and every read route',
  // Submission puts the PENDING record, its event and its operation; everything else it serves is a read. It never
  // writes a balance or the ledger.
  tables: { settlements: write('PutItem'), accounts: 'read', ledger: 'read', reference: 'read', reconciliation: 'read' },
  startsExecutions: true,
  sendsToDeadLetterQueue: false,
  // API Gateway gives up after 29 s.
  timeout: Duration.seconds(28),
  memorySizeMiB: 1024,
  // Twice the stage throttle's steady rate (100/s) at ~0.5 s a request.
  reservedConcurrency: 100,
};

export const adminApiFunction: FunctionSpec = {
  id: 'AdminApiFunction',
  module: 'api',
  exportName: 'handler',
  description: 'REST API (API Gateway proxy): admin and operator routes that change banks, accounts, windows, reconciliations and parked settlements',
  // The routes that must write balances and the ledger: open an account (opening entry), fund in/out, status and
  // floor; abandon (voids a lock: releases holds, may reverse at the bank); requeue (new attempt); banks, windows
  // and the audit trail (reference); a reconciliation run on demand (its report, run lock and batches).
  tables: {
    settlements: write('PutItem', 'UpdateItem'),
    accounts: write('PutItem', 'UpdateItem'),
    ledger: ledgerAppend,
    reference: write('PutItem', 'UpdateItem'),
    reconciliation: write('PutItem', 'DeleteItem', 'BatchWriteItem'),
  },
  startsExecutions: true,
  sendsToDeadLetterQueue: false,
  timeout: Duration.seconds(28),
  memorySizeMiB: 1024,
  // Operators, not traffic.
  reservedConcurrency: 10,
};

export const healthFunction: FunctionSpec = {
  id: 'HealthFunction',
  module: 'api',
  exportName: 'handler',
  description: 'REST API (API Gateway proxy): GET /health (liveness, no database) and GET /health/deep (DescribeTable, authenticated)',
  // The deep check asks DynamoDB to describe the settlements table: no item is read.
  tables: { settlements: 'describe' },
  startsExecutions: false,
  sendsToDeadLetterQueue: false,
  timeout: Duration.seconds(5),
  // The liveness answer needs no memory; the small size keeps a flood of probes cheap.
  memorySizeMiB: 256,
  // A flood of anonymous probes can take these and nothing more from the account's pool.
  reservedConcurrency: 5,
};

export const jobFunctions: readonly FunctionSpec[] = [
  {
    id: 'ReconcileFunction',
    module: 'jobs',
    exportName: 'reconcile',
    description: 'Scheduled reconciliation of every account against its bank statement',
    // Reads balances, ledger and settlements (stale locks); bank profiles and routes tell it whom to ask.
    // Reconciliation itself never changes balances: only its own reports are written (its run lock is a conditional
    // put/delete; report lines go out in batches). Before it reconciles, the run books the returns the bank reported
    // after Finalize (usecases/returns.ts): one transaction that puts the RETURN item and the received pacs.004 on the
    // settlement, credits both accounts back and appends two ledger entries.
    tables: {
      accounts: write('UpdateItem'),
      ledger: ledgerAppend,
      settlements: write('PutItem'),
      reference: 'read',
      reconciliation: write('PutItem', 'DeleteItem', 'BatchWriteItem'),
    },
    startsExecutions: false,
    sendsToDeadLetterQueue: false,
    timeout: Duration.minutes(10),
    memorySizeMiB: 1024,
    // One run at a time is all a job needs (each guards its own mutual exclusion too); a run that finds the
    // reservation taken waits in Lambda's asynchronous queue, within the schedule target's maximum event age.
    reservedConcurrency: 1,
  },
  {
    id: 'RetryFailedFunction',
    module: 'jobs',
    exportName: 'retryFailed',
    description: 'Scheduled restart of FAILED settlements marked retryable; parks them after the last attempt',
    tables: { settlements: settlementTransitions },
    startsExecutions: true,
    sendsToDeadLetterQueue: true,
    timeout: Duration.minutes(2),
    memorySizeMiB: 512,
    reservedConcurrency: 1,
  },
  {
    id: 'CleanupFunction',
    module: 'jobs',
    exportName: 'cleanup',
    description: 'Scheduled cleanup of ended operations and expired locks that moved no money',
    // Voiding an expired lock gives the locked amount back on both accounts, like the ReleaseLocks stage.
    // Ended operations are deleted (conditionally); asking the bank about a lost transfer writes the mock bank's record.
    tables: { settlements: write('PutItem', 'UpdateItem', 'DeleteItem'), accounts: write('UpdateItem'), reference: write('PutItem') },
    startsExecutions: false,
    // Cleanup parks settlements whose lock expired with money possibly out.
    sendsToDeadLetterQueue: true,
    timeout: Duration.minutes(5),
    memorySizeMiB: 512,
    reservedConcurrency: 1,
  },
  {
    id: 'RecoverStuckFunction',
    module: 'jobs',
    exportName: 'recoverStuck',
    description: 'Scheduled sweep that restarts settlements stuck in a non-terminal status',
    tables: { settlements: settlementTransitions },
    startsExecutions: true,
    sendsToDeadLetterQueue: false,
    timeout: Duration.minutes(2),
    memorySizeMiB: 512,
    reservedConcurrency: 1,
  },
  {
    id: 'PublishBalancesFunction',
    module: 'jobs',
    exportName: 'publishBalances',
    description: 'Scheduled publication of every account balance as the nostro_balance and vostro_balance gauges (EMF)',
    // Lists accounts, bounded (lambdas/adapters/metrics/balances.ts); writes nothing.
    tables: { accounts: 'read' },
    startsExecutions: false,
    sendsToDeadLetterQueue: false,
    timeout: Duration.minutes(1),
    memorySizeMiB: 256,
    reservedConcurrency: 1,
  },
];

export type JobExportName = 'reconcile' | 'retryFailed' | 'cleanup' | 'recoverStuck' | 'publishBalances';

export const apiFunctions: readonly FunctionSpec[] = [apiFunction, adminApiFunction, healthFunction];

export const allFunctions: readonly FunctionSpec[] = [...stageFunctions, ...apiFunctions, ...jobFunctions];
