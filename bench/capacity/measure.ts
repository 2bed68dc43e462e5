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

export const capacityRails = ['SEPA', 'SWIFT'] as const;
export type CapacityRail = (typeof capacityRails)[number];

/** The projection's rate and network: 1,000 settlements/s over 100 banks, and 80% of them on one pair. */
export const projectionRatePerSecond = 1_000;
export const projectionBanks = 100;
export const skewedPairShare = 0.8;
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
  readonly itemWrites: number;
  readonly writeUnits: number;
  readonly indexWriteUnits: number;
  readonly readUnits: number;
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  /** Task time measured locally (ms per settlement), billed as Lambda duration. */
  readonly lambdaMs: number;
  /** Wait-state seconds per settlement (the bank's pending checks). */
  readonly waitSeconds: number;
  readonly calls: Readonly<Record<string, number>>;
  /** The mock bank's own record of the transfer (not part of the engine; a real rail keeps its own). */
  readonly mockBank: { readonly itemWrites: number; readonly writeUnits: number; readonly readUnits: number };
  /** Lambda milliseconds billed on AWS, modelled from the calls (model.ts modelledLambdaMs). */
  readonly modelledLambdaMs: number;
}

export interface CapacityFigures {
  readonly settlementsPerRail: number;
  readonly perSettlement: Readonly<Record<CapacityRail, PerSettlement>>;
  readonly costPerMillionUsd: Readonly<Record<CapacityRail, { standard: SettlementCost; express: SettlementCost }>>;
  readonly hottestPartitions: { readonly uniform: readonly PartitionHeat[]; readonly skewed: readonly PartitionHeat[] };
  /** Calls made outside any settlement while the phase ran (jobs are off, no gRPC server runs). */
  readonly unattributed: { readonly writeUnits: number; readonly readUnits: number };
}

interface WorkflowTally {
  transitions: number;
  invocations: number;
  taskMs: number;
  waitSeconds: number;
  readonly entered: Map<string, number>;
}

