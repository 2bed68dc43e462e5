/**
 * The audit trail: who did what. Listing (by entity, or by period filtered by entity type and actor), export of a
 * period as JSON lines or CSV, verification of an export, and the entries for actions whose change is not itself
 * written with an audit entry (refusals, requeue, abandon, reconciliation requests, proposals).
 */
import { auditCsvColumns, auditCsvRow, auditEntityTypes, verifyAuditChain, type AuditEntityType, type AuditVerification, type ChainedAuditEntry } from '../../domain/audit-chain';
import { ValidationError } from '../../domain/errors';
import { ForbiddenError } from '../../domain/access';
import { instant } from '../../domain/admin';
import type { Actor, AuditDraft, AuditEntry, Page } from '../../ports/operations';
import { pageLimit } from './accounts';
import type { OperationsDeps } from './deps';

/** Entries one listing reads at most to fill a filtered page; beyond, it answers with a cursor to go on. */
export const auditScanMax = 5_000;
/** Entries one export holds at most (JSON lines of ~600 bytes: ~60 MB). */
export const auditExportEntriesMax = 100_000;
/** Default listing period when none is given. */
export const auditDefaultPeriodHours = 24;

/** Appends an entry with the actor and time given; where there are no operations deps (bare test engines), none. */
export async function recordAudit(deps: { readonly operations?: OperationsDeps }, draft: AuditDraft, actor: Actor): Promise<void> {
  await deps.operations?.audit.append(draft, actor);
}

/** A refused call (403 / PERMISSION_DENIED) in the ACCESS stream: who tried what. Never fails the refusal itself. */
export async function auditRefusal(deps: { readonly operations?: OperationsDeps }, error: ForbiddenError, what: string): Promise<void> {
  try {
    const at = deps.operations?.clock.now().toISOString() ?? new Date().toISOString();
    await recordAudit(
      deps,
      { action: 'ACCESS.FORBIDDEN', entityType: 'ACCESS', entityId: error.principal.clientName, before: null, after: { role: error.principal.role, permission: error.permission, call: what }, detail: error.reason.slice(0, 500) },
      { actor: error.principal.clientName, at },
    );
  } catch (auditError) {
    // The caller still gets its 403; the failure to record it is logged for the operator.
    console.error(JSON.stringify({ level: 'error', message: 'could not audit a refused call', call: what, error: String(auditError) }));
  }
}

const listingKeys = ['entityType', 'entityId', 'actor', 'from', 'to', 'day', 'cursor', 'limit'] as const;

/**
 * Audit entries: of one entity (`entityType` + `entityId`, newest first), or of a period (`from`/`to` instants or
 * a UTC `day`; default the last 24 hours) filtered by `entityType` and `actor`, oldest first.
 */
export async function listAudit(ops: OperationsDeps, query: Readonly<Record<string, string>>): Promise<Page<AuditEntry>> {
  for (const key of Object.keys(query)) {
    if (!(listingKeys as readonly string[]).includes(key)) throw new ValidationError(key, `is not a query parameter of the audit listing (${listingKeys.join(', ')})`);
  }
  const limit = pageLimit(query.limit);
  const entityType = query.entityType === undefined ? undefined : parseEntityType(query.entityType);
  const actor = query.actor === undefined ? undefined : parseActor(query.actor);
  if (query.entityId !== undefined) {
    if (entityType === undefined) throw new ValidationError('entityType', 'is required with entityId');
    const page = await ops.audit.listByEntity(entityType, query.entityId, { cursor: query.cursor, limit });
    return actor === undefined ? page : { ...page, items: page.items.filter((entry) => entry.actor === actor) };
  }
  const period = parsePeriod(query, ops.clock.now());
  const after = query.cursor === undefined ? undefined : parseListingCursor(query.cursor);
  const items: AuditEntry[] = [];
  let scanned = 0;
  for await (const entry of ops.audit.entriesBetween(period.from, period.to)) {
    const position = `${entry.at}#${entry.auditId}`;
    if (after !== undefined && position <= after) continue;
    scanned += 1;
    if ((entityType === undefined || entry.entityType === entityType) && (actor === undefined || entry.actor === actor)) items.push(entry);
    if (items.length === limit || scanned >= auditScanMax) return { items, nextCursor: Buffer.from(position).toString('base64url') };
  }
  return { items };
}

/** The entries of a period as JSON lines or CSV (header first), with what verification of them finds. */
export async function exportAudit(ops: OperationsDeps, query: Readonly<Record<string, string>>): Promise<{ text: string; contentType: string; entries: number }> {
  for (const key of Object.keys(query)) {
    if (!['from', 'to', 'format'].includes(key)) throw new ValidationError(key, 'is not a query parameter of the audit export (from, to, format)');
  }
  if (query.from === undefined) throw new ValidationError('from', 'is required: the start of the period (ISO instant)');
  if (query.to === undefined) throw new ValidationError('to', 'is required: the end of the period (ISO instant)');
  const format = query.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') throw new ValidationError('format', 'must be jsonl or csv');
  const period = parsePeriod(query, ops.clock.now());
  const lines: string[] = format === 'csv' ? [auditCsvColumns.join(',')] : [];
  let entries = 0;
  for await (const entry of ops.audit.entriesBetween(period.from, period.to)) {
    entries += 1;
    if (entries > auditExportEntriesMax) throw new ValidationError('to', `the period holds more than ${auditExportEntriesMax} entries: export a shorter one`);
    lines.push(format === 'csv' ? auditCsvRow(entry) : JSON.stringify(entry));
  }
  return { text: lines.length === 0 ? '' : `${lines.join('\n')}\n`, contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson', entries };
}

/** Verifies entries read back from an export. */
export function verifyAuditEntries(entries: readonly ChainedAuditEntry[]): AuditVerification {
  return verifyAuditChain(entries);
}

function parseEntityType(value: string): AuditEntityType {
  const found = auditEntityTypes.find((type) => type === value);
  if (found === undefined) throw new ValidationError('entityType', `must be one of ${auditEntityTypes.join(', ')}`);
  return found;
}

function parseActor(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (value === '' || value.length > 1_100 || /[\u0000-\u001f]/.test(value)) throw new ValidationError('actor', 'must be a principal name (no control characters, at most 1100 characters)');
  return value;
}

function parsePeriod(query: Readonly<Record<string, string>>, now: Date): { from: string; to: string } {
  if (query.day !== undefined) {
    if (query.from !== undefined || query.to !== undefined) throw new ValidationError('day', 'give either day or from/to');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(query.day) || Number.isNaN(Date.parse(`${query.day}T00:00:00Z`))) throw new ValidationError('day', 'must be an ISO date');
    return { from: `${query.day}T00:00:00.000Z`, to: `${query.day}T23:59:59.999Z` };
  }
  const to = query.to === undefined ? now.toISOString() : instant(query.to, 'to');
  const from = query.from === undefined ? new Date(Date.parse(to) - auditDefaultPeriodHours * 3_600_000).toISOString() : instant(query.from, 'from');
  if (to < from) throw new ValidationError('to', 'must not be before from');
  return { from, to };
}

function parseListingCursor(cursor: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9a-f-]{36}$/.test(position)) throw new ValidationError('cursor', 'is not a cursor returned by this listing');
  return position;
}
