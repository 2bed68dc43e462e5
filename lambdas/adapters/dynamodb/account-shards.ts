/**
 * The account-effect items: what a lock, a release, a posting and a ledger entry write on an account, for an account
 * of one item (exactly as before) and for a hot account split into balance shards (domain/account-shards.ts,
 * docs/data-model.md "Balance shards"). The settlement store calls these one line each; so do returns and the
 * operations store for the writes that apply to an account as a whole.
 *
 * Keys: shard 0 is the account's item (`VOSTRO#<BIC>#<CCY>`, with `shardCount` when sharded); shard k ≥ 1 is
 * `<accountId>#S<k>`, holding no index attribute (it never appears in the byType listing). Ledger partitions: the
 * account id for shard 0, `<accountId>#L<k>` for a posting on shard k, so a hot pair's entries spread too.
 */
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AccountNotActiveError, InsufficientFundsError, InvariantViolationError, NetDebitCapExceededError, TransactionConflictError, invariant } from '../../domain/errors';
import { accountShardsMax, capPartsOf, capPartsWhole, planCapRebalance, capShareOf, homeCapCovers, homeCovers, homeShard, planCap, planHold, planRebalance, splitExactly, sum, type AccountShard, type RebalanceOutcome } from '../../domain/account-shards';
import { Money, formatAmount } from '../../domain/money';
import type { Account, AccountHead, AccountType, Effect, HoldRead, LedgerEntry } from '../../ports/stores';
import { StaleAccountPlanError } from '../../ports/stores';
import { batchGetConsistent, cancellationReasons, guard, toInteger, toMoney, toNumberValue, translateTransientError, type CancellationReason } from './client';
import type { TableNames } from './table-definitions';

type Item = Record<string, unknown>;
export type AccountTransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];
export type AccountEffect = Extract<Effect, { type: 'lockAmount' | 'releaseLockedAmount' | 'postLockedAmount' }>;

const shardSuffix = /#S(\d+)$/;
const ledgerSuffix = /#L(\d+)$/;

/** The key of shard `shard` of an account: the account's own item for shard 0. */
export function shardKey(accountId: string, shard = 0): string {
  return shard === 0 ? accountId : `${accountId}#S${shard}`;
}

/** The ledger partition of a posting on shard `shard` of an account. */
export function ledgerPartition(accountId: string, shard = 0): string {
  return shard === 0 ? accountId : `${accountId}#L${shard}`;
}

/** The account a shard key or ledger partition belongs to. */
export function baseAccountId(key: string): string {
  return key.replace(shardSuffix, '').replace(ledgerSuffix, '');
}

export function shardCountOf(item: Item): number {
  return item.shardCount === undefined ? 1 : toInteger(item.shardCount);
}

function shardFromItem(item: Item): AccountShard {
  const match = shardSuffix.exec(String(item.accountId));
  return {
    shard: match ? Number(match[1]) : 0,
    balance: toMoney(item.balance),
    locked: toMoney(item.locked),
    available: toMoney(item.available),
    floor: toMoney(item.floor),
    version: toInteger(item.version),
    ...(item.capParts !== undefined && { capParts: toInteger(item.capParts) }),
  };
}

/**
 * An account from its items: shard 0 (the account item, with its type, bank and status) and, for a hot account,
 * every other shard. Balance, locked, available and floor are the exact sums of the shards.
 */
