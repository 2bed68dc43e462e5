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
  /** Which statement the run reconciled against: one uploaded to the statement inbox, or the bank's own. */
  readonly statement?: { readonly source: 'UPLOADED' | 'BANK'; readonly statementId?: string };
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

export const StatementFormat = { camt053: 'CAMT053', csv: 'CSV' } as const;
export type StatementFormat = (typeof StatementFormat)[keyof typeof StatementFormat];

/** A statement received through the statement inbox (POST /api/v1/statements; on AWS also an S3 upload). */
export interface StoredStatement {
  readonly statementId: string;
  readonly accountId: string;
  readonly currency: string;
  readonly format: StatementFormat;
  /** The period the statement covers (inclusive ISO instants). */
  readonly from: string;
  readonly to: string;
  readonly entryCount: number;
  readonly openingBalance: string;
  readonly closingBalance: string;
  /** SHA-256 of the content: a repeated upload with the same id must carry the same file. */
  readonly contentSha256: string;
  readonly receivedAt: string;
  /** Set once the scheduled job has reconciled it. */
  readonly reportId?: string;
}

export interface StatementInbox {
  /** Stores the statement unless its id exists; returns the stored one (and whether this call created it). */
  put(statement: StoredStatement, content: string): Promise<{ created: boolean; statement: StoredStatement }>;
  get(statementId: string): Promise<{ statement: StoredStatement; content: string } | undefined>;
  /** Statements not reconciled yet, oldest first, at most `limit`. */
  listPending(limit: number): Promise<StoredStatement[]>;
  markReconciled(statementId: string, reportId: string): Promise<void>;
}

/** What the inbox learns from a statement file when it checks it. */
export interface StatementSummary {
  /** The statement's own id (camt.053 Stmt/Id), when the file carries one. */
  readonly statementId?: string;
  /** The period the file's balances are dated (whole days), when it says. */
  readonly from?: string;
  readonly to?: string;
  readonly openingBalance: string;
  readonly closingBalance: string;
  readonly entryCount: number;
}

/** Reads statement files (the importers in adapters/statements). */
export interface StatementReader {
  /** Reads the whole file, refusing it with StatementInvalidError when anything is wrong. */
  summarize(format: StatementFormat, content: string, target: { accountId: string; currency: string }): Promise<StatementSummary>;
  open(format: StatementFormat, content: string, target: { accountId: string; currency: string }): Promise<Statement>;
}

/** Actions that one operator proposes and another approves (maker-checker). */
export const ProposalAction = { fundIn: 'FUND_IN', fundOut: 'FUND_OUT', freeze: 'FREEZE', close: 'CLOSE', abandon: 'ABANDON', requeue: 'REQUEUE' } as const;
export type ProposalAction = (typeof ProposalAction)[keyof typeof ProposalAction];
export type ProposalStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'EXECUTED' | 'FAILED';

export interface Proposal {
  readonly proposalId: string;
  readonly action: ProposalAction;
  /** The account id (fund movements, freeze, close) or settlement id (abandon, requeue). */
  readonly target: string;
  /** The request as the proposer sent it, validated when proposed and run as is when approved. */
  readonly request: Readonly<Record<string, unknown>>;
  /** What the proposal does, for the checker's eyes ("FUND_IN 250000.00 EUR"); amounts as decimal strings. */
  readonly summary: string;
  readonly status: ProposalStatus;
  readonly proposedBy: string;
  readonly proposedAt: string;
  readonly expiresAt: string;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly note?: string;
  /** Set once run: what came of it (EXECUTED), or the error code and message (FAILED). */
  readonly outcome?: Readonly<Record<string, unknown>>;
}

export type ProposalDecision = { readonly decided: true; readonly proposal: Proposal } | { readonly decided: false; readonly current: Proposal | undefined };

export interface ProposalStore {
  /** Writes a new PENDING proposal with its audit entry. */
  createProposal(proposal: Proposal, actor: Actor): Promise<void>;
  getProposal(proposalId: string): Promise<Proposal | undefined>;
  listProposals(query: { cursor?: string; limit: number }): Promise<Page<Proposal>>;
  /**
   * PENDING → APPROVED or REJECTED in one conditional write with its audit entry: only while it is PENDING, not
   * expired at `actor.at`, and decided by someone other than its proposer. `decided: false` gives the item as it is.
   */
  decideProposal(proposal: Proposal, to: 'APPROVED' | 'REJECTED', actor: Actor, note?: string): Promise<ProposalDecision>;
  /** APPROVED → EXECUTED or FAILED with the outcome, with its audit entry. */
  finishProposal(proposal: Proposal, to: 'EXECUTED' | 'FAILED', outcome: Readonly<Record<string, unknown>>, actor: Actor): Promise<void>;
}
