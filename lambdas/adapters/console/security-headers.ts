/**
 * The console's Content-Security-Policy, one text for both places that serve the page: the local engine
 * (handlers/routes/console-routes.ts) and CloudFront's response headers policy (infra/constructs/console-site.ts).
 * The page runs only its own script and styles and calls only its own origin; on AWS it also exchanges the
 * sign-in code for tokens at the Cognito domain, the one other origin it may reach.
 */
export function consoleContentSecurityPolicy(extraConnectSources: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${["'self'", ...extraConnectSources].join(' ')}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
