/**
 * The capacity phase of `npm run bench`: runs settlements of each rail on a fresh local engine with the recording
 * middleware on its DynamoDB client and an observer on its workflow, and turns what they did into the model's
 * figures: the per-settlement table, cost per million at list prices, and the hottest partitions at 1,000/s.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { startLocalEngine } from '../../lambdas/local/engine';
import type { WorkflowStateEvent } from '../../lambdas/local/local-workflow';
import { submitSettlement } from '../../lambdas/usecases/settlements';
import { tableDefinitions } from '../../lambdas/adapters/dynamodb/table-definitions';
import { apiFunction, stageFunctions } from '../../infra/function-catalogue';
import { CapacityRecorder, type RecordedTable, type Tally } from './recorder';
import {
  listPrices,
  modelledLambdaMs,
  partitionLoads,
  perMillion,
  projectPartitionHeat,
  settlementCostUsd,
  type PartitionHeat,
  type PartitionScope,
  type SettlementCost,
  type SettlementUsage,
} from './model';

/**
 * What the capacity phase runs: SEPA (the bank confirms at once), SWIFT (two pending checks: within the fast path's
 * three), SWIFT_SLOW (three pending checks, `[mock:slow]`: handed off to the Standard workflow) and SEPA_REJECTED
 * (the bank rejects the transfer, `[mock:reject]`: what a rollback costs; it ends FAILED, its lock voided).
 */
export const capacityRails = ['SEPA', 'SWIFT', 'SWIFT_SLOW', 'SEPA_REJECTED'] as const;
export type CapacityRail = (typeof capacityRails)[number];

/** The projection's rate and network: 1,000 settlements/s over 100 banks, and 80% of them on one pair. */
export const projectionRatePerSecond = 1_000;
export const projectionBanks = 100;
export const skewedPairShare = 0.8;
/**
 * The skewed workload's pair runs as hot accounts: the payer's vostro and the payout nostro each split into this many
 * balance shards. At 800 settlements/s on the pair, each shard sees ~50/s (~200 write units/s, hold and posting);
 * the sample of 40 settlements per rail lands unevenly on 16 shards (binomial), and the projection takes the
 * busiest shard as measured.
 */
export const hotPairShards = 16;
export const hotPairAccountIds = ['VOSTRO#DEUTDEFF#EUR', 'NOSTRO#BNPAFRPP#EUR'] as const;
/**
 * Log bytes one Lambda invocation ingests into CloudWatch Logs: START/END/REPORT platform lines (~350 B) and the
 * EMF metrics document the stage writes (~650 B). An assumption, stated in docs/capacity.md.
 */
export const logBytesPerInvocation = 1_000;
/** Settlements are submitted through REST (one API Lambda invocation); through gRPC the Fargate task submits. */
export const submitInvocations = 1;

const payerBic = 'DEUTDEFF';
const payeeBic = 'BNPAFRPP';

export interface PerSettlement {
  readonly transactions: number;
  /** Writes outside a transaction: PutItem, UpdateItem, DeleteItem (each a single-item conditional write here). */
  readonly singleItemWrites: number;
  readonly itemWrites: number;
  readonly writeUnits: number;
  readonly indexWriteUnits: number;
  readonly readUnits: number;
  /** State transitions: states entered and retries in either workflow (what one Standard workflow for everything billed, before). */
  readonly stateTransitions: number;
  /** The Standard workflow's share of them, the only ones billed per transition (hand-offs only). */
  readonly standardTransitions: number;
  /** Express executions per settlement. */
  readonly expressExecutions: number;
  /** Share of the settlements handed off to the Standard workflow. */
  readonly handedOffShare: number;
  /** Log events per settlement the state machines write at level ALL (model.ts workflowLogEventBytes each). */
  readonly workflowLogEvents: { readonly express: number; readonly standard: number };
  readonly lambdaInvocations: number;
  /** Task time measured locally (ms per settlement), billed as Lambda duration. */
  readonly lambdaMs: number;
  /** Wait-state seconds per settlement (the bank's pending checks), and the part spent in Express. */
  readonly waitSeconds: number;
  readonly expressWaitSeconds: number;
  /** Lambda invocations of Express Tasks (their time is Express duration too). */
  readonly expressInvocations: number;
  readonly calls: Readonly<Record<string, number>>;
  /** The mock bank's own record of the transfer (not part of the engine; a real rail keeps its own). */
  readonly mockBank: { readonly itemWrites: number; readonly writeUnits: number; readonly readUnits: number };
  /** Lambda milliseconds billed on AWS, modelled from the calls (model.ts modelledLambdaMs). */
  readonly modelledLambdaMs: number;
}

