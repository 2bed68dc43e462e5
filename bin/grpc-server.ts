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
import { startGrpcServer, streamLimitsFromEnvironment } from '../lambdas/adapters/grpc/server';
import { flushPeriodically } from '../lambdas/adapters/metrics/emf';
import { composeEngine } from '../lambdas/composition';
import { grpcTaskConfig } from '../lambdas/config';

async function main(): Promise<void> {
  const config = grpcTaskConfig(process.env);
  const engine = composeEngine(config, createDocumentClient());
  const server = await startGrpcServer({
    port: config.grpc.port,
    host: config.grpc.host,
    access: config.access,
    ...streamLimitsFromEnvironment(process.env),
    deps: settlementApiDeps({ deps: engine.deps, events: engine.settlementEvents }),
  });
  console.log(JSON.stringify({ level: 'INFO', message: 'gRPC shim listening', port: server.port, bankAdapter: config.bankAdapter }));
  // Buffered EMF metrics go to stdout every minute and once more on the way out (the awslogs driver ships them).
  const metricsFlush = flushPeriodically(engine.deps.metrics);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ level: 'INFO', message: `${signal}: draining in-flight calls`, graceMs: config.grpc.shutdownGraceMs }));
    void server
      .stop(config.grpc.shutdownGraceMs)
      .then(() => metricsFlush.stop())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ level: 'ERROR', message: 'gRPC shim failed to start', error: String(error) }));
  process.exit(1);
});
