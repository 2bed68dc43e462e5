/**
 * Reconciliation on the embedded stack: settlements run through the real workflow, the mock bank produces the
 * nostro's statement from its own record, and runs go through the REST routes and the scheduled job handler.
 */
import type { Context } from 'aws-lambda';
import { createReconcileJob } from '../../../lambdas/handlers/reconcile-job';
import { noMetrics, type MetricsPort } from '../../../lambdas/ports';
import { operationsOf } from '../../../lambdas/usecases/operations/deps';
import { reconcileAccounts } from '../../../lambdas/usecases/operations/reconcile';
import { parseSettlementRequest } from '../../../lambdas/domain/settlement';
import { lockFunds, validate } from '../../../lambdas/usecases/stages';
import { beginRollback, markFailed, releaseLocks } from '../../../lambdas/usecases/rollback';
import { http, settled, settlementRequest, startTestEngine, type TestEngine, SettableClock } from '../../support/engine';
import { bookViolations } from '../../support/invariants';

const nostro = 'NOSTRO#BNPAFRPP#EUR';
const periodFrom = '2025-03-12T09:00:00.000Z';
const clock = new SettableClock();
const discrepanciesCounted: number[] = [];
const metrics: MetricsPort = { ...noMetrics, reconciliationDiscrepancies: (count) => void discrepanciesCounted.push(count) };
let engine: TestEngine;
const ids: string[] = [];

beforeAll(async () => {
  clock.set('2025-03-12T10:00:00Z');
  engine = await startTestEngine({ clock, metrics });
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  engine.bank.statementBook.clearInjected();
  expect(await bookViolations(engine)).toEqual([]);
});

async function completeSettlements(count: number, amount = '1250.00'): Promise<string[]> {
  const created: string[] = [];
  for (let index = 0; index < count; index++) {
    const request = settlementRequest({ payeeBic: 'BNPAFRPP', amount, valueDate: '2025-03-12' });
    expect((await http(engine, 'POST', '/api/v1/settlements', request)).status).toBe(202);
    expect(await settled(engine, String(request.settlementId))).toMatchObject({ status: 'COMPLETED' });
    created.push(String(request.settlementId));
  }
  ids.push(...created);
  return created;
}

const reconcileNow = (accountId = nostro) => http(engine, 'POST', '/api/v1/reconciliations', { accountId, from: periodFrom, to: clock.now().toISOString() });

