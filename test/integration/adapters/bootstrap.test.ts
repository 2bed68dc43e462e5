/**
 * The local bootstrap on tables kept on disk from an earlier engine (`npm start` keeps its data): an index added
 * to the shared definitions since (the `jobs` index) is created on the existing table and backfilled from its items.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables } from '../../../lambdas/adapters/dynamodb/bootstrap';
import { createDocumentClient } from '../../../lambdas/adapters/dynamodb/client';
import { createTableInput, settlementsTable, tableNamesWithPrefix } from '../../../lambdas/adapters/dynamodb/table-definitions';
import { localCredentials, localRegion, startDynamoDbLocal, type DynamoDbLocal } from '../../../lambdas/local/dynamodb-local';

// Its own DynamoDB Local, fresh, as `npm start` finds one on start-up: the shared one of the suite has been seen to
// leave a new index CREATING for minutes once other tests have run transactions on it.
let database: DynamoDbLocal;
let documentClient: DynamoDBDocumentClient;
let client: DynamoDBClient;

beforeAll(async () => {
  database = await startDynamoDbLocal();
  documentClient = createDocumentClient({ endpoint: database.endpoint, region: localRegion, credentials: localCredentials });
  client = documentClient as unknown as DynamoDBClient;
});

afterAll(async () => {
  client.destroy();
  await database.stop();
});

describe('ensureTables on an existing settlements table', () => {
  it('adds the jobs index it lacks, and the index holds the records written before', async () => {
    const tables = tableNamesWithPrefix(`boot${randomUUID().slice(0, 6)}-`);
    const withoutJobs = { ...settlementsTable, globalSecondaryIndexes: settlementsTable.globalSecondaryIndexes.filter((index) => index.indexName !== 'jobs') };
    await client.send(new CreateTableCommand(createTableInput(withoutJobs, tables.settlements)));
    await documentClient.send(new PutCommand({ TableName: tables.settlements, Item: { pk: 'stl-before', sk: 'RECORD', jobShard: '3', jobSince: '2026-12-01T00:00:00.000Z' } }));

    await ensureTables(client, tables);

    const described = await client.send(new DescribeTableCommand({ TableName: tables.settlements }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual(settlementsTable.globalSecondaryIndexes.map((index) => index.indexName).sort());
    const found = await documentClient.send(new QueryCommand({ TableName: tables.settlements, IndexName: 'jobs', KeyConditionExpression: 'jobShard = :shard', ExpressionAttributeValues: { ':shard': '3' } }));
    expect(found.Items?.map((item) => item.pk)).toEqual(['stl-before']);
  });
});
