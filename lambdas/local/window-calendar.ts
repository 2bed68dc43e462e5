/**
 * The demo currencies' settlement calendars (config/windows.json), read here at the edge and validated by the domain.
 */
import windowsFile from '../../config/windows.json';
import { defaultWindows, parseWindowCalendar, type SettlementWindowMode } from '../domain/window-defaults';
import type { SettlementWindow } from '../domain/window';

export function calendarWindows(): SettlementWindow[] {
  return parseWindowCalendar(windowsFile, 'config/windows.json');
}

/** The windows the local seed writes in this mode. */
export function seedWindowsFor(mode: SettlementWindowMode): SettlementWindow[] {
  return defaultWindows(mode, calendarWindows());
}
