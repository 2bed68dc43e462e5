/**
 * A race scenario: a world, what is done to it before the actors start (ungated), the actors, and optionally what
 * finishes the settlement afterwards. `exploreScenario` runs it under every explored schedule and checks the
 * invariants after each; `racesTables` gives a test file its own tables on the shared DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../lambdas/adapters/dynamodb/client';
import { ensureTables } from '../../../lambdas/adapters/dynamodb/bootstrap';
import { tableNamesWithPrefix, type TableNames } from '../../../lambdas/adapters/dynamodb/table-definitions';
import { localCredentials, localRegion, startDynamoDbLocal, type DynamoDbLocal } from '../../../lambdas/local/dynamodb-local';
import type { SettlementStatus } from '../../../lambdas/domain/settlement';
import { beginRollback, compensate, parkSettlement, releaseLocks } from '../../../lambdas/usecases/rollback';
import { initiateTransfer, lockFunds, validate } from '../../../lambdas/usecases/stages';
import { explore, settingsFromEnvironment, type ExplorationReport, type ExploreSettings, type ScheduleRun } from './explore';
import { baselineOf, worldViolations } from './invariants';
import { Scheduler, type Chooser } from './scheduler';
import { World, runExecution, type ActorOutcome, type WorldOptions } from './world';

export interface Scenario {
  readonly name: string;
  readonly world?: WorldOptions;
  /** Ungated set-up: what earlier actors left (a status reached, a park). */
  readonly prepare?: (world: World) => Promise<void>;
  /** Spawns the racing actors. */
  readonly actors: (world: World) => void;
  /** Ungated, after the actors: finishes a settlement the actors left in flight by design (a resumed execution). */
  readonly finish?: 'resume';
  readonly settings?: Partial<ExploreSettings>;
}

export interface RacesTables {
  readonly client: DynamoDBDocumentClient;
  readonly tables: TableNames;
  destroy(): void;
}

export async function racesTables(endpoint = process.env.TEST_DYNAMODB_ENDPOINT): Promise<RacesTables> {
  if (!endpoint) throw new Error('TEST_DYNAMODB_ENDPOINT is not set (jest globalSetup starts DynamoDB Local)');
  const client = createDocumentClient({ endpoint, region: localRegion, credentials: localCredentials });
  const tables = tableNamesWithPrefix(`races${randomUUID().slice(0, 6)}-`);
  await ensureTables(client as unknown as DynamoDBClient, tables);
  return { client, tables, destroy: () => (client as unknown as DynamoDBClient).destroy() };
}

/**
 * One race file's tables: created before its tests, released after them, and (given a label) the interleavings the
 * file explored printed with their seed. Returns a getter, since the tables exist only once beforeAll has run.
 */
export function useRacesTables(label?: string, options: { readonly ownDatabase?: boolean } = {}): () => RacesTables {
  let database: RacesTables | undefined;
  let own: DynamoDbLocal | undefined;
  beforeAll(async () => {
    // A file that hammers the database (the fault soak: thousands of store calls) gets a DynamoDB Local of its own:
    // DynamoDB Local runs transactions one at a time, and on the shared one it would hold every other file's
    // settlements up for minutes.
    if (options.ownDatabase) own = await startDynamoDbLocal();
    database = await racesTables(own?.endpoint);
  });
  afterAll(async () => {
    database?.destroy();
    await own?.stop();
    if (label !== undefined) console.log(`races: ${label}: ${explored.schedules} interleavings explored in ${explored.scenarios.length} scenarios (seed ${explored.scenarios[0]?.seed})`);
  });
  return () => {
    if (database === undefined) throw new Error('races tables are created in beforeAll');
    return database;
  };
}

/** Interleavings explored by this process (the suite prints the total). */
export const explored = { schedules: 0, scenarios: [] as ExplorationReport[] };

