/**
 * Operations ports: bank registry, account administration with audit, settlement windows, and reconciliation
 * persistence. The DynamoDB adapters (adapters/dynamodb/operations-store.ts, reconciliation-store.ts) implement
 * them; every change they commit carries its audit entry in the same transaction.
 */
import type { BankStatus } from '../domain/admin';
import type { Money } from '../domain/money';
import type { Discrepancy, LedgerEntryView, PendingLockView, ReconciliationSummary } from '../domain/reconciliation';
import type { SettlementWindow } from '../domain/window';
import type { Statement, StatementRequest } from './bank';
import type { Account, AccountType, Bank } from './stores';

import type { AuditEntityType, AuditRecord, ChainedAuditEntry } from '../domain/audit-chain';
export type { AuditEntityType } from '../domain/audit-chain';

/** A stored audit entry: who did what to which entity, when, before and after, with its place in the hash chain. */
export type AuditEntry = ChainedAuditEntry;
/** What a writer supplies; the store adds id, time, actor and the chain fields. */
export type AuditDraft = Omit<AuditRecord, 'auditId' | 'at' | 'actor'>;

/** The who and when of a change, supplied by the edge (authenticated principal, clock). */
export interface Actor {
  readonly actor: string;
  readonly at: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

export interface BankRegistry {
  getBank(bic: string): Promise<Bank | undefined>;
  listBanks(query: { cursor?: string; limit: number }): Promise<Page<Bank>>;
  /** Creates the bank with its audit entry; returns false (nothing written) when the BIC is registered already. */
  registerBank(bank: Bank, actor: Actor): Promise<boolean>;
  /** Sets the status if it is still `expected`; false when it changed meanwhile. */
  setBankStatus(bank: Bank, status: BankStatus, actor: Actor): Promise<boolean>;
}

export type FundDirection = 'FUND_IN' | 'FUND_OUT';

/** A committed fund-in or fund-out, stored under its movement id for idempotent replays. */
export interface FundMovement {
  readonly movementId: string;
  readonly accountId: string;
  readonly direction: FundDirection;
  readonly amount: string;
  readonly currency: string;
  readonly valueDate: string;
  readonly reference: string;
  readonly postedAt: string;
  readonly balanceAfter: string;
  readonly actor: string;
}

/**
 * Why a guarded account write did not commit; the use case decides what to tell the caller: `changed` means the
 * account moved since it was read (re-read and decide again), `movementExists` that the movement id was used.
 */
export type AccountWriteOutcome =
  | { readonly committed: true; readonly account: Account }
  | { readonly committed: false; readonly reason: 'changed' | 'movementExists'; readonly current: Account | undefined };

export interface AccountAdminStore {
  get(accountId: string): Promise<Account | undefined>;
  /** Opens the account (posting a non-zero opening balance) with its audit entry, if the bank is ACTIVE and the account new. */
  open(opening: { accountType: AccountType; bic: string; currency: string; floor: Money; openingBalance: Money }, actor: Actor): Promise<'opened' | 'exists' | 'bankNotActive'>;
  /**
   * Posts a fund movement in ONE transaction: the balance change (guarded by the account's version, status and,
   * for a fund-out, available − amount ≥ max(floor, 0)), the ledger entry, the movement record and the audit entry.
   */
  postMovement(account: Account, movement: Omit<FundMovement, 'balanceAfter'>, actor: Actor): Promise<AccountWriteOutcome>;
  getMovement(movementId: string): Promise<FundMovement | undefined>;
  /** Changes status (and for CLOSED requires zero balance and no locks), guarded by the version read. */
  setStatus(account: Account, status: Account['status'], action: string, actor: Actor): Promise<AccountWriteOutcome>;
  setFloor(account: Account, floor: Money, actor: Actor): Promise<AccountWriteOutcome>;
}

export interface AuditLog {
  /**
   * Appends one entry on its own (actions whose change is not in the operations store: requeue, abandon,
   * reconciliation requests, proposals, refusals), on the chain head of its stream with a conditional write.
   */
  append(draft: AuditDraft, actor: Actor): Promise<AuditEntry>;
  /** Entries with from ≤ at ≤ to, oldest first, page by page (one UTC day partition after another). */
  entriesBetween(from: string, to: string): AsyncIterable<AuditEntry>;
  /** Entries for one entity, newest first. */
  listByEntity(entityType: AuditEntityType, entityId: string, query: { cursor?: string; limit: number }): Promise<Page<AuditEntry>>;
  /** Entries of one UTC day, newest first. */
  listByDay(day: string, query: { cursor?: string; limit: number }): Promise<Page<AuditEntry>>;
}

export interface StoredWindow {
  readonly window: SettlementWindow;
  readonly version: number;
  readonly updatedAt: string;
}

export interface WindowStore {
  getWindow(currency: string): Promise<StoredWindow | undefined>;
  listWindows(): Promise<StoredWindow[]>;
  /** Replaces the window when its version is still `expectedVersion` (0: must not exist); false otherwise. */
  putWindow(window: SettlementWindow, expectedVersion: number, action: string, actor: Actor): Promise<boolean>;
}

export type ReportStatus = 'RUNNING' | 'COMPLETED' | 'FAILED';

export interface StoredReport {
  readonly reportId: string;
  readonly accountId: string;
  readonly periodFrom: string;
  readonly periodTo: string;
  readonly status: ReportStatus;
  readonly trigger: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly summary?: ReconciliationSummary;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface ReconciliationStore {
  /** Takes the run lock of (account, period) until `lockedUntil`; false when another live run holds it. */
  acquireRunLock(run: { accountId: string; from: string; to: string; reportId: string; lockedUntil: string; now: string }): Promise<{ acquired: true } | { acquired: false; lockedUntil?: string }>;
  releaseRunLock(run: { accountId: string; from: string; to: string; reportId: string }): Promise<void>;
  putReport(report: StoredReport): Promise<void>;
  /** A sink that writes discrepancy items in batches; `flush` writes the rest. */
  discrepancyWriter(reportId: string): { write(discrepancy: Discrepancy): Promise<void>; flush(): Promise<void> };
  getReport(reportId: string): Promise<StoredReport | undefined>;
  listDiscrepancies(reportId: string, query: { cursor?: string; limit: number }): Promise<Page<Discrepancy & { readonly seq: number }>>;
  listReports(accountId: string, query: { cursor?: string; limit: number }): Promise<Page<StoredReport>>;
}

/** The engine's side of one account for a period, read for reconciliation. */
export interface LedgerReader {
  /** Postings with from ≤ postedAt ≤ to, in posting order, streamed page by page (opening entries excluded). */
  entries(accountId: string, from: string, to: string): AsyncIterable<LedgerEntryView>;
  /** The account's balance at `to` (inclusive): its current balance minus what was posted after. */
  balanceAt(accountId: string, to: string): Promise<string>;
  /** Pending fund locks with a leg on the account, each with its settlement's current status. */
  pendingLocks(accountId: string): AsyncIterable<PendingLockView>;
}

/** Where a nostro's statement comes from: the correspondent's BankClient (mock locally, camt.053 import in production). */
export interface StatementSourcePort {
  statement(request: StatementRequest): Promise<Statement>;
}
