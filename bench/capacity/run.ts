/**
 * `npm run bench:capacity`: the capacity model of `npm run bench` alone (per-settlement transactions, items, write
 * and read units, workflow states, cost per million, hottest partitions), without the throughput phases. Its figures
 * are counts of what the engine does, so they do not depend on the machine's load. BENCH_JSON names a file for them.
 */
import { writeFileSync } from 'node:fs';
import { formatCapacity, measureCapacity } from './measure';

/** Settlements per rail: the same sample as `npm run bench`. */
const settlementsPerRail = 40;

async function main(): Promise<void> {
  const capacity = await measureCapacity({ settlementsPerRail, concurrency: { SEPA: 1, SWIFT: 10, SWIFT_SLOW: 10, SEPA_REJECTED: 1 } });
  console.log(formatCapacity(capacity));
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(capacity, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
