import fc from 'fast-check';
import { Money } from '../../../lambdas/domain/money';
import { capPartsFor, capPartsTotal, capPartsWhole, capShareOf, defaultCapParts, homeCapCovers, homeCovers, homeShard, planCap, planCapRebalance, planHold, planRebalance, splitExactly, sum, surplusOf, type AccountShard } from '../../../lambdas/domain/account-shards';

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

describe('a net debit cap over balance shards', () => {
  const capped = (index: number, locked: string, capParts?: number): AccountShard => ({ ...shard(index, '1000000.00', '0', locked), ...(capParts !== undefined && { capParts }) });
  const cap = new Money('2000.00');

  it('divides the cap into parts that sum to the whole, the remainder on shard 0, and never shares out more than the cap', () => {
    expect([0, 1, 2].map((index) => defaultCapParts(index, 3))).toEqual([333_334, 333_333, 333_333]);
    expect(defaultCapParts(0, 1)).toBe(capPartsTotal);
    expect(capShareOf(cap, capPartsTotal, 'EUR').toFixed(2)).toBe('2000.00');
    expect(capShareOf(new Money('100.00'), 333_333, 'EUR').toFixed(2)).toBe('33.33');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.integer({ min: 1, max: 32 }), (cents, shardCount) => {
        const total = new Money(cents.toString()).dividedBy(100);
        const parts = Array.from({ length: shardCount }, (_, index) => defaultCapParts(index, shardCount));
        return parts.reduce((all, part) => all + part, 0) === capPartsTotal && sum(parts.map((part) => capShareOf(total, part, 'EUR'))).lessThanOrEqualTo(total);
      }),
    );
  });

  it('counts the fewest parts whose share covers an amount', () => {
    expect(capPartsFor(new Money('1200.00'), cap)).toBe(600_000);
    expect(capPartsFor(new Money('0.01'), cap)).toBe(5);
    expect(capPartsFor(new Money('0'), cap)).toBe(0);
    expect(capPartsFor(new Money('0.01'), new Money('0'))).toBe(Number.POSITIVE_INFINITY);
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (amountCents, capCents) => {
        const amount = new Money(amountCents.toString()).dividedBy(100);
        const total = new Money(capCents.toString()).dividedBy(100);
        const parts = capPartsFor(amount, total);
        if (parts > capPartsTotal) return amount.greaterThan(total.times(capPartsTotal - 1).dividedBy(capPartsTotal));
        // Enough, and one fewer is not.
        return capShareOf(total, parts, 'EUR').greaterThanOrEqualTo(amount) && (parts === 0 || capShareOf(total, parts - 1, 'EUR').lessThan(amount));
      }),
    );
  });

  it('plans a hold on its home shard alone when its share covers its locked plus the amount', () => {
    expect(homeCapCovers(capped(1, '0'), new Money('500.00'), cap, 4, 'EUR')).toBe(true);
    expect(homeCapCovers(capped(1, '0'), new Money('500.01'), cap, 4, 'EUR')).toBe(false);
    expect(homeCapCovers(capped(1, '100.00', 300_000), new Money('500.00'), cap, 4, 'EUR')).toBe(true);
    expect(planCap([capped(0, '0'), capped(1, '100.00'), capped(2, '0'), capped(3, '0')], 1, new Money('400.00'), cap, 4)).toEqual([]);
  });

  it('moves to the home shard the parts other shards do not need for their own locked, largest spare first', () => {
    // Shard 1 needs 600,000 parts for 1,200.00; shard 0 has 250,000 spare, shard 2 150,000 (it holds 200.00), shard 3 250,000.
    const shards = [capped(0, '0'), capped(1, '0'), capped(2, '200.00'), capped(3, '0')];
    expect(planCap(shards, 1, new Money('1200.00'), cap, 4)).toEqual([
      { from: 0, to: 1, parts: 250_000 },
      { from: 3, to: 1, parts: 100_000 },
    ]);
    // The whole account's room is 1,800.00: 1,800.00 fits, 1,800.01 does not.
    expect(planCap(shards, 1, new Money('1800.00'), cap, 4)?.reduce((total, move) => total + move.parts, 0)).toBe(650_000);
    expect(planCap(shards, 1, new Money('1800.01'), cap, 4)).toBeUndefined();
    expect(planCap([capped(0, '0')], 0, new Money('0.01'), new Money('0'), 1)).toBeUndefined();
  });

  it('never plans past the cap: after the plan, every shard holds its locked within its share and the parts still sum to the whole', () => {
    const arbitraryShards = fc.integer({ min: 1, max: 8 }).chain((shardCount) =>
      fc.tuple(fc.constant(shardCount), fc.array(fc.integer({ min: 0, max: 300 }), { minLength: shardCount, maxLength: shardCount }), fc.integer({ min: 0, max: shardCount - 1 }), fc.integer({ min: 1, max: 2500 })),
    );
    fc.assert(
      fc.property(arbitraryShards, ([shardCount, lockedEuros, home, amountEuros]) => {
        const shards = lockedEuros.map((euros, index) => capped(index, String(euros)));
        // Locked within each default share, as the store keeps it.
        if (!shards.every((one) => one.locked.lessThanOrEqualTo(capShareOf(cap, defaultCapParts(one.shard, shardCount), 'EUR')))) return true;
        const amount = new Money(amountEuros);
        const plan = planCap(shards, home, amount, cap, shardCount);
        const room = cap.minus(sum(shards.map((one) => one.locked)));
        if (plan === undefined) return amount.greaterThan(room.minus(new Money('0.01').times(shardCount)));
        const parts = shards.map((one) => defaultCapParts(one.shard, shardCount));
        for (const move of plan) {
          parts[move.from] -= move.parts;
          parts[move.to] += move.parts;
        }
        const after = shards.map((one) => (one.shard === home ? one.locked.plus(amount) : one.locked));
        return capPartsWhole(shards.map((one, index) => ({ ...one, capParts: parts[index] })), shardCount) && parts.every((part) => part >= 0) && after.every((locked, index) => locked.lessThanOrEqualTo(capShareOf(cap, parts[index], 'EUR')));
      }),
    );
  });

  it('evens the parts for the rebalancer: each shard keeps what its own locked needs and an even share of the rest', () => {
    const shards = [capped(0, '0', 0), capped(1, '0', 600_000), capped(2, '300.00', 150_000), capped(3, '0', 250_000)];
    expect(planCapRebalance(shards, cap, 4)).toEqual([
      { shard: 0, parts: 212_500 },
      { shard: 1, parts: 212_500 },
      { shard: 2, parts: 362_500 },
      { shard: 3, parts: 212_500 },
    ]);
    // Every shard with at least half its even share of the spare: not worth a transaction.
    expect(planCapRebalance([capped(0, '0', 150_000), capped(1, '0', 250_000), capped(2, '300.00', 350_000), capped(3, '0', 250_000)], cap, 4)).toEqual([]);
    // Locked above the whole cap (the cap was lowered): nothing to give.
    expect(planCapRebalance([capped(0, '1500.00', 500_000), capped(1, '1000.00', 500_000)], cap, 2)).toEqual([]);
    // A torn read (parts that do not add up) or a partial one: no plan.
    expect(planCapRebalance([capped(0, '0', 500_000), capped(1, '0', 400_000)], cap, 2)).toEqual([]);
    expect(planCapRebalance([capped(0, '0', 1_000_000)], cap, 2)).toEqual([]);
  });
});
