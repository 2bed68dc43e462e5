/**
 * Entry point of the gRPC shim container (Fargate): SettlementService, health and reflection on GRPC_PORT, against
 * the tables and state machine named by the environment (set by CDK). The configuration is parsed once at start
 * (lambdas/config.ts, runtime `grpc-task`): API keys are required (API_KEYS), the bank adapter and the dead-letter
 * queue must be stated, mutual TLS when GRPC_TLS_CERT, GRPC_TLS_KEY and GRPC_TLS_CLIENT_CA are set (PEM content or
 * file paths). A missing or malformed setting stops the process with the variable named. SIGTERM (ECS stopping the
 * task) drains in-flight calls and flushes metrics before exiting.
 */
import { createDocumentClient } from '../lambdas/adapters/dynamodb/client';
import { settlementApiDeps } from '../lambdas/adapters/grpc/engine-deps';
import { startGrpcServer } from '../lambdas/adapters/grpc/server';
import { composeEngine } from '../lambdas/composition';
import { grpcTaskConfig } from '../lambdas/config';

/** How often buffered EMF metrics are written to stdout (the awslogs driver ships them to CloudWatch). */
const metricsFlushIntervalMs = 60_000;

async function main(): Promise<void> {
  const config = grpcTaskConfig(process.env);
  const engine = composeEngine(config, createDocumentClient());
  const server = await startGrpcServer({
    port: config.grpc.port,
    host: config.grpc.host,
    access: config.access,
    deps: settlementApiDeps({ deps: engine.deps, documentClient: engine.documentClient, settlementsTableName: engine.tables.settlements }),
  });
  console.log(JSON.stringify({ level: 'INFO', message: 'gRPC shim listening', port: server.port, bankAdapter: config.bankAdapter }));
  const flushTimer = setInterval(() => void engine.deps.metrics.flush(), metricsFlushIntervalMs);
  flushTimer.unref();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(flushTimer);
    console.log(JSON.stringify({ level: 'INFO', message: `${signal}: draining in-flight calls`, graceMs: config.grpc.shutdownGraceMs }));
    void server
      .stop(config.grpc.shutdownGraceMs)
      .then(() => engine.deps.metrics.flush())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ level: 'ERROR', message: 'gRPC shim failed to start', error: String(error) }));
  process.exit(1);
});
