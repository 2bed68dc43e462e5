/**
 * `npm run openapi`: writes docs/openapi.json from the routes' request schemas (lambdas/handlers/openapi.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../lambdas/handlers/openapi';
import { apiRoutes } from '../lambdas/handlers/routes';

export const openApiPath = join(__dirname, '..', 'docs', 'openapi.json');

export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(apiRoutes), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(openApiPath, renderOpenApi());
  console.log(`wrote ${openApiPath}`);
}
