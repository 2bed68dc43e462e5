import {
  applyUpdateExpression,
  indexWrites,
  itemSizeBytes,
  listPrices,
  modelledLambdaMs,
  numberBytes,
  partitionLoads,
  projectPartitionHeat,
  readUnitsFor,
  settlementCostUsd,
  writeUnitsFor,
  type ItemImage,
  type SettlementUsage,
  type TableShape,
} from '../../../bench/capacity/model';

const settlementsShape: TableShape = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { indexName: 'inFlight', partitionKey: 'inFlightShard', sortKey: 'inFlightSince', projection: 'KEYS_ONLY' },
    { indexName: 'parked', partitionKey: 'parkedShard', sortKey: 'parkedAt', projection: 'ALL' },
  ],
};

describe('capacity model › item sizing', () => {
  it('counts attribute names and string bytes in UTF-8', () => {
    expect(itemSizeBytes({ pk: { S: 'abc' } })).toBe(2 + 3);
    expect(itemSizeBytes({ név: { S: 'é' } })).toBe(4 + 2);
  });

  it('sizes numbers by significant digits, two per byte, plus one', () => {
    expect(numberBytes('1')).toBe(2);
    expect(numberBytes('1250.00')).toBe(3); // 125 → 2 bytes + 1
    expect(numberBytes('-0.000123456')).toBe(4); // 123456 → 3 bytes + 1
    expect(numberBytes('0')).toBe(2);
  });

  it('adds 3 bytes per list or map and 1 per element', () => {
    expect(itemSizeBytes({ l: { L: [{ S: 'ab' }, { BOOL: true }] } })).toBe(1 + 3 + (1 + 2) + (1 + 1));
    expect(itemSizeBytes({ m: { M: { k: { S: 'v' } } } })).toBe(1 + 3 + 1 + 1 + 1);
  });
});

describe('capacity model › units', () => {
  it('charges one write unit per started KB, at least one, doubled in a transaction', () => {
    expect(writeUnitsFor(0, false)).toBe(1);
    expect(writeUnitsFor(1024, false)).toBe(1);
    expect(writeUnitsFor(1025, false)).toBe(2);
    expect(writeUnitsFor(1025, true)).toBe(4);
  });

  it('charges one read unit per started 4 KB strongly consistent, half eventually, twice transactionally', () => {
    expect(readUnitsFor(4096, 'strong')).toBe(1);
    expect(readUnitsFor(4097, 'strong')).toBe(2);
    expect(readUnitsFor(100, 'eventual')).toBe(0.5);
    expect(readUnitsFor(100, 'transactional')).toBe(2);
  });
});

describe('capacity model › index writes', () => {
  const key = { pk: { S: 's-1' }, sk: { S: 'RECORD' } };

  it('puts an entry when the item enters a sparse index', () => {
    const writes = indexWrites(undefined, { ...key, inFlightShard: { S: '2' }, inFlightSince: { S: 't0' } }, settlementsShape);
    expect(writes).toEqual([{ indexName: 'inFlight', partitionKeyValue: '2', writeUnits: 1, kind: 'put' }]);
  });

  it('writes nothing to a keys-only index when its keys do not change', () => {
    const before: ItemImage = { ...key, inFlightShard: { S: '2' }, inFlightSince: { S: 't0' }, status: { S: 'PENDING' } };
    expect(indexWrites(before, { ...before, status: { S: 'VALIDATED' } }, settlementsShape)).toEqual([]);
  });

  it('rewrites an all-attributes entry when any attribute changes', () => {
    const before: ItemImage = { ...key, parkedShard: { S: '1' }, parkedAt: { S: 't0' }, note: { S: 'a' } };
    expect(indexWrites(before, { ...before, note: { S: 'b' } }, settlementsShape)).toEqual([{ indexName: 'parked', partitionKeyValue: '1', writeUnits: 1, kind: 'put' }]);
  });

  it('deletes and puts when the index key changes, deletes when the item leaves', () => {
    const before: ItemImage = { ...key, inFlightShard: { S: '2' }, inFlightSince: { S: 't0' } };
    expect(indexWrites(before, { ...before, inFlightSince: { S: 't1' } }, settlementsShape).map((write) => write.kind)).toEqual(['delete', 'put']);
    expect(indexWrites(before, key, settlementsShape)).toEqual([{ indexName: 'inFlight', partitionKeyValue: '2', writeUnits: 1, kind: 'delete' }]);
  });

  it('sizes a keys-only entry by the keys alone', () => {
    const big: ItemImage = { ...key, inFlightShard: { S: '2' }, inFlightSince: { S: 't0' }, blob: { S: 'x'.repeat(3000) } };
    expect(indexWrites(undefined, big, settlementsShape)[0].writeUnits).toBe(1);
    const parked: ItemImage = { ...key, parkedShard: { S: '1' }, parkedAt: { S: 't0' }, blob: { S: 'x'.repeat(3000) } };
    expect(indexWrites(undefined, parked, settlementsShape)[0].writeUnits).toBe(3);
  });
});

