/**
 * The operations console's files (page, script, styles), served by the local engine and the Fargate service beside
 * the API. They carry no data: the page signs in with an API key and calls the API like any client, so every role
 * and scope applies to it unchanged.
 */
import { Permission } from '../../domain/access';
import { consoleAssets } from '../../adapters/console/bundle';
import { consoleContentSecurityPolicy } from '../../adapters/console/security-headers';
import type { ApiResponse, Route } from '../http';
import { noInput } from '../request-schemas';

/** The page may run only its own script and styles and talk only to this origin. */
const securityHeaders = {
  'content-security-policy': consoleContentSecurityPolicy(),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const file = (path: string, contentType: string, pick: (assets: Awaited<ReturnType<typeof consoleAssets>>) => string): Route => ({
  method: 'GET',
  path,
  authenticated: false,
  permission: Permission.settlementRead,
  request: noInput,
  summary: 'The operations console (no data: it calls the API with the key it is given).',
  handle: async (): Promise<ApiResponse> => ({ statusCode: 200, text: pick(await consoleAssets()), contentType, headers: securityHeaders }),
});

export const consoleRoutes: readonly Route[] = [
  file('/console', 'text/html; charset=utf-8', (assets) => assets.html),
  file('/console/app.js', 'text/javascript; charset=utf-8', (assets) => assets.script),
  file('/console/app.css', 'text/css; charset=utf-8', (assets) => assets.css),
  // How the page signs in here: with an API key (on AWS the console stack writes the Cognito settings instead).
  file('/console/config.json', 'application/json', () => JSON.stringify({ signIn: 'api-key' })),
];
