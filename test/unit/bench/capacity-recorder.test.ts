import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../lambdas/adapters/dynamodb/client';
import { localCredentials, localRegion } from '../../../lambdas/local/dynamodb-local';
import { CapacityRecorder } from '../../../bench/capacity/recorder';

/** The recording middleware on a real document client against the shared DynamoDB Local. */
describe('capacity recorder', () => {
  const tableName = `rec-${randomUUID().slice(0, 8)}`;
  const config = { endpoint: process.env.TEST_DYNAMODB_ENDPOINT, region: localRegion, credentials: localCredentials };
  const documentClient = createDocumentClient(config);
  let current: string | undefined;
  const recorder = new CapacityRecorder(
    new Map([[tableName, { label: 'things', shape: { partitionKey: 'pk', sortKey: 'sk', indexes: [{ indexName: 'byGroup', partitionKey: 'group', projection: 'KEYS_ONLY' as const }] } }]]),
    () => current,
  );
  recorder.install(documentClient);

  beforeAll(async () => {
    const client = new DynamoDBClient(config);
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'group', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [{ IndexName: 'byGroup', KeySchema: [{ AttributeName: 'group', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
      }),
    );
    client.destroy();
  });

  afterAll(() => documentClient.destroy());

  it('counts a transaction, its items, doubled write units and the index entries it creates, per attribution key', async () => {
    current = 'settlement-a';
    await documentClient.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: { pk: 'a', sk: 'RECORD', group: 'G1', body: 'x'.repeat(1500) } } },
          { Put: { TableName: tableName, Item: { pk: 'a', sk: 'EVENT#1' } } },
        ],
      }),
    );
    current = 'other';
    await documentClient.send(new PutCommand({ TableName: tableName, Item: { pk: 'b', sk: 'RECORD' } }));
    const tally = recorder.tally('settlement-a');
    expect(tally.transactions).toBe(1);
    expect(tally.itemWrites).toBe(2);
    // 2 KB record ×2 + 1 KB event ×2 + one keys-only index entry.
    expect(tally.writeUnits).toBe(4 + 2 + 1);
    expect(tally.indexWriteUnits).toBe(1);
    expect(Object.fromEntries(tally.partitions)).toEqual({ 'things a': 6, 'things.byGroup G1': 1 });
    expect(recorder.tally('other').writeUnits).toBe(1);
  });

  it('sizes an update by the item it changes and reads by the whole item', async () => {
    current = 'settlement-c';
    await documentClient.send(new PutCommand({ TableName: tableName, Item: { pk: 'c', sk: 'RECORD', body: 'y'.repeat(2500), n: 1 } }));
    await documentClient.send(new UpdateCommand({ TableName: tableName, Key: { pk: 'c', sk: 'RECORD' }, UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': 1 } }));
    await documentClient.send(new GetCommand({ TableName: tableName, Key: { pk: 'c', sk: 'RECORD' }, ConsistentRead: true, ProjectionExpression: 'n' }));
    await documentClient.send(new GetCommand({ TableName: tableName, Key: { pk: 'c', sk: 'RECORD' } }));
    const tally = recorder.tally('settlement-c');
    expect(tally.writeUnits).toBe(3 + 3);
    expect(tally.readUnits).toBe(1 + 0.5);
    expect(tally.calls.get('UpdateItem')).toBe(1);
  });
});