describe('capacity model › update expressions', () => {
  it('applies SET arithmetic and REMOVE with attribute names', () => {
    const before: ItemImage = { accountId: { S: 'a' }, locked: { N: '10.50' }, available: { N: '100' }, lockShard: { S: '1' }, version: { N: '3' } };
    const after = applyUpdateExpression(before, 'SET locked = locked + :amount, available = available - :amount, #v = #v + :one REMOVE lockShard', { '#v': 'version' }, { ':amount': { N: '0.50' }, ':one': { N: '1' } });
    expect(after).toEqual({ accountId: { S: 'a' }, locked: { N: '11' }, available: { N: '99.5' }, version: { N: '4' } });
  });

  it('sets if_not_exists from the operand when the attribute is absent', () => {
    expect(applyUpdateExpression({ pk: { S: 'p' } }, 'SET n = if_not_exists(n, :zero)', {}, { ':zero': { N: '0' } }).n).toEqual({ N: '0' });
  });
});

describe('capacity model › cost', () => {
  const usage: SettlementUsage = {
    writeUnits: 16,
    readUnits: 8,
    stateTransitions: 7,
    standardTransitions: 0,
    expressExecutions: 1,
    expressSeconds: 0.25,
    lambdaInvocations: 6,
    lambdaGbSeconds: 0.1,
    logBytes: 6_000,
    workflowLogEvents: { express: 31, standard: 0 },
  };

  it('bills one Standard workflow per state transition, and the fast path per Express request and 100 ms of 64 MB', () => {
    const standard = settlementCostUsd(usage, 'STANDARD', listPrices);
    expect(standard.stepFunctions * 1e6).toBeCloseTo(175, 6);
    const fastPath = settlementCostUsd(usage, 'FAST_PATH', listPrices);
    expect(fastPath.stepFunctions * 1e6).toBeCloseTo(1 + 0.3 * (64 / 1024) * 0.00001667 * 1e6, 6);
  });

  it('bills the fast path the Standard transitions of what it hands off, on top of its Express execution', () => {
    const handedOff = settlementCostUsd({ ...usage, stateTransitions: 16, standardTransitions: 6, expressSeconds: 3.21 }, 'FAST_PATH', listPrices);
    expect(handedOff.stepFunctions * 1e6).toBeCloseTo(1 + 3.3 * (64 / 1024) * 0.00001667 * 1e6 + 6 * 25, 6);
  });

  it('bills the workflow log events (level ALL) with the Lambda log lines', () => {
    const cost = settlementCostUsd(usage, 'FAST_PATH', listPrices);
    expect(cost.logs * 1e6).toBeCloseTo(((6_000 + 31 * 350) / 1024 ** 3) * 0.5 * 1e6, 6);
  });

  it('bills DynamoDB on demand by request units and Lambda by requests and GB-seconds', () => {
    const cost = settlementCostUsd(usage, 'STANDARD', listPrices);
    expect(cost.dynamodb * 1e6).toBeCloseTo(16 * 0.625 + 8 * 0.125, 6);
    expect(cost.lambda * 1e6).toBeCloseTo(6 * 0.2 + 0.1 * 0.0000133334 * 1e6, 6);
    expect(cost.total).toBeCloseTo(cost.dynamodb + cost.stepFunctions + cost.lambda + cost.logs, 12);
  });

  it('models Lambda time from the DynamoDB calls in sequence plus an overhead per invocation', () => {
    expect(modelledLambdaMs({ GetItem: 2, TransactWriteItems: 1 }, 1)).toBe(2 * 5 + 20 + 5);
  });
});

describe('capacity model › partition heat at a rate', () => {
  const writes = [
    { key: 'settlements <settlement>', scope: 'settlement' as const, writeUnits: 20 },
    { key: 'settlements <settlement>', scope: 'settlement' as const, writeUnits: 20 },
    { key: 'accounts VOSTRO#A#EUR', scope: 'account' as const, writeUnits: 8 },
    { key: 'accounts VOSTRO#A#EUR', scope: 'account' as const, writeUnits: 8 },
    { key: 'settlements.inFlight 0', scope: 'shared' as const, writeUnits: 1 },
  ];

  it('averages each partition over the settlements measured', () => {
    expect(partitionLoads(writes, 2)).toEqual([
      { key: 'settlements <settlement>', scope: 'settlement', writeUnitsPerSettlement: 20 },
      { key: 'accounts VOSTRO#A#EUR', scope: 'account', writeUnitsPerSettlement: 8 },
      { key: 'settlements.inFlight 0', scope: 'shared', writeUnitsPerSettlement: 0.5 },
    ]);
  });

  it('gives shared partitions the whole rate, accounts their share, a settlement its own writes', () => {
    const loads = partitionLoads(writes, 2);
    const uniform = projectPartitionHeat(loads, { settlementsPerSecond: 1000, hottestPairShare: 0, banks: 100 });
    expect(uniform).toEqual([
      { key: 'settlements.inFlight 0', writeUnitsPerSecond: 500 },
      { key: 'accounts VOSTRO#A#EUR', writeUnitsPerSecond: 80 },
      { key: 'settlements <settlement>', writeUnitsPerSecond: 20 },
    ]);
    const skewed = projectPartitionHeat(loads, { settlementsPerSecond: 1000, hottestPairShare: 0.8, banks: 100 });
    expect(skewed[0]).toEqual({ key: 'accounts VOSTRO#A#EUR', writeUnitsPerSecond: 8 * 1000 * (0.8 + 0.2 / 100) });
  });
});
