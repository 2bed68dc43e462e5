/**
 * The local engine: the same handlers and the same state-machine file as on AWS, against embedded stand-ins
 * (DynamoDB Local, the ASL interpreter, the mock bank), with REST on HTTP_PORT. One start-up path, used by
 * `npm start` and by the tests.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoSettlementStore } from '../adapters/dynamodb/settlement-store';
import { DynamoAccountStore, DynamoReferenceStore } from '../adapters/dynamodb/account-store';
import { databaseAnswers, ensureTables } from '../adapters/dynamodb/bootstrap';
import { tableNamesWithPrefix, type TableNames } from '../adapters/dynamodb/table-definitions';
import { MockBank, type MockRailConfig } from '../adapters/banks/mock-bank';
import { InMemoryDeadLetterQueue } from '../adapters/sqs/dead-letter-queue';
import { createApiHandler, type ApiDeps, type Route } from '../handlers/http';
import { apiRoutes } from '../handlers/routes';
import { createStageHandlers } from '../handlers/stage-handlers';
import type { Rail } from '../domain/settlement';
import { noMetrics, systemClock, type Clock, type DeadLetterPort, type MetricsPort } from '../ports';
import { alwaysOpenWindows, defaultEngineLimits, type EngineLimits, type SettlementWindowPort } from '../usecases/deps';
import { startDynamoDbLocal, localCredentials, localRegion, type DynamoDbLocal } from './dynamodb-local';
import { startHttpServer, type LocalHttpServer } from './http-server';
import { LocalWorkflow, type ExecutionOutcome } from './local-workflow';
import { applySeed, loadSeed, type DemoSeed } from './seed';

export interface LocalEngineOptions {
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
  /** Extra REST routes (admin, reconciliation) registered beside the core ones. */
  readonly routes?: readonly Route[];
  readonly authenticate?: ApiDeps['authenticate'];
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
  /** The embedded DynamoDB Local, when this engine started one. */
  readonly dynamo?: DynamoDbLocal;
  /** Waits for executions to drain (up to `graceMs`), then stops servers and the database it started. */
  stop(graceMs?: number): Promise<void>;
}

export async function startLocalEngine(options: LocalEngineOptions = {}): Promise<LocalEngine> {
  const dynamo = options.dynamoEndpoint ? undefined : await startDynamoDbLocal({ port: options.dynamoPort, dataDirectory: options.dataDirectory });
  const dynamoEndpoint = options.dynamoEndpoint ?? dynamo!.endpoint;
  const documentClient = createDocumentClient({ endpoint: dynamoEndpoint, region: process.env.AWS_REGION ?? localRegion, credentials: localCredentials });
  const client = documentClient as unknown as DynamoDBClient;
  const tables = tableNamesWithPrefix(options.tablePrefix ?? 'settlement-engine-');
  let httpServer: LocalHttpServer | undefined;
  let workflow: LocalWorkflow | undefined;
  try {
    await ensureTables(client, tables);
    const clock = options.clock ?? systemClock;
    const settlements = new DynamoSettlementStore(documentClient, tables);
    const accounts = new DynamoAccountStore(documentClient, tables);
    const reference = new DynamoReferenceStore(documentClient, tables);
    const seed = options.seed === undefined ? loadSeed() : options.seed;
    if (seed) await applySeed(seed, { accounts, reference }, clock.now().toISOString());
    const bank = new MockBank(clock, options.mockRails);
    // Filled in below: the workflow needs the handlers, which need the deps, which need the workflow.
    let deps!: ApiDeps;
    workflow = new LocalWorkflow(createStageHandlers(() => deps), {
      retryIntervalMs: options.retryIntervalMs,
      confirmationWaitMs: options.confirmationWaitMs,
      onExecutionEnd: options.onExecutionEnd,
    });
    deps = {
      settlements,
      accounts,
      reference,
      windows: options.windows ?? alwaysOpenWindows,
      banks: bank,
      workflow,
      deadLetters: options.deadLetters ?? new InMemoryDeadLetterQueue(),
      metrics: options.metrics ?? noMetrics,
      clock,
      limits: { ...defaultEngineLimits, ...options.limits },
      checkDatabase: () => databaseAnswers(client, tables),
      ...(options.metricsText && { metricsText: options.metricsText }),
      ...(options.authenticate && { authenticate: options.authenticate }),
    };
    const httpPort = options.httpPort === undefined ? 8086 : options.httpPort;
    if (httpPort !== null) {
      const apiHandler = createApiHandler([...apiRoutes, ...(options.routes ?? [])], () => deps);
      httpServer = await startHttpServer(apiHandler, { port: httpPort, host: options.host ?? '127.0.0.1' });
    }
    const startedWorkflow = workflow;
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
      stop: async (graceMs = 5_000) => {
        await httpServer?.stop();
        await startedWorkflow.stop(graceMs);
        documentClient.destroy();
        await dynamo?.stop();
      },
    };
  } catch (error) {
    await httpServer?.stop();
    await workflow?.stop(0);
    documentClient.destroy();
    await dynamo?.stop();
    throw error;
  }
}