export function accountFromShardItems(items: readonly Item[]): Account {
  const head = items.find((item) => !shardSuffix.test(String(item.accountId)));
  invariant(head !== undefined, `accountFromShardItems: no shard 0 among ${items.map((item) => String(item.accountId)).join(', ')}`);
  const shards = items.map(shardFromItem).sort((left, right) => left.shard - right.shard);
  const base: Account = {
    accountId: String(head.accountId),
    accountType: head.accountType as AccountType,
    bic: String(head.bic),
    currency: String(head.currency),
    balance: sum(shards.map((shard) => shard.balance)),
    locked: sum(shards.map((shard) => shard.locked)),
    available: sum(shards.map((shard) => shard.available)),
    floor: sum(shards.map((shard) => shard.floor)),
    status: head.accountStatus as Account['status'],
    version: shards.reduce((total, shard) => total + shard.version, 0),
    updatedAt: items.map((item) => String(item.updatedAt)).sort().at(-1) ?? String(head.updatedAt),
  };
  if (shardCountOf(head) <= 1) return base;
  invariant(shards.length === shardCountOf(head) && shards.every((shard, index) => shard.shard === index), `account ${base.accountId}: read ${shards.length} of ${shardCountOf(head)} shards`);
  return { ...base, shards };
}

/** Every account among scanned account items (shards grouped onto their account). */
export function accountsFromItems(items: readonly Item[]): Account[] {
  const byAccount = new Map<string, Item[]>();
  for (const item of items) {
    const id = baseAccountId(String(item.accountId));
    byAccount.set(id, [...(byAccount.get(id) ?? []), item]);
  }
  return [...byAccount.values()].map(accountFromShardItems);
}

/**
 * Every shard of a hot account, strongly consistent, in one BatchGetItem (one read unit per shard; a snapshot by
 * TransactGetItems would cost two). A lock that moves surplus between shards commits between two shard reads
 * rarely, and then the sums are off by the move until the next read: nothing decides money on them alone (every
 * write re-checks its own shard's condition), reconciliation re-reads until the balance holds still, and
 * the tests read a quiet store. `head` is the account item already read (it names the shard count).
 */
export async function readShards(documentClient: DynamoDBDocumentClient, tables: TableNames, head: Item): Promise<Account> {
  const shardCount = shardCountOf(head);
  if (shardCount <= 1) return accountFromShardItems([head]);
  invariant(shardCount <= accountShardsMax, `account ${String(head.accountId)} has ${shardCount} shards (at most ${accountShardsMax})`);
  const accountId = String(head.accountId);
  const keys = Array.from({ length: shardCount - 1 }, (_, index) => ({ accountId: shardKey(accountId, index + 1) }));
  const found: Item[] = [head, ...(await batchGetConsistent(documentClient, tables.accounts, keys))];
  return accountFromShardItems(found);
}

/** An account's head from its item (shard 0): for an account of one item, the whole account with it. */
export function accountHeadFromItem(head: Item): AccountHead {
  const shardCount = shardCountOf(head);
  return {
    accountId: String(head.accountId),
    accountType: head.accountType as AccountType,
    bic: String(head.bic),
    currency: String(head.currency),
    status: head.accountStatus as Account['status'],
    shardCount,
    ...(shardCount <= 1 && { whole: accountFromShardItems([head]) }),
  };
}

/**
 * What a hold of `amount` for `reference` is decided on (AccountStore.readForHold), strongly consistent: the head,
 * and its home shard (one GetItem; none when the home shard is the head); every other shard (one BatchGetItem) only
 * when the home shard's surplus, as read, is short, or, under a net debit cap, its share of the cap is. A plan on the home shard alone stays safe: the hold's condition
 * re-checks that shard, and a refused partial plan is decided again on a fresh read (explainAccountEffectFailure).
 *
 * The home shard depends on the shard count, which the head says. Given `expectedShardCount` (what an earlier read
 * of this account said), the home shard it implies is read together with the head, one round trip instead of two;
 * the head decides which shard is home, and a guess the head contradicts (the account was split since) is read
 * again. Either way both items are strongly consistent reads taken after the stage began, so the plan is decided on
 * what it was decided on before.
 */
