/**
 * DynamoDB adapter of the operations ports: bank registry, account administration, audit log and settlement
 * windows. Every change is ONE TransactWriteItems holding the guarded change and its audit entry, so an audit
 * trail can never miss a change nor record one that did not happen.
 *
 * Items (reference table): BANK#<BIC>/PROFILE, WINDOW#<CCY>/WINDOW, MOVEMENT#<id>/MOVEMENT,
 * AUDIT#<day>/<at>#<auditId> with gsi1 = AUDIT#<entityType>#<entityId> / <at>#<auditId>.
 * Accounts and ledger entries use the core's item shapes (account-store.ts, settlement-store.ts).
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError, invariant } from '../../domain/errors';
import type { BankStatus } from '../../domain/admin';
import { Money, formatAmount } from '../../domain/money';
import { parseSettlementWindow, type SettlementWindow } from '../../domain/window';
import type { Account, AccountType, Bank } from '../../ports/stores';
import { chainAfter, type ChainedAuditEntry } from '../../domain/audit-chain';
import { TransactionConflictError } from '../../domain/errors';
import type {
  AccountAdminStore,
  AccountWriteOutcome,
  Actor,
  AuditDraft,
  AuditEntityType,
  AuditEntry,
  AuditLog,
  BankRegistry,
  FundMovement,
  Page,
  StoredWindow,
  WindowStore,
  Proposal,
  ProposalDecision,
  ProposalStore,
} from '../../ports/operations';
import { getAccountItem, getReferenceItem, ledgerEntryKey } from './account-store';
import { openingShardItems, shardKey, shardsOf } from './account-shards';
import { splitExactly, type AccountShard } from '../../domain/account-shards';
import { cancellationReasons, toInteger, toNumberValue, translateTransientError, type CancellationReason } from './client';
import type { TableNames } from './table-definitions';

type Item = Record<string, unknown>;
type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** Pages a listing may return at once. */
export const listPageSizeMax = 200;
/** Appends retried when another entry took the chain position first (each retry means another append landed). */
export const auditAppendAttemptsMax = 20;
/** Query pages read per day of an audit export (1 MB each): a bound on one export's reads. */
export const auditExportPagesPerDayMax = 1_000;
/** Days one audit export covers at most. */
export const auditExportDaysMax = 92;
/** Partition prefix of the chain heads (one item per stream). */
export const auditChainPartition = 'AUDITCHAIN#';

/** The UTC days from `from` to `to` (inclusive instants), at most auditExportDaysMax. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const last = to.slice(0, 10);
  for (let time = Date.parse(`${from.slice(0, 10)}T00:00:00Z`); days.length <= auditExportDaysMax; time += 86_400_000) {
    const day = new Date(time).toISOString().slice(0, 10);
    if (day > last) return days;
    days.push(day);
  }
  throw new ValidationError('to', `an audit export covers at most ${auditExportDaysMax} days`);
}

/** Audit snapshot of an account: amounts as canonical decimal strings. */
export function accountSnapshot(account: Account): Record<string, unknown> {
  const amount = (value: Money) => formatAmount(value, account.currency);
  return { status: account.status, balance: amount(account.balance), locked: amount(account.locked), available: amount(account.available), floor: amount(account.floor), version: account.version };
}

export function bankSnapshot(bank: Bank): Record<string, unknown> {
  return { bic: bank.bic, name: bank.name, country: bank.country, status: bank.status };
}

export class DynamoOperationsStore implements BankRegistry, AccountAdminStore, AuditLog, WindowStore, ProposalStore {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  // ---- banks ----

  async getBank(bic: string): Promise<Bank | undefined> {
    const item = await this.getReference(`BANK#${bic}`, 'PROFILE');
    return item ? bankFromItem(item) : undefined;
  }

