/**
 * Value-date windows: how far before and after today a settlement's value date may lie, in business days, per
 * rail and currency. A value date far in the past would back-value a payment the bank no longer accepts; one far
 * ahead would hold liquidity for months. Business days are Monday to Friday in UTC (the currency's holidays are
 * the settlement window's concern, not this bound's).
 *
 * Configured as `VALUE_DATE_WINDOWS`: comma-separated `key=back:ahead` entries, where key is `*` (every
 * settlement), a rail (`SEPA`), a currency (`EUR`) or both (`SEPA/EUR`); the most specific entry wins
 * (rail/currency, then rail, then currency, then `*`). Default `*=5:30`.
 */
import { ValidationError } from './errors';

export interface ValueDateWindow {
  /** Business days before today a value date may lie (0: not before today). */
  readonly businessDaysBack: number;
  /** Business days after today a value date may lie. */
  readonly businessDaysAhead: number;
}

export interface ValueDateWindows {
  readonly default: ValueDateWindow;
  /** Keyed `RAIL/CCY`, `RAIL` or `CCY`. */
  readonly specific: Readonly<Record<string, ValueDateWindow>>;
}

/** Largest bound configuration may ask for (a year of business days); also bounds the date arithmetic below. */
export const valueDateBusinessDaysMax = 261;

export const defaultValueDateWindows: ValueDateWindows = { default: { businessDaysBack: 5, businessDaysAhead: 30 }, specific: {} };

/** The window that applies to a settlement on `rail` in `currency`. */
export function valueDateWindowFor(windows: ValueDateWindows, rail: string, currency: string): ValueDateWindow {
  return windows.specific[`${rail}/${currency}`] ?? windows.specific[rail] ?? windows.specific[currency] ?? windows.default;
}

/** Throws ValidationError naming `field` when `valueDate` (a calendar date) lies outside `window` around `today`. */
export function checkValueDate(valueDate: string, today: Date, window: ValueDateWindow, field = 'valueDate'): void {
  const todayDate = today.toISOString().slice(0, 10);
  const earliest = addBusinessDays(todayDate, -window.businessDaysBack);
  const latest = addBusinessDays(todayDate, window.businessDaysAhead);
  if (valueDate < earliest || valueDate > latest) {
    throw new ValidationError(field, `${valueDate} is outside the accepted value dates ${earliest} to ${latest} (${window.businessDaysBack} business days back, ${window.businessDaysAhead} ahead)`);
  }
}

/** The date `count` business days (Mon–Fri) after (or, negative, before) `date`; 0 is `date` itself. */
export function addBusinessDays(date: string, count: number): string {
  const step = count < 0 ? -1 : 1;
  const day = new Date(`${date}T00:00:00Z`);
  // Bounded: |count| ≤ valueDateBusinessDaysMax business days is at most ~1.4 × that in calendar days.
  for (let remaining = Math.min(Math.abs(count), valueDateBusinessDaysMax); remaining > 0; ) {
    day.setUTCDate(day.getUTCDate() + step);
    const weekday = day.getUTCDay();
    if (weekday !== 0 && weekday !== 6) remaining--;
  }
  return day.toISOString().slice(0, 10);
}

/** Parses `VALUE_DATE_WINDOWS`; throws Error naming the variable and the bad entry. */
export function parseValueDateWindows(spec: string | undefined, variable = 'VALUE_DATE_WINDOWS'): ValueDateWindows {
  if (spec === undefined || spec.trim() === '') return defaultValueDateWindows;
  let fallback = defaultValueDateWindows.default;
  const specific: Record<string, ValueDateWindow> = {};
  for (const entry of spec.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const match = /^(\*|[A-Z]{3,5}|[A-Z]{3,5}\/[A-Z]{3})=(\d{1,3}):(\d{1,3})$/.exec(entry);
    if (!match) throw new Error(`configuration: ${variable} entry "${entry}" must be key=back:ahead with key *, RAIL, CCY or RAIL/CCY`);
    const window = { businessDaysBack: Number(match[2]), businessDaysAhead: Number(match[3]) };
    if (window.businessDaysBack > valueDateBusinessDaysMax || window.businessDaysAhead > valueDateBusinessDaysMax) throw new Error(`configuration: ${variable} entry "${entry}" exceeds ${valueDateBusinessDaysMax} business days`);
    if (match[1] === '*') fallback = window;
    else specific[match[1]] = window;
  }
  return { default: fallback, specific };
}
