/**
 * The statement inbox on the embedded stack: a camt.053 uploaded through REST is checked, stored idempotently, and
 * reconciled by the scheduled job handler; the report names the statement. Hostile and malformed files are refused
 * with a clear error and nothing is stored.
 */
import type { Context } from 'aws-lambda';
import { buildCamt053 } from '../../../lambdas/adapters/banks/iso20022/messages';
import { Money } from '../../../lambdas/domain/money';
import { createReconcileJob } from '../../../lambdas/handlers/reconcile-job';
import { operationsOf } from '../../../lambdas/usecases/operations/deps';
import { http, settled, settlementRequest, startTestEngine, type TestEngine, SettableClock } from '../../support/engine';

const nostro = 'NOSTRO#BNPAFRPP#EUR';
const periodFrom = '2025-03-12T09:00:00.000Z';
const clock = new SettableClock();
let engine: TestEngine;
const payouts: Array<{ settlementId: string; amount: string }> = [];

beforeAll(async () => {
  clock.set('2025-03-12T10:00:00Z');
  engine = await startTestEngine({ clock });
  for (const amount of ['1250.00', '310.50', '42.00']) {
    const request = settlementRequest({ payeeBic: 'BNPAFRPP', amount, valueDate: '2025-03-12' });
    const submitted = await http(engine, 'POST', '/api/v1/settlements', request);
    expect({ status: submitted.status, error: submitted.json?.error }).toEqual({ status: 202, error: undefined });
    expect(await settled(engine, String(request.settlementId))).toMatchObject({ status: 'COMPLETED' });
    payouts.push({ settlementId: String(request.settlementId), amount });
  }
});

afterAll(async () => {
  await engine.stop();
});

/** The bank's statement of the nostro for the morning, as the payouts were booked. */
function statementXml(statementId: string, entries: ReadonlyArray<{ settlementId: string; amount: string }>): string {
  const opening = new Money('20000000.00');
  const closing = entries.reduce((sum, entry) => sum.minus(entry.amount), opening);
  return buildCamt053({
    messageId: `MSG-${statementId}`,
    createdAt: '2025-03-12T18:00:00.000Z',
    statementId,
    account: nostro,
    currency: 'EUR',
    servicerBic: 'BNPAFRPP',
    openingBalance: opening.toFixed(2),
    closingBalance: closing.toFixed(2),
    fromDate: '2025-03-12',
    toDate: '2025-03-12',
    entries: entries.map((entry, index) => ({ entryReference: `BNK-${index}`, amount: `-${entry.amount}`, bookingDate: '2025-03-12', valueDate: '2025-03-12', endToEndId: entry.settlementId })),
  });
}

const upload = (body: Record<string, unknown>) => http(engine, 'POST', '/api/v1/statements', { accountId: nostro, format: 'CAMT053', from: periodFrom, to: '2025-03-12T11:00:00.000Z', ...body });
const pending = async () => (await operationsOf(engine.deps).statementInbox!.listPending(100)).map((statement) => statement.statementId);

