/**
 * Bank registry and account administration: register banks and set their status; open nostro and vostro accounts;
 * fund a vostro in and out; freeze, unfreeze, close; set the floor. Each change commits with its audit entry
 * (adapters/dynamodb/operations-store.ts). Reads are re-done and decisions re-taken when an account changed
 * between the read and the guarded write (a settlement locking funds, another operator), a bounded number of times.
 */
import {
  AccountConflictError,
  AccountNotActiveError,
  AccountNotFoundError,
  BankNotActiveError,
  BankNotFoundError,
  InsufficientFundsError,
  TransactionConflictError,
  ValidationError,
  invariant,
} from '../../domain/errors';
import { parseAccountId, parseAccountOpening, parseBankRegistration, parseBankStatus, parseFloor, parseFundMovement } from '../../domain/admin';
import { Money, formatAmount } from '../../domain/money';
import { BankConflictError } from '../../domain/operations-errors';
import type { Actor, FundDirection, FundMovement } from '../../ports/operations';
import type { Account, Bank } from '../../ports/stores';
import type { RebalanceOutcome } from '../../domain/account-shards';
import { accountView } from '../settlements';
import type { AccountView } from '../views';
import type { OperationsDeps } from './deps';

/** Guarded writes retried after the account changed under them (each retry means another writer progressed). */
export const accountWriteAttemptsMax = 5;
export const auditPageSizeDefault = 50;

export async function registerBank(ops: OperationsDeps, body: unknown, actor: Actor): Promise<{ created: boolean; bank: Bank }> {
  const registration = parseBankRegistration(body);
  const bank: Bank = { ...registration, status: 'ACTIVE' };
  for (let attempt = 1; attempt <= accountWriteAttemptsMax; attempt++) {
    const existing = await ops.bankRegistry.getBank(bank.bic);
    if (existing) {
      // A repeated registration is "exists", not an error; a different one for the same BIC is a conflict.
      if (existing.name === bank.name && existing.country === bank.country) return { created: false, bank: existing };
      throw new BankConflictError(`bank ${bank.bic} is registered as "${existing.name}" (${existing.country})`);
    }
    if (await ops.bankRegistry.registerBank(bank, actor)) return { created: true, bank };
  }
  throw new TransactionConflictError(`bank ${bank.bic} kept changing during registration`);
}

export async function getBank(ops: OperationsDeps, bic: string): Promise<Bank> {
  const bank = await ops.bankRegistry.getBank(bic);
  if (!bank) throw new BankNotFoundError(bic);
  return bank;
}

export async function setBankStatus(ops: OperationsDeps, bic: string, body: unknown, actor: Actor): Promise<Bank> {
  const status = parseBankStatus(body);
  for (let attempt = 1; attempt <= accountWriteAttemptsMax; attempt++) {
    const bank = await getBank(ops, bic);
    if (bank.status === status) return bank;
    if (await ops.bankRegistry.setBankStatus(bank, status, actor)) return { ...bank, status };
  }
  throw new TransactionConflictError(`bank ${bic} kept changing`);
}

export async function openAccount(ops: OperationsDeps, body: unknown, actor: Actor): Promise<AccountView> {
  const opening = parseAccountOpening(body);
  const bank = await ops.bankRegistry.getBank(opening.bic);
  if (!bank) throw new BankNotFoundError(opening.bic);
  if (bank.status !== 'ACTIVE') throw new BankNotActiveError(bank.bic, bank.status);
  const outcome = await ops.accountAdmin.open({ ...opening, floor: new Money(opening.floor), openingBalance: new Money(opening.openingBalance) }, actor);
  const accountId = `${opening.accountType}#${opening.bic}#${opening.currency}`;
  if (outcome === 'exists') throw new AccountConflictError(`account ${accountId} already exists (one ${opening.accountType.toLowerCase()} per bank and currency)`);
  if (outcome === 'bankNotActive') throw new BankNotActiveError(bank.bic, 'not active');
  return accountView(await requireAccount(ops, accountId));
}

export async function requireAccount(ops: OperationsDeps, accountId: string): Promise<Account> {
  const account = await ops.accountAdmin.get(parseAccountId(accountId));
  if (!account) throw new AccountNotFoundError(accountId);
  return account;
}

/**
 * Evens a hot account's balance shards now, on an operator's request (the cleanup job does the same on its
 * schedule): one conditional transaction that moves funds between the account's own shards, so the account's
 * balance, held and available are unchanged and nothing moves between accounts. A move is audited after it commits
 * (the rebalancer's transaction holds only the shards; an entry lost to a crash in between loses no money, and the
 * next request finds the shards even). An account of one item answers NOT_SHARDED.
 */
