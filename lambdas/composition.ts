/**
 * The composition root: the one place that builds the engine's dependencies, from one validated configuration
 * (lambdas/config.ts). The Lambda handlers (handlers/lambda-deps.ts), the gRPC task (bin/grpc-server.ts) and the
 * local engine (local/engine.ts) all call `composeEngine`; they differ only in the configuration they parse and in
 * what the local engine passes in explicitly (its ASL interpreter, its emulated or in-memory queue, its registry).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BankAdapter, BankGatewaySettings, EngineConfig } from './config';
import type { CompliancePolicy } from './domain/compliance';
import { loadCompliancePolicy } from './adapters/compliance/policy-file';
import { Iso20022GatewayBank, gatewayDefaults } from './adapters/banks/iso20022/gateway-bank';
import { DynamoReturnStore } from './adapters/dynamodb/return-store';
import { DynamoBankMessageJournal } from './adapters/dynamodb/bank-message-store';
import { DynamoStatementInbox } from './adapters/dynamodb/statement-inbox';
import { statementReader } from './adapters/statements/reader';
import type { Rail } from './domain/settlement';
import { DynamoAccountStore, DynamoReferenceStore } from './adapters/dynamodb/account-store';
import { databaseAnswers } from './adapters/dynamodb/bootstrap';
import { DynamoMockBankStore } from './adapters/dynamodb/mock-bank-store';
import { DynamoOperationsStore } from './adapters/dynamodb/operations-store';
import { DynamoReconciliationStore, openingPosting } from './adapters/dynamodb/reconciliation-store';
import { DynamoRecoveryStore } from './adapters/dynamodb/recovery-store';
import { DynamoSettlementStore } from './adapters/dynamodb/settlement-store';
import { DynamoChangeStream, type ChangeStream } from './adapters/events/change-stream';
import { SharedChangeStreamReader, defaultSharedReaderOptions, type SharedReaderOptions } from './adapters/events/shared-reader';
import { defaultEventStreamOptions } from './adapters/grpc/event-stream';
import type { TableNames } from './adapters/dynamodb/table-definitions';
import { MockBank, type MockRailConfig } from './adapters/banks/mock-bank';
import { EmfMetrics } from './adapters/metrics/emf';
import { StepFunctionsWorkflow } from './adapters/sfn/step-functions-workflow';
import { SqsDeadLetterQueue } from './adapters/sqs/dead-letter-queue';
import { InvariantViolationError } from './domain/errors';
import { noMetrics, systemClock, type BankDirectory, type Clock, type DeadLetterPort, type MetricsPort, type WorkflowPort } from './ports';
import type { AccountStore } from './ports/stores';
import type { EngineDeps, SettlementWindowPort } from './usecases/deps';
import { defaultOperationsLimits, type OperationsDeps, type OperationsLimits } from './usecases/operations/deps';
import { StoredWindowPort } from './usecases/operations/windows';

/** The engine's dependencies plus the database probe every edge's health check uses. */
export type ComposedDeps = EngineDeps & { checkDatabase(): Promise<boolean> };

/**
 * What the local engine (and tests) pass in: each `provided` adapter of the configuration must be here, and a
 * deployed configuration provides none, so nothing falls back silently.
 */
export interface ProvidedAdapters {
  readonly clock?: Clock;
  /** Required when `config.metrics.adapter` is `provided`. */
  readonly metrics?: MetricsPort;
  /** Required when `config.deadLetterQueue.adapter` is `provided`. */
  readonly deadLetters?: DeadLetterPort;
  /** Required when `config.workflow.adapter` is `provided`: built once the deps exist (the local interpreter runs the stage handlers on them). */
  readonly workflow?: (deps: () => ComposedDeps) => WorkflowPort;
  /** Replaces the stored settlement windows (tests). */
  readonly windows?: SettlementWindowPort;
  /** Behaviour of the mock bank's rails (tests, demo). */
  readonly mockRails?: Partial<Record<Rail, Partial<MockRailConfig>>>;
  /** The bank gateway of BANK_ADAPTER=iso20022 when the local engine started the simulator itself. */
  readonly bankGateway?: BankGatewaySettings;
  /** Validate's compliance policy; false for none (tests); default: config.compliancePolicyPath, else none. */
  readonly compliance?: CompliancePolicy | false;
  /** The settlements table's change stream (the local engine's, on DynamoDB Local); default: DynamoDB Streams from the environment. */
  readonly changeStream?: ChangeStream;
  /** Settings of the shared change-stream reader (tests shorten the poll). */
  readonly eventReader?: Partial<SharedReaderOptions>;
}

