/**
 * The local bootstrap. A new table is created without the retiring indexes (it holds no item written before their
 * replacement); on tables kept on disk from an earlier engine (`npm start` keeps its data) an index added to the
 * shared definitions since (the `jobs` index) is created and backfilled from its items, and the retiring indexes
 * the table has are kept and reported, so their readers still query them.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables } from '../../../lambdas/adapters/dynamodb/bootstrap';
import { createDocumentClient } from '../../../lambdas/adapters/dynamodb/client';
import { createTableInput, retiringIndexNames, settlementsTable, tableNamesWithPrefix } from '../../../lambdas/adapters/dynamodb/table-definitions';
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

const indexesOf = async (tableName: string) =>
  ((await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).sort();
const freshTables = () => tableNamesWithPrefix(`boot${randomUUID().slice(0, 6)}-`);

describe('ensureTables on new tables', () => {
  it('creates the settlements table without the retiring indexes and reports none', async () => {
    const tables = freshTables();
    expect(await ensureTables(client, tables)).toEqual([]);
    expect(await indexesOf(tables.settlements)).toEqual(['jobs']);
  });

  it('creates them, and reports them, when asked for the shape an earlier release deployed', async () => {
    const tables = freshTables();
    const retiring = retiringIndexNames(settlementsTable);
    expect([...(await ensureTables(client, tables, { retiring: 'with-retiring' }))].sort()).toEqual([...retiring].sort());
    expect(await indexesOf(tables.settlements)).toEqual(['jobs', ...retiring].sort());
  });
});

describe('ensureTables on an existing settlements table', () => {
  it('adds the jobs index it lacks, keeps and reports the retiring ones it has, and the index holds the records written before', async () => {
    const tables = freshTables();
    const withoutJobs = { ...settlementsTable, globalSecondaryIndexes: settlementsTable.globalSecondaryIndexes.filter((index) => index.indexName !== 'jobs') };
    await client.send(new CreateTableCommand(createTableInput(withoutJobs, tables.settlements, 'with-retiring')));
    await documentClient.send(new PutCommand({ TableName: tables.settlements, Item: { pk: 'stl-before', sk: 'RECORD', jobShard: '3', jobSince: '2026-12-01T00:00:00.000Z' } }));

    expect([...(await ensureTables(client, tables))].sort()).toEqual(retiringIndexNames(settlementsTable).sort());

    expect(await indexesOf(tables.settlements)).toEqual(settlementsTable.globalSecondaryIndexes.map((index) => index.indexName).sort());
    const found = await documentClient.send(new QueryCommand({ TableName: tables.settlements, IndexName: 'jobs', KeyConditionExpression: 'jobShard = :shard', ExpressionAttributeValues: { ':shard': '3' } }));
    expect(found.Items?.map((item) => item.pk)).toEqual(['stl-before']);
  });
});
