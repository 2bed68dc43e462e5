/**
 * The local engine: the same handlers and the same state-machine file as on AWS, against embedded stand-ins
 * (DynamoDB Local, the ASL interpreter, the mock bank), with REST on HTTP_PORT. One start-up path, used by
 * `npm start` and by the tests.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keyNamesByTable, withGroupCommit, type GroupCommitStats } from '../adapters/dynamodb/group-commit';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoAccountStore, DynamoReferenceStore } from '../adapters/dynamodb/account-store';
import { tableNamesWithPrefix, type TableNames } from '../adapters/dynamodb/table-definitions';
import { MockBank, type MockRailConfig } from '../adapters/banks/mock-bank';
import { InMemoryDeadLetterQueue } from '../adapters/sqs/dead-letter-queue';
import { ensureTables, type EnsureTablesOptions } from '../adapters/dynamodb/bootstrap';
import { createApiHandler, createPreflight, type ApiDeps, type Route } from '../handlers/http';
import { composeEngine } from '../composition';
import { localConfig, type BankGatewaySettings, type EngineConfig } from '../config';
import type { CompliancePolicy } from '../domain/compliance';
import { loadCompliancePolicy } from '../adapters/compliance/policy-file';
import { seedWindows } from '../usecases/operations/windows';
import type { EngineLimits, SettlementWindowPort } from '../usecases/deps';
import { apiRoutes } from '../handlers/routes';
import { createStageHandlers } from '../handlers/stage-handlers';
import type { Rail } from '../domain/settlement';
import { noMetrics, systemClock, type Clock, type DeadLetterPort, type MetricsPort } from '../ports';
import { startDynamoDbLocal, localCredentials, localRegion, type DynamoDbLocal } from './dynamodb-local';
import { startHttpServer, startMetricsServer, type HttpServerLimits, type LocalHttpServer } from './http-server';
import { LocalWorkflow, type ExecutionOutcome, type WorkflowStateEvent } from './local-workflow';
import { applySeed, loadSeed, type DemoSeed } from './seed';
import { defaultSettlementWindowMode, type SettlementWindowMode } from '../domain/window-defaults';
import { seedWindowsFor } from './window-calendar';
import { createReconcileJob } from '../handlers/reconcile-job';
import { startStatementFolder, type StatementFolder, type StatementFolderOptions } from './statement-folder';
import { statementContentBytesMax } from '../adapters/statements/reader';
import { startReconcileTimer, type ReconcileTimer } from './reconcile-timer';
import type { OperationsLimits } from '../usecases/operations/deps';
import { AccessControl, httpCredentials } from '../adapters/auth/access-control';
import type { AccessConfiguration } from '../adapters/auth/config';
import { settlementApiDeps } from '../adapters/grpc/engine-deps';
import { startGrpcServer, type RunningGrpcServer } from '../adapters/grpc/server';
import type { SharedReaderOptions } from '../adapters/events/shared-reader';
import { startLocalJobs, type LocalJobsOptions, type LocalScheduler } from './scheduler';
import { createEventFeed, type EventFeed } from '../handlers/event-feed';
import { DynamoChangeStream } from '../adapters/events/change-stream';
import { auditRefusal } from '../usecases/operations/audit';
import { consoleRoutes } from '../handlers/routes/console-routes';
import { startLocalDeadLetterQueue, type LocalDeadLetterQueue } from './sqs-emulator';

export interface LocalEngineOptions {
  /** The parsed local configuration (`localConfig(process.env)` in bin/local.ts); default `localConfig()`. The options below override parts of it. */
  readonly config?: EngineConfig;
  /** REST port; 0 picks a free one; null serves no HTTP. Default 8086. */
  readonly httpPort?: number | null;
  readonly host?: string;
  /** An existing DynamoDB endpoint (AWS_ENDPOINT_URL, LocalStack, a shared test server); else DynamoDB Local is started. */
  readonly dynamoEndpoint?: string;
  /** Port of the embedded DynamoDB Local; default a free port. */
  readonly dynamoPort?: number;
  /** Where the embedded DynamoDB Local keeps its data; undefined keeps it in memory. */
  readonly dataDirectory?: string;
  /**
   * Group commit on DynamoDB Local (adapters/dynamodb/group-commit.ts): concurrent writes of unrelated settlements
   * as one transaction, concurrent consistent reads as one batch. Default true; false sends every call as the stores
   * make it, as on AWS (the capacity model counts those).
   */
  readonly groupCommit?: boolean;
  /** Counters of the group commit (the bench prints them). */
  readonly groupCommitStats?: GroupCommitStats;
  readonly tablePrefix?: string;
  /** Demo data to create where missing; false for none. Default config/demo-seed.json. */
  readonly seed?: DemoSeed | false;
  readonly limits?: Partial<EngineLimits>;
  readonly clock?: Clock;
  readonly windows?: SettlementWindowPort;
  readonly metrics?: MetricsPort;
  readonly metricsText?: () => Promise<string>;
  /** Serve GET /metrics without credentials on this address instead of on the REST port (which then needs a key for it). */
  readonly metricsAddress?: { readonly host: string; readonly port: number };
  /** Timeouts and connection caps of the REST server. */
  readonly httpLimits?: Partial<HttpServerLimits>;
  /** Event streams (gRPC) at once, overall and per client. */
  readonly grpcStreamLimits?: { readonly activeStreamsMax?: number; readonly activeStreamsPerClientMax?: number };
  readonly deadLetters?: DeadLetterPort;
  readonly mockRails?: Partial<Record<Rail, Partial<MockRailConfig>>>;
  /** Overrides every Retry interval of the state machine (ms): tests make backoff instant. */
  readonly retryIntervalMs?: number;
  /** Overrides the confirmation Wait (ms). */
  readonly confirmationWaitMs?: number;
  readonly onExecutionEnd?: (outcome: ExecutionOutcome) => void;
  /** Every state entered and Task retried by the local workflow (the bench's capacity model). */
  readonly onStateEvent?: (event: WorkflowStateEvent) => void;
  /** Settlement windows the seed writes where missing: `always-open` (default) or the `calendar` of config/windows.json. */
  readonly windowMode?: SettlementWindowMode;
  readonly operationsLimits?: Partial<OperationsLimits>;
  /** Extra REST routes (admin, reconciliation) registered beside the core ones. */
  readonly routes?: readonly Route[];
  readonly authenticate?: ApiDeps['authenticate'];
  /** gRPC port (SettlementService, health, reflection); 0 picks a free one; null or absent serves no gRPC. */
  readonly grpcPort?: number | null;
  /**
   * API keys, rate limit, message limits and gRPC mTLS for both APIs (lambdas/adapters/auth/config.ts). Absent:
   * REST stays open (unless `authenticate` is given) and gRPC, when served, refuses every call to SettlementService.
   */
  readonly access?: AccessConfiguration;
  /** Settings of the process's shared change-stream reader (served to gRPC streams and the console feed); tests shorten the poll. */
  readonly grpcEventStream?: Partial<SharedReaderOptions>;
  /** Timers for the scheduled jobs (retry, cleanup, recovery; same handlers as EventBridge); false for none. Default on. */
  readonly jobs?: LocalJobsOptions | false;
  /** The watched statement folder (the S3 statement bucket's stand-in, local/statement-folder.ts); absent: none. */
  readonly statementFolder?: { readonly directory: string } & StatementFolderOptions;
  /** Dead-letter queue on an SQS emulator (fauxqs) started here; false keeps messages in memory. Default true; unused when `deadLetters` is given. */
  readonly sqs?: boolean;
  /**
   * The ISO 20022 bank gateway (the bank simulator locally, a bank's gateway in production) for SWIFT, SEPA and ACH;
   * given: BANK_ADAPTER=iso20022. Absent: the configuration's adapter (the in-process mock bank in tests).
   */
  readonly bankGateway?: BankGatewaySettings;
  /** Compliance policy of Validate; default config/compliance.json (sample sanctions list); false for none. */
  readonly compliance?: CompliancePolicy | false;
  /**
   * `with-retiring`: tables created now get the retiring indexes as well, the shape a deployment from an earlier
   * release has (tests of reading items written before). Default: without them (a new table holds no such item).
   */
  readonly retiringIndexes?: EnsureTablesOptions['retiring'];
}

