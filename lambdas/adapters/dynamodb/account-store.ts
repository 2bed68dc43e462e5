/**
 * DynamoDB adapter for accounts (nostro and vostro) and payout routes.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AccountConflictError, ValidationError, invariant } from '../../domain/errors';
import { Money } from '../../domain/money';
import type { Account, AccountHead, AccountQuery, AccountStore, AccountType, Bank, HoldRead, LedgerEntry, ReferenceStore } from '../../ports/stores';
import { batchGetConsistent, cancellationReasons, guard, isConditionalCheckFailed, toInteger, toMoney, toNumberValue, translateTransientError } from './client';
import type { TableNames } from './table-definitions';
import { accountFromShardItems, accountHeadFromItem, getAccountItemByKey, ledgerEntryItem, openingShardItems, readForHold, readShards, rebalanceAccount, shardCountOf, splitAccount } from './account-shards';
import type { RebalanceOutcome } from '../../domain/account-shards';

type Item = Record<string, unknown>;

/** Ledger sort key: time first so a period is one range Query; reference and leg make it unique. */
export function ledgerEntryKey(entry: Pick<LedgerEntry, 'postedAt' | 'reference' | 'leg'>): string {
  return `${entry.postedAt}#${entry.reference}#${entry.leg}`;
}

/** A posting's ledger entry as one transaction item: an append that never overwrites (the ledger is append-only). */
export function ledgerEntryPut(ledgerTable: string, entry: LedgerEntry) {
  return ledgerEntryItem(ledgerTable, entry);
}

export function accountFromItem(item: Item): Account {
  return {
    accountId: String(item.accountId),
    accountType: item.accountType as AccountType,
    bic: String(item.bic),
    currency: String(item.currency),
    balance: toMoney(item.balance),
    locked: toMoney(item.locked),
    available: toMoney(item.available),
    floor: toMoney(item.floor),
    status: item.accountStatus as Account['status'],
    version: toInteger(item.version),
    updatedAt: String(item.updatedAt),
  };
}

/** Accounts whose shard count a store remembers (a hint for hold reads); a network has a few hundred. */
export const shardCountHintsMax = 10_000;

export class DynamoAccountStore implements AccountStore {
  /**
   * The shard count each account's last hold read found: which home shard the next hold's read fetches together with
   * the head (account-shards.ts readForHold). A hint only: the head read beside it decides. Bounded, oldest first out.
   */
  private readonly shardCounts = new Map<string, number>();

  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async get(accountId: string): Promise<Account | undefined> {
    return getAccountItem(this.documentClient, this.tables, accountId);
  }

  async getHead(accountId: string): Promise<AccountHead | undefined> {
    const item = await getAccountItemByKey(this.documentClient, this.tables, accountId);
    return item ? accountHeadFromItem(item) : undefined;
  }

  async readForHold(accountId: string, reference: string, amount: Money, netDebitCap?: Money): Promise<HoldRead | undefined> {
    const read = await readForHold(this.documentClient, this.tables, accountId, reference, amount, netDebitCap, this.shardCounts.get(accountId));
    if (read) this.rememberShardCount(accountId, read.shardCount);
    return read;
  }

  private rememberShardCount(accountId: string, shardCount: number): void {
    this.shardCounts.delete(accountId);
    this.shardCounts.set(accountId, shardCount);
    if (this.shardCounts.size > shardCountHintsMax) this.shardCounts.delete(this.shardCounts.keys().next().value!);
  }

  async rebalanceShards(accountIds?: readonly string[], netDebitCapOf?: (bic: string, currency: string) => Money | undefined): Promise<RebalanceOutcome[]> {
    const ids = accountIds ?? [...(await this.listAll('VOSTRO')), ...(await this.listAll('NOSTRO'))].filter((account) => account.shards !== undefined).map((account) => account.accountId);
    const outcomes: RebalanceOutcome[] = [];
    for (const accountId of ids) {
      // A net debit cap is the payer's, on its vostro: `VOSTRO#<BIC>#<CCY>`.
      const [type, bic, currency] = accountId.split('#');
      const cap = type === 'VOSTRO' && bic && currency ? netDebitCapOf?.(bic, currency) : undefined;
      outcomes.push(await rebalanceAccount(this.documentClient, this.tables, accountId, new Date().toISOString(), cap));
    }
    return outcomes;
  }

