/**
 * `npm run bench`: end-to-end figures of the local engine on this machine, beside the seed's targets and the raw
 * ceiling of the local DynamoDB server measured in the same run.
 *
 *   BENCH_SECONDS      length of each timed phase (default 15)
 *   BENCH_WARMUP_SECONDS  load before the first measured phase of each engine (default 3 × BENCH_SECONDS): DynamoDB
 *                      Local's JIT needs about a minute of load to settle
 *   BENCH_CONCURRENCY  settlements in flight in the throughput phase (default 64)
 *   BENCH_JSON         when set, the headline figures are also written there as JSON
 *   BENCH_CAPACITY_SETTLEMENTS  settlements per rail in the capacity model's phase (default 40)
 *   BENCH_HOT_SHARDS    balance shards of the pair every settlement uses, as an operator splits a hot pair (default 16;
 *                       1 keeps each account one item, as before hot accounts)
 *   BENCH_GROUP_COMMIT  0 sends every DynamoDB call as the stores make it (no local group commit), for comparison
 */
import { performance } from 'node:perf_hooks';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { startLocalEngine, type LocalEngine } from '../lambdas/local/engine';
import { submitSettlement } from '../lambdas/usecases/settlements';
import type { ExecutionOutcome } from '../lambdas/local/local-workflow';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { benchReconciliation } from './reconciliation';
import { writeFileSync } from 'node:fs';
import { benchGrpc, benchWarmupSeconds, formatGrpcFigures } from './grpc';
import { benchRails } from './rails';
import { formatCapacity, hotPairAccountIds, hotPairShards, measureCapacity } from './capacity/measure';
import type { GroupCommitStats } from '../lambdas/adapters/dynamodb/group-commit';

const phaseSeconds = Number(process.env.BENCH_SECONDS ?? 15);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const capacitySettlements = Number(process.env.BENCH_CAPACITY_SETTLEMENTS ?? 40);
const groupCommit = process.env.BENCH_GROUP_COMMIT !== '0';
const hotShards = Number(process.env.BENCH_HOT_SHARDS ?? hotPairShards);
const groupCommitStats: GroupCommitStats = { writesGrouped: 0, writeGroups: 0, groupsSplit: 0, readsGrouped: 0, readBatches: 0 };

const targets = { settlementsPerMinute: 1_000, domesticLatencySeconds: 5, rollbackSeconds: 2 };
const goals = { settlementsPerMinute: 10_000, p99MsAtHalfLoad: 250, rollbackP99Ms: 100 };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function request(id: string, reference = 'bench') {
  return { settlementId: id, payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: '1.00', currency: 'EUR', rail: 'MOCK', kind: 'DOMESTIC', valueDate: new Date().toISOString().slice(0, 10), reference };
}

/** Tracks when each execution ends, so latency is submit → terminal without polling. */
class Completions {
  private readonly waiters = new Map<string, (outcome: ExecutionOutcome) => void>();
  readonly onExecutionEnd = (outcome: ExecutionOutcome) => this.waiters.get(outcome.settlementId)?.(outcome);
  forget(settlementId: string): void {
    this.waiters.delete(settlementId);
  }
  wait(settlementId: string): Promise<ExecutionOutcome> {
    return new Promise((resolve) => this.waiters.set(settlementId, (outcome) => {
      this.waiters.delete(settlementId);
      resolve(outcome);
    }));
  }
}

/** Submissions DynamoDB Local refused (its lock wait times out on a loaded machine); the phase goes on without them. */
let submitFailures = 0;

async function runOne(engine: LocalEngine, completions: Completions, id: string, reference?: string): Promise<number> {
  const started = performance.now();
  const done = completions.wait(id);
  try {
    await submitSettlement(engine.deps, request(id, reference));
  } catch (error) {
    if ((error as { kind?: string }).kind !== 'transient') throw error;
    submitFailures += 1;
    completions.forget(id);
    return Number.NaN;
  }
  await done;
  return performance.now() - started;
}

/** Closed loop: `concurrency` settlements always in flight for `seconds`. */
async function throughput(engine: LocalEngine, completions: Completions, label: string, seconds: number): Promise<{ perMinute: number; count: number }> {
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  let sequence = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        if (!Number.isNaN(await runOne(engine, completions, `${label}-${worker}-${sequence++}`))) count++;
      }
    }),
  );
  const elapsedMinutes = (performance.now() - started) / 60_000;
  return { perMinute: count / elapsedMinutes, count };
}

