/**
 * The engine's configuration: environment variables parsed once, at start, by one zod schema per runtime.
 *
 * - `lambda`: every deployed Lambda function (CDK sets the variables: infra/constructs/engine-function.ts);
 * - `grpc-task`: the gRPC shim on Fargate (infra/constructs/grpc-service.ts; secrets arrive as ECS secrets);
 * - `local`: the local engine (`npm start`, tests), where every setting has a local default.
 *
 * A missing or malformed setting stops the process at start with a ConfigurationError naming the variable. A
 * deployed process never falls back silently: the bank adapter and the dead-letter queue are settings it must state.
 * `requiredEnvironmentVariables` is derived from the schema; an infra test checks that the stack sets each of them.
 * The composition root (lambdas/composition.ts) builds the engine from the parsed `EngineConfig`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseValueDateWindows } from './domain/value-date';
import { defaultEngineLimits, type EngineLimits } from './usecases/deps';
import { defaultOperationsLimits, type OperationsLimits } from './usecases/operations/deps';
import { defaultJobSettings, recoveryLimits, type JobSettings } from './usecases/recovery/limits';
import { retiringIndexNames, settlementsTable, tableNameEnvironmentVariables, tableNamesWithPrefix, type LogicalTableName, type TableNames } from './adapters/dynamodb/table-definitions';
import { readAccessConfiguration, type AccessConfiguration } from './adapters/auth/config';

export type Environment = Readonly<Record<string, string | undefined>>;

export type Runtime = 'lambda' | 'grpc-task' | 'local';
export type DeployedRuntime = Exclude<Runtime, 'local'>;

/**
 * The bank (rail) adapters the composition root can build. `mock` simulates every rail (lambdas/adapters/banks/
 * mock-bank.ts): on AWS it keeps its record in the reference table and moves no real money. `iso20022` speaks ISO
 * 20022 over mutual TLS to a bank gateway (the bank simulator locally: docs/rails.md). Adding an adapter: add
 * its value here and one case in `createBankDirectory` (lambdas/composition.ts); tsc then asks for nothing else.
 */
export const bankAdapters = ['mock', 'iso20022'] as const;
export type BankAdapter = (typeof bankAdapters)[number];
export const localBankAdapter: BankAdapter = 'mock';

/** Where metrics go: CloudWatch EMF (deployed), or nowhere. The local engine passes its Prometheus registry itself. */
export const metricsAdapters = ['emf', 'none'] as const;
export type MetricsAdapter = (typeof metricsAdapters)[number];

export const defaultGrpcPort = 50056;
export const defaultShutdownGraceMs = 20_000;

/** A configuration value that cannot be used; names the variable(s) so the operator knows what to fix. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError' as const;
  constructor(
    readonly variables: readonly string[],
    readonly problems: readonly string[],
  ) {
    super(`configuration: ${problems.join('; ')}`);
  }
}

// An empty variable counts as unset (a shell `FOO= node …`, a CDK context left blank).
const unsetWhenEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const positiveIntegerText = z
  .string()
  .trim()
  .regex(/^[1-9][0-9]*$/, 'must be a positive integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'must be a safe integer');

function positiveIntegerSetting(defaultValue: number, maximum = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(unsetWhenEmpty, positiveIntegerText.refine((value) => value <= maximum, `must be at most ${maximum}`).default(defaultValue));
}

const requiredText = z.preprocess(unsetWhenEmpty, z.string({ error: 'is required' }).trim());
const optionalText = z.preprocess(unsetWhenEmpty, z.string().trim().optional());
const requiredUrl = z.preprocess(unsetWhenEmpty, z.url({ error: 'is required: a URL' }));

function oneOf<const Values extends readonly [string, ...string[]]>(values: Values, defaultValue?: Values[number]) {
  const schema = z.enum(values, { error: `must be one of ${values.join(', ')}` });
  return z.preprocess(unsetWhenEmpty, defaultValue === undefined ? schema : schema.default(defaultValue as never));
}

/** One variable per table, set by CDK when deployed. */
const tableVariables = Object.fromEntries(Object.values(tableNameEnvironmentVariables).map((variable) => [variable, requiredText])) as Record<string, typeof requiredText>;

