/**
 * The capacity model of `npm run bench`, as plain functions: DynamoDB item sizing and capacity units, the index
 * writes an item change causes, the cost of a settlement at list prices, and the projection of per-settlement
 * partition writes to a rate. The recording middleware (recorder.ts) feeds it what the engine really sent.
 *
 * Sizing follows the DynamoDB Developer Guide ("Item sizes and formats", "Read/write capacity mode"): an item is
 * the UTF-8 length of its attribute names plus the size of its values; a write costs one unit per started KB
 * (two in a transaction); a read one unit per started 4 KB, strongly consistent (half eventually, twice in a
 * transaction); a global secondary index costs its own write units, sized by the entry it holds (table key, index
 * key, projected attributes), when the item enters, leaves or changes in it.
 */
import Decimal from 'decimal.js';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type ItemImage = Record<string, AttributeValue>;

export const writeUnitBytes = 1024;
export const readUnitBytes = 4096;

/** Bytes of one attribute value, as DynamoDB counts them. */
export function attributeValueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, element) => sum + Buffer.byteLength(element, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, element) => sum + numberBytes(element), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, element) => sum + element.byteLength, 0);
  // List and map: 3 bytes of overhead, 1 byte per element, plus the elements (and, in a map, their names).
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + attributeValueBytes(element), 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name, 'utf8') + attributeValueBytes(element), 0);
  return 0;
}

/** A number: one byte per two significant digits, plus one (leading and trailing zeros do not count). */
export function numberBytes(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

export function itemSizeBytes(item: ItemImage): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + attributeValueBytes(value), 0);
}

/** Write units of one item write: each started KB, at least one; doubled inside TransactWriteItems. */
export function writeUnitsFor(sizeBytes: number, transactional: boolean): number {
  return Math.max(1, Math.ceil(sizeBytes / writeUnitBytes)) * (transactional ? 2 : 1);
}

export type ReadConsistency = 'strong' | 'eventual' | 'transactional';

/** Read units of a read of `sizeBytes` (one item, or the sum a Query returns): each started 4 KB, at least one. */
export function readUnitsFor(sizeBytes: number, consistency: ReadConsistency): number {
  const units = Math.max(1, Math.ceil(sizeBytes / readUnitBytes));
  return consistency === 'strong' ? units : consistency === 'eventual' ? units / 2 : units * 2;
}

export interface IndexShape {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableShape {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly indexes: readonly IndexShape[];
}

/** The entry an item holds in an index (table key, index key, projected attributes), or undefined if it is not in it. */
export function indexEntry(item: ItemImage | undefined, table: TableShape, index: IndexShape): ItemImage | undefined {
  if (item === undefined || item[index.partitionKey] === undefined) return undefined;
  if (index.sortKey !== undefined && item[index.sortKey] === undefined) return undefined;
  if (index.projection === 'ALL') return item;
  const names = [table.partitionKey, table.sortKey, index.partitionKey, index.sortKey].filter((name): name is string => name !== undefined);
  return Object.fromEntries(names.filter((name) => item[name] !== undefined).map((name) => [name, item[name]]));
}

export interface IndexWrite {
  readonly indexName: string;
  /** The index partition the write lands on (`S`/`N` value of the index's partition key). */
  readonly partitionKeyValue: string;
  readonly writeUnits: number;
  readonly kind: 'put' | 'delete';
}

/**
 * The index writes a change of one item causes: a put when the item enters an index or its projected entry
 * changes, a delete when it leaves, both when its index key changes. Index writes are not doubled by a
 * transaction: the index is updated once, from the committed item.
 */
export function indexWrites(before: ItemImage | undefined, after: ItemImage | undefined, table: TableShape): IndexWrite[] {
  const writes: IndexWrite[] = [];
  for (const index of table.indexes) {
    const old = indexEntry(before, table, index);
    const next = indexEntry(after, table, index);
    const put = (entry: ItemImage) => writes.push({ indexName: index.indexName, partitionKeyValue: scalarText(entry[index.partitionKey]), writeUnits: writeUnitsFor(itemSizeBytes(entry), false), kind: 'put' });
    const remove = (entry: ItemImage) => writes.push({ indexName: index.indexName, partitionKeyValue: scalarText(entry[index.partitionKey]), writeUnits: writeUnitsFor(itemSizeBytes(entry), false), kind: 'delete' });
    if (old === undefined && next === undefined) continue;
    if (old === undefined) put(next!);
    else if (next === undefined) remove(old);
    else if (!sameValue(old[index.partitionKey], next[index.partitionKey]) || (index.sortKey !== undefined && !sameValue(old[index.sortKey], next[index.sortKey]))) {
      remove(old);
      put(next);
    } else if (!sameImage(old, next)) put(next);
  }
  return writes;
}

export function scalarText(value: AttributeValue | undefined): string {
  if (value === undefined) return '';
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  return JSON.stringify(value);
}

function sameValue(left: AttributeValue | undefined, right: AttributeValue | undefined): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

function sameImage(left: ItemImage, right: ItemImage): boolean {
  const names = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const name of names) if (!sameValue(left[name], right[name])) return false;
  return true;
}

