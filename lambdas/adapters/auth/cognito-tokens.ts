/**
 * The console's Cognito ID tokens, checked by the engine itself where no API Gateway authorizer stands in front: the
 * gRPC task's HTTP side, which serves /api/v1/events/* (the live feed, the last-hour stats) behind the console's
 * distribution. aws-jwt-verify checks the signature against the pool's published keys (its JWKS, fetched once and
 * cached), the issuer, the audience (the console's app client), `token_use` = `id` and the expiry; the claims are
 * then mapped to the principal exactly as for the console's REST stage (cognito-claims.ts), and the one access
 * policy (domain/access.ts) decides.
 *
 * Which pool and client: the console stack writes them to an SSM parameter (`{ issuer, clientId }`), because the
 * console stack is deployed after the engine stack (it needs the engine's functions and load balancer) and so cannot
 * hand the task an environment variable. The task reads the parameter when a token first arrives and again every
 * `signInRefreshMs`; until the console stack exists the feed answers 503.
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import { ForbiddenError, Permission, type Principal } from '../../domain/access';
import { StoreUnavailableError, UnauthenticatedError } from '../../domain/errors';
import { principalOfCognitoClaims } from './cognito-claims';

/** What the console stack publishes: the pool's issuer (`https://cognito-idp.<region>.amazonaws.com/<pool id>`) and the app client. */
export interface ConsoleSignIn {
  readonly issuer: string;
  readonly clientId: string;
}

/** How long the task trusts what it read of the sign-in parameter. */
export const signInRefreshMs = 5 * 60_000;
/** Longest Authorization header looked at (a Cognito ID token is a few kilobytes). */
export const idTokenLengthMax = 16 * 1024;

/** Reads the sign-in parameter (cached for signInRefreshMs); StoreUnavailableError while it does not exist. */
export function signInFromParameter(ssm: SSMClient, name: string, nowMs: () => number = Date.now): () => Promise<ConsoleSignIn> {
  let cached: { readonly value: ConsoleSignIn; readonly readAtMs: number } | undefined;
  return async () => {
    if (cached && nowMs() - cached.readAtMs < signInRefreshMs) return cached.value;
    let text: string | undefined;
    try {
      text = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (error) {
      throw new StoreUnavailableError(`the console's sign-in settings (SSM parameter ${name}) cannot be read; is the console stack deployed?`, { cause: error });
    }
    cached = { value: parseSignIn(text, name), readAtMs: nowMs() };
    return cached.value;
  };
}

export function parseSignIn(text: string | undefined, name: string): ConsoleSignIn {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    parsed = undefined;
  }
  const { issuer, clientId } = (parsed ?? {}) as Partial<Record<string, unknown>>;
  if (typeof issuer !== 'string' || !issuer.startsWith('https://') || typeof clientId !== 'string' || clientId === '') {
    throw new StoreUnavailableError(`SSM parameter ${name} must hold {"issuer":"https://…","clientId":"…"}`);
  }
  return { issuer: issuer.replace(/\/+$/, ''), clientId };
}

/** Authenticates a request by its ID token: the principal, or UnauthenticatedError (401) / ForbiddenError (403, audited by the caller). */
export function cognitoTokenAuthenticator(signIn: () => Promise<ConsoleSignIn>): (headers: Readonly<Record<string, string>>) => Promise<Principal> {
  const verifiers = new Map<string, ReturnType<typeof verifierFor>>();
  return async (headers) => {
    const header = headers.authorization ?? '';
    const token = header.replace(/^Bearer\s+/i, '').trim();
    if (token === '' || header.length > idTokenLengthMax) throw new UnauthenticatedError('a Cognito ID token is required (Authorization)');
    const settings = await signIn();
    const key = `${settings.issuer} ${settings.clientId}`;
    let verifier = verifiers.get(key);
    if (!verifier) verifiers.set(key, (verifier = verifierFor(settings)));
    let claims: Record<string, unknown>;
    try {
      claims = (await verifier.verify(token)) as Record<string, unknown>;
    } catch (error) {
      throw new UnauthenticatedError(`the ID token was refused (${(error as Error).name})`, { cause: error });
    }
    const result = principalOfCognitoClaims(claims);
    if ('refused' in result) throw new ForbiddenError(result.refused, Permission.settlementRead, result.reason);
    return result.principal;
  };
}

function verifierFor(settings: ConsoleSignIn) {
  return JwtRsaVerifier.create({
    issuer: settings.issuer,
    audience: settings.clientId,
    // Where Cognito publishes a pool's keys.
    jwksUri: `${settings.issuer}/.well-known/jwks.json`,
    customJwtCheck: ({ payload }) => validateCognitoJwtFields(payload, { tokenUse: 'id', clientId: settings.clientId }),
  });
}
