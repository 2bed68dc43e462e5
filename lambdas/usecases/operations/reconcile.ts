/**
 * Reconciliation runs: one nostro account and period against its correspondent's statement, persisted as a
 * report, under a run lock so that two runs for the same account and period never run at once; and the scheduled
 * job that reconciles every nostro for the previous complete period. Reconciliation never changes a balance.
 */
import { randomUUID } from 'node:crypto';
import { AccountNotFoundError, SettlementEngineError, ValidationError } from '../../domain/errors';
import { checkPeriod, parseReconciliationRequest, type ReconciliationRequest } from '../../domain/admin';
import { ReconciliationInProgressError, ReconciliationNotFoundError } from '../../domain/operations-errors';
import { reconcile, type Discrepancy } from '../../domain/reconciliation';
import type { Page, StoredReport } from '../../ports/operations';
import type { Statement } from '../../ports/bank';
import { pageLimit } from './accounts';
import type { OperationsDeps } from './deps';

export const ReconciliationTrigger = { api: 'API', schedule: 'SCHEDULE', grpc: 'GRPC' } as const;
export type ReconciliationTrigger = (typeof ReconciliationTrigger)[keyof typeof ReconciliationTrigger];

/** Runs one reconciliation from an untrusted request body (REST, gRPC). */
export async function requestReconciliation(ops: OperationsDeps, body: unknown, trigger: ReconciliationTrigger): Promise<StoredReport> {
  const request = parseReconciliationRequest(body);
  if (Date.parse(request.to) > ops.clock.now().getTime()) throw new ValidationError('to', 'must not be in the future: reconcile a period that has ended');
  return runReconciliation(ops, request, trigger);
}

/**
 * Reconciles one nostro for [from, to] (inclusive). Throws ReconciliationInProgressError when another run holds
 * the (account, period) lock. A run that fails persists a FAILED report and rethrows.
 */
/** A statement other than the bank's own: one from the statement inbox. */
export interface UploadedStatementSource {
  readonly source: 'UPLOADED';
  readonly statementId: string;
  open(): Promise<Statement>;
}

export async function runReconciliation(ops: OperationsDeps, request: ReconciliationRequest, trigger: ReconciliationTrigger, uploaded?: UploadedStatementSource): Promise<StoredReport> {
  const account = await ops.accountAdmin.get(request.accountId);
  if (!account) throw new AccountNotFoundError(request.accountId);
  if (account.accountType !== 'NOSTRO') throw new ValidationError('accountId', 'only a nostro has a correspondent statement to reconcile against; a vostro is held on the network\'s own books');
  const reportId = randomUUID();
  const startedAt = ops.clock.now();
  const run = { accountId: account.accountId, from: request.from, to: request.to, reportId };
  const lock = await ops.reconciliations.acquireRunLock({ ...run, now: startedAt.toISOString(), lockedUntil: new Date(startedAt.getTime() + ops.limits.runLockSeconds * 1000).toISOString() });
  if (!lock.acquired) throw new ReconciliationInProgressError(account.accountId, `${request.from}/${request.to}`, lock.lockedUntil);
  const statementUsed = uploaded ? { source: 'UPLOADED' as const, statementId: uploaded.statementId } : { source: 'BANK' as const };
  const base = { reportId, accountId: account.accountId, periodFrom: request.from, periodTo: request.to, trigger, startedAt: startedAt.toISOString(), statement: statementUsed };
  try {
    await ops.reconciliations.putReport({ ...base, status: 'RUNNING' });
    const writer = ops.reconciliations.discrepancyWriter(reportId);
    const ledgerClosingBalance = await ops.ledger.balanceAt(account.accountId, request.to);
    const statement = uploaded ? await uploaded.open() : await ops.statements.statement({ accountId: account.accountId, bic: account.bic, currency: account.currency, from: request.from, to: request.to });
    const summary = await reconcile({
      accountId: account.accountId,
      currency: account.currency,
      periodFrom: request.from,
      periodTo: request.to,
      asOf: startedAt.toISOString(),
      ledgerClosingBalance,
      ledger: ops.ledger.entries(account.accountId, request.from, request.to),
      statement,
      pendingLocks: ops.ledger.pendingLocks(account.accountId),
      onDiscrepancy: (discrepancy) => writer.write(discrepancy),
    });
    await writer.flush();
    ops.metrics.reconciliationDiscrepancies(summary.discrepancyCount);
    const endedAt = ops.clock.now();
    const report: StoredReport = { ...base, status: 'COMPLETED', endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - startedAt.getTime(), summary };
    await ops.reconciliations.putReport(report);
    return report;
  } catch (error) {
    const endedAt = ops.clock.now();
    const failure = error instanceof SettlementEngineError ? { code: error.code, message: error.message } : { code: 'INTERNAL.UNEXPECTED', message: 'the run failed; see the log' };
    await ops.reconciliations.putReport({ ...base, status: 'FAILED', endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - startedAt.getTime(), error: failure }).catch(() => undefined);
    throw error;
  } finally {
    await ops.reconciliations.releaseRunLock(run);
  }
}