describe('the statement inbox', () => {
  it('reconciles an uploaded camt.053 with one entry removed and one amount changed into exactly one MISSING_AT_BANK and one AMOUNT_MISMATCH', async () => {
    const [kept, removed, changed] = payouts;
    const content = statementXml('STMT-A', [kept, { ...changed, amount: new Money(changed.amount).plus('1.00').toFixed(2) }]);

    const first = await upload({ content });
    const again = await upload({ content });

    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ statementId: 'STMT-A', accountId: nostro, entryCount: 2 });
    expect(again.status).toBe(200);
    const job = await createReconcileJob(() => engine.deps)({}, {} as Context);
    const run = job.statements.find((outcome) => outcome.accountId === nostro)!;
    expect(run).toMatchObject({ outcome: 'COMPLETED' });
    const report = await http(engine, 'GET', `/api/v1/reconciliations/${run.reportId}`);
    expect(report.json.statement).toEqual({ source: 'UPLOADED', statementId: 'STMT-A' });
    expect(report.json.summary.discrepancies.MISSING_AT_BANK.count).toBe(1);
    expect(report.json.summary.discrepancies.AMOUNT_MISMATCH.count).toBe(1);
    const items = report.json.discrepancies.items as Array<{ kind: string; reference: string }>;
    expect(items.filter((item) => item.kind === 'MISSING_AT_BANK').map((item) => item.reference)).toEqual([removed.settlementId]);
    expect(items.filter((item) => item.kind === 'AMOUNT_MISMATCH').map((item) => item.reference)).toEqual([changed.settlementId]);
    expect(await pending()).not.toContain('STMT-A');
  });

  it('refuses the same statement id with a different file', async () => {
    await upload({ content: statementXml('STMT-B', payouts) });

    const conflict = await upload({ content: statementXml('STMT-B', payouts.slice(1)) });

    expect(conflict.status).toBe(409);
    expect(conflict.json.error.code).toBe('STATEMENT.CONFLICT');
  });

  it.each([
    ['entity expansion', `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&b;</Document>`, /DOCTYPE/],
    ['an external entity', `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&x;</Document>`, /DOCTYPE/],
    ['malformed XML', `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt></Document>`, /not well-formed/],
    ['the wrong namespace', `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf/></Document>`, /not a camt.053/],
  ])('refuses %s with a clear error and stores nothing', async (_name, content, message) => {
    const before = await pending();

    const response = await upload({ statementId: `HOSTILE-${Date.now()}`, content });

    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe('STATEMENT.INVALID');
    expect(response.json.error.message).toMatch(message);
    expect(await pending()).toEqual(before);
  });

  it('refuses an oversized file before reading it', async () => {
    const response = await upload({ statementId: 'BIG', content: `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">${'x'.repeat(400 * 1024)}</Document>` });

    expect([400, 413]).toContain(response.status);
    expect(await pending()).not.toContain('BIG');
  });
});

describe('compliance in Validate', () => {
  it('refuses a settlement whose payee is on the sanctions list, with its code, writing the hit to the trail and locking nothing', async () => {
    const vostroBefore = await engine.accounts.get('VOSTRO#DEUTDEFF#EUR');
    // A registered participant (submission refuses unknown banks) that the sanctions list names.
    expect((await http(engine, 'POST', '/api/v1/banks', { bic: 'MELIIRTH', name: 'Bank Mellat', country: 'IR' })).status).toBe(201);
    const request = settlementRequest({ payeeBic: 'MELIIRTH', valueDate: '2025-03-12' });

    const submitted = await http(engine, 'POST', '/api/v1/settlements', request);
    expect({ status: submitted.status, error: submitted.json?.error }).toEqual({ status: 202, error: undefined });
    const view = await settled(engine, String(request.settlementId));

    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'COMPLIANCE.SANCTIONS_HIT', retryable: false });
    expect(view.reason).toContain('BANK MELLI IRAN');
    expect(view.lock).toBeUndefined();
    expect(view.checkpoints.map((checkpoint) => checkpoint.stage)).not.toContain('LockFunds');
    expect(view.checkpoints.find((checkpoint) => checkpoint.stage === 'BeginRollback')).toMatchObject({ reasonCode: 'COMPLIANCE.SANCTIONS_HIT', detail: expect.stringContaining('MELIIRTH') });
    const vostroAfter = await engine.accounts.get('VOSTRO#DEUTDEFF#EUR');
    expect({ locked: vostroAfter!.locked.toFixed(), balance: vostroAfter!.balance.toFixed() }).toEqual({ locked: vostroBefore!.locked.toFixed(), balance: vostroBefore!.balance.toFixed() });
  });

  it('refuses an amount above the currency limit before it looks at funds', async () => {
    const request = settlementRequest({ amount: '1000000000.01', valueDate: '2025-03-12' });

    const submitted = await http(engine, 'POST', '/api/v1/settlements', request);
    expect({ status: submitted.status, error: submitted.json?.error }).toEqual({ status: 202, error: undefined });

    expect(await settled(engine, String(request.settlementId))).toMatchObject({ status: 'FAILED', reasonCode: 'COMPLIANCE.AMOUNT_LIMIT_EXCEEDED' });
  });
});
