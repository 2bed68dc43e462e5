/**
 * Domain errors → gRPC statuses. The message names the offending field in the proto's own spelling
 * ("payer_bic: ..."); trailers carry the stable code (`error-code`), the field (`error-field`) and, for internal
 * errors, a reference to find the logged cause (`error-reference`). Internals never leave the server.
 */
import { randomUUID } from 'node:crypto';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode, RateLimitedError, SettlementEngineError, ValidationError, type ErrorKind } from '../../domain/errors';
import { assertNever } from '../../domain/settlement';
import { EnumPrefix, toProtoFieldName } from './mapping';

/** Enum request fields: the domain's "must be one of SWIFT, ..." is rewritten in the proto's enum names. */
const enumFieldValues: Readonly<Record<string, readonly string[]>> = {
  rail: ['SWIFT', 'SEPA', 'ACH', 'MOCK'].map((value) => `${EnumPrefix.rail}${value}`),
  kind: ['DOMESTIC', 'INTERNATIONAL'].map((value) => `${EnumPrefix.kind}${value}`),
};

export function grpcStatusForKind(kind: ErrorKind, error?: SettlementEngineError): status {
  switch (kind) {
    case 'validation':
      return status.INVALID_ARGUMENT;
    case 'not_found':
      return status.NOT_FOUND;
    case 'conflict':
      return status.ALREADY_EXISTS;
    case 'precondition':
    case 'business':
      return status.FAILED_PRECONDITION;
    case 'transient':
      return status.UNAVAILABLE;
    case 'auth':
      return error instanceof RateLimitedError ? status.RESOURCE_EXHAUSTED : status.UNAUTHENTICATED;
    case 'forbidden':
      return status.PERMISSION_DENIED;
    case 'internal':
      return status.INTERNAL;
    default:
      return assertNever(kind);
  }
}

export interface ErrorLogger {
  error(message: string, detail: Record<string, unknown>): void;
}

export const consoleErrorLogger: ErrorLogger = {
  error: (message, detail) => console.error(JSON.stringify({ level: 'ERROR', message, ...detail, error: String(detail.error) })),
};

/** A failure that belongs to the gRPC edge itself (UNIMPLEMENTED, stream limits, shutting down), with its status. */
export class GrpcStatusError extends Error {
  override readonly name = 'GrpcStatusError' as const;
  constructor(
    readonly grpcStatus: status,
    message: string,
    /** For RESOURCE_EXHAUSTED and UNAVAILABLE: when the client may try again (the pushback trailer). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * The gRPC counterpart of HTTP's Retry-After: the retry pushback trailer of gRPC's retry design (A6), which
 * grpc-js clients with a retry policy honour, in milliseconds.
 */
export const retryPushbackKey = 'grpc-retry-pushback-ms';
/** Pushback for transient refusals that carry no figure of their own. */
export const transientRetryAfterMs = 1_000;

function withPushback(metadata: Metadata, code: status, retryAfterMs: number | undefined): Metadata {
  if (code === status.RESOURCE_EXHAUSTED || code === status.UNAVAILABLE) metadata.set(retryPushbackKey, String(Math.max(1, Math.ceil(retryAfterMs ?? transientRetryAfterMs))));
  return metadata;
}

/** Builds the ServiceError a handler returns for any thrown value. */
export function toServiceError(error: unknown, context: { method: string; logger?: ErrorLogger }): Partial<ServiceError> {
  const metadata = new Metadata();
  if (error instanceof GrpcStatusError) return { code: error.grpcStatus, details: error.message, metadata: withPushback(metadata, error.grpcStatus, error.retryAfterMs) };
  if (error instanceof SettlementEngineError && error.kind !== 'internal') {
    metadata.set('error-code', error.code);
    if (error instanceof ValidationError) {
      const field = toProtoFieldName(error.field);
      metadata.set('error-field', field);
      const allowed = enumFieldValues[error.field];
      const reason = allowed !== undefined && /must be one of/.test(error.reason) ? `is required: one of ${allowed.join(', ')}` : error.reason;
      return { code: status.INVALID_ARGUMENT, details: `${field}: ${reason}`, metadata };
    }
    const code = grpcStatusForKind(error.kind, error);
    return { code, details: error.message, metadata: withPushback(metadata, code, error instanceof RateLimitedError ? error.retryAfterMs : undefined) };
  }
  if (isStoreUnreachable(error)) {
    metadata.set('error-code', ErrorCode.storeUnavailable);
    return { code: status.UNAVAILABLE, details: 'the settlement store is unavailable; retry later', metadata: withPushback(metadata, status.UNAVAILABLE, undefined) };
  }
  const reference = randomUUID();
  (context.logger ?? consoleErrorLogger).error('gRPC call failed with an internal error', { method: context.method, reference, error, stack: (error as Error)?.stack });
  metadata.set('error-code', error instanceof SettlementEngineError ? error.code : ErrorCode.unexpected);
  metadata.set('error-reference', reference);
  return { code: status.INTERNAL, details: `internal error (reference ${reference})`, metadata };
}

/**
 * Network failures reaching DynamoDB that an adapter let through untranslated: transient, so UNAVAILABLE rather
 * than INTERNAL (a client retries UNAVAILABLE, and that is the right reaction).
 */
function isStoreUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(String(code)) || ['TimeoutError', 'RequestTimeout', 'ServiceUnavailable', 'InternalServerError'].includes(String(name));
}
