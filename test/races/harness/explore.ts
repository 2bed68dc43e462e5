/**
 * Exploration of a scenario's schedules: a depth-first search over the choice points with a bound on preemptions
 * (switching away from an actor that could have gone on; most races need one or two), capped at a number of
 * schedules, then seeded random walks. A schedule that breaks an invariant fails with its choice sequence, which
 * `RACES_REPLAY=<scenario>:<choices>` runs again exactly.
 *
 * Environment: RACES_SEED (first walk's seed; default fixed so CI is repeatable), RACES_WALKS (random walks per
 * scenario), RACES_DFS_MAX (schedules of the depth-first search per scenario), RACES_PREEMPTIONS (its bound),
 * RACES_REPLAY (one schedule only).
 */
import { seededRandom } from '../../support/random';
import type { Chooser, ChoicePoint } from './scheduler';

export const racesSeedDefault = 20_261_201;

export interface ExploreSettings {
  readonly preemptionBound: number;
  readonly dfsSchedulesMax: number;
  readonly walks: number;
  readonly seed: number;
}

/** Settings from the environment over a scenario's defaults (CI keeps the defaults small). */
export function settingsFromEnvironment(defaults: Partial<ExploreSettings> = {}): ExploreSettings {
  const number = (name: string, fallback: number) => (process.env[name] === undefined ? fallback : Number(process.env[name]));
  return {
    preemptionBound: number('RACES_PREEMPTIONS', defaults.preemptionBound ?? 2),
    dfsSchedulesMax: number('RACES_DFS_MAX', defaults.dfsSchedulesMax ?? 4),
    walks: number('RACES_WALKS', defaults.walks ?? 6),
    seed: number('RACES_SEED', defaults.seed ?? racesSeedDefault),
  };
}

export interface ScheduleRun {
  readonly violations: readonly string[];
  readonly points: readonly ChoicePoint[];
  readonly trace: readonly string[];
}

export interface ExplorationReport {
  readonly scenario: string;
  readonly schedules: number;
  readonly dfsSchedules: number;
  /** True when the search visited every schedule within the preemption bound. */
  readonly dfsComplete: boolean;
  readonly walks: number;
  readonly seed: number;
  readonly choicePointsMax: number;
}

/** Thrown for a schedule that broke an invariant: carries what replays it. */
export class ScheduleViolation extends Error {
  override readonly name = 'ScheduleViolation';
}

const formatChoices = (points: readonly ChoicePoint[]) => points.map((point) => point.chosen).join('.');

export function parseReplay(scenario: string): number[] | undefined {
  const replay = process.env.RACES_REPLAY;
  if (!replay) return undefined;
  const separator = replay.lastIndexOf(':');
  if (replay.slice(0, separator) !== scenario) return [];
  const text = replay.slice(separator + 1);
  return text === '' ? [] : text.split('.').map(Number);
}

function prefixChooser(prefix: readonly number[]): Chooser {
  return (options, point) => (point.index < prefix.length ? Math.min(prefix[point.index], options - 1) : 0);
}

function fail(scenario: string, how: string, run: ScheduleRun): never {
  const choices = formatChoices(run.points);
  throw new ScheduleViolation(
    `${scenario}: ${how} broke ${run.violations.length} invariant(s):\n  ${run.violations.join('\n  ')}\n` +
      `replay: RACES_REPLAY='${scenario}:${choices}'\n` +
      `trace (${run.trace.length} steps):\n  ${run.trace.join('\n  ')}`,
  );
}

/** Next prefix of the depth-first search within the preemption bound, or undefined when the search is done. */
function nextPrefix(points: readonly ChoicePoint[], preemptionBound: number): number[] | undefined {
  const preemptionsBefore: number[] = [];
  let preemptions = 0;
  for (const point of points) {
    preemptionsBefore.push(preemptions);
    if (point.lastParked && point.chosen > 0) preemptions++;
  }
  for (let index = points.length - 1; index >= 0; index--) {
    const point = points[index];
    const next = point.chosen + 1;
    if (next >= point.order.length) continue;
    const cost = preemptionsBefore[index] + (point.lastParked ? 1 : 0);
    if (cost > preemptionBound) continue;
    return [...points.slice(0, index).map((earlier) => earlier.chosen), next];
  }
  return undefined;
}

/**
 * Explores one scenario: `runSchedule` builds a fresh world, runs the actors under the chooser and returns the
 * violations found by reading the tables afterwards.
 */
export async function explore(scenario: string, runSchedule: (chooser: Chooser) => Promise<ScheduleRun>, settings: ExploreSettings): Promise<ExplorationReport> {
  const replay = parseReplay(scenario);
  if (replay !== undefined) {
    if (process.env.RACES_REPLAY && !process.env.RACES_REPLAY.startsWith(`${scenario}:`)) return { scenario, schedules: 0, dfsSchedules: 0, dfsComplete: false, walks: 0, seed: settings.seed, choicePointsMax: 0 };
    const run = await runSchedule(prefixChooser(replay));
    if (run.violations.length > 0) fail(scenario, `replayed schedule ${replay.join('.')}`, run);
    console.log(`races: ${scenario}: replayed ${formatChoices(run.points)} — no violation\n  ${run.trace.join('\n  ')}`);
    return { scenario, schedules: 1, dfsSchedules: 1, dfsComplete: false, walks: 0, seed: settings.seed, choicePointsMax: run.points.length };
  }
  let schedules = 0;
  let choicePointsMax = 0;
  let prefix: number[] | undefined = [];
  let dfsSchedules = 0;
  while (prefix !== undefined && dfsSchedules < settings.dfsSchedulesMax) {
    const run = await runSchedule(prefixChooser(prefix));
    dfsSchedules++;
    schedules++;
    choicePointsMax = Math.max(choicePointsMax, run.points.length);
    if (run.violations.length > 0) fail(scenario, `depth-first schedule #${dfsSchedules}`, run);
    prefix = nextPrefix(run.points, settings.preemptionBound);
  }
  for (let walk = 0; walk < settings.walks; walk++) {
    const seed = settings.seed + walk;
    const random = seededRandom(seed);
    const run = await runSchedule((options) => Math.floor(random() * options));
    schedules++;
    choicePointsMax = Math.max(choicePointsMax, run.points.length);
    if (run.violations.length > 0) fail(scenario, `random walk with seed ${seed}`, run);
  }
  const report = { scenario, schedules, dfsSchedules, dfsComplete: prefix === undefined, walks: settings.walks, seed: settings.seed, choicePointsMax };
  console.log(
    `races: ${scenario}: ${schedules} interleavings (depth-first ${dfsSchedules}${report.dfsComplete ? ', complete' : ', capped'} at ≤${settings.preemptionBound} preemptions; ` +
      `${settings.walks} walks from seed ${settings.seed}; up to ${choicePointsMax} choice points)`,
  );
  return report;
}
