/**
 * Middy middlewares shared by every handler: the same chain wraps a handler on Lambda and in the local engine.
 */
import type { MiddlewareObj } from '@middy/core';
import { ValidationError } from '../domain/errors';
import type { MetricsPort } from '../ports';

/** Stage events are the workflow's JSON state; a stage needs `settlementId` and nothing else is trusted. */
export function requireSettlementId(): MiddlewareObj<unknown> {
  return {
    name: 'requireSettlementId',
    before: (request) => {
      const event = request.event as { settlementId?: unknown } | null;
      if (typeof event !== 'object' || event === null || typeof event.settlementId !== 'string' || event.settlementId === '') {
        throw new ValidationError('settlementId', 'stage input must carry the settlement id');
      }
    },
  };
}

/** Flushes buffered metrics (EMF on Lambda) after every invocation, failed or not. */
export function flushMetrics(metrics: () => MetricsPort): MiddlewareObj<unknown> {
  const flush = async () => {
    await metrics().flush();
  };
  return { name: 'flushMetrics', after: flush, onError: flush };
}
