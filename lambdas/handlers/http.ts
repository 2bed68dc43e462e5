/**
 * REST edge: API Gateway proxy events (REST API, payload 1.0) in, proxy results out. Routing, body parsing and
 * the mapping of typed errors to HTTP statuses live here; routes call one use case each.
 */
import middy from '@middy/core';
import { z } from 'zod';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { RateLimitedError, SettlementEngineError, UnauthenticatedError, ValidationError, type ErrorKind } from '../domain/errors';
import { ForbiddenError, authorize, localServicePrincipal, type Permission, type Principal } from '../domain/access';
import { auditRefusal } from '../usecases/operations/audit';
import type { EngineDeps } from '../usecases/deps';
import { cognitoClaimsOf, principalOfCognitoClaims } from '../adapters/auth/cognito-claims';
import { flushMetrics } from './middleware';
import { validatePart, type RequestSchema } from './request-schemas';
import { parseStrictJson } from './strict-json';

/** Largest request body accepted (bytes); API Gateway enforces its own 10 MB cap before this. */
export const requestBodyBytesMax = 64 * 1024;
/** Deepest JSON nesting accepted in a body. */
export const jsonDepthMax = 8;

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** The authenticated client, for audit entries; undefined on open routes. */
  readonly principal?: string;
  /** The authenticated caller with its role and banks (the engine itself when no credentials are configured). */
  readonly caller: Principal;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly body?: unknown;
  /** A non-JSON body (Prometheus text, the console's page and script, audit exports). */
  readonly text?: string;
  /** Content type of `text`; default Prometheus text. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiDeps extends EngineDeps {
  /** True when the database answers. */
  checkDatabase(): Promise<boolean>;
  /** Prometheus exposition text, where this process keeps a registry (local engine, gRPC task). */
  metricsText?(): Promise<string>;
  /** Resolves the caller from request headers, or undefined when credentials are missing or wrong. */
  authenticate?(headers: Readonly<Record<string, string>>, route: Route): Promise<Principal | string | undefined>;
  /** On AWS: the role of an IAM caller (PRINCIPAL_ROLES); absent: IAM callers are service callers. */
  roleOfIdentity?(identity: string): Pick<Principal, 'role' | 'bics'> | undefined;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path template, `{name}` for a path parameter. */
  readonly path: string;
  /** Whether the caller must present credentials (everything but /health). */
  readonly authenticated: boolean;
  /** What the route accepts (request-schemas.ts): checked before `handle` runs; also the API's documentation. */
  readonly request: RequestSchema;
  /** One line for the API document. */
  readonly summary?: string;
  /** What the route does, for the access policy (domain/access.ts); checked before the handler runs. */
  readonly permission: Permission;
  handle(request: ApiRequest, deps: ApiDeps): Promise<ApiResponse>;
}

const statusByKind: Readonly<Record<ErrorKind, number>> = {
  validation: 400,
  not_found: 404,
  conflict: 409,
  precondition: 422,
  business: 422,
  transient: 503,
  auth: 401,
  forbidden: 403,
  internal: 500,
};

export function errorResponse(error: unknown): ApiResponse {
  if (error instanceof SettlementEngineError && error.kind !== 'internal') {
    const statusCode = httpStatusOf(error) ?? (error.code === 'AUTH.RATE_LIMITED' ? 429 : statusByKind[error.kind]);
    return {
      statusCode,
      body: { error: { code: error.code, message: error.message, ...(error instanceof ValidationError && { field: error.field }) } },
      ...((statusCode === 503 || statusCode === 429) && { headers: { 'retry-after': retryAfterSeconds(error) } }),
    };
  }
  // Never leak internals: the log has the detail.
  console.error(JSON.stringify({ level: 'error', message: 'unhandled error in API', error: String(error), stack: (error as Error)?.stack }));
  return { statusCode: 500, body: { error: { code: 'INTERNAL.UNEXPECTED', message: 'internal error' } } };
}

/** Seconds a refused client should wait (RFC 9110 Retry-After: whole seconds, at least 1). */
export function retryAfterSeconds(error: unknown): string {
  const milliseconds = error instanceof RateLimitedError ? error.retryAfterMs : 1_000;
  return String(Math.max(1, Math.ceil(milliseconds / 1000)));
}

interface CompiledRoute {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly parameterNames: readonly string[];
}