export async function readForHold(
  documentClient: DynamoDBDocumentClient,
  tables: TableNames,
  accountId: string,
  reference: string,
  amount: Money,
  netDebitCap?: Money,
  expectedShardCount?: number,
): Promise<HoldRead | undefined> {
  const guess = expectedShardCount !== undefined && expectedShardCount > 1 ? homeShard(reference, expectedShardCount) : 0;
  const [head, guessed] = await Promise.all([getAccountItemByKey(documentClient, tables, accountId), guess === 0 ? undefined : getAccountItemByKey(documentClient, tables, shardKey(accountId, guess))]);
  if (!head) return undefined;
  const shardCount = shardCountOf(head);
  invariant(shardCount <= accountShardsMax, `account ${accountId} has ${shardCount} shards (at most ${accountShardsMax})`);
  const home = shardCount > 1 ? homeShard(reference, shardCount) : 0;
  const homeItem = home === 0 ? head : home === guess && guessed !== undefined ? guessed : await getAccountItemByKey(documentClient, tables, shardKey(accountId, home));
  invariant(homeItem !== undefined, `account ${accountId}: no item for its shard ${home} of ${shardCount}`);
  const homeRead = shardFromItem(homeItem);
  const covered = homeCovers(homeRead, amount) && (netDebitCap === undefined || homeCapCovers(homeRead, amount, netDebitCap, shardCount, String(head.currency)));
  if (shardCount <= 1 || covered) return holdReadOf(accountHeadFromItem(head), home, [homeRead]);
  const others = Array.from({ length: shardCount }, (_, shard) => shard).filter((shard) => shard !== 0 && shard !== home);
  const found = await batchGetConsistent(documentClient, tables.accounts, others.map((shard) => ({ accountId: shardKey(accountId, shard) })));
  const shards = [...new Map([head, homeItem, ...found].map((item) => [String(item.accountId), shardFromItem(item)])).values()].sort((left, right) => left.shard - right.shard);
  invariant(shards.length === shardCount && shards.every((shard, index) => shard.shard === index), `account ${accountId}: read ${shards.length} of ${shardCount} shards`);
  return holdReadOf(accountHeadFromItem(head), home, shards);
}

/** A hold's read of an account: its head, the shard the hold lands on, and the shards read (in shard order). */
export function holdReadOf(head: Pick<Account, 'accountId' | 'bic' | 'currency' | 'status'> & { shardCount?: number }, home: number, shards: readonly AccountShard[]): HoldRead {
  const shardCount = head.shardCount ?? 1;
  invariant(home >= 0 && home < shardCount && shards.some((shard) => shard.shard === home), `holdReadOf: shard ${home} of ${head.accountId} (${shardCount} shards) was not read`);
  return { accountId: head.accountId, bic: head.bic, currency: head.currency, status: head.status, shardCount, home, shards };
}

/** A hold's read from a whole account (every shard read): for callers that hold the account already. */
export function holdReadOfAccount(account: Account, home = 0): HoldRead {
  return holdReadOf({ ...account, shardCount: account.shards?.length ?? 1 }, home, shardsOf(account));
}

/** One account item (the head, or a shard by its key), strongly consistent: reads that gate money are never stale. */
/** One account item (a head or a shard) by its key, strongly consistent: reads that gate money never see a stale balance. */
export async function getAccountItemByKey(documentClient: DynamoDBDocumentClient, tables: TableNames, key: string): Promise<Item | undefined> {
  return (await guard(() => documentClient.send(new GetCommand({ TableName: tables.accounts, Key: { accountId: key }, ConsistentRead: true })))).Item;
}

/** The shards of an account as read (one shard, the account itself, when it is not sharded). */
export function shardsOf(account: Account): readonly AccountShard[] {
  return account.shards ?? [{ shard: 0, balance: account.balance, locked: account.locked, available: account.available, floor: account.floor, version: account.version }];
}

