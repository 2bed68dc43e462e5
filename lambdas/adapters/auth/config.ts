/**
 * Access-control configuration from the environment, read once at the edge (the local engine, the gRPC task).
 * Every variable has a safe local default; a malformed value stops start-up with the variable named.
 */
import { readFileSync } from 'node:fs';
import { AccessConfigurationError, generateDevelopmentKey, parseApiKeys, type ApiKeyEntry, type DevelopmentKey } from './api-keys';
import type { RateLimit } from './rate-limiter';
import { IdentityRoles, principalRolesVariable } from './identity-roles';

export const AccessEnvironment = {
  apiKeys: 'API_KEYS',
  principalRoles: principalRolesVariable,
  rateLimitPerSecond: 'RATE_LIMIT_PER_SECOND',
  rateLimitBurst: 'RATE_LIMIT_BURST',
  grpcMessageBytesMax: 'GRPC_MAX_RECEIVE_MESSAGE_BYTES',
  httpBodyBytesMax: 'HTTP_BODY_BYTES_MAX',
  grpcTlsCert: 'GRPC_TLS_CERT',
  grpcTlsKey: 'GRPC_TLS_KEY',
  grpcTlsClientCa: 'GRPC_TLS_CLIENT_CA',
} as const;

export const accessDefaults = {
  /** Per client; the engine's own ceiling is far lower, so this only stops a runaway client. */
  rateLimitPerSecond: 500,
  rateLimitBurst: 1_000,
  /** A settlement request is well under 1 KiB; 64 KiB leaves room for reflection requests and future fields. */
  grpcMessageBytesMax: 64 * 1024,
  httpBodyBytesMax: 64 * 1024,
} as const;

/** How PEM content starts (a value that does not is a file path). */
const pemPrefix = '-----BEGIN';

/** Upper bounds on what configuration may ask for. */
const limitsMax = { rateLimitPerSecond: 1_000_000, rateLimitBurst: 1_000_000, messageBytes: 16 * 1024 * 1024 } as const;

export interface GrpcTlsFiles {
  readonly certificateChain: Buffer;
  readonly privateKey: Buffer;
  readonly clientCertificateAuthority: Buffer;
}

export interface AccessConfiguration {
  readonly apiKeys: readonly ApiKeyEntry[];
  /** Set when API_KEYS was unset: the key generated for this run, to be printed by the engine. */
  readonly developmentKey?: DevelopmentKey;
  /** Roles of client certificates and IAM principals (PRINCIPAL_ROLES); absent: they are service callers. */
  readonly identityRoles?: IdentityRoles;
  readonly rateLimit: RateLimit;
  readonly grpcMessageBytesMax: number;
  readonly httpBodyBytesMax: number;
  /** Present when all three GRPC_TLS_* are set (PEM content or paths): the gRPC server then requires client certificates. */
  readonly grpcTls?: GrpcTlsFiles;
}

export interface ReadAccessOptions {
  /** When API_KEYS is unset: generate a development key (local engine) or refuse to start (the gRPC task on AWS). */
  readonly developmentKeyWhenUnset: boolean;
  readonly readFile?: (path: string) => Buffer;
}

export function readAccessConfiguration(environment: NodeJS.ProcessEnv, options: ReadAccessOptions): AccessConfiguration {
  const configured = environment[AccessEnvironment.apiKeys]?.trim();
  let apiKeys: ApiKeyEntry[];
  let developmentKey: DevelopmentKey | undefined;
  if (configured) {
    apiKeys = parseApiKeys(configured, AccessEnvironment.apiKeys);
  } else if (options.developmentKeyWhenUnset) {
    developmentKey = generateDevelopmentKey();
    apiKeys = parseApiKeys(developmentKey.hashedConfig, AccessEnvironment.apiKeys);
  } else {
    throw new AccessConfigurationError(AccessEnvironment.apiKeys, 'is required (comma-separated clientName:sha256hex entries)');
  }
  return {
    apiKeys,
    developmentKey,
    identityRoles: IdentityRoles.parse(environment[AccessEnvironment.principalRoles]),
    rateLimit: {
      ratePerSecond: positiveNumber(environment, AccessEnvironment.rateLimitPerSecond, accessDefaults.rateLimitPerSecond, limitsMax.rateLimitPerSecond),
      burst: positiveNumber(environment, AccessEnvironment.rateLimitBurst, accessDefaults.rateLimitBurst, limitsMax.rateLimitBurst),
    },
    grpcMessageBytesMax: positiveNumber(environment, AccessEnvironment.grpcMessageBytesMax, accessDefaults.grpcMessageBytesMax, limitsMax.messageBytes),
    httpBodyBytesMax: positiveNumber(environment, AccessEnvironment.httpBodyBytesMax, accessDefaults.httpBodyBytesMax, limitsMax.messageBytes),
    grpcTls: readGrpcTls(environment, options.readFile ?? ((path) => readFileSync(path))),
  };
}

/**
 * Each GRPC_TLS_* variable holds the PEM itself (ECS injects Secrets Manager values as environment variables, and
 * the task's root filesystem is read-only) when it starts with `-----BEGIN`, else a path to a PEM file.
 */
function readGrpcTls(environment: NodeJS.ProcessEnv, readFile: (path: string) => Buffer): GrpcTlsFiles | undefined {
  const names = [AccessEnvironment.grpcTlsCert, AccessEnvironment.grpcTlsKey, AccessEnvironment.grpcTlsClientCa] as const;
  const values = names.map((name) => environment[name]?.trim() || undefined);
  if (values.every((value) => value === undefined)) return undefined;
  const missing = names.filter((_, index) => values[index] === undefined);
  // Half a TLS configuration is a mistake, never a reason to fall back to plaintext.
  if (missing.length > 0) throw new AccessConfigurationError(missing[0], `must be set together with ${names.filter((name) => !missing.includes(name)).join(', ')}`);
  const read = (index: number) => {
    const value = values[index]!;
    if (value.startsWith(pemPrefix)) return Buffer.from(`${value}\n`, 'utf8');
    try {
      return readFile(value);
    } catch (error) {
      throw new AccessConfigurationError(names[index], `is neither PEM content (${pemPrefix}…) nor a readable file: cannot read ${value}: ${(error as Error).message}`);
    }
  };
  return { certificateChain: read(0), privateKey: read(1), clientCertificateAuthority: read(2) };
}

function positiveNumber(environment: NodeJS.ProcessEnv, name: string, fallback: number, maximum: number): number {
  const raw = environment[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > maximum) throw new AccessConfigurationError(name, `must be a positive number at most ${maximum}, got "${raw}"`);
  return value;
}
