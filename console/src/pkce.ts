/**
 * The pieces of the console's Cognito sign-in that decide what is sent (sign-in.ts runs the flow in the browser):
 * the PKCE code challenge (RFC 7636, S256) and the hosted sign-in's addresses. No DOM here, so the unit tests run
 * them as they are.
 */
export interface CognitoSignIn {
  readonly signIn: 'cognito';
  /** `https://<prefix>.auth.<region>.amazoncognito.com` */
  readonly signInOrigin: string;
  readonly clientId: string;
  /** `https://<console domain>/console` */
  readonly redirectUri: string;
}
export type SignInConfig = { readonly signIn: 'api-key' } | CognitoSignIn;

export function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The S256 code challenge of a verifier: base64url(SHA-256(verifier)). */
export async function codeChallenge(verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

export function authorizeUrl(config: CognitoSignIn, state: string, challenge: string): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: 'openid email profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${config.signInOrigin}/oauth2/authorize?${query}`;
}

/** The hosted sign-out, which ends the Cognito session too and comes back to the console. */
export function signOutUrl(config: CognitoSignIn): string {
  return `${config.signInOrigin}/logout?${new URLSearchParams({ client_id: config.clientId, logout_uri: config.redirectUri })}`;
}