export interface CapacityFigures {
  readonly settlementsPerRail: number;
  readonly perSettlement: Readonly<Record<CapacityRail, PerSettlement>>;
  /** `fastPath`: what is deployed; `standard`: one Standard workflow for everything (before the fast path). */
  readonly costPerMillionUsd: Readonly<Record<CapacityRail, { fastPath: SettlementCost; standard: SettlementCost }>>;
  /** `skewed` is measured on the pair configured as hot accounts (hotPairShards balance shards each). */
  readonly hottestPartitions: { readonly uniform: readonly PartitionHeat[]; readonly skewed: readonly PartitionHeat[] };
  /** The same settlements on the hot pair (sharded accounts): what a hot account costs per settlement. */
  readonly hotPairPerSettlement: Readonly<Record<CapacityRail, PerSettlement>>;
  /** Calls made outside any settlement while the phase ran (jobs are off, no gRPC server runs). */
  readonly unattributed: { readonly writeUnits: number; readonly readUnits: number };
}

interface WorkflowTally {
  transitions: number;
  standardTransitions: number;
  expressExecutions: number;
  handedOff: boolean;
  invocations: number;
  expressInvocations: number;
  taskMs: number;
  waitSeconds: number;
  expressWaitSeconds: number;
  readonly logEvents: { express: number; standard: number };
  readonly entered: Map<string, number>;
}

/**
 * Log events Step Functions writes at level ALL: a Lambda Task's state entered, scheduled, started, succeeded and
 * exited; any other state's entered and exited; a retry's failure, scheduling and start; each execution's start and end.
 */
const logEventsPerTask = 5;
const logEventsPerOtherState = 2;
const logEventsPerRetry = 3;
const logEventsPerExecution = 2;

