/**
 * Crash harness: runs the engine as `npm start` does (bin/local.ts under tsx, the SQS emulator, the job timers),
 * drives load over HTTP, kills the engine's whole process group with SIGKILL at a random moment, restarts it,
 * waits for the start-up recovery sweep to finish what was in flight, and checks the money invariants. Used by
 * test/crash (a few cycles) and bench/soak.ts (as many as asked).
 *
 * Where the database lives is a choice:
 * - `external` (default): one DynamoDB Local outside the killed group (the test run's shared one, or one started
 *   here on a temp data directory), the engine pointed at it with AWS_ENDPOINT_URL. That is the production
 *   topology — on AWS the database never dies with a Lambda or the gRPC task — and it spares a JVM start per cycle.
 * - `embedded`: DynamoDB Local is the engine's own child on DATA_DIR and dies with it (a power cut on a laptop
 *   running `npm start`); the restart reopens the same data directory. Slower; the soak offers it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/client';
import { DynamoAccountStore } from '../../lambdas/adapters/dynamodb/account-store';
import { tableNamesWithPrefix } from '../../lambdas/adapters/dynamodb/table-definitions';
import { freePort, localCredentials, localRegion, startDynamoDbLocal, type DynamoDbLocal } from '../../lambdas/local/dynamodb-local';
import { scanAll } from '../support/invariants';
import type { TestEngine } from '../support/engine';
import { quietBookViolations, summaryOf, type BookAccess } from '../property/invariants';
import { seededRandom as generator } from '../support/random';

const repositoryRoot = path.resolve(__dirname, '../..');
const tsxPath = path.join(repositoryRoot, 'node_modules', '.bin', 'tsx');

/** How long a start may take (JVM, tsx compile, seed); generous for a loaded CI machine. */
export const engineStartTimeoutMs = 120_000;
/** Accounts of the demo seed split into balance shards before the first cycle, and into how many. */
export const crashHotAccountIds = ['VOSTRO#DEUTDEFF#EUR', 'NOSTRO#BNPAFRPP#EUR'] as const;
export const crashHotAccountShards = 4;
/** How long the start-up sweep may take to finish what a crash left in flight. */
export const recoveryTimeoutMs = 90_000;

export interface CrashRunOptions {
  readonly cycles: number;
  readonly database?: 'external' | 'embedded';
  /** Load runs for a random time in [min, max] before the kill. */
  readonly loadMsMin?: number;
  readonly loadMsMax?: number;
  /** Concurrent HTTP clients. */
  readonly clients?: number;
  /** Seed of the random choices (kill moments, requests); printed so a run can be repeated. */
  readonly seed?: number;
  readonly onCycle?: (cycle: CycleReport) => void;
}

export interface CycleReport {
  readonly cycle: number;
  readonly requestsSent: number;
  readonly accepted: number;
  readonly killedAfterMs: number;
  /** Settlements found mid-flight after the restart (the sweep resumed them). */
  readonly inFlightAtRestart: number;
  readonly recoveryMs: number;
  readonly violations: readonly string[];
}

export interface CrashRunReport {
  readonly seed: number;
  readonly cycles: readonly CycleReport[];
  readonly settlements: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly violations: readonly string[];
}

/** One `npm start`-like engine process (its own process group) on a data directory. */
export class EngineProcess {
  private output = '';
  private constructor(
    readonly child: ChildProcess,
    readonly httpUrl: string,
    readonly dynamoEndpoint: string,
    private readonly exited: Promise<number | null>,
  ) {}

