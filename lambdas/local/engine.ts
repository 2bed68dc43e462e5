/**
 * The local engine: the same handlers and the same state-machine file as on AWS, against embedded stand-ins
 * (DynamoDB Local, the ASL interpreter, the mock bank), with REST on HTTP_PORT. One start-up path, used by
 * `npm start` and by the tests.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoAccountStore, DynamoReferenceStore } from '../adapters/dynamodb/account-store';
import { tableNamesWithPrefix, type TableNames } from '../adapters/dynamodb/table-definitions';
import { MockBank, type MockRailConfig } from '../adapters/banks/mock-bank';
import { InMemoryDeadLetterQueue } from '../adapters/sqs/dead-letter-queue';
import { ensureTables } from '../adapters/dynamodb/bootstrap';
import { createApiHandler, type ApiDeps, type Route } from '../handlers/http';
import { composeEngine } from '../composition';
import { ConfigurationError, localConfig, type EngineConfig } from '../config';
import { seedWindows } from '../usecases/operations/windows';
import type { EngineLimits, SettlementWindowPort } from '../usecases/deps';
import { apiRoutes } from '../handlers/routes';
import { createStageHandlers } from '../handlers/stage-handlers';
import type { Rail } from '../domain/settlement';
import { noMetrics, systemClock, type Clock, type DeadLetterPort, type MetricsPort } from '../ports';
import { startDynamoDbLocal, localCredentials, localRegion, type DynamoDbLocal } from './dynamodb-local';
import { startHttpServer, type LocalHttpServer } from './http-server';
import { LocalWorkflow, type ExecutionOutcome, type WorkflowStateEvent } from './local-workflow';
import { applySeed, loadSeed, type DemoSeed } from './seed';
import { defaultSettlementWindowMode, type SettlementWindowMode } from '../domain/window-defaults';
import { seedWindowsFor } from './window-calendar';
import { createReconcileJob } from '../handlers/reconcile-job';
import { startReconcileTimer, type ReconcileTimer } from './reconcile-timer';
import type { OperationsLimits } from '../usecases/operations/deps';
import { AccessControl, httpCredentials } from '../adapters/auth/access-control';
import type { AccessConfiguration } from '../adapters/auth/config';
import { settlementApiDeps } from '../adapters/grpc/engine-deps';
import { startGrpcServer, type RunningGrpcServer } from '../adapters/grpc/server';
import type { EventStreamOptions } from '../adapters/grpc/event-stream';
import { startLocalJobs, type LocalJobsOptions, type LocalScheduler } from './scheduler';
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
  readonly tablePrefix?: string;
  /** Demo data to create where missing; false for none. Default config/demo-seed.json. */
  readonly seed?: DemoSeed | false;
  readonly limits?: Partial<EngineLimits>;
  readonly clock?: Clock;
  readonly windows?: SettlementWindowPort;
  readonly metrics?: MetricsPort;
  readonly metricsText?: () => Promise<string>;
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
  readonly grpcEventStream?: Partial<EventStreamOptions>;
  /** Timers for the scheduled jobs (retry, cleanup, recovery; same handlers as EventBridge); false for none. Default on. */
  readonly jobs?: LocalJobsOptions | false;
  /** Dead-letter queue on an SQS emulator (fauxqs) started here; false keeps messages in memory. Default true; unused when `deadLetters` is given. */
  readonly sqs?: boolean;
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
  /** The embedded DynamoDB Local, when this engine started one. */
  readonly dynamo?: DynamoDbLocal;
  /** The job timers, when jobs are on (`jobs.run('retryFailed')` runs one now). */
  readonly jobs?: LocalScheduler;
  /** The SQS-emulated dead-letter queue, when this engine started one. */
  readonly deadLetterQueue?: LocalDeadLetterQueue;
  /** Waits for executions to drain (up to `graceMs`), then stops servers and the database it started. */
  stop(graceMs?: number): Promise<void>;
}