/** The capacity phase's figures as printable lines: the per-settlement table, cost, and the hottest partitions. */
export function formatCapacity(figures: CapacityFigures): string {
  const number = (value: number, digits = 1) => (Number.isInteger(value) ? String(value) : value.toFixed(digits));
  const usd = (value: number) => `$${value.toFixed(2)}`;
  const line = (label: string, ...columns: readonly string[]) => `  ${label.padEnd(52)} ${columns.map((column) => column.padStart(13)).join(' ')}`;
  const row = (label: string, value: (figures: PerSettlement) => string) => line(label, ...capacityRails.map((rail) => value(figures.perSettlement[rail])));
  const perRail = (value: (rail: CapacityRail) => string) => capacityRails.map(value);
  const cost = figures.costPerMillionUsd;
  const lines = [
    `Capacity model (${figures.settlementsPerRail} settlements per rail, DynamoDB calls recorded, list prices ${listPrices.region} ${listPrices.asOf}; docs/capacity.md)`,
    line('per settlement', 'SEPA', 'SWIFT', 'SWIFT slow', 'SEPA rejected'),
    row('DynamoDB transactions', (rail) => number(rail.transactions)),
    row('single-item writes (PutItem, UpdateItem, DeleteItem)', (rail) => number(rail.singleItemWrites)),
    row('items written', (rail) => number(rail.itemWrites)),
    row('write units (incl. index)', (rail) => number(rail.writeUnits)),
    row('  of which index writes', (rail) => number(rail.indexWriteUnits)),
    row('read units', (rail) => number(rail.readUnits)),
    row('mock bank record: items / write units / read units', (rail) => `${number(rail.mockBank.itemWrites)}/${number(rail.mockBank.writeUnits)}/${number(rail.mockBank.readUnits)}`),
    row('handed off to the Standard workflow', (rail) => `${Math.round(rail.handedOffShare * 100)}%`),
    row('Express executions / Standard transitions billed', (rail) => `${number(rail.expressExecutions)}/${number(rail.standardTransitions)}`),
    row('state transitions (all states, either workflow)', (rail) => number(rail.stateTransitions)),
    row('workflow log events, Express / Standard', (rail) => `${number(rail.workflowLogEvents.express)}/${number(rail.workflowLogEvents.standard)}`),
    row('Lambda invocations (incl. the REST submit)', (rail) => number(rail.lambdaInvocations)),
    row('Lambda ms, modelled on AWS (measured locally)', (rail) => `${number(rail.modelledLambdaMs, 0)} (${number(rail.lambdaMs, 0)})`),
    line('cost per million, fast path (as deployed)', ...perRail((rail) => usd(cost[rail].fastPath.total))),
    line('  DynamoDB / Step Functions / Lambda / logs', ...perRail((rail) => breakdown(cost[rail].fastPath))),
    line('cost per million, one Standard workflow (before)', ...perRail((rail) => usd(cost[rail].standard.total))),
    line(`on the hot pair (${hotPairShards} shards each): write / read units`, ...perRail((rail) => `${number(figures.hotPairPerSettlement[rail].writeUnits)}/${number(figures.hotPairPerSettlement[rail].readUnits)}`)),
    `  hottest partitions at ${projectionRatePerSecond.toLocaleString('en')} settlements/s, write units/s (uniform over ${projectionBanks} banks | ${skewedPairShare * 100}% on one pair, ${hotPairShards} shards each):`,
  ];
  for (let rank = 0; rank < 5; rank++) {
    const uniform = figures.hottestPartitions.uniform[rank];
    const skewed = figures.hottestPartitions.skewed[rank];
    lines.push(`    ${(uniform ? `${uniform.key} ${Math.round(uniform.writeUnitsPerSecond)}` : '').padEnd(48)} | ${skewed ? `${skewed.key} ${Math.round(skewed.writeUnitsPerSecond)}` : ''}`);
  }
  return lines.join('\n');
}

function breakdown(cost: SettlementCost): string {
  return [cost.dynamodb, cost.stepFunctions, cost.lambda, cost.logs].map((value) => value.toFixed(0)).join('/');
}

