/**
 * Settlement windows as data: read, replace, emergency close and reopen (each audited), and the window check the
 * Validate stage calls through SettlementWindowPort.
 */
import { TransactionConflictError, ValidationError, WindowClosedError } from '../../domain/errors';
import { WindowNotFoundError } from '../../domain/operations-errors';
import { parseEmergencyCloseRequest } from '../../domain/admin';
import { parseCurrency } from '../../domain/money';
import { evaluateWindow, parseSettlementWindow, type SettlementWindow, type WindowEvaluation } from '../../domain/window';
import type { Clock } from '../../ports';
import type { Actor, StoredWindow, WindowStore } from '../../ports/operations';
import type { SettlementWindowPort } from '../deps';
import type { OperationsDeps } from './deps';

export const windowWriteAttemptsMax = 5;

export interface WindowView extends StoredWindow {
  /** The window judged at the time of the request. */
  readonly now: WindowEvaluation;
}

export async function getWindow(ops: OperationsDeps, currencyValue: string): Promise<WindowView> {
  const currency = parseCurrency(currencyValue, 'currency');
  const stored = await ops.windows.getWindow(currency);
  if (!stored) throw new WindowNotFoundError(currency);
  return { ...stored, now: evaluateWindow(stored.window, ops.clock.now()) };
}

export async function listWindows(ops: OperationsDeps): Promise<WindowView[]> {
  const now = ops.clock.now();
  return (await ops.windows.listWindows()).map((stored) => ({ ...stored, now: evaluateWindow(stored.window, now) }));
}

/** Replaces a currency's window (the body is a window; its currency, if given, must be the path's). */
export async function putWindow(ops: OperationsDeps, currencyValue: string, body: unknown, actor: Actor): Promise<{ created: boolean; window: WindowView }> {
  const currency = parseCurrency(currencyValue, 'currency');
  const input = typeof body === 'object' && body !== null && !Array.isArray(body) ? { currency, ...(body as Record<string, unknown>) } : body;
  const window = parseSettlementWindow(input, 'body');
  if (window.currency !== currency) throw new ValidationError('body.currency', `must be ${currency}, the currency of the path`);
  let created = false;
  await writeWindow(ops.windows, currency, actor, (stored) => {
    created = stored === undefined;
    return { window, action: created ? 'WINDOW.CREATE' : 'WINDOW.REPLACE' };
  });
  return { created, window: await getWindow(ops, currency) };
}

/** Closes a currency's window at once, whatever the calendar says, until reopened. */
export async function emergencyClose(ops: OperationsDeps, currencyValue: string, body: unknown, actor: Actor): Promise<WindowView> {
  const currency = parseCurrency(currencyValue, 'currency');
  const reason = parseEmergencyCloseRequest(body);
  await writeWindow(ops.windows, currency, actor, (stored) => {
    if (!stored) throw new WindowNotFoundError(currency);
    if (stored.window.emergencyClose?.reason === reason) return undefined;
    return { window: { ...stored.window, emergencyClose: { reason, since: actor.at } }, action: 'WINDOW.EMERGENCY_CLOSE' };
  });
  return getWindow(ops, currency);
}

export async function reopen(ops: OperationsDeps, currencyValue: string, actor: Actor): Promise<WindowView> {
  const currency = parseCurrency(currencyValue, 'currency');
  await writeWindow(ops.windows, currency, actor, (stored) => {
    if (!stored) throw new WindowNotFoundError(currency);
    if (stored.window.emergencyClose === null) return undefined;
    return { window: { ...stored.window, emergencyClose: null }, action: 'WINDOW.REOPEN' };
  });
  return getWindow(ops, currency);
}

/** Read, decide, write guarded by the version read; `decide` returning undefined means nothing to change. */
async function writeWindow(store: WindowStore, currency: string, actor: Actor, decide: (stored: StoredWindow | undefined) => { window: SettlementWindow; action: string } | undefined): Promise<void> {
  for (let attempt = 1; attempt <= windowWriteAttemptsMax; attempt++) {
    const stored = await store.getWindow(currency);
    const change = decide(stored);
    if (change === undefined) return;
    if (await store.putWindow(change.window, stored?.version ?? 0, change.action, actor)) return;
  }
  throw new TransactionConflictError(`window ${currency} kept changing`);
}

/** Seeds windows that do not exist yet (a restart keeps operator edits); returns how many were created. */
export async function seedWindows(store: WindowStore, windows: readonly SettlementWindow[], actor: Actor): Promise<number> {
  let created = 0;
  for (const window of windows) {
    if (await store.putWindow(window, 0, 'WINDOW.SEED', actor)) created += 1;
  }
  return created;
}

/**
 * The window check of the Validate stage, over the stored windows. A window read is reused for `cacheSeconds`
 * (an edit or emergency close takes effect within that time); a currency without a window is closed.
 */
export class StoredWindowPort implements SettlementWindowPort {
  private readonly cache = new Map<string, { readAtMs: number; window: SettlementWindow | undefined }>();

  constructor(
    private readonly store: Pick<WindowStore, 'getWindow'>,
    private readonly clock: Clock,
    private readonly cacheSeconds: number,
  ) {}

  async assertOpen(currency: string, at: Date): Promise<void> {
    const window = await this.windowOf(currency);
    if (window === undefined) throw new WindowClosedError(currency, `no settlement window is configured for ${currency}`, undefined);
    const evaluation = evaluateWindow(window, at);
    if (!evaluation.open) throw new WindowClosedError(currency, evaluation.reason, evaluation.nextOpening);
  }

  private async windowOf(currency: string): Promise<SettlementWindow | undefined> {
    const nowMs = this.clock.now().getTime();
    const cached = this.cache.get(currency);
    // A clock that stepped back (NTP, a test) expires the entry rather than extending it.
    if (cached && nowMs >= cached.readAtMs && nowMs - cached.readAtMs < this.cacheSeconds * 1000) return cached.window;
    const window = (await this.store.getWindow(currency))?.window;
    this.cache.set(currency, { readAtMs: nowMs, window });
    return window;
  }
}
