/**
 * Entry point of the gRPC shim container (Fargate): SettlementService, health and reflection on GRPC_PORT, against
 * the tables and state machine named by the environment (set by CDK). The configuration is parsed once at start
 * (lambdas/config.ts, runtime `grpc-task`): API keys are required (API_KEYS), the bank adapter and the dead-letter
 * queue must be stated, mutual TLS when GRPC_TLS_CERT, GRPC_TLS_KEY and GRPC_TLS_CLIENT_CA are set (PEM content or
 * file paths). A missing or malformed setting stops the process with the variable named. SIGTERM (ECS stopping the
 * task) drains in-flight calls and flushes metrics before exiting.
 *
 * With CONSOLE_FEED_PORT (the console stack deployed), it also serves the console's live feed and last-hour stats
 * over HTTP on that port (lambdas/handlers/feed-server.ts), checking each request's Cognito ID token itself. gRPC
 * streams, feeds and stats all read the settlements table's change stream through the one shared reader the
 * composition root builds.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { cognitoTokenAuthenticator, signInFromParameter } from '../lambdas/adapters/auth/cognito-tokens';
import { createEventFeed } from '../lambdas/handlers/event-feed';
import { startFeedServer, type FeedServer } from '../lambdas/handlers/feed-server';
import { auditRefusal } from '../lambdas/usecases/operations/audit';
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
  let feedServer: FeedServer | undefined;
  const feed =
    config.consoleFeed &&
    createEventFeed({
      events: engine.settlementEvents,
      authenticate: cognitoTokenAuthenticator(signInFromParameter(new SSMClient({}), config.consoleFeed.signInParameter)),
      auditRefusal: (error, call) => auditRefusal(engine.deps, error, call),
    });
  if (config.consoleFeed && feed) {
    feedServer = await startFeedServer({ port: config.consoleFeed.port, host: config.grpc.host, handlers: feed.handlers });
    console.log(JSON.stringify({ level: 'INFO', message: 'console feed listening', port: feedServer.port }));
  }
  // Buffered EMF metrics go to stdout every minute and once more on the way out (the awslogs driver ships them).
  const metricsFlush = flushPeriodically(engine.deps.metrics);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ level: 'INFO', message: `${signal}: draining in-flight calls`, graceMs: config.grpc.shutdownGraceMs }));
    void server
      .stop(config.grpc.shutdownGraceMs)
      .then(() => feed?.stop())
      .then(() => feedServer?.stop())
      .then(() => engine.stopEvents())
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