  /** Splits an account of one item into `shardCount` balance shards (account-shards.ts splitAccount). */
  async split(accountId: string, shardCount: number): Promise<Account> {
    const account = await this.get(accountId);
    invariant(account !== undefined, `split: no account ${accountId}`);
    return this.splitShards(account, shardCount);
  }

  async splitShards(account: Account, shardCount: number): Promise<Account> {
    return splitAccount(this.documentClient, this.tables, account, shardCount, new Date().toISOString());
  }

  async list(query: AccountQuery): Promise<{ items: Account[]; nextCursor?: string }> {
    const values: Record<string, unknown> = { ':type': query.accountType };
    let keyCondition = 'accountType = :type';
    if (query.bic && query.currency) {
      keyCondition += ' AND bicCurrency = :bicCurrency';
      values[':bicCurrency'] = `${query.bic}#${query.currency}`;
    } else if (query.bic) {
      keyCondition += ' AND begins_with(bicCurrency, :bicPrefix)';
      values[':bicPrefix'] = `${query.bic}#`;
    }
    const filterByCurrencyOnly = query.currency !== undefined && query.bic === undefined;
    try {
      const result = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.accounts,
          IndexName: 'byType',
          KeyConditionExpression: keyCondition,
          ExpressionAttributeValues: values,
          Limit: query.limit,
          ExclusiveStartKey: query.cursor ? decodeCursor(query.cursor, query.accountType) : undefined,
        }),
      );
      // The index holds keys only, and a Query cannot filter on its own keys: the currency filter applies to the page
      // here, as a FilterExpression would (after Limit), reading it from bicCurrency (a BIC never contains '#').
      const keys = (result.Items ?? []).filter((item) => !filterByCurrencyOnly || String(item.bicCurrency).endsWith(`#${query.currency}`));
      const items = await getAccountItems(this.documentClient, this.tables, keys.map((item) => String(item.accountId)));
      return { items, nextCursor: result.LastEvaluatedKey ? encodeCursor(result.LastEvaluatedKey) : undefined };
    } catch (error) {
      throw translateTransientError(error);
    }
  }

  /**
   * Opens an account with its opening balance posted as an OPENING ledger entry, in one transaction.
   * Throws AccountConflictError when the account exists.
   */
  async open(account: { accountType: AccountType; bic: string; currency: string; floor: Money; openingBalance: Money; shards?: number }, at: string): Promise<Account> {
    invariant(account.openingBalance.greaterThanOrEqualTo(0), 'open: opening balance must not be negative');
    const id = `${account.accountType}#${account.bic}#${account.currency}`;
    const opened: Account = { accountId: id, accountType: account.accountType, bic: account.bic, currency: account.currency, balance: account.openingBalance, locked: new Money(0), available: account.openingBalance, floor: account.floor, status: 'ACTIVE', version: 1, updatedAt: at };
    const items = openingShardItems(opened, account.shards ?? 1, at);
    const entry = { accountId: id, postedAt: at, reference: `OPENING-${id}`, leg: 'OPENING' };
    try {
      await this.documentClient.send(
        new TransactWriteCommand({
          TransactItems: [
            ...items.map((Item) => ({ Put: { TableName: this.tables.accounts, Item, ConditionExpression: 'attribute_not_exists(accountId)' } })),
            {
              Put: {
                TableName: this.tables.ledger,
                Item: { ...entry, entryKey: ledgerEntryKey(entry), amount: toNumberValue(account.openingBalance), currency: account.currency, kind: 'OPENING', valueDate: at.slice(0, 10) },
                ConditionExpression: 'attribute_not_exists(accountId)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (cancellationReasons(error)?.[0]?.Code === 'ConditionalCheckFailed') throw new AccountConflictError(`account ${id} already exists`);
      throw translateTransientError(error);
    }
    return accountFromShardItems(items);
  }

  /** Every account of one type, in BIC then currency order (paged internally; bounded by pagesMax). */
  async listAll(accountType: AccountType, pagesMax = 1000): Promise<Account[]> {
    const accounts: Account[] = [];
    let startKey: Item | undefined;
    for (let page = 0; page < pagesMax; page++) {
      const result = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.accounts,
          IndexName: 'byType',
          KeyConditionExpression: 'accountType = :type',
          ExpressionAttributeValues: { ':type': accountType },
          ExclusiveStartKey: startKey,
        }),
      );
      accounts.push(...(await getAccountItems(this.documentClient, this.tables, (result.Items ?? []).map((item) => String(item.accountId)))));
      startKey = result.LastEvaluatedKey;
      if (!startKey) break;
    }
    return accounts;
  }
}

export class DynamoReferenceStore implements ReferenceStore {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async getBank(bic: string): Promise<Bank | undefined> {
    const item = await this.getItem(`BANK#${bic}`, 'PROFILE');
    return item ? { bic: String(item.bic), name: String(item.name), country: String(item.country), status: item.bankStatus as Bank['status'] } : undefined;
  }

  async getPayoutRoute(payeeBic: string, currency: string): Promise<{ nostroAccountId: string } | undefined> {
    const item = await this.getItem(`ROUTE#${payeeBic}#${currency}`, 'ROUTE');
    return item ? { nostroAccountId: String(item.nostroAccountId) } : undefined;
  }

  /** Registers a bank unless it exists; returns whether it was created. */
  async registerBank(bank: Bank, at: string): Promise<boolean> {
    return this.putIfAbsent({ pk: `BANK#${bank.bic}`, sk: 'PROFILE', itemType: 'BANK', bic: bank.bic, name: bank.name, country: bank.country, bankStatus: bank.status, gsi1pk: 'BANKS', gsi1sk: bank.bic, createdAt: at, updatedAt: at });
  }

  /** Routes payouts to `payeeBic` in `currency` through `nostroAccountId`, unless a route exists. */
  async putPayoutRoute(route: { payeeBic: string; currency: string; nostroAccountId: string }, at: string): Promise<boolean> {
    return this.putIfAbsent({ pk: `ROUTE#${route.payeeBic}#${route.currency}`, sk: 'ROUTE', itemType: 'ROUTE', ...route, createdAt: at });
  }

  private async putIfAbsent(item: Item): Promise<boolean> {
    try {
      await this.documentClient.send(new PutCommand({ TableName: this.tables.reference, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw translateTransientError(error);
    }
  }

  private async getItem(pk: string, sk: string): Promise<Item | undefined> {
    return getReferenceItem(this.documentClient, this.tables, pk, sk);
  }
}

const cursorKeys = ['accountId', 'accountType', 'bicCurrency'] as const;

function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(cursorKeys.map((name) => key[name]))).toString('base64url');
}

/** A cursor is only ever one we issued for this listing: anything else is a client error, not a scan position. */
function decodeCursor(cursor: string, accountType: AccountType): Item {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(values) && values.length === 3 && values.every((value) => typeof value === 'string') && values[1] === accountType) {
      return Object.fromEntries(cursorKeys.map((name, index) => [name, values[index]]));
    }
  } catch {
    // falls through to the validation error
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this listing');
}

/** One reference item (bank, route, window, ...), strongly consistent. */
export async function getReferenceItem(documentClient: DynamoDBDocumentClient, tables: TableNames, pk: string, sk: string): Promise<Item | undefined> {
  const result = await guard(() => documentClient.send(new GetCommand({ TableName: tables.reference, Key: { pk, sk }, ConsistentRead: true })));
  return result.Item;
}

/** One account, strongly consistent (every shard of a hot account, summed). */
export async function getAccountItem(documentClient: DynamoDBDocumentClient, tables: TableNames, accountId: string): Promise<Account | undefined> {
  const item = await getAccountItemByKey(documentClient, tables, accountId);
  return item ? readShards(documentClient, tables, item) : undefined;
}

/**
 * Accounts by id, in the order given, strongly consistent. The byType index holds keys only (a balance change
 * rewrites no index entry), so a listing reads the accounts themselves.
 */
export async function getAccountItems(documentClient: DynamoDBDocumentClient, tables: TableNames, accountIds: readonly string[]): Promise<Account[]> {
  const found = new Map<string, Account>();
  for (const item of await batchGetConsistent(documentClient, tables.accounts, accountIds.map((accountId) => ({ accountId })))) {
    found.set(String(item.accountId), shardCountOf(item) > 1 ? await readShards(documentClient, tables, item) : accountFromShardItems([item]));
  }
  return accountIds.flatMap((accountId) => found.get(accountId) ?? []);
}
