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
}

export function sum(values: readonly Money[]): Money {
  return values.reduce((total, value) => total.plus(value), new Money(0));
}
