/**
 * The scheduled reconciliation (EventBridge every RECONCILIATION_INTERVAL_SECONDS on AWS, a timer in the local
 * engine): reconciles every nostro for the previous complete interval. The same handler runs in both places.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { EngineDeps } from '../usecases/deps';
import { operationsOf } from '../usecases/operations/deps';
import { reconcileAllNostros } from '../usecases/operations/reconcile';
import { flushMetrics } from './middleware';

export type ReconcileJobReport = Awaited<ReturnType<typeof reconcileAllNostros>>;

/** The event is an EventBridge scheduled event (or `{}` from a local timer); its fields are not used. */
export function createReconcileJob(deps: () => EngineDeps): (event: unknown, context: Context) => Promise<ReconcileJobReport> {
  return middy<unknown, ReconcileJobReport>()
    .use(flushMetrics(() => deps().metrics))
    .handler(async () => reconcileAllNostros(operationsOf(deps())));
}
