/**
 * `npm start`: the whole engine on this machine. Configuration by environment variables (README.md).
 */
import { startLocalEngine } from '../lambdas/local/engine';
import { JavaMissingError } from '../lambdas/local/dynamodb-local';
import { positiveInteger } from '../lambdas/config';

async function main(): Promise<void> {
  const env = process.env;
  const engine = await startLocalEngine({
    httpPort: env.HTTP_PORT === undefined ? 8086 : positiveInteger(env, 'HTTP_PORT', 8086),
    host: env.HOST ?? '127.0.0.1',
    dynamoEndpoint: env.AWS_ENDPOINT_URL,
    dynamoPort: env.DYNAMODB_LOCAL_PORT ? positiveInteger(env, 'DYNAMODB_LOCAL_PORT', 8000) : undefined,
    dataDirectory: env.DATA_DIR ?? '.data/dynamodb',
    tablePrefix: env.TABLE_PREFIX,
  });
  console.log(
    [
      'Settlement Engine is running (local stack).',
      `  REST      ${engine.httpUrl}   (GET /health, POST /api/v1/settlements, ...)`,
      `  DynamoDB  ${engine.dynamoEndpoint}${engine.dynamo ? `   (DynamoDB Local, data in ${env.DATA_DIR ?? '.data/dynamodb'})` : ''}`,
      `  Workflow  statemachines/settlement.asl.json in the local ASL interpreter`,
      'Press Ctrl+C to stop.',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: draining in-flight settlements, then stopping...`);
    await engine.stop(10_000);
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
