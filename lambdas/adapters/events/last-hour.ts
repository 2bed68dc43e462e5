/**
 * The console's "last hour": per minute, settlements completed and failed and the latency from submission to
 * completion, folded from the settlement events of the change stream as they are read (lambdas/handlers/event-feed.ts
 * follows the stream and feeds them in). Counts are per payer/payee pair, so a participant's view is the sum over the
 * pairs it is party to; nothing is read again per request.
 */
import type { SettlementEvent } from '../../ports/stores';

export const statsWindowMinutes = 60;
/** Submissions remembered for their completion latency (the oldest are forgotten first). */
export const submissionsTrackedMax = 200_000;
/** Latency samples kept per minute and bank pair; beyond it the minute's counts stay exact, its percentiles sample. */
export const latencySamplesPerPairMinuteMax = 10_000;

export interface MinuteStats {
  readonly minute: string;
  readonly completed: number;
  readonly failed: number;
  readonly latencyMsP50: number | null;
  readonly latencyMsP95: number | null;
  readonly latencyMsP99: number | null;
}

interface PairMinute {
  readonly payerBic: string;
  readonly payeeBic: string;
  completed: number;
  failed: number;
  readonly latenciesMs: number[];
}

const minuteMs = 60_000;

export class LastHourStats {
  readonly #submittedAtMs = new Map<string, number>();
  /** Minute start (epoch ms) → `<payer>><payee>` → counts. */
  readonly #minutes = new Map<number, Map<string, PairMinute>>();

  record(event: SettlementEvent): void {
    const atMs = Date.parse(event.at);
    if (event.seq === 1) this.#rememberSubmission(event.settlementId, atMs);
    if (event.status !== 'COMPLETED' && event.status !== 'FAILED') return;
    const minuteStartMs = Math.floor(atMs / minuteMs) * minuteMs;
    let pairs = this.#minutes.get(minuteStartMs);
    if (!pairs) this.#minutes.set(minuteStartMs, (pairs = new Map()));
    const pairKey = `${event.payerBic}>${event.payeeBic}`;
    let pair = pairs.get(pairKey);
    if (!pair) pairs.set(pairKey, (pair = { payerBic: event.payerBic, payeeBic: event.payeeBic, completed: 0, failed: 0, latenciesMs: [] }));
    if (event.status === 'FAILED') {
      pair.failed += 1;
      return;
    }
    pair.completed += 1;
    const submittedAtMs = this.#submittedAtMs.get(event.settlementId);
    this.#submittedAtMs.delete(event.settlementId);
    if (submittedAtMs !== undefined && pair.latenciesMs.length < latencySamplesPerPairMinuteMax) pair.latenciesMs.push(atMs - submittedAtMs);
  }

  /** The window's minutes, oldest first, counting only the pairs `visible` admits; minutes before it are dropped. */
  lastHour(nowMs: number, visible: (payerBic: string, payeeBic: string) => boolean): MinuteStats[] {
    const windowStartMs = Math.floor(nowMs / minuteMs) * minuteMs - (statsWindowMinutes - 1) * minuteMs;
    for (const minuteStartMs of [...this.#minutes.keys()]) if (minuteStartMs < windowStartMs) this.#minutes.delete(minuteStartMs);
    return Array.from({ length: statsWindowMinutes }, (_, index) => {
      const minuteStartMs = windowStartMs + index * minuteMs;
      let completed = 0;
      let failed = 0;
      const latencies: number[] = [];
      for (const pair of this.#minutes.get(minuteStartMs)?.values() ?? []) {
        if (!visible(pair.payerBic, pair.payeeBic)) continue;
        completed += pair.completed;
        failed += pair.failed;
        latencies.push(...pair.latenciesMs);
      }
      latencies.sort((left, right) => left - right);
      const percentile = (p: number) => (latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]);
      return { minute: new Date(minuteStartMs).toISOString(), completed, failed, latencyMsP50: percentile(50), latencyMsP95: percentile(95), latencyMsP99: percentile(99) };
    });
  }

  #rememberSubmission(settlementId: string, atMs: number): void {
    this.#submittedAtMs.set(settlementId, atMs);
    if (this.#submittedAtMs.size <= submissionsTrackedMax) return;
    // A Map iterates in insertion order: the first key is the oldest submission.
    this.#submittedAtMs.delete(this.#submittedAtMs.keys().next().value!);
  }
}
