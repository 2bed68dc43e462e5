/**
 * What a table's shape costs DynamoDB Local per item written: the same 20-item transactions of ~750-byte items,
 * four in flight, against tables that differ only in a change stream and global secondary indexes (items that carry
 * no index key, as most of the engine's record writes). DynamoDB Local runs its SQLite work on one queue, so the
 * wall time per transaction is what bounds the engine locally; the settlements table has the last shape (a stream
 * for the event feed, sparse indexes for the jobs). `npm run bench:local-shapes`; no target, an explanation
 * (docs/architecture.md, "Throughput and where the time goes").
 */
import { performance } from 'node:perf_hooks';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { localCredentials, localRegion, startDynamoDbLocal } from '../lambdas/local/dynamodb-local';

const itemsPerTransaction = 20;
const inFlight = 4;
const transactionsPerRound = Number(process.env.SHAPES_TRANSACTIONS ?? 120);
const rounds = 3;

interface Shape {
  readonly name: string;
  readonly stream: boolean;
  readonly indexes: number;
}

const shapes: readonly Shape[] = [
  { name: 'plain', stream: false, indexes: 0 },
  { name: 'stream only', stream: true, indexes: 0 },
  { name: '6 sparse GSIs, no stream', stream: false, indexes: 6 },
  { name: 'stream + 1 sparse GSI', stream: true, indexes: 1 },
  { name: 'stream + 6 sparse GSIs (settlements)', stream: true, indexes: 6 },
];

function tableInput(name: string, shape: Shape): CreateTableCommandInput {
  const indexKeys = Array.from({ length: shape.indexes }, (_, index) => [`ix${index}pk`, `ix${index}sk`] as const);
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, ...indexKeys.flatMap((keys) => keys.map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })))],
    ...(shape.indexes > 0 && {
      GlobalSecondaryIndexes: indexKeys.map(([hash, range], index) => ({
        IndexName: `index${index}`,
        KeySchema: [
          { AttributeName: hash, KeyType: 'HASH' as const },
          { AttributeName: range, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' as const },
      })),
    }),
    ...(shape.stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const } }),
  };
}

async function main(): Promise<void> {
  const local = await startDynamoDbLocal();
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: local.endpoint, credentials: localCredentials, region: localRegion }));
  const padding = 'x'.repeat(700);
  let sequence = 0;
  const tables = shapes.map((shape, index) => ({ shape, table: `shape-${index}` }));
  for (const { shape, table } of tables) await client.send(new CreateTableCommand(tableInput(table, shape)));
  const run = async (table: string, transactions: number): Promise<number> => {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < transactions) {
          const base = sequence++;
          await client.send(new TransactWriteCommand({ TransactItems: Array.from({ length: itemsPerTransaction }, (_, item) => ({ Put: { TableName: table, Item: { pk: `k${base}-${item}`, padding, n: 1 } } })) }));
        }
      }),
    );
    return (performance.now() - started) / transactions;
  };
  // Warm the JIT on every shape, then interleave the rounds so the machine's drift falls on all of them alike.
  for (const { table } of tables) await run(table, transactionsPerRound / 4);
  const times = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) for (const { shape, table } of tables) times.set(shape.name, [...(times.get(shape.name) ?? []), await run(table, transactionsPerRound)]);
  console.log(`DynamoDB Local, ${itemsPerTransaction}-item transactions of ~750-byte items, ${inFlight} in flight, median of ${rounds} rounds of ${transactionsPerRound}:`);
  const plain = median(times.get('plain')!);
  for (const { shape } of tables) {
    const perTransaction = median(times.get(shape.name)!);
    console.log(`  ${shape.name.padEnd(40)} ${perTransaction.toFixed(1).padStart(6)} ms per transaction   ${((perTransaction / itemsPerTransaction) * 1000).toFixed(0).padStart(5)} µs per item   ×${(perTransaction / plain).toFixed(1)}`);
  }
  client.destroy();
  await local.stop();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)];
}

void main();