/** Operands an UpdateExpression may hold, bounded: the recorder gives up on anything longer. */
const updateExpressionLengthMax = 4_000;

/**
 * The item after an UpdateExpression, for sizing: SET with values, paths, `+`/`-` and if_not_exists; REMOVE; ADD
 * on numbers. Nested paths and other functions keep the attribute's previous value (a sizing approximation).
 */
export function applyUpdateExpression(before: ItemImage, expression: string, names: Record<string, string> = {}, values: Record<string, AttributeValue> = {}): ItemImage {
  if (expression.length > updateExpressionLengthMax) return before;
  const after: ItemImage = { ...before };
  const attribute = (token: string) => (token.startsWith('#') ? (names[token] ?? token) : token);
  const operand = (token: string): AttributeValue | undefined => {
    const text = token.trim();
    const ifNotExists = /^if_not_exists\s*\(\s*([^,\s]+)\s*,\s*(.+)\)$/.exec(text);
    if (ifNotExists) return before[attribute(ifNotExists[1])] ?? operand(ifNotExists[2]);
    if (text.startsWith(':')) return values[text];
    return before[attribute(text)];
  };
  for (const [clause, body] of clausesOf(expression)) {
    for (const action of splitTopLevel(body)) {
      if (clause === 'REMOVE') {
        delete after[attribute(action.trim())];
        continue;
      }
      if (clause === 'SET') {
        const equals = action.indexOf('=');
        if (equals < 0) continue;
        const target = attribute(action.slice(0, equals).trim());
        if (/[.[]/.test(target)) continue;
        const value = evaluateArithmetic(action.slice(equals + 1), operand);
        if (value !== undefined) after[target] = value;
        continue;
      }
      if (clause === 'ADD') {
        const [path, valueToken] = action.trim().split(/\s+/);
        const target = attribute(path);
        const added = operand(valueToken);
        const current = before[target];
        if (added?.N !== undefined) after[target] = { N: new Decimal(current?.N ?? '0').plus(added.N).toFixed() };
        else if (added !== undefined && current === undefined) after[target] = added;
      }
    }
  }
  return after;
}

function evaluateArithmetic(text: string, operand: (token: string) => AttributeValue | undefined): AttributeValue | undefined {
  const parts = splitArithmetic(text);
  let value = operand(parts[0]);
  for (let index = 1; index + 1 < parts.length; index += 2) {
    const right = operand(parts[index + 1]);
    if (value?.N === undefined || right?.N === undefined) return value;
    value = { N: (parts[index] === '+' ? new Decimal(value.N).plus(right.N) : new Decimal(value.N).minus(right.N)).toFixed() };
  }
  return value;
}

/** `a + b - c` → ['a', '+', 'b', '-', 'c'], leaving function arguments whole. */
function splitArithmetic(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const character of text) {
    if (character === '(') depth++;
    if (character === ')') depth--;
    if (depth === 0 && (character === '+' || character === '-')) {
      parts.push(current.trim(), character);
      current = '';
    } else current += character;
  }
  parts.push(current.trim());
  return parts;
}

function clausesOf(expression: string): [string, string][] {
  const clauses: [string, string][] = [];
  const pattern = /\b(SET|REMOVE|ADD|DELETE)\b/gi;
  const matches = [...expression.matchAll(pattern)];
  matches.forEach((match, index) => {
    const end = index + 1 < matches.length ? matches[index + 1].index : expression.length;
    clauses.push([match[1].toUpperCase(), expression.slice(match.index + match[0].length, end)]);
  });
  return clauses;
}

function splitTopLevel(body: string): string[] {
  const actions: string[] = [];
  let depth = 0;
  let current = '';
  for (const character of body) {
    if (character === '(') depth++;
    if (character === ')') depth--;
    if (character === ',' && depth === 0) {
      actions.push(current);
      current = '';
    } else current += character;
  }
  if (current.trim() !== '') actions.push(current);
  return actions;
}

