/**
 * Configuration from environment variables, read once at the edge (handler modules, the local engine).
 * Every variable has a safe default for local use; README.md lists them.
 */
import { defaultEngineLimits, type EngineLimits } from './usecases/deps';
import { tableNameEnvironmentVariables, tableNamesWithPrefix, type LogicalTableName, type TableNames } from './adapters/dynamodb/table-definitions';

export type Environment = Readonly<Record<string, string | undefined>>;

/** Table names: one variable per table (set by CDK), else TABLE_PREFIX + logical name. */
export function tableNamesFromEnvironment(env: Environment): TableNames {
  const prefixed = tableNamesWithPrefix(env.TABLE_PREFIX ?? 'settlement-engine-');
  return Object.fromEntries(
    (Object.keys(tableNameEnvironmentVariables) as LogicalTableName[]).map((name) => [name, env[tableNameEnvironmentVariables[name]] ?? prefixed[name]]),
  ) as unknown as TableNames;
}

export function limitsFromEnvironment(env: Environment): EngineLimits {
  return {
    lockTtlSeconds: positiveInteger(env, 'LOCK_TTL_SECONDS', defaultEngineLimits.lockTtlSeconds),
    confirmationChecksMax: positiveInteger(env, 'CONFIRMATION_CHECKS_MAX', defaultEngineLimits.confirmationChecksMax),
    confirmationWaitSecondsMax: positiveInteger(env, 'CONFIRMATION_WAIT_SECONDS_MAX', defaultEngineLimits.confirmationWaitSecondsMax),
    retryAttemptsMax: positiveInteger(env, 'RETRY_ATTEMPTS_MAX', defaultEngineLimits.retryAttemptsMax),
    retryDelaySecondsBase: positiveInteger(env, 'RETRY_DELAY_SECONDS_BASE', defaultEngineLimits.retryDelaySecondsBase),
    confirmationDeadlineSeconds: {
      DOMESTIC: positiveInteger(env, 'CONFIRMATION_DEADLINE_SECONDS_DOMESTIC', defaultEngineLimits.confirmationDeadlineSeconds.DOMESTIC),
      INTERNATIONAL: positiveInteger(env, 'CONFIRMATION_DEADLINE_SECONDS_INTERNATIONAL', defaultEngineLimits.confirmationDeadlineSeconds.INTERNATIONAL),
    },
    latencyObjectiveSeconds: {
      DOMESTIC: positiveInteger(env, 'LATENCY_OBJECTIVE_SECONDS_DOMESTIC', defaultEngineLimits.latencyObjectiveSeconds.DOMESTIC),
      INTERNATIONAL: positiveInteger(env, 'LATENCY_OBJECTIVE_SECONDS_INTERNATIONAL', defaultEngineLimits.latencyObjectiveSeconds.INTERNATIONAL),
    },
  };
}

export function positiveInteger(env: Environment, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`configuration: ${name} must be a positive integer, got "${raw}"`);
  return value;
}

export function requiredVariable(env: Environment, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`configuration: ${name} is required`);
  return value;
}

/** Which bank adapter the engine speaks through (BANK_ADAPTER). */
export const BankAdapter = { mock: 'mock', iso20022: 'iso20022' } as const;
export type BankAdapter = (typeof BankAdapter)[keyof typeof BankAdapter];

/**
 * The ISO 20022 gateway adapter's settings: endpoint, trust and client identity. Certificates come either as PEM
 * text (BANK_GATEWAY_CA, BANK_GATEWAY_CERT, BANK_GATEWAY_KEY: on AWS injected from a Secrets Manager secret) or as
 * file paths (BANK_GATEWAY_CA_FILE, ...: the local simulator's data directory). A missing one stops the start.
 */
export interface BankGatewaySettings {
  readonly url: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly networkBic: string;
  readonly requestTimeoutMs: number;
}

export function bankAdapterFromEnvironment(env: Environment, fallback: BankAdapter = BankAdapter.mock): BankAdapter {
  const value = env.BANK_ADAPTER ?? fallback;
  if (value !== BankAdapter.mock && value !== BankAdapter.iso20022) throw new Error(`configuration: BANK_ADAPTER must be mock or iso20022, got "${value}"`);
  return value;
}

export function bankGatewayFromEnvironment(env: Environment, readFile: (path: string) => string): BankGatewaySettings {
  const pem = (name: string) => {
    const inline = env[name];
    if (inline) return inline;
    const path = env[`${name}_FILE`];
    if (path) return readFile(path);
    throw new Error(`configuration: ${name} or ${name}_FILE is required when BANK_ADAPTER=iso20022`);
  };
  const url = requiredVariable(env, 'BANK_GATEWAY_URL');
  if (!url.startsWith('https://')) throw new Error('configuration: BANK_GATEWAY_URL must be an https:// URL (the gateway is reached over mutual TLS)');
  const networkBic = env.NETWORK_BIC ?? 'DELTGB2L';
  if (!/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(networkBic)) throw new Error(`configuration: NETWORK_BIC must be a BIC, got "${networkBic}"`);
  return { url, ca: pem('BANK_GATEWAY_CA'), cert: pem('BANK_GATEWAY_CERT'), key: pem('BANK_GATEWAY_KEY'), networkBic, requestTimeoutMs: positiveInteger(env, 'BANK_GATEWAY_TIMEOUT_MS', 10_000) };
}