export async function rebalanceAccountShards(ops: OperationsDeps, accountId: string, actor: Actor): Promise<RebalanceOutcome & { account: AccountView }> {
  const before = await requireAccount(ops, accountId);
  const [outcome] = await ops.accountShards.rebalanceShards([before.accountId]);
  invariant(outcome?.accountId === before.accountId, `rebalance: no outcome for ${before.accountId}`);
  const after = await requireAccount(ops, before.accountId);
  if (outcome.result === 'MOVED') {
    await ops.audit.append(
      { action: 'ACCOUNT.REBALANCE', entityType: 'ACCOUNT', entityId: before.accountId, before: shardSnapshot(before), after: shardSnapshot(after), detail: `moved ${outcome.moved ?? '0'} ${before.currency} between its own shards` },
      actor,
    );
  }
  return { ...outcome, account: accountView(after) };
}

/** Times a split reads the account again when a lock or posting changed it between the read and the split. */
export const splitAttemptsMax = 3;

/**
 * Splits an account of one item into `shardCount` balance shards on an operator's request (a hot account,
 * docs/architecture.md "Hot accounts"): one transaction pinned on the account's version; shard 0 keeps every pending
 * lock, the surplus and the floor are split exactly, so balance, held, available and floor are unchanged. A lock or
 * posting that commits between the read and the split makes it read again (at most splitAttemptsMax times). Audited
 * (ACCOUNT.SPLIT, the shards after) once it commits, like a rebalance.
 */
export async function splitAccountShards(ops: OperationsDeps, accountId: string, shardCount: number, actor: Actor): Promise<{ accountId: string; shardCount: number; account: AccountView }> {
  // `shardCount` comes validated (2 to accountShardsMax) by the route's body schema; splitAccount asserts it again.
  for (let attempt = 1; attempt <= splitAttemptsMax; attempt++) {
    const before = await requireAccount(ops, accountId);
    if (before.shards) throw new AccountConflictError(`account ${before.accountId} is split already into ${before.shards.length} balance shards`);
    if (before.status === 'CLOSED') throw new AccountNotActiveError(before.accountId, before.status);
    // Each shard must start at or above its floor share: an account below its floor (a floor raised over held
    // funds) cannot be split until funded.
    if (before.available.lessThan(before.floor)) throw new AccountConflictError(`account ${before.accountId} has ${formatAmount(before.available, before.currency)} ${before.currency} available, below its floor: fund it first`);
    let after: Account;
    try {
      after = await ops.accountShards.splitShards(before, shardCount);
    } catch (error) {
      if (error instanceof TransactionConflictError) continue;
      throw error;
    }
    invariant(after.balance.equals(before.balance) && after.locked.equals(before.locked) && after.floor.equals(before.floor), `split: ${before.accountId}'s sums changed`);
    await ops.audit.append(
      { action: 'ACCOUNT.SPLIT', entityType: 'ACCOUNT', entityId: before.accountId, before: { shards: [{ shard: 0, balance: before.balance.toFixed(), available: before.available.toFixed() }] }, after: shardSnapshot(after), detail: `split into ${shardCount} balance shards` },
      actor,
    );
    return { accountId: before.accountId, shardCount, account: accountView(after) };
  }
  throw new TransactionConflictError(`account ${accountId} kept changing; not split`);
}

function shardSnapshot(account: Account): Record<string, unknown> {
  return { shards: (account.shards ?? []).map((shard) => ({ shard: shard.shard, balance: shard.balance.toFixed(), available: shard.available.toFixed() })) };
}

/**
 * Posts a fund-in (prefunding) or fund-out (withdrawal) on a vostro as ONE transaction: balance, ledger entry,
 * movement record, audit entry. A fund-out never takes available below zero nor below the floor. Idempotent on
 * the movement id: the same movement again returns the first result; a different one under the same id is refused.
 */
export async function postFundMovement(ops: OperationsDeps, accountId: string, direction: FundDirection, body: unknown, actor: Actor): Promise<{ created: boolean; movement: FundMovement; account: AccountView }> {
  let account = await requireAccount(ops, accountId);
  if (account.accountType !== 'VOSTRO') throw new ValidationError('accountId', 'fund-in and fund-out apply to vostro accounts (a nostro is funded at its correspondent bank)');
  const request = parseFundMovement(body, account.currency);
  const movement: Omit<FundMovement, 'balanceAfter'> = {
    movementId: request.movementId,
    accountId: account.accountId,
    direction,
    amount: request.amount,
    currency: account.currency,
    valueDate: request.valueDate ?? actor.at.slice(0, 10),
    reference: request.reference,
    postedAt: actor.at,
    actor: actor.actor,
  };
  for (let attempt = 1; attempt <= accountWriteAttemptsMax; attempt++) {
    const replay = await replayOf(ops, movement);
    if (replay) return { created: false, movement: replay, account: accountView(account) };
    requireMovable(account, direction, new Money(movement.amount));
    const outcome = await ops.accountAdmin.postMovement(account, movement, actor);
    if (outcome.committed) {
      invariant(outcome.account.available.greaterThanOrEqualTo(0) || direction === 'FUND_IN', 'fund-out left available below zero');
      return { created: true, movement: { ...movement, balanceAfter: formatAmount(outcome.account.balance, account.currency) }, account: accountView(outcome.account) };
    }
    if (!outcome.current) throw new AccountNotFoundError(accountId);
    account = outcome.current;
  }
  throw new TransactionConflictError(`account ${accountId} kept changing; the movement was not posted`);
}