export async function measureCapacity(options: { settlementsPerRail: number; concurrency: Readonly<Record<CapacityRail, number>> }): Promise<CapacityFigures> {
  const context = new AsyncLocalStorage<string>();
  const workflow = new Map<string, WorkflowTally>();
  const waiters = new Map<string, () => void>();
  const engine = await startLocalEngine({
    httpPort: null,
    jobs: false,
    sqs: false,
    // The model counts the calls the stores make, as on AWS: no local group commit in between.
    groupCommit: false,
    tablePrefix: `capacity-${randomUUID().slice(0, 6)}-`,
    onExecutionEnd: (outcome) => waiters.get(outcome.settlementId)?.(),
    onStateEvent: (event) => observe(workflow, event),
  });
  try {
    const tables = new Map<string, RecordedTable>(
      tableDefinitions.map((definition) => [
        engine.tables[definition.logicalName],
        {
          label: definition.logicalName,
          shape: {
            partitionKey: definition.partitionKey.name,
            sortKey: definition.sortKey?.name,
            indexes: definition.globalSecondaryIndexes.map((index) => ({ indexName: index.indexName, partitionKey: index.partitionKey.name, sortKey: index.sortKey?.name, projection: index.projection })),
          },
        },
      ]),
    );
    // The mock bank's own record (a real rail keeps its own) is tallied apart from the engine's writes.
    const recorder = new CapacityRecorder(tables, (_operation, input) => {
      const settlementId = context.getStore();
      return settlementId !== undefined && isMockBankCall(input) ? `${settlementId}${mockBankSuffix}` : settlementId;
    });
    recorder.install(engine.documentClient);
    const run = randomUUID().slice(0, 6);
    const runRails = async (label: string): Promise<Map<CapacityRail, string[]>> => {
      const idsByRail = new Map<CapacityRail, string[]>();
      for (const rail of capacityRails) {
        const ids = Array.from({ length: options.settlementsPerRail }, (_, index) => `cap-${run}-${label}${rail}-${index}`);
        idsByRail.set(rail, ids);
        let next = 0;
        await Promise.all(
          Array.from({ length: options.concurrency[rail] }, async () => {
            while (next < ids.length) {
              const settlementId = ids[next++];
              const done = new Promise<void>((resolve) => waiters.set(settlementId, resolve));
              await context.run(settlementId, () => submitSettlement(engine.deps, request(settlementId, rail)));
              await done;
              const record = await engine.deps.settlements.get(settlementId);
              const expected = rail === 'SEPA_REJECTED' ? 'FAILED' : 'COMPLETED';
              if (record?.status !== expected) throw new Error(`capacity: ${settlementId} ended ${record?.status}, not ${expected}`);
            }
          }),
        );
      }
      return idsByRail;
    };
    // Ordinary accounts (one item each): the per-settlement table, the cost and the uniform projection.
    const idsByRail = await runRails('');
    // The skewed workload puts 80% of the traffic on one pair: that pair is configured as hot accounts (split into
    // balance shards, docs/architecture.md "Hot accounts"), and the same settlements run again on it.
    recorder.enabled = false;
    for (const hotAccountId of hotPairAccountIds) await engine.accounts.split(hotAccountId, hotPairShards);
    recorder.enabled = true;
    const hotIdsByRail = await runRails('hot-');
    recorder.enabled = false;
    const perSettlement = Object.fromEntries(capacityRails.map((rail) => [rail, summarize(idsByRail.get(rail)!.map((id) => ({ tally: recorder.tally(id), bank: recorder.tally(`${id}${mockBankSuffix}`), workflow: workflow.get(id) })))])) as Record<CapacityRail, PerSettlement>;
    const costPerMillionUsd = Object.fromEntries(
      capacityRails.map((rail) => {
        const usage = usageOf(perSettlement[rail]);
        return [rail, { fastPath: perMillion(settlementCostUsd(usage, 'FAST_PATH', listPrices)), standard: perMillion(settlementCostUsd(usage, 'STANDARD', listPrices)) }];
      }),
    ) as CapacityFigures['costPerMillionUsd'];
    const heat = (hottestPairShare: number, measured: Map<CapacityRail, string[]>) => {
      const byKey = new Map<string, number>();
      for (const rail of capacityRails) {
        const ids = measured.get(rail)!;
        const writes = ids.flatMap((id) => [recorder.tally(id), recorder.tally(`${id}${mockBankSuffix}`)].flatMap((tally) => [...tally.partitions].map(([key, writeUnits]) => ({ ...generic(key, id), writeUnits }))));
        for (const partition of projectPartitionHeat(partitionLoads(writes, ids.length), { settlementsPerSecond: projectionRatePerSecond, hottestPairShare, banks: projectionBanks })) {
          byKey.set(partition.key, Math.max(byKey.get(partition.key) ?? 0, partition.writeUnitsPerSecond));
        }
      }
      return [...byKey].map(([key, writeUnitsPerSecond]) => ({ key, writeUnitsPerSecond })).sort((left, right) => right.writeUnitsPerSecond - left.writeUnitsPerSecond);
    };
    const unattributed = recorder.tallies.get('unattributed');
    return {
      settlementsPerRail: options.settlementsPerRail,
      perSettlement,
      costPerMillionUsd,
      hottestPartitions: { uniform: heat(0, idsByRail), skewed: heat(skewedPairShare, hotIdsByRail) },
      hotPairPerSettlement: Object.fromEntries(capacityRails.map((rail) => [rail, summarize(hotIdsByRail.get(rail)!.map((id) => ({ tally: recorder.tally(id), bank: recorder.tally(`${id}${mockBankSuffix}`), workflow: workflow.get(id) })))])) as Record<CapacityRail, PerSettlement>,
      unattributed: { writeUnits: unattributed?.writeUnits ?? 0, readUnits: unattributed?.readUnits ?? 0 },
    };
  } finally {
    await engine.stop(2_000);
  }
}

