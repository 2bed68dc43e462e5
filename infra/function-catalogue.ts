/**
 * Every Lambda function of the engine as data: which handler it runs and exactly what it may touch.
 *
 * The grants are the least each handler needs; test/infra/functions.test.ts asserts them one by one, so widening a
 * grant is a visible, reviewed change.
 */
import { Duration } from 'aws-cdk-lib';
import type { LogicalTableName } from '../lambdas/adapters/dynamodb/table-definitions';

export type TableAccess = 'read' | 'readWrite';
export type HandlerModule = 'stages' | 'api' | 'jobs';

export interface FunctionSpec {
  /** Construct id (and the stem of the CloudFormation logical id). */
  readonly id: string;
  /** lambdas/handlers/<module>.ts */
  readonly module: HandlerModule;
  /** The export name; the Lambda handler is `index.<export>`. */
  readonly exportName: string;
  readonly description: string;
  readonly tables: Readonly<Partial<Record<LogicalTableName, TableAccess>>>;
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
 * What every stage touches: its settlement, both accounts' balances and locks, the ledger, and the reference table.
 * Reference is written, not only read, because the mock bank (the MVP's only rail adapter, see
 * lambdas/handlers/lambda-deps.ts) keeps its record of transfers there; with a real rail adapter it becomes 'read'.
 */
const stageTables = { settlements: 'readWrite', accounts: 'readWrite', ledger: 'readWrite', reference: 'readWrite' } as const;

// A stage Task has TimeoutSeconds 30 in the ASL file: the function stops first so the state sees its typed error.
const stageTimeout = Duration.seconds(25);

export const stageFunctions: readonly (FunctionSpec & { readonly state: StageStateName })[] = stageStateNames.map((state) => ({
  id: `${state}Function`,
  state,
  module: 'stages',
  exportName: stageExportName(state),
  description: `Settlement state machine stage ${state}`,
  tables: stageTables,
  startsExecutions: false,
  // ParkSettlement parks a stuck settlement; MarkFailed parks one whose retries are exhausted.
  sendsToDeadLetterQueue: state === 'ParkSettlement' || state === 'MarkFailed',
  timeout: stageTimeout,
  memorySizeMiB: 512,
}));

export const apiFunction: FunctionSpec = {
  id: 'ApiFunction',
  module: 'api',
  exportName: 'handler',
  description: 'REST API (API Gateway proxy): settlements, accounts, banks, windows, reconciliations, parked settlements',
  // Admin routes write banks, windows and audit (reference), accounts and their ledger movements (fund in/out),
  // and reconciliation reports; settlement routes write the PENDING record.
  tables: { settlements: 'readWrite', accounts: 'readWrite', ledger: 'readWrite', reference: 'readWrite', reconciliation: 'readWrite' },
  startsExecutions: true,
  sendsToDeadLetterQueue: false,
  // API Gateway gives up after 29 s.
  timeout: Duration.seconds(28),
  memorySizeMiB: 1024,
};

export const jobFunctions: readonly FunctionSpec[] = [
  {
    id: 'ReconcileFunction',
    module: 'jobs',
    exportName: 'reconcile',
    description: 'Scheduled reconciliation of every account against its bank statement',
    // Reads balances, ledger and settlements (stale locks); bank profiles and routes tell it whom to ask.
    // Reconciliation never changes balances: only its own reports are written.
    tables: { accounts: 'read', ledger: 'read', settlements: 'read', reference: 'read', reconciliation: 'readWrite' },
    startsExecutions: false,
    sendsToDeadLetterQueue: false,
    timeout: Duration.minutes(10),
    memorySizeMiB: 1024,
  },
  {
    id: 'RetryFailedFunction',
    module: 'jobs',
    exportName: 'retryFailed',
    description: 'Scheduled restart of FAILED settlements marked retryable; parks them after the last attempt',
    tables: { settlements: 'readWrite' },
    startsExecutions: true,
    sendsToDeadLetterQueue: true,
    timeout: Duration.minutes(2),
    memorySizeMiB: 512,
  },
  {
    id: 'CleanupFunction',
    module: 'jobs',
    exportName: 'cleanup',
    description: 'Scheduled cleanup of ended operations and expired locks that moved no money',
    // Voiding an expired lock gives the locked amount back on both accounts, like the ReleaseLocks stage.
    tables: stageTables,
    startsExecutions: false,
    // Cleanup parks settlements whose lock expired with money possibly out.
    sendsToDeadLetterQueue: true,
    timeout: Duration.minutes(5),
    memorySizeMiB: 512,
  },
  {
    id: 'RecoverStuckFunction',
    module: 'jobs',
    exportName: 'recoverStuck',
    description: 'Scheduled sweep that restarts settlements stuck in a non-terminal status',
    tables: { settlements: 'readWrite' },
    startsExecutions: true,
    sendsToDeadLetterQueue: false,
    timeout: Duration.minutes(2),
    memorySizeMiB: 512,
  },
];

export type JobExportName = 'reconcile' | 'retryFailed' | 'cleanup' | 'recoverStuck';

export const allFunctions: readonly FunctionSpec[] = [...stageFunctions, apiFunction, ...jobFunctions];
