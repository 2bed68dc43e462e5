/**
 * Creates the tables from the shared definitions where they do not exist (DynamoDB Local, LocalStack).
 * On AWS the CDK stateful stack owns the tables; this is never run there.
 */
import { CreateTableCommand, DescribeTableCommand, UpdateTableCommand, UpdateTimeToLiveCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableInput, retiringIndexNames, settlementsTable, tableDefinitions, type RetiringIndexShape, type TableDefinition, type TableNames } from './table-definitions';

export interface EnsureTablesOptions {
  /**
   * `with-retiring`: a table created here gets the retiring indexes too, the shape a table deployed by an earlier
   * release has (tests of the readers of items written before). By default a new table is created without them:
   * it holds no item written before their replacement, and DynamoDB Local maintains every index on every write.
   */
  readonly retiring?: RetiringIndexShape;
}

/**
 * Creates the tables that do not exist and adds the indexes a table kept from before lacks. Returns the retiring
 * indexes the settlements table has (its readers query only those: `retiringIndexes` in the engine's config).
 */
export async function ensureTables(client: DynamoDBClient, tables: TableNames, options: EnsureTablesOptions = {}): Promise<readonly string[]> {
  for (const definition of tableDefinitions) {
    const tableName = tables[definition.logicalName];
    const existing = await describe(client, tableName);
    if (existing) {
      // A table created before it had a change stream (data kept on disk by `npm start`) gets one.
      if (definition.stream && !existing.StreamSpecification?.StreamEnabled) {
        await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } }));
      }
      await addMissingIndexes(client, definition, tableName, existing.GlobalSecondaryIndexes ?? []);
      continue;
    }
    try {
      await client.send(new CreateTableCommand(createTableInput(definition, tableName, options.retiring)));
    } catch (error) {
      // Another process created it between our check and our create.
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
    }
    if (definition.timeToLiveAttribute) {
      await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true } })).catch(() => undefined);
    }
  }
  const present = new Set(((await describe(client, tables.settlements))?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  return retiringIndexNames(settlementsTable).filter((name) => present.has(name));
}

/** Polls of a new index's status before giving up, and the pause between them. */
export const indexCreationPollsMax = 120;
const indexCreationPollMs = 250;

/**
 * A table created before one of its indexes existed (the `jobs` index, on data kept on disk by `npm start`) gets
 * it, one index per update as DynamoDB allows, each waited for until it is ACTIVE (DynamoDB backfills it from the
 * items already there). A retiring index it lacks is not added: it never held anything.
 */
async function addMissingIndexes(client: DynamoDBClient, definition: TableDefinition, tableName: string, existing: readonly { IndexName?: string }[]): Promise<void> {
  const present = new Set(existing.map((index) => index.IndexName));
  const input = createTableInput(definition, tableName);
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    if (present.has(index.IndexName)) continue;
    const attributes = input.AttributeDefinitions.filter((attribute) => index.KeySchema.some((key) => key.AttributeName === attribute.AttributeName));
    await client.send(new UpdateTableCommand({ TableName: tableName, AttributeDefinitions: attributes, GlobalSecondaryIndexUpdates: [{ Create: index }] }));
    for (let poll = 1; ; poll++) {
      const status = (await describe(client, tableName))?.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === index.IndexName)?.IndexStatus;
      if (status === 'ACTIVE') break;
      if (poll >= indexCreationPollsMax) throw new Error(`index ${index.IndexName} of ${tableName} is still ${status ?? 'absent'} after ${indexCreationPollsMax} polls`);
      await new Promise((resolve) => setTimeout(resolve, indexCreationPollMs));
    }
  }
}

async function describe(client: DynamoDBClient, tableName: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** True when the settlements table answers: the health probe of both APIs. */
export async function databaseAnswers(client: DynamoDBClient, tables: TableNames, timeoutMs = 1000): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tables.settlements }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}