/** The capacity phase's figures as printable lines: the per-settlement table, cost, and the hottest partitions. */
export function formatCapacity(figures: CapacityFigures): string {
  const { SEPA, SWIFT } = figures.perSettlement;
  const number = (value: number, digits = 1) => (Number.isInteger(value) ? String(value) : value.toFixed(digits));
  const usd = (value: number) => `$${value.toFixed(2)}`;
  const line = (label: string, sepa: string, swift: string) => `  ${label.padEnd(52)} ${sepa.padStart(12)} ${swift.padStart(12)}`;
  const cost = figures.costPerMillionUsd;
  const lines = [
    `Capacity model (${figures.settlementsPerRail} settlements per rail, DynamoDB calls recorded, list prices ${listPrices.region} ${listPrices.asOf}; docs/capacity.md)`,
    line('per settlement', 'SEPA', 'SWIFT'),
    line('DynamoDB transactions', number(SEPA.transactions), number(SWIFT.transactions)),
    line('items written', number(SEPA.itemWrites), number(SWIFT.itemWrites)),
    line('write units (incl. index)', number(SEPA.writeUnits), number(SWIFT.writeUnits)),
    line('  of which index writes', number(SEPA.indexWriteUnits), number(SWIFT.indexWriteUnits)),
    line('read units', number(SEPA.readUnits), number(SWIFT.readUnits)),
    line('mock bank record: items / write units / read units', `${number(SEPA.mockBank.itemWrites)}/${number(SEPA.mockBank.writeUnits)}/${number(SEPA.mockBank.readUnits)}`, `${number(SWIFT.mockBank.itemWrites)}/${number(SWIFT.mockBank.writeUnits)}/${number(SWIFT.mockBank.readUnits)}`),
    line('Step Functions Standard state transitions', number(SEPA.stateTransitions), number(SWIFT.stateTransitions)),
    line('Lambda invocations (incl. the REST submit)', number(SEPA.lambdaInvocations), number(SWIFT.lambdaInvocations)),
    line('Lambda ms, modelled on AWS (measured locally)', `${number(SEPA.modelledLambdaMs, 0)} (${number(SEPA.lambdaMs, 0)})`, `${number(SWIFT.modelledLambdaMs, 0)} (${number(SWIFT.lambdaMs, 0)})`),
    line('cost per million, Standard workflow', usd(cost.SEPA.standard.total), usd(cost.SWIFT.standard.total)),
    line('  DynamoDB / Step Functions / Lambda / logs', breakdown(cost.SEPA.standard), breakdown(cost.SWIFT.standard)),
    line('cost per million, Express workflow', usd(cost.SEPA.express.total), usd(cost.SWIFT.express.total)),
    `  hottest partitions at ${projectionRatePerSecond.toLocaleString('en')} settlements/s, write units/s (uniform over ${projectionBanks} banks | ${skewedPairShare * 100}% on one pair):`,
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
    const idsByRail = new Map<CapacityRail, string[]>();
    for (const rail of capacityRails) {
      const ids = Array.from({ length: options.settlementsPerRail }, (_, index) => `cap-${run}-${rail}-${index}`);
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
            if (record?.status !== 'COMPLETED') throw new Error(`capacity: ${settlementId} ended ${record?.status}`);
          }
        }),
      );
    }
    recorder.enabled = false;
    const perSettlement = Object.fromEntries(capacityRails.map((rail) => [rail, summarize(idsByRail.get(rail)!.map((id) => ({ tally: recorder.tally(id), bank: recorder.tally(`${id}${mockBankSuffix}`), workflow: workflow.get(id) })))])) as Record<CapacityRail, PerSettlement>;
    const costPerMillionUsd = Object.fromEntries(
      capacityRails.map((rail) => {
        const usage = usageOf(perSettlement[rail]);
        return [rail, { standard: perMillion(settlementCostUsd(usage, 'STANDARD', listPrices)), express: perMillion(settlementCostUsd(usage, 'EXPRESS', listPrices)) }];
      }),
    ) as CapacityFigures['costPerMillionUsd'];
    const heat = (hottestPairShare: number) => {
      const byKey = new Map<string, number>();
      for (const rail of capacityRails) {
        const ids = idsByRail.get(rail)!;
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
      hottestPartitions: { uniform: heat(0), skewed: heat(skewedPairShare) },
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

function request(settlementId: string, rail: CapacityRail) {
  return { settlementId, payerBic, payeeBic, amount: '1.00', currency: 'EUR', rail, kind: 'INTERNATIONAL', valueDate: new Date().toISOString().slice(0, 10), reference: 'capacity' };
}

function observe(workflow: Map<string, WorkflowTally>, event: WorkflowStateEvent): void {
  let tally = workflow.get(event.settlementId);
  if (tally === undefined) {
    tally = { transitions: 0, invocations: 0, taskMs: 0, waitSeconds: 0, entered: new Map() };
    workflow.set(event.settlementId, tally);
  }
  const isTask = event.stateType === 'Task';
  if (event.kind === 'entered' || event.kind === 'retried') {
    // Standard bills each state entered and each retry; a Task entered or retried is one Lambda invocation.
    tally.transitions += 1;
    if (isTask) tally.invocations += 1;
    if (isTask) tally.entered.set(event.stateName, event.timestamp);
    if (event.stateType === 'Wait' && event.kind === 'entered') tally.waitSeconds += Number((event.input as { confirmation?: { waitSeconds?: number } })?.confirmation?.waitSeconds ?? 0);
  } else if (isTask) {
    const entered = tally.entered.get(event.stateName);
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
    itemWrites: mean((entry) => entry.tally.itemWrites),
    writeUnits: mean((entry) => entry.tally.writeUnits),
    indexWriteUnits: mean((entry) => entry.tally.indexWriteUnits),
    readUnits: mean((entry) => entry.tally.readUnits),
    stateTransitions: mean((entry) => entry.workflow?.transitions ?? 0),
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
    lambdaInvocations: figures.lambdaInvocations,
    lambdaGbSeconds: stageSeconds * stageMemoryGb + submitInvocations * averageInvocationSeconds * apiMemoryGb,
    workflowSeconds: stageSeconds + figures.waitSeconds,
    logBytes: figures.lambdaInvocations * logBytesPerInvocation,
  };
}

/** Makes a partition key generic: the settlement's own id and minute buckets become placeholders; names its scope. */
export function generic(key: string, settlementId: string): { key: string; scope: PartitionScope } {
  const genericKey = key.split(settlementId).join('<settlement>').replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/g, '<minute>');
  const scope: PartitionScope = genericKey.includes('<settlement>') ? 'settlement' : genericKey.includes(payerBic) || genericKey.includes(payeeBic) ? 'account' : 'shared';
  return { key: genericKey, scope };
}
