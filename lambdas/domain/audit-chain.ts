/**
 * The audit trail as a hash chain: every entry carries its stream (the entity type), its position in that stream
 * (`seq`, from 1, dense) and the hash of the previous entry of the stream, and its own hash covers all of that.
 * Changing one byte of a stored or exported entry changes its hash; removing one leaves a gap in `seq` and a link
 * that no longer matches. `verifyAuditChain` names the entry that breaks, so an auditor knows where to look.
 */
import { createHash } from 'node:crypto';

export const AuditEntityType = {
  bank: 'BANK',
  account: 'ACCOUNT',
  window: 'WINDOW',
  settlement: 'SETTLEMENT',
  reconciliation: 'RECONCILIATION',
  statement: 'STATEMENT',
  proposal: 'PROPOSAL',
  access: 'ACCESS',
} as const;
export type AuditEntityType = (typeof AuditEntityType)[keyof typeof AuditEntityType];
export const auditEntityTypes: readonly AuditEntityType[] = Object.values(AuditEntityType);

/** The `prevHash` of the first entry of a stream. */
export const genesisHash = '0'.repeat(64);

/** Who did what to which entity, when, and the entity before and after (null when created or deleted). */
export interface AuditRecord {
  readonly auditId: string;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly entityType: AuditEntityType;
  readonly entityId: string;
  readonly before: Readonly<Record<string, unknown>> | null;
  readonly after: Readonly<Record<string, unknown>> | null;
  readonly detail?: string;
}

/** An audit entry with its place in the chain. */
export interface ChainedAuditEntry extends AuditRecord {
  /** The chain the entry belongs to: its entity type. */
  readonly stream: string;
  readonly seq: number;
  readonly prevHash: string;
  /** SHA-256 (hex) of the canonical form of every other field. */
  readonly hash: string;
}

/**
 * The bytes an entry's hash covers: a JSON array of its fields in a fixed order (snapshots as their JSON text),
 * so that JSON lines and CSV exports, whatever their layout, verify against the same hash.
 */
export function canonicalAuditText(entry: Omit<ChainedAuditEntry, 'hash'>): string {
  return JSON.stringify([
    entry.stream,
    entry.seq,
    entry.prevHash,
    entry.auditId,
    entry.at,
    entry.actor,
    entry.action,
    entry.entityType,
    entry.entityId,
    JSON.stringify(entry.before),
    JSON.stringify(entry.after),
    entry.detail ?? null,
  ]);
}

export function auditHash(entry: Omit<ChainedAuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonicalAuditText(entry), 'utf8').digest('hex');
}

/** Links a new record after the stream's head (undefined: the stream's first entry). */
export function chainAfter(record: AuditRecord, head: { seq: number; hash: string } | undefined): ChainedAuditEntry {
  const unhashed = { ...record, stream: record.entityType, seq: (head?.seq ?? 0) + 1, prevHash: head?.hash ?? genesisHash };
  return { ...unhashed, hash: auditHash(unhashed) };
}

export interface AuditChainProblem {
  readonly stream: string;
  readonly seq: number;
  /** The entry at fault; absent when the entry is missing. */
  readonly auditId?: string;
  readonly problem: 'changed' | 'missing' | 'broken-link' | 'duplicate';
  readonly message: string;
}

export interface AuditVerification {
  readonly entries: number;
  readonly streams: number;
  readonly problems: readonly AuditChainProblem[];
}

/**
 * Verifies entries of any period: each entry's own hash, and within each stream that `seq` is dense and every
 * `prevHash` is the hash of the entry before it. The first entry of a stream in a period links to an entry before
 * the period, which an export of that period does not hold: its link is checked only when it is seq 1 (genesis).
 */
export function verifyAuditChain(entries: readonly ChainedAuditEntry[]): AuditVerification {
  const problems: AuditChainProblem[] = [];
  const byStream = new Map<string, ChainedAuditEntry[]>();
  for (const entry of entries) {
    const { hash, ...unhashed } = entry;
    if (auditHash(unhashed) !== hash) {
      problems.push({ stream: entry.stream, seq: entry.seq, auditId: entry.auditId, problem: 'changed', message: `${entry.stream} #${entry.seq} (${entry.auditId}) does not match its hash: it was changed` });
    }
    byStream.set(entry.stream, [...(byStream.get(entry.stream) ?? []), entry]);
  }
  for (const [stream, streamEntries] of byStream) {
    const sorted = [...streamEntries].sort((a, b) => a.seq - b.seq);
    sorted.forEach((entry, index) => {
      const previous = sorted[index - 1];
      if (previous === undefined) {
        if (entry.seq === 1 && entry.prevHash !== genesisHash) problems.push({ stream, seq: 1, auditId: entry.auditId, problem: 'broken-link', message: `${stream} #1 (${entry.auditId}) does not start the chain` });
        return;
      }
      if (entry.seq === previous.seq) {
        problems.push({ stream, seq: entry.seq, auditId: entry.auditId, problem: 'duplicate', message: `${stream} #${entry.seq} appears twice (${previous.auditId}, ${entry.auditId})` });
        return;
      }
      for (let missing = previous.seq + 1; missing < entry.seq; missing++) {
        problems.push({ stream, seq: missing, problem: 'missing', message: `${stream} #${missing} is missing (between ${previous.auditId} and ${entry.auditId})` });
      }
      if (entry.seq === previous.seq + 1 && entry.prevHash !== previous.hash) {
        problems.push({ stream, seq: entry.seq, auditId: entry.auditId, problem: 'broken-link', message: `${stream} #${entry.seq} (${entry.auditId}) does not link to #${previous.seq} (${previous.auditId})` });
      }
    });
  }
  return { entries: entries.length, streams: byStream.size, problems };
}

/** Columns of the CSV export, in order (snapshots as JSON text). */
export const auditCsvColumns = ['stream', 'seq', 'prevHash', 'hash', 'auditId', 'at', 'actor', 'action', 'entityType', 'entityId', 'before', 'after', 'detail'] as const;

export function auditCsvRow(entry: ChainedAuditEntry): string {
  const cells = [entry.stream, String(entry.seq), entry.prevHash, entry.hash, entry.auditId, entry.at, entry.actor, entry.action, entry.entityType, entry.entityId, JSON.stringify(entry.before), JSON.stringify(entry.after), entry.detail ?? ''];
  return cells.map(csvCell).join(',');
}

function csvCell(value: string): string {
  // Quoted always; a cell starting with = + - @ is prefixed with ' so a spreadsheet never runs it as a formula
  // (and one starting with ' too, so that reading back strips exactly one).
  const safe = /^[=+\-@\t\r']/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** An entry read back from a CSV row (the inverse of auditCsvRow). */
export function auditEntryFromCsv(row: Readonly<Record<string, string>>): ChainedAuditEntry {
  const unformula = (value: string) => (value.startsWith("'") ? value.slice(1) : value);
  const cell = (name: (typeof auditCsvColumns)[number]) => unformula(row[name] ?? '');
  return {
    stream: cell('stream'),
    seq: Number(cell('seq')),
    prevHash: cell('prevHash'),
    hash: cell('hash'),
    auditId: cell('auditId'),
    at: cell('at'),
    actor: cell('actor'),
    action: cell('action'),
    entityType: cell('entityType') as AuditEntityType,
    entityId: cell('entityId'),
    before: JSON.parse(cell('before')) as AuditRecord['before'],
    after: JSON.parse(cell('after')) as AuditRecord['after'],
    ...(cell('detail') !== '' && { detail: cell('detail') }),
  };
}
