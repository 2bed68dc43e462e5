/**
 * Configuration from environment variables, read once at the edge (handler modules, the local engine).
 * Every variable has a safe default for local use; README.md lists them.
 */
import { parseValueDateWindows } from './domain/value-date';
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
    valueDateWindows: parseValueDateWindows(env.VALUE_DATE_WINDOWS),
    bankCacheSeconds: positiveInteger(env, 'BANK_CACHE_SECONDS', defaultEngineLimits.bankCacheSeconds),
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