  static async start(dataDirectory: string, apiKeysConfig: string, database: ExternalDatabase | undefined): Promise<EngineProcess> {
    const [httpPort, dynamoPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
    const environment: NodeJS.ProcessEnv = { ...process.env };
    delete environment.AWS_ENDPOINT_URL;
    Object.assign(environment, {
      HTTP_PORT: String(httpPort),
      GRPC_PORT: String(grpcPort),
      ...(database ? { AWS_ENDPOINT_URL: database.endpoint, TABLE_PREFIX: database.tablePrefix } : { DYNAMODB_LOCAL_PORT: String(dynamoPort), DATA_DIR: dataDirectory }),
      API_KEYS: apiKeysConfig,
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      RECOVERY_JOB_INTERVAL_SECONDS: '2',
      RECOVERY_STUCK_AFTER_SECONDS: '5',
      // The invariants below read the mock bank's durable record; the ISO 20022 rails have their own tests.
      BANK_ADAPTER: 'mock',
    });
    const child = spawn(tsxPath, ['bin/local.ts'], { cwd: repositoryRoot, env: environment, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const engine = new EngineProcess(child, `http://127.0.0.1:${httpPort}`, database?.endpoint ?? `http://127.0.0.1:${dynamoPort}`, exited);
    const keep = (chunk: Buffer) => (engine.output = (engine.output + chunk.toString()).slice(-8000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + engineStartTimeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the engine exited with code ${child.exitCode} while starting:\n${engine.output}`);
      try {
        if ((await fetch(`${engine.httpUrl}/health`)).status === 200) return engine;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    engine.kill();
    throw new Error(`the engine did not become healthy within ${engineStartTimeoutMs} ms:\n${engine.output}`);
  }

  get log(): string {
    return this.output;
  }

  /** SIGKILL to the whole group: the engine, its DynamoDB Local and its SQS emulator. */
  kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  async killAndWait(): Promise<void> {
    this.kill();
    await this.exited;
    // DynamoDB Local is a grandchild in the same group; give the kernel a moment to reap it and free its files.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  /** Graceful stop (SIGTERM to the group), as Ctrl+C does. */
  async stop(): Promise<void> {
    try {
      process.kill(-this.child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => this.kill(), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

const payers = ['DEUTDEFF', 'BNPAFRPP', 'INGBNL2A', 'BARCGB22'];
const payees = ['DEUTDEFF', 'BNPAFRPP', 'INGBNL2A', 'BARCGB22'];
const markers = ['', '', '', '', ' [mock:timeout]', ' [mock:reject]', ' [mock:slow]', ' [mock:late-reject]', ' [mock:unavailable]'];
const rails = ['SEPA', 'MOCK', 'SWIFT'];

/** Clients sending settlements until `stop` is set; requests cut by the kill count as sent, not accepted. */
async function load(engine: EngineProcess, apiKey: string, random: () => number, clients: number, cycle: number, stop: { now: boolean }) {
  let sent = 0;
  let accepted = 0;
  let sequence = 0;
  const client = async (clientIndex: number) => {
    while (!stop.now) {
      const payer = payers[Math.floor(random() * payers.length)];
      const payee = payees.filter((bic) => bic !== payer)[Math.floor(random() * (payees.length - 1))];
      const body = {
        settlementId: `crash-c${cycle}-k${clientIndex}-${++sequence}`,
        payerBic: payer,
        payeeBic: payee,
        amount: `${1 + Math.floor(random() * 5000)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`,
        currency: 'EUR',
        rail: rails[Math.floor(random() * rails.length)],
        kind: 'DOMESTIC',
        valueDate: new Date().toISOString().slice(0, 10),
        reference: `crash load${markers[Math.floor(random() * markers.length)]}`,
      };
      sent++;
      try {
        const response = await fetch(`${engine.httpUrl}/api/v1/settlements`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify(body) });
        if (response.status === 202 || response.status === 200) accepted++;
        else if (response.status !== 503) throw new Error(`unexpected ${response.status}: ${await response.text()}`);
      } catch (error) {
        if (stop.now || (error as Error).message.startsWith('fetch failed')) return;
        throw error;
      }
    }
  };
  const running = Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
  return { running, counts: () => ({ sent, accepted }) };
}

/** Waits until every settlement is terminal or parked; returns how many were mid-flight at first look. */
export async function waitForQuiet(access: BookAccess): Promise<{ inFlightAtRestart: number; recoveryMs: number }> {
  const started = Date.now();
  let first: number | undefined;
  for (;;) {
    const records = (await scanAll(access as unknown as TestEngine, 'settlements')).filter((item) => item.sk === 'RECORD');
    const inFlight = records.filter((record) => record.status !== 'COMPLETED' && record.status !== 'FAILED' && !record.parked).length;
    first ??= inFlight;
    if (inFlight === 0) return { inFlightAtRestart: first, recoveryMs: Date.now() - started };
    if (Date.now() - started > recoveryTimeoutMs) throw new Error(`${inFlight} settlement(s) still in flight ${recoveryTimeoutMs} ms after the restart`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface ExternalDatabase {
  readonly endpoint: string;
  readonly tablePrefix: string;
}

export function bookAccess(dynamoEndpoint: string, tablePrefix: string): BookAccess & { destroy(): void } {
  const documentClient: DynamoDBDocumentClient = createDocumentClient({ endpoint: dynamoEndpoint, region: localRegion, credentials: localCredentials, maxAttempts: 5 });
  return { documentClient, tables: tableNamesWithPrefix(tablePrefix), destroy: () => (documentClient as unknown as DynamoDBClient).destroy() };
}

export async function runCrashCycles(options: CrashRunOptions): Promise<CrashRunReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = generator(seed);
  const dataDirectory = mkdtempSync(path.join(tmpdir(), 'settlement-crash-'));
  const apiKey = randomBytes(24).toString('hex');
  const apiKeysConfig = `crash-load:${createHash('sha256').update(apiKey).digest('hex')}`;
  const cycles: CycleReport[] = [];
  let engine: EngineProcess | undefined;
  let access: (BookAccess & { destroy(): void }) | undefined;
  let ownDatabase: DynamoDbLocal | undefined;
  try {
    let database: ExternalDatabase | undefined;
    if ((options.database ?? 'external') === 'external') {
      const shared = process.env.TEST_DYNAMODB_ENDPOINT;
      if (!shared) ownDatabase = await startDynamoDbLocal({ dataDirectory });
      database = { endpoint: shared ?? ownDatabase!.endpoint, tablePrefix: `crash${seed.toString(36)}-` };
    }
    const tablePrefix = database?.tablePrefix ?? 'settlement-engine-';
    engine = await EngineProcess.start(dataDirectory, apiKeysConfig, database);
    access = bookAccess(engine.dynamoEndpoint, tablePrefix);
    // The busiest accounts of the load run as hot accounts (balance shards): the kills hit sharded locks too.
    const accounts = new DynamoAccountStore(access.documentClient, access.tables);
    for (const hotAccountId of crashHotAccountIds) if ((await accounts.get(hotAccountId))?.shards === undefined) await accounts.split(hotAccountId, crashHotAccountShards);
    const baseline = await summaryOf(access);
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const stop = { now: false };
      const traffic = await load(engine, apiKey, random, options.clients ?? 6, cycle, stop);
      const loadMsMin = options.loadMsMin ?? 300;
      const killedAfterMs = loadMsMin + Math.floor(random() * ((options.loadMsMax ?? 2_500) - loadMsMin));
      await new Promise((resolve) => setTimeout(resolve, killedAfterMs));
      stop.now = true;
      access.destroy();
      await engine.killAndWait();
      await traffic.running.catch(() => undefined);
      engine = await EngineProcess.start(dataDirectory, apiKeysConfig, database);
      access = bookAccess(engine.dynamoEndpoint, tablePrefix);
      const { inFlightAtRestart, recoveryMs } = await waitForQuiet(access);
      const violations = await quietBookViolations(access, { baseline, vostroMovements: {}, retriesDrained: false });
      const { sent, accepted } = traffic.counts();
      const report: CycleReport = { cycle, requestsSent: sent, accepted, killedAfterMs, inFlightAtRestart, recoveryMs, violations };
      cycles.push(report);
      options.onCycle?.(report);
      if (violations.length > 0) break;
    }
    const records = (await scanAll(access as unknown as TestEngine, 'settlements')).filter((item) => item.sk === 'RECORD');
    const outcomes: Record<string, number> = {};
    for (const record of records) {
      const outcome = record.parked ? `PARKED ${String(record.status)}` : String(record.status);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    return { seed, cycles, settlements: records.length, outcomes, violations: cycles.flatMap((cycle) => cycle.violations.map((violation) => `cycle ${cycle.cycle}: ${violation}`)) };
  } catch (error) {
    throw new Error(`crash run (seed ${seed}) failed: ${(error as Error).message}\n--- engine output ---\n${engine?.log ?? ''}`, { cause: error });
  } finally {
    access?.destroy();
    await engine?.stop();
    await ownDatabase?.stop();
    rmSync(dataDirectory, { recursive: true, force: true });
  }
}