// ---------------------------------------------------------------------------------------------------------------
// Cost

/** List prices; docs/capacity.md gives each one's source and the date it was read. */
export interface PriceTable {
  readonly asOf: string;
  readonly region: string;
  readonly dynamoWriteRequestUnitUsd: number;
  readonly dynamoReadRequestUnitUsd: number;
  readonly standardStateTransitionUsd: number;
  readonly expressRequestUsd: number;
  /** Express duration, first tier (per GB-second, memory billed in 64 MB chunks, time in 100 ms steps). */
  readonly expressGbSecondUsd: number;
  readonly lambdaRequestUsd: number;
  /** arm64, first tier. */
  readonly lambdaArmGbSecondUsd: number;
  readonly cloudWatchLogsIngestGbUsd: number;
}

export const listPrices: PriceTable = {
  asOf: '2026-12-01',
  region: 'us-east-1',
  dynamoWriteRequestUnitUsd: 0.625 / 1e6,
  dynamoReadRequestUnitUsd: 0.125 / 1e6,
  standardStateTransitionUsd: 0.025 / 1e3,
  expressRequestUsd: 1.0 / 1e6,
  expressGbSecondUsd: 0.00001667,
  lambdaRequestUsd: 0.2 / 1e6,
  lambdaArmGbSecondUsd: 0.0000133334,
  cloudWatchLogsIngestGbUsd: 0.5,
};

/**
 * Modelled AWS latency of each DynamoDB operation in a Lambda function in the table's region (ms), and the fixed
 * time of an invocation (runtime, middy chain, logging). Lambda duration is billed from these, not from the local
 * run, whose DynamoDB Local is an order of magnitude slower than the service.
 */
export const awsCallLatencyMs: Readonly<Record<string, number>> = {
  GetItem: 5,
  PutItem: 7,
  UpdateItem: 7,
  DeleteItem: 7,
  Query: 8,
  Scan: 20,
  BatchGetItem: 10,
  BatchWriteItem: 15,
  TransactGetItems: 12,
  TransactWriteItems: 20,
};
export const invocationOverheadMs = 5;

/** Billed Lambda milliseconds of a settlement's invocations: their DynamoDB calls (in sequence) plus a fixed overhead each. */
export function modelledLambdaMs(callsPerSettlement: Readonly<Record<string, number>>, invocations: number): number {
  const callsMs = Object.entries(callsPerSettlement).reduce((sum, [operation, count]) => sum + count * (awsCallLatencyMs[operation] ?? 10), 0);
  return callsMs + invocations * invocationOverheadMs;
}

/** What one settlement consumes, as the bench measured or modelled it. */
export interface SettlementUsage {
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Every state entered and every retry, in either workflow: what one Standard workflow for everything would bill. */
  readonly stateTransitions: number;
  /** The part of those in the Standard workflow: only settlements the fast path hands off have any. */
  readonly standardTransitions: number;
  /** Express executions (the fast path: one per settlement). */
  readonly expressExecutions: number;
  /** Express billed time per settlement: its Tasks' Lambda time plus its Wait states. */
  readonly expressSeconds: number;
  readonly lambdaInvocations: number;
  /** Σ over invocations of memory (GB) × billed seconds. */
  readonly lambdaGbSeconds: number;
  /** Log bytes the Lambda functions ingest (platform lines and EMF metrics). */
  readonly logBytes: number;
  /** Log events the state machines write (level ALL, no payloads), per workflow. */
  readonly workflowLogEvents: Readonly<Record<'express' | 'standard', number>>;
}

/**
 * How a settlement's workflow is billed. `FAST_PATH` is what is deployed: Express requests and duration for the
 * fast path, Standard transitions only for what it hands off. `STANDARD` is the one Standard workflow that ran
 * every settlement before the fast path (every transition billed), kept for the before/after comparison.
 */
export type WorkflowType = 'STANDARD' | 'FAST_PATH';

export interface SettlementCost {
  readonly dynamodb: number;
  readonly stepFunctions: number;
  readonly lambda: number;
  readonly logs: number;
  readonly total: number;
}

/** Express memory: the smallest chunk (a small definition and payload). */
export const expressMemoryGb = 64 / 1024;
/**
 * Bytes of one Step Functions log event without execution data (type, ids, execution ARN, timestamps): an
 * assumption, stated in docs/capacity.md.
 */
export const workflowLogEventBytes = 350;

