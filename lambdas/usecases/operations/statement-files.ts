/**
 * Statement files dropped into an inbox (an S3 bucket on AWS, a watched folder locally) rather than posted to
 * `POST /api/v1/statements`. The file's place names what it is: `<BIC>/<currency>/<name>.xml` (camt.053) or
 * `.csv`, the nostro `NOSTRO#<BIC>#<currency>`; a CSV's statement id is its file name (a camt.053 carries its own).
 * The file then goes through the very use case of the route: same checks, same idempotency, same audit entry.
 */
import { SettlementEngineError, ValidationError } from '../../domain/errors';
import { StatementInvalidError } from '../../domain/operations-errors';
import type { StatementFileInbox } from '../../ports/statement-files';
import { StatementFormat } from '../../ports/operations';
import type { OperationsDeps } from './deps';
import { importStatement, type StatementOrigin } from './statements';

/** Longest relative file name accepted (S3 keys may be 1024 bytes; ours are short by construction). */
export const statementFileNameLengthMax = 256;
const bicPattern = /^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/;
const currencyPattern = /^[A-Z]{3}$/;
const stemPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What a dropped file is, read off its relative name. */
export interface StatementFile {
  readonly accountId: string;
  readonly format: StatementFormat;
  /** The CSV's statement id (its file name); undefined for a camt.053, which carries its own. */
  readonly statementId?: string;
}

/** `DEUTDEFF/EUR/2025-03-12.xml` → the nostro, the format and (for CSV) the statement id; a ValidationError naming `file` otherwise. */
export function statementFileOf(relativeName: string): StatementFile {
  if (relativeName.length > statementFileNameLengthMax) throw new ValidationError('file', `name is longer than ${statementFileNameLengthMax} characters`);
  const parts = relativeName.split('/');
  const [bic, currency, fileName] = parts;
  if (parts.length !== 3 || !bicPattern.test(bic) || !currencyPattern.test(currency)) {
    throw new ValidationError('file', 'must be named <BIC>/<currency>/<name>.xml (camt.053) or .csv, e.g. BNPAFRPP/EUR/2025-03-12.xml');
  }
  const dot = fileName.lastIndexOf('.');
  const stem = fileName.slice(0, dot);
  const extension = fileName.slice(dot + 1).toLowerCase();
  if (dot <= 0 || !stemPattern.test(stem)) throw new ValidationError('file', 'name must be 1 to 128 letters, digits or . _ - before its extension');
  const accountId = `NOSTRO#${bic}#${currency}`;
  if (extension === 'xml') return { accountId, format: StatementFormat.camt053 };
  if (extension === 'csv') return { accountId, format: StatementFormat.csv, statementId: stem };
  throw new ValidationError('file', 'must end in .xml (camt.053) or .csv');
}

export const StatementFileOutcome = { imported: 'IMPORTED', exists: 'EXISTS', rejected: 'REJECTED' } as const;
export type StatementFileOutcome = (typeof StatementFileOutcome)[keyof typeof StatementFileOutcome];

export type StatementFileResult =
  | { readonly outcome: typeof StatementFileOutcome.imported | typeof StatementFileOutcome.exists; readonly statementId: string }
  /** The file itself is wrong (name, size, content, conflict): retrying cannot help; the reason goes to the operator. */
  | { readonly outcome: typeof StatementFileOutcome.rejected; readonly code: string; readonly reason: string };

/**
 * Imports one dropped file through `importStatement`. A file the engine refuses (a client error: validation, not
 * found, conflict) is a REJECTED result with its code and reason; anything else (DynamoDB unavailable, a bug) is
 * thrown, so the inbox retries it.
 */
export async function importStatementFile(ops: OperationsDeps, relativeName: string, content: string, contentBytesMax: number, origin: StatementOrigin): Promise<StatementFileResult> {
  try {
    const file = statementFileOf(relativeName);
    const body = { accountId: file.accountId, format: file.format, content, ...(file.statementId && { statementId: file.statementId }) };
    const { created, statement } = await importStatement(ops, body, contentBytesMax, origin);
    return { outcome: created ? StatementFileOutcome.imported : StatementFileOutcome.exists, statementId: statement.statementId };
  } catch (error) {
    if (isRefusal(error)) return { outcome: StatementFileOutcome.rejected, code: error.code, reason: error.message.slice(0, 1_000) };
    throw error;
  }
}

/** A refusal of the file (4xx on the route), as opposed to a fault worth retrying. */
function isRefusal(error: unknown): error is SettlementEngineError {
  return error instanceof SettlementEngineError && ['validation', 'not_found', 'conflict', 'precondition', 'business'].includes(error.kind);
}

/** A file that arrived in an inbox: its name relative to the incoming area, and its size when the notice says it. */
export interface ArrivedStatementFile {
  readonly file: string;
  readonly sizeBytes?: number;
}

/**
 * One arrival, whole: refuses an oversized file on the size the notice announces before a byte is read, reads it
 * (bounded), imports it, and sets a refused file aside with its reason. Faults are thrown for the inbox to retry.
 */
export async function receiveStatementFile(ops: OperationsDeps, inbox: StatementFileInbox, arrived: ArrivedStatementFile, contentBytesMax: number, origin: StatementOrigin): Promise<StatementFileResult> {
  let result: StatementFileResult;
  if (arrived.sizeBytes !== undefined && arrived.sizeBytes > contentBytesMax) {
    const refusal = new StatementInvalidError('statement', 'file', `is ${arrived.sizeBytes} bytes, more than the ${contentBytesMax} allowed`);
    result = { outcome: StatementFileOutcome.rejected, code: refusal.code, reason: refusal.message };
  } else {
    result = await readAndImport(ops, inbox, arrived.file, contentBytesMax, origin);
  }
  if (result.outcome === StatementFileOutcome.rejected) await inbox.reject({ file: arrived.file, code: result.code, reason: result.reason });
  return result;
}

async function readAndImport(ops: OperationsDeps, inbox: StatementFileInbox, file: string, contentBytesMax: number, origin: StatementOrigin): Promise<StatementFileResult> {
  let content: string;
  try {
    content = await inbox.read(file, contentBytesMax);
  } catch (error) {
    if (isRefusal(error)) return { outcome: StatementFileOutcome.rejected, code: error.code, reason: error.message.slice(0, 1_000) };
    throw error;
  }
  return importStatementFile(ops, file, content, contentBytesMax, origin);
}