export interface ComposedEngine {
  readonly config: EngineConfig;
  readonly deps: ComposedDeps;
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
  readonly accounts: DynamoAccountStore;
  readonly reference: DynamoReferenceStore;
  /** The mock bank: every rail with `mock`, the MOCK rail with `iso20022` (the local engine and tests steer it). */
  readonly mockBank: MockBank;
  /**
   * The process's one reader of the settlements table's change stream, for every StreamSettlementEvents call, console
   * feed and the last-hour stats. Built and started on first use: a Lambda function that never streams never reads.
   */
  readonly settlementEvents: SharedChangeStreamReader;
  /** Closes the bank gateway's connections (iso20022). */
  close(): void;
  /** Stops the change-stream reader, if it was started (open subscriptions end). */
  stopEvents(): Promise<void>;
}

export function composeEngine(config: EngineConfig, documentClient: DynamoDBDocumentClient, provided: ProvidedAdapters = {}): ComposedEngine {
  const { tables } = config;
  const clock = provided.clock ?? systemClock;
  const accounts = new DynamoAccountStore(documentClient, tables);
  const reference = new DynamoReferenceStore(documentClient, tables);
  const metrics = createMetrics(config, provided);
  const bankMessages = new DynamoBankMessageJournal(documentClient, tables);
  const bank = createBankDirectory(config.bankAdapter, { documentClient, tables, clock, mockRails: provided.mockRails, gateway: provided.bankGateway ?? config.bankGateway, bankMessages });
  const compliance = provided.compliance !== undefined ? provided.compliance || undefined : config.compliancePolicyPath ? loadCompliancePolicy(config.compliancePolicyPath) : undefined;
  const operations = createOperationsDeps({ documentClient, tables, retiringIndexes: config.retiringIndexes, accounts, banks: bank.directory, metrics, clock, limits: config.operationsLimits });
  let workflow: WorkflowPort | undefined;
  const deps: ComposedDeps = {
    settlements: new DynamoSettlementStore(documentClient, tables),
    accounts,
    reference,
    windows: provided.windows ?? new StoredWindowPort(operations.windows, clock, operations.limits.windowCacheSeconds),
    banks: bank.directory,
    bankMessages,
    returns: new DynamoReturnStore(documentClient, tables),
    ...(compliance && { compliance }),
    operations,
    // Resolved on first use: the local interpreter needs these deps to exist before it can be built.
    get workflow(): WorkflowPort {
      workflow ??= createWorkflow(config, provided, () => deps);
      return workflow;
    },
    deadLetters: createDeadLetters(config, provided),
    recovery: new DynamoRecoveryStore(documentClient, tables, config.retiringIndexes),
    metrics,
    clock,
    // EPC SCT names both accounts by IBAN: required on SEPA wherever the rails speak ISO 20022 (not the mock bank).
    limits: { ...config.limits, ibanRequiredRails: config.bankAdapter === 'iso20022' ? ['SEPA'] : config.limits.ibanRequiredRails },
    checkDatabase: () => databaseAnswers(documentClient as unknown as DynamoDBClient, tables),
  };
  // A wiring mistake shows at start, not at the first settlement.
  workflow = createWorkflow(config, provided, () => deps);
  let settlementEvents: SharedChangeStreamReader | undefined;
  const eventReader = () => {
    settlementEvents ??= new SharedChangeStreamReader(provided.changeStream ?? new DynamoChangeStream(new DynamoDBStreamsClient({}), documentClient as unknown as DynamoDBClient, tables.settlements), {
      ...defaultEventStreamOptions,
      pollIntervalMs: sharedReaderPollIntervalMs,
      ...defaultSharedReaderOptions,
      ...provided.eventReader,
    });
    return settlementEvents;
  };
  return {
    config,
    deps,
    documentClient,
    tables,
    accounts,
    reference,
    mockBank: bank.mockBank,
    get settlementEvents() {
      return eventReader();
    },
    close: () => bank.gateway?.close(),
    stopEvents: async () => settlementEvents?.stop(),
  };
}

/**
 * How often the shared reader asks each caught-up shard for new records: four reads a second per shard for the whole
 * process, however many feeds and streams are open (each one used to poll on its own, every 100 to 200 ms).
 */
export const sharedReaderPollIntervalMs = 250;

/**
 * One case per bank adapter of config.ts `bankAdapters` (the switch is exhaustive: a new value does not compile
 * until it is built here).
 */