/** Settings every runtime reads; their defaults are the engine's named limits. */
const limitVariables = {
  LOCK_TTL_SECONDS: positiveIntegerSetting(defaultEngineLimits.lockTtlSeconds),
  CONFIRMATION_CHECKS_MAX: positiveIntegerSetting(defaultEngineLimits.confirmationChecksMax),
  CONFIRMATION_WAIT_SECONDS_MAX: positiveIntegerSetting(defaultEngineLimits.confirmationWaitSecondsMax),
  RETRY_ATTEMPTS_MAX: positiveIntegerSetting(defaultEngineLimits.retryAttemptsMax),
  RETRY_DELAY_SECONDS_BASE: positiveIntegerSetting(defaultEngineLimits.retryDelaySecondsBase),
  CONFIRMATION_DEADLINE_SECONDS_DOMESTIC: positiveIntegerSetting(defaultEngineLimits.confirmationDeadlineSeconds.DOMESTIC),
  CONFIRMATION_DEADLINE_SECONDS_INTERNATIONAL: positiveIntegerSetting(defaultEngineLimits.confirmationDeadlineSeconds.INTERNATIONAL),
  LATENCY_OBJECTIVE_SECONDS_DOMESTIC: positiveIntegerSetting(defaultEngineLimits.latencyObjectiveSeconds.DOMESTIC),
  LATENCY_OBJECTIVE_SECONDS_INTERNATIONAL: positiveIntegerSetting(defaultEngineLimits.latencyObjectiveSeconds.INTERNATIONAL),
  // Accepted value dates per rail and currency (domain/value-date.ts); parsed there, errors name the variable.
  VALUE_DATE_WINDOWS: z.preprocess(unsetWhenEmpty, z.string().optional()),
  BANK_CACHE_SECONDS: positiveIntegerSetting(defaultEngineLimits.bankCacheSeconds),
  // Must match the reconciliation schedule: the job reconciles the previous complete interval.
  RECONCILIATION_INTERVAL_SECONDS: positiveIntegerSetting(defaultOperationsLimits.reconciliationIntervalSeconds),
  RECONCILIATION_RUN_LOCK_SECONDS: positiveIntegerSetting(defaultOperationsLimits.runLockSeconds),
  WINDOW_CACHE_SECONDS: positiveIntegerSetting(defaultOperationsLimits.windowCacheSeconds),
  PROPOSAL_TTL_SECONDS: positiveIntegerSetting(defaultOperationsLimits.proposalTtlSeconds),
  // A decimal amount, kept as its string (never a float).
  FUND_MOVEMENT_APPROVAL_ABOVE: z
    .string()
    .trim()
    .regex(/^(0|[1-9][0-9]{0,17})(\.[0-9]{1,4})?$/, 'must be a non-negative decimal amount such as "250000.00"')
    .default(defaultOperationsLimits.fundMovementApprovalAbove),
  JOB_BATCH_SIZE: positiveIntegerSetting(defaultJobSettings.batchSize, recoveryLimits.batchSizeMax),
  RECOVERY_STUCK_AFTER_SECONDS: positiveIntegerSetting(defaultJobSettings.stuckAfterSeconds),
  OPERATION_RETENTION_SECONDS: positiveIntegerSetting(defaultJobSettings.operationRetentionSeconds),
};

/** What every deployed process must be told: its tables, its bank adapter, its dead-letter queue. */
const deployedVariables = {
  ...tableVariables,
  BANK_ADAPTER: oneOf(bankAdapters),
  DEAD_LETTER_QUEUE_URL: requiredUrl,
  METRICS_ADAPTER: oneOf(metricsAdapters, 'emf'),
  POWERTOOLS_METRICS_NAMESPACE: optionalText,
  POWERTOOLS_SERVICE_NAME: optionalText,
  COMPLIANCE_CONFIG: optionalText,
  ...limitVariables,
};

