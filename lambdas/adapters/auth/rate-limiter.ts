/**
 * Per-client token buckets: each client may send `ratePerSecond` requests per second on average, in bursts of up
 * to `burst`. Refilled lazily on each take (no timers), so an idle client costs nothing but its map entry, and the
 * map is bounded: beyond `clientsMax` the least recently seen client is forgotten (it comes back with a full bucket,
 * which is the state an idle client converges to anyway).
 */
export interface RateLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export const clientsTrackedMax = 10_000;

export interface RateDecision {
  readonly allowed: boolean;
  /** When refused: milliseconds until one token is available. */
  readonly retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  refilledAtMs: number;
}

export class TokenBucketRateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    readonly limit: RateLimit,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly clientsMax = clientsTrackedMax,
  ) {
    if (!(limit.ratePerSecond > 0) || !Number.isFinite(limit.ratePerSecond)) throw new RangeError('ratePerSecond must be a positive number');
    if (!(limit.burst >= 1) || !Number.isFinite(limit.burst)) throw new RangeError('burst must be at least 1');
  }

  /** Takes one token from the client's bucket if there is one. */
  take(clientName: string): RateDecision {
    const now = this.nowMs();
    const bucket = this.#bucket(clientName, now);
    const elapsedSeconds = Math.max(0, now - bucket.refilledAtMs) / 1000;
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + elapsedSeconds * this.limit.ratePerSecond);
    bucket.refilledAtMs = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.limit.ratePerSecond) * 1000) };
  }

  get clientsTracked(): number {
    return this.#buckets.size;
  }

  #bucket(clientName: string, now: number): Bucket {
    const existing = this.#buckets.get(clientName);
    if (existing !== undefined) {
      // Re-insert: Map order is then least recently seen first.
      this.#buckets.delete(clientName);
      this.#buckets.set(clientName, existing);
      return existing;
    }
    if (this.#buckets.size >= this.clientsMax) this.#buckets.delete(this.#buckets.keys().next().value!);
    const bucket = { tokens: this.limit.burst, refilledAtMs: now };
    this.#buckets.set(clientName, bucket);
    return bucket;
  }
}
