/**
 * Which nostro pays a payee, and that nostro's head, as Validate reads them: in one round trip once the process has
 * seen the payee's route.
 *
 * The payout nostro is data (a `ROUTE#<payee>#<ccy>` item names a correspondent's nostro; without one the network's
 * nostro at the payee bank pays), so the nostro's read used to wait for the route's. Each reference store now
 * remembers, per payee and currency, the nostro its last route read named (a hint: bounded, least recently used out
 * first) and reads that nostro's head together with the route. The route read beside it still decides, fresh every
 * time: a route changed since costs one more read, of the nostro the route now names, and is never missed. With no
 * hint (the first settlement to a payee in this process) the reads run one after the other, as before.
 *
 * The hints belong to the ReferenceStore instance (a WeakMap keyed by it, like known-banks.ts), so every composition
 * root gets them without wiring and two engines in one process never share them.
 */
import { accountId, type ReferenceStore } from '../ports/stores';

/** Payee and currency pairs remembered per reference store; a network has a few hundred. */
export const payoutRouteHintsMax = 10_000;

const hintsByStore = new WeakMap<ReferenceStore, Map<string, string>>();

export interface PayoutRead<T> {
  readonly nostroAccountId: string;
  /** What `readNostro` read of the nostro (Validate: the read its hold is planned on); undefined when no such account exists. */
  readonly head: T | undefined;
}

export async function readPayout<T>(reference: ReferenceStore, readNostro: (accountId: string) => Promise<T | undefined>, payeeBic: string, currency: string): Promise<PayoutRead<T>> {
  let hints = hintsByStore.get(reference);
  if (hints === undefined) {
    hints = new Map();
    hintsByStore.set(reference, hints);
  }
  const key = `${payeeBic}#${currency}`;
  const hinted = hints.get(key);
  const routeRead = reference.getPayoutRoute(payeeBic, currency);
  const guessedRead = hinted === undefined ? undefined : readNostro(hinted);
  // A guess the route contradicts is not awaited: its failure must not surface as unhandled.
  guessedRead?.catch(() => undefined);
  const route = await routeRead;
  const nostroAccountId = route?.nostroAccountId ?? accountId('NOSTRO', payeeBic, currency);
  hints.delete(key);
  hints.set(key, nostroAccountId);
  if (hints.size > payoutRouteHintsMax) hints.delete(hints.keys().next().value!);
  const head = nostroAccountId === hinted ? await guessedRead! : await readNostro(nostroAccountId);
  return { nostroAccountId, head };
}
