import { ValidationError } from '../../../lambdas/domain/errors';
import { alwaysOpenWindow, evaluateWindow, parseSettlementWindow, type SettlementWindow } from '../../../lambdas/domain/window';
import { parseSettlementWindowMode } from '../../../lambdas/domain/window-defaults';
import { calendarWindows, seedWindowsFor } from '../../../lambdas/local/window-calendar';

const eur: SettlementWindow = parseSettlementWindow({
  currency: 'EUR',
  timeZone: 'Europe/Berlin',
  days: ['MON', 'TUE', 'WED', 'THU', 'FRI'],
  opensAt: '07:00',
  cutoffAt: '18:00',
  holidays: ['2025-04-18', '2025-04-21', '2025-12-25', '2025-12-26'],
  emergencyClose: null,
});
const usd: SettlementWindow = parseSettlementWindow({ currency: 'USD', timeZone: 'America/New_York', days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], opensAt: '09:00', cutoffAt: '18:00' });

const at = (iso: string) => new Date(iso);

describe('evaluateWindow', () => {
  it('is open between opening and cut-off on a settlement day, and says when it closes', () => {
    expect(evaluateWindow(eur, at('2025-03-12T10:00:00Z'))).toEqual({ open: true, closesAt: '2025-03-12T18:00:00+01:00' });
  });

  it('closes at the cut-off exactly (the cut-off is exclusive) and names the next opening', () => {
    expect(evaluateWindow(eur, at('2025-03-12T17:00:00Z'))).toEqual({ open: false, code: 'AFTER_CUTOFF', reason: 'EUR cut-off 18:00 Europe/Berlin has passed', nextOpening: '2025-03-13T07:00:00+01:00' });
    expect(evaluateWindow(eur, at('2025-03-12T16:59:59.999Z')).open).toBe(true);
  });

  it('opens at the opening exactly', () => {
    expect(evaluateWindow(eur, at('2025-03-12T05:59:59Z'))).toMatchObject({ open: false, code: 'BEFORE_OPENING', nextOpening: '2025-03-12T07:00:00+01:00' });
    expect(evaluateWindow(eur, at('2025-03-12T06:00:00Z')).open).toBe(true);
  });

  it('finds the next opening across a weekend and the spring-forward DST change (Europe/Berlin, 30 March 2025)', () => {
    // Friday 28 March after cut-off (CET, +01:00); Monday 31 March opens at 07:00 CEST (+02:00), i.e. 05:00 UTC.
    const evaluation = evaluateWindow(eur, at('2025-03-28T17:30:00Z'));
    expect(evaluation).toEqual({ open: false, code: 'AFTER_CUTOFF', reason: 'EUR cut-off 18:00 Europe/Berlin has passed', nextOpening: '2025-03-31T07:00:00+02:00' });
    expect(new Date((evaluation as { nextOpening: string }).nextOpening).toISOString()).toBe('2025-03-31T05:00:00.000Z');
    expect(evaluateWindow(eur, at('2025-03-31T04:59:59Z')).open).toBe(false);
    expect(evaluateWindow(eur, at('2025-03-31T05:00:00Z')).open).toBe(true);
  });

  it('keeps the local opening time across the fall-back DST change (America/New_York, 2 November 2025)', () => {
    // Friday 31 October 09:00 EDT = 13:00 UTC; Monday 3 November 09:00 EST = 14:00 UTC.
    expect(evaluateWindow(usd, at('2025-10-31T13:00:00Z')).open).toBe(true);
    const evaluation = evaluateWindow(usd, at('2025-11-01T15:00:00Z'));
    expect(evaluation).toMatchObject({ open: false, code: 'CLOSED_DAY', reason: 'USD does not settle on SAT', nextOpening: '2025-11-03T09:00:00-05:00' });
    expect(evaluateWindow(usd, at('2025-11-03T13:30:00Z')).open).toBe(false);
    expect(evaluateWindow(usd, at('2025-11-03T14:00:00Z')).open).toBe(true);
  });

  it('skips holidays: Maundy Thursday after cut-off opens on the Tuesday after Easter', () => {
    expect(evaluateWindow(eur, at('2025-04-17T16:30:00Z'))).toMatchObject({ open: false, code: 'AFTER_CUTOFF', nextOpening: '2025-04-22T07:00:00+02:00' });
    expect(evaluateWindow(eur, at('2025-04-18T10:00:00Z'))).toEqual({ open: false, code: 'HOLIDAY', reason: '2025-04-18 is a EUR settlement holiday', nextOpening: '2025-04-22T07:00:00+02:00' });
  });

  it('judges the day in the window\'s own time zone, not in UTC', () => {
    // 23:30 UTC on Friday is already Saturday in Berlin.
    expect(evaluateWindow(eur, at('2025-03-14T23:30:00Z'))).toMatchObject({ code: 'CLOSED_DAY', reason: 'EUR does not settle on SAT' });
  });

  it('stays closed with no next opening under an emergency close', () => {
    const closed = { ...eur, emergencyClose: { reason: 'TARGET2 incident 4711' } };
    expect(evaluateWindow(closed, at('2025-03-12T10:00:00Z'))).toEqual({ open: false, code: 'EMERGENCY_CLOSE', reason: 'emergency close: TARGET2 incident 4711' });
  });

  it('searches up to a year and a day ahead for the next opening, and reports none beyond', () => {
    const mondays = (weeks: number) => Array.from({ length: weeks }, (_, week) => new Date(Date.UTC(2025, 2, 17 + 7 * week)).toISOString().slice(0, 10));
    const mondaysOnly = { ...eur, days: ['MON' as const] };
    // 50 Monday holidays: the next opening is Monday 2 March 2026, 356 days ahead.
    expect(evaluateWindow({ ...mondaysOnly, holidays: mondays(50) }, at('2025-03-11T10:00:00Z'))).toMatchObject({ code: 'CLOSED_DAY', nextOpening: '2026-03-02T07:00:00+01:00' });
    // 60 Monday holidays push it beyond 366 days: closed, no next opening.
    const evaluation = evaluateWindow({ ...mondaysOnly, holidays: mondays(60) }, at('2025-03-11T10:00:00Z'));
    expect(evaluation).toEqual({ open: false, code: 'CLOSED_DAY', reason: 'EUR does not settle on TUE; no opening within 366 days' });
  });

  it('is always open in always-open mode, every day and hour including DST nights', () => {
    const window = alwaysOpenWindow('EUR');
    for (const instant of ['2025-03-30T01:30:00Z', '2025-10-26T00:59:59Z', '2025-12-25T23:59:59Z', '2025-03-15T00:00:00Z']) {
      expect(evaluateWindow(window, at(instant)).open).toBe(true);
    }
  });

  it('moves a local opening inside the spring-forward gap to after the gap', () => {
    const night = parseSettlementWindow({ currency: 'EUR', timeZone: 'Europe/Berlin', days: ['SUN'], opensAt: '02:30', cutoffAt: '05:00' });
    // 02:30 does not exist on 30 March 2025 in Berlin: the window opens at 03:30 CEST (01:30 UTC).
    expect(evaluateWindow(night, at('2025-03-30T00:45:00Z'))).toMatchObject({ open: false, code: 'BEFORE_OPENING', nextOpening: '2025-03-30T03:30:00+02:00' });
  });

  it('resolves a local time that occurs twice (fall-back) to the later instant (standard time)', () => {
    const night = parseSettlementWindow({ currency: 'EUR', timeZone: 'Europe/Berlin', days: ['SUN'], opensAt: '02:30', cutoffAt: '05:00' });
    expect(evaluateWindow(night, at('2025-10-26T00:00:00Z'))).toMatchObject({ open: false, nextOpening: '2025-10-26T02:30:00+01:00' });
  });
});

