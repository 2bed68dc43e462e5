/**
 * Helpers of the recovery tests: a clock the test moves forward (retry delays, lock expiry, retention), an engine
 * whose job timers stay out of the way unless a test asks, and drivers that put a settlement in a given status by
 * calling the stage use cases directly, as a process killed mid-flight would leave it.
 */
import { parseValueDateWindows } from '../../../lambdas/domain/value-date';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SettlementStatus } from '../../../lambdas/domain/settlement';
import type { Clock } from '../../../lambdas/ports';
import type { LocalEngineOptions } from '../../../lambdas/local/engine';
import { parseSettlementRequest } from '../../../lambdas/domain/settlement';
import { beginRollback, compensate, releaseLocks } from '../../../lambdas/usecases/rollback';
import { checkConfirmation, initiateTransfer, lockFunds, validate } from '../../../lambdas/usecases/stages';
import { settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';

/** Real time plus an offset the test controls. */
export class ShiftedClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export const hourMs = 3600_000;
export const dayMs = 24 * hourMs;

/** An engine for recovery tests: jobs on (run by hand), timers far apart, SQS emulator on. */
export async function startRecoveryEngine(clock: Clock, options: LocalEngineOptions = {}): Promise<TestEngine> {
  return startTestEngine({
    clock,
    sqs: true,
    jobs: { retryIntervalMs: 24 * hourMs, cleanupIntervalMs: 24 * hourMs, recoveryIntervalMs: 24 * hourMs },
    ...options,
    // These tests move the clock days ahead of the value dates they submit; the value-date window is not their subject.
    limits: { valueDateWindows: parseValueDateWindows('*=261:261'), ...options.limits },
  });
}

/** Every item of one settlement's partition (record, lock, events, operations, compensations). */
export async function partition(engine: TestEngine, settlementId: string): Promise<Record<string, any>[]> {
  const result = await engine.documentClient.send(
    new QueryCommand({ TableName: engine.tables.settlements, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': settlementId }, ConsistentRead: true }),
  );
  return result.Items ?? [];
}

export type DrivableStatus = Exclude<SettlementStatus, 'COMPLETED' | 'FAILED'>;

/**
 * Creates a settlement without starting its workflow and runs the stage use cases by hand until it stands in
 * `status`: what a process killed at that point leaves behind. Scenario-free: the bank settles at once.
 */
export async function driveTo(engine: TestEngine, status: DrivableStatus, overrides: Record<string, unknown> = {}): Promise<string> {
  const request = parseSettlementRequest(settlementRequest(overrides));
  const deps = engine.deps;
  await deps.settlements.create(request, deps.clock.now().toISOString());
  const input = { settlementId: request.settlementId };
  // VALIDATED and CONFIRMED are statuses a settlement rests in only when an engine from before this one left it there
  // (Validate's and CheckConfirmation's decisions are now committed by LockFunds and Finalize): written as it did.
  const legacy = async (to: 'VALIDATED' | 'CONFIRMED', stage: string, patch = {}) => {
    const record = (await deps.settlements.get(request.settlementId))!;
    await deps.settlements.transition({ record, to, stage, at: deps.clock.now().toISOString(), patch });
  };
  const steps: Record<DrivableStatus, Array<() => Promise<unknown>>> = {
    PENDING: [],
    VALIDATED: [
      async () => {
        const validation = await validate(deps, input);
        if (!('payerAccountId' in validation)) throw new Error(`driveTo: ${request.settlementId} did not validate`);
        await legacy('VALIDATED', 'Validate', { payerAccountId: validation.payerAccountId, nostroAccountId: validation.nostroAccountId, nostroBic: validation.nostroBic });
      },
    ],
    LOCKED: [() => validate(deps, input), () => lockFunds(deps, input)],
    TRANSFER_INITIATED: [() => validate(deps, input), () => lockFunds(deps, input), () => initiateTransfer(deps, input)],
    CONFIRMED: [() => validate(deps, input), () => lockFunds(deps, input), () => initiateTransfer(deps, input), () => checkConfirmation(deps, input), () => legacy('CONFIRMED', 'CheckConfirmation')],
    ROLLING_BACK: [() => validate(deps, input), () => lockFunds(deps, input), () => beginRollback(deps, { ...input, error: { Error: 'BankRejectedError', Cause: 'rejected (test)' } })],
    COMPENSATING: [
      () => validate(deps, input),
      () => lockFunds(deps, input),
      () => initiateTransfer(deps, input),
      () => beginRollback(deps, { ...input, error: { Error: 'ConfirmationTimeoutError', Cause: 'not confirmed (test)' } }),
    ],
    COMPENSATED: [
      () => validate(deps, input),
      () => lockFunds(deps, input),
      () => initiateTransfer(deps, input),
      () => beginRollback(deps, { ...input, error: { Error: 'ConfirmationTimeoutError', Cause: 'not confirmed (test)' } }),
      () => compensate(deps, input),
    ],
    ROLLED_BACK: [() => validate(deps, input), () => lockFunds(deps, input), () => beginRollback(deps, { ...input, error: { Error: 'BankRejectedError', Cause: 'rejected (test)' } }), () => releaseLocks(deps, input)],
  };
  for (const step of steps[status]) await step();
  const record = await deps.settlements.get(request.settlementId);
  if (record?.status !== status) throw new Error(`driveTo: ${request.settlementId} is ${record?.status}, wanted ${status}`);
  return request.settlementId;
}

/** Polls until `check` holds (or fails after `timeoutMs`). */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`eventually: condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
