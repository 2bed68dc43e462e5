/**
 * The fault-injection soak at CI size: random operations over three account pairs with DynamoDB conflicts,
 * throttling and lost responses injected under every store call, then every invariant of the race harness
 * (test/races/harness/faults.ts). `npm run soak -- --faults 10000` runs the long one; SOAK_OPERATIONS and
 * SOAK_SEED change this one.
 */
import { runFaultSoak } from './harness/faults';
import { racesSeedDefault } from './harness/explore';
import { useRacesTables } from './harness/scenario';

jest.setTimeout(10 * 60_000);

const database = useRacesTables(undefined, { ownDatabase: true });
const operations = Number(process.env.SOAK_OPERATIONS ?? 1_000);
const seed = Number(process.env.SOAK_SEED ?? racesSeedDefault);

describe('the engine under injected DynamoDB faults', () => {
  it(`keeps every invariant through ${operations} random operations with conflicts, throttling and lost responses`, async () => {
    const { client, tables } = database();
    // The jobs log every injected fault they meet (JSON lines): kept out of the test output.
    const quiet = (['log', 'warn', 'error'] as const).map((level) => jest.spyOn(console, level).mockImplementation(() => undefined));
    const report = await runFaultSoak({ client, tables, operations, seed }).finally(() => quiet.forEach((spy) => spy.mockRestore()));
    console.log(
      `soak: ${report.operations} operations (seed ${seed}), ${report.settlements} settlements, ${report.violations.length} violations; ` +
        `faults injected: ${report.faults.conflicts} conflicts, ${report.faults.throttles} throttles, ${report.faults.lostResponses} lost responses in ${report.faults.calls} store calls; ` +
        `ends ${JSON.stringify(report.outcomes)}; operations ${JSON.stringify(report.byKind)}; capped hot pair ${JSON.stringify(report.capped)}`,
    );
    expect(report.violations).toEqual([]);
    expect(report.operations).toBeGreaterThanOrEqual(operations);
    expect(report.faults.conflicts * report.faults.throttles * report.faults.lostResponses).toBeGreaterThan(0);
    // The capped hot pair's locks moved cap parts between its shards (every one of its settlements is above a shard's share).
    expect(report.capped).toMatchObject({ partsMoved: true });
    // And its cap refused settlements (two of them pending at once pass it).
    expect(report.capped!.refusals).toBeGreaterThan(0);
  });
});