describe('parseSettlementWindow', () => {
  const valid = { currency: 'GBP', timeZone: 'Europe/London', days: ['MON'], opensAt: '06:00', cutoffAt: '18:00' };
  const fieldOf = (input: unknown): string => {
    try {
      parseSettlementWindow(input);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).field;
    }
    throw new Error('expected a ValidationError');
  };

  it('accepts a minimal window and fills the defaults', () => {
    expect(parseSettlementWindow(valid)).toEqual({ ...valid, holidays: [], emergencyClose: null });
  });

  it.each([
    ['not an object', [], 'window'],
    ['an unknown field', { ...valid, cutoff: '18:00' }, 'window.cutoff'],
    ['a bad currency', { ...valid, currency: 'XXX' }, 'window.currency'],
    ['a fixed offset instead of a zone', { ...valid, timeZone: '+01:00' }, 'window.timeZone'],
    ['an unknown zone', { ...valid, timeZone: 'Europe/Atlantis' }, 'window.timeZone'],
    ['no days', { ...valid, days: [] }, 'window.days'],
    ['a bad day', { ...valid, days: ['MON', 'Friday'] }, 'window.days[1]'],
    ['a repeated day', { ...valid, days: ['MON', 'MON'] }, 'window.days'],
    ['a bad opening time', { ...valid, opensAt: '7:00' }, 'window.opensAt'],
    ['an opening at 24:00', { ...valid, opensAt: '24:00' }, 'window.opensAt'],
    ['a cut-off before the opening', { ...valid, cutoffAt: '05:00' }, 'window.cutoffAt'],
    ['a bad holiday', { ...valid, holidays: ['2025-02-30'] }, 'window.holidays[0]'],
    ['an emergency close without reason', { ...valid, emergencyClose: { since: '2025-01-01T00:00:00Z' } }, 'window.emergencyClose.reason'],
  ])('refuses %s, naming the field', (_, input, field) => {
    expect(fieldOf(input)).toBe(field);
  });

  it('sorts and de-duplicates holidays and orders days canonically', () => {
    expect(parseSettlementWindow({ ...valid, days: ['FRI', 'MON'], holidays: ['2025-12-26', '2025-12-25', '2025-12-26'] })).toMatchObject({ days: ['MON', 'FRI'], holidays: ['2025-12-25', '2025-12-26'] });
  });
});

describe('default windows', () => {
  it('loads a valid calendar for each demo currency from config/windows.json', () => {
    expect(calendarWindows().map((window) => window.currency)).toEqual(['EUR', 'USD', 'GBP', 'JPY', 'CHF']);
  });

  it('defaults to always open, and seeds the calendars with SETTLEMENT_WINDOWS=calendar', () => {
    expect(parseSettlementWindowMode(undefined)).toBe('always-open');
    expect(seedWindowsFor(parseSettlementWindowMode('always-open')).every((window) => window.cutoffAt === '24:00' && window.days.length === 7)).toBe(true);
    expect(seedWindowsFor(parseSettlementWindowMode('calendar'))[0]).toMatchObject({ currency: 'EUR', timeZone: 'Europe/Berlin' });
    expect(() => parseSettlementWindowMode('sometimes')).toThrow(ValidationError);
  });

  it('keeps the EUR calendar closed on TARGET holidays (Christmas 2025)', () => {
    const eurCalendar = calendarWindows()[0];
    expect(evaluateWindow(eurCalendar, at('2025-12-24T16:00:00Z'))).toMatchObject({ open: true });
    expect(evaluateWindow(eurCalendar, at('2025-12-25T10:00:00Z'))).toMatchObject({ code: 'HOLIDAY', nextOpening: '2025-12-29T07:00:00+01:00' });
  });
});