export const environmentSchemas = {
  lambda: z.object({
    ...deployedVariables,
    // Only the functions that start executions get it (the stage functions cannot: the state machine names them).
    STATE_MACHINE_ARN: optionalText,
  }),
  'grpc-task': z.object({
    ...deployedVariables,
    STATE_MACHINE_ARN: requiredText,
    GRPC_PORT: positiveIntegerSetting(defaultGrpcPort, 65_535),
    HOST: z.preprocess(unsetWhenEmpty, z.string().default('0.0.0.0')),
    SHUTDOWN_GRACE_MS: positiveIntegerSetting(defaultShutdownGraceMs),
    // Checked by readAccessConfiguration (lambdas/adapters/auth/config.ts); listed here so that it is required.
    API_KEYS: requiredText,
    // The console's live feed over HTTP (bin/grpc-server.ts): its port, and the SSM parameter naming the console's
    // Cognito issuer and app client (written by the console stack). Both or neither.
    CONSOLE_FEED_PORT: z.preprocess(unsetWhenEmpty, positiveIntegerText.refine((value) => value <= 65_535, 'must be at most 65535').optional()),
    CONSOLE_SIGN_IN_PARAMETER: optionalText,
  }),
  local: z.object({
    TABLE_PREFIX: z.preprocess(unsetWhenEmpty, z.string().default('settlement-engine-')),
    BANK_ADAPTER: oneOf(bankAdapters, localBankAdapter),
    ...limitVariables,
  }),
} as const;

export interface EngineConfig {
  readonly runtime: Runtime;
  readonly tables: TableNames;
  /**
   * The retiring indexes the settlements table has (table-definitions.ts): their readers query only these. A
   * deployed table has every one (the stateful stack keeps them until the release that removes each); a table the
   * local bootstrap created has none, and one kept from before has what it had (lambdas/local/engine.ts sets it).
   */
  readonly retiringIndexes: readonly string[];
  readonly bankAdapter: BankAdapter;
  /** The ISO 20022 gateway (BANK_ADAPTER=iso20022): endpoint, trust and client identity. */
  readonly bankGateway?: BankGatewaySettings;
  /** Validate's compliance policy file (COMPLIANCE_CONFIG: sanctions list, amount limits, net debit caps); none: no checks. */
  readonly compliancePolicyPath?: string;
  /** `sqs`: the queue at `url`. `provided`: the local engine passes its emulator or in-memory queue itself. */
  readonly deadLetterQueue: { readonly adapter: 'sqs'; readonly url: string } | { readonly adapter: 'provided' };
  /** `step-functions`: executions start on that state machine. `none`: this function starts none. `provided`: the local interpreter. */
  readonly workflow: { readonly adapter: 'step-functions'; readonly stateMachineArn: string } | { readonly adapter: 'none' } | { readonly adapter: 'provided' };
  /** `provided`: the local engine passes its own (Prometheus, or none). */
  readonly metrics: { readonly adapter: 'emf'; readonly namespace?: string; readonly serviceName?: string } | { readonly adapter: 'none' } | { readonly adapter: 'provided' };
  readonly limits: EngineLimits;
  readonly operationsLimits: OperationsLimits;
  readonly jobs: JobSettings;
}

export interface GrpcTaskConfig extends EngineConfig {
  readonly grpc: { readonly port: number; readonly host: string; readonly shutdownGraceMs: number };
  readonly access: AccessConfiguration;
  /** The console's live feed over HTTP, when the stack serves the console (CONSOLE_FEED_PORT, CONSOLE_SIGN_IN_PARAMETER). */
  readonly consoleFeed?: { readonly port: number; readonly signInParameter: string };
}

type Parsed<R extends Runtime> = z.output<(typeof environmentSchemas)[R]>;

