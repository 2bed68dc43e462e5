/**
 * Balance shards of a hot account (docs/architecture.md, "Hot accounts"). An account's balance, locked and available
 * are split over N shard items (N = 1 for every ordinary account: exactly the single item of before); the account's
 * figures are the exact sums of its shards. Each shard keeps the whole rule on its own item: ACTIVE, its currency,
 * available = balance − locked, available ≥ its floor share. A settlement's hold goes to its home shard (picked by
 * the settlement id); when the home shard's own surplus is short, other shards move surplus to it in the same
 * transaction, so the whole hold still sits on one shard and its release or posting touches that shard alone.
 *
 * Pure functions: the DynamoDB adapter (adapters/dynamodb/account-shards.ts) turns the plans into conditional writes.
 */
import Decimal from 'decimal.js';
import { invariant } from './errors';
import { Money, currencyMinorUnits } from './money';

/**
 * Balance shards one account may have at most: a freeze, close or fund movement writes every shard, with its audit
 * entry and movement record, in one transaction (100 items), and a rebalance reads them all in one TransactGetItems.
 */
export const accountShardsMax = 32;

/** One shard of an account, as read. */
export interface AccountShard {
  readonly shard: number;
  readonly balance: Money;
  readonly locked: Money;
  readonly available: Money;
  /** This shard's share of the account's floor (the shares sum to the floor exactly). */
  readonly floor: Money;
  readonly version: number;
  /** This shard's parts of a net debit cap (of capPartsTotal), when stored; absent: its even share (defaultCapParts). */
  readonly capParts?: number;
}