function compile(route: Route): CompiledRoute {
  const parameterNames: string[] = [];
  const pattern = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
    parameterNames.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${pattern}/?$`), parameterNames };
}

/** Routes with fixed segments win over parameterised ones (`/settlements/parked` before `/settlements/{id}`). */
function specificity(route: Route): number {
  return -(route.path.match(/\{/g)?.length ?? 0);
}

export function createRouter(routes: readonly Route[]) {
  const compiled = [...routes].sort((a, b) => specificity(b) - specificity(a)).map(compile);
  return async (event: APIGatewayProxyEvent, deps: ApiDeps): Promise<ApiResponse> => {
    const path = event.path;
    const candidates = compiled.flatMap((entry) => {
      const match = entry.pattern.exec(path);
      return match ? [{ entry, match }] : [];
    });
    if (candidates.length === 0) return { statusCode: 404, body: { error: { code: 'HTTP.NOT_FOUND', message: `no route for ${path}` } } };
    const found = candidates.find(({ entry }) => entry.route.method === event.httpMethod);
    if (!found) {
      return { statusCode: 405, headers: { allow: [...new Set(candidates.map(({ entry }) => entry.route.method))].join(', ') }, body: { error: { code: 'HTTP.METHOD_NOT_ALLOWED', message: `${event.httpMethod} is not allowed on ${path}` } } };
    }
    const headers = lowerCaseHeaders(event.headers);
    try {
      const route = found.entry.route;
      const caller = route.authenticated ? await callerOf(event, headers, route, deps) : undefined;
      // Roles before the body: a refused caller's request is never parsed, and nothing is written.
      if (caller) authorize(caller, route.permission);
      const schema = route.request;
      const rawParameters = Object.fromEntries(found.entry.parameterNames.map((name, index) => [name, safeDecode(found.match[index + 1], name)]));
      const pathParameters = validatePart(schema.params ?? noParameters, rawParameters, 'path') as Record<string, string>;
      const rawQuery = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
      const query = validatePart(schema.query ?? noParameters, rawQuery, 'query') as Record<string, string>;
      const bodyAbsent = (event.body ?? '') === '';
      let body: unknown;
      if (schema.body === undefined) {
        if (!bodyAbsent) throw new ValidationError('body', 'this route takes no body');
      } else if (!(bodyAbsent && schema.bodyOptional)) {
        body = validatePart(schema.body, parseBody(event, headers), 'body', schema.bodyFieldPrefix);
      }
      // Without configured credentials there is no principal to name (audit entries say so, as before roles).
      const principal = caller === undefined || caller === localServicePrincipal ? undefined : caller.clientName;
      return await route.handle({ method: event.httpMethod, path, pathParameters, query, headers, body, principal, caller: caller ?? localServicePrincipal }, deps);
    } catch (error) {
      if (error instanceof ForbiddenError) await auditRefusal(deps, error, `${event.httpMethod} ${found.entry.route.path}`);
      return errorResponse(error);
    }
  };
}

/** What a front door decides from the request line and headers alone, before any body byte is read. */
export type PreflightVerdict = { readonly principal?: Principal } | { readonly refusal: APIGatewayProxyResult };

/**
 * The authentication half of the router, for a server that can answer before reading the body (the local HTTP
 * server; on AWS, API Gateway's IAM authorizer plays this part): finds the route, refuses a body announced larger
 * than the limit (413), admits the caller (credentials, then rate) and checks its role. The principal it returns is
 * handed to the router as the authorizer's, so the key is checked once per request.
 */
export function createPreflight(routes: readonly Route[], deps: () => ApiDeps) {
  const compiled = [...routes].sort((a, b) => specificity(b) - specificity(a)).map(compile);
  return async (method: string, path: string, rawHeaders: Readonly<Record<string, string>>): Promise<PreflightVerdict> => {
    const found = compiled.find((entry) => entry.route.method === method && entry.pattern.test(path));
    const headers = lowerCaseHeaders(rawHeaders);
    const announced = Number(headers['content-length'] ?? '0');
    if (Number.isFinite(announced) && announced > requestBodyBytesMax) return { refusal: toProxyResult(errorResponse(new PayloadTooLargeError())) };
    const authenticate = deps().authenticate;
    // Unknown routes and open ones go through: the router answers them (404, 405, /health).
    if (found === undefined || !found.route.authenticated || authenticate === undefined) return {};
    try {
      const authenticated = await authenticate(headers, found.route);
      if (!authenticated) throw new UnauthenticatedError('valid credentials are required (Authorization: Bearer <api key>)');
      const principal = asPrincipal(authenticated);
      authorize(principal, found.route.permission);
      return { principal };
    } catch (error) {
      if (error instanceof ForbiddenError) await auditRefusal(deps(), error, `${method} ${found.route.path}`);
      return { refusal: toProxyResult(errorResponse(error)) };
    }
  };
}

function asPrincipal(authenticated: string | Principal): Principal {
  return typeof authenticated === 'string' ? { clientName: authenticated, method: 'api-key', role: 'service', bics: [] } : authenticated;
}

/**
 * The caller of an authenticated route: admitted by a front door before the body was read (the local server's
 * preflight), else from the engine's key check (gRPC task, embedded use), else from API Gateway's IAM authorizer
 * (its role from PRINCIPAL_ROLES) or its Cognito authorizer (the console's API: the role from the user's groups,
 * adapters/auth/cognito-claims.ts), else the engine itself when no credentials are configured (embedded use, tests).
 */
async function callerOf(event: APIGatewayProxyEvent, headers: Readonly<Record<string, string>>, route: Route, deps: ApiDeps): Promise<Principal> {
  const admitted = event.requestContext?.authorizer?.principal as Principal | undefined;
  if (admitted !== null && typeof admitted === 'object' && typeof admitted.clientName === 'string') return admitted;
  // The console's API on AWS: API Gateway's Cognito authorizer verified the ID token; its groups are the role.
  const claims = cognitoClaimsOf(event.requestContext?.authorizer);
  if (claims) {
    const result = principalOfCognitoClaims(claims);
    if ('refused' in result) throw new ForbiddenError(result.refused, route.permission, result.reason);
    return result.principal;
  }
  if (deps.authenticate) {
    const authenticated = await deps.authenticate(headers, route);
    if (!authenticated) throw new UnauthenticatedError('valid credentials are required (Authorization: Bearer <api key>)');
    return asPrincipal(authenticated);
  }
  const identity = event.requestContext?.identity?.userArn ?? event.requestContext?.identity?.caller ?? undefined;
  if (!identity) return localServicePrincipal;
  const binding = deps.roleOfIdentity ? deps.roleOfIdentity(identity) : { role: 'service' as const, bics: [] };
  const principal: Principal = { clientName: identity, method: 'iam', role: binding?.role ?? 'auditor', bics: binding?.bics ?? [] };
  if (binding === undefined) throw new ForbiddenError(principal, route.permission, 'no role is configured for this IAM principal (PRINCIPAL_ROLES)');
  return principal;
}

export function toProxyResult(response: ApiResponse): APIGatewayProxyResult {
  if (response.text !== undefined) {
    return { statusCode: response.statusCode, headers: { 'content-type': response.contentType ?? 'text/plain; version=0.0.4; charset=utf-8', ...response.headers }, body: response.text };
  }
  return {
    statusCode: response.statusCode,
    headers: { 'content-type': 'application/json', ...response.headers },
    body: response.body === undefined ? '' : JSON.stringify(response.body),
  };
}

export function createApiHandler(routes: readonly Route[], deps: () => ApiDeps) {
  const route = createRouter(routes);
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(flushMetrics(() => deps().metrics))
    .handler(async (event: APIGatewayProxyEvent, _context: Context) => toProxyResult(await route(event, deps())));
}

function parseBody(event: APIGatewayProxyEvent, headers: Readonly<Record<string, string>>): unknown {
  const raw = event.body ?? '';
  if (raw === '') throw new ValidationError('body', 'a JSON body is required');
  const contentType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (contentType !== 'application/json') throw new UnsupportedMediaTypeError();
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > requestBodyBytesMax) throw new PayloadTooLargeError();
  return parseStrictJson(text, jsonDepthMax);
}

const noParameters = z.strictObject({});

function safeDecode(value: string, name: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ValidationError(name, 'is not valid URL encoding');
  }
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).flatMap(([name, value]) => (value === undefined ? [] : [[name.toLowerCase(), value]])));
}

/** 415: the body is not JSON. */
export class UnsupportedMediaTypeError extends ValidationError {
  constructor() {
    super('content-type', 'must be application/json');
  }
}

/** 413: the body is larger than requestBodyBytesMax. */
export class PayloadTooLargeError extends ValidationError {
  constructor() {
    super('body', `is larger than ${requestBodyBytesMax} bytes`);
  }
}

/** Status of a client error, refined for the two HTTP-specific cases. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof UnsupportedMediaTypeError) return 415;
  if (error instanceof PayloadTooLargeError) return 413;
  return undefined;
}