function parse<R extends Runtime>(runtime: R, env: Environment): Parsed<R> {
  const result = environmentSchemas[runtime].safeParse(env);
  if (result.success) return result.data as Parsed<R>;
  const variables = [...new Set(result.error.issues.map((issue) => String(issue.path[0])))];
  throw new ConfigurationError(
    variables,
    result.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`),
  );
}

function limitsOf(parsed: z.output<z.ZodObject<typeof limitVariables>>): Pick<EngineConfig, 'limits' | 'operationsLimits' | 'jobs'> {
  return {
    limits: {
      lockTtlSeconds: parsed.LOCK_TTL_SECONDS,
      confirmationChecksMax: parsed.CONFIRMATION_CHECKS_MAX,
      confirmationWaitSecondsMax: parsed.CONFIRMATION_WAIT_SECONDS_MAX,
      retryAttemptsMax: parsed.RETRY_ATTEMPTS_MAX,
      retryDelaySecondsBase: parsed.RETRY_DELAY_SECONDS_BASE,
      confirmationDeadlineSeconds: { DOMESTIC: parsed.CONFIRMATION_DEADLINE_SECONDS_DOMESTIC, INTERNATIONAL: parsed.CONFIRMATION_DEADLINE_SECONDS_INTERNATIONAL },
      latencyObjectiveSeconds: { DOMESTIC: parsed.LATENCY_OBJECTIVE_SECONDS_DOMESTIC, INTERNATIONAL: parsed.LATENCY_OBJECTIVE_SECONDS_INTERNATIONAL },
      valueDateWindows: parseValueDateWindows(parsed.VALUE_DATE_WINDOWS),
      bankCacheSeconds: parsed.BANK_CACHE_SECONDS,
      // Set from the bank adapter by the composition root (SEPA under iso20022).
      ibanRequiredRails: [],
    },
    operationsLimits: {
      ...defaultOperationsLimits,
      reconciliationIntervalSeconds: parsed.RECONCILIATION_INTERVAL_SECONDS,
      runLockSeconds: parsed.RECONCILIATION_RUN_LOCK_SECONDS,
      windowCacheSeconds: parsed.WINDOW_CACHE_SECONDS,
      proposalTtlSeconds: parsed.PROPOSAL_TTL_SECONDS,
      fundMovementApprovalAbove: parsed.FUND_MOVEMENT_APPROVAL_ABOVE,
    },
    jobs: {
      batchSize: parsed.JOB_BATCH_SIZE,
      stuckAfterSeconds: parsed.RECOVERY_STUCK_AFTER_SECONDS,
      operationRetentionSeconds: parsed.OPERATION_RETENTION_SECONDS,
    },
  };
}

function deployedConfig(runtime: DeployedRuntime, parsed: Parsed<DeployedRuntime>, env: Environment): EngineConfig {
  const tables = Object.fromEntries(
    (Object.keys(tableNameEnvironmentVariables) as LogicalTableName[]).map((name) => [name, (parsed as Record<string, unknown>)[tableNameEnvironmentVariables[name]]]),
  ) as unknown as TableNames;
  return {
    runtime,
    tables,
    retiringIndexes: retiringIndexNames(settlementsTable),
    bankAdapter: parsed.BANK_ADAPTER,
    ...(parsed.BANK_ADAPTER === 'iso20022' && { bankGateway: bankGatewayFromEnvironment(env, (path) => readFileSync(path, 'utf8')) }),
    ...(parsed.COMPLIANCE_CONFIG && { compliancePolicyPath: parsed.COMPLIANCE_CONFIG }),
    deadLetterQueue: { adapter: 'sqs', url: parsed.DEAD_LETTER_QUEUE_URL },
    workflow: parsed.STATE_MACHINE_ARN ? { adapter: 'step-functions', stateMachineArn: parsed.STATE_MACHINE_ARN } : { adapter: 'none' },
    metrics:
      parsed.METRICS_ADAPTER === 'none'
        ? { adapter: 'none' }
        : { adapter: 'emf', namespace: parsed.POWERTOOLS_METRICS_NAMESPACE, serviceName: parsed.POWERTOOLS_SERVICE_NAME },
    ...limitsOf(parsed),
  };
}

/** The configuration of a deployed Lambda function. Throws ConfigurationError naming what is missing or malformed. */
export function lambdaConfig(env: Environment): EngineConfig {
  return deployedConfig('lambda', parse('lambda', env), env);
}

/** The configuration of the gRPC task, API keys and mutual TLS included. Throws naming the variable. */
export function grpcTaskConfig(env: Environment): GrpcTaskConfig {
  const parsed = parse('grpc-task', env);
  return {
    ...deployedConfig('grpc-task', parsed, env),
    grpc: { port: parsed.GRPC_PORT, host: parsed.HOST, shutdownGraceMs: parsed.SHUTDOWN_GRACE_MS },
    access: readAccessConfiguration(env as NodeJS.ProcessEnv, { developmentKeyWhenUnset: false }),
    ...consoleFeedOf(parsed.CONSOLE_FEED_PORT, parsed.CONSOLE_SIGN_IN_PARAMETER),
  };
}

function consoleFeedOf(port: number | undefined, signInParameter: string | undefined): Pick<GrpcTaskConfig, 'consoleFeed'> {
  if (port === undefined && signInParameter === undefined) return {};
  if (port === undefined || signInParameter === undefined) {
    const missing = port === undefined ? 'CONSOLE_FEED_PORT' : 'CONSOLE_SIGN_IN_PARAMETER';
    throw new ConfigurationError([missing], [`${missing} is required with ${missing === 'CONSOLE_FEED_PORT' ? 'CONSOLE_SIGN_IN_PARAMETER' : 'CONSOLE_FEED_PORT'} (the console's live feed)`]);
  }
  return { consoleFeed: { port, signInParameter } };
}

/**
 * The local engine's configuration: tables under TABLE_PREFIX, the mock bank unless BANK_ADAPTER says otherwise,
 * and the workflow, dead-letter queue and metrics passed in explicitly by lambdas/local/engine.ts.
 */
export function localConfig(env: Environment = {}): EngineConfig {
  const parsed = parse('local', env);
  return {
    runtime: 'local',
    tables: tableNamesWithPrefix(parsed.TABLE_PREFIX),
    // The local engine replaces it with what its bootstrap found.
    retiringIndexes: [],
    bankAdapter: parsed.BANK_ADAPTER,
    deadLetterQueue: { adapter: 'provided' },
    workflow: { adapter: 'provided' },
    metrics: { adapter: 'provided' },
    ...limitsOf(parsed),
  };
}

/**
 * The variables a deployed runtime cannot start without (those whose absence the schema refuses): the contract
 * infra tests hold the stack to (every function, resp. the task, must receive each of them).
 */
export function requiredEnvironmentVariables(runtime: DeployedRuntime): readonly string[] {
  const shape = environmentSchemas[runtime].shape as Record<string, z.ZodType>;
  return Object.keys(shape)
    .filter((variable) => !shape[variable]!.safeParse(undefined).success)
    .sort();
}

/** A positive integer variable with a default, for the local entry's own settings (ports, timers). */
export function positiveInteger(env: Environment, name: string, fallback: number): number {
  const result = positiveIntegerSetting(fallback).safeParse(env[name]);
  if (!result.success) throw new ConfigurationError([name], [`${name} ${result.error.issues[0]?.message ?? 'is malformed'}`]);
  return result.data;
}

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

/** BANK_ADAPTER for the local entry, whose default differs from the schema's (npm start speaks to the simulator). */
export function bankAdapterFromEnvironment(env: Environment, fallback: BankAdapter): BankAdapter {
  const value = env.BANK_ADAPTER || fallback;
  if (!(bankAdapters as readonly string[]).includes(value)) throw new ConfigurationError(['BANK_ADAPTER'], [`BANK_ADAPTER must be one of ${bankAdapters.join(', ')}, got "${value}"`]);
  return value as BankAdapter;
}

export function bankGatewayFromEnvironment(env: Environment, readFile: (path: string) => string): BankGatewaySettings {
  const pem = (name: string) => {
    const inline = env[name];
    if (inline) return inline;
    const path = env[`${name}_FILE`];
    if (path) return readFile(path);
    throw new ConfigurationError([name], [`${name} or ${name}_FILE is required when BANK_ADAPTER=iso20022`]);
  };
  const url = env.BANK_GATEWAY_URL;
  if (!url) throw new ConfigurationError(['BANK_GATEWAY_URL'], ['BANK_GATEWAY_URL is required when BANK_ADAPTER=iso20022']);
  if (!url.startsWith('https://')) throw new ConfigurationError(['BANK_GATEWAY_URL'], ['BANK_GATEWAY_URL must be an https:// URL (the gateway is reached over mutual TLS)']);
  const networkBic = env.NETWORK_BIC ?? 'DELTGB2L';
  if (!/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(networkBic)) throw new ConfigurationError(['NETWORK_BIC'], [`NETWORK_BIC must be a BIC, got "${networkBic}"`]);
  return { url, ca: pem('BANK_GATEWAY_CA'), cert: pem('BANK_GATEWAY_CERT'), key: pem('BANK_GATEWAY_KEY'), networkBic, requestTimeoutMs: positiveInteger(env, 'BANK_GATEWAY_TIMEOUT_MS', 10_000) };
}
