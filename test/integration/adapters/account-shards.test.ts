/**
 * Hot accounts: an account split into balance shards behaves as one account everywhere (docs/architecture.md, "Hot
 * accounts"). The real engine end to end (REST, the state-machine file, DynamoDB Local): a settlement larger than
 * any one shard locks across shards in its one transaction; one larger than the shards together is refused with
 * InsufficientFunds and writes nothing; the rebalancer evens the shards without changing a sum, racing with locks,
 * and never takes a shard below its floor share; a freeze writes every shard in one transaction.
 */
import { Money } from '../../../lambdas/domain/money';
import { DynamoOperationsStore } from '../../../lambdas/adapters/dynamodb/operations-store';
import { DynamoAccountStore } from '../../../lambdas/adapters/dynamodb/account-store';
import { accountEffectItems, holdReadOfAccount, ledgerPartition, readForHold, rebalanceAccount, shardKey, splitAccount } from '../../../lambdas/adapters/dynamodb/account-shards';
import { DeleteCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InsufficientFundsError, InvariantViolationError, TransactionConflictError } from '../../../lambdas/domain/errors';
import { parseSettlementRequest } from '../../../lambdas/domain/settlement';
import { lockFunds, validate, type ValidationResult } from '../../../lambdas/usecases/stages';
import type { Account, AccountStore, HoldRead } from '../../../lambdas/ports/stores';
import { operationsOf } from '../../../lambdas/usecases/operations/deps';
import { splitAccountShards } from '../../../lambdas/usecases/operations/accounts';
import { toNumberValue } from '../../../lambdas/adapters/dynamodb/client';
import { homeShard } from '../../../lambdas/domain/account-shards';
import { http, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { raceBeforeFirstTransaction } from '../../support/racing-client';
import { bookViolations, scanAll, shardViolations } from '../../support/invariants';

let engine: TestEngine;
let sequence = 0;

beforeAll(async () => {
  engine = await startTestEngine();
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

/** A bank of its own with a vostro of `shards` shards (opening balance split exactly) and a floor. */
async function hotVostro(shards: number, openingBalance: string, floor = '0') {
  const bic = `HOT${String.fromCharCode(65 + (++sequence % 26))}DEFF`;
  const at = new Date().toISOString();
  await engine.reference.registerBank({ bic, name: `Hot bank ${bic}`, country: 'DE', status: 'ACTIVE' }, at);
  const account = await engine.accounts.open({ accountType: 'VOSTRO', bic, currency: 'EUR', floor: new Money(floor), openingBalance: new Money(openingBalance), shards }, at);
  return { bic, accountId: account.accountId };
}

async function shardsOf(accountId: string) {
  const account = await engine.accounts.get(accountId);
  if (!account?.shards) throw new Error(`${accountId} is not sharded`);
  return { account, shards: account.shards };
}

async function pay(bic: string, amount: string, settlementId?: string) {
  const request = settlementRequest({ payerBic: bic, amount, ...(settlementId && { settlementId }) });
  expect((await http(engine, 'POST', '/api/v1/settlements', request)).status).toBe(202);
  return settled(engine, String(request.settlementId), 60_000);
}

/** A settlement id whose home shard among `shardCount` is `shard`. */
function idOnShard(shard: number, shardCount: number): string {
  let id = '';
  for (let index = 0; homeShard(id, shardCount) !== shard || id === ''; index++) id = `${settlementRequest().settlementId as string}-${index}`;
  return id;
}

/** A document client that counts the account items each call reads (GetItem: 1; BatchGetItem: its keys). */
function countingReads(): { client: typeof engine.documentClient; itemsRead: () => number } {
  let items = 0;
  const client = new Proxy(engine.documentClient, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: { constructor: { name: string }; input: { RequestItems?: Record<string, { Keys?: unknown[] }> } }) => {
        if (command.constructor.name === 'GetCommand') items += 1;
        if (command.constructor.name === 'BatchGetCommand') items += Object.values(command.input.RequestItems ?? {}).reduce((total, request) => total + (request.Keys?.length ?? 0), 0);
        return target.send(command as never);
      };
    },
  });
  return { client, itemsRead: () => items };
}

