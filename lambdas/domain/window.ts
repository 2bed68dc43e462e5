/**
 * Settlement windows: per currency, the local days and hours in which settlements are accepted.
 *
 * A window is data (the reference table's WINDOW#<CCY> item, editable through the admin API), so it is parsed from
 * untrusted JSON here and evaluated with a maintained time-zone library (luxon over the platform's IANA database):
 * opening and cut-off are wall-clock times in the currency's own zone, and every instant is computed from the local
 * date, so a DST change moves the UTC instant of the opening, never the local time.
 *
 * DST edge cases (luxon's rules, pinned by tests): a local time that does not exist (spring-forward gap, e.g. 02:30
 * in Europe/Berlin on the last Sunday of March) is moved forward by the gap (03:30); a local time that occurs twice
 * (fall-back) resolves to the later of the two instants (standard time). Real windows avoid 02:00-03:00 anyway.
 */
import { checkFreeText } from './text';
import { DateTime, IANAZone } from 'luxon';
import { ValidationError, invariant } from './errors';
import { parseCurrency } from './money';
import { parseIsoDate } from './settlement';

export const Weekday = { MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6, SUN: 7 } as const;
export type WeekdayName = keyof typeof Weekday;
export const weekdayNames = Object.keys(Weekday) as WeekdayName[];

/** How far ahead the next opening is searched: a year and a day covers any calendar of weekly days plus holidays. */
export const nextOpeningSearchDaysMax = 366;
/** Holiday dates one window may carry (a few years of any real calendar). */
export const holidaysMax = 500;
export const emergencyReasonLengthMax = 200;

/** Why a window is closed at an instant: stable codes for APIs and metrics; `reason` is the sentence for people. */
export const WindowClosedCode = {
  emergencyClose: 'EMERGENCY_CLOSE',
  holiday: 'HOLIDAY',
  closedDay: 'CLOSED_DAY',
  beforeOpening: 'BEFORE_OPENING',
  afterCutoff: 'AFTER_CUTOFF',
} as const;
export type WindowClosedCode = (typeof WindowClosedCode)[keyof typeof WindowClosedCode];

export interface EmergencyClose {
  readonly reason: string;
  /** When it was declared (ISO instant); informative. */
  readonly since?: string;
}

/** A validated settlement window. Times are local "HH:mm" in `timeZone`; `cutoffAt` is exclusive and may be "24:00". */
export interface SettlementWindow {
  readonly currency: string;
  readonly timeZone: string;
  readonly days: readonly WeekdayName[];
  readonly opensAt: string;
  readonly cutoffAt: string;
  /** Local dates (YYYY-MM-DD in `timeZone`) on which the window stays closed, sorted, unique. */
  readonly holidays: readonly string[];
  readonly emergencyClose: EmergencyClose | null;
}

export type WindowEvaluation =
  | { readonly open: true; readonly closesAt: string }
  | { readonly open: false; readonly code: WindowClosedCode; readonly reason: string; readonly nextOpening?: string };

const windowFields = ['currency', 'timeZone', 'days', 'opensAt', 'cutoffAt', 'holidays', 'emergencyClose'] as const;
const localTimePattern = /^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/;

/**
 * Parses an untrusted window definition (admin API body, config/windows.json). Throws ValidationError naming the
 * field (`field` prefix lets a caller say `windows[2].opensAt`). Unknown fields are refused so typos never pass.
 */
export function parseSettlementWindow(input: unknown, field = 'window'): SettlementWindow {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError(field, 'must be a JSON object');
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!(windowFields as readonly string[]).includes(key)) throw new ValidationError(`${field}.${key}`, 'is not a field of a settlement window');
  }
  const currency = parseCurrency(body.currency, `${field}.currency`);
  const timeZone = parseTimeZone(body.timeZone, `${field}.timeZone`);
  const days = parseDays(body.days, `${field}.days`);
  const opensAt = parseLocalTime(body.opensAt, `${field}.opensAt`);
  const cutoffAt = parseLocalTime(body.cutoffAt, `${field}.cutoffAt`);
  if (opensAt === '24:00') throw new ValidationError(`${field}.opensAt`, 'must be before 24:00');
  // Windows that span midnight are not supported: an RTGS night session is modelled as its own day's window.
  if (minutesOfDay(cutoffAt) <= minutesOfDay(opensAt)) throw new ValidationError(`${field}.cutoffAt`, `must be after opensAt (${opensAt}) on the same day`);
  const holidays = parseHolidays(body.holidays ?? [], `${field}.holidays`);
  const emergencyClose = parseEmergencyClose(body.emergencyClose ?? null, `${field}.emergencyClose`);
  return { currency, timeZone, days, opensAt, cutoffAt, holidays, emergencyClose };
}

/** A window that accepts settlements at every instant: every day, 00:00-24:00, no holidays (local demo, benchmark). */
export function alwaysOpenWindow(currency: string): SettlementWindow {
  return { currency, timeZone: 'UTC', days: [...weekdayNames], opensAt: '00:00', cutoffAt: '24:00', holidays: [], emergencyClose: null };
}