  async listBanks(query: { cursor?: string; limit: number }): Promise<Page<Bank>> {
    const page = await this.queryIndex('BANKS', query, false);
    return { items: page.items.map(bankFromItem), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
  }

  async registerBank(bank: Bank, actor: Actor): Promise<boolean> {
    const item = { pk: `BANK#${bank.bic}`, sk: 'PROFILE', itemType: 'BANK', bic: bank.bic, name: bank.name, country: bank.country, bankStatus: bank.status, gsi1pk: 'BANKS', gsi1sk: bank.bic, createdAt: actor.at, updatedAt: actor.at };
    const audit: AuditDraft = { action: 'BANK.REGISTER', entityType: 'BANK', entityId: bank.bic, before: null, after: bankSnapshot(bank) };
    return this.commit([{ Put: { TableName: this.tables.reference, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } }], audit, actor);
  }

  async setBankStatus(bank: Bank, status: BankStatus, actor: Actor): Promise<boolean> {
    const update: TransactItem = {
      Update: {
        TableName: this.tables.reference,
        Key: { pk: `BANK#${bank.bic}`, sk: 'PROFILE' },
        UpdateExpression: 'SET bankStatus = :status, updatedAt = :at',
        ConditionExpression: 'bankStatus = :expected',
        ExpressionAttributeValues: { ':status': status, ':at': actor.at, ':expected': bank.status },
      },
    };
    const audit: AuditDraft = { action: 'BANK.SET_STATUS', entityType: 'BANK', entityId: bank.bic, before: bankSnapshot(bank), after: bankSnapshot({ ...bank, status }) };
    return this.commit([update], audit, actor);
  }

  // ---- accounts ----

  async get(accountId: string): Promise<Account | undefined> {
    return getAccountItem(this.documentClient, this.tables, accountId);
  }

  async open(opening: { accountType: AccountType; bic: string; currency: string; floor: Money; openingBalance: Money; shards?: number }, actor: Actor): Promise<'opened' | 'exists' | 'bankNotActive'> {
    invariant(opening.openingBalance.greaterThanOrEqualTo(0) && opening.floor.greaterThanOrEqualTo(0), 'open: opening balance and floor must not be negative');
    const accountId = `${opening.accountType}#${opening.bic}#${opening.currency}`;
    const account: Account = {
      accountId,
      accountType: opening.accountType,
      bic: opening.bic,
      currency: opening.currency,
      balance: opening.openingBalance,
      locked: new Money(0),
      available: opening.openingBalance,
      floor: opening.floor,
      status: 'ACTIVE',
      version: 1,
      updatedAt: actor.at,
    };
    const items: TransactItem[] = [
      { ConditionCheck: { TableName: this.tables.reference, Key: { pk: `BANK#${opening.bic}`, sk: 'PROFILE' }, ConditionExpression: 'bankStatus = :active', ExpressionAttributeValues: { ':active': 'ACTIVE' } } },
      ...openingShardItems(account, opening.shards ?? 1, actor.at).map((Item) => ({ Put: { TableName: this.tables.accounts, Item, ConditionExpression: 'attribute_not_exists(accountId)' } })),
    ];
    const audit: AuditDraft = { action: 'ACCOUNT.OPEN', entityType: 'ACCOUNT', entityId: accountId, before: null, after: accountSnapshot(account) };
    if (opening.openingBalance.greaterThan(0)) {
      const entry = { accountId, postedAt: actor.at, reference: `OPENING-${accountId}`, leg: 'OPENING' };
      items.push({ Put: { TableName: this.tables.ledger, Item: { ...entry, entryKey: ledgerEntryKey(entry), amount: toNumberValue(opening.openingBalance), currency: opening.currency, kind: 'OPENING', valueDate: actor.at.slice(0, 10) }, ConditionExpression: 'attribute_not_exists(accountId)' } });
    }
    const refused = await this.transact(items, audit, actor);
    if (refused === undefined) return 'opened';
    if (refused.reasons[0]?.Code === 'ConditionalCheckFailed') return 'bankNotActive';
    if (refused.reasons[1]?.Code === 'ConditionalCheckFailed') return 'exists';
    throw translateTransientError(refused.error);
  }

  async postMovement(account: Account, movement: Omit<FundMovement, 'balanceAfter'>, actor: Actor): Promise<AccountWriteOutcome> {
    const amount = new Money(movement.amount);
    invariant(amount.greaterThan(0), 'postMovement: amount must be positive');
    invariant(movement.currency === account.currency && movement.accountId === account.accountId, 'postMovement: movement must be for this account');
    const delta = movement.direction === 'FUND_IN' ? amount : amount.negated();
    const after: Account = { ...account, balance: account.balance.plus(delta), available: account.available.plus(delta), version: account.version + 1, updatedAt: actor.at };
    const withdrawalFloor = Money.max(account.floor, 0);
    // Safety: a fund-out never takes available below zero nor below the floor (asserted, and guarded below).
    invariant(movement.direction === 'FUND_IN' || after.available.greaterThanOrEqualTo(withdrawalFloor), 'postMovement: fund-out beyond available must be refused before the write');
    const record: FundMovement = { ...movement, balanceAfter: formatAmount(after.balance, account.currency) };
    const entry = { accountId: account.accountId, postedAt: movement.postedAt, reference: movement.movementId, leg: movement.direction };
    // A hot account's movement spreads over its shards (a fund-in evenly, a fund-out from the largest surpluses).
    const shardItems = movementShards(account, movement.direction, amount).map(({ shard, delta: shardDelta }): TransactItem => ({
      Update: {
        TableName: this.tables.accounts,
        Key: { accountId: shardKey(account.accountId, shard.shard) },
        UpdateExpression: 'SET balance = balance + :delta, available = available + :delta, version = version + :one, updatedAt = :at',
        // The version pins balance, locked, floor and status as read; the available check restates the floor rule.
        ConditionExpression: `version = :version AND accountStatus = :active AND currency = :currency${movement.direction === 'FUND_OUT' ? ' AND available >= :required' : ''}`,
        ExpressionAttributeValues: {
          ':delta': toNumberValue(shardDelta),
          ':one': 1,
          ':at': actor.at,
          ':version': shard.version,
          ':active': 'ACTIVE',
          ':currency': account.currency,
          ...(movement.direction === 'FUND_OUT' && { ':required': toNumberValue(shardDelta.negated().plus(Money.max(shard.floor, 0))) }),
        },
      },
    }));
    const items: TransactItem[] = [
      ...shardItems,
      {
        Put: {
          TableName: this.tables.ledger,
          Item: { ...entry, entryKey: ledgerEntryKey(entry), amount: toNumberValue(delta), currency: account.currency, kind: movement.direction, valueDate: movement.valueDate },
          ConditionExpression: 'attribute_not_exists(accountId)',
        },
      },
      { Put: { TableName: this.tables.reference, Item: { pk: `MOVEMENT#${movement.movementId}`, sk: 'MOVEMENT', itemType: 'MOVEMENT', ...record }, ConditionExpression: 'attribute_not_exists(pk)' } },
    ];
    const audit: AuditDraft = { action: `ACCOUNT.${movement.direction}`, entityType: 'ACCOUNT', entityId: account.accountId, before: accountSnapshot(account), after: accountSnapshot(after), detail: `${movement.movementId} ${record.amount} ${account.currency}` };
    return this.commitAccountWrite(items, audit, actor, account.accountId, after, shardItems.length, shardItems.length + 1);
  }

  async getMovement(movementId: string): Promise<FundMovement | undefined> {
    const item = await this.getReference(`MOVEMENT#${movementId}`, 'MOVEMENT');
    if (!item) return undefined;
    const { pk: _pk, sk: _sk, itemType: _itemType, ...movement } = item;
    return movement as unknown as FundMovement;
  }

  async setStatus(account: Account, status: Account['status'], action: string, actor: Actor): Promise<AccountWriteOutcome> {
    const after: Account = { ...account, status, version: account.version + 1, updatedAt: actor.at };
    const closing = status === 'CLOSED';
    // A hot account freezes or closes whole: every shard in the one transaction.
    const items: TransactItem[] = shardsOf(account).map((shard) => ({
      Update: {
        TableName: this.tables.accounts,
        Key: { accountId: shardKey(account.accountId, shard.shard) },
        UpdateExpression: 'SET accountStatus = :status, version = version + :one, updatedAt = :at',
        // Closing additionally re-checks, in the same condition, that nothing is left on the account.
        ConditionExpression: `version = :version AND accountStatus = :expected${closing ? ' AND balance = :zero AND locked = :zero' : ''}`,
        ExpressionAttributeValues: { ':status': status, ':one': 1, ':at': actor.at, ':version': shard.version, ':expected': account.status, ...(closing && { ':zero': 0 }) },
      },
    }));
    return this.commitAccountWrite(items, { action, entityType: 'ACCOUNT', entityId: account.accountId, before: accountSnapshot(account), after: accountSnapshot(after) }, actor, account.accountId, after, items.length);
  }

  async setFloor(account: Account, floor: Money, actor: Actor): Promise<AccountWriteOutcome> {
    const shards = shardsOf(account);
    const after: Account = { ...account, floor, version: account.version + shards.length, updatedAt: actor.at };
    // A hot account's floor is split exactly into shares, one per shard, each guarded on its shard.
    const shares = splitExactly(floor, shards.length, account.currency);
    const items: TransactItem[] = shards.map((shard) => ({
      Update: {
        TableName: this.tables.accounts,
        Key: { accountId: shardKey(account.accountId, shard.shard) },
        UpdateExpression: 'SET floor = :floor, version = version + :one, updatedAt = :at',
        ConditionExpression: 'version = :version AND available >= :floor',
        ExpressionAttributeValues: { ':floor': toNumberValue(shares[shard.shard]), ':one': 1, ':at': actor.at, ':version': shard.version },
      },
    }));
    // Every shard is an account item of this write: a refusal on any of them means the account changed since it was read.
    return this.commitAccountWrite(items, { action: 'ACCOUNT.SET_FLOOR', entityType: 'ACCOUNT', entityId: account.accountId, before: accountSnapshot(account), after: accountSnapshot(after) }, actor, account.accountId, after, items.length);
  }

  // ---- audit ----

  async listByEntity(entityType: AuditEntityType, entityId: string, query: { cursor?: string; limit: number }): Promise<Page<AuditEntry>> {
    const page = await this.queryIndex(`AUDIT#${entityType}#${entityId}`, query, true);
    return { items: page.items.map(auditFromItem), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
  }

  async listByDay(day: string, query: { cursor?: string; limit: number }): Promise<Page<AuditEntry>> {
    const partition = `AUDIT#${day}`;
    try {
      const result = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.reference,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': partition },
          ScanIndexForward: false,
          Limit: Math.min(query.limit, listPageSizeMax),
          ExclusiveStartKey: query.cursor ? decodeCursor(query.cursor, { pk: partition }, ['sk']) : undefined,
        }),
      );
      return { items: (result.Items ?? []).map(auditFromItem), ...(result.LastEvaluatedKey && { nextCursor: encodeCursor(result.LastEvaluatedKey) }) };
    } catch (error) {
      throw translateTransientError(error);
    }
  }

  // ---- windows ----

  async getWindow(currency: string): Promise<StoredWindow | undefined> {
    const item = await this.getReference(`WINDOW#${currency}`, 'WINDOW');
    return item ? windowFromItem(item) : undefined;
  }

  async listWindows(): Promise<StoredWindow[]> {
    const windows: StoredWindow[] = [];
    let cursor: string | undefined;
    // A window per currency: a few pages at most.
    for (let page = 0; page < 20; page++) {
      const result = await this.queryIndex('WINDOWS', { cursor, limit: listPageSizeMax }, false);
      windows.push(...result.items.map(windowFromItem));
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return windows;
  }

  async putWindow(window: SettlementWindow, expectedVersion: number, action: string, actor: Actor): Promise<boolean> {
    const previous = expectedVersion === 0 ? undefined : await this.getWindow(window.currency);
    const item = { pk: `WINDOW#${window.currency}`, sk: 'WINDOW', itemType: 'WINDOW', ...window, version: expectedVersion + 1, updatedAt: actor.at, gsi1pk: 'WINDOWS', gsi1sk: window.currency };
    const put: TransactItem = {
      Put: {
        TableName: this.tables.reference,
        Item: item,
        ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
        ...(expectedVersion !== 0 && { ExpressionAttributeValues: { ':expected': expectedVersion } }),
      },
    };
    const audit: AuditDraft = { action, entityType: 'WINDOW', entityId: window.currency, before: previous ? { ...previous.window } : null, after: { ...window } };
    return this.commit([put], audit, actor);
  }

  // ---- proposals (maker-checker) ----

  async createProposal(proposal: Proposal, actor: Actor): Promise<void> {
    const put: TransactItem = { Put: { TableName: this.tables.reference, Item: proposalItem(proposal), ConditionExpression: 'attribute_not_exists(pk)' } };
    const audit: AuditDraft = { action: 'PROPOSAL.CREATE', entityType: 'PROPOSAL', entityId: proposal.proposalId, before: null, after: proposalSnapshot(proposal), detail: proposal.summary };
    if (!(await this.commit([put], audit, actor))) throw new TransactionConflictError(`proposal ${proposal.proposalId} exists already`);
  }

  async getProposal(proposalId: string): Promise<Proposal | undefined> {
    const item = await this.getReference(`PROPOSAL#${proposalId}`, 'PROPOSAL');
    return item ? proposalFromItem(item) : undefined;
  }

  async listProposals(query: { cursor?: string; limit: number }): Promise<Page<Proposal>> {
    const page = await this.queryIndex('PROPOSALS', query, true);
    return { items: page.items.map(proposalFromItem), ...(page.nextCursor && { nextCursor: page.nextCursor }) };
  }

  async decideProposal(proposal: Proposal, to: 'APPROVED' | 'REJECTED', actor: Actor, note?: string): Promise<ProposalDecision> {
    const decided: Proposal = { ...proposal, status: to, decidedBy: actor.actor, decidedAt: actor.at, ...(note !== undefined && { note }) };
    const update: TransactItem = {
      Update: {
        TableName: this.tables.reference,
        Key: { pk: `PROPOSAL#${proposal.proposalId}`, sk: 'PROPOSAL' },
        UpdateExpression: `SET proposalStatus = :to, decidedBy = :by, decidedAt = :at${note !== undefined ? ', note = :note' : ''}`,
        // The four-eyes rule is in the write itself: no read-then-check window for the proposer to slip through.
        ConditionExpression: 'proposalStatus = :pending AND proposedBy <> :by AND expiresAt > :at',
        ExpressionAttributeValues: { ':to': to, ':by': actor.actor, ':at': actor.at, ':pending': 'PENDING', ...(note !== undefined && { ':note': note }) },
      },
    };
    const audit: AuditDraft = { action: to === 'APPROVED' ? 'PROPOSAL.APPROVE' : 'PROPOSAL.REJECT', entityType: 'PROPOSAL', entityId: proposal.proposalId, before: proposalSnapshot(proposal), after: proposalSnapshot(decided), detail: `${proposal.summary} proposed by ${proposal.proposedBy}` };
    if (await this.commit([update], audit, actor)) return { decided: true, proposal: decided };
    return { decided: false, current: await this.getProposal(proposal.proposalId) };
  }

  async finishProposal(proposal: Proposal, to: 'EXECUTED' | 'FAILED', outcome: Readonly<Record<string, unknown>>, actor: Actor): Promise<void> {
    const finished: Proposal = { ...proposal, status: to, outcome };
    const update: TransactItem = {
      Update: {
        TableName: this.tables.reference,
        Key: { pk: `PROPOSAL#${proposal.proposalId}`, sk: 'PROPOSAL' },
        UpdateExpression: 'SET proposalStatus = :to, outcome = :outcome',
        ConditionExpression: 'proposalStatus = :approved',
        ExpressionAttributeValues: { ':to': to, ':outcome': JSON.stringify(outcome), ':approved': 'APPROVED' },
      },
    };
    const audit: AuditDraft = { action: to === 'EXECUTED' ? 'PROPOSAL.EXECUTED' : 'PROPOSAL.FAILED', entityType: 'PROPOSAL', entityId: proposal.proposalId, before: proposalSnapshot(proposal), after: proposalSnapshot(finished), detail: proposal.summary };
    await this.commit([update], audit, actor);
  }

  // ---- shared ----

  /**
   * The audit entry and the chain head's move, as two items of the caller's transaction: the head is written only
   * if it is still the one read (`seq` unchanged), so two appends on one stream can never both link to the same
   * entry; the loser's whole transaction is cancelled and retried on the new head (transact below).
   */
  private chainItems(entry: ChainedAuditEntry): TransactItem[] {
    const sortKey = `${entry.at}#${entry.auditId}`;
    const put: TransactItem = {
      Put: {
        TableName: this.tables.reference,
        Item: {
          pk: `AUDIT#${entry.at.slice(0, 10)}`,
          sk: sortKey,
          itemType: 'AUDIT',
          gsi1pk: `AUDIT#${entry.entityType}#${entry.entityId}`,
          gsi1sk: sortKey,
          auditId: entry.auditId,
          at: entry.at,
          actor: entry.actor,
          action: entry.action,
          entityType: entry.entityType,
          entityId: entry.entityId,
          // JSON text: snapshots keep decimal strings exactly and never pass through DynamoDB numbers.
          before: JSON.stringify(entry.before),
          after: JSON.stringify(entry.after),
          ...(entry.detail !== undefined && { detail: entry.detail }),
          stream: entry.stream,
          seq: entry.seq,
          prevHash: entry.prevHash,
          hash: entry.hash,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    const head: TransactItem = {
      Put: {
        TableName: this.tables.reference,
        Item: { pk: `${auditChainPartition}${entry.stream}`, sk: 'HEAD', itemType: 'AUDIT_HEAD', seq: entry.seq, hash: entry.hash, auditId: entry.auditId, at: entry.at },
        ConditionExpression: entry.seq === 1 ? 'attribute_not_exists(pk)' : 'seq = :previous',
        ...(entry.seq !== 1 && { ExpressionAttributeValues: { ':previous': entry.seq - 1 } }),
      },
    };
    return [put, head];
  }

  private async chainHead(stream: string): Promise<{ seq: number; hash: string } | undefined> {
    const item = await this.getReference(`${auditChainPartition}${stream}`, 'HEAD');
    return item ? { seq: toInteger(item.seq), hash: String(item.hash) } : undefined;
  }

  /**
   * Sends `items` plus the audit entry chained on its stream's head, in ONE transaction. Retries (bounded) when
   * only the head moved meanwhile or a concurrent transaction touched it; returns the cancellation reasons when one
   * of `items` was refused (the caller decides what that means), undefined when committed.
   */
  private async transact(items: TransactItem[], draft: AuditDraft, actor: Actor): Promise<{ reasons: CancellationReason[]; error: unknown } | undefined> {
    const record = { ...draft, auditId: randomUUID(), at: actor.at, actor: actor.actor };
    for (let attempt = 1; attempt <= auditAppendAttemptsMax; attempt++) {
      const entry = chainAfter(record, await this.chainHead(record.entityType));
      try {
        await this.documentClient.send(new TransactWriteCommand({ TransactItems: [...items, ...this.chainItems(entry)] }));
        return undefined;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (reasons === undefined) throw translateTransientError(error);
        const itemRefused = reasons.slice(0, items.length).some((reason) => reason.Code === 'ConditionalCheckFailed');
        if (itemRefused) return { reasons, error };
        const chainMoved = reasons.slice(items.length).some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict');
        if (!chainMoved) throw translateTransientError(error);
        // Another entry took this position of the chain: link after it.
      }
    }
    throw new TransactionConflictError(`the audit chain ${record.entityType} kept moving; nothing was written`);
  }

  async append(draft: AuditDraft, actor: Actor): Promise<AuditEntry> {
    const record = { ...draft, auditId: randomUUID(), at: actor.at, actor: actor.actor };
    for (let attempt = 1; attempt <= auditAppendAttemptsMax; attempt++) {
      const entry = chainAfter(record, await this.chainHead(record.entityType));
      try {
        await this.documentClient.send(new TransactWriteCommand({ TransactItems: this.chainItems(entry) }));
        return entry;
      } catch (error) {
        const reasons = cancellationReasons(error);
        if (!reasons?.some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict')) throw translateTransientError(error);
      }
    }
    throw new TransactionConflictError(`the audit chain ${record.entityType} kept moving; the entry was not appended`);
  }

  async *entriesBetween(from: string, to: string): AsyncIterable<AuditEntry> {
    const days = daysBetween(from, to);
    for (const day of days) {
      let cursor: Item | undefined;
      for (let page = 0; page < auditExportPagesPerDayMax; page++) {
        let result;
        try {
          result = await this.documentClient.send(
            new QueryCommand({
              TableName: this.tables.reference,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':pk': `AUDIT#${day}`, ':from': from, ':to': `${to}~` },
              ConsistentRead: true,
              ExclusiveStartKey: cursor,
            }),
          );
        } catch (error) {
          throw translateTransientError(error);
        }
        for (const item of result.Items ?? []) yield auditFromItem(item);
        cursor = result.LastEvaluatedKey;
        if (!cursor) break;
      }
      if (cursor) throw new ValidationError('to', `more than ${auditExportPagesPerDayMax} pages of audit entries on ${day}: export a shorter period`);
    }
  }

  /** Commits a transaction whose first item is the guarded change; false when that guard failed. */
  private async commit(items: TransactItem[], audit: AuditDraft, actor: Actor): Promise<boolean> {
    const refused = await this.transact(items, audit, actor);
    if (refused === undefined) return true;
    if (refused.reasons[0]?.Code === 'ConditionalCheckFailed') return false;
    throw translateTransientError(refused.error);
  }

  /** `accountItems`: how many items, from the first, are the account's shards (any of them refused: it changed). */
  private async commitAccountWrite(items: TransactItem[], audit: AuditDraft, actor: Actor, accountId: string, after: Account, accountItems: number, movementIndex?: number): Promise<AccountWriteOutcome> {
    const refused = await this.transact(items, audit, actor);
    if (refused === undefined) return { committed: true, account: after };
    if (movementIndex !== undefined && refused.reasons[movementIndex]?.Code === 'ConditionalCheckFailed') return { committed: false, reason: 'movementExists', current: await this.get(accountId) };
    if (refused.reasons.slice(0, accountItems).some((reason) => reason?.Code === 'ConditionalCheckFailed')) return { committed: false, reason: 'changed', current: await this.get(accountId) };
    throw translateTransientError(refused.error);
  }

  private async getReference(pk: string, sk: string): Promise<Item | undefined> {
    return getReferenceItem(this.documentClient, this.tables, pk, sk);
  }

  private async queryIndex(partition: string, query: { cursor?: string; limit: number }, newestFirst: boolean): Promise<{ items: Item[]; nextCursor?: string }> {
    try {
      const result = await this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.reference,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': partition },
          ScanIndexForward: !newestFirst,
          Limit: Math.min(query.limit, listPageSizeMax),
          ExclusiveStartKey: query.cursor ? decodeCursor(query.cursor, { gsi1pk: partition }, ['pk', 'sk', 'gsi1sk']) : undefined,
        }),
      );
      return { items: result.Items ?? [], ...(result.LastEvaluatedKey && { nextCursor: encodeCursor(result.LastEvaluatedKey) }) };
    } catch (error) {
      throw translateTransientError(error);
    }
  }
}