/** The shard a settlement (or any reference) lands on: a stable hash of the id (FNV-1a), modulo the shard count. */
export function homeShard(reference: string, shardCount: number): number {
  invariant(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= accountShardsMax, `homeShard: ${shardCount} shards is out of range`);
  let hash = 0x811c9dc5;
  for (let index = 0; index < reference.length; index++) {
    hash ^= reference.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}

/**
 * `total` split into `parts` shares in the currency's minor units, exactly: each share rounded down, the remainder
 * (less than one minor unit per part) on share 0. Σ shares = total, always.
 */
export function splitExactly(total: Money, parts: number, currency: string): Money[] {
  const minorUnits = currencyMinorUnits(currency);
  invariant(minorUnits !== undefined, `splitExactly: ${currency} is not a settlement currency`);
  invariant(Number.isInteger(parts) && parts >= 1 && parts <= accountShardsMax, `splitExactly: ${parts} parts is out of range`);
  const share = total.dividedBy(parts).toDecimalPlaces(minorUnits, Decimal.ROUND_FLOOR);
  const shares = Array.from({ length: parts }, (_, index) => (index === 0 ? total.minus(share.times(parts - 1)) : share));
  invariant(sum(shares).equals(total), 'splitExactly: shares do not sum to the total');
  return shares;
}

/** A shard's surplus: what it may give or lock before reaching its floor share. */
export function surplusOf(shard: AccountShard): Money {
  return shard.available.minus(shard.floor);
}

/**
 * Whether the home shard, as read, covers a hold of `amount` under the account's rule by itself (its surplus above
 * its floor share): then the hold is planned on it alone and no other shard need be read. Safe on a partial read:
 * the hold's own condition re-checks the home shard, and a refusal is decided again on a fresh read.
 */
export function homeCovers(home: AccountShard, amount: Money): boolean {
  return surplusOf(home).greaterThanOrEqualTo(amount);
}

/**
 * A net debit cap on a hot account (docs/architecture.md, "Hot accounts"). The cap itself is policy (it may change at
 * any time); what the shards hold is how it is divided: `capParts` of capPartsTotal each, summing to capPartsTotal
 * exactly, so each shard's share is `cap × parts / capPartsTotal` rounded down to minor units (Σ shares ≤ cap). Each
 * shard keeps `locked ≤ its share` on its own item; a hold whose home shard's share is short takes parts from other
 * shards in the same transaction (each donor keeping its own locked within its smaller share), exactly as surplus
 * moves. So Σ locked ≤ Σ shares ≤ cap under any concurrency, and a settlement larger than cap/N still locks while
 * the account as a whole has the room.
 */
export const capPartsTotal = 1_000_000;

/** A shard's parts before any has moved: an even split of capPartsTotal, the remainder on shard 0. */
export function defaultCapParts(shard: number, shardCount: number): number {
  invariant(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= accountShardsMax && shard >= 0 && shard < shardCount, `defaultCapParts: shard ${shard} of ${shardCount}`);
  const even = Math.floor(capPartsTotal / shardCount);
  return shard === 0 ? capPartsTotal - even * (shardCount - 1) : even;
}

/** A shard's parts of the cap, as read. */
export function capPartsOf(shard: AccountShard, shardCount: number): number {
  return shard.capParts ?? defaultCapParts(shard.shard, shardCount);
}

/** The part of `cap` that `parts` parts hold, rounded down to the currency's minor units. */
export function capShareOf(cap: Money, parts: number, currency: string): Money {
  const minorUnits = currencyMinorUnits(currency);
  invariant(minorUnits !== undefined, `capShareOf: ${currency} is not a settlement currency`);
  invariant(Number.isInteger(parts) && parts >= 0 && parts <= capPartsTotal, `capShareOf: ${parts} parts is out of range`);
  return cap.times(parts).dividedBy(capPartsTotal).toDecimalPlaces(minorUnits, Decimal.ROUND_FLOOR);
}

/**
 * The fewest parts whose share of `cap` covers `amount` (an amount in minor units): ⌈amount × total / cap⌉, since
 * a share rounded down to minor units still covers an amount in minor units. Infinity when no parts can (cap ≤ 0).
 */
export function capPartsFor(amount: Money, cap: Money): number {
  if (amount.lessThanOrEqualTo(0)) return 0;
  if (cap.lessThanOrEqualTo(0)) return Number.POSITIVE_INFINITY;
  return amount.times(capPartsTotal).dividedBy(cap).toDecimalPlaces(0, Decimal.ROUND_CEIL).toNumber();
}

/**
 * Whether a read of every shard shows the cap parts summing to capPartsTotal, as they always do in the store. A read
 * of several shards is not a snapshot: one that a concurrent move tore shows another sum, and is read again.
 */
export function capPartsWhole(shards: readonly AccountShard[], shardCount: number): boolean {
  return shards.length < shardCount || shards.reduce((total, shard) => total + capPartsOf(shard, shardCount), 0) === capPartsTotal;
}

/** Cap parts moved from one shard to another. */
export interface CapMove {
  readonly from: number;
  readonly to: number;
  readonly parts: number;
}

/**
 * Whether a hold of `amount` keeps the home shard within its share of `cap` as read, by itself.
 */
export function homeCapCovers(home: AccountShard, amount: Money, cap: Money, shardCount: number, currency: string): boolean {
  return home.locked.plus(amount).lessThanOrEqualTo(capShareOf(cap, capPartsOf(home, shardCount), currency));
}

/**
 * How a hold of `amount` on `home` stays within a net debit cap: nothing to move when the home shard's share covers
 * its locked plus the amount; else the other shards give the parts they do not need for their own locked (largest
 * spare first). Undefined when the shards, as read, do not have the room: the account's position would pass the cap
 * (the hold is then written on the home shard alone, and its condition refuses it).
 */
export function planCap(shards: readonly AccountShard[], home: number, amount: Money, cap: Money, shardCount: number): readonly CapMove[] | undefined {
  const homeShard = shards.find((shard) => shard.shard === home);
  invariant(homeShard !== undefined, `planCap: no shard ${home}`);
  const have = capPartsOf(homeShard, shardCount);
  const want = capPartsFor(homeShard.locked.plus(amount), cap);
  if (want <= have) return [];
  if (!Number.isFinite(want) || want > capPartsTotal) return undefined;
  let missing = want - have;
  const spareOf = (shard: AccountShard) => capPartsOf(shard, shardCount) - capPartsFor(Money.max(shard.locked, 0), cap);
  const donors = shards.filter((shard) => shard.shard !== home && spareOf(shard) > 0).sort((left, right) => spareOf(right) - spareOf(left) || left.shard - right.shard);
  const moves: CapMove[] = [];
  for (const donor of donors) {
    if (missing <= 0) break;
    const take = Math.min(spareOf(donor), missing);
    moves.push({ from: donor.shard, to: home, parts: take });
    missing -= take;
  }
  return missing > 0 ? undefined : moves;
}

/**
 * The rebalancer's plan for a net debit cap's parts: each shard keeps the parts its own locked needs and an even
 * share of the rest, so a lock rarely has to take parts from another shard. The new parts of each shard that
 * changes; empty while every shard still has at least half its even share of the spare (not worth a transaction),
 * and when the shards' locked already need more than the whole cap (a cap lowered below the position: nothing to
 * give until locks end). Read of every shard only.
 */
export function planCapRebalance(shards: readonly AccountShard[], cap: Money, shardCount: number): readonly { shard: number; parts: number }[] {
  if (shards.length !== shardCount || shardCount < 2 || !capPartsWhole(shards, shardCount)) return [];
  const needs = shards.map((shard) => capPartsFor(Money.max(shard.locked, 0), cap));
  const needed = needs.reduce((total, need) => total + need, 0);
  if (!Number.isFinite(needed) || needed > capPartsTotal) return [];
  const spare = capPartsTotal - needed;
  const even = Math.floor(spare / shardCount);
  const targets = needs.map((need, index) => need + even + (index === 0 ? spare - even * shardCount : 0));
  const parts = shards.map((shard) => capPartsOf(shard, shardCount));
  if (parts.every((part, index) => part - needs[index] >= Math.floor(even / 2))) return [];
  return shards.flatMap((shard, index) => (targets[index] === parts[index] ? [] : [{ shard: shard.shard, parts: targets[index] }]));
}

/** Funds moved from one shard to another (balance and available move together; locked never moves). */
export interface ShardMove {
  readonly from: number;
  readonly to: number;
  readonly amount: Money;
}

/**
 * How a hold of `amount` lands on `home`: nothing to move when the home shard's surplus covers it; else the other
 * shards' surpluses, largest first, move what is missing to the home shard. Undefined when the shards together (as
 * read) do not have it: the hold is then written on the home shard alone, and its condition refuses it.
 */
export function planHold(shards: readonly AccountShard[], home: number, amount: Money): readonly ShardMove[] | undefined {
  const homeShard = shards.find((shard) => shard.shard === home);
  invariant(homeShard !== undefined, `planHold: no shard ${home}`);
  let missing = amount.minus(Money.max(surplusOf(homeShard), 0));
  if (missing.lessThanOrEqualTo(0)) return [];
  const donors = shards.filter((shard) => shard.shard !== home && surplusOf(shard).greaterThan(0)).sort((left, right) => surplusOf(right).comparedTo(surplusOf(left)) || left.shard - right.shard);
  const moves: ShardMove[] = [];
  for (const donor of donors) {
    if (missing.lessThanOrEqualTo(0)) break;
    const take = Money.min(surplusOf(donor), missing);
    moves.push({ from: donor.shard, to: home, amount: take });
    missing = missing.minus(take);
  }
  return missing.greaterThan(0) ? undefined : moves;
}

/**
 * The rebalancer's plan: each shard's change of balance and available so that every shard's surplus is an even
 * share of the account's total surplus (split exactly). The changes sum to zero; no shard is taken below its floor
 * share (its new surplus is a share of a non-negative total). Empty when the shards are already within `tolerance`
 * of even (a rebalance that moves cents is not worth a transaction).
 */
export function planRebalance(shards: readonly AccountShard[], currency: string, tolerance: Money = new Money(0)): readonly { shard: number; delta: Money }[] {
  if (shards.length < 2) return [];
  const surpluses = shards.map(surplusOf);
  const total = sum(surpluses);
  if (total.lessThan(0)) return [];
  const targets = splitExactly(total, shards.length, currency);
  const deltas = shards.map((shard, index) => ({ shard: shard.shard, delta: targets[index].minus(surpluses[index]) })).filter((change) => !change.delta.isZero());
  invariant(sum(deltas.map((change) => change.delta)).isZero(), 'planRebalance: changes do not sum to zero');
  if (deltas.every((change) => change.delta.abs().lessThanOrEqualTo(tolerance))) return [];
  return deltas;
}

export interface RebalanceOutcome {
  readonly accountId: string;
  /** MOVED: one transaction evened the shards; EVEN: nothing worth moving; NOT_SHARDED; BUSY: locks kept winning. */
  readonly result: 'MOVED' | 'EVEN' | 'NOT_SHARDED' | 'BUSY';
  /** Total moved out of the shards that gave (decimal string), when MOVED. */
  readonly moved?: string;
  /** Net debit cap parts moved between the shards, when MOVED evened them too. */
  readonly capPartsMoved?: number;
}

export function sum(values: readonly Money[]): Money {
  return values.reduce((total, value) => total.plus(value), new Money(0));
}
