/**
 * One gate for both APIs: who is calling (API key, or a verified client certificate under mutual TLS), and whether
 * they are within their rate. Throws the domain's auth errors; each API maps them (UNAUTHENTICATED / 401,
 * RESOURCE_EXHAUSTED / 429). Checked before anything is parsed or written.
 */
import { ForbiddenError, Permission, type Principal } from '../../domain/access';
import { RateLimitedError, UnauthenticatedError } from '../../domain/errors';
import { ApiKeyVerifier, presentedApiKey, type ApiKeyEntry, type PresentedCredentials } from './api-keys';
import { TokenBucketRateLimiter, type RateLimit } from './rate-limiter';
import { IdentityRoles } from './identity-roles';

export type { Principal } from '../../domain/access';

export interface CallerCredentials extends PresentedCredentials {
  /** Subject common name of a client certificate the TLS handshake verified against the client CA. */
  readonly verifiedCertificateName?: string;
}

export class AccessControl {
  readonly #verifier: ApiKeyVerifier;
  readonly #limiter: TokenBucketRateLimiter;
  readonly #identityRoles: IdentityRoles;

  constructor(options: { apiKeys: readonly ApiKeyEntry[]; rateLimit: RateLimit; identityRoles?: IdentityRoles; nowMs?: () => number }) {
    this.#verifier = new ApiKeyVerifier(options.apiKeys);
    this.#limiter = new TokenBucketRateLimiter(options.rateLimit, options.nowMs);
    this.#identityRoles = options.identityRoles ?? IdentityRoles.unconfigured;
  }

  /**
   * Authenticates the caller, then takes one token from its bucket. A presented API key must be valid even when
   * a client certificate was verified (a wrong key is never ignored); without a key, the certificate identifies
   * the caller as `cert:<common name>`.
   */
  admit(credentials: CallerCredentials): Principal {
    const principal = this.authenticate(credentials);
    const decision = this.#limiter.take(principal.clientName);
    if (!decision.allowed) throw new RateLimitedError(`client ${principal.clientName} exceeded ${this.#limiter.limit.ratePerSecond} requests/s (burst ${this.#limiter.limit.burst}); retry in ${decision.retryAfterMs} ms`, decision.retryAfterMs);
    return principal;
  }

  authenticate(credentials: CallerCredentials): Principal {
    const key = presentedApiKey(credentials);
    if (key !== undefined) {
      const entry = this.#verifier.verify(key);
      if (entry === undefined) throw new UnauthenticatedError('the API key is not valid');
      return { clientName: entry.clientName, method: 'api-key', role: entry.role, bics: entry.bics };
    }
    if (credentials.verifiedCertificateName) {
      const clientName = `cert:${credentials.verifiedCertificateName}`;
      const binding = this.#identityRoles.bindingOf(clientName);
      // A verified certificate without a role is authenticated but may do nothing (when roles are configured).
      if (binding === undefined) throw new ForbiddenError({ clientName, method: 'client-certificate', role: 'auditor', bics: [] }, Permission.settlementRead, 'no role is configured for this certificate (PRINCIPAL_ROLES)');
      return { clientName, method: 'client-certificate', ...binding };
    }
    if (credentials.authorization !== undefined) throw new UnauthenticatedError('the authorization header must be "Bearer <api key>"');
    throw new UnauthenticatedError('credentials required: send "authorization: Bearer <api key>" or "x-api-key: <api key>"');
  }
}

/** Credentials from HTTP headers (names case-insensitive, as API Gateway and Node both may deliver them). */
export function httpCredentials(headers: Readonly<Record<string, string | string[] | undefined>> | null | undefined): PresentedCredentials {
  const find = (name: string): string | undefined => {
    for (const [key, value] of Object.entries(headers ?? {})) {
      if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
    }
    return undefined;
  };
  return { authorization: find('authorization'), apiKey: find('x-api-key') };
}