/** The items that open an account with `shardCount` shards: the opening balance and floor split exactly. */
export function openingShardItems(account: Account, shardCount: number, at: string): Item[] {
  invariant(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= accountShardsMax, `open: ${shardCount} shards is out of range (1 to ${accountShardsMax})`);
  const balances = splitExactly(account.balance, shardCount, account.currency);
  const floors = splitExactly(account.floor, shardCount, account.currency);
  const figures = (shard: number) => ({
    balance: toNumberValue(balances[shard]),
    locked: toNumberValue('0'),
    available: toNumberValue(balances[shard]),
    floor: toNumberValue(floors[shard]),
    accountStatus: account.status,
    currency: account.currency,
    version: 1,
    createdAt: at,
    updatedAt: at,
  });
  const head = {
    accountId: account.accountId,
    accountType: account.accountType,
    bicCurrency: `${account.bic}#${account.currency}`,
    bic: account.bic,
    ...figures(0),
    ...(shardCount > 1 && { shardCount }),
  };
  return [head, ...Array.from({ length: shardCount - 1 }, (_, index) => ({ accountId: shardKey(account.accountId, index + 1), shardOf: account.accountId, ...figures(index + 1) }))];
}

/** A posting's ledger entry as one transaction item: an append that never overwrites (the ledger is append-only). */
export function ledgerEntryItem(ledgerTable: string, entry: LedgerEntry): AccountTransactItem {
  return {
    Put: {
      TableName: ledgerTable,
      Item: {
        accountId: ledgerPartition(entry.accountId, entry.shard),
        entryKey: `${entry.postedAt}#${entry.reference}#${entry.leg}`,
        amount: toNumberValue(entry.amount),
        currency: entry.currency,
        kind: entry.kind,
        reference: entry.reference,
        leg: entry.leg,
        postedAt: entry.postedAt,
        valueDate: entry.valueDate,
        counterpartyAccountId: entry.counterpartyAccountId,
      },
      ConditionExpression: 'attribute_not_exists(accountId)',
    },
  };
}

/**
 * The items one account effect writes. A lock: its hold on the home shard, under the account's whole rule (ACTIVE,
 * currency, available − amount ≥ the shard's floor share, the floor share unchanged, and with a net debit cap the
 * shard's locked + amount ≤ its share of the cap); when the home shard is short, the other shards' surplus moves to
 * it in the same transaction, each donor under the same rule. A release or posting: the lock's shard alone.
 */
export function accountEffectItems(tables: TableNames, effect: AccountEffect, now: string): AccountTransactItem[] {
  switch (effect.type) {
    case 'lockAmount':
      return lockItems(tables, effect, now);
    case 'releaseLockedAmount':
      return [lockedChange(tables, effect.accountId, effect.shard ?? 0, 'SET locked = locked - :amount, available = available + :amount, version = version + :one, updatedAt = :now', effect.amount, now)];
    case 'postLockedAmount':
      return [lockedChange(tables, effect.accountId, effect.shard ?? 0, 'SET balance = balance - :amount, locked = locked - :amount, version = version + :one, updatedAt = :now', effect.amount, now)];
  }
}

function lockedChange(tables: TableNames, accountId: string, shard: number, update: string, amount: Money, now: string): AccountTransactItem {
  return {
    Update: {
      TableName: tables.accounts,
      Key: { accountId: shardKey(accountId, shard) },
      UpdateExpression: update,
      ConditionExpression: 'locked >= :amount',
      ExpressionAttributeValues: { ':amount': toNumberValue(amount), ':one': 1, ':now': now },
    },
  };
}