const mockBankSuffix = '#mock-bank';

function isMockBankCall(input: Readonly<Record<string, unknown>>): boolean {
  const key = (input.Key ?? input.Item) as { pk?: { S?: string } } | undefined;
  return key?.pk?.S?.startsWith('MOCKBANK#') === true || (input.IndexName === 'gsi1' && JSON.stringify(input.ExpressionAttributeValues ?? {}).includes('MOCKBANK#'));
}

/** Each capacity rail as submitted: the request's rail, and the reference whose marker steers the mock bank. */
const asRequested: Readonly<Record<CapacityRail, readonly [string, string]>> = {
  SEPA: ['SEPA', 'capacity'],
  SWIFT: ['SWIFT', 'capacity'],
  SWIFT_SLOW: ['SWIFT', 'capacity [mock:slow]'],
  SEPA_REJECTED: ['SEPA', 'capacity [mock:reject]'],
};

function request(settlementId: string, rail: CapacityRail) {
  const [requestRail, reference] = asRequested[rail];
  return { settlementId, payerBic, payeeBic, amount: '1.00', currency: 'EUR', rail: requestRail, kind: 'INTERNATIONAL', valueDate: new Date().toISOString().slice(0, 10), reference };
}

function observe(workflow: Map<string, WorkflowTally>, event: WorkflowStateEvent): void {
  let tally = workflow.get(event.settlementId);
  if (tally === undefined) {
    tally = { transitions: 0, standardTransitions: 0, expressExecutions: 0, handedOff: false, invocations: 0, expressInvocations: 0, taskMs: 0, waitSeconds: 0, expressWaitSeconds: 0, logEvents: { express: 0, standard: 0 }, entered: new Map() };
    workflow.set(event.settlementId, tally);
  }
  const express = event.workflow === 'EXPRESS';
  const logs = express ? 'express' : 'standard';
  // The HandOff Task is Step Functions' own StartExecution: a state, not a Lambda invocation.
  const isLambdaTask = event.stateType === 'Task' && event.stateName !== 'HandOff';
  if (event.kind === 'entered' || event.kind === 'retried') {
    // Standard bills each state entered and each retry; a Lambda Task entered or retried is one invocation.
    tally.transitions += 1;
    if (!express) tally.standardTransitions += 1;
    if (isLambdaTask) tally.invocations += 1;
    if (isLambdaTask && express) tally.expressInvocations += 1;
    if (isLambdaTask) tally.entered.set(`${event.workflow}:${event.stateName}`, event.timestamp);
    tally.logEvents[logs] += event.kind === 'retried' ? logEventsPerRetry : isLambdaTask ? logEventsPerTask : logEventsPerOtherState;
    if (event.kind === 'entered' && express && event.stateName === 'Validate') tally.expressExecutions += 1;
    if (event.kind === 'entered' && (event.stateName === 'Validate' || event.stateName === 'Route')) tally.logEvents[logs] += logEventsPerExecution;
    if (event.kind === 'entered' && event.stateName === 'HandOff') tally.handedOff = true;
    if (event.stateType === 'Wait' && event.kind === 'entered') {
      const seconds = Number((event.input as { confirmation?: { waitSeconds?: number } })?.confirmation?.waitSeconds ?? 0);
      tally.waitSeconds += seconds;
      if (express) tally.expressWaitSeconds += seconds;
    }
  } else if (isLambdaTask) {
    const entered = tally.entered.get(`${event.workflow}:${event.stateName}`);
    if (entered !== undefined) tally.taskMs += event.timestamp - entered;
  }
}

