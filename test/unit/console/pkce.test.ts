/**
 * The console's Cognito sign-in on AWS: the authorization code flow with PKCE (RFC 7636) the page runs against the
 * user pool's hosted sign-in. The pieces that decide what is sent are checked here; the flow itself needs a real
 * user pool (docs/console.md says how to try it).
 */
import { createHash } from 'node:crypto';
import { authorizeUrl, base64Url, codeChallenge, signOutUrl, type CognitoSignIn } from '../../../console/src/pkce';

const config: CognitoSignIn = {
  signIn: 'cognito',
  signInOrigin: 'https://settlement-console-111122223333.auth.eu-west-1.amazoncognito.com',
  clientId: '4example0client0id',
  redirectUri: 'https://d111111abcdef8.cloudfront.net/console',
};

describe('the console sign-in with Cognito', () => {
  it('derives the S256 code challenge: base64url(SHA-256(verifier)), as Node computes it independently', async () => {
    const verifier = 'dBjftJeZ4CVP-mJ92AlKZLTb1nVDaAYwmHQrI9ecAbs';
    expect(await codeChallenge(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });

  it('encodes bytes as base64url without padding', () => {
    expect(base64Url(new Uint8Array([0xfb, 0xff, 0xfe]))).toBe('-__-');
    expect(base64Url(new Uint8Array([0x66]))).toBe('Zg');
  });

  it('asks the hosted sign-in for a code (never a token) with the challenge, the state and the console as the way back', () => {
    const url = new URL(authorizeUrl(config, 'state-1', 'challenge-1'));

    expect(`${url.origin}${url.pathname}`).toBe(`${config.signInOrigin}/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: config.clientId,
      redirect_uri: config.redirectUri,
      scope: 'openid email profile',
      state: 'state-1',
      code_challenge: 'challenge-1',
      code_challenge_method: 'S256',
    });
  });

  it('signs out at the hosted sign-in and comes back to the console', () => {
    const url = new URL(signOutUrl(config));
    expect(`${url.origin}${url.pathname}`).toBe(`${config.signInOrigin}/logout`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: config.clientId, logout_uri: config.redirectUri });
  });
});