function bankFromItem(item: Item): Bank {
  return { bic: String(item.bic), name: String(item.name), country: String(item.country), status: item.bankStatus as Bank['status'] };
}

function auditFromItem(item: Item): AuditEntry {
  return {
    stream: String(item.stream ?? item.entityType),
    seq: item.seq === undefined ? 0 : toInteger(item.seq),
    prevHash: String(item.prevHash ?? ''),
    hash: String(item.hash ?? ''),
    auditId: String(item.auditId),
    at: String(item.at),
    actor: String(item.actor),
    action: String(item.action),
    entityType: item.entityType as AuditEntityType,
    entityId: String(item.entityId),
    before: JSON.parse(String(item.before)) as AuditEntry['before'],
    after: JSON.parse(String(item.after)) as AuditEntry['after'],
    ...(item.detail !== undefined && { detail: String(item.detail) }),
  };
}

function proposalItem(proposal: Proposal): Item {
  const { status, request, outcome, ...rest } = proposal;
  return {
    pk: `PROPOSAL#${proposal.proposalId}`,
    sk: 'PROPOSAL',
    itemType: 'PROPOSAL',
    ...rest,
    proposalStatus: status,
    // JSON text: a fund movement's amount stays the decimal string the proposer sent.
    request: JSON.stringify(request),
    ...(outcome !== undefined && { outcome: JSON.stringify(outcome) }),
    gsi1pk: 'PROPOSALS',
    gsi1sk: `${proposal.proposedAt}#${proposal.proposalId}`,
  };
}

