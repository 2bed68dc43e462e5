/**
 * A hold's read (HoldRead: an account's head and the shards a hold is planned on) in the form an execution carries it
 * from Validate to LockFunds (`$.validation.holds`), so that LockFunds plans its lock on the reads Validate just made
 * instead of reading both accounts again (docs/architecture.md, "The carried record").
 *
 * Why it is safe: a hold is planned on a read, never decided by it. Every item the lock writes carries its own
 * conditions (ACTIVE, the currency, available ≥ amount + floor share, the floor share as read, a net debit cap's parts
 * pinned as read), so a read that is stale, or not the engine's at all, can make the lock fail but never overdraw or
 * mis-post. LockFunds plans on carried reads only when it decides on the record they were carried with, so a refusal
 * decided on them (insufficient funds, an inactive account, a cap reached) is decided again on a fresh read, as any
 * refusal on a carried record is (usecases/advance.ts).
 * What does not decode as a read of the account this settlement locks, on the home shard its id picks, is ignored.
 */
import { accountShardsMax, homeShard, type AccountShard } from '../domain/account-shards';
import { decimalFromString } from '../domain/money';
import type { AccountStatus, HoldRead } from '../ports/stores';

/** A shard as read, its amounts as decimal strings (the execution's state is JSON). */
export type CarriedShard = Omit<AccountShard, 'balance' | 'locked' | 'available' | 'floor'> & Readonly<Record<'balance' | 'locked' | 'available' | 'floor', string>>;

export type CarriedHold = Omit<HoldRead, 'shards'> & { readonly shards: readonly CarriedShard[] };

export function carryHold(read: HoldRead): CarriedHold {
  return {
    ...read,
    shards: read.shards.map((shard) => ({
      shard: shard.shard,
      balance: shard.balance.toFixed(),
      locked: shard.locked.toFixed(),
      available: shard.available.toFixed(),
      floor: shard.floor.toFixed(),
      version: shard.version,
      ...(shard.capParts !== undefined && { capParts: shard.capParts }),
    })),
  };
}

const accountStatuses: readonly string[] = ['ACTIVE', 'FROZEN', 'CLOSED'] satisfies readonly AccountStatus[];
const isCount = (value: unknown, min: number, max: number): value is number => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/**
 * The carried read of `accountId` for the hold of settlement `reference`, or undefined when `value` is not one: the
 * account's own id, a shard count in range, the home shard `reference` picks, and shards in order that include it.
 */
export function uncarryHold(value: unknown, accountId: string, reference: string): HoldRead | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const carried = value as Partial<CarriedHold>;
  if (carried.accountId !== accountId || typeof carried.bic !== 'string' || typeof carried.currency !== 'string') return undefined;
  if (!accountStatuses.includes(carried.status as string) || !isCount(carried.shardCount, 1, accountShardsMax)) return undefined;
  if (carried.home !== homeShard(reference, carried.shardCount) || !Array.isArray(carried.shards) || carried.shards.length === 0) return undefined;
  const shards: AccountShard[] = [];
  try {
    for (const shard of carried.shards as unknown[]) {
      const { shard: index, balance, locked, available, floor, version, capParts } = (shard ?? {}) as Partial<CarriedShard>;
      if (!isCount(index, 0, carried.shardCount - 1) || (shards.length > 0 && index <= shards[shards.length - 1].shard)) return undefined;
      if (!isCount(version, 0, Number.MAX_SAFE_INTEGER) || (capParts !== undefined && !isCount(capParts, 0, Number.MAX_SAFE_INTEGER))) return undefined;
      if (typeof balance !== 'string' || typeof locked !== 'string' || typeof available !== 'string' || typeof floor !== 'string') return undefined;
      shards.push({ shard: index, balance: decimalFromString(balance), locked: decimalFromString(locked), available: decimalFromString(available), floor: decimalFromString(floor), version, ...(capParts !== undefined && { capParts }) });
    }
  } catch {
    return undefined;
  }
  if (!shards.some((shard) => shard.shard === carried.home) || (shards.length !== 1 && shards.length !== carried.shardCount)) return undefined;
  return { accountId, bic: carried.bic, currency: carried.currency, status: carried.status as AccountStatus, shardCount: carried.shardCount, home: carried.home, shards };
}
