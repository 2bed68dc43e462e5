import { auditCsvColumns, auditCsvRow, auditEntryFromCsv, chainAfter, genesisHash, verifyAuditChain, type ChainedAuditEntry } from '../../../lambdas/domain/audit-chain';
import { parse } from 'csv-parse/sync';

function chain(length: number, stream: 'ACCOUNT' | 'BANK' = 'ACCOUNT'): ChainedAuditEntry[] {
  const entries: ChainedAuditEntry[] = [];
  for (let index = 0; index < length; index++) {
    const head = entries[index - 1];
    entries.push(chainAfter({ auditId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, at: `2026-12-01T10:00:0${index}.000Z`, actor: 'ops', action: 'ACCOUNT.FUND_IN', entityType: stream, entityId: 'VOSTRO#DEUTDEFF#EUR', before: { balance: '10.00' }, after: { balance: `${index}.00` }, detail: `=cmd|${index}` }, head && { seq: head.seq, hash: head.hash }));
  }
  return entries;
}

describe('the audit hash chain', () => {
  it('links each entry to the one before, from the genesis hash', () => {
    const entries = chain(3);
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(entries[0].prevHash).toBe(genesisHash);
    expect(entries[2].prevHash).toBe(entries[1].hash);
    expect(verifyAuditChain(entries)).toEqual({ entries: 3, streams: 1, problems: [] });
  });

  it('names a changed entry, a missing one and a duplicated one', () => {
    const entries = chain(5);
    const changed = { ...entries[1], after: { balance: '1.01' } };
    expect(verifyAuditChain([entries[0], changed, ...entries.slice(2)]).problems).toEqual([expect.objectContaining({ seq: 2, auditId: entries[1].auditId, problem: 'changed' })]);
    expect(verifyAuditChain([entries[0], entries[1], entries[3], entries[4]]).problems).toEqual([expect.objectContaining({ seq: 3, problem: 'missing' })]);
    expect(verifyAuditChain([...entries, entries[4]]).problems).toEqual([expect.objectContaining({ seq: 5, problem: 'duplicate' })]);
  });

  it('verifies a period that starts mid-chain, and refuses a forged first link', () => {
    const entries = chain(4);
    expect(verifyAuditChain(entries.slice(2)).problems).toEqual([]);
    const forgedLink = { ...entries[0], prevHash: 'f'.repeat(64) };
    expect(verifyAuditChain([forgedLink]).problems.map((problem) => problem.problem).sort()).toEqual(['broken-link', 'changed']);
  });

  it('round-trips through CSV (formula-looking cells defused) with the same hash', () => {
    const entries = chain(2);
    const text = [auditCsvColumns.join(','), ...entries.map(auditCsvRow)].join('\n');
    expect(text).toContain(`"'=cmd|0"`);
    const back = (parse(text, { columns: true }) as Record<string, string>[]).map(auditEntryFromCsv);
    expect(back).toEqual(entries);
    expect(verifyAuditChain(back).problems).toEqual([]);
  });
});
