/**
 * Typed configuration of the deployed engine: the one place defaults live.
 *
 * Constructs receive these values as props and never read `process.env`; bin/app.ts turns CDK context
 * (`cdk.json` or `-c key=value`) into this object with `settlementEngineConfigFromContext`.
 */
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** CloudWatch namespace of the EMF metrics (POWERTOOLS_METRICS_NAMESPACE); the seed's name. */
export const metricsNamespace = 'SettlementEngine';
/** The `service` dimension Powertools adds to every metric (POWERTOOLS_SERVICE_NAME); alarms match on it. */
export const metricsServiceName = 'settlement-engine';
/**
 * The bank adapter a deployment states (BANK_ADAPTER, never a silent default): the mock bank, the MVP's only rail
 * (SEED.md), which keeps its transfers in the reference table. `functionEnvironment`/`grpcEnvironment` override it.
 */
export const deployedBankAdapter = 'mock';
/** The port the gRPC shim listens on, in the container and on the load balancer (DESIGN §5). */
export const grpcPort = 50056;
/** The gRPC task's HTTP port for the console's live feed and last-hour stats (/api/v1/events/*). */
export const consoleFeedPort = 8080;
/** The SSM parameter the console stack writes its Cognito issuer and app client to; the gRPC task reads it. */
export function consoleSignInParameterName(stackNamePrefix: string): string {
  return `/${stackNamePrefix}/console/sign-in`;
}

/** How often each scheduled job runs (EventBridge rules). */
export interface ScheduleIntervals {
  /** Reconciliation of every account against its bank's statement. */
  readonly reconcile: Duration;
  /** Restart of FAILED settlements marked retryable. */
  readonly retryFailed: Duration;
  /** Cleanup of ended operations and expired locks. */
  readonly cleanup: Duration;
  /** Recovery sweep of settlements stuck in a non-terminal status. */
  readonly recoverStuck: Duration;
  /** Balance gauges (nostro_balance, vostro_balance) published as EMF. */
  readonly publishBalances: Duration;
}

export type TableEncryptionChoice = 'AWS_MANAGED' | 'CUSTOMER_MANAGED';
export type LoadBalancerScheme = 'internal' | 'internet-facing';

export interface GrpcServiceConfig {
  /** Deploy the gRPC shim (VPC, NLB, Fargate). Off for LocalStack Community, which has no ECS or ELBv2. */
  readonly enabled: boolean;
  /** ACM certificate for a TLS listener on the NLB; without it the listener is plain TCP. */
  readonly certificateArn?: string;
  /** internal (default): reachable from the VPC and what is peered or connected to it. */
  readonly loadBalancerScheme: LoadBalancerScheme;
  /** CIDR ranges allowed to reach the listener; default the VPC's own range. */
  readonly allowedCidrs?: readonly string[];
  readonly desiredCount: number;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  /** Extra, non-secret environment for the task. API keys and TLS material never go here: they come from the secret. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * An existing Secrets Manager secret (complete ARN) holding the task's API_KEYS (and, with mutual TLS, its PEMs) as
   * JSON fields; when absent the stack creates one (docs/deploy.md, after `cdk deploy`).
   */
  readonly secretArn?: string;
  /** Inject GRPC_TLS_CERT, GRPC_TLS_KEY and GRPC_TLS_CLIENT_CA from the secret: the task then requires client certificates. */
  readonly mutualTls: boolean;
}

export interface RestApiConfig {
  readonly stageName: string;
  /** Steady-state requests per second for the stage (every route). */
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  /** The health routes' own throttle (per method), below the stage's. */
  readonly healthThrottlingRateLimit: number;
  readonly healthThrottlingBurstLimit: number;
}

export interface AlarmConfig {
  /** Existing SNS topic for alarm notifications; when absent the stack creates one. */
  readonly topicArn?: string;
  /** E-mail address subscribed to the created topic (confirmation mail is sent at deploy). */
  readonly email?: string;
}

/** The operations console on AWS (infra/console-stack.ts): static site, Cognito sign-in, its own API stage. */
export interface ConsoleConfig {
  /** Deploy the console stack. */
  readonly enabled: boolean;
  /**
   * Hosted sign-in domain prefix (`<prefix>.auth.<region>.amazoncognito.com`); globally unique per region. Default
   * `settlement-console-<account id>`.
   */
  readonly cognitoDomainPrefix?: string;
  /** A CLOUDFRONT-scope WAF web ACL (created in us-east-1) for the distribution, by ARN. */
  readonly webAclArn?: string;
  /** A domain of your own for the console, with its ACM certificate in us-east-1 (both or neither). */
  readonly domainName?: string;
  readonly certificateArn?: string;
  /** `participant-<BIC>` groups created with the pool; operators can add more later (docs/deploy.md). */
  readonly participantBics: readonly string[];
}