function summarize(settlements: readonly { tally: Tally; bank: Tally; workflow: WorkflowTally | undefined }[]): PerSettlement {
  const count = settlements.length;
  const mean = (value: (entry: (typeof settlements)[number]) => number) => settlements.reduce((sum, entry) => sum + value(entry), 0) / count;
  const calls: Record<string, number> = {};
  for (const { tally } of settlements) for (const [operation, n] of tally.calls) calls[operation] = (calls[operation] ?? 0) + n / count;
  const lambdaInvocations = mean((entry) => entry.workflow?.invocations ?? 0) + submitInvocations;
  return {
    transactions: mean((entry) => entry.tally.transactions),
    singleItemWrites: mean((entry) => ['PutItem', 'UpdateItem', 'DeleteItem'].reduce((sum, operation) => sum + (entry.tally.calls.get(operation) ?? 0), 0)),
    itemWrites: mean((entry) => entry.tally.itemWrites),
    writeUnits: mean((entry) => entry.tally.writeUnits),
    indexWriteUnits: mean((entry) => entry.tally.indexWriteUnits),
    readUnits: mean((entry) => entry.tally.readUnits),
    stateTransitions: mean((entry) => entry.workflow?.transitions ?? 0),
    standardTransitions: mean((entry) => entry.workflow?.standardTransitions ?? 0),
    expressExecutions: mean((entry) => entry.workflow?.expressExecutions ?? 0),
    handedOffShare: mean((entry) => (entry.workflow?.handedOff ? 1 : 0)),
    workflowLogEvents: { express: mean((entry) => entry.workflow?.logEvents.express ?? 0), standard: mean((entry) => entry.workflow?.logEvents.standard ?? 0) },
    expressInvocations: mean((entry) => entry.workflow?.expressInvocations ?? 0),
    expressWaitSeconds: mean((entry) => entry.workflow?.expressWaitSeconds ?? 0),
    lambdaInvocations,
    lambdaMs: mean((entry) => entry.workflow?.taskMs ?? 0),
    waitSeconds: mean((entry) => entry.workflow?.waitSeconds ?? 0),
    calls,
    mockBank: { itemWrites: mean((entry) => entry.bank.itemWrites), writeUnits: mean((entry) => entry.bank.writeUnits), readUnits: mean((entry) => entry.bank.readUnits) },
    modelledLambdaMs: modelledLambdaMs(calls, lambdaInvocations),
  };
}

function usageOf(figures: PerSettlement): SettlementUsage {
  const stageMemoryGb = (stageFunctions[0]?.memorySizeMiB ?? 512) / 1024;
  const apiMemoryGb = apiFunction.memorySizeMiB / 1024;
  const averageInvocationSeconds = figures.modelledLambdaMs / 1000 / figures.lambdaInvocations;
  const stageSeconds = averageInvocationSeconds * (figures.lambdaInvocations - submitInvocations);
  return {
    writeUnits: figures.writeUnits,
    readUnits: figures.readUnits,
    stateTransitions: figures.stateTransitions,
    standardTransitions: figures.standardTransitions,
    expressExecutions: figures.expressExecutions,
    // An Express execution lasts as long as its Tasks (modelled Lambda time) and its Wait states.
    expressSeconds: averageInvocationSeconds * figures.expressInvocations + figures.expressWaitSeconds,
    lambdaInvocations: figures.lambdaInvocations,
    lambdaGbSeconds: stageSeconds * stageMemoryGb + submitInvocations * averageInvocationSeconds * apiMemoryGb,
    logBytes: figures.lambdaInvocations * logBytesPerInvocation,
    workflowLogEvents: figures.workflowLogEvents,
  };
}

/** Makes a partition key generic: the settlement's own id and minute buckets become placeholders; names its scope. */
export function generic(key: string, settlementId: string): { key: string; scope: PartitionScope } {
  const genericKey = key.split(settlementId).join('<settlement>').replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/g, '<minute>');
  const scope: PartitionScope = genericKey.includes('<settlement>') ? 'settlement' : genericKey.includes(payerBic) || genericKey.includes(payeeBic) ? 'account' : 'shared';
  return { key: genericKey, scope };
}
