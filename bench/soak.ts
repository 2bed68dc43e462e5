/**
 * `npm run soak -- --cycles 200`: the crash test for as long as asked. Each cycle runs load over HTTP against the
 * engine as `npm start` runs it, kills it with SIGKILL at a random moment, restarts it, waits for the start-up
 * recovery sweep and checks every money invariant (test/crash/harness.ts). Stops at the first violation and
 * prints the seed that repeats the run.
 *
 *   --cycles N            cycles to run (default 20)
 *   --database external   DynamoDB Local outside the killed process group (default; the AWS topology)
 *   --database embedded   DynamoDB Local dies with the engine and reopens its data directory (a laptop power cut)
 *   --seed S              repeat a run's random choices (kill moments, requests)
 *   --clients C           concurrent HTTP clients (default 6)
 *
 * `npm run soak -- --faults 10000`: the fault-injection soak instead (test/races/harness/faults.ts): N random
 * operations over the engine on its own DynamoDB Local, with transaction conflicts, throttling and lost responses
 * injected under every store call, then every invariant of the race harness. Prints the operation count and the
 * violations (0, or it exits 1 with the seed). --seed S repeats a run; --pairs P account pairs (default 3);
 * --concurrency C operations at once (default 6).
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { runCrashCycles, type CycleReport } from '../test/crash/harness';
import { runFaultSoak } from '../test/races/harness/faults';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/client';
import { ensureTables } from '../lambdas/adapters/dynamodb/bootstrap';
import { tableNamesWithPrefix } from '../lambdas/adapters/dynamodb/table-definitions';
import { localCredentials, localRegion, startDynamoDbLocal } from '../lambdas/local/dynamodb-local';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function positive(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return value;
}

const barWidth = 30;

/** One line, redrawn in place on a terminal; a line per cycle otherwise (CI logs). */
function progress(done: number, total: number, totals: { accepted: number; inFlight: number }, last: CycleReport, startedMs: number): void {
  const filled = Math.round((done / total) * barWidth);
  const elapsedSeconds = Math.round((Date.now() - startedMs) / 1000);
  const etaSeconds = done === 0 ? 0 : Math.round((elapsedSeconds / done) * (total - done));
  const line =
    `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${done}/${total} cycles · ${totals.accepted} settlements accepted · ${totals.inFlight} resumed after kills · ` +
    `last: killed after ${last.killedAfterMs} ms, ${last.inFlightAtRestart} in flight, quiet in ${(last.recoveryMs / 1000).toFixed(1)} s · ${elapsedSeconds}s elapsed, ~${etaSeconds}s left`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 200) - 1)}`);
  else process.stderr.write(`${line}\n`);
}

/** The fault-injection soak: its own DynamoDB Local, N operations, the invariants; exits 1 on a violation. */
async function faultSoak(operations: number): Promise<void> {
  const seedOption = option('seed');
  const seed = seedOption === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(seedOption);
  const startedMs = Date.now();
  console.error(`soak: ${operations} random operations with injected conflicts, throttling and lost responses, seed ${seed}`);
  const dynamo = await startDynamoDbLocal();
  const client = createDocumentClient({ endpoint: dynamo.endpoint, region: localRegion, credentials: localCredentials });
  // The engine's job logs (sweeps meeting injected faults) would drown the progress line.
  const quiet = { log: console.log, warn: console.warn, error: console.error };
  console.log = console.warn = console.error = () => undefined;
  try {
    const tables = tableNamesWithPrefix(`soak${randomUUID().slice(0, 6)}-`);
    await ensureTables(client as unknown as DynamoDBClient, tables);
    const report = await runFaultSoak({
      client,
      tables,
      operations,
      seed,
      pairs: positive('pairs', 3),
      concurrency: positive('concurrency', 6),
      onProgress: (done) => {
        if (done % 500 === 0 || done === operations) process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}soak: ${done}/${operations} operations, ${Math.round((Date.now() - startedMs) / 1000)} s${process.stderr.isTTY ? '' : '\n'}`);
      },
    });
    Object.assign(console, quiet);
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(JSON.stringify({ seed, operations: report.operations, settlements: report.settlements, violations: report.violations.length, faults: report.faults, ends: report.outcomes, byKind: report.byKind }, null, 2));
    if (report.violations.length > 0) {
      console.error(`soak: ${report.violations.length} invariant violations:\n  ${report.violations.slice(0, 20).join('\n  ')}\nRepeat with: npm run soak -- --faults ${operations} --seed ${seed}`);
      process.exitCode = 1;
      return;
    }
    console.error(`soak: ${report.operations} operations, 0 violations (${Math.round((Date.now() - startedMs) / 1000)} s)`);
  } finally {
    Object.assign(console, quiet);
    (client as unknown as DynamoDBClient).destroy();
    await dynamo.stop();
  }
}

async function main(): Promise<void> {
  const faults = option('faults');
  if (faults !== undefined) return faultSoak(positive('faults', 10_000));
  const cycles = positive('cycles', 20);
  const database = option('database') ?? 'external';
  if (database !== 'external' && database !== 'embedded') throw new Error('--database must be external or embedded');
  const seedOption = option('seed');
  const seed = seedOption === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(seedOption);
  const startedMs = Date.now();
  const totals = { accepted: 0, inFlight: 0 };
  console.error(`soak: ${cycles} SIGKILL cycles, database ${database}, seed ${seed}`);
  const report = await runCrashCycles({
    cycles,
    database,
    seed,
    clients: positive('clients', 6),
    onCycle: (cycle) => {
      totals.accepted += cycle.accepted;
      totals.inFlight += cycle.inFlightAtRestart;
      progress(cycle.cycle, cycles, totals, cycle, startedMs);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(JSON.stringify({ seed: report.seed, cycles: report.cycles.length, settlements: report.settlements, outcomes: report.outcomes, violations: report.violations }, null, 2));
  if (report.violations.length > 0) {
    console.error(`soak: invariants broken. Repeat with: npm run soak -- --cycles ${cycles} --database ${database} --seed ${report.seed}`);
    process.exit(1);
  }
  console.error(`soak: ${report.cycles.length} cycles, every invariant held (${Math.round((Date.now() - startedMs) / 1000)} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
