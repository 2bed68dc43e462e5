/**
 * gRPC figures of the local engine: ExecuteSettlement throughput end to end (each call waits for the terminal
 * status) and StreamSettlementEvents lag, from an event's commit stamp (`at`, taken just before its transaction)
 * to its arrival at a streaming client, p50/p99.
 *
 *   npx tsx bench/grpc.ts            (or called from bench/run.ts through benchGrpc())
 *   BENCH_SECONDS      length of each phase (default 15)
 *   BENCH_CONCURRENCY  concurrent ExecuteSettlement calls in the throughput phase (default 64)
 *   BENCH_STREAM_RATE  settlements per second submitted while the stream is measured (default 20)
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { generateDevelopmentKey, parseApiKeys } from '../lambdas/adapters/auth/api-keys';
import { SettlementClient } from '../lambdas/adapters/grpc/client';
import { startLocalEngine, type LocalEngine } from '../lambdas/local/engine';

export interface GrpcBenchFigures {
  readonly executePerMinute: number;
  readonly executed: number;
  readonly executeLatencyMsP50: number;
  readonly executeLatencyMsP99: number;
  readonly streamEvents: number;
  readonly streamLagMsP50: number;
  readonly streamLagMsP99: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function request(settlementId: string, waitMs: number) {
  return {
    settlement_id: settlementId,
    payer_bic: 'DEUTDEFF',
    payee_bic: 'BNPAFRPP',
    amount: '1.00',
    currency: 'EUR',
    rail: 'RAIL_MOCK',
    kind: 'SETTLEMENT_KIND_DOMESTIC',
    value_date: new Date().toISOString().slice(0, 10),
    reference: 'bench grpc',
    wait_for_terminal_ms: waitMs,
  };
}

/** Closed loop: `concurrency` ExecuteSettlement calls in flight, each waiting for COMPLETED. */
async function executeThroughput(client: SettlementClient, seconds: number, concurrency: number) {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const run = randomUUID().slice(0, 6);
  let sequence = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const callStarted = performance.now();
        const response = await client.call<{ settlement: { status: string } }>('ExecuteSettlement', request(`bench-grpc-${run}-${sequence++}`, 60_000), { deadlineMs: 70_000 });
        if (response.settlement.status !== 'SETTLEMENT_STATUS_COMPLETED') throw new Error(`bench settlement ended ${response.settlement.status}`);
        latencies.push(performance.now() - callStarted);
      }
    }),
  );
  const minutes = (performance.now() - started) / 60_000;
  latencies.sort((a, b) => a - b);
  return { perMinute: latencies.length / minutes, count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Open loop at `perSecond` submissions while one client streams every event; lag = arrival − commit stamp. */
async function streamLag(client: SettlementClient, seconds: number, perSecond: number) {
  const lags: number[] = [];
  const stream = client.streamEvents({});
  stream.on('data', (event: { at: { seconds: string; nanos: number } }) => {
    lags.push(Date.now() - (Number(event.at.seconds) * 1000 + Math.floor(event.at.nanos / 1e6)));
  });
  const ended = new Promise<void>((resolve) => stream.on('error', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 500)); // the stream is established
  const run = randomUUID().slice(0, 6);
  const total = Math.floor(perSecond * seconds);
  const submitted: Promise<unknown>[] = [];
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    const wait = started + (index * 1000) / perSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    submitted.push(client.call('ExecuteSettlement', request(`bench-stream-${run}-${index}`, 30_000), { deadlineMs: 40_000 }));
  }
  await Promise.all(submitted);
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // the last events arrive
  stream.cancel();
  await ended;
  lags.sort((a, b) => a - b);
  return { events: lags.length, p50: percentile(lags, 50), p99: percentile(lags, 99) };
}

/** Runs both phases against `engine` (which must serve gRPC with `apiKey` accepted), or a fresh engine. */
export async function benchGrpc(options: { engine?: LocalEngine; apiKey?: string; seconds?: number; concurrency?: number; streamRate?: number } = {}): Promise<GrpcBenchFigures> {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 15);
  const concurrency = options.concurrency ?? Number(process.env.BENCH_CONCURRENCY ?? 64);
  const streamRate = options.streamRate ?? Number(process.env.BENCH_STREAM_RATE ?? 20);
  const key = generateDevelopmentKey('bench');
  const engine =
    options.engine ??
    (await startLocalEngine({
      httpPort: null,
      grpcPort: 0,
      tablePrefix: `bench-grpc-${randomUUID().slice(0, 6)}-`,
      jobs: false,
      access: { apiKeys: parseApiKeys(key.hashedConfig), rateLimit: { ratePerSecond: 1_000_000, burst: 1_000_000 }, grpcMessageBytesMax: 64 * 1024, httpBodyBytesMax: 64 * 1024 },
    }));
  const client = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey: options.apiKey ?? key.key, channelOptions: { 'grpc.max_concurrent_streams': 1_000 } as grpc.ChannelOptions });
  try {
    // Warm-up: JIT, connections, table partitions.
    await executeThroughput(client, 2, Math.min(8, concurrency));
    const execute = await executeThroughput(client, seconds, concurrency);
    const stream = await streamLag(client, seconds, streamRate);
    return {
      executePerMinute: execute.perMinute,
      executed: execute.count,
      executeLatencyMsP50: execute.p50,
      executeLatencyMsP99: execute.p99,
      streamEvents: stream.events,
      streamLagMsP50: stream.p50,
      streamLagMsP99: stream.p99,
    };
  } finally {
    client.close();
    if (!options.engine) await engine.stop();
  }
}

export function formatGrpcFigures(figures: GrpcBenchFigures): string {
  const round = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
  return [
    'gRPC',
    `  ExecuteSettlement (waits for COMPLETED)  ${round(figures.executePerMinute)} settlements/min (${figures.executed} in the phase; seed target 1,000/min)`,
    `    call latency p50 ${round(figures.executeLatencyMsP50)} ms, p99 ${round(figures.executeLatencyMsP99)} ms`,
    `  StreamSettlementEvents lag (commit stamp → client)  p50 ${round(figures.streamLagMsP50)} ms, p99 ${round(figures.streamLagMsP99)} ms over ${figures.streamEvents} events`,
  ].join('\n');
}

if (require.main === module) {
  benchGrpc()
    .then((figures) => {
      console.log(formatGrpcFigures(figures));
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error('gRPC bench failed:', error);
      process.exit(1);
    });
}