function lockItems(tables: TableNames, effect: Extract<AccountEffect, { type: 'lockAmount' }>, now: string): AccountTransactItem[] {
  const { account, amount, netDebitCap: cap } = effect;
  const { shards, home, shardCount } = account;
  const shardRead = (shard: number) => {
    const found = shards.find((candidate) => candidate.shard === shard);
    invariant(found !== undefined, `lockAmount: shard ${shard} of ${account.accountId} (${shardCount} shards) was not read`);
    return found;
  };
  const homeRead = shardRead(home);
  // Short as read: the hold goes on the home shard alone and its condition refuses it (InsufficientFunds). Read in
  // part (the home shard covered it): no moves, the hold on the home shard alone.
  const moves = planHold(shards, home, amount) ?? [];
  const moved = sum(moves.map((move) => move.amount));
  // A hot payer's net debit cap: its parts move to the home shard the same way (short as read: the cap condition
  // refuses). A read torn by a concurrent move (its parts do not add up) is planned on again, after a fresh read.
  if (cap && !capPartsWhole(shards, shardCount)) throw new StaleAccountPlanError(`account ${account.accountId}: a concurrent move tore the read of its cap parts; read again`);
  const capMoves = cap && shardCount > 1 ? (planCap(shards, home, amount, cap, shardCount) ?? []) : [];
  const partsReceived = capMoves.reduce((total, move) => total + move.parts, 0);
  const values = (shard: AccountShard, required: Money) => ({ ':active': 'ACTIVE', ':currency': account.currency, ':required': toNumberValue(required), ':floor': toNumberValue(shard.floor) });
  // available − amount ≥ floor, written as available ≥ amount + floor (conditions cannot subtract); the floor
  // share the sum was computed with must still be the shard's. With a net debit cap, locked + amount ≤ the shard's
  // share of the cap, written as locked ≤ share − amount, on the same item in the same transaction, so concurrent
  // locks cannot pass the cap together; on a hot account the shard's cap parts are pinned as read (a move changes
  // them) and the shares sum to at most the cap.
  const rule = 'accountStatus = :active AND currency = :currency AND available >= :required AND floor = :floor';
  const pinParts = (shard: AccountShard) => (shard.capParts === undefined ? 'attribute_not_exists(capParts)' : 'capParts = :capParts');
  const homeParts = cap && shardCount > 1 ? capPartsOf(homeRead, shardCount) + partsReceived : undefined;
  const lockedMax = cap && (homeParts === undefined ? cap.minus(amount) : capShareOf(cap, homeParts, account.currency).minus(amount));
  const hold: AccountTransactItem = {
    Update: {
      TableName: tables.accounts,
      Key: { accountId: shardKey(account.accountId, home) },
      UpdateExpression: [
        moved.isZero() ? 'SET locked = locked + :amount, available = available - :amount' : 'SET balance = balance + :moved, locked = locked + :amount, available = available + :net',
        ...(partsReceived > 0 ? ['capParts = :newCapParts'] : []),
        'version = version + :one, updatedAt = :now',
      ].join(', '),
      ConditionExpression: [rule, ...(lockedMax ? ['locked <= :lockedMax'] : []), ...(homeParts !== undefined ? [pinParts(homeRead)] : [])].join(' AND '),
      ExpressionAttributeValues: {
        ...values(homeRead, amount.minus(moved).plus(homeRead.floor)),
        ':one': 1,
        ':now': now,
        ':amount': toNumberValue(amount),
        ...(!moved.isZero() && { ':moved': toNumberValue(moved), ':net': toNumberValue(moved.minus(amount)) }),
        ...(lockedMax && { ':lockedMax': toNumberValue(lockedMax) }),
        ...(homeParts !== undefined && homeRead.capParts !== undefined && { ':capParts': homeRead.capParts }),
        ...(partsReceived > 0 && { ':newCapParts': homeParts }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
  // One update per donor shard (a transaction names an item once): the surplus it gives, under the lock's rule,
  // and the cap parts it gives, keeping its own locked within its smaller share.
  const donorShards = [...new Set([...moves.map((move) => move.from), ...capMoves.map((move) => move.from)])];
  const donors: AccountTransactItem[] = donorShards.map((from) => {
    const donor = shardRead(from);
    const give = moves.find((move) => move.from === from)?.amount;
    const parts = capMoves.find((move) => move.from === from)?.parts;
    const leftParts = parts === undefined ? undefined : capPartsOf(donor, shardCount) - parts;
    return {
      Update: {
        TableName: tables.accounts,
        Key: { accountId: shardKey(account.accountId, from) },
        UpdateExpression: ['SET version = version + :one, updatedAt = :now', ...(give ? ['balance = balance - :moved, available = available - :moved'] : []), ...(leftParts !== undefined ? ['capParts = :newCapParts'] : [])].join(', '),
        ConditionExpression: [...(give ? [rule] : []), ...(leftParts !== undefined ? [pinParts(donor), 'locked <= :lockedMax'] : [])].join(' AND '),
        ExpressionAttributeValues: {
          ':one': 1,
          ':now': now,
          ...(give && { ...values(donor, give.plus(donor.floor)), ':moved': toNumberValue(give) }),
          ...(leftParts !== undefined && {
            ...(donor.capParts !== undefined && { ':capParts': donor.capParts }),
            ':newCapParts': leftParts,
            ':lockedMax': toNumberValue(capShareOf(cap!, leftParts, account.currency)),
          }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  });
  return [hold, ...donors];
}

/**
 * Why a lock's items were refused, from their cancellation reasons (in the order accountEffectItems gave them): the
 * account not ACTIVE, its net debit cap reached (the whole account's position; a hot account whose shards had the
 * room as read is a conflict), not enough available (the account's whole rule: a lock
 * that would overdraw the account is refused), or, on a hot account that held enough as read, a conflict. Undefined for other effects: their
 * conditions failing is the engine's bookkeeping disagreeing with the store.
 */
export function explainAccountEffectFailure(effect: AccountEffect, reasons: readonly (CancellationReason | undefined)[]): Error | undefined {
  if (effect.type !== 'lockAmount') return undefined;
  const failed = reasons.find((reason) => reason?.Code === 'ConditionalCheckFailed');
  if (!failed) return undefined;
  const { account } = effect;
  // Cancellation reasons come back in the low-level AttributeValue form, even through the document client.
  const old = failed.Item ? unmarshall(failed.Item as Record<string, AttributeValue>, { wrapNumbers: true }) : undefined;
  if (!old || old.accountStatus !== 'ACTIVE') return new AccountNotActiveError(account.accountId, String(old?.accountStatus ?? 'MISSING'));
  const cap = effect.netDebitCap;
  if (cap) {
    // The home shard as it stood when refused (its item comes back with the reason), the other shards as read.
    const asRead = account.shards.find((shard) => shard.shard === account.home)!;
    const homeNow = failed === reasons[0] && old.locked !== undefined ? { ...asRead, locked: toMoney(old.locked), capParts: old.capParts === undefined ? undefined : toInteger(old.capParts) } : asRead;
    // Its parts moved since the read (another lock took or gave some): the read is a mix; decide again on a fresh one.
    if (homeNow.capParts !== asRead.capParts) return new StaleAccountPlanError(`account ${account.accountId}: cap parts moved between the read and the lock; read again`);
    const shards = account.shards.map((shard) => (shard.shard === account.home ? homeNow : shard));
    if (!capPartsWhole(shards, account.shardCount)) return new StaleAccountPlanError(`account ${account.accountId}: a concurrent move tore the read of its cap parts; read again`);
    const room = account.shardCount > 1 ? planCap(shards, account.home, effect.amount, cap, account.shardCount) !== undefined : homeNow.locked.plus(effect.amount).lessThanOrEqualTo(cap);
    if (!room) {
      // Read in part (the home shard's share looked enough): the whole account decides, on a read of every shard.
      if (shards.length < account.shardCount) return new StaleAccountPlanError(`account ${account.accountId}: its home shard's share of the net debit cap changed; read every shard`);
      const position = sum(shards.map((shard) => shard.locked)).plus(effect.amount);
      return new NetDebitCapExceededError(account.bic, account.currency, formatAmount(cap, account.currency), formatAmount(position, account.currency));
    }
  }
  // A hot account whose shards, as read, held enough (every shard, or the home shard alone when it covered the
  // hold): a concurrent lock took what the plan counted on. The account may still have it on other shards, so the
  // stage decides again on a fresh read (advance), then the workflow retries it like any conflict. Only a plan that
  // found the whole account short is InsufficientFunds.
  if (account.shardCount > 1 && planHold(account.shards, account.home, effect.amount) !== undefined) {
    return new StaleAccountPlanError(`account ${account.accountId}: its shards changed between the read and the lock; read again`);
  }
  return new InsufficientFundsError(account.accountId, formatAmount(effect.amount, account.currency));
}


/** Attempts of one rebalance when a lock changes a shard between the read and the write (locks win; it re-plans). */
export const rebalanceAttemptsMax = 3;

/**
 * The rebalancer: evens a hot account's surplus (available above each floor share) across its shards in ONE
 * conditional transaction, so a lock rarely needs more than its home shard. A shard that gives keeps the lock's
 * rule (ACTIVE, available − given ≥ its floor share, the floor share as read); the changes sum to zero, so the
 * account's balance, locked and available are unchanged. A lock that takes a shard's funds meanwhile makes the
 * transaction fail; the rebalancer reads again and re-plans, at most rebalanceAttemptsMax times.
 */
export async function rebalanceAccount(documentClient: DynamoDBDocumentClient, tables: TableNames, accountId: string, now: string, netDebitCap?: Money): Promise<RebalanceOutcome> {
  for (let attempt = 1; attempt <= rebalanceAttemptsMax; attempt++) {
    const head = await getAccountItemByKey(documentClient, tables, accountId);
    if (!head || shardCountOf(head) <= 1) return { accountId, result: 'NOT_SHARDED' };
    const account = await readShards(documentClient, tables, head);
    if (account.status !== 'ACTIVE') return { accountId, result: 'EVEN' };
    const shards = shardsOf(account);
    const changes = planRebalance(shards, account.currency);
    // Under a net debit cap, the cap's parts are evened too (each shard keeps what its own locked needs).
    const partChanges = netDebitCap ? planCapRebalance(shards, netDebitCap, shards.length) : [];
    if (changes.length === 0 && partChanges.length === 0) return { accountId, result: 'EVEN' };
    const touched = [...new Set([...changes.map((change) => change.shard), ...partChanges.map((change) => change.shard)])];
    const items: AccountTransactItem[] = touched.map((shard) => {
      const delta = changes.find((change) => change.shard === shard)?.delta;
      const newParts = partChanges.find((change) => change.shard === shard)?.parts;
      const read = shards[shard];
      const gives = newParts !== undefined && newParts < capPartsOf(read, shards.length);
      return {
        Update: {
          TableName: tables.accounts,
          Key: { accountId: shardKey(accountId, shard) },
          UpdateExpression: ['SET version = version + :one, updatedAt = :now', ...(delta ? ['balance = balance + :delta, available = available + :delta'] : []), ...(newParts !== undefined ? ['capParts = :newCapParts'] : [])].join(', '),
          // A giver of funds keeps the lock's rule; a giver of cap parts keeps its locked within the share it keeps;
          // every shard written is pinned to what was read (its floor share, its parts), so a lock in between wins.
          ConditionExpression: [
            'accountStatus = :active AND floor = :floor',
            ...(delta?.isNegative() ? ['available >= :required'] : []),
            ...(newParts !== undefined ? [read.capParts === undefined ? 'attribute_not_exists(capParts)' : 'capParts = :capParts'] : []),
            ...(gives ? ['locked <= :lockedMax'] : []),
          ].join(' AND '),
          ExpressionAttributeValues: {
            ':one': 1,
            ':now': now,
            ':active': 'ACTIVE',
            ':floor': toNumberValue(read.floor),
            ...(delta && { ':delta': toNumberValue(delta) }),
            ...(delta?.isNegative() && { ':required': toNumberValue(delta.negated().plus(read.floor)) }),
            ...(newParts !== undefined && { ':newCapParts': newParts }),
            ...(newParts !== undefined && read.capParts !== undefined && { ':capParts': read.capParts }),
            ...(gives && { ':lockedMax': toNumberValue(capShareOf(netDebitCap!, newParts, account.currency)) }),
          },
        },
      };
    });
    try {
      await documentClient.send(new TransactWriteCommand({ TransactItems: items }));
      const moved = sum(changes.filter((change) => change.delta.isNegative()).map((change) => change.delta.negated()));
      const capPartsMoved = partChanges.reduce((total, change) => total + Math.max(0, capPartsOf(shards[change.shard], shards.length) - change.parts), 0);
      return { accountId, result: 'MOVED', moved: formatAmount(moved, account.currency), ...(capPartsMoved > 0 && { capPartsMoved }) };
    } catch (error) {
      const reasons = cancellationReasons(error);
      const raced = reasons?.some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict');
      if (!raced) throw translateTransientError(error);
    }
  }
  return { accountId, result: 'BUSY' };
}

/**
 * Splits an account of one item into `shardCount` balance shards, in one transaction: shard 0 (the account item)
 * keeps every pending lock and its share of the surplus, the new shards get the rest of the surplus and their floor
 * shares; pinned on the account's version, so nothing moves under it. Locks taken before keep working (they name
 * shard 0).
 */
export async function splitAccount(documentClient: DynamoDBDocumentClient, tables: TableNames, account: Account, shardCount: number, now: string): Promise<Account> {
  invariant(account.shards === undefined, `splitAccount: ${account.accountId} is sharded already`);
  invariant(Number.isInteger(shardCount) && shardCount >= 2 && shardCount <= accountShardsMax, `splitAccount: ${shardCount} shards is out of range (2 to ${accountShardsMax})`);
  const surpluses = splitExactly(account.available.minus(account.floor), shardCount, account.currency);
  const floors = splitExactly(account.floor, shardCount, account.currency);
  invariant(surpluses.every((share) => share.greaterThanOrEqualTo(0)), `splitAccount: ${account.accountId} is below its floor`);
  const shardItem = (shard: number) => ({
    accountId: shardKey(account.accountId, shard),
    shardOf: account.accountId,
    balance: toNumberValue(surpluses[shard].plus(floors[shard])),
    locked: toNumberValue('0'),
    available: toNumberValue(surpluses[shard].plus(floors[shard])),
    floor: toNumberValue(floors[shard]),
    accountStatus: account.status,
    currency: account.currency,
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
  const headAvailable = surpluses[0].plus(floors[0]);
  const headBalance = headAvailable.plus(account.locked);
  const items: AccountTransactItem[] = [
    {
      Update: {
        TableName: tables.accounts,
        Key: { accountId: account.accountId },
        UpdateExpression: 'SET balance = :balance, available = :available, floor = :floor, shardCount = :count, version = version + :one, updatedAt = :now',
        ConditionExpression: 'version = :version AND attribute_not_exists(shardCount)',
        ExpressionAttributeValues: { ':balance': toNumberValue(headBalance), ':available': toNumberValue(headAvailable), ':floor': toNumberValue(floors[0]), ':count': shardCount, ':one': 1, ':now': now, ':version': account.version },
      },
    },
    ...Array.from({ length: shardCount - 1 }, (_, index) => ({ Put: { TableName: tables.accounts, Item: shardItem(index + 1), ConditionExpression: 'attribute_not_exists(accountId)' } })),
  ];
  try {
    await documentClient.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0]?.Code === 'ConditionalCheckFailed') throw new TransactionConflictError(`account ${account.accountId} changed while it was being split; read it again`);
    // A shard item already where a new shard goes: the store disagrees with the account item. Nothing was written.
    if (reasons?.some((reason) => reason.Code === 'ConditionalCheckFailed')) throw new InvariantViolationError(`splitAccount: ${account.accountId} has shard items but no shard count`, { cause: error });
    throw translateTransientError(error);
  }
  const after = await readShards(documentClient, tables, (await getAccountItemByKey(documentClient, tables, account.accountId))!);
  invariant(after.balance.equals(account.balance) && after.locked.equals(account.locked) && after.floor.equals(account.floor), `splitAccount: ${account.accountId}'s sums changed`);
  return after;
}