/** A document client that counts round trips to the accounts table: calls that start while none is in flight. */
function roundTrips(): { client: typeof engine.documentClient; roundTrips: () => number } {
  let inFlight = 0;
  let trips = 0;
  const client = new Proxy(engine.documentClient, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: never) => {
        if (inFlight++ === 0) trips += 1;
        try {
          return await target.send(command);
        } finally {
          inFlight -= 1;
        }
      };
    },
  });
  return { client, roundTrips: () => trips };
}

/**
 * Validate, then LockFunds, of a PENDING settlement of `amount` from `bic`'s vostro, with `race` run once right after
 * the first read of the vostro that the hold is planned on (Validate's, which the execution carries to LockFunds):
 * the reads of the vostro, in order.
 */
async function lockRacing(bic: string, amount: string, race: (read: HoldRead) => Promise<void>) {
  const request = parseSettlementRequest(settlementRequest({ payerBic: bic, amount }));
  const { record: created } = await engine.deps.settlements.create(request, new Date().toISOString());
  // Carried as Submit's execution carries it: LockFunds plans on Validate's reads only with the record they came with.
  const record = engine.deps.settlements.carry(created);
  const payerAccountId = `VOSTRO#${bic}#EUR`;
  const reads: HoldRead[] = [];
  const accounts: AccountStore = Object.create(engine.deps.accounts) as AccountStore;
  accounts.readForHold = async (accountId, reference, held) => {
    const read = (await engine.deps.accounts.readForHold(accountId, reference, held))!;
    if (accountId !== payerAccountId) return read;
    reads.push(read);
    if (reads.length === 1) await race(read);
    return read;
  };
  const deps = { ...engine.deps, accounts };
  const locking = (async () => {
    const validation = (await validate(deps, { settlementId: request.settlementId, record })) as ValidationResult;
    return lockFunds(deps, { settlementId: request.settlementId, record, validation: JSON.parse(JSON.stringify(validation)) });
  })();
  return { settlementId: request.settlementId, locking, reads };
}