export async function startLocalEngine(options: LocalEngineOptions = {}): Promise<LocalEngine> {
  const dynamo = options.dynamoEndpoint ? undefined : await startDynamoDbLocal({ port: options.dynamoPort, dataDirectory: options.dataDirectory });
  const dynamoEndpoint = options.dynamoEndpoint ?? dynamo!.endpoint;
  const documentClient = createDocumentClient({ endpoint: dynamoEndpoint, region: process.env.AWS_REGION ?? localRegion, credentials: localCredentials });
  const client = documentClient as unknown as DynamoDBClient;
  const baseConfig = options.config ?? localConfig();
  const config: EngineConfig = {
    ...baseConfig,
    ...(options.tablePrefix !== undefined && { tables: tableNamesWithPrefix(options.tablePrefix) }),
    limits: { ...baseConfig.limits, ...options.limits },
    operationsLimits: { ...baseConfig.operationsLimits, ...options.operationsLimits },
  };
  const { tables } = config;
  let httpServer: LocalHttpServer | undefined;
  let grpcServer: RunningGrpcServer | undefined;
  let streamsClient: DynamoDBStreamsClient | undefined;
  let workflow: LocalWorkflow | undefined;
  let deadLetterQueue: LocalDeadLetterQueue | undefined;
  let jobs: LocalScheduler | undefined;
  let reconcileTimer: ReconcileTimer | undefined;
  try {
    await ensureTables(client, tables);
    const clock = options.clock ?? systemClock;
    const accounts = new DynamoAccountStore(documentClient, tables);
    const reference = new DynamoReferenceStore(documentClient, tables);
    const seed = options.seed === undefined ? loadSeed() : options.seed;
    if (seed) await applySeed(seed, { accounts, reference }, clock.now().toISOString());
    if (!options.deadLetters && options.sqs !== false) deadLetterQueue = await startLocalDeadLetterQueue();
    // One rate budget per client across REST and gRPC.
    const accessControl = options.access && new AccessControl(options.access);
    const authenticate = options.authenticate ?? (accessControl && (async (headers: Readonly<Record<string, string>>) => accessControl.admit(httpCredentials(headers)).clientName));
    // The same composition root as on AWS; what differs is passed in explicitly: the ASL interpreter, the emulated
    // (or, with `sqs: false`, in-memory) dead-letter queue, the metrics registry.
    const composed = composeEngine(config, documentClient, {
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
    });
    // The local engine steers the mock bank (demo, tests); another adapter would need its own local stand-in.
    const bank = composed.mockBank;
    if (bank === undefined) throw new ConfigurationError(['BANK_ADAPTER'], [`BANK_ADAPTER ${config.bankAdapter} has no local stand-in; the local engine runs the mock bank`]);
    const { operations } = composed.deps;
    if (seed) await seedWindows(operations.windows, seedWindowsFor(options.windowMode ?? defaultSettlementWindowMode), { actor: 'seed', at: clock.now().toISOString() });
    const deps: ApiDeps = {
      ...composed.deps,
      ...(options.metricsText && { metricsText: options.metricsText }),
      ...(authenticate && { authenticate }),
    };
    const httpPort = options.httpPort === undefined ? 8086 : options.httpPort;
    if (httpPort !== null) {
      const apiHandler = createApiHandler([...apiRoutes, ...(options.routes ?? [])], () => deps);
      httpServer = await startHttpServer(apiHandler, { port: httpPort, host: options.host ?? '127.0.0.1' });
    }
    if (options.grpcPort !== undefined && options.grpcPort !== null) {
      streamsClient = new DynamoDBStreamsClient({ endpoint: dynamoEndpoint, region: process.env.AWS_REGION ?? localRegion, credentials: localCredentials });
      grpcServer = await startGrpcServer({
        port: options.grpcPort,
        host: options.host ?? '127.0.0.1',
        deps: settlementApiDeps({ deps, documentClient, settlementsTableName: tables.settlements, streamsClient }),
        access: options.access ?? { apiKeys: [], rateLimit: { ratePerSecond: 1, burst: 1 }, grpcMessageBytesMax: 64 * 1024, httpBodyBytesMax: 64 * 1024 },
        accessControl,
        eventStream: options.grpcEventStream,
      });
    }
    const startedWorkflow = workflow!;
    if (options.jobs !== false) jobs = startLocalJobs(() => deps, startedWorkflow, options.jobs);
    // The reconciliation schedule (same handler as the EventBridge rule), every operations.limits interval.
    if (options.jobs !== false) reconcileTimer = startReconcileTimer(createReconcileJob(() => deps), operations.limits.reconciliationIntervalSeconds * 1000);
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
      ...(jobs && { jobs }),
      ...(deadLetterQueue && { deadLetterQueue }),
      stop: async (graceMs = 5_000) => {
        await jobs?.stop();
        await reconcileTimer?.stop();
        await grpcServer?.stop(graceMs);
        streamsClient?.destroy();
        await httpServer?.stop();
        await startedWorkflow.stop(graceMs);
        documentClient.destroy();
        await dynamo?.stop();
        await deadLetterQueue?.stop();
      },
    };
  } catch (error) {
    await jobs?.stop();
    await reconcileTimer?.stop();
    await grpcServer?.stop(0);
    streamsClient?.destroy();
    await httpServer?.stop();
    await workflow?.stop(0);
    documentClient.destroy();
    await dynamo?.stop();
    await deadLetterQueue?.stop();
    throw error;
  }
}
