/**
 * DynamoDB client construction and SDK-exception translation: the only place that knows SDK error names.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, NumberValue, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError, ThrottlingError, TransactionConflictError } from '../../domain/errors';
import { Money } from '../../domain/money';

/**
 * Document client that reads every number as a NumberValue (wrapNumbers): money never passes through a JS float.
 */
/** Concurrent connections to DynamoDB per client: the SDK's default of 50 queues requests under load. */
export const dynamoSocketsMax = 256;

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  const agent = { keepAlive: true, maxSockets: dynamoSocketsMax };
  const client = new DynamoDBClient({ maxAttempts: 3, requestHandler: { httpAgent: agent, httpsAgent: agent }, ...config });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: true },
  });
}

/** A decimal for a DynamoDB Number attribute, exactly. */
export function toNumberValue(amount: Money | string): NumberValue {
  return NumberValue.from(typeof amount === 'string' ? amount : amount.toFixed());
}

/** Reads a DynamoDB Number (wrapped) into a decimal. */
export function toMoney(value: unknown): Money {
  if (value instanceof NumberValue) return new Money(value.value);
  if (typeof value === 'object' && value !== null && 'value' in value) return new Money(String((value as { value: string }).value));
  if (typeof value === 'string') return new Money(value);
  throw new TypeError(`expected a DynamoDB number, got ${typeof value}`);
}

/** Reads a small integer attribute (versions, counters) stored as a DynamoDB Number. */
export function toInteger(value: unknown): number {
  const text = value instanceof NumberValue ? value.value : String(value);
  const parsed = Number.parseInt(text, 10);
  if (!Number.isSafeInteger(parsed)) throw new TypeError(`expected an integer, got ${text}`);
  return parsed;
}

export interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, unknown>;
}

/** SDK exception name → what the engine does about it. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if ((error as { name?: string })?.name !== 'TransactionCanceledException') return undefined;
  return ((error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []) as CancellationReason[];
}

/**
 * Translates transport and capacity failures into the engine's transient errors (retried by the workflow).
 * Returns the error unchanged when it is not one of those.
 */
export function translateTransientError(error: unknown): unknown {
  const name = (error as { name?: string })?.name ?? '';
  const reasons = cancellationReasons(error);
  if (reasons?.some((reason) => reason.Code === 'TransactionConflict')) {
    return new TransactionConflictError('DynamoDB cancelled the transaction: a concurrent transaction touched the same item', { cause: error });
  }
  if (reasons?.some((reason) => reason.Code === 'ThrottlingError' || reason.Code === 'ProvisionedThroughputExceeded')) {
    return new ThrottlingError('DynamoDB throttled the transaction', { cause: error });
  }
  switch (name) {
    case 'TransactionConflictException':
      return new TransactionConflictError('DynamoDB reported a transaction conflict', { cause: error });
    case 'ProvisionedThroughputExceededException':
    case 'ThrottlingException':
    case 'RequestLimitExceeded':
      return new ThrottlingError(`DynamoDB throttled the request (${name})`, { cause: error });
    case 'TransactionInProgressException':
      return new TransactionConflictError('DynamoDB is still running a transaction with this token', { cause: error });
    case 'InternalServerError':
    case 'ServiceUnavailable':
    case 'ServiceUnavailableException':
    case 'TimeoutError':
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return new StoreUnavailableError(`DynamoDB unavailable (${name})`, { cause: error });
    default: {
      const code = (error as { code?: string })?.code;
      if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE') {
        return new StoreUnavailableError(`DynamoDB unreachable (${code})`, { cause: error });
      }
      return error;
    }
  }
}

/** Runs one store call, translating SDK failures into the engine's transient errors. */
export async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw translateTransientError(error);
  }
}

/** Keys per BatchGetItem (the API's maximum), and rounds for the keys it leaves unprocessed. */
const batchGetKeysMax = 100;
const unprocessedRoundsMax = 5;

/**
 * Items by key from one table, strongly consistent, in no particular order (missing keys left out): BatchGetItem in
 * chunks of 100, the keys DynamoDB leaves unprocessed asked again a bounded number of times, then a ThrottlingError.
 */
export async function batchGetConsistent(documentClient: DynamoDBDocumentClient, table: string, keys: readonly Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += batchGetKeysMax) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(start, start + batchGetKeysMax);
    for (let round = 0; round < unprocessedRoundsMax && pending !== undefined && pending.length > 0; round++) {
      const request = pending;
      const result: BatchGetCommandOutput = await guard(() => documentClient.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: request, ConsistentRead: true } } })));
      found.push(...(result.Responses?.[table] ?? []));
      pending = result.UnprocessedKeys?.[table]?.Keys;
    }
    if (pending !== undefined && pending.length > 0) throw new ThrottlingError(`${table}: ${pending.length} keys still unprocessed after ${unprocessedRoundsMax} batch reads`);
  }
  return found;
}