function proposalFromItem(item: Item): Proposal {
  return {
    proposalId: String(item.proposalId),
    action: item.action as Proposal['action'],
    target: String(item.target),
    request: JSON.parse(String(item.request)) as Proposal['request'],
    summary: String(item.summary),
    status: item.proposalStatus as Proposal['status'],
    proposedBy: String(item.proposedBy),
    proposedAt: String(item.proposedAt),
    expiresAt: String(item.expiresAt),
    ...(item.decidedBy !== undefined && { decidedBy: String(item.decidedBy) }),
    ...(item.decidedAt !== undefined && { decidedAt: String(item.decidedAt) }),
    ...(item.note !== undefined && { note: String(item.note) }),
    ...(item.outcome !== undefined && { outcome: JSON.parse(String(item.outcome)) as Proposal['outcome'] }),
  };
}

function proposalSnapshot(proposal: Proposal): Record<string, unknown> {
  return { action: proposal.action, target: proposal.target, summary: proposal.summary, status: proposal.status, proposedBy: proposal.proposedBy, ...(proposal.decidedBy !== undefined && { decidedBy: proposal.decidedBy }) };
}

function windowFromItem(item: Item): StoredWindow {
  const fields = ['currency', 'timeZone', 'days', 'opensAt', 'cutoffAt', 'holidays', 'emergencyClose'] as const;
  // Stored windows are re-validated on read: a hand-edited item fails loudly instead of mis-evaluating.
  const window = parseSettlementWindow(Object.fromEntries(fields.map((field) => [field, item[field]])), `WINDOW#${String(item.currency)}`);
  return { window, version: toInteger(item.version), updatedAt: String(item.updatedAt) };
}