export interface ReportView extends StoredReport {
  readonly discrepancies: Page<Discrepancy & { readonly seq: number }>;
}

/** A report with one page of its discrepancy items (`cursor`, `limit` page through the rest). */
export async function getReport(ops: OperationsDeps, reportId: string, query: Readonly<Record<string, string>>): Promise<ReportView> {
  for (const key of Object.keys(query)) {
    if (key !== 'cursor' && key !== 'limit') throw new ValidationError(key, 'is not a query parameter of a report (cursor, limit)');
  }
  if (!/^[0-9a-f-]{36}$/.test(reportId)) throw new ReconciliationNotFoundError(reportId);
  const report = await ops.reconciliations.getReport(reportId);
  if (!report) throw new ReconciliationNotFoundError(reportId);
  const discrepancies = await ops.reconciliations.listDiscrepancies(reportId, { cursor: query.cursor, limit: pageLimit(query.limit, 100) });
  return { ...report, discrepancies };
}

export async function listReports(ops: OperationsDeps, query: Readonly<Record<string, string>>): Promise<Page<StoredReport>> {
  for (const key of Object.keys(query)) {
    if (!['accountId', 'cursor', 'limit'].includes(key)) throw new ValidationError(key, 'is not a query parameter of the report listing (accountId, cursor, limit)');
  }
  if (query.accountId === undefined) throw new ValidationError('accountId', 'is required');
  return ops.reconciliations.listReports(query.accountId, { cursor: query.cursor, limit: pageLimit(query.limit) });
}

/** The previous complete period of the schedule before `now`: [start, end − 1 ms], aligned on the interval (UTC). */
export function previousPeriod(now: Date, intervalSeconds: number): { from: string; to: string } {
  const intervalMs = intervalSeconds * 1000;
  const end = Math.floor(now.getTime() / intervalMs) * intervalMs;
  return { from: new Date(end - intervalMs).toISOString(), to: new Date(end - 1).toISOString() };
}

export interface ScheduledRunOutcome {
  readonly accountId: string;
  readonly outcome: 'COMPLETED' | 'SKIPPED_IN_PROGRESS' | 'FAILED';
  readonly reportId?: string;
  readonly discrepancyCount?: number;
  readonly error?: string;
}

/**
 * The scheduled job: every nostro that is not closed, for the previous complete period. One account's failure does
 * not stop the others; a period already being reconciled (a retried invocation) is skipped.
 */
