/**
 * One DynamoDB Local for the whole test run (a JVM start costs seconds); every test file gets its own tables
 * through a unique prefix. Tests that need a database of their own (killing it) start one.
 */
import { startDynamoDbLocal } from '../../lambdas/local/dynamodb-local';

export default async function globalSetup(): Promise<void> {
  const dynamo = await startDynamoDbLocal();
  process.env.TEST_DYNAMODB_ENDPOINT = dynamo.endpoint;
  (globalThis as { __dynamo?: typeof dynamo }).__dynamo = dynamo;
}
