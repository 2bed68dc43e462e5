/**
 * Whether the bank registry knows a BIC, as submission asks it on the hot path: a bounded cache in front of
 * ReferenceStore.getBank. Both answers are cached (a flood of unknown BICs must not become a flood of reads), for
 * `bankCacheSeconds`, at most `knownBanksCachedMax` BICs (the least recently used is dropped first). A bank
 * registered a moment ago may thus be refused for up to that long; the Validate stage reads the registry itself
 * (status included) whatever this cache says.
 *
 * The cache belongs to the ReferenceStore instance it reads (a WeakMap keyed by it), so every composition root gets
 * one without wiring, and two engines in one process (tests) never share one.
 */
import type { ReferenceStore } from '../ports/stores';

/** BICs remembered at most per store. */
export const knownBanksCachedMax = 10_000;

interface Entry {
  /** Settled, or still being read: concurrent submissions for the same BIC share one read. */
  readonly known: Promise<boolean>;
  readonly expiresAtMs: number;
}

const caches = new WeakMap<ReferenceStore, Map<string, Entry>>();

/** True when the registry holds `bic` (any status). */
export async function isKnownBank(reference: ReferenceStore, bic: string, ttlSeconds: number, nowMs: number): Promise<boolean> {
  let cache = caches.get(reference);
  if (cache === undefined) {
    cache = new Map();
    caches.set(reference, cache);
  }
  const cached = cache.get(bic);
  if (cached !== undefined && cached.expiresAtMs > nowMs) {
    // Re-insert: Map order is then least recently used first.
    cache.delete(bic);
    cache.set(bic, cached);
    return cached.known;
  }
  const known = reference.getBank(bic).then((bank) => bank !== undefined);
  cache.delete(bic);
  if (cache.size >= knownBanksCachedMax) cache.delete(cache.keys().next().value!);
  const entry = { known, expiresAtMs: nowMs + ttlSeconds * 1000 };
  cache.set(bic, entry);
  // A failed read is not an answer: forget it so the next submission asks again.
  known.catch(() => {
    if (cache.get(bic) === entry) cache.delete(bic);
  });
  return known;
}