export interface LocalEngine {
  readonly deps: ApiDeps;
  readonly tables: TableNames;
  readonly documentClient: DynamoDBDocumentClient;
  readonly dynamoEndpoint: string;
  readonly bank: MockBank;
  readonly workflow: LocalWorkflow;
  readonly accounts: DynamoAccountStore;
  readonly reference: DynamoReferenceStore;
  readonly httpUrl?: string;
  readonly httpPort?: number;
  readonly grpcPort?: number;
  /** Port of the metrics-only listener, when METRICS_ADDRESS asked for one. */
  readonly metricsPort?: number;
  /** The embedded DynamoDB Local, when this engine started one. */
  readonly dynamo?: DynamoDbLocal;
  /** The job timers, when jobs are on (`jobs.run('retryFailed')` runs one now). */
  readonly jobs?: LocalScheduler;
  /** The watched statement folder, when one was asked for. */
  readonly statementFolder?: StatementFolder;
  /** The SQS-emulated dead-letter queue, when this engine started one. */
  readonly deadLetterQueue?: LocalDeadLetterQueue;
  /** Waits for executions to drain (up to `graceMs`), then stops servers and the database it started. */
  stop(graceMs?: number): Promise<void>;
}

export async function startLocalEngine(options: LocalEngineOptions = {}): Promise<LocalEngine> {
  const dynamo = options.dynamoEndpoint ? undefined : await startDynamoDbLocal({ port: options.dynamoPort, dataDirectory: options.dataDirectory });
  const dynamoEndpoint = options.dynamoEndpoint ?? dynamo!.endpoint;
  const baseConfig = options.config ?? localConfig();
  const config: EngineConfig = {
    ...baseConfig,
    ...(options.tablePrefix !== undefined && { tables: tableNamesWithPrefix(options.tablePrefix) }),
    ...(options.bankGateway && { bankAdapter: 'iso20022' as const, bankGateway: options.bankGateway }),
    limits: { ...baseConfig.limits, ...options.limits },
    operationsLimits: { ...baseConfig.operationsLimits, ...options.operationsLimits },
  };
  const { tables } = config;
  const directClient = createDocumentClient({ endpoint: dynamoEndpoint, region: process.env.AWS_REGION ?? localRegion, credentials: localCredentials });
  const documentClient = options.groupCommit === false ? directClient : withGroupCommit(directClient, keyNamesByTable(tables), options.groupCommitStats);
  const client = directClient as unknown as DynamoDBClient;
  let httpServer: LocalHttpServer | undefined;
  let metricsServer: LocalHttpServer | undefined;
  let grpcServer: RunningGrpcServer | undefined;
  let streamsClient: DynamoDBStreamsClient | undefined;
  let workflow: LocalWorkflow | undefined;
  let closeBanks: (() => void) | undefined;
  let deadLetterQueue: LocalDeadLetterQueue | undefined;
  let jobs: LocalScheduler | undefined;
  let reconcileTimer: ReconcileTimer | undefined;
  let eventFeed: EventFeed | undefined;
  let stopEvents: (() => Promise<void>) | undefined;
  let statementFolder: StatementFolder | undefined;
  try {
    const retiringIndexes = await ensureTables(client, tables, { retiring: options.retiringIndexes ?? 'without-retiring' });
    const clock = options.clock ?? systemClock;
    const accounts = new DynamoAccountStore(documentClient, tables);
    const reference = new DynamoReferenceStore(documentClient, tables);
    const seed = options.seed === undefined ? loadSeed() : options.seed;
    if (seed) await applySeed(seed, { accounts, reference }, clock.now().toISOString());
    if (!options.deadLetters && options.sqs !== false) deadLetterQueue = await startLocalDeadLetterQueue();
    // One rate budget per client across REST and gRPC.
    const accessControl = options.access && new AccessControl(options.access);
    const authenticate = options.authenticate ?? (accessControl && (async (headers: Readonly<Record<string, string>>) => accessControl.admit(httpCredentials(headers))));
    // The same composition root as on AWS; what differs is passed in explicitly: the ASL interpreter, the emulated
    // (or, with `sqs: false`, in-memory) dead-letter queue, the metrics registry.
    const composed = composeEngine({ ...config, retiringIndexes }, documentClient, {
      clock,
      metrics: options.metrics ?? noMetrics,
      deadLetters: options.deadLetters ?? deadLetterQueue?.deadLetters ?? new InMemoryDeadLetterQueue(),
      workflow: (engineDeps) =>
        (workflow = new LocalWorkflow(createStageHandlers(engineDeps), {
          retryIntervalMs: options.retryIntervalMs,
          confirmationWaitMs: options.confirmationWaitMs,
          onExecutionEnd: options.onExecutionEnd,
          onStateEvent: options.onStateEvent,
        })),
      ...(options.windows && { windows: options.windows }),
      ...(options.mockRails && { mockRails: options.mockRails }),
      compliance: options.compliance ?? loadCompliancePolicy(),
      // DynamoDB Local serves the settlements table's change stream on its own endpoint.
      changeStream: new DynamoChangeStream(
        (streamsClient = new DynamoDBStreamsClient({ endpoint: dynamoEndpoint, region: process.env.AWS_REGION ?? localRegion, credentials: localCredentials })),
        client,
        tables.settlements,
      ),
      ...(options.grpcEventStream && { eventReader: options.grpcEventStream }),
    });
    closeBanks = composed.close;
    stopEvents = composed.stopEvents;
    // The local engine steers the mock bank (demo, tests): every rail with `mock`, the MOCK rail with `iso20022`.
    const bank = composed.mockBank;
    const { operations } = composed.deps;
    if (seed) await seedWindows(operations.windows, seedWindowsFor(options.windowMode ?? defaultSettlementWindowMode), { actor: 'seed', at: clock.now().toISOString() });
    const deps: ApiDeps = {
      ...composed.deps,
      ...(options.metricsText && !options.metricsAddress && { metricsText: options.metricsText }),
      ...(authenticate && { authenticate }),
    };
    const httpPort = options.httpPort === undefined ? 8086 : options.httpPort;
    if (httpPort !== null) {
      // The console (page, script, live feed, stats) is served beside the API by this process.
      const routes = [...apiRoutes, ...consoleRoutes, ...(options.routes ?? [])];
      const apiHandler = createApiHandler(routes, () => deps);
      eventFeed = createEventFeed({
        events: composed.settlementEvents,
        ...(accessControl && { authenticate: (headers: Readonly<Record<string, string>>) => accessControl.admit(httpCredentials(headers)) }),
        auditRefusal: (error, call) => auditRefusal(deps, error, call),
      });
      httpServer = await startHttpServer(apiHandler, { port: httpPort, host: options.host ?? '127.0.0.1', preflight: createPreflight(routes, () => deps), limits: options.httpLimits, rawHandlers: eventFeed.handlers });
    }
    if (options.metricsAddress && options.metricsText) metricsServer = await startMetricsServer(options.metricsText, options.metricsAddress);
    if (options.grpcPort !== undefined && options.grpcPort !== null) {
      grpcServer = await startGrpcServer({
        port: options.grpcPort,
        host: options.host ?? '127.0.0.1',
        deps: settlementApiDeps({ deps, events: composed.settlementEvents }),
        access: options.access ?? { apiKeys: [], rateLimit: { ratePerSecond: 1, burst: 1 }, grpcMessageBytesMax: 64 * 1024, httpBodyBytesMax: 64 * 1024 },
        accessControl,
        ...options.grpcStreamLimits,
      });
    }
    const startedWorkflow = workflow!;
    if (options.jobs !== false) jobs = startLocalJobs(() => deps, startedWorkflow, options.jobs);
    // The reconciliation schedule (same handler as the EventBridge rule), every operations.limits interval.
    if (options.jobs !== false) reconcileTimer = startReconcileTimer(createReconcileJob(() => deps), operations.limits.reconciliationIntervalSeconds * 1000);
    if (options.statementFolder) {
      const { directory, ...folderOptions } = options.statementFolder;
      statementFolder = await startStatementFolder(directory, () => operations, statementContentBytesMax, folderOptions);
    }
    return {
      deps,
      tables,
      documentClient,
      dynamoEndpoint,
      bank,
      workflow: startedWorkflow,
      accounts,
      reference,
      ...(httpServer && { httpUrl: `http://${options.host ?? '127.0.0.1'}:${httpServer.port}`, httpPort: httpServer.port }),
      ...(dynamo && { dynamo }),
      ...(grpcServer && { grpcPort: grpcServer.port }),
      ...(metricsServer && { metricsPort: metricsServer.port }),
      ...(jobs && { jobs }),
      ...(statementFolder && { statementFolder }),
      ...(deadLetterQueue && { deadLetterQueue }),
      stop: async (graceMs = 5_000) => {
        await statementFolder?.stop();
        await jobs?.stop();
        await reconcileTimer?.stop();
        await grpcServer?.stop(graceMs);
        await eventFeed?.stop();
        await stopEvents?.();
        streamsClient?.destroy();
        await httpServer?.stop();
        await metricsServer?.stop();
        await startedWorkflow.stop(graceMs);
        closeBanks?.();
        documentClient.destroy();
        await dynamo?.stop();
        await deadLetterQueue?.stop();
      },
    };
  } catch (error) {
    await statementFolder?.stop();
    await jobs?.stop();
    await reconcileTimer?.stop();
    await grpcServer?.stop(0);
    await eventFeed?.stop();
    await stopEvents?.();
    streamsClient?.destroy();
    await httpServer?.stop();
    await metricsServer?.stop();
    await workflow?.stop(0);
    closeBanks?.();
    documentClient.destroy();
    await dynamo?.stop();
    await deadLetterQueue?.stop();
    throw error;
  }
}