/** Whether `window` accepts a settlement at `instant`, and if not, why and when it next opens. */
export function evaluateWindow(window: SettlementWindow, instant: Date): WindowEvaluation {
  const local = DateTime.fromJSDate(instant, { zone: window.timeZone });
  invariant(local.isValid, `evaluateWindow: invalid instant or zone ${window.timeZone}`);
  if (window.emergencyClose !== null) {
    // No next opening: an emergency close lasts until an operator lifts it.
    return { open: false, code: WindowClosedCode.emergencyClose, reason: `emergency close: ${window.emergencyClose.reason}` };
  }
  const today = local.toISODate();
  invariant(today !== null, 'evaluateWindow: local date');
  if (window.holidays.includes(today)) {
    return closed(WindowClosedCode.holiday, `${today} is a ${window.currency} settlement holiday`, nextOpeningAfter(window, today));
  }
  if (!isSettlementDay(window, local)) {
    return closed(WindowClosedCode.closedDay, `${window.currency} does not settle on ${weekdayNames[local.weekday - 1]}`, nextOpeningAfter(window, today));
  }
  const opening = localInstant(window, today, window.opensAt);
  const cutoff = localInstant(window, today, window.cutoffAt);
  if (local < opening) return closed(WindowClosedCode.beforeOpening, `${window.currency} opens at ${window.opensAt} ${window.timeZone}`, opening);
  if (local >= cutoff) return closed(WindowClosedCode.afterCutoff, `${window.currency} cut-off ${window.cutoffAt} ${window.timeZone} has passed`, nextOpeningAfter(window, today));
  return { open: true, closesAt: iso(cutoff) };
}

/** The first opening strictly after local date `date`, or undefined when none lies within the search bound. */
function nextOpeningAfter(window: SettlementWindow, date: string): DateTime | undefined {
  const start = DateTime.fromISO(date, { zone: window.timeZone });
  for (let offsetDays = 1; offsetDays <= nextOpeningSearchDaysMax; offsetDays++) {
    // Calendar arithmetic on the local date: plus({ days }) keeps the wall clock across a DST change.
    const candidate = start.plus({ days: offsetDays });
    const candidateDate = candidate.toISODate();
    invariant(candidateDate !== null, 'nextOpeningAfter: local date');
    if (isSettlementDay(window, candidate) && !window.holidays.includes(candidateDate)) return localInstant(window, candidateDate, window.opensAt);
  }
  return undefined;
}

function isSettlementDay(window: SettlementWindow, local: DateTime): boolean {
  return window.days.includes(weekdayNames[local.weekday - 1]);
}

/** The instant of local wall-clock `time` on local `date`; "24:00" is the start of the next local day. */
function localInstant(window: SettlementWindow, date: string, time: string): DateTime {
  const day = DateTime.fromISO(date, { zone: window.timeZone });
  if (time === '24:00') return day.plus({ days: 1 }).startOf('day');
  const [hour, minute] = time.split(':').map(Number);
  const result = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour, minute }, { zone: window.timeZone });
  invariant(result.isValid, `localInstant: ${date} ${time} ${window.timeZone}`);
  return result;
}

function closed(code: WindowClosedCode, reason: string, next: DateTime | undefined): WindowEvaluation {
  if (next === undefined) return { open: false, code, reason: `${reason}; no opening within ${nextOpeningSearchDaysMax} days` };
  return { open: false, code, reason, nextOpening: iso(next) };
}

/** ISO instant in the window's own zone with its offset ("2025-03-31T07:00:00+02:00"): exact and readable. */
function iso(value: DateTime): string {
  const text = value.toISO({ suppressMilliseconds: true });
  invariant(text !== null, 'iso: valid DateTime');
  return text;
}

function minutesOfDay(time: string): number {
  const [hour, minute] = time.split(':').map(Number);
  return hour * 60 + minute;
}

function parseTimeZone(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'is required (IANA time zone such as "Europe/Berlin")');
  // IANA names only: a fixed offset ("+01:00") would silently ignore DST.
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(value) || !IANAZone.isValidZone(value)) throw new ValidationError(field, `"${value.slice(0, 40)}" is not an IANA time zone`);
  return value;
}

function parseDays(value: unknown, field: string): WeekdayName[] {
  if (!Array.isArray(value) || value.length === 0) throw new ValidationError(field, `must be a non-empty array of ${weekdayNames.join(', ')}`);
  value.forEach((day, index) => {
    if (typeof day !== 'string' || !(weekdayNames as string[]).includes(day)) throw new ValidationError(`${field}[${index}]`, `must be one of ${weekdayNames.join(', ')}`);
  });
  if (new Set(value).size !== value.length) throw new ValidationError(field, 'lists a day twice');
  // Canonical order, so that two equal windows compare equal.
  return weekdayNames.filter((day) => value.includes(day));
}

function parseLocalTime(value: unknown, field: string): string {
  if (typeof value !== 'string' || !localTimePattern.test(value)) throw new ValidationError(field, 'must be a local time "HH:mm" (00:00 to 24:00)');
  return value;
}

function parseHolidays(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of ISO dates');
  if (value.length > holidaysMax) throw new ValidationError(field, `has more than ${holidaysMax} dates`);
  const dates = value.map((date, index) => parseIsoDate(date, `${field}[${index}]`));
  return [...new Set(dates)].sort();
}

function parseEmergencyClose(value: unknown, field: string): EmergencyClose | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, 'must be null or { "reason": "..." }');
  const body = value as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (key !== 'reason' && key !== 'since') throw new ValidationError(`${field}.${key}`, 'is not a field of an emergency close');
  }
  if (typeof body.reason !== 'string' || body.reason.trim().length === 0) throw new ValidationError(`${field}.reason`, 'is required');
  if (body.reason.length > emergencyReasonLengthMax) throw new ValidationError(`${field}.reason`, `is longer than ${emergencyReasonLengthMax} characters`);
  checkFreeText(body.reason, `${field}.reason`);
  if (body.since === undefined) return { reason: body.reason };
  if (typeof body.since !== 'string' || !DateTime.fromISO(body.since, { setZone: true }).isValid) throw new ValidationError(`${field}.since`, 'must be an ISO instant');
  return { reason: body.reason, since: body.since };
}
