/**
 * Group commit on DynamoDB Local (lambdas/adapters/dynamodb/group-commit.ts): concurrent writes share one
 * transaction and concurrent consistent reads one batch, and every caller still sees exactly what it would have
 * seen alone: its write taken whole or not at all, its own condition failure with its own reasons, its item.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keyNamesByTable, withGroupCommit, type GroupCommitStats } from '../../../lambdas/adapters/dynamodb/group-commit';
import { racesTables, type RacesTables } from '../../races/harness/scenario';
import { startTestEngine, type TestEngine } from '../../support/engine';
import { submitSettlement, waitForSettlement } from '../../../lambdas/usecases/settlements';
import { bookViolations } from '../../support/invariants';

let database: RacesTables;
let grouped: DynamoDBDocumentClient;
let stats: GroupCommitStats;

beforeAll(async () => {
  database = await racesTables();
});
afterAll(() => database?.destroy());
beforeEach(() => {
  stats = { writesGrouped: 0, writeGroups: 0, groupsSplit: 0, readsGrouped: 0, readBatches: 0 };
  grouped = withGroupCommit(database.client, keyNamesByTable(database.tables), stats);
});

const table = () => database.tables.reference;
const key = (name: string) => ({ pk: `GC#${name}`, sk: 'ITEM' });
const putNew = (name: string, value: number) =>
  grouped.send(new PutCommand({ TableName: table(), Item: { ...key(name), value }, ConditionExpression: 'attribute_not_exists(pk)' }));
const read = async (name: string) => (await database.client.send(new GetCommand({ TableName: table(), Key: key(name), ConsistentRead: true }))).Item;

describe('group commit', () => {
  it('writes concurrent conditional puts of different items in one transaction, every one of them', async () => {
    const names = Array.from({ length: 20 }, () => randomUUID());
    await Promise.all(names.map((name, index) => putNew(name, index)));
    expect(stats.writeGroups).toBe(1);
    expect(stats.writesGrouped).toBe(20);
    for (const [index, name] of names.entries()) expect(Number((await read(name))?.value)).toBe(index);
  });

  it('gives the one caller whose condition fails its own ConditionalCheckFailedException, and writes every other caller', async () => {
    const taken = randomUUID();
    await database.client.send(new PutCommand({ TableName: table(), Item: { ...key(taken), value: 1 } }));
    const others = Array.from({ length: 5 }, () => randomUUID());
    const outcomes = await Promise.allSettled([putNew(taken, 2), ...others.map((name) => putNew(name, 3))]);
    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: { name: 'ConditionalCheckFailedException' } });
    expect(outcomes.slice(1).every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(Number((await read(taken))?.value)).toBe(1);
    for (const name of others) expect(Number((await read(name))?.value)).toBe(3);
    expect(stats.groupsSplit).toBe(1);
  });

  it('gives a caller’s transaction its own cancellation reasons, one per item it sent, and writes none of its items', async () => {
    const taken = randomUUID();
    const fresh = randomUUID();
    await database.client.send(new PutCommand({ TableName: table(), Item: { ...key(taken), value: 1 } }));
    const mine = grouped.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: table(), Item: { ...key(fresh), value: 9 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Update: { TableName: table(), Key: key(taken), UpdateExpression: 'SET #value = :two', ConditionExpression: '#value = :zero', ExpressionAttributeNames: { '#value': 'value' }, ExpressionAttributeValues: { ':two': 2, ':zero': 0 } } },
        ],
      }),
    );
    const bystander = putNew(randomUUID(), 4);
    const [outcome] = await Promise.allSettled([mine, bystander]);
    expect(outcome).toMatchObject({ status: 'rejected', reason: { name: 'TransactionCanceledException' } });
    const reasons = (outcome as PromiseRejectedResult).reason.CancellationReasons as { Code: string }[];
    expect(reasons.map((reason) => reason.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    expect(await read(fresh)).toBeUndefined();
    await expect(bystander).resolves.toBeDefined();
  });

  it('never puts two writes of one item in one group: they go one after the other, and both take effect', async () => {
    const counter = randomUUID();
    await database.client.send(new PutCommand({ TableName: table(), Item: { ...key(counter), value: 0 } }));
    const increment = () =>
      grouped.send(new UpdateCommand({ TableName: table(), Key: key(counter), UpdateExpression: 'SET #value = #value + :one', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeNames: { '#value': 'value' }, ExpressionAttributeValues: { ':one': 1 } }));
    await Promise.all([increment(), increment(), increment(), ...Array.from({ length: 5 }, () => putNew(randomUUID(), 5))]);
    expect(Number((await read(counter))?.value)).toBe(3);
    // DynamoDB refuses one item twice in a transaction: a group holding both would have failed and been split.
    expect(stats.groupsSplit).toBe(0);
    expect(stats.writeGroups).toBeGreaterThan(0);
  });

  it('answers concurrent consistent reads from one batch, each with its own item or none, after the writes before them', async () => {
    const names = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(names.map((name, index) => putNew(name, index)));
    const missing = randomUUID();
    const items = await Promise.all([...names, missing, names[0]].map((name) => grouped.send(new GetCommand({ TableName: table(), Key: key(name), ConsistentRead: true }))));
    expect(items.slice(0, 10).map((result) => Number(result.Item?.value))).toEqual(names.map((_, index) => index));
    expect(items[10].Item).toBeUndefined();
    expect(Number(items[11].Item?.value)).toBe(0);
    expect(stats.readBatches).toBe(1);
    expect(stats.readsGrouped).toBe(12);
  });

  it('passes through what it cannot group: queries, and writes that ask for the item back', async () => {
    const name = randomUUID();
    await putNew(name, 1);
    const old = await grouped.send(new PutCommand({ TableName: table(), Item: { ...key(name), value: 2 }, ReturnValues: 'ALL_OLD' }));
    expect(Number(old.Attributes?.value)).toBe(1);
    const queried = await grouped.send(new QueryCommand({ TableName: table(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': key(name).pk } }));
    expect(queried.Items).toHaveLength(1);
    expect(stats.writeGroups).toBe(0);
  });
});

describe('group commit under the engine', () => {
  let engine: TestEngine;
  const stats: GroupCommitStats = { writesGrouped: 0, writeGroups: 0, groupsSplit: 0, readsGrouped: 0, readBatches: 0 };
  beforeAll(async () => {
    engine = await startTestEngine({ groupCommitStats: stats });
  });
  afterAll(() => engine?.stop());

  it('settles 60 concurrent settlements of one pair exactly once each, with their writes grouped, and balances reconcile', async () => {
    const ids = Array.from({ length: 60 }, () => `gc-${randomUUID()}`);
    const valueDate = new Date().toISOString().slice(0, 10);
    await Promise.all(ids.map((settlementId) => submitSettlement(engine.deps, { settlementId, payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: '1.00', currency: 'EUR', rail: 'MOCK', kind: 'DOMESTIC', valueDate, reference: 'group commit' })));
    const views = await Promise.all(ids.map((id) => waitForSettlement(engine.deps, id, 60_000)));
    expect(views.every((view) => view?.status === 'COMPLETED')).toBe(true);
    expect(stats.writesGrouped).toBeGreaterThan(stats.writeGroups);
    expect(stats.readsGrouped).toBeGreaterThan(stats.readBatches);
    expect(await bookViolations(engine, { allSettled: true })).toEqual([]);
  });
});
