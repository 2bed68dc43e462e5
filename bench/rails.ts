/**
 * `npm run bench:rails` (also the last part of `npm run bench`): settlement latency per kind through the ISO 20022
 * adapter and the bank simulator over mutual TLS, against the seed's objectives (< 5 s domestic, < 30 s
 * international, bank time excluded). The simulator settles domestic transfers after BENCH_RAILS_DOMESTIC_DELAY_S
 * (default 1 s) and international ones after BENCH_RAILS_INTERNATIONAL_DELAY_S (default 3 s); the engine's own
 * time is the end-to-end latency minus that bank time.
 *
 *   BENCH_RAILS_COUNT  settlements per kind (default 20)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocalEngine } from '../lambdas/local/engine';
import { submitSettlement, waitForSettlement } from '../lambdas/usecases/settlements';
import { defaultEngineLimits } from '../lambdas/usecases/deps';
import { startBankSimulator } from '../simulator/bank-simulator';

const count = Number(process.env.BENCH_RAILS_COUNT ?? 20);
const bankDelaySeconds = { DOMESTIC: Number(process.env.BENCH_RAILS_DOMESTIC_DELAY_S ?? 1), INTERNATIONAL: Number(process.env.BENCH_RAILS_INTERNATIONAL_DELAY_S ?? 3) };
/** Concurrent settlements per kind: the bench measures latency, not throughput. */
const concurrencyMax = 8;
/** EPC SCT names both accounts by IBAN (ISO 13616 example IBANs). */
const sepaIbans = { payerIban: 'DE89370400440532013000', payeeIban: 'FR1420041010050500013M02606' };
const valueDate = new Date().toISOString().slice(0, 10);

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function benchRails(): Promise<void> {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'bench-rails-'));
  const simulator = await startBankSimulator({ port: 0, dataDirectory });
  const engine = await startLocalEngine({
    httpPort: null,
    tablePrefix: `rails${Date.now().toString(36)}-`,
    jobs: false,
    sqs: false,
    // Status checks every 250 ms at most: the confirmation wait is a configured bound, not the bank's time.
    confirmationWaitMs: 250,
    bankGateway: { url: simulator.url, ca: simulator.certificates.ca, cert: simulator.certificates.clientCert, key: simulator.certificates.clientKey, networkBic: 'DELTGB2L', requestTimeoutMs: 10_000 },
  });
  try {
    // Warm-up (JIT, TLS sessions, DynamoDB Local): not measured.
    for (let index = 0; index < 4; index++) {
      const settlementId = `bench-rails-warmup-${Date.now().toString(36)}-${index}`;
      await submitSettlement(engine.deps, { settlementId, payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: '1.00', currency: 'EUR', rail: 'SEPA', kind: 'DOMESTIC', valueDate, reference: 'warm-up', ...sepaIbans });
      await waitForSettlement(engine.deps, settlementId, 120_000);
    }
    console.log(`\nLatency per kind through the bank simulator (ISO 20022 over mutual TLS; ${count} settlements per kind, bank time excluded)`);
    for (const kind of ['DOMESTIC', 'INTERNATIONAL'] as const) {
      const latencies: number[] = [];
      let failed = 0;
      const run = async (index: number) => {
        const settlementId = `bench-rails-${kind.toLowerCase()}-${Date.now().toString(36)}-${index}`;
        const request =
          kind === 'DOMESTIC'
            ? { settlementId, payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: '10.00', currency: 'EUR', rail: 'SEPA', kind, valueDate, reference: `sim delay ${bankDelaySeconds.DOMESTIC}`, ...sepaIbans }
            : { settlementId, payerBic: 'CHASUS33', payeeBic: 'CITIUS33', amount: '10.00', currency: 'USD', rail: 'SWIFT', kind, valueDate, reference: `sim delay ${bankDelaySeconds.INTERNATIONAL}` };
        const started = performance.now();
        await submitSettlement(engine.deps, request);
        const view = await waitForSettlement(engine.deps, settlementId, 120_000);
        if (view.status !== 'COMPLETED') failed++;
        else latencies.push(performance.now() - started);
      };
      for (let first = 0; first < count; first += concurrencyMax) await Promise.all(Array.from({ length: Math.min(concurrencyMax, count - first) }, (_, offset) => run(first + offset)));
      latencies.sort((a, b) => a - b);
      const bankMs = bankDelaySeconds[kind] * 1000;
      const engineP99 = Math.max(0, percentile(latencies, 99) - bankMs);
      const objectiveMs = defaultEngineLimits.latencyObjectiveSeconds[kind] * 1000;
      console.log(
        `  ${kind.padEnd(13)} end to end p50 ${Math.round(percentile(latencies, 50))} ms, p99 ${Math.round(percentile(latencies, 99))} ms (bank ${bankMs} ms)` +
          ` → engine p99 ${Math.round(engineP99)} ms against < ${objectiveMs / 1000} s: ${engineP99 < objectiveMs ? 'met' : 'MISSED'}${failed ? `; ${failed} did not complete` : ''}`,
      );
    }
  } finally {
    await engine.stop();
    await simulator.stop();
    rmSync(dataDirectory, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchRails().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
