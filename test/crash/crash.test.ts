/**
 * Crash test: the engine as `npm start` runs it, killed with SIGKILL at random moments under load, restarted on
 * the same data directory; after each restart the start-up recovery sweep must finish everything in flight and
 * every money invariant must hold. CRASH_CYCLES (default 3) sets the number of cycles; CRASH_SEED repeats a run.
 * `npm run soak -- --cycles 200` runs many more.
 */
import { runCrashCycles } from './harness';

const cycles = Number(process.env.CRASH_CYCLES ?? 3);

describe('the engine killed mid-flight', () => {
  it(`recovers after each of ${cycles} SIGKILLs with every money invariant intact`, async () => {
    const report = await runCrashCycles({ cycles, ...(process.env.CRASH_SEED && { seed: Number(process.env.CRASH_SEED) }) });
    console.log(
      `crash: seed ${report.seed}, ${report.cycles.length} cycles, ${report.settlements} settlements ${JSON.stringify(report.outcomes)}; ` +
        report.cycles.map((cycle) => `#${cycle.cycle}: ${cycle.accepted}/${cycle.requestsSent} accepted, killed after ${cycle.killedAfterMs} ms, ${cycle.inFlightAtRestart} in flight at restart, quiet in ${cycle.recoveryMs} ms`).join('; '),
    );
    expect(report.violations).toEqual([]);
    expect(report.cycles).toHaveLength(cycles);
    // The kills must have hit something: at least one settlement was mid-flight at some restart.
    expect(report.cycles.some((cycle) => cycle.inFlightAtRestart > 0)).toBe(true);
  }, 10 * 60_000);
});