export async function reconcileAllNostros(ops: OperationsDeps): Promise<{ period: { from: string; to: string }; runs: ScheduledRunOutcome[] }> {
  const period = previousPeriod(ops.clock.now(), ops.limits.reconciliationIntervalSeconds);
  const runs: ScheduledRunOutcome[] = [];
  let cursor: string | undefined;
  do {
    const page = await ops.accountList.list({ accountType: 'NOSTRO', cursor, limit: 100 });
    for (const account of page.items) {
      if (account.status === 'CLOSED' || runs.length >= ops.limits.scheduledAccountsMax) continue;
      runs.push(await scheduledRun(ops, { accountId: account.accountId, ...period }));
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && runs.length < ops.limits.scheduledAccountsMax);
  return { period, runs };
}

async function scheduledRun(ops: OperationsDeps, request: ReconciliationRequest): Promise<ScheduledRunOutcome> {
  try {
    const report = await runReconciliation(ops, request, ReconciliationTrigger.schedule);
    return { accountId: request.accountId, outcome: 'COMPLETED', reportId: report.reportId, discrepancyCount: report.summary?.discrepancyCount ?? 0 };
  } catch (error) {
    if (error instanceof ReconciliationInProgressError) return { accountId: request.accountId, outcome: 'SKIPPED_IN_PROGRESS' };
    console.error(JSON.stringify({ level: 'error', message: 'scheduled reconciliation failed', accountId: request.accountId, error: String(error) }));
    return { accountId: request.accountId, outcome: 'FAILED', error: error instanceof SettlementEngineError ? error.code : 'INTERNAL.UNEXPECTED' };
  }
}

/** Totals of a batch of runs (gRPC ReconcileAccounts): one report per account, counts added up. */
export interface BatchReconciliation {
  readonly reportId: string;
  readonly reportIds: readonly string[];
  readonly status: 'COMPLETED' | 'PARTIAL';
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly accounts: number;
  readonly totals: {
    readonly matched: number;
    readonly missingAtBank: number;
    readonly missingInLedger: number;
    readonly amountMismatches: number;
    readonly valueDateMismatches: number;
    readonly balanceMismatches: number;
    readonly staleLocks: number;
    readonly discrepancyCount: number;
  };
  readonly runs: readonly ScheduledRunOutcome[];
}

/**
 * Reconciles the nostros matching optional filters (`accountType`, `bic`, `currency`) for [periodStart, periodEnd)
 * (defaults: the interval before now). `reportId` is the report's id when one account was reconciled.
 */
export async function reconcileAccounts(ops: OperationsDeps, input: unknown): Promise<BatchReconciliation> {
  const filters = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (filters.accountType !== undefined && filters.accountType !== 'NOSTRO') throw new ValidationError('accountType', 'only nostro accounts have a correspondent statement to reconcile against');
  const now = ops.clock.now();
  const end = filters.periodEnd === undefined ? now.getTime() : Date.parse(String(filters.periodEnd));
  const start = filters.periodStart === undefined ? end - ops.limits.reconciliationIntervalSeconds * 1000 : Date.parse(String(filters.periodStart));
  if (Number.isNaN(end) || end > now.getTime()) throw new ValidationError('periodEnd', 'must be an instant that has passed');
  if (Number.isNaN(start)) throw new ValidationError('periodStart', 'must be an instant');
  // The end is what is wrong when it does not follow the start (as REST's `to` is): the same field either way.
  if (start >= end) throw new ValidationError('periodEnd', 'must be after periodStart');
  // The period end is exclusive here; runs take inclusive bounds.
  const period = { from: new Date(start).toISOString(), to: new Date(end - 1).toISOString() };
  checkPeriod(period.from, period.to, 'periodEnd');
  const runs: ScheduledRunOutcome[] = [];
  const reports: StoredReport[] = [];
  let cursor: string | undefined;
  do {
    const page = await ops.accountList.list({ accountType: 'NOSTRO', cursor, limit: 100, ...(typeof filters.bic === 'string' && { bic: filters.bic }), ...(typeof filters.currency === 'string' && { currency: filters.currency }) });
    for (const account of page.items.filter((item) => item.status !== 'CLOSED')) {
      if (runs.length >= ops.limits.scheduledAccountsMax) break;
      try {
        const report = await runReconciliation(ops, { accountId: account.accountId, ...period }, ReconciliationTrigger.grpc);
        reports.push(report);
        runs.push({ accountId: account.accountId, outcome: 'COMPLETED', reportId: report.reportId, discrepancyCount: report.summary?.discrepancyCount ?? 0 });
      } catch (error) {
        if (!(error instanceof SettlementEngineError) || error.kind === 'internal') throw error;
        runs.push({ accountId: account.accountId, outcome: error instanceof ReconciliationInProgressError ? 'SKIPPED_IN_PROGRESS' : 'FAILED', error: error.code });
      }
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && runs.length < ops.limits.scheduledAccountsMax);
  const sum = (pick: (summary: NonNullable<StoredReport['summary']>) => number) => reports.reduce((total, report) => total + (report.summary ? pick(report.summary) : 0), 0);
  return {
    reportId: reports.length === 1 ? reports[0].reportId : '',
    reportIds: reports.map((report) => report.reportId),
    status: runs.every((run) => run.outcome === 'COMPLETED') ? 'COMPLETED' : 'PARTIAL',
    periodStart: period.from,
    periodEnd: new Date(end).toISOString(),
    accounts: reports.length,
    totals: {
      matched: sum((summary) => summary.matched.count),
      missingAtBank: sum((summary) => summary.discrepancies.MISSING_AT_BANK.count),
      missingInLedger: sum((summary) => summary.discrepancies.MISSING_IN_LEDGER.count),
      amountMismatches: sum((summary) => summary.discrepancies.AMOUNT_MISMATCH.count),
      valueDateMismatches: sum((summary) => summary.discrepancies.VALUE_DATE_MISMATCH.count),
      balanceMismatches: sum((summary) => summary.discrepancies.CLOSING_BALANCE_MISMATCH.count),
      staleLocks: sum((summary) => summary.discrepancies.STALE_LOCK.count),
      discrepancyCount: sum((summary) => summary.discrepancyCount),
    },
    runs,
  };
}