export interface SettlementEngineConfig {
  /** Prefix of the two stack names: `<prefix>-stateful`, `<prefix>-engine`. */
  readonly stackNamePrefix: string;
  readonly tableEncryption: TableEncryptionChoice;
  readonly schedules: ScheduleIntervals;
  readonly grpc: GrpcServiceConfig;
  readonly api: RestApiConfig;
  readonly alarms: AlarmConfig;
  readonly logRetention: RetentionDays;
  /** NAT gateways of the VPC the gRPC task runs in (1 keeps cost down; one per AZ for zone resilience). */
  readonly natGateways: number;
  /** Extra, non-secret environment for every Lambda function (e.g. the bank adapter's settings). */
  readonly functionEnvironment: Readonly<Record<string, string>>;
  readonly reservedConcurrency: ReservedConcurrencyConfig;
  readonly console: ConsoleConfig;
}

/**
 * Reserved concurrency: each function's default is in infra/function-catalogue.ts. Reserving needs room in the
 * account: Lambda keeps at least 100 executions unreserved, so the sum of reservations (520 by default) must stay
 * at or below the account's concurrency quota minus 100. New accounts start with a small quota: deploy with
 * `reservedConcurrency=none` there, or ask for an increase.
 */
export interface ReservedConcurrencyConfig {
  readonly enabled: boolean;
  /** Function id (`ValidateFunction`, `ApiFunction`, ...) → reserved executions, replacing the default. */
  readonly overrides: Readonly<Record<string, number>>;
}

export const defaultScheduleIntervals: ScheduleIntervals = {
  reconcile: Duration.hours(6),
  retryFailed: Duration.minutes(5),
  cleanup: Duration.minutes(10),
  recoverStuck: Duration.minutes(5),
  publishBalances: Duration.minutes(5),
};

export const defaultConfig: SettlementEngineConfig = {
  stackNamePrefix: 'SettlementEngine',
  tableEncryption: 'CUSTOMER_MANAGED',
  schedules: defaultScheduleIntervals,
  grpc: { enabled: true, loadBalancerScheme: 'internal', desiredCount: 2, cpu: 512, memoryLimitMiB: 1024, environment: {}, mutualTls: false },
  // The seed's target is 1,000 settlements a minute (~17/s); the default leaves room for reads and bursts. A load
  // balancer or uptime probe needs a few health requests a second at most.
  api: { stageName: 'live', throttlingRateLimit: 100, throttlingBurstLimit: 200, healthThrottlingRateLimit: 10, healthThrottlingBurstLimit: 20 },
  alarms: {},
  logRetention: RetentionDays.THREE_MONTHS,
  natGateways: 1,
  functionEnvironment: {},
  reservedConcurrency: { enabled: true, overrides: {} },
  console: { enabled: true, participantBics: [] },
};

/** Reads one context value; `node.tryGetContext` fits (`app.node.tryGetContext.bind(app.node)`). */
export type ContextReader = (key: string) => unknown;

/**
 * Builds the configuration from CDK context keys (all optional, all documented in docs/deploy.md):
 * `stackNamePrefix`, `tableEncryption`, `reconcileIntervalMinutes`, `retryIntervalMinutes`,
 * `cleanupIntervalMinutes`, `recoveryIntervalMinutes`, `grpcCertificateArn`, `grpcLoadBalancerScheme`,
 * `grpcAllowedCidrs` (comma-separated), `grpcDesiredCount`, `grpcEnabled` (false leaves the shim out), `apiStageName`, `apiRateLimit`, `apiBurstLimit`,
 * `alarmTopicArn`, `alarmEmail`, `natGateways`, `functionEnvironment` and `grpcEnvironment` (JSON objects),
 * `balanceIntervalMinutes`, `grpcSecretArn`, `grpcMutualTls`, `apiHealthRateLimit`, `apiHealthBurstLimit`, and `reservedConcurrency`
 * (`none`, or a JSON object of function id → executions).
 */