describe('a hot account (balance shards)', () => {
  it('reads only the head and the home shard for a hold the home shard covers, every shard only when it is short', async () => {
    const { accountId } = await hotVostro(16, '1600.00', '16.00');
    const id = idOnShard(5, 16);
    const covered = countingReads();

    const read = await readForHold(covered.client, engine.tables, accountId, id, new Money('99.00'));

    expect(covered.itemsRead()).toBe(2);
    expect([read?.home, read?.shardCount, read?.shards.map((shard) => shard.shard)]).toEqual([5, 16, [5]]);
    // 99.01 is one cent more than the home shard's surplus (100 − its floor share 1): the whole account is read.
    const short = countingReads();
    const all = await readForHold(short.client, engine.tables, accountId, id, new Money('99.01'));
    expect(short.itemsRead()).toBe(16);
    expect(all?.shards.map((shard) => shard.shard)).toEqual(Array.from({ length: 16 }, (_, shard) => shard));
    // A head: one item; a view of the account still sums every shard.
    const head = countingReads();
    expect(await new DynamoAccountStore(head.client, engine.tables).getHead(accountId)).toMatchObject({ shardCount: 16, status: 'ACTIVE' });
    expect(head.itemsRead()).toBe(1);
    expect((await engine.accounts.get(accountId))?.available.toFixed()).toBe('1600');
  });

  it('reads the head and the home shard in one round trip once the store has seen the account\'s shard count, and the right home shard when the count it expected is wrong', async () => {
    const { accountId } = await hotVostro(16, '1600.00', '16.00');
    const id = idOnShard(5, 16);
    const reads = roundTrips();
    const store = new DynamoAccountStore(reads.client, engine.tables);

    const first = await store.readForHold(accountId, id, new Money('99.00'));
    expect(reads.roundTrips()).toBe(2);
    const second = await store.readForHold(accountId, id, new Money('99.00'));
    expect(reads.roundTrips()).toBe(3);
    expect(second).toEqual(first);
    expect([second?.home, second?.shards.map((shard) => shard.shard)]).toEqual([5, [5]]);

    // An expectation the head contradicts (as after a split): its guess is read and set aside, the head's home shard read.
    const wrong = countingReads();
    const reference = idOnShard(3, 4);
    const read = await readForHold(wrong.client, engine.tables, accountId, reference, new Money('1.00'), undefined, 4);
    const home = homeShard(reference, 16);
    expect([read?.home, read?.shards.map((shard) => shard.shard)]).toEqual([home, [home]]);
    expect(wrong.itemsRead()).toBe(home === 3 ? 2 : 3);
  });

  it('decides again on a fresh read when a lock planned on the home shard alone finds it drained, moving surplus from the others; never below a floor share', async () => {
    const { bic, accountId } = await hotVostro(2, '1000.00', '20.00');
    // The second actor: a settlement on the same home shard takes 480 of its 490 surplus after the stage read it.
    const { locking, reads } = await lockRacing(bic, '300.00', async (read) => {
      expect(read.shards.map((shard) => shard.shard)).toEqual([read.home]);
      expect((await pay(bic, '480.00', idOnShard(read.home, 2))).status).toBe('COMPLETED');
    });

    expect(await locking).toMatchObject({ status: 'LOCKED' });

    // Refused by the home shard's own condition, then read whole (the home shard is short now) and moved to it.
    expect(reads.map((read) => read.shards.length)).toEqual([1, 2]);
    const { account, shards } = await shardsOf(accountId);
    expect([account.balance.toFixed(), account.locked.toFixed(), account.available.toFixed()]).toEqual(['520', '300', '220']);
    expect(shards[reads[0].home].locked.toFixed()).toBe('300');
    for (const shard of shards) expect(shardViolations(accountId, shard)).toEqual([]);
  });

  it('refuses with InsufficientFunds a lock planned on the home shard alone only once the whole account is short, and writes nothing', async () => {
    const { bic, accountId } = await hotVostro(2, '1000.00', '20.00');
    // Both shards drained to 10 above their floor shares after the stage read the home shard: 20 left in all.
    const { locking, reads } = await lockRacing(bic, '300.00', async (read) => {
      for (const shard of [read.home, 1 - read.home]) expect((await pay(bic, '480.00', idOnShard(shard, 2))).status).toBe('COMPLETED');
    });

    await expect(locking).rejects.toBeInstanceOf(InsufficientFundsError);

    expect(reads.map((read) => read.shards.length)).toEqual([1, 2]);
    const { account, shards } = await shardsOf(accountId);
    expect([account.balance.toFixed(), account.locked.toFixed(), account.available.toFixed()]).toEqual(['40', '0', '40']);
    for (const shard of shards) expect(shardViolations(accountId, shard)).toEqual([]);
  });

  it('locks a settlement larger than any one shard across shards in one transaction, and posts it on one shard', async () => {
    const { bic, accountId } = await hotVostro(4, '1000.00');
    expect((await shardsOf(accountId)).shards.map((shard) => shard.available.toFixed())).toEqual(['250', '250', '250', '250']);

    const view = await pay(bic, '700.00');

    expect(view.status).toBe('COMPLETED');
    const { account, shards } = await shardsOf(accountId);
    expect([account.balance.toFixed(), account.locked.toFixed(), account.available.toFixed()]).toEqual(['300', '0', '300']);
    // The home shard held and posted the whole 700: its own 250 and 450 moved from two others (largest first).
    expect(shards.filter((shard) => shard.balance.isZero())).toHaveLength(2);
    expect(shards.map((shard) => shard.balance.toFixed()).sort()).toEqual(['0', '0', '250', '50']);
    expect(shards.every((shard) => shardViolations(accountId, shard).length === 0)).toBe(true);
    // The posting's ledger entry is in the home shard's own partition.
    const home = homeShard(view.settlementId, 4);
    const entries = await engine.documentClient.send(new QueryCommand({ TableName: engine.tables.ledger, KeyConditionExpression: 'accountId = :account', ExpressionAttributeValues: { ':account': ledgerPartition(accountId, home) }, ConsistentRead: true }));
    expect((entries.Items ?? []).filter((entry) => entry.reference === view.settlementId).map((entry) => entry.amount.toString())).toEqual(['-700']);
    expect(shards[home].balance.toFixed()).toBe('0');
  });

  it('refuses with InsufficientFunds and writes nothing when its shards together do not hold the amount', async () => {
    const { bic, accountId } = await hotVostro(4, '1000.00', '100.00');
    const before = await scanAll(engine, 'accounts');

    const view = await pay(bic, '900.01');

    expect(view.status).toBe('FAILED');
    expect(view.reasonCode).toBe('SETTLEMENT.INSUFFICIENT_FUNDS');
    const after = await scanAll(engine, 'accounts');
    const mine = (items: typeof before) => items.filter((item) => String(item.accountId).startsWith(accountId)).map((item) => JSON.stringify([item.accountId, item.balance, item.locked, item.available, item.version])).sort();
    expect(mine(after)).toEqual(mine(before));
    // Exactly the surplus above the floor still locks (across every shard).
    expect((await pay(bic, '900.00')).status).toBe('COMPLETED');
    expect((await shardsOf(accountId)).account.available.toFixed()).toBe('100');
  });

  it('rebalances without changing a sum, racing with locks, never taking a shard below its floor share', async () => {
    const { bic, accountId } = await hotVostro(4, '4000.00', '40.00');
    // Uneven shards: a large settlement takes its home shard and one other down to their floor shares.
    expect((await pay(bic, '2900.00')).status).toBe('COMPLETED');
    const uneven = await shardsOf(accountId);
    expect(uneven.shards.filter((shard) => shard.available.equals(shard.floor))).toHaveLength(2);

    // Two actors: settlements locking and posting on the account, and the rebalancer, at the same time.
    const payments = Promise.all(Array.from({ length: 6 }, () => pay(bic, '90.00')));
    const rebalances: string[] = [];
    for (let round = 0; round < 4; round++) rebalances.push(...(await engine.accounts.rebalanceShards([accountId])).map((outcome) => outcome.result));
    const views = await payments;
    // Once quiet, one rebalance evens the shards and the next finds nothing to move.
    await engine.accounts.rebalanceShards([accountId]);
    rebalances.push(...(await engine.accounts.rebalanceShards([accountId])).map((outcome) => outcome.result));

    expect(views.map((view) => view.status)).toEqual(views.map(() => 'COMPLETED'));
    expect(rebalances).toContain('MOVED');
    expect(rebalances.at(-1)).toBe('EVEN');
    const { account, shards } = await shardsOf(accountId);
    expect([account.balance.toFixed(), account.locked.toFixed(), account.floor.toFixed()]).toEqual(['560', '0', '40']);
    // Even: every shard's surplus above its floor share is a quarter of the account's (520 / 4).
    expect(shards.map((shard) => shard.available.minus(shard.floor).toFixed())).toEqual(['130', '130', '130', '130']);
    for (const shard of shards) expect(shardViolations(accountId, shard)).toEqual([]);
  });

  it('re-plans when a lock takes a giving shard\'s funds between its read and its write, never below the floor share', async () => {
    const { bic, accountId } = await hotVostro(2, '1000.00', '20.00');
    const first = await pay(bic, '300.00');
    const giver = 1 - homeShard(first.settlementId, 2);
    expect((await shardsOf(accountId)).shards[giver].available.toFixed()).toBe('500');
    // The second actor: a settlement whose hold lands on the giving shard, committed after the rebalancer has read
    // the shards and before its transaction reaches DynamoDB; it leaves the giver 10 above its floor share.
    let racer = '';
    for (let index = 0; homeShard(racer, 2) !== giver || racer === ''; index++) racer = `${settlementRequest().settlementId as string}-${index}`;
    const racing = raceBeforeFirstTransaction(engine.documentClient, async () => {
      expect((await pay(bic, '480.00', racer)).status).toBe('COMPLETED');
    });

    const outcome = await rebalanceAccount(racing.client, engine.tables, accountId, new Date().toISOString());

    expect(racing.raced()).toBe(true);
    expect(outcome.result).toBe('MOVED');
    const { account, shards } = await shardsOf(accountId);
    expect([account.balance.toFixed(), account.available.toFixed()]).toEqual(['220', '220']);
    for (const shard of shards) expect(shardViolations(accountId, shard)).toEqual([]);
    expect(shards.map((shard) => shard.available.minus(shard.floor).toFixed())).toEqual(['100', '100']);
  });

  it('refuses a lock whose giving shard was drained between its read and its write, and writes nothing', async () => {
    const { bic, accountId } = await hotVostro(2, '1000.00', '20.00');
    // The lock as planned on a read of the account: 700 on shard 0 (490 above its floor share), 210 given by shard 1.
    const { account: asRead } = await shardsOf(accountId);
    const items = accountEffectItems(engine.tables, { type: 'lockAmount', account: holdReadOfAccount(asRead, 0), amount: new Money('700.00') }, new Date().toISOString());
    expect(items).toHaveLength(2);
    // The second actor: a settlement whose hold lands on the giving shard takes 480 of it before the lock commits.
    let racer = '';
    for (let index = 0; homeShard(racer, 2) !== 1 || racer === ''; index++) racer = `${settlementRequest().settlementId as string}-${index}`;
    expect((await pay(bic, '480.00', racer)).status).toBe('COMPLETED');
    const before = await shardsOf(accountId);

    await expect(engine.documentClient.send(new TransactWriteCommand({ TransactItems: items }))).rejects.toMatchObject({ name: 'TransactionCanceledException' });

    // The giver's own condition refused it: without it, shard 1 would give 210 of its 20 and sit 200 below its floor.
    const after = await shardsOf(accountId);
    expect(after.shards.map((shard) => [shard.balance.toFixed(), shard.available.toFixed()])).toEqual(before.shards.map((shard) => [shard.balance.toFixed(), shard.available.toFixed()]));
    for (const shard of after.shards) expect(shardViolations(accountId, shard)).toEqual([]);
  });

  it('is evened on an operator\'s request (POST …/rebalance): sums unchanged, the move audited; again it is EVEN, and an account of one item is NOT_SHARDED', async () => {
    const { bic, accountId } = await hotVostro(4, '1000.00');
    expect((await pay(bic, '700.00')).status).toBe('COMPLETED');
    expect((await shardsOf(accountId)).shards.map((shard) => shard.available.toFixed()).sort()).toEqual(['0', '0', '250', '50']);
    const path = `/api/v1/accounts/${encodeURIComponent(accountId)}/rebalance`;

    const moved = await http(engine, 'POST', path);

    expect(moved.status).toBe(200);
    expect(moved.json).toMatchObject({ accountId, result: 'MOVED', moved: '175.00', account: { balance: '300.00', locked: '0.00', available: '300.00' } });
    const { shards } = await shardsOf(accountId);
    expect(shards.map((shard) => shard.available.toFixed())).toEqual(['75', '75', '75', '75']);
    for (const shard of shards) expect(shardViolations(accountId, shard)).toEqual([]);
    const audit = await http(engine, 'GET', `/api/v1/audit?entityType=ACCOUNT&entityId=${encodeURIComponent(accountId)}`);
    expect((audit.json as { items: { action: string }[] }).items.map((entry) => entry.action)).toContain('ACCOUNT.REBALANCE');

    expect((await http(engine, 'POST', path)).json).toMatchObject({ result: 'EVEN' });
    const single = await hotVostro(1, '10.00');
    expect((await http(engine, 'POST', `/api/v1/accounts/${encodeURIComponent(single.accountId)}/rebalance`)).json).toMatchObject({ result: 'NOT_SHARDED' });
    expect((await http(engine, 'POST', `/api/v1/accounts/${encodeURIComponent('VOSTRO#NOSUCHXX#EUR')}/rebalance`)).status).toBe(404);
  });

  it('splits an account of one item into shards in one transaction, its sums unchanged, and settles on it after', async () => {
    const { bic, accountId } = await hotVostro(1, '1000.00', '10.00');
    expect((await engine.accounts.get(accountId))?.shards).toBeUndefined();

    const split = await engine.accounts.split(accountId, 4);

    expect([split.balance.toFixed(), split.available.toFixed(), split.floor.toFixed()]).toEqual(['1000', '1000', '10']);
    expect(split.shards?.map((shard) => [shard.available.toFixed(), shard.floor.toFixed()])).toEqual([
      ['250', '2.5'],
      ['250', '2.5'],
      ['250', '2.5'],
      ['250', '2.5'],
    ]);
    expect((await pay(bic, '600.00')).status).toBe('COMPLETED');
    expect((await shardsOf(accountId)).account.balance.toFixed()).toBe('400');
  });

  it('is split on an operator\'s request (POST …/split): sums unchanged, the split audited; refused when split already, out of range, or missing', async () => {
    const { bic, accountId } = await hotVostro(1, '1000.00', '10.00');
    const path = `/api/v1/accounts/${encodeURIComponent(accountId)}/split`;

    const split = await http(engine, 'POST', path, { shards: 4 });

    expect(split.status).toBe(200);
    expect(split.json).toMatchObject({ accountId, shardCount: 4, account: { balance: '1000.00', locked: '0.00', available: '1000.00', floor: '10.00' } });
    const { shards } = await shardsOf(accountId);
    expect(shards.map((shard) => [shard.available.toFixed(), shard.floor.toFixed()])).toEqual(Array.from({ length: 4 }, () => ['250', '2.5']));
    const audit = await http(engine, 'GET', `/api/v1/audit?entityType=ACCOUNT&entityId=${encodeURIComponent(accountId)}`);
    expect((audit.json as { items: { action: string }[] }).items.map((entry) => entry.action)).toContain('ACCOUNT.SPLIT');
    expect((await pay(bic, '600.00')).status).toBe('COMPLETED');

    expect(await http(engine, 'POST', path, { shards: 8 })).toMatchObject({ status: 409, json: { error: { code: 'ACCOUNT.CONFLICT' } } });
    const single = await hotVostro(1, '10.00');
    const singlePath = `/api/v1/accounts/${encodeURIComponent(single.accountId)}/split`;
    for (const shards of [1, 33, 2.5, '4']) expect(await http(engine, 'POST', singlePath, { shards })).toMatchObject({ status: 400, json: { error: { field: 'shards' } } });
    expect((await http(engine, 'POST', `/api/v1/accounts/${encodeURIComponent('VOSTRO#NOSUCHXX#EUR')}/split`, { shards: 4 })).status).toBe(404);
    expect((await engine.accounts.get(single.accountId))?.shards).toBeUndefined();
  });

  it('splits a busy account: a settlement that changes it between the read and the split makes the split read again', async () => {
    const { bic, accountId } = await hotVostro(1, '1000.00');
    const ops = operationsOf(engine.deps);
    let raced = false;
    const racing = {
      ...ops,
      accountShards: {
        rebalanceShards: (ids?: readonly string[]) => ops.accountShards.rebalanceShards(ids),
        splitShards: async (account: Account, shardCount: number) => {
          if (!raced) {
            raced = true;
            expect((await pay(bic, '1.00')).status).toBe('COMPLETED');
          }
          return ops.accountShards.splitShards(account, shardCount);
        },
      },
    };

    const split = await splitAccountShards(racing, accountId, 2, { actor: 'ops@test', at: new Date().toISOString() });

    expect(raced).toBe(true);
    expect(split).toMatchObject({ shardCount: 2, account: { balance: '999.00', available: '999.00' } });
    expect((await shardsOf(accountId)).shards.map((shard) => shard.available.toFixed())).toEqual(['499.5', '499.5']);
  });

  it('refuses to split a closed account, or one below its floor, and writes nothing', async () => {
    const closed = await hotVostro(1, '0.00');
    await new DynamoOperationsStore(engine.documentClient, engine.tables).setStatus((await engine.accounts.get(closed.accountId))!, 'CLOSED', 'ACCOUNT.CLOSE', { actor: 'ops@test', at: new Date().toISOString() });
    expect(await http(engine, 'POST', `/api/v1/accounts/${encodeURIComponent(closed.accountId)}/split`, { shards: 2 })).toMatchObject({ status: 422, json: { error: { code: 'ACCOUNT.NOT_ACTIVE' } } });
    // Below its floor: only data written before floors were enforced could be; each shard must start at its share.
    const below = await hotVostro(1, '10.00');
    await engine.documentClient.send(new UpdateCommand({ TableName: engine.tables.accounts, Key: { accountId: below.accountId }, UpdateExpression: 'SET floor = :floor', ExpressionAttributeValues: { ':floor': toNumberValue('20') } }));
    expect(await http(engine, 'POST', `/api/v1/accounts/${encodeURIComponent(below.accountId)}/split`, { shards: 2 })).toMatchObject({ status: 409, json: { error: { code: 'ACCOUNT.CONFLICT' } } });
    for (const { accountId } of [closed, below]) expect((await scanAll(engine, 'accounts')).filter((item) => String(item.accountId).startsWith(`${accountId}#`))).toEqual([]);
    await engine.documentClient.send(new UpdateCommand({ TableName: engine.tables.accounts, Key: { accountId: below.accountId }, UpdateExpression: 'SET floor = :floor', ExpressionAttributeValues: { ':floor': toNumberValue('0') } }));
  });

  it('refuses a split on a stale read of the account, or over a shard item already there, and writes nothing', async () => {
    const { bic, accountId } = await hotVostro(1, '1000.00');
    const stale = (await engine.accounts.get(accountId))!;
    expect((await pay(bic, '1.00')).status).toBe('COMPLETED');
    const now = new Date().toISOString();
    await expect(splitAccount(engine.documentClient, engine.tables, stale, 4, now)).rejects.toThrow(TransactionConflictError);
    // A shard item left where a new shard would go (a half-done operator script): never overwritten.
    await engine.documentClient.send(new PutCommand({ TableName: engine.tables.accounts, Item: { accountId: shardKey(accountId, 2), balance: toNumberValue('5'), locked: toNumberValue('0'), available: toNumberValue('5'), floor: toNumberValue('0'), version: 1 } }));
    await expect(splitAccount(engine.documentClient, engine.tables, (await engine.accounts.get(accountId))!, 4, now)).rejects.toThrow(InvariantViolationError);
    const items = (await scanAll(engine, 'accounts')).filter((item) => String(item.accountId).startsWith(accountId));
    await engine.documentClient.send(new DeleteCommand({ TableName: engine.tables.accounts, Key: { accountId: shardKey(accountId, 2) } }));
    expect(items.map((item) => [item.accountId, item.shardCount === undefined, String(item.balance)]).sort()).toEqual([
      [shardKey(accountId, 2), true, '5'],
      [accountId, true, '999'],
    ]);
  });

  it('freezes as a whole: every shard in one transaction, and a frozen account locks nothing', async () => {
    const { bic, accountId } = await hotVostro(3, '300.00');
    const operations = new DynamoOperationsStore(engine.documentClient, engine.tables);
    const actor = { actor: 'ops@test', at: new Date().toISOString() };

    const frozen = await operations.setStatus((await engine.accounts.get(accountId))!, 'FROZEN', 'ACCOUNT.FREEZE', actor);

    expect(frozen.committed).toBe(true);
    const items = (await scanAll(engine, 'accounts')).filter((item) => [0, 1, 2].map((shard) => shardKey(accountId, shard)).includes(String(item.accountId)));
    expect(items.map((item) => item.accountStatus)).toEqual(['FROZEN', 'FROZEN', 'FROZEN']);
    const view = await pay(bic, '10.00');
    expect(view.status).toBe('FAILED');
  });
});
