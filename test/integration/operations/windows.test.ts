/**
 * Settlement windows on the embedded stack: the Validate stage refuses outside the window with
 * SETTLEMENT.WINDOW_CLOSED and the next opening, across a DST change and a holiday; emergency close and reopen.
 * The engine runs on a clock the test sets (time advances from it in real time).
 */
import { http, settled, settlementRequest, startTestEngine, type TestEngine, SettableClock } from '../../support/engine';
import { bookViolations } from '../../support/invariants';

const clock = new SettableClock();
let engine: TestEngine;

beforeAll(async () => {
  clock.set('2025-03-26T12:00:00Z');
  // Windows read straight from the store on every Validate (no cache), so a change applies at once.
  engine = await startTestEngine({ clock, operationsLimits: { windowCacheSeconds: 1e-9 } });
  const eurCalendar = {
    timeZone: 'Europe/Berlin',
    days: ['MON', 'TUE', 'WED', 'THU', 'FRI'],
    opensAt: '07:00',
    cutoffAt: '18:00',
    holidays: ['2025-04-18', '2025-04-21'],
  };
  expect(await http(engine, 'PUT', '/api/v1/windows/EUR', eurCalendar)).toMatchObject({ status: 200, json: { window: { currency: 'EUR', timeZone: 'Europe/Berlin' } } });
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

async function submitAt(instant: string) {
  clock.set(instant);
  const request = settlementRequest({ valueDate: instant.slice(0, 10) });
  expect((await http(engine, 'POST', '/api/v1/settlements', request)).status).toBe(202);
  return settled(engine, String(request.settlementId));
}

describe('settlement windows', () => {
  it('seeds an always-open window for each demo currency by default', async () => {
    const windows = await http(engine, 'GET', '/api/v1/windows');
    const usd = windows.json.items.find((item: { window: { currency: string } }) => item.window.currency === 'USD');
    expect(usd).toMatchObject({ window: { opensAt: '00:00', cutoffAt: '24:00', days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] }, now: { open: true } });
  });

  it('accepts a settlement inside the window', async () => {
    expect(await submitAt('2025-03-26T12:00:00Z')).toMatchObject({ status: 'COMPLETED' });
  });

  it('refuses after the Friday cut-off with the next opening after the spring-forward DST change', async () => {
    const view = await submitAt('2025-03-28T17:30:00Z');
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.WINDOW_CLOSED', retryable: false });
    // Monday 31 March 07:00 in Berlin is CEST (+02:00), no longer CET.
    expect(view.reason).toContain('next opening 2025-03-31T07:00:00+02:00');
  });

  it('refuses on a holiday, naming the holiday and the first opening after Easter Monday', async () => {
    const view = await submitAt('2025-04-18T09:00:00Z');
    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.WINDOW_CLOSED' });
    expect(view.reason).toContain('2025-04-18 is a EUR settlement holiday');
    expect(view.reason).toContain('next opening 2025-04-22T07:00:00+02:00');
  });

  it('shows the window judged now', async () => {
    clock.set('2025-03-29T10:00:00Z');
    expect(await http(engine, 'GET', '/api/v1/windows/EUR')).toMatchObject({ status: 200, json: { version: 2, now: { open: false, code: 'CLOSED_DAY', nextOpening: '2025-03-31T07:00:00+02:00' } } });
  });

  it('closes at once under an emergency close and accepts again once reopened, both audited', async () => {
    clock.set('2025-03-26T12:00:00Z');
    expect(await http(engine, 'POST', '/api/v1/windows/EUR/emergency-close', { reason: 'TARGET2 incident 4711' })).toMatchObject({ status: 200, json: { now: { open: false, code: 'EMERGENCY_CLOSE' } } });
    const refused = await submitAt('2025-03-26T12:00:00Z');
    expect(refused).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.WINDOW_CLOSED' });
    expect(refused.reason).toContain('emergency close: TARGET2 incident 4711');
    expect(await http(engine, 'DELETE', '/api/v1/windows/EUR/emergency-close')).toMatchObject({ status: 200, json: { now: { open: true } } });
    expect(await submitAt('2025-03-26T12:00:00Z')).toMatchObject({ status: 'COMPLETED' });
    const audit = await http(engine, 'GET', '/api/v1/audit?entityType=WINDOW&entityId=EUR');
    // The test moves the clock back and forth, so compare the set of actions, not their time order.
    expect(audit.json.items.map((entry: { action: string }) => entry.action).sort()).toEqual(['WINDOW.EMERGENCY_CLOSE', 'WINDOW.REOPEN', 'WINDOW.REPLACE', 'WINDOW.SEED']);
    const closing = audit.json.items.find((entry: { action: string }) => entry.action === 'WINDOW.EMERGENCY_CLOSE');
    expect(closing).toMatchObject({ before: { emergencyClose: null }, after: { emergencyClose: { reason: 'TARGET2 incident 4711' } } });
  });

  it('refuses a malformed window naming the field, and a currency without a window', async () => {
    expect(await http(engine, 'PUT', '/api/v1/windows/EUR', { timeZone: 'Europe/Berlin', days: ['MON'], opensAt: '18:00', cutoffAt: '07:00' })).toMatchObject({ status: 400, json: { error: { field: 'body.cutoffAt' } } });
    expect(await http(engine, 'GET', '/api/v1/windows/SEK')).toMatchObject({ status: 404, json: { error: { code: 'WINDOW.NOT_FOUND' } } });
  });
});
