import fc from 'fast-check';
import { Money } from '../../../lambdas/domain/money';
import { homeCovers, homeShard, planHold, planRebalance, splitExactly, sum, surplusOf, type AccountShard } from '../../../lambdas/domain/account-shards';

const shard = (index: number, available: string, floor = '0', locked = '0'): AccountShard => ({
  shard: index,
  balance: new Money(available).plus(locked),
  locked: new Money(locked),
  available: new Money(available),
  floor: new Money(floor),
  version: 1,
});

describe('balance shards', () => {
  it('splits an amount exactly into shares in the currency\'s minor units, the remainder on share 0', () => {
    expect(splitExactly(new Money('100.00'), 3, 'EUR').map((share) => share.toFixed())).toEqual(['33.34', '33.33', '33.33']);
    expect(splitExactly(new Money('10'), 4, 'JPY').map((share) => share.toFixed())).toEqual(['4', '2', '2', '2']);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 1, max: 32 }), (cents, parts) => {
        const total = new Money(cents.toString()).dividedBy(100);
        const shares = splitExactly(total, parts, 'EUR');
        return sum(shares).equals(total) && shares.every((share) => share.decimalPlaces() <= 2 && share.greaterThanOrEqualTo(0));
      }),
    );
  });

  it('picks the same home shard for the same settlement id, spread over every shard', () => {
    expect(homeShard('stl-1', 16)).toBe(homeShard('stl-1', 16));
    const hits = new Set(Array.from({ length: 400 }, (_, index) => homeShard(`stl-${index}`, 16)));
    expect(hits.size).toBe(16);
    expect(homeShard('anything', 1)).toBe(0);
  });

  it('plans a hold on the home shard as read alone only when its surplus above its floor share covers it', () => {
    expect(homeCovers(shard(3, '100.00', '1.00'), new Money('99.00'))).toBe(true);
    expect(homeCovers(shard(3, '100.00', '1.00'), new Money('99.01'))).toBe(false);
    // A shard already below its floor share (a floor raised since) covers nothing.
    expect(homeCovers(shard(3, '5.00', '10.00'), new Money('0.01'))).toBe(false);
    // The same answer as a plan over the home shard alone: no move needed, or no plan at all.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 1, max: 100_000 }), (available, floor, amount) => {
        const home = shard(0, String(available / 100), String(floor / 100));
        const plan = planHold([home], 0, new Money(amount).dividedBy(100));
        return homeCovers(home, new Money(amount).dividedBy(100)) === (plan !== undefined && plan.length === 0);
      }),
    );
  });

  it('holds on the home shard alone when its surplus covers the amount, else moves the largest surpluses to it', () => {
    const shards = [shard(0, '100', '10'), shard(1, '50'), shard(2, '300', '20')];
    expect(planHold(shards, 0, new Money('90'))).toEqual([]);
    expect(planHold(shards, 0, new Money('200'))?.map((move) => [move.from, move.to, move.amount.toFixed()])).toEqual([[2, 0, '110']]);
    expect(planHold(shards, 1, new Money('420'))?.map((move) => [move.from, move.to, move.amount.toFixed()])).toEqual([
      [2, 1, '280'],
      [0, 1, '90'],
    ]);
    // 90 + 50 + 280 = 420 is everything above the floors: a cent more is not there.
    expect(planHold(shards, 1, new Money('420.01'))).toBeUndefined();
  });

  it('rebalances to an even surplus per shard: the changes sum to zero and no shard ends below its floor share', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 5_000 })), { minLength: 2, maxLength: 32 }), (figures) => {
        const shards = figures.map(([surplusCents, floorCents], index) => shard(index, new Money(surplusCents + floorCents).dividedBy(100).toFixed(), new Money(floorCents).dividedBy(100).toFixed()));
        const changes = planRebalance(shards, 'EUR');
        const after = shards.map((each) => surplusOf(each).plus(changes.find((change) => change.shard === each.shard)?.delta ?? 0));
        const total = sum(shards.map(surplusOf));
        return sum(changes.map((change) => change.delta)).isZero() && after.every((surplus) => surplus.greaterThanOrEqualTo(0) && surplus.minus(total.dividedBy(shards.length)).abs().lessThan(shards.length * 0.01 + 0.01));
      }),
    );
    expect(planRebalance([shard(0, '10'), shard(1, '10')], 'EUR')).toEqual([]);
  });
});
