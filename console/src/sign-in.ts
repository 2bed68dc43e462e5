/**
 * How the page signs in, decided by the server's `/console/config.json`: locally with an API key (the engine serves
 * `{ "signIn": "api-key" }`), on AWS with the Cognito user pool's hosted sign-in (the console stack writes the pool's
 * sign-in origin, the app client and the redirect address). The Cognito path is the OAuth 2.0 authorization code flow
 * with PKCE (RFC 7636): the page never holds a client secret, and a stolen code is useless without the verifier,
 * which never leaves this tab's sessionStorage.
 */
import { authorizeUrl, base64Url, codeChallenge, type CognitoSignIn, type SignInConfig } from './pkce';

export { signOutUrl, type CognitoSignIn, type SignInConfig } from './pkce';

const pendingStorage = 'settlement-console-sign-in';
/** Bytes of randomness in the PKCE verifier (43 characters of base64url, the RFC's minimum length). */
const verifierBytes = 32;

export async function loadSignInConfig(): Promise<SignInConfig> {
  const response = await fetch('/console/config.json', { cache: 'no-store' });
  if (!response.ok) return { signIn: 'api-key' };
  const config = (await response.json()) as Partial<CognitoSignIn> & { signIn?: string };
  if (config.signIn === 'cognito' && config.signInOrigin?.startsWith('https://') && config.clientId && config.redirectUri) return config as CognitoSignIn;
  return { signIn: 'api-key' };
}

/** Sends the browser to the hosted sign-in; it comes back to the console with `?code=…&state=…`. */
export async function startCognitoSignIn(config: CognitoSignIn): Promise<void> {
  const verifier = base64Url(crypto.getRandomValues(new Uint8Array(verifierBytes)));
  const state = base64Url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(pendingStorage, JSON.stringify({ verifier, state }));
  location.assign(authorizeUrl(config, state, await codeChallenge(verifier)));
}

/**
 * On the way back from the hosted sign-in: exchanges the code for tokens and returns the ID token (what the API's
 * Cognito authorizer checks), or undefined when this page load is not a sign-in's return. The code and state are
 * taken out of the address bar either way.
 */
export async function completeCognitoSignIn(config: CognitoSignIn): Promise<string | undefined> {
  const query = new URLSearchParams(location.search);
  const code = query.get('code');
  const state = query.get('state');
  if (code === null || state === null) return undefined;
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  const pending = JSON.parse(sessionStorage.getItem(pendingStorage) ?? 'null') as { verifier: string; state: string } | null;
  sessionStorage.removeItem(pendingStorage);
  if (pending === null || pending.state !== state) throw new Error('the sign-in answer does not match a sign-in started in this tab; sign in again');
  const response = await fetch(`${config.signInOrigin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, code, redirect_uri: config.redirectUri, code_verifier: pending.verifier }),
  });
  if (!response.ok) throw new Error(`the sign-in service refused the code (HTTP ${response.status}); sign in again`);
  const tokens = (await response.json()) as { id_token?: string };
  if (!tokens.id_token) throw new Error('the sign-in service returned no ID token');
  return tokens.id_token;
}