/** Opaque page cursor: the LastEvaluatedKey, its string values only. */
function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** A cursor is only ever one we issued for this listing: anything else is a client error. */
function decodeCursor(cursor: string, fixed: Readonly<Record<string, string>>, free: readonly string[]): Item {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof key === 'object' && key !== null && !Array.isArray(key)) {
      const entries = Object.entries(key);
      const names = [...Object.keys(fixed), ...free];
      const valid = entries.length === names.length && entries.every(([name, value]) => names.includes(name) && typeof value === 'string' && (fixed[name] === undefined || fixed[name] === value));
      if (valid) return key as Item;
    }
  } catch {
    // falls through to the validation error
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this listing');
}


/**
 * How a fund movement spreads over an account's shards: a fund-in evenly (split exactly), a fund-out from the
 * shards with the largest surplus above their floor share (never below zero nor below the share, like the account's
 * rule). One shard, the account itself, when it is not sharded. The deltas sum to the movement exactly.
 */
function movementShards(account: Account, direction: FundMovement['direction'], amount: Money): { shard: AccountShard; delta: Money }[] {
  const shards = shardsOf(account);
  if (direction === 'FUND_IN') return splitExactly(amount, shards.length, account.currency).map((share, index) => ({ shard: shards[index], delta: share })).filter((change) => !change.delta.isZero());
  let missing = amount;
  const changes: { shard: AccountShard; delta: Money }[] = [];
  const withdrawable = (shard: AccountShard) => Money.max(shard.available.minus(Money.max(shard.floor, 0)), 0);
  for (const shard of [...shards].sort((left, right) => withdrawable(right).comparedTo(withdrawable(left)))) {
    if (missing.isZero()) break;
    const take = shards.length === 1 ? missing : Money.min(withdrawable(shard), missing);
    if (take.greaterThan(0)) changes.push({ shard, delta: take.negated() });
    missing = missing.minus(take);
  }
  invariant(missing.isZero() && changes.reduce((total, change) => total.plus(change.delta), new Money(0)).equals(amount.negated()), 'movementShards: a fund-out beyond the shards must be refused before the write');
  return changes;
}