describe('reconciliation through REST', () => {
  it('reconciles a clean period to zero discrepancies, persisted and retrievable', async () => {
    await completeSettlements(3);
    const response = await reconcileNow();
    expect(response.status).toBe(201);
    expect(response.json).toMatchObject({
      accountId: nostro,
      status: 'COMPLETED',
      trigger: 'API',
      summary: {
        discrepancyCount: 0,
        ledgerEntryCount: 3,
        bankEntryCount: 3,
        matched: { count: 3, total: '-3750.00' },
        balances: { bankOpening: '20000000.00', ledgerOpening: '20000000.00', bankClosing: '19996250.00', ledgerClosing: '19996250.00', closingDifference: '0.00' },
      },
    });
    const location = response.headers.get('location');
    expect(location).toBe(`/api/v1/reconciliations/${response.json.reportId}`);
    const stored = await http(engine, 'GET', String(location));
    expect(stored).toMatchObject({ status: 200, json: { reportId: response.json.reportId, status: 'COMPLETED', summary: { discrepancyCount: 0 }, discrepancies: { items: [] } } });
    const listed = await http(engine, 'GET', `/api/v1/reconciliations?accountId=${encodeURIComponent(nostro)}`);
    expect(listed.json.items[0]).toMatchObject({ reportId: response.json.reportId });
    expect(discrepanciesCounted.at(-1)).toBe(0);
  });

  it('reports injected discrepancies with exact counts and totals, and counts them in the metric', async () => {
    const [dropped, changedAmount, changedDate] = await completeSettlements(3);
    const book = engine.bank.statementBook;
    book.inject({ kind: 'dropEntry', endToEndId: dropped });
    book.inject({ kind: 'amount', endToEndId: changedAmount, amount: '-1300.00' });
    book.inject({ kind: 'valueDate', endToEndId: changedDate, valueDate: '2025-03-13' });
    book.inject({ kind: 'extraEntry', accountId: nostro, entry: { entryReference: 'FEE-1', endToEndId: 'NOTPROVIDED', amount: '-25.00', bookingDate: '2025-03-12', valueDate: '2025-03-12', bookedAt: clock.now().toISOString() } });
    book.inject({ kind: 'closingBalance', accountId: nostro, delta: '0.05' });
    const response = await reconcileNow();
    expect(response.status).toBe(201);
    expect(response.json.summary.discrepancies).toEqual({
      MISSING_AT_BANK: { count: 1, total: '-1250.00', grossTotal: '1250.00' },
      MISSING_IN_LEDGER: { count: 1, total: '-25.00', grossTotal: '25.00' },
      AMOUNT_MISMATCH: { count: 1, total: '-50.00', grossTotal: '50.00' },
      VALUE_DATE_MISMATCH: { count: 1, total: '-1250.00', grossTotal: '1250.00' },
      CLOSING_BALANCE_MISMATCH: { count: 1, total: '0.05', grossTotal: '0.05' },
      STALE_LOCK: { count: 0, total: '0.00', grossTotal: '0.00' },
    });
    expect(response.json.summary).toMatchObject({ discrepancyCount: 5, matched: { count: 3 }, balances: { statementInconsistency: '0.05', unexplainedDifference: '0.05' } });
    const stored = await http(engine, 'GET', `/api/v1/reconciliations/${response.json.reportId}?limit=2`);
    expect(stored.json.discrepancies.items).toHaveLength(2);
    const rest = await http(engine, 'GET', `/api/v1/reconciliations/${response.json.reportId}?limit=10&cursor=${stored.json.discrepancies.nextCursor}`);
    const kinds = [...stored.json.discrepancies.items, ...rest.json.discrepancies.items].map((item: { kind: string }) => item.kind).sort();
    expect(kinds).toEqual(['AMOUNT_MISMATCH', 'CLOSING_BALANCE_MISMATCH', 'MISSING_AT_BANK', 'MISSING_IN_LEDGER', 'VALUE_DATE_MISMATCH']);
    expect(discrepanciesCounted.at(-1)).toBe(5);
  });

  it('never runs two reconciliations of the same account and period at once', async () => {
    const to = clock.now().toISOString();
    const ops = operationsOf(engine.deps);
    const held = { accountId: nostro, from: periodFrom, to, reportId: '00000000-0000-4000-8000-000000000000' };
    expect(await ops.reconciliations.acquireRunLock({ ...held, now: clock.now().toISOString(), lockedUntil: new Date(clock.now().getTime() + 60_000).toISOString() })).toEqual({ acquired: true });
    const refused = await http(engine, 'POST', '/api/v1/reconciliations', { accountId: nostro, from: periodFrom, to });
    expect(refused).toMatchObject({ status: 409, json: { error: { code: 'RECONCILIATION.IN_PROGRESS' } } });
    await ops.reconciliations.releaseRunLock(held);
    expect((await http(engine, 'POST', '/api/v1/reconciliations', { accountId: nostro, from: periodFrom, to })).status).toBe(201);
  });

  it('refuses what cannot be reconciled', async () => {
    expect(await reconcileNow('VOSTRO#DEUTDEFF#EUR')).toMatchObject({ status: 400, json: { error: { field: 'accountId' } } });
    expect(await reconcileNow('NOSTRO#NOSUCHXX#EUR')).toMatchObject({ status: 404, json: { error: { code: 'ACCOUNT.NOT_FOUND' } } });
    expect(await http(engine, 'POST', '/api/v1/reconciliations', { accountId: nostro, from: periodFrom, to: '2099-01-01T00:00:00Z' })).toMatchObject({ status: 400, json: { error: { field: 'to' } } });
    expect(await http(engine, 'GET', '/api/v1/reconciliations/00000000-0000-4000-8000-000000000001')).toMatchObject({ status: 404, json: { error: { code: 'RECONCILIATION.NOT_FOUND' } } });
  });
});

