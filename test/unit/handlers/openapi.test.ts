/**
 * The API document is generated from the same schemas that validate requests; this keeps docs/openapi.json current
 * and every route's path parameters declared.
 */
import { readFileSync } from 'node:fs';
import { openApiPath, renderOpenApi } from '../../../bin/openapi';
import { apiRoutes } from '../../../lambdas/handlers/routes';

describe('docs/openapi.json', () => {
  it('is what `npm run openapi` writes from the routes today (run it after changing a route or schema)', () => {
    expect(readFileSync(openApiPath, 'utf8')).toBe(renderOpenApi());
  });

  it('declares a schema for every path parameter of every route, so none reaches a handler unchecked', () => {
    const undeclared = apiRoutes.flatMap((route) => {
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const declared = Object.keys(route.request.params?.shape ?? {});
      return names.filter((name) => !declared.includes(name)).map((name) => `${route.method} ${route.path}: {${name}}`);
    });
    expect(undeclared).toEqual([]);
  });

  it('documents every route with a summary', () => {
    expect(apiRoutes.filter((route) => !route.summary).map((route) => `${route.method} ${route.path}`)).toEqual([]);
  });
});