export function settlementEngineConfigFromContext(read: ContextReader): SettlementEngineConfig {
  const text = (key: string) => optionalText(read(key), key);
  const minutes = (key: string, fallback: Duration) => {
    const value = optionalInteger(read(key), key);
    return value === undefined ? fallback : Duration.minutes(value);
  };
  const integer = (key: string, fallback: number) => optionalInteger(read(key), key) ?? fallback;
  const cidrs = text('grpcAllowedCidrs');
  return {
    stackNamePrefix: text('stackNamePrefix') ?? defaultConfig.stackNamePrefix,
    tableEncryption: oneOf(text('tableEncryption'), ['AWS_MANAGED', 'CUSTOMER_MANAGED'] as const, 'tableEncryption') ?? defaultConfig.tableEncryption,
    schedules: {
      reconcile: minutes('reconcileIntervalMinutes', defaultScheduleIntervals.reconcile),
      retryFailed: minutes('retryIntervalMinutes', defaultScheduleIntervals.retryFailed),
      cleanup: minutes('cleanupIntervalMinutes', defaultScheduleIntervals.cleanup),
      recoverStuck: minutes('recoveryIntervalMinutes', defaultScheduleIntervals.recoverStuck),
      publishBalances: minutes('balanceIntervalMinutes', defaultScheduleIntervals.publishBalances),
    },
    grpc: {
      ...defaultConfig.grpc,
      enabled: optionalBoolean(read('grpcEnabled'), 'grpcEnabled') ?? defaultConfig.grpc.enabled,
      certificateArn: text('grpcCertificateArn'),
      loadBalancerScheme: oneOf(text('grpcLoadBalancerScheme'), ['internal', 'internet-facing'] as const, 'grpcLoadBalancerScheme') ?? defaultConfig.grpc.loadBalancerScheme,
      allowedCidrs: cidrs?.split(',').map((cidr) => cidr.trim()).filter((cidr) => cidr !== ''),
      desiredCount: integer('grpcDesiredCount', defaultConfig.grpc.desiredCount),
      environment: stringRecord(read('grpcEnvironment'), 'grpcEnvironment'),
      secretArn: text('grpcSecretArn'),
      mutualTls: optionalBoolean(read('grpcMutualTls'), 'grpcMutualTls') ?? defaultConfig.grpc.mutualTls,
    },
    api: {
      stageName: text('apiStageName') ?? defaultConfig.api.stageName,
      throttlingRateLimit: integer('apiRateLimit', defaultConfig.api.throttlingRateLimit),
      throttlingBurstLimit: integer('apiBurstLimit', defaultConfig.api.throttlingBurstLimit),
      healthThrottlingRateLimit: integer('apiHealthRateLimit', defaultConfig.api.healthThrottlingRateLimit),
      healthThrottlingBurstLimit: integer('apiHealthBurstLimit', defaultConfig.api.healthThrottlingBurstLimit),
    },
    alarms: { topicArn: text('alarmTopicArn'), email: text('alarmEmail') },
    logRetention: defaultConfig.logRetention,
    natGateways: integer('natGateways', defaultConfig.natGateways),
    functionEnvironment: stringRecord(read('functionEnvironment'), 'functionEnvironment'),
    reservedConcurrency: reservedConcurrency(read('reservedConcurrency')),
    console: consoleConfig(read, text),
  };
}

/** `consoleEnabled`, `consoleCognitoDomainPrefix`, `consoleWebAclArn`, `consoleDomainName` + `consoleCertificateArn`, `consoleParticipantBics`. */
function consoleConfig(read: ContextReader, text: (key: string) => string | undefined): ConsoleConfig {
  const domainName = text('consoleDomainName');
  const certificateArn = text('consoleCertificateArn');
  if ((domainName === undefined) !== (certificateArn === undefined)) throw new Error('context consoleDomainName and consoleCertificateArn go together: give both or neither');
  const participantBics = (text('consoleParticipantBics') ?? '').split(',').map((bic) => bic.trim()).filter((bic) => bic !== '');
  for (const bic of participantBics) if (!/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(bic)) throw new Error(`context consoleParticipantBics: "${bic.slice(0, 20)}" is not a BIC`);
  return { enabled: optionalBoolean(read('consoleEnabled'), 'consoleEnabled') ?? defaultConfig.console.enabled, cognitoDomainPrefix: text('consoleCognitoDomainPrefix'), webAclArn: text('consoleWebAclArn'), domainName, certificateArn, participantBics };
}

/** `none` (or false) turns reservation off; a JSON object overrides functions' defaults by id. */
function reservedConcurrency(value: unknown): ReservedConcurrencyConfig {
  if (value === 'none' || value === false || value === 'false') return { enabled: false, overrides: {} };
  const overrides = Object.fromEntries(
    Object.entries(stringRecord(typeof value === 'object' && value !== null ? JSON.stringify(value) : value, 'reservedConcurrency', true)).map(([id, entry]) => [
      id,
      optionalInteger(entry, `reservedConcurrency.${id}`)!,
    ]),
  );
  return { enabled: true, overrides };
}

function optionalText(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function optionalBoolean(value: unknown, key: string): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false, got ${JSON.stringify(value)}`);
}

function optionalInteger(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0) throw new Error(`context ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  return parsed;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], key: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`context ${key} must be one of ${allowed.join(', ')}, got ${value}`);
  return value as T;
}

/** Accepts an object, or its JSON text (what `-c key='{"A":"b"}'` passes); numbers too when `numbers` is set. */
function stringRecord(value: unknown, key: string, numbers = false): Readonly<Record<string, string>> {
  if (value === undefined || value === null || value === '') return {};
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`context ${key} must be a JSON object`);
  const entries = Object.entries(parsed);
  for (const [name, entry] of entries) {
    if (typeof entry !== 'string' && !(numbers && typeof entry === 'number')) throw new Error(`context ${key}.${name} must be a ${numbers ? 'number' : 'string'}`);
  }
  return Object.fromEntries(entries.map(([name, entry]) => [name, String(entry)]));
}