/** Cost of one settlement in USD. */
export function settlementCostUsd(usage: SettlementUsage, workflow: WorkflowType, prices: PriceTable = listPrices): SettlementCost {
  const dynamodb = usage.writeUnits * prices.dynamoWriteRequestUnitUsd + usage.readUnits * prices.dynamoReadRequestUnitUsd;
  // Express bills each execution's time in 100 ms steps: rounded per execution.
  const secondsPerExecution = usage.expressExecutions > 0 ? usage.expressSeconds / usage.expressExecutions : 0;
  const billedSeconds = usage.expressExecutions * (Math.ceil(secondsPerExecution * 10 - 1e-9) / 10);
  const stepFunctions =
    workflow === 'STANDARD'
      ? usage.stateTransitions * prices.standardStateTransitionUsd
      : usage.expressExecutions * prices.expressRequestUsd + billedSeconds * expressMemoryGb * prices.expressGbSecondUsd + usage.standardTransitions * prices.standardStateTransitionUsd;
  const lambda = usage.lambdaInvocations * prices.lambdaRequestUsd + usage.lambdaGbSeconds * prices.lambdaArmGbSecondUsd;
  const workflowLogBytes = (usage.workflowLogEvents.express + usage.workflowLogEvents.standard) * workflowLogEventBytes;
  const logs = ((usage.logBytes + workflowLogBytes) / 1024 ** 3) * prices.cloudWatchLogsIngestGbUsd;
  return { dynamodb, stepFunctions, lambda, logs, total: dynamodb + stepFunctions + lambda + logs };
}

export function perMillion(cost: SettlementCost): SettlementCost {
  return { dynamodb: cost.dynamodb * 1e6, stepFunctions: cost.stepFunctions * 1e6, lambda: cost.lambda * 1e6, logs: cost.logs * 1e6, total: cost.total * 1e6 };
}

// ---------------------------------------------------------------------------------------------------------------
// Partition heat

/**
 * Who shares a partition: one settlement only (its own items), the accounts of the settlement's pair (balances,
 * ledger), or every settlement (constant keys, time buckets, index shards).
 */
export type PartitionScope = 'settlement' | 'account' | 'shared';

export interface PartitionLoad {
  /** `<table>[.<index>] <value>`, with settlement ids and time buckets made generic. */
  readonly key: string;
  readonly scope: PartitionScope;
  /** Write units landing on it, averaged over the measured settlements. */
  readonly writeUnitsPerSettlement: number;
}

export interface Workload {
  readonly settlementsPerSecond: number;
  /** Share of the settlements on the busiest account pair (0 for a uniform spread). */
  readonly hottestPairShare: number;
  /** Banks the rest is spread over uniformly (each account then sees 1/banks of it). */
  readonly banks: number;
}

export interface PartitionHeat {
  readonly key: string;
  readonly writeUnitsPerSecond: number;
}

/**
 * Write units per second on each partition at `workload`, hottest first. The measured settlements all ran on one
 * pair, so an account partition's measured load is scaled by the share of settlements the busiest account takes;
 * a settlement's own partition sees one settlement (taken as finishing within the second); a shared one sees all.
 */
export function projectPartitionHeat(loads: readonly PartitionLoad[], workload: Workload): PartitionHeat[] {
  const accountShare = workload.hottestPairShare + (1 - workload.hottestPairShare) / workload.banks;
  const heat = loads.map((load) => {
    const perSecond =
      load.scope === 'settlement'
        ? load.writeUnitsPerSettlement
        : load.scope === 'account'
          ? load.writeUnitsPerSettlement * workload.settlementsPerSecond * accountShare
          : load.writeUnitsPerSettlement * workload.settlementsPerSecond;
    return { key: load.key, writeUnitsPerSecond: perSecond };
  });
  return heat.sort((left, right) => right.writeUnitsPerSecond - left.writeUnitsPerSecond);
}

/** Sums writes of the same partition (several items of one settlement, several settlements) into loads per settlement. */
export function partitionLoads(writes: readonly { key: string; scope: PartitionScope; writeUnits: number }[], settlements: number): PartitionLoad[] {
  const byKey = new Map<string, { scope: PartitionScope; writeUnits: number }>();
  for (const write of writes) {
    const entry = byKey.get(write.key) ?? { scope: write.scope, writeUnits: 0 };
    entry.writeUnits += write.writeUnits;
    byKey.set(write.key, entry);
  }
  return [...byKey].map(([key, entry]) => ({ key, scope: entry.scope, writeUnitsPerSettlement: entry.writeUnits / settlements }));
}
