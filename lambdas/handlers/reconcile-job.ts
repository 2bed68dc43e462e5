/**
 * The scheduled reconciliation (EventBridge every RECONCILIATION_INTERVAL_SECONDS on AWS, a timer in the local
 * engine): books the returns the bank reported after Finalize, reconciles every statement waiting in the statement inbox (for its own period), then every nostro for
 * the previous complete interval against its bank's statement. The same handler runs in both places.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { EngineDeps } from '../usecases/deps';
import { operationsOf } from '../usecases/operations/deps';
import { reconcileAllNostros, type ScheduledRunOutcome } from '../usecases/operations/reconcile';
import { reconcilePendingStatements } from '../usecases/operations/statements';
import { flushMetrics } from './middleware';
import { bookBankReturns, type ReturnsRunReport } from '../usecases/returns';

export type ReconcileJobReport = Awaited<ReturnType<typeof reconcileAllNostros>> & {
  readonly statements: readonly ScheduledRunOutcome[];
  /** Returns after Finalize booked first (usecases/returns.ts), or why that step failed (reconciliation runs anyway). */
  readonly returns: ReturnsRunReport | { readonly error: string };
};

/** The event is an EventBridge scheduled event (or `{}` from a local timer); its fields are not used. */
export function createReconcileJob(deps: () => EngineDeps): (event: unknown, context: Context) => Promise<ReconcileJobReport> {
  return middy<unknown, ReconcileJobReport>()
    .use(flushMetrics(() => deps().metrics))
    .handler(async () => {
      // Returns first: the bank's statement already shows a return's credit, so the ledger should too.
      const returns = await bookBankReturns(deps()).catch((error: unknown) => {
        console.error(JSON.stringify({ level: 'error', message: 'booking returns failed', error: error instanceof Error ? error.message : String(error) }));
        return { error: error instanceof Error ? error.message : String(error) };
      });
      const ops = operationsOf(deps());
      const statements = await reconcilePendingStatements(ops);
      return { ...(await reconcileAllNostros(ops)), statements, returns };
    });
}