/** Open loop at a fixed arrival rate: latency without queueing behind our own load generator. */
async function latencyAtRate(engine: LocalEngine, completions: Completions, label: string, perSecond: number, seconds: number, reference?: string): Promise<number[]> {
  const latencies: Promise<number>[] = [];
  const intervalMs = 1000 / perSecond;
  const total = Math.floor(perSecond * seconds);
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    const due = started + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    latencies.push(runOne(engine, completions, `${label}-${index}`, reference));
  }
  return (await Promise.all(latencies)).filter((latency) => !Number.isNaN(latency)).sort((a, b) => a - b);
}

/**
 * The raw ceiling: the writes one settlement needs on the lean write path (the same single-item writes and
 * transactions with the same item counts, without conditions), issued directly against the same DynamoDB Local with
 * the same concurrency. The shape is the capacity model's count for SEPA (docs/capacity.md): Submit's PutItem, the
 * lock transaction (record, payer's vostro, payee's nostro), InitiateTransfer's PutItem, Finalize's transaction
 * (record, two accounts, two ledger entries). Keep it in step with that count, or the share below means nothing.
 */
const ceilingWrites: readonly number[] = [1, 3, 1, 5]; // items per write; 1 = a PutItem, more = a transaction

async function rawCeiling(engine: LocalEngine, seconds: number): Promise<number> {
  const table = engine.tables.settlements;
  const deadline = performance.now() + seconds * 1000;
  let count = 0;
  let sequence = 0;
  const started = performance.now();
  const item = (id: string, step: number, index: number) => ({ pk: `${id}-${step}`, sk: `RAW#${index}`, value: NumberValue.from('1.00') });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const id = `raw-${sequence++}`;
        for (const [step, items] of ceilingWrites.entries()) {
          // DynamoDB Local's lock wait can time out on a loaded machine: that write is counted as not done.
          const written =
            items === 1
              ? engine.documentClient.send(new PutCommand({ TableName: table, Item: item(id, step, 0) }))
              : engine.documentClient.send(new TransactWriteCommand({ TransactItems: Array.from({ length: items }, (_, index) => ({ Put: { TableName: table, Item: item(id, step, index) } })) }));
          await written.catch(() => (submitFailures += 1));
        }
        count++;
      }
    }),
  );
  return count / ((performance.now() - started) / 60_000);
}

function row(label: string, value: string, target: string, goal = ''): string {
  return `  ${label.padEnd(44)} ${value.padStart(14)}   ${target.padEnd(22)} ${goal}`;
}

