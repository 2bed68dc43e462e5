/**
 * The REST routes API Gateway exposes: exactly the route table of the API handler (lambdas/handlers/routes),
 * which serves the same routes on :8086 locally. bin/app.ts hands that table to the stack (infra never imports
 * handler code: .dependency-cruiser.cjs), so a route added to the handler is deployed with it, and its
 * authorization follows the handler's own `authenticated` flag (IAM on AWS).
 *
 * Explicit resources instead of a `{proxy+}`: an unknown path is refused by API Gateway before any code runs, and
 * every route's authorization is visible in the template (asserted in test/infra/rest-api.test.ts).
 */
import { referenceLengthMax, requestFields, rails, settlementIdLengthMax, settlementKinds } from '../lambdas/domain/settlement';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What the stack needs to know of a handler route: its method, path and whether it authenticates. */
export interface RouteDeclaration {
  readonly method: HttpMethod;
  readonly path: string;
  readonly authenticated: boolean;
}

/**
 * Which function API Gateway sends a route to (infra/function-catalogue.ts): all three run the same handler, with
 * different grants. `health` is the small, unauthenticated-capable probe; `admin` holds the writes to balances,
 * the ledger and reference data; `api` submits settlements and serves every read.
 */
export type ApiFunctionRole = 'health' | 'api' | 'admin';

/** Which JSON-schema model API Gateway checks a request body against before invoking the function. */
export type BodyModel = 'settlementRequest' | 'jsonObject';

export interface RestRoute {
  readonly method: HttpMethod;
  /** Resource path as API Gateway declares it, with `{parameters}`. */
  readonly path: string;
  /** IAM (SigV4) for every authenticated route; NONE for the liveness probe. */
  readonly authorization: 'IAM' | 'NONE';
  readonly bodyModel?: BodyModel;
  readonly function: ApiFunctionRole;
}

export const routeKey = (route: { readonly method: string; readonly path: string }) => `${route.method} ${route.path}`;

/**
 * Routes of the handler that API Gateway does not expose. On AWS the metrics go to CloudWatch as EMF
 * (docs/deploy.md); there is no Prometheus registry in a Lambda worth scraping.
 */
export const routesNotOnApiGateway: readonly string[] = ['GET /metrics'];

/**
 * Routes whose body API Gateway checks before the function runs: the ones where a body is required. Routes with an
 * optional body (requeue, abandon, emergency close with a reason) are left to the handler.
 */
export const bodyModels: Readonly<Record<string, BodyModel>> = {
  'POST /api/v1/settlements': 'settlementRequest',
  'POST /api/v1/banks': 'jsonObject',
  'PUT /api/v1/banks/{bic}/status': 'jsonObject',
  'POST /api/v1/accounts': 'jsonObject',
  'POST /api/v1/accounts/{accountId}/fund-in': 'jsonObject',
  'POST /api/v1/accounts/{accountId}/fund-out': 'jsonObject',
  'PUT /api/v1/accounts/{accountId}/status': 'jsonObject',
  'PUT /api/v1/accounts/{accountId}/floor': 'jsonObject',
  'PUT /api/v1/windows/{currency}': 'jsonObject',
  'POST /api/v1/statements': 'jsonObject',
};

/** The routes a settlement client uses: submission. Every other route that is not a read belongs to admin. */
const submissionRoutes: readonly string[] = ['POST /api/v1/settlements'];

export function apiFunctionOf(route: RouteDeclaration): ApiFunctionRole {
  if (route.path === '/health' || route.path.startsWith('/health/')) return 'health';
  if (route.method === 'GET' || submissionRoutes.includes(routeKey(route))) return 'api';
  return 'admin';
}

export function restRoutesOf(routes: readonly RouteDeclaration[]): RestRoute[] {
  return routes
    .filter((route) => !routesNotOnApiGateway.includes(routeKey(route)))
    .map((route) => ({
      method: route.method,
      path: route.path,
      authorization: route.authenticated ? 'IAM' : 'NONE',
      bodyModel: bodyModels[routeKey(route)],
      function: apiFunctionOf(route),
    }));
}

/**
 * The settlement request of DESIGN §5 as a JSON schema (draft 4, what API Gateway speaks), built from the domain's
 * own constants: every field required, no other field, enums for rail and kind, the length limits. Formats (BIC,
 * ISO 4217, minor units, dates) stay with the handler, which names the offending field.
 */
export const settlementRequestSchema: PlainSchema = {
  type: 'object',
  required: [...requestFields],
  additionalProperties: false,
  properties: {
    settlementId: { type: 'string', minLength: 1, maxLength: settlementIdLengthMax },
    payerBic: { type: 'string', minLength: 1 },
    payeeBic: { type: 'string', minLength: 1 },
    // Money is a decimal string on the wire; a JSON number is refused here as it is locally.
    amount: { type: 'string', minLength: 1 },
    currency: { type: 'string', minLength: 1 },
    rail: { type: 'string', enum: [...rails] },
    kind: { type: 'string', enum: [...settlementKinds] },
    valueDate: { type: 'string', minLength: 1 },
    reference: { type: 'string', minLength: 1, maxLength: referenceLengthMax },
  },
};

/** The subset of JSON schema the models use. */
export interface PlainSchema {
  readonly type?: 'object' | 'string';
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly properties?: Readonly<Record<string, PlainSchema>>;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly enum?: readonly string[];
}
