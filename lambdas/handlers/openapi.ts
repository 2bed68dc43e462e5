/**
 * The REST API as an OpenAPI 3.1 document, built from the routes and their request schemas (request-schemas.ts):
 * the definitions that validate requests are the ones documented, so the two cannot drift. bin/openapi.ts writes
 * it to docs/openapi.json; test/unit/handlers/openapi.test.ts fails when that file is not current.
 */
import { z } from 'zod';
import type { Route } from './http';
import { noInput } from './request-schemas';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable code, e.g. VALIDATION.INVALID_FIELD.' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The request field at fault (validation errors).' },
      },
    },
  },
} as const;

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function parameters(schema: z.ZodObject | undefined, location: 'path' | 'query'): unknown[] {
  if (schema === undefined) return [];
  const document = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(document.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: location, required: location === 'path' || (document.required ?? []).includes(name), ...(description !== undefined && { description }), schema: rest };
  });
}

export function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const request = route.request ?? noInput;
    paths[route.path] ??= {};
    paths[route.path][route.method.toLowerCase()] = {
      summary: route.summary ?? '',
      ...(route.authenticated ? { security: [{ apiKey: [] }] } : { security: [] }),
      parameters: [...parameters(request.params, 'path'), ...parameters(request.query, 'query')],
      ...(request.body !== undefined && {
        requestBody: { required: !request.bodyOptional, content: { 'application/json': { schema: jsonSchema(request.body) } } },
      }),
      responses: {
        '2XX': { description: 'Success.' },
        '4XX': { description: 'Refused: the error names the field at fault (400), or credentials (401), rate (429, Retry-After).', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        '5XX': { description: 'Transient (503, Retry-After) or internal (500, no detail).', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Settlement Engine REST API',
      version: '1',
      description:
        'Generated from lambdas/handlers/request-schemas.ts by `npm run openapi`; docs/api.md explains it. Every request object is strict: an unknown field, a duplicated JSON key or a value outside its pattern is refused with 400 naming the field, and nothing is written.',
    },
    servers: [{ url: 'http://127.0.0.1:8086', description: 'npm start' }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <api key> (or x-api-key); IAM (SigV4) on AWS.' } },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}
