/**
 * Entry point of the gRPC shim container (Fargate): SettlementService, health and reflection on GRPC_PORT,
 * against the tables and state machine named by the environment (set by CDK). API keys are required here
 * (API_KEYS); mutual TLS when GRPC_TLS_CERT, GRPC_TLS_KEY and GRPC_TLS_CLIENT_CA are set. SIGTERM (ECS stopping
 * the task) drains in-flight calls before exiting.
 */
import { readAccessConfiguration } from '../lambdas/adapters/auth/config';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/client';
import { settlementApiDeps } from '../lambdas/adapters/grpc/engine-deps';
import { startGrpcServer, streamLimitsFromEnvironment } from '../lambdas/adapters/grpc/server';
import { positiveInteger, tableNamesFromEnvironment } from '../lambdas/config';
import { lambdaDeps } from '../lambdas/handlers/lambda-deps';

async function main(): Promise<void> {
  const env = process.env;
  const server = await startGrpcServer({
    port: positiveInteger(env, 'GRPC_PORT', 50056),
    host: env.HOST ?? '0.0.0.0',
    access: readAccessConfiguration(env, { developmentKeyWhenUnset: false }),
    ...streamLimitsFromEnvironment(env),
    deps: settlementApiDeps({ deps: lambdaDeps(env), documentClient: createDocumentClient(), settlementsTableName: tableNamesFromEnvironment(env).settlements }),
  });
  console.log(JSON.stringify({ level: 'INFO', message: 'gRPC shim listening', port: server.port }));
  const graceMs = positiveInteger(env, 'SHUTDOWN_GRACE_MS', 20_000);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ level: 'INFO', message: `${signal}: draining in-flight calls`, graceMs }));
    void server.stop(graceMs).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ level: 'ERROR', message: 'gRPC shim failed to start', error: String(error) }));
  process.exit(1);
});
