/**
 * Default settlement windows and the seed's choice between the real calendars and "always open". The calendars are
 * data: lambdas/local/window-calendar.ts reads config/windows.json and validates it here (the domain reads no files).
 *
 * The local demo and the benchmark default to `always-open`: a new user running `npm start` at 3 a.m., or a
 * benchmark on a Sunday, must see settlements complete. `SETTLEMENT_WINDOWS=calendar` seeds the calendars instead
 * (docs/operations.md). Windows are data either way: the admin API edits them after seeding.
 */
import { ValidationError } from './errors';
import { alwaysOpenWindow, parseSettlementWindow, type SettlementWindow } from './window';

export const SettlementWindowMode = { calendar: 'calendar', alwaysOpen: 'always-open' } as const;
export type SettlementWindowMode = (typeof SettlementWindowMode)[keyof typeof SettlementWindowMode];

/** Environment variable the local seed reads (at the edge) to choose the mode. */
export const settlementWindowModeVariable = 'SETTLEMENT_WINDOWS';
export const defaultSettlementWindowMode: SettlementWindowMode = SettlementWindowMode.alwaysOpen;

/** Parses the mode from its environment value; unset means the default (always open). */
export function parseSettlementWindowMode(value: string | undefined): SettlementWindowMode {
  if (value === undefined || value === '') return defaultSettlementWindowMode;
  if (value === SettlementWindowMode.calendar || value === SettlementWindowMode.alwaysOpen) return value;
  throw new ValidationError(settlementWindowModeVariable, `must be "${SettlementWindowMode.calendar}" or "${SettlementWindowMode.alwaysOpen}"`);
}

/** A calendar file (`{ windows: [...] }`), validated like any admin input (a bad file fails at start-up). */
export function parseWindowCalendar(file: unknown, source: string): SettlementWindow[] {
  const windows: unknown = (file as { windows?: unknown } | undefined)?.windows;
  if (!Array.isArray(windows)) throw new ValidationError(`${source} windows`, 'must be an array');
  const parsed = windows.map((window, index) => parseSettlementWindow(window, `${source} windows[${index}]`));
  const currencies = parsed.map((window) => window.currency);
  if (new Set(currencies).size !== currencies.length) throw new ValidationError(`${source} windows`, 'lists a currency twice');
  return parsed;
}

/** The windows the seed writes: the calendars, or an always-open window for each of the same currencies. */
export function defaultWindows(mode: SettlementWindowMode, calendars: readonly SettlementWindow[]): SettlementWindow[] {
  switch (mode) {
    case 'calendar':
      return [...calendars];
    case 'always-open':
      return calendars.map((window) => alwaysOpenWindow(window.currency));
    default: {
      const unexpected: never = mode;
      throw new Error(`unexpected window mode ${String(unexpected)}`);
    }
  }
}