/** The stored movement when this id was already used for the same movement; a conflict when for another. */
async function replayOf(ops: OperationsDeps, movement: Omit<FundMovement, 'balanceAfter'>): Promise<FundMovement | undefined> {
  const stored = await ops.accountAdmin.getMovement(movement.movementId);
  if (!stored) return undefined;
  const same = stored.accountId === movement.accountId && stored.direction === movement.direction && stored.amount === movement.amount && stored.reference === movement.reference;
  if (!same) throw new AccountConflictError(`movement ${movement.movementId} was already used for ${stored.direction} of ${stored.amount} ${stored.currency} on ${stored.accountId}`);
  return stored;
}

function requireMovable(account: Account, direction: FundDirection, amount: Money): void {
  if (account.status !== 'ACTIVE') throw new AccountNotActiveError(account.accountId, account.status);
  if (direction === 'FUND_OUT') {
    // Withdrawals never use an overdraft: available − amount ≥ max(floor, 0).
    const floor = Money.max(account.floor, 0);
    if (account.available.minus(amount).lessThan(floor)) throw new InsufficientFundsError(account.accountId, formatAmount(amount, account.currency));
  }
}

export type StatusAction = 'freeze' | 'unfreeze' | 'close';

/**
 * Freeze (no new lock or movement; existing locks still finish or roll back), unfreeze, or close (only with a zero
 * balance and nothing locked). Repeating a change already made is a no-op without an audit entry.
 */
export async function changeAccountStatus(ops: OperationsDeps, accountId: string, action: StatusAction, actor: Actor): Promise<AccountView> {
  let account = await requireAccount(ops, accountId);
  for (let attempt = 1; attempt <= accountWriteAttemptsMax; attempt++) {
    const target = action === 'freeze' ? 'FROZEN' : action === 'unfreeze' ? 'ACTIVE' : 'CLOSED';
    if (account.status === target) return accountView(account);
    if (account.status === 'CLOSED') throw new AccountNotActiveError(account.accountId, account.status);
    if (action === 'close') requireEmpty(account);
    const outcome = await ops.accountAdmin.setStatus(account, target, `ACCOUNT.${action.toUpperCase()}`, actor);
    if (outcome.committed) return accountView(outcome.account);
    if (!outcome.current) throw new AccountNotFoundError(accountId);
    account = outcome.current;
  }
  throw new TransactionConflictError(`account ${accountId} kept changing; status unchanged`);
}

function requireEmpty(account: Account): void {
  const amount = (value: Money) => formatAmount(value, account.currency);
  if (!account.balance.isZero()) throw new AccountConflictError(`account ${account.accountId} has a balance of ${amount(account.balance)} ${account.currency}; fund it out before closing`);
  if (!account.locked.isZero()) throw new AccountConflictError(`account ${account.accountId} has ${amount(account.locked)} ${account.currency} locked by settlements in flight`);
}

export async function setAccountFloor(ops: OperationsDeps, accountId: string, body: unknown, actor: Actor): Promise<AccountView> {
  let account = await requireAccount(ops, accountId);
  const floor = new Money(parseFloor(body, account.currency));
  for (let attempt = 1; attempt <= accountWriteAttemptsMax; attempt++) {
    if (account.floor.equals(floor)) return accountView(account);
    if (account.status === 'CLOSED') throw new AccountNotActiveError(account.accountId, account.status);
    if (account.available.lessThan(floor)) throw new AccountConflictError(`account ${account.accountId} has ${formatAmount(account.available, account.currency)} ${account.currency} available, less than the floor asked`);
    const outcome = await ops.accountAdmin.setFloor(account, floor, actor);
    if (outcome.committed) return accountView(outcome.account);
    if (!outcome.current) throw new AccountNotFoundError(accountId);
    account = outcome.current;
  }
  throw new TransactionConflictError(`account ${accountId} kept changing; floor unchanged`);
}

export function pageLimit(value: string | undefined, defaultLimit = auditPageSizeDefault, limitMax = 200): number {
  if (value === undefined) return defaultLimit;
  if (!/^[1-9][0-9]{0,3}$/.test(value) || Number(value) > limitMax) throw new ValidationError('limit', `must be an integer from 1 to ${limitMax}`);
  return Number(value);
}
