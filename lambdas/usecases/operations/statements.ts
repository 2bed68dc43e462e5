/**
 * The statement inbox: a correspondent's statement (camt.053 or CSV) arrives (POST /api/v1/statements; on AWS also
 * an S3 upload), is checked whole and stored, idempotent on its statement id; the scheduled reconciliation then
 * reconciles each stored statement's account and period against the ledger, and the report names the statement.
 */
import { createHash } from 'node:crypto';
import { AccountNotFoundError, InvariantViolationError, ValidationError } from '../../domain/errors';
import { instant, checkPeriod } from '../../domain/admin';
import { StatementConflictError } from '../../domain/operations-errors';
import { StatementFormat, type StatementInbox, type StatementReader, type StoredReport, type StoredStatement } from '../../ports/operations';
import type { OperationsDeps } from './deps';
import { ReconciliationTrigger, runReconciliation, type ScheduledRunOutcome } from './reconcile';
import { recordAudit } from './audit';

/** Who delivered a statement and through which door: the audit entry of its receipt names both. */
export interface StatementOrigin {
  /** The principal of the upload, or the inbox that picked the file up. */
  readonly actor: string;
  readonly via: 'API' | 'S3' | 'FOLDER';
  /** The object key or file name it arrived as. */
  readonly file?: string;
}

/** Statements one scheduled run reconciles at most; the rest wait for the next run. */
export const statementsPerRunMax = 100;
const statementIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const uploadFields = ['statementId', 'accountId', 'format', 'content', 'from', 'to'] as const;

function inboxOf(ops: OperationsDeps): { inbox: StatementInbox; reader: StatementReader } {
  if (!ops.statementInbox || !ops.statementReader) throw new InvariantViolationError('the statement inbox is not wired (operations.statementInbox, operations.statementReader)');
  return { inbox: ops.statementInbox, reader: ops.statementReader };
}

/**
 * Stores an uploaded statement from an untrusted body: `{ accountId, format: CAMT053 | CSV, content, statementId?,
 * from?, to? }`. The statement id is the camt.053 Stmt/Id unless given; the period is the file's balance dates
 * unless given. A repeat of the same id with the same content answers with the stored statement; with different
 * content it is a conflict. Nothing is written unless the whole file reads cleanly.
 */
export async function importStatement(ops: OperationsDeps, body: unknown, contentBytesMax: number, origin: StatementOrigin): Promise<{ created: boolean; statement: StoredStatement }> {
  const { inbox, reader } = inboxOf(ops);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('body', 'must be a JSON object');
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) if (!(uploadFields as readonly string[]).includes(key)) throw new ValidationError(key, `is not a field of a statement upload (${uploadFields.join(', ')})`);
  if (input.format !== StatementFormat.camt053 && input.format !== StatementFormat.csv) throw new ValidationError('format', 'must be CAMT053 or CSV');
  if (typeof input.content !== 'string' || input.content.length === 0) throw new ValidationError('content', 'is required: the statement file as text');
  const bytes = Buffer.byteLength(input.content, 'utf8');
  if (bytes > contentBytesMax) throw new ValidationError('content', `is ${bytes} bytes, more than the ${contentBytesMax} allowed`);
  if (typeof input.accountId !== 'string') throw new ValidationError('accountId', 'is required');
  const account = await ops.accountAdmin.get(input.accountId);
  if (!account) throw new AccountNotFoundError(input.accountId);
  if (account.accountType !== 'NOSTRO') throw new ValidationError('accountId', 'statements come from correspondents: only a nostro has one');
  const summary = await reader.summarize(input.format, input.content, { accountId: account.accountId, currency: account.currency });
  const statementId = input.statementId === undefined ? summary.statementId : input.statementId;
  if (typeof statementId !== 'string' || !statementIdPattern.test(statementId)) throw new ValidationError('statementId', 'is required (the file carries none) and must be 1 to 128 letters, digits or . _ : / -');
  const from = input.from === undefined ? summary.from : instant(input.from, 'from');
  const to = input.to === undefined ? summary.to : instant(input.to, 'to');
  if (!from || !to) throw new ValidationError(from ? 'to' : 'from', 'is required: the file does not date its balances');
  checkPeriod(from, to);
  const statement: StoredStatement = {
    statementId,
    accountId: account.accountId,
    currency: account.currency,
    format: input.format,
    from,
    to,
    entryCount: summary.entryCount,
    openingBalance: summary.openingBalance,
    closingBalance: summary.closingBalance,
    contentSha256: createHash('sha256').update(input.content).digest('hex'),
    receivedAt: ops.clock.now().toISOString(),
  };
  const stored = await inbox.put(statement, input.content);
  if (!stored.created && stored.statement.contentSha256 !== statement.contentSha256) throw new StatementConflictError(statementId);
  if (stored.created) {
    const { accountId, format, entryCount, contentSha256 } = statement;
    await recordAudit({ operations: ops }, { action: 'STATEMENT.RECEIVED', entityType: 'STATEMENT', entityId: statementId, before: null, after: { accountId, format, entryCount, contentSha256, via: origin.via }, detail: origin.file?.slice(0, 500) }, { actor: origin.actor, at: statement.receivedAt });
  }
  return stored;
}

/** Reconciles one stored statement's account and period against it, and marks the statement reconciled. */
export async function reconcileStoredStatement(ops: OperationsDeps, statement: StoredStatement, trigger: string): Promise<StoredReport> {
  const { inbox, reader } = inboxOf(ops);
  const report = await runReconciliation(ops, { accountId: statement.accountId, from: statement.from, to: statement.to }, trigger as typeof ReconciliationTrigger.schedule, {
    source: 'UPLOADED',
    statementId: statement.statementId,
    open: async () => {
      const stored = await inbox.get(statement.statementId);
      if (!stored) throw new InvariantViolationError(`statement ${statement.statementId} vanished from the inbox`);
      return reader.open(stored.statement.format, stored.content, { accountId: statement.accountId, currency: statement.currency });
    },
  });
  await inbox.markReconciled(statement.statementId, report.reportId);
  return report;
}

/** The scheduled job's part for the inbox: every statement not reconciled yet (bounded per run). */
export async function reconcilePendingStatements(ops: OperationsDeps): Promise<ScheduledRunOutcome[]> {
  if (!ops.statementInbox) return [];
  const outcomes: ScheduledRunOutcome[] = [];
  for (const statement of await ops.statementInbox.listPending(statementsPerRunMax)) {
    try {
      const report = await reconcileStoredStatement(ops, statement, ReconciliationTrigger.schedule);
      outcomes.push({ accountId: statement.accountId, outcome: 'COMPLETED', reportId: report.reportId, discrepancyCount: report.summary?.discrepancyCount ?? 0 });
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', message: 'reconciliation of an uploaded statement failed', statementId: statement.statementId, error: String(error) }));
      outcomes.push({ accountId: statement.accountId, outcome: 'FAILED', error: (error as { code?: string }).code ?? 'INTERNAL.UNEXPECTED' });
    }
  }
  return outcomes;
}
