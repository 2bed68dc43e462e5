/**
 * A hold's read as an execution carries it from Validate to LockFunds (usecases/carried-hold.ts): exact through JSON,
 * and ignored unless it is a read of the account the settlement locks, on the home shard its id picks.
 */
import { homeShard } from '../../../lambdas/domain/account-shards';
import { Money } from '../../../lambdas/domain/money';
import { carryHold, uncarryHold } from '../../../lambdas/usecases/carried-hold';
import type { HoldRead } from '../../../lambdas/ports/stores';

const settlementId = 'stl-carried-hold-1';
const home = homeShard(settlementId, 16);
const shard = (index: number, capParts?: number) => ({ shard: index, balance: new Money('1000.10'), locked: new Money('0.01'), available: new Money('1000.09'), floor: new Money('-0.5'), version: 7, ...(capParts !== undefined && { capParts }) });
const hot: HoldRead = { accountId: 'VOSTRO#DEUTDEFF#EUR', bic: 'DEUTDEFF', currency: 'EUR', status: 'ACTIVE', shardCount: 16, home, shards: [shard(home, 62_500)] };
const throughJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('a carried hold read', () => {
  it('comes back exactly as read, amounts as decimal strings on the way', () => {
    const carried = throughJson(carryHold(hot));
    expect((carried as { shards: { available: unknown }[] }).shards[0].available).toBe('1000.09');
    expect(uncarryHold(carried, hot.accountId, settlementId)).toEqual(hot);
    const whole: HoldRead = { ...hot, shardCount: 16, shards: Array.from({ length: 16 }, (_, index) => shard(index)) };
    expect(uncarryHold(throughJson(carryHold(whole)), hot.accountId, settlementId)).toEqual(whole);
  });

  it.each([
    ['another account', (read: Record<string, unknown>) => ({ ...read, accountId: 'VOSTRO#BNPAFRPP#EUR' })],
    ['a home shard the id does not pick', (read: Record<string, unknown>) => ({ ...read, home: (home + 1) % 16 })],
    ['a shard count out of range', (read: Record<string, unknown>) => ({ ...read, shardCount: 33 })],
    ['an unknown status', (read: Record<string, unknown>) => ({ ...read, status: 'OPEN' })],
    ['an amount that is not a decimal', (read: Record<string, unknown>) => ({ ...read, shards: [{ ...(read.shards as object[])[0], floor: '1e3' }] })],
    ['shards out of order', (read: Record<string, unknown>) => ({ ...read, shards: [...(read.shards as object[]), ...(read.shards as object[])] })],
    ['some shards but not all', (read: Record<string, unknown>) => ({ ...read, shards: [{ ...(read.shards as object[])[0], shard: 0 }, ...(read.shards as object[])].slice(home === 0 ? 1 : 0) })],
    ['no shards', (read: Record<string, unknown>) => ({ ...read, shards: [] })],
    ['not an object', () => 'VOSTRO#DEUTDEFF#EUR'],
  ])('is ignored when it names %s', (_what, forge) => {
    expect(uncarryHold(forge(throughJson(carryHold(hot)) as Record<string, unknown>), hot.accountId, settlementId)).toBeUndefined();
  });
});
