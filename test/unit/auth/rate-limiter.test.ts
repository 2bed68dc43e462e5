import { TokenBucketRateLimiter } from '../../../lambdas/adapters/auth/rate-limiter';

describe('TokenBucketRateLimiter', () => {
  it('allows a burst, then the sustained rate, per client', () => {
    let now = 0;
    const limiter = new TokenBucketRateLimiter({ ratePerSecond: 10, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
    expect(limiter.take('b').allowed).toBe(true); // another client has its own bucket
    const refused = limiter.take('a');
    expect(refused.retryAfterMs).toBe(100);
    now += 100;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    now += 10_000; // refills up to the burst, not beyond
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('forgets the least recently seen client beyond its bound', () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSecond: 1, burst: 1 }, () => 0, 2);
    limiter.take('a');
    limiter.take('b');
    limiter.take('a');
    limiter.take('c');
    expect(limiter.clientsTracked).toBe(2);
    expect(limiter.take('a').allowed).toBe(false); // still tracked: b was evicted, not a
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new TokenBucketRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucketRateLimiter({ ratePerSecond: 1, burst: 0.5 })).toThrow(RangeError);
  });
});