describe('the scheduled job', () => {
  it('reconciles every nostro for the previous complete period with the same handler as on AWS', async () => {
    clock.set('2025-03-12T12:30:00Z');
    const report = await createReconcileJob(() => engine.deps)({}, {} as Context);
    expect(report.period).toEqual({ from: '2025-03-12T06:00:00.000Z', to: '2025-03-12T11:59:59.999Z' });
    expect(report.runs.length).toBeGreaterThanOrEqual(6);
    expect(report.runs.every((run) => run.outcome === 'COMPLETED' && run.discrepancyCount === 0)).toBe(true);
    const active = report.runs.find((run) => run.accountId === nostro);
    const stored = await http(engine, 'GET', `/api/v1/reconciliations/${active?.reportId}`);
    expect(stored.json).toMatchObject({ trigger: 'SCHEDULE', summary: { matched: { count: ids.length } } });
  });
});

describe('ReconcileAccounts (the gRPC binding)', () => {
  it('reconciles the nostros matching the filters and adds up their counts', async () => {
    const ops = operationsOf(engine.deps);
    const batch = await reconcileAccounts(ops, { bic: 'BNPAFRPP', currency: 'EUR', periodStart: periodFrom, periodEnd: clock.now().toISOString() });
    expect(batch).toMatchObject({ status: 'COMPLETED', accounts: 1, totals: { matched: ids.length, discrepancyCount: 0 } });
    expect(batch.reportId).toBe(batch.reportIds[0]);
    const all = await reconcileAccounts(ops, { currency: 'EUR', periodStart: periodFrom, periodEnd: clock.now().toISOString() });
    expect(all.accounts).toBe(2);
    expect(all.reportId).toBe('');
    await expect(reconcileAccounts(ops, { accountType: 'VOSTRO' })).rejects.toMatchObject({ code: 'VALIDATION.INVALID_FIELD', field: 'accountType' });
  });
});

describe('an account\'s pending locks (the keys-only pendingLocks index, records read by key)', () => {
  it('lists a pending lock on both of its legs with the settlement\'s status, and on no other account', async () => {
    const request = parseSettlementRequest(settlementRequest({ payeeBic: 'BNPAFRPP', amount: '12.34', valueDate: '2025-03-12' }));
    const input = { settlementId: request.settlementId };
    await engine.deps.settlements.create(request, clock.now().toISOString());
    await validate(engine.deps, input);
    await lockFunds(engine.deps, input);
    const ledger = operationsOf(engine.deps).ledger;
    const locksOn = async (accountId: string) => {
      const found = [];
      for await (const lock of ledger.pendingLocks(accountId)) if (lock.settlementId === request.settlementId) found.push(lock);
      return found;
    };
    const expected = { settlementId: request.settlementId, amount: '12.34', currency: 'EUR', settlementStatus: 'LOCKED', expiresAt: expect.any(String) };
    expect(await locksOn(nostro)).toEqual([{ ...expected, accountId: nostro }]);
    expect(await locksOn('VOSTRO#DEUTDEFF#EUR')).toEqual([{ ...expected, accountId: 'VOSTRO#DEUTDEFF#EUR' }]);
    expect(await locksOn('NOSTRO#DEUTDEFF#EUR')).toEqual([]);
    // Rolled back: the lock ends and leaves the index, so later runs see no stale lock.
    await beginRollback(engine.deps, { ...input, error: { Error: 'BankRejectedError', Cause: 'test' } });
    await releaseLocks(engine.deps, input);
    await markFailed(engine.deps, input);
    expect(await locksOn(nostro)).toEqual([]);
  });
});
