/**
 * Reads an audit export back (JSON lines or CSV, as GET /api/v1/audit/export writes them) for verification.
 * A line that cannot be read is itself a finding: it is reported with its line number instead of stopping.
 */
import { parse } from 'csv-parse/sync';
import { auditCsvColumns, auditEntryFromCsv, verifyAuditChain, type AuditVerification, type ChainedAuditEntry } from '../../domain/audit-chain';

export interface ExportReading {
  readonly entries: readonly ChainedAuditEntry[];
  /** Lines that are not entries at all (line numbers from 1, header included). */
  readonly unreadable: readonly { readonly line: number; readonly message: string }[];
}

export function readAuditExport(text: string): ExportReading {
  const header = auditCsvColumns.join(',');
  return text.startsWith(header) ? readCsv(text) : readJsonLines(text);
}

function readJsonLines(text: string): ExportReading {
  const entries: ChainedAuditEntry[] = [];
  const unreadable: { line: number; message: string }[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      entries.push(JSON.parse(line) as ChainedAuditEntry);
    } catch (error) {
      unreadable.push({ line: index + 1, message: `not JSON: ${(error as Error).message}` });
    }
  });
  return { entries, unreadable };
}

function readCsv(text: string): ExportReading {
  const rows = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
  const entries: ChainedAuditEntry[] = [];
  const unreadable: { line: number; message: string }[] = [];
  rows.forEach((row, index) => {
    try {
      entries.push(auditEntryFromCsv(row));
    } catch (error) {
      unreadable.push({ line: index + 2, message: `not an audit row: ${(error as Error).message}` });
    }
  });
  return { entries, unreadable };
}

/** Verifies an export's text: the chain's findings plus the unreadable lines. */
export function verifyAuditExport(text: string): AuditVerification & { readonly unreadable: ExportReading['unreadable'] } {
  const reading = readAuditExport(text);
  return { ...verifyAuditChain(reading.entries), unreadable: reading.unreadable };
}