export function createBankDirectory(
  adapter: BankAdapter,
  input: {
    documentClient: DynamoDBDocumentClient;
    tables: TableNames;
    clock: Clock;
    mockRails?: Partial<Record<Rail, Partial<MockRailConfig>>>;
    gateway?: BankGatewaySettings;
    bankMessages: DynamoBankMessageJournal;
  },
): { directory: BankDirectory; mockBank: MockBank; gateway?: Iso20022GatewayBank } {
  // Its record of transfers lives in the reference table: shared by every function, and it survives a restart.
  const mockBank = new MockBank(input.clock, input.mockRails, new DynamoMockBankStore(input.documentClient, input.tables));
  // The mock bank's book starts each nostro at the amount it was opened with (mock-statements.ts).
  mockBank.statementBook.useOpeningBalances((accountId) => openingPosting(input.documentClient, input.tables, accountId));
  switch (adapter) {
    case 'mock':
      return { directory: mockBank, mockBank };
    case 'iso20022': {
      // SWIFT, SEPA and ACH go to the bank gateway over mutual TLS (docs/rails.md); the MOCK rail stays on the mock.
      if (input.gateway === undefined) throw new InvariantViolationError('composition: BANK_ADAPTER=iso20022 needs the gateway settings (config.bankGateway)');
      const gateway = new Iso20022GatewayBank({ ...gatewayDefaults, ...input.gateway }, input.bankMessages, input.clock, mockBank);
      return { directory: gateway, mockBank, gateway };
    }
    default: {
      const unknown: never = adapter;
      throw new InvariantViolationError(`bank adapter ${String(unknown)} is not built by the composition root`);
    }
  }
}

/** Correspondent statements arrive on the SWIFT rail's client (MT940/camt.053); the mock serves every rail. */
export const statementRail = 'SWIFT';

/** The operations dependencies over DynamoDB (banks, accounts, windows, reconciliation). */
export function createOperationsDeps(input: {
  documentClient: DynamoDBDocumentClient;
  tables: TableNames;
  retiringIndexes: readonly string[];
  accounts: Pick<AccountStore, 'list' | 'rebalanceShards' | 'splitShards'>;
  banks: BankDirectory;
  metrics: MetricsPort;
  clock: Clock;
  limits?: Partial<OperationsLimits>;
}): OperationsDeps {
  const store = new DynamoOperationsStore(input.documentClient, input.tables);
  const reconciliations = new DynamoReconciliationStore(input.documentClient, input.tables, input.retiringIndexes);
  return {
    bankRegistry: store,
    accountAdmin: store,
    accountList: input.accounts,
    accountShards: input.accounts,
    audit: store,
    proposals: store,
    windows: store,
    reconciliations,
    ledger: reconciliations,
    statements: { statement: (request) => input.banks.forRail(statementRail).statement(request) },
    statementInbox: new DynamoStatementInbox(input.documentClient, input.tables),
    statementReader,
    metrics: input.metrics,
    clock: input.clock,
    limits: { ...defaultOperationsLimits, ...input.limits },
  };
}

function createMetrics(config: EngineConfig, provided: ProvidedAdapters): MetricsPort {
  switch (config.metrics.adapter) {
    case 'emf':
      return new EmfMetrics({ namespace: config.metrics.namespace, serviceName: config.metrics.serviceName });
    case 'none':
      return noMetrics;
    case 'provided':
      return required(provided.metrics, 'metrics');
  }
}

function createDeadLetters(config: EngineConfig, provided: ProvidedAdapters): DeadLetterPort {
  switch (config.deadLetterQueue.adapter) {
    case 'sqs':
      return new SqsDeadLetterQueue(new SQSClient({}), config.deadLetterQueue.url);
    case 'provided':
      return required(provided.deadLetters, 'deadLetters');
  }
}

function createWorkflow(config: EngineConfig, provided: ProvidedAdapters, deps: () => ComposedDeps): WorkflowPort {
  switch (config.workflow.adapter) {
    case 'step-functions':
      return new StepFunctionsWorkflow(new SFNClient({}), config.workflow.stateMachineArn);
    case 'none':
      // The stage functions are named by the state machine, so they cannot be told its ARN; none of them starts one.
      return {
        startSettlement: async () => {
          throw new InvariantViolationError('this function starts no executions (no STATE_MACHINE_ARN): a stage or job that should not have called it did');
        },
      };
    case 'provided':
      return required(provided.workflow, 'workflow')(deps);
  }
}

function required<T>(value: T | undefined, name: keyof ProvidedAdapters): T {
  if (value === undefined) throw new InvariantViolationError(`composition: the configuration says the ${name} adapter is provided, and none was passed`);
  return value;
}