/** One schedule of a scenario in a fresh world under `chooser`, with the violations found afterwards. */
export async function runSchedule(database: RacesTables, scenario: Scenario, chooser: Chooser): Promise<ScheduleRun> {
  const world = await new World(database.client, database.tables, scenario.world).create();
  await scenario.prepare?.(world);
  const baseline = await baselineOf(world);
  const scheduler = new Scheduler<ActorOutcome>(chooser);
  world.attach(scheduler);
  scenario.actors(world);
  const result = await scheduler.run();
  if (scenario.finish === 'resume') await finishInFlight(world);
  const violations = await worldViolations(world, baseline, result.outcomes);
  return { violations, points: result.points, trace: result.trace };
}

/** Exactly the schedule with these choices (`0.1.0...`, as a failure prints them). */
export function replayOf(choices: string): Chooser {
  const prefix = choices === '' ? [] : choices.split('.').map(Number);
  return (options, point) => (point.index < prefix.length ? Math.min(prefix[point.index], options - 1) : 0);
}

export async function exploreScenario(database: RacesTables, scenario: Scenario): Promise<ExplorationReport> {
  const report = await explore(scenario.name, (chooser) => runSchedule(database, scenario, chooser), settingsFromEnvironment(scenario.settings));
  explored.schedules += report.schedules;
  explored.scenarios.push(report);
  return report;
}

/** Runs one more execution (ungated) for every settlement of the world that is still in flight and not parked. */
async function finishInFlight(world: World): Promise<void> {
  for (const settlementId of world.settlementIds) {
    const record = await world.deps.settlements.get(settlementId);
    if (!record || record.parked || record.status === 'COMPLETED' || record.status === 'FAILED') continue;
    await runExecution(world.deps, { settlementId, attempt: record.attempt, resume: record.version });
  }
}

/** Drives a settlement through the stage use cases (ungated) until it stands in `status`. */
export async function driveTo(world: World, status: SettlementStatus, settlementId = world.settlementIds[0]): Promise<void> {
  const deps = world.deps;
  const input = { settlementId };
  const forward = [validate, lockFunds, initiateTransfer];
  // The statuses a settlement rests in: Validate's decision is committed by LockFunds, CheckConfirmation's by
  // Finalize, so none rests VALIDATED or CONFIRMED (a TRANSFER_INITIATED one here has its transfer settled).
  const forwardIndex: Partial<Record<SettlementStatus, number>> = { PENDING: 0, LOCKED: 2, TRANSFER_INITIATED: 3 };
  if (status === 'VALIDATED' || status === 'CONFIRMED') {
    throw new Error(`driveTo: a settlement never rests ${status} (its decision is committed with the next stage's write)`);
  } else if (forwardIndex[status] !== undefined) {
    for (const stage of forward.slice(0, forwardIndex[status])) await stage(deps, input);
  } else if (status === 'ROLLING_BACK' || status === 'ROLLED_BACK') {
    await validate(deps, input);
    await lockFunds(deps, input);
    await beginRollback(deps, { ...input, error: { Error: 'BankRejectedError', Cause: 'rejected (races)' } });
    if (status === 'ROLLED_BACK') await releaseLocks(deps, input);
  } else if (status === 'COMPENSATING' || status === 'COMPENSATED') {
    for (const stage of forward.slice(0, 3)) await stage(deps, input);
    await beginRollback(deps, { ...input, error: { Error: 'ConfirmationTimeoutError', Cause: 'not confirmed (races)' } });
    if (status === 'COMPENSATED') await compensate(deps, input);
  } else {
    throw new Error(`driveTo: cannot drive to ${status}`);
  }
  const record = await deps.settlements.get(settlementId);
  if (record?.status !== status) throw new Error(`driveTo: ${settlementId} is ${record?.status}, wanted ${status}`);
}

/** Parks a settlement where it stands, as the workflow's ParkSettlement does after a stage gave up. */
export async function park(world: World, settlementId = world.settlementIds[0]): Promise<void> {
  await parkSettlement(world.deps, { settlementId, error: { Error: 'StoreUnavailableError', Cause: 'store unavailable (races)' } });
}
