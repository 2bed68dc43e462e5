/**
 * Faults DynamoDB Local never produces, injected on a real document client through its middleware stack:
 * throttling and transaction conflicts before a request is sent (nothing written), and a lost response after a
 * write committed (the caller sees a timeout although the write is in). Deterministic from a seed, so a failing
 * property run replays the same fault decisions (the interleaving of concurrent executions may still differ).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { seededRandom as generator } from '../support/random';

export interface FaultPlan {
  /** Probability that a request fails before it is sent. */
  rate: number;
  /** Probability that a committed write's response is lost. */
  lostResponseRate: number;
}

export interface FaultInjector {
  readonly plan: FaultPlan;
  readonly injected: { throttled: number; conflicts: number; lostResponses: number };
  reseed(seed: number): void;
  disable(): void;
}

export function injectFaults(client: DynamoDBDocumentClient, name = 'injectFaults'): FaultInjector {
  let random = generator(1);
  const injector: FaultInjector = {
    plan: { rate: 0, lostResponseRate: 0 },
    injected: { throttled: 0, conflicts: 0, lostResponses: 0 },
    reseed: (seed) => {
      random = generator(seed);
    },
    disable: () => {
      injector.plan.rate = 0;
      injector.plan.lostResponseRate = 0;
    },
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const transaction = 'TransactItems' in input;
      const write = transaction || 'Item' in input || 'UpdateExpression' in input || ('Key' in input && 'ConditionExpression' in input);
      if (injector.plan.rate > 0 && random() < injector.plan.rate) {
        if (transaction && random() < 0.5) {
          injector.injected.conflicts++;
          throw Object.assign(new Error('Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict] (injected)'), {
            name: 'TransactionCanceledException',
            CancellationReasons: [{ Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item (injected)' }],
          });
        }
        injector.injected.throttled++;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput (injected)'), { name: 'ThrottlingException' });
      }
      const result = await next(args);
      if (write && injector.plan.lostResponseRate > 0 && random() < injector.plan.lostResponseRate) {
        injector.injected.lostResponses++;
        throw Object.assign(new Error('response lost after the write committed (injected)'), { name: 'TimeoutError' });
      }
      return result;
    },
    { step: 'initialize', name },
  );
  return injector;
}
