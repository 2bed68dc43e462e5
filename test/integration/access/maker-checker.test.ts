/**
 * Maker-checker and the hash-chained audit trail against the running engine: one operator proposes, another
 * approves or rejects; the proposer can never decide; proposals expire; every step is in the audit trail with its
 * actor; the trail's export for a period verifies, and appends racing on one stream stay one dense chain.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditExport } from '../../../lambdas/adapters/audit/export-file';
import { Money } from '../../../lambdas/domain/money';
import { verifyAuditChain, type ChainedAuditEntry } from '../../../lambdas/domain/audit-chain';
import { balances, http, newSettlementId, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { roleAccess, type CallerName } from '../../support/access';
import { ShiftedClock, dayMs } from '../recovery/support';

const access = roleAccess();
const clock = new ShiftedClock();
let engine: TestEngine;
const startedAt = new Date().toISOString();

beforeAll(async () => {
  engine = await startTestEngine({ access, clock, limits: { retryAttemptsMax: 1 }, operationsLimits: { fundMovementApprovalAbove: '1000.00', proposalTtlSeconds: 3600 } });
});

afterAll(async () => {
  await engine?.stop();
});

const as = (caller: CallerName, method: string, path: string, body?: unknown) => http(engine, method, path, body, access.headers(caller));
const vostro = encodeURIComponent('VOSTRO#DEUTDEFF#EUR');
let movements = 0;
const movement = (amount: string) => ({ movementId: `mc-${Date.now()}-${++movements}`, amount, reference: 'maker-checker test' });

async function auditOf(entityType: string, entityId: string): Promise<Array<{ action: string; actor: string }>> {
  const listing = await as('auditor', 'GET', `/api/v1/audit?entityType=${entityType}&entityId=${encodeURIComponent(entityId)}`);
  expect(listing.status).toBe(200);
  // In chain order: entries of one instant are ordered by their place in the stream.
  return [...listing.json.items].sort((a: ChainedAuditEntry, b: ChainedAuditEntry) => a.seq - b.seq).map(({ action, actor }: ChainedAuditEntry) => ({ action, actor }));
}

describe('a fund-in above the threshold', () => {
  it('waits as a proposal, is refused to its proposer, and is posted once another operator approves', async () => {
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const proposed = await as('operatorA', 'POST', `/api/v1/accounts/${vostro}/fund-in`, movement('250000.00'));
    expect(proposed.status).toBe(202);
    const proposal = proposed.json.proposal;
    expect(proposal).toMatchObject({ action: 'FUND_IN', status: 'PENDING', proposedBy: 'operatorA', summary: expect.stringContaining('250000.00 EUR') });
    expect((await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).balance).toBe(before.balance);

    const own = await as('operatorA', 'POST', `/api/v1/proposals/${proposal.proposalId}/approve`, {});
    expect([own.status, own.json.error.code]).toEqual([403, 'APPROVAL.SELF_APPROVAL']);
    expect((await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).balance).toBe(before.balance);

    const approved = await as('operatorB', 'POST', `/api/v1/proposals/${proposal.proposalId}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ status: 'EXECUTED', decidedBy: 'operatorB' });
    expect((await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).balance).toBe(new Money(before.balance).plus('250000').toFixed());

    expect(await auditOf('PROPOSAL', proposal.proposalId)).toEqual([
      { action: 'PROPOSAL.CREATE', actor: 'operatorA' },
      { action: 'PROPOSAL.APPROVE', actor: 'operatorB' },
      { action: 'PROPOSAL.EXECUTED', actor: 'operatorB' },
    ]);
    expect((await auditOf('ACCOUNT', 'VOSTRO#DEUTDEFF#EUR')).filter((entry) => entry.action === 'ACCOUNT.FUND_IN')).toContainEqual({ action: 'ACCOUNT.FUND_IN', actor: 'operatorB' });
  });

  it('is posted exactly once when two operators approve at the same moment', async () => {
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const proposal = (await as('operatorA', 'POST', `/api/v1/accounts/${vostro}/fund-out`, movement('5000.00'))).json.proposal;
    const answers = await Promise.all([
      as('operatorB', 'POST', `/api/v1/proposals/${proposal.proposalId}/approve`, {}),
      as('operatorC', 'POST', `/api/v1/proposals/${proposal.proposalId}/approve`, {}),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(answers.find((answer) => answer.status === 409)!.json.error.code).toBe('APPROVAL.NOT_PENDING');
    expect((await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).balance).toBe(new Money(before.balance).minus('5000').toFixed());
  });

  it('is posted directly at or below the threshold, and by a service caller at any amount', async () => {
    expect((await as('operatorA', 'POST', `/api/v1/accounts/${vostro}/fund-in`, movement('1000.00'))).status).toBe(201);
    expect((await as('service', 'POST', `/api/v1/accounts/${vostro}/fund-in`, movement('99000.00'))).status).toBe(201);
  });
});

describe('a freeze', () => {
  it('is a proposal that a second operator may reject, leaving the account as it was', async () => {
    const proposal = (await as('operatorA', 'PUT', `/api/v1/accounts/${encodeURIComponent('VOSTRO#INGBNL2A#EUR')}/status`, { status: 'FROZEN' })).json.proposal;
    expect(proposal).toMatchObject({ action: 'FREEZE', status: 'PENDING' });
    const rejected = await as('operatorB', 'POST', `/api/v1/proposals/${proposal.proposalId}/reject`, { reason: 'not this bank' });
    expect(rejected.json).toMatchObject({ status: 'REJECTED', decidedBy: 'operatorB', note: 'not this bank' });
    expect((await engine.accounts.get('VOSTRO#INGBNL2A#EUR'))!.status).toBe('ACTIVE');
    expect((await as('operatorC', 'POST', `/api/v1/proposals/${proposal.proposalId}/approve`, {})).json.error.code).toBe('APPROVAL.NOT_PENDING');
  });

  it('expires unapproved after its time to live', async () => {
    const proposal = (await as('operatorA', 'PUT', `/api/v1/accounts/${encodeURIComponent('VOSTRO#INGBNL2A#EUR')}/status`, { status: 'FROZEN' })).json.proposal;
    clock.advance(dayMs);
    const late = await as('operatorB', 'POST', `/api/v1/proposals/${proposal.proposalId}/approve`, {});
    expect([late.status, late.json.error.code]).toEqual([422, 'APPROVAL.EXPIRED']);
    expect((await as('auditor', 'GET', `/api/v1/proposals/${proposal.proposalId}`)).json.status).toBe('EXPIRED');
    expect((await engine.accounts.get('VOSTRO#INGBNL2A#EUR'))!.status).toBe('ACTIVE');
  });
});

describe('a parked settlement', () => {
  it('is requeued by two operators: one proposes, the other approves, and the settlement runs again', async () => {
    const id = newSettlementId('mc-parked');
    engine.bank.setScenario(id, { unavailableCalls: 1_000 });
    expect((await as('service', 'POST', '/api/v1/settlements', settlementRequest({ settlementId: id }))).status).toBe(202);
    expect(await settled(engine, id)).toMatchObject({ status: 'FAILED', parked: true });
    const proposal = (await as('operatorA', 'POST', `/api/v1/settlements/${id}/requeue`, { reason: 'bank back up' })).json.proposal;
    expect(proposal).toMatchObject({ action: 'REQUEUE', target: id });
    expect((await engine.deps.settlements.get(id))!.parked).toBe(true);
    engine.bank.setScenario(id, {});
    const approved = await as('operatorB', 'POST', `/api/v1/proposals/${proposal.proposalId}/approve`, {});
    expect(approved.json).toMatchObject({ status: 'EXECUTED', outcome: { action: 'RESTARTED' } });
    expect(await settled(engine, id)).toMatchObject({ status: 'COMPLETED', attempt: 2 });
    expect((await auditOf('SETTLEMENT', id)).length + (await auditOf('PROPOSAL', proposal.proposalId)).length).toBeGreaterThanOrEqual(3);
  });
});

describe('the audit trail', () => {
  it('keeps one dense chain when appends race on a stream', async () => {
    const appends = Array.from({ length: 10 }, (_, index) =>
      engine.deps.operations!.audit.append({ action: 'TEST.RACE', entityType: 'RECONCILIATION', entityId: `race-${index}`, before: null, after: { index } }, { actor: 'race-test', at: clock.now().toISOString() }),
    );
    const entries = await Promise.all(appends);
    const seqs = entries.map((entry) => entry.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(10);
    expect(seqs[9] - seqs[0]).toBe(9);
  });

  it('lists by period filtered by entity type and actor', async () => {
    const listing = await as('auditor', 'GET', `/api/v1/audit?from=${encodeURIComponent(startedAt)}&to=${encodeURIComponent(new Date(Date.now() + 2 * dayMs).toISOString())}&actor=operatorB&entityType=PROPOSAL&limit=200`);
    expect(listing.status).toBe(200);
    expect(listing.json.items.length).toBeGreaterThanOrEqual(3);
    expect(listing.json.items.every((entry: ChainedAuditEntry) => entry.actor === 'operatorB' && entry.entityType === 'PROPOSAL')).toBe(true);
  });

  it('exports a period as JSON lines and CSV that verify, and names the entry whose byte was changed', async () => {
    const period = `from=${encodeURIComponent(startedAt)}&to=${encodeURIComponent(new Date(Date.now() + 2 * dayMs).toISOString())}`;
    const exported = await as('auditor', 'GET', `/api/v1/audit/export?${period}`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = exported.text.trim().split('\n');
    expect(lines.length).toBeGreaterThan(20);
    const entries = lines.map((line) => JSON.parse(line) as ChainedAuditEntry);
    expect(verifyAuditChain(entries).problems).toEqual([]);

    const victim = entries.findIndex((entry) => entry.action === 'ACCOUNT.FUND_IN');
    const tampered = lines.map((line, index) => (index === victim ? line.replace('"actor":"operatorB"', '"actor":"operatorX"') : line));
    expect(tampered[victim]).not.toBe(lines[victim]);
    const problems = verifyAuditChain(tampered.map((line) => JSON.parse(line) as ChainedAuditEntry)).problems;
    expect(problems).toEqual([expect.objectContaining({ auditId: entries[victim].auditId, problem: 'changed' })]);

    const csv = await as('auditor', 'GET', `/api/v1/audit/export?${period}&format=csv`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.text.split('\n')[0]).toBe('stream,seq,prevHash,hash,auditId,at,actor,action,entityType,entityId,before,after,detail');
    expect(verifyAuditExport(csv.text)).toMatchObject({ entries: entries.length, problems: [], unreadable: [] });

    // The CLI on files: the export verifies; one byte changed in one CSV row (an amount in its snapshot) is named.
    const directory = mkdtempSync(join(tmpdir(), 'audit-'));
    writeFileSync(join(directory, 'export.jsonl'), exported.text);
    const csvLines = csv.text.split('\n');
    const row = csvLines.findIndex((line) => line.includes('ACCOUNT.FUND_IN') && line.includes('250000.00'));
    csvLines[row] = csvLines[row].replace('250000.00', '250000.01');
    writeFileSync(join(directory, 'tampered.csv'), csvLines.join('\n'));
    const cli = (file: string) => spawnSync(process.execPath, [require.resolve('tsx/cli'), 'bin/audit.ts', 'verify', join(directory, file)], { encoding: 'utf8' });
    const good = cli('export.jsonl');
    expect([good.status, good.stdout]).toEqual([0, expect.stringMatching(/^verified: \d+ entries/)]);
    const bad = cli('tampered.csv');
    const changedId = csvLines[row].split('","')[4];
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`changed: ACCOUNT #`);
    expect(bad.stdout).toContain(`(${changedId}) does not match its hash`);
  });
});