async function main(): Promise<void> {
  const completions = new Completions();
  console.log(`Settlement Engine benchmark: ${phaseSeconds} s phases after ${benchWarmupSeconds(phaseSeconds)} s of warm-up, ${concurrency} in flight, zero-latency mock bank, in-memory DynamoDB Local, group commit ${groupCommit ? 'on' : 'off'}`);
  console.log(`every settlement DEUTDEFF → BNPAFRPP EUR, ${hotShards > 1 ? `the pair split into ${hotShards} balance shards each` : 'each account one item'} (BENCH_HOT_SHARDS)\n`);
  let local: { settlementsPerMinute: number; ceilingSettlementsPerMinute: number; p99Ms: number; p99MsAtSeedRate: number; rollbackP99Ms: number } | undefined;
  const engine = await startLocalEngine({ httpPort: null, seed: undefined, onExecutionEnd: completions.onExecutionEnd, tablePrefix: 'bench-', groupCommit, groupCommitStats });
  try {
    // Every settlement of the bench uses one pair: the skewed workload at its extreme, split as an operator would.
    if (hotShards > 1) for (const accountId of hotPairAccountIds) await engine.accounts.split(accountId, hotShards);
    // Warm-up at the measured load, until DynamoDB Local's JIT has settled (benchWarmupSeconds); the ceiling after it.
    await throughput(engine, completions, 'warm', benchWarmupSeconds(phaseSeconds));
    const ceiling = await rawCeiling(engine, phaseSeconds);
    const measured = await throughput(engine, completions, 'tp', phaseSeconds);
    const halfRate = measured.perMinute / 60 / 2;
    const latencies = await latencyAtRate(engine, completions, 'lat', halfRate, phaseSeconds);
    // The same open loop at the seed's rate: comparable across runs whatever the closed loop reached.
    const seedRateLatencies = await latencyAtRate(engine, completions, 'seed', targets.settlementsPerMinute / 60, phaseSeconds);
    const rollbackLoadRate = Math.max(5, halfRate / 4);
    const rollbacks = await latencyAtRate(engine, completions, 'rb', rollbackLoadRate, Math.min(phaseSeconds, 10), '[mock:reject]');
    const rollbackTimes = await rollbackDurations(engine, 'rb', rollbacks.length);
    console.log(row('measure', 'value', 'seed target', 'project goal'));
    console.log(row('DynamoDB Local ceiling (same writes, direct)', `${Math.round(ceiling).toLocaleString('en')}/min`, '', ''));
    console.log(row('settlements end to end (closed loop)', `${Math.round(measured.perMinute).toLocaleString('en')}/min`, `≥ ${targets.settlementsPerMinute.toLocaleString('en')}/min`, `≥ ${goals.settlementsPerMinute.toLocaleString('en')}/min`));
    console.log(row('  share of the DynamoDB ceiling', `${((measured.perMinute / ceiling) * 100).toFixed(0)} %`, '', ''));
    console.log(row(`latency at half load (${Math.round(halfRate * 60).toLocaleString('en')}/min) p50`, `${percentile(latencies, 50).toFixed(1)} ms`, `< ${targets.domesticLatencySeconds} s domestic`, ''));
    console.log(row('latency at half load p95', `${percentile(latencies, 95).toFixed(1)} ms`, '', ''));
    console.log(row('latency at half load p99', `${percentile(latencies, 99).toFixed(1)} ms`, `< ${targets.domesticLatencySeconds} s`, `< ${goals.p99MsAtHalfLoad} ms`));
    console.log(row(`latency at the seed's ${targets.settlementsPerMinute.toLocaleString('en')}/min p50 / p99`, `${percentile(seedRateLatencies, 50).toFixed(0)} / ${percentile(seedRateLatencies, 99).toFixed(0)} ms`, '', ''));
    console.log(row('rollback (bank rejects → FAILED, lock voided) p50', `${percentile(rollbackTimes, 50).toFixed(1)} ms`, `< ${targets.rollbackSeconds} s`, ''));
    console.log(row('rollback p99', `${percentile(rollbackTimes, 99).toFixed(1)} ms`, `< ${targets.rollbackSeconds} s`, `< ${goals.rollbackP99Ms} ms`));
    console.log(
      groupCommit
        ? `\n  group commit (DynamoDB Local only): ${groupCommitStats.writesGrouped.toLocaleString('en')} writes in ${groupCommitStats.writeGroups.toLocaleString('en')} shared transactions (${(groupCommitStats.writesGrouped / Math.max(1, groupCommitStats.writeGroups)).toFixed(1)} each, ${groupCommitStats.groupsSplit} split and sent alone), ${groupCommitStats.readsGrouped.toLocaleString('en')} reads in ${groupCommitStats.readBatches.toLocaleString('en')} batches`
        : '\n  group commit off (BENCH_GROUP_COMMIT=0): every call sent as the stores make it',
    );
    console.log(`  settlements run: ${measured.count.toLocaleString('en')} (throughput), ${latencies.length} (latency), ${rollbacks.length} (rollback); submissions refused by DynamoDB Local (lock wait timed out): ${submitFailures}`);
    local = { settlementsPerMinute: measured.perMinute, ceilingSettlementsPerMinute: ceiling, p99Ms: percentile(latencies, 99), p99MsAtSeedRate: percentile(seedRateLatencies, 99), rollbackP99Ms: percentile(rollbackTimes, 99) };
  } finally {
    await engine.stop(2_000);
  }
  await reconciliationFigures();
  console.log('\ngRPC (ExecuteSettlement end to end, StreamSettlementEvents lag from commit stamp to client)');
  const grpc = await benchGrpc({ seconds: phaseSeconds });
  console.log(formatGrpcFigures(grpc));
  console.log('');
  const capacity = await measureCapacity({ settlementsPerRail: capacitySettlements, concurrency: { SEPA: 1, SWIFT: 10, SWIFT_SLOW: 10, SEPA_REJECTED: 1 } });
  console.log(formatCapacity(capacity));
  const hottest = (list: readonly { key: string; writeUnitsPerSecond: number }[]) => ({ key: list[0]?.key ?? '', writeUnitsPerSecondAt1000: round(list[0]?.writeUnitsPerSecond ?? 0) });
  const sepa = capacity.perSettlement.SEPA;
  const json = {
    measuredAt: new Date().toISOString(),
    phaseSeconds,
    warmupSeconds: benchWarmupSeconds(phaseSeconds),
    groupCommit,
    hotShards,
    settlementsPerMinute: round(local!.settlementsPerMinute),
    grpcSettlementsPerMinute: round(grpc.executePerMinute),
    ceilingSettlementsPerMinute: round(local!.ceilingSettlementsPerMinute),
    p99Ms: round(local!.p99Ms),
    p99MsAtSeedRate: round(local!.p99MsAtSeedRate),
    rollbackP99Ms: round(local!.rollbackP99Ms),
    perSettlement: {
      transactions: round(sepa.transactions),
      singleItemWrites: round(sepa.singleItemWrites),
      itemWrites: round(sepa.itemWrites),
      writeUnits: round(sepa.writeUnits),
      readUnits: round(sepa.readUnits),
      stateTransitions: round(sepa.stateTransitions),
      standardTransitions: round(sepa.standardTransitions),
      lambdaInvocations: round(sepa.lambdaInvocations),
    },
    perSettlementByRail: capacity.perSettlement,
    costPerMillionUsd: { SEPA: round(capacity.costPerMillionUsd.SEPA.fastPath.total), SWIFT: round(capacity.costPerMillionUsd.SWIFT.fastPath.total), SWIFT_SLOW: round(capacity.costPerMillionUsd.SWIFT_SLOW.fastPath.total), SEPA_REJECTED: round(capacity.costPerMillionUsd.SEPA_REJECTED.fastPath.total) },
    costPerMillionUsdByWorkflow: capacity.costPerMillionUsd,
    hottestPartition: { uniform: hottest(capacity.hottestPartitions.uniform), skewed: hottest(capacity.hottestPartitions.skewed) },
    hottestPartitions: { uniform: capacity.hottestPartitions.uniform.slice(0, 10), skewed: capacity.hottestPartitions.skewed.slice(0, 10) },
  };
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(json, null, 2)}\n`);
  await benchRails();
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Reconciliation: matching in bounded memory (10,000 and 100,000 entries), and 10,000 end to end through DynamoDB Local. */
async function reconciliationFigures(): Promise<void> {
  console.log('\nReconciliation (seed target: 10,000 transactions in < 5 minutes; project goal < 5 s locally)');
  for (const size of [10_000, 100_000]) {
    const result = await benchReconciliation(size);
    console.log(row(`matching ${size.toLocaleString('en')} entries`, `${result.milliseconds.toLocaleString('en')} ms`, `heap +${result.heapPeakMegabytes} MB`, `${result.discrepancies} discrepancies found`));
  }
  const store = spawnSync(process.execPath, [...process.execArgv, path.join(__dirname, 'reconciliation-store.ts'), '10000'], { encoding: 'utf8', env: process.env });
  const lines = `${store.stdout}${store.stderr}`.trim().split('\n').filter((line) => line.trim() !== '');
  console.log(`  end to end through DynamoDB Local (10,000 postings): ${lines.at(-1) ?? 'no output'}`);
}

/** Rollback time from the stored checkpoints: from the last forward checkpoint (LOCKED) to FAILED. */
async function rollbackDurations(engine: LocalEngine, label: string, count: number): Promise<number[]> {
  const durations: number[] = [];
  for (let index = 0; index < count; index++) {
    const history = await engine.deps.settlements.history(`${label}-${index}`);
    const locked = history?.events.find((event) => event.status === 'LOCKED');
    const failed = history?.events.find((event) => event.status === 'FAILED');
    if (locked && failed) durations.push(Date.parse(failed.at) - Date.parse(locked.at));
  }
  return durations.sort((a, b) => a - b);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
