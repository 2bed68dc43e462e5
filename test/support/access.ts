/**
 * API keys for every role, for tests that exercise the access policy: one engine, several callers.
 */
import { randomBytes } from 'node:crypto';
import { hashApiKey, parseApiKeys } from '../../lambdas/adapters/auth/api-keys';
import type { AccessConfiguration } from '../../lambdas/adapters/auth/config';

export const callers = {
  participantDeut: 'participant:DEUTDEFF',
  participantIng: 'participant:INGBNL2A',
  operatorA: 'operator',
  operatorB: 'operator',
  operatorC: 'operator',
  auditor: 'auditor',
  service: 'service',
} as const;
export type CallerName = keyof typeof callers;

export interface RoleAccess extends AccessConfiguration {
  /** The raw key of each caller (client name = the caller's name). */
  readonly keys: Readonly<Record<CallerName, string>>;
  headers(caller: CallerName): Record<string, string>;
}

export function roleAccess(): RoleAccess {
  const keys = Object.fromEntries(Object.keys(callers).map((name) => [name, `sk_test_${randomBytes(24).toString('base64url')}`])) as Record<CallerName, string>;
  const config = (Object.entries(callers) as [CallerName, string][]).map(([name, binding]) => `${name}:${binding}:${hashApiKey(keys[name])}`).join(',');
  return {
    keys,
    headers: (caller) => ({ authorization: `Bearer ${keys[caller]}` }),
    apiKeys: parseApiKeys(config),
    rateLimit: { ratePerSecond: 100_000, burst: 100_000 },
    grpcMessageBytesMax: 64 * 1024,
    httpBodyBytesMax: 64 * 1024,
  };
}
