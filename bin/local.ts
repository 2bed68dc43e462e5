/**
 * `npm start`: the whole engine on this machine. Configuration by environment variables (README.md).
 */
import { startLocalEngine } from '../lambdas/local/engine';
import { parseSettlementWindowMode } from '../lambdas/domain/window-defaults';
import { JavaMissingError } from '../lambdas/local/dynamodb-local';
import { httpServerLimitsFromEnvironment, metricsAddressFromEnvironment } from '../lambdas/local/http-server';
import { streamLimitsFromEnvironment } from '../lambdas/adapters/grpc/server';
import { localJobsFromEnvironment } from '../lambdas/local/scheduler';
import { bankAdapterFromEnvironment, bankGatewayFromEnvironment, localConfig, positiveInteger, type BankGatewaySettings } from '../lambdas/config';
import { startSimulatorProcess, type SimulatorProcess } from '../lambdas/local/bank-simulator-process';
import { readFileSync } from 'node:fs';
import { readAccessConfiguration } from '../lambdas/adapters/auth/config';
import { PrometheusMetrics } from '../lambdas/adapters/metrics/prometheus';
import { accountBalanceSamples } from '../lambdas/adapters/metrics/balances';
import type { LocalEngine } from '../lambdas/local/engine';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const developmentKeyPath = '.data/dev-api-key';

async function main(): Promise<void> {
  const env = process.env;
  // Parsed once: a malformed setting stops the engine here, naming the variable.
  const config = localConfig(env);
  const statementFolderDirectory = env.STATEMENT_INBOX_DIR ?? '.data/statements';
  // API_KEYS unset: a development key is generated for this run and printed below.
  const access = readAccessConfiguration(env, { developmentKeyWhenUnset: true });
  let started: LocalEngine | undefined;
  const metrics = new PrometheusMetrics({ balances: async () => (started ? accountBalanceSamples(started.accounts) : []) });
  // npm start speaks ISO 20022 to the bank simulator (a child process) unless BANK_ADAPTER=mock or a gateway is given.
  let simulator: SimulatorProcess | undefined;
  let bankGateway: BankGatewaySettings | undefined;
  if (bankAdapterFromEnvironment(env, 'iso20022') === 'iso20022') {
    if (env.BANK_GATEWAY_URL) bankGateway = bankGatewayFromEnvironment(env, (path) => readFileSync(path, 'utf8'));
    else {
      simulator = await startSimulatorProcess(env);
      bankGateway = { ...simulator.gateway, networkBic: env.NETWORK_BIC ?? 'DELTGB2L', requestTimeoutMs: positiveInteger(env, 'BANK_GATEWAY_TIMEOUT_MS', 10_000) };
    }
  }
  const engine = await startLocalEngine({
    config,
    grpcPort: env.GRPC_PORT === undefined ? 50056 : positiveInteger(env, 'GRPC_PORT', 50056),
    access,
    metrics,
    metricsText: async () => (await metrics.render()).body,
    // Unset: /metrics on the REST port, behind the API key. Set: on this address alone, without a key.
    metricsAddress: metricsAddressFromEnvironment(env),
    httpLimits: httpServerLimitsFromEnvironment(env),
    grpcStreamLimits: streamLimitsFromEnvironment(env),
    httpPort: env.HTTP_PORT === undefined ? 8086 : positiveInteger(env, 'HTTP_PORT', 8086),
    host: env.HOST ?? '127.0.0.1',
    dynamoEndpoint: env.AWS_ENDPOINT_URL,
    dynamoPort: env.DYNAMODB_LOCAL_PORT ? positiveInteger(env, 'DYNAMODB_LOCAL_PORT', 8000) : undefined,
    dataDirectory: env.DATA_DIR ?? '.data/dynamodb',
    // Concurrent settlements' writes as one transaction and reads as one batch: DynamoDB Local's cost is per call.
    groupCommit: env.DYNAMODB_GROUP_COMMIT !== 'off',
    // Windows the seed writes where missing: always-open (default) or the calendars of config/windows.json.
    windowMode: parseSettlementWindowMode(env.SETTLEMENT_WINDOWS),
    // Retry, cleanup and recovery timers (a start-up sweep resumes what a killed process left in flight).
    jobs: localJobsFromEnvironment(env),
    // The S3 statement bucket's stand-in: files dropped under incoming/<BIC>/<currency>/ are imported.
    statementFolder: { directory: statementFolderDirectory },
    ...(bankGateway && { bankGateway }),
  }).catch(async (error: unknown) => {
    await simulator?.stop();
    throw error;
  });
  started = engine;
  if (access.developmentKey) {
    // Also left where scripts (and the README's examples) can read it: KEY=$(cat .data/dev-api-key).
    mkdirSync(dirname(developmentKeyPath), { recursive: true });
    writeFileSync(developmentKeyPath, `${access.developmentKey.key}\n`, { mode: 0o600 });
  }
  console.log(
    [
      'Settlement Engine is running (local stack).',
      `  REST      ${engine.httpUrl}   (GET /health, GET /metrics, POST /api/v1/settlements, ...)`,
      ...(engine.metricsPort !== undefined ? [`  Metrics   http://${metricsAddressFromEnvironment(env)!.host}:${engine.metricsPort}/metrics   (METRICS_ADDRESS, no key)`] : []),
      `  gRPC      ${env.HOST ?? '127.0.0.1'}:${engine.grpcPort}   (deltran.settlement.v1.SettlementService, health, reflection)`,
      access.developmentKey
        ? `  API key   ${access.developmentKey.key}   (development key for this run, also in ${developmentKeyPath}; set API_KEYS for real ones, see README)`
        : `  API keys  ${access.apiKeys.length} configured from API_KEYS`,
      `  DynamoDB  ${engine.dynamoEndpoint}${engine.dynamo ? `   (DynamoDB Local, data in ${env.DATA_DIR ?? '.data/dynamodb'})` : ''}`,
      `  Workflow  statemachines/settlement-express.asl.json (fast path) and settlement.asl.json (Standard) in the local ASL interpreter`,
      `  Statements dropped into ${statementFolderDirectory}/incoming/<BIC>/<currency>/<name>.xml|.csv are imported (STATEMENT_INBOX_DIR)`,
      bankGateway
        ? `  Banks     ISO 20022 over mutual TLS to ${bankGateway.url}${simulator ? ' (bank simulator, a child process)' : ''}; MOCK rail in process`
        : '  Banks     in-process mock bank (BANK_ADAPTER=mock)',
      'Press Ctrl+C to stop.',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: draining in-flight settlements, then stopping...`);
    await engine.stop(10_000);
    await simulator?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof JavaMissingError) console.error(error.message);
  else console.error('Settlement Engine failed to start:', error);
  process.exit(1);
});
