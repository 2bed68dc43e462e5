/**
 * Lambda entry points of the scheduled jobs (EventBridge rules in infra/constructs/schedules.ts). The local engine
 * runs the same handlers on timers (lambdas/local/scheduler.ts).
 */
import middy from '@middy/core';
import { publishAccountBalances } from '../adapters/metrics/balances';
import { createJobHandlers } from './job-handlers';
import { flushMetrics } from './middleware';
import { lambdaDeps, lambdaEngine } from './lambda-deps';
import { createReconcileJob } from './reconcile-job';

// Retry and recovery restart executions, so their functions need STATE_MACHINE_ARN; cleanup starts none.
const handlers = createJobHandlers(
  () => lambdaDeps({ startsExecutions: true }),
  () => lambdaEngine({ startsExecutions: true }).config.jobs,
);
const cleanupHandlers = createJobHandlers(
  () => lambdaDeps(),
  () => lambdaEngine().config.jobs,
);

export const retryFailed = handlers.retryFailed;
export const cleanup = cleanupHandlers.cleanup;
export const recoverStuck = handlers.recoverStuck;

/** Reconciliation of every nostro for the previous complete interval (reconcile-job.ts). */
export const reconcile = createReconcileJob(() => lambdaDeps());

/** Balance gauges as EMF, every few minutes (adapters/metrics/balances.ts says why a job). */
export const publishBalances = middy()
  .use(flushMetrics(() => lambdaDeps().metrics))
  .handler(async () => ({ accounts: await publishAccountBalances(lambdaDeps().accounts, lambdaDeps().metrics) }));
