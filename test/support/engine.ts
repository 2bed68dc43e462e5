/**
 * Starts the real local engine for a test file: the shared DynamoDB Local (tables under a unique prefix), the real
 * state-machine file in the ASL interpreter, the mock bank, and REST on a free port. Retry backoff and
 * confirmation waits are shortened so rollback paths run in milliseconds; everything else is as `npm start`.
 */
import { randomUUID } from 'node:crypto';
import { startLocalEngine, type LocalEngine, type LocalEngineOptions } from '../../lambdas/local/engine';
import { accountId, type AccountType } from '../../lambdas/ports/stores';
import type { SettlementView } from '../../lambdas/usecases/views';
import { waitForSettlement } from '../../lambdas/usecases/settlements';

export type TestEngine = LocalEngine;

export async function startTestEngine(options: LocalEngineOptions = {}): Promise<TestEngine> {
  return startLocalEngine({
    dynamoEndpoint: process.env.TEST_DYNAMODB_ENDPOINT,
    tablePrefix: `t${randomUUID().slice(0, 8)}-`,
    httpPort: 0,
    retryIntervalMs: 1,
    confirmationWaitMs: 1,
    // Job timers and the SQS emulator are opted into by the tests that exercise them.
    jobs: false,
    sqs: false,
    ...options,
  });
}

/** A clock that runs at real speed from the instant it was last set to (tests of periods, windows, statements). */
export class SettableClock {
  private offsetMs = 0;
  set(iso: string): void {
    this.offsetMs = Date.parse(iso) - Date.now();
  }
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

let sequence = 0;
/** A unique settlement id for a test. */
export function newSettlementId(prefix = 'stl'): string {
  return `${prefix}-${Date.now().toString(36)}-${(++sequence).toString(36)}-${randomUUID().slice(0, 6)}`;
}

/** A valid request between two seeded banks (EUR, SEPA); override any field. */
export function settlementRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    settlementId: newSettlementId(),
    payerBic: 'DEUTDEFF',
    payeeBic: 'BNPAFRPP',
    amount: '1250.00',
    currency: 'EUR',
    rail: 'SEPA',
    kind: 'DOMESTIC',
    valueDate: new Date().toISOString().slice(0, 10),
    reference: 'Invoice 42',
    ...overrides,
  };
}

/** Waits until the settlement is terminal or parked (the local workflow runs it in-process). */
export async function settled(engine: TestEngine, settlementId: string, timeoutMs = 20_000): Promise<SettlementView> {
  const view = await waitForSettlement(engine.deps, settlementId, timeoutMs);
  if (view.status !== 'COMPLETED' && view.status !== 'FAILED' && !view.parked) throw new Error(`settlement ${settlementId} still ${view.status} after ${timeoutMs} ms`);
  return view;
}

/** Current balance, locked and available of an account as decimal strings. */
export async function balances(engine: TestEngine, accountType: AccountType, bic: string, currency: string) {
  const account = await engine.accounts.get(accountId(accountType, bic, currency));
  if (!account) throw new Error(`no account ${accountType} ${bic} ${currency}`);
  return { balance: account.balance.toFixed(), locked: account.locked.toFixed(), available: account.available.toFixed() };
}

/** JSON over HTTP against the engine's REST port. */
export async function http(engine: TestEngine, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${engine.httpUrl}${path}`, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json: json as any, text };
}
