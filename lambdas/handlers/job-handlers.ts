/**
 * Scheduled job handlers (EventBridge rules on AWS, lambdas/local/scheduler.ts timers locally), thin wrappers over
 * the recovery use cases. `createJobHandlers` is used by the Lambda entry (jobs.ts) and the local engine alike.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ValidationError } from '../domain/errors';
import { localConfig, type Environment } from '../config';
import type { EngineDeps } from '../usecases/deps';
import { cleanupFinished, type CleanupRunReport } from '../usecases/recovery/cleanup';
import { requireRecoveryDeps } from '../usecases/recovery/deps';
import type { JobSettings } from '../usecases/recovery/limits';
import { recoverStuckSettlements, type RecoveryRunReport } from '../usecases/recovery/recover';
import { retryFailedSettlements, type RetryRunReport } from '../usecases/recovery/retry';
import { flushMetrics } from './middleware';

export const jobNames = ['retryFailed', 'cleanup', 'recoverStuck'] as const;
export type JobName = (typeof jobNames)[number];

/**
 * What a job is invoked with: an EventBridge scheduled event (its fields are ignored), or, from the local
 * engine's start-up sweep, `{ stuckAfterSeconds: 0 }` (nothing runs in a process that has just started).
 */
export interface JobEvent {
  readonly stuckAfterSeconds?: unknown;
}

export interface JobReports {
  readonly retryFailed: RetryRunReport;
  readonly cleanup: CleanupRunReport;
  readonly recoverStuck: RecoveryRunReport;
}

export type JobHandler<R> = (event: JobEvent, context: Context) => Promise<R>;
export type JobHandlers = { readonly [name in JobName]: JobHandler<JobReports[name]> };

/** Job settings from environment variables (README.md lists them), through the configuration schema (lambdas/config.ts). */
export function jobSettingsFromEnvironment(env: Environment): JobSettings {
  return localConfig(env).jobs;
}

export function createJobHandlers(deps: () => EngineDeps, settings: () => JobSettings): JobHandlers {
  const job = <R>(run: (event: JobEvent) => Promise<R>): JobHandler<R> =>
    middy<JobEvent, R>()
      .use(flushMetrics(() => deps().metrics))
      .handler(async (event) => run(event ?? {}));
  return {
    retryFailed: job(() => retryFailedSettlements(requireRecoveryDeps(deps()), settings())),
    cleanup: job(() => cleanupFinished(requireRecoveryDeps(deps()), settings())),
    recoverStuck: job((event) => recoverStuckSettlements(requireRecoveryDeps(deps()), { ...settings(), ...stuckAfterOverride(event) })),
  };
}

function stuckAfterOverride(event: JobEvent): { stuckAfterSeconds?: number } {
  const value = event.stuckAfterSeconds;
  if (value === undefined) return {};
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ValidationError('stuckAfterSeconds', 'must be a non-negative integer');
  return { stuckAfterSeconds: value };
}
