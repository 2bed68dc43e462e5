/**
 * Banks and accounts through the REST admin routes against the embedded stack: registration, opening, fund
 * movements with their guards, freeze (and its effect on settlements), close, and the audit trail.
 */
import { balances, http, newSettlementId, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { bookViolations } from '../../support/invariants';

let engine: TestEngine;

beforeAll(async () => {
  engine = await startTestEngine();
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

const path = (accountId: string, suffix = '') => `/api/v1/accounts/${encodeURIComponent(accountId)}${suffix}`;
const movementId = () => newSettlementId('mov');

describe('banks', () => {
  it('registers a bank once: a repeat is "exists", a different name for the BIC is a conflict', async () => {
    const bank = { bic: 'RABONL2U', name: 'Rabobank', country: 'NL' };
    expect(await http(engine, 'POST', '/api/v1/banks', bank)).toMatchObject({ status: 201, json: { ...bank, status: 'ACTIVE' } });
    expect(await http(engine, 'POST', '/api/v1/banks', bank)).toMatchObject({ status: 200, json: { bic: 'RABONL2U' } });
    expect(await http(engine, 'POST', '/api/v1/banks', { ...bank, name: 'Other' })).toMatchObject({ status: 409, json: { error: { code: 'BANK.CONFLICT' } } });
    expect(await http(engine, 'POST', '/api/v1/banks', { ...bank, bic: 'RABONL2', country: 'NL' })).toMatchObject({ status: 400, json: { error: { code: 'VALIDATION.INVALID_FIELD', field: 'bic' } } });
    expect(await http(engine, 'GET', '/api/v1/banks/RABONL2U')).toMatchObject({ status: 200, json: { name: 'Rabobank' } });
    const list = await http(engine, 'GET', '/api/v1/banks?limit=200');
    expect(list.json.items.map((item: { bic: string }) => item.bic)).toContain('RABONL2U');
  });

  it('refuses an account at a suspended bank', async () => {
    await http(engine, 'POST', '/api/v1/banks', { bic: 'SOGEFRPP', name: 'Societe Generale', country: 'FR' });
    expect(await http(engine, 'PUT', '/api/v1/banks/SOGEFRPP/status', { status: 'SUSPENDED' })).toMatchObject({ status: 200, json: { status: 'SUSPENDED' } });
    const opened = await http(engine, 'POST', '/api/v1/accounts', { accountType: 'VOSTRO', bic: 'SOGEFRPP', currency: 'EUR' });
    expect(opened).toMatchObject({ status: 422, json: { error: { code: 'BANK.NOT_ACTIVE' } } });
  });
});

describe('accounts', () => {
  const vostro = 'VOSTRO#COBADEFF#EUR';

  beforeAll(async () => {
    await http(engine, 'POST', '/api/v1/banks', { bic: 'COBADEFF', name: 'Commerzbank', country: 'DE' });
  });

  it('opens a vostro once per bank and currency', async () => {
    expect(await http(engine, 'POST', '/api/v1/accounts', { accountType: 'VOSTRO', bic: 'COBADEFF', currency: 'EUR', floor: '100.00' })).toMatchObject({ status: 400, json: { error: { field: 'floor' } } });
    const opened = await http(engine, 'POST', '/api/v1/accounts', { accountType: 'VOSTRO', bic: 'COBADEFF', currency: 'EUR' });
    expect(opened).toMatchObject({ status: 201, json: { accountId: vostro, balance: '0.00', floor: '0.00', status: 'ACTIVE' } });
    expect(opened.headers.get('location')).toBe(path(vostro));
    expect(await http(engine, 'POST', '/api/v1/accounts', { accountType: 'VOSTRO', bic: 'COBADEFF', currency: 'EUR' })).toMatchObject({ status: 409, json: { error: { code: 'ACCOUNT.CONFLICT' } } });
    expect(await http(engine, 'POST', '/api/v1/accounts', { accountType: 'VOSTRO', bic: 'NOSUCHXX', currency: 'EUR' })).toMatchObject({ status: 404, json: { error: { code: 'BANK.NOT_FOUND' } } });
  });

  it('funds in as a ledger-posted movement, idempotent on the movement id', async () => {
    const body = { movementId: movementId(), amount: '5000.00', reference: 'Prefunding March' };
    const first = await http(engine, 'POST', path(vostro, '/fund-in'), body);
    expect(first).toMatchObject({ status: 201, json: { movement: { direction: 'FUND_IN', amount: '5000.00', balanceAfter: '5000.00' }, account: { balance: '5000.00', available: '5000.00' } } });
    expect(await http(engine, 'POST', path(vostro, '/fund-in'), body)).toMatchObject({ status: 200, json: { movement: { balanceAfter: '5000.00' } } });
    expect(await http(engine, 'POST', path(vostro, '/fund-in'), { ...body, amount: '6000.00' })).toMatchObject({ status: 409, json: { error: { code: 'ACCOUNT.CONFLICT' } } });
    expect(await balances(engine, 'VOSTRO', 'COBADEFF', 'EUR')).toEqual({ balance: '5000', locked: '0', available: '5000' });
    expect(await http(engine, 'PUT', path(vostro, '/floor'), { floor: '5000.01' })).toMatchObject({ status: 409 });
    expect(await http(engine, 'PUT', path(vostro, '/floor'), { floor: '100.00' })).toMatchObject({ status: 200, json: { floor: '100.00' } });
  });

  it('refuses a fund-out beyond available (or below the floor) and leaves the balance untouched', async () => {
    const beyond = await http(engine, 'POST', path(vostro, '/fund-out'), { movementId: movementId(), amount: '5000.01' });
    expect(beyond).toMatchObject({ status: 422, json: { error: { code: 'SETTLEMENT.INSUFFICIENT_FUNDS' } } });
    // Floor 100.00: 4900.01 would leave 99.99.
    expect(await http(engine, 'POST', path(vostro, '/fund-out'), { movementId: movementId(), amount: '4900.01' })).toMatchObject({ status: 422 });
    expect(await balances(engine, 'VOSTRO', 'COBADEFF', 'EUR')).toEqual({ balance: '5000', locked: '0', available: '5000' });
    expect(await http(engine, 'POST', path(vostro, '/fund-out'), { movementId: movementId(), amount: '4900.00' })).toMatchObject({ status: 201, json: { account: { balance: '100.00' } } });
    expect(await http(engine, 'POST', path(vostro, '/fund-out'), { movementId: movementId(), amount: '1.001' })).toMatchObject({ status: 400, json: { error: { field: 'amount' } } });
  });

  it('refuses to close an account with a balance, and closes it once emptied', async () => {
    expect(await http(engine, 'PUT', path(vostro, '/status'), { status: 'CLOSED' })).toMatchObject({ status: 409, json: { error: { code: 'ACCOUNT.CONFLICT', message: expect.stringContaining('has a balance of 100.00 EUR') } } });
    await http(engine, 'PUT', path(vostro, '/floor'), { floor: '0' });
    expect(await http(engine, 'POST', path(vostro, '/fund-out'), { movementId: movementId(), amount: '100.00' })).toMatchObject({ status: 201 });
    expect(await http(engine, 'PUT', path(vostro, '/status'), { status: 'CLOSED' })).toMatchObject({ status: 200, json: { status: 'CLOSED', balance: '0.00' } });
    expect(await http(engine, 'POST', path(vostro, '/fund-in'), { movementId: movementId(), amount: '1.00' })).toMatchObject({ status: 422, json: { error: { code: 'ACCOUNT.NOT_ACTIVE' } } });
  });

  it('keeps an audit entry of every change, with who, what, when, before and after', async () => {
    const audit = await http(engine, 'GET', `/api/v1/audit?entityType=ACCOUNT&entityId=${encodeURIComponent(vostro)}`);
    expect(audit.status).toBe(200);
    const actions = audit.json.items.map((entry: { action: string }) => entry.action).reverse();
    expect(actions).toEqual(['ACCOUNT.OPEN', 'ACCOUNT.FUND_IN', 'ACCOUNT.SET_FLOOR', 'ACCOUNT.FUND_OUT', 'ACCOUNT.SET_FLOOR', 'ACCOUNT.FUND_OUT', 'ACCOUNT.CLOSE']);
    const fundIn = audit.json.items.find((entry: { action: string }) => entry.action === 'ACCOUNT.FUND_IN');
    expect(fundIn).toMatchObject({ actor: 'anonymous', entityType: 'ACCOUNT', before: { balance: '0.00', status: 'ACTIVE' }, after: { balance: '5000.00' } });
    expect(Date.parse(fundIn.at)).not.toBeNaN();
    const day = await http(engine, 'GET', `/api/v1/audit?day=${fundIn.at.slice(0, 10)}&limit=200`);
    expect(day.json.items.some((entry: { auditId: string }) => entry.auditId === fundIn.auditId)).toBe(true);
  });
});

describe('a frozen account', () => {
  it('refuses a new settlement with ACCOUNT.NOT_ACTIVE, and accepts again once unfrozen', async () => {
    const payer = 'VOSTRO#INGBNL2A#EUR';
    expect(await http(engine, 'PUT', path(payer, '/status'), { status: 'FROZEN' })).toMatchObject({ status: 200, json: { status: 'FROZEN' } });
    const refused = settlementRequest({ payerBic: 'INGBNL2A' });
    expect((await http(engine, 'POST', '/api/v1/settlements', refused)).status).toBe(202);
    const view = await settled(engine, String(refused.settlementId));
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'ACCOUNT.NOT_ACTIVE', retryable: false });
    expect(await http(engine, 'POST', path(payer, '/fund-out'), { movementId: movementId(), amount: '1.00' })).toMatchObject({ status: 422, json: { error: { code: 'ACCOUNT.NOT_ACTIVE' } } });

    expect(await http(engine, 'PUT', path(payer, '/status'), { status: 'ACTIVE' })).toMatchObject({ status: 200, json: { status: 'ACTIVE' } });
    const accepted = settlementRequest({ payerBic: 'INGBNL2A' });
    await http(engine, 'POST', '/api/v1/settlements', accepted);
    expect(await settled(engine, String(accepted.settlementId))).toMatchObject({ status: 'COMPLETED' });
  });
});
