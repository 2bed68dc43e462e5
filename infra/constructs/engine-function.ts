/**
 * One engine Lambda function: a handler export of lambdas/handlers, bundled by the locally installed esbuild
 * (never Docker), Node.js 22 on arm64, X-Ray tracing, its own log group, and a role holding only its grants.
 */
import * as path from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { tableNameEnvironmentVariables, type LogicalTableName } from '../../lambdas/adapters/dynamodb/table-definitions';
import { deployedBankAdapter, metricsNamespace, metricsServiceName } from '../config';
import type { FunctionSpec } from '../function-catalogue';
import { acknowledge } from '../nag';
import type { EngineTables } from '../stateful-stack';
import { grantTableAccess } from '../table-access';

/** The repository root: entries, package-lock.json and tsconfig.json are resolved from here. */
export const projectRoot = path.resolve(__dirname, '..', '..');

export interface EngineFunctionProps {
  readonly spec: FunctionSpec;
  readonly tables: EngineTables;
  readonly logRetention: logs.RetentionDays;
  /** Required when the spec starts executions. */
  readonly stateMachine?: sfn.IStateMachine;
  /** Required when the spec sends to the dead-letter queue. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Extra, non-secret environment shared by every function. */
  readonly environment: Readonly<Record<string, string>>;
  /** Reserved concurrent executions; undefined leaves the function in the account's unreserved pool. */
  readonly reservedConcurrency?: number;
}

export class EngineFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: EngineFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    // An own role instead of AWSLambdaBasicExecutionRole: it may write to its own log group, nothing else by default.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Settlement Engine ${spec.id}: least privilege`,
    });
    logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Handler', {
      entry: path.join(projectRoot, 'lambdas', 'handlers', `${spec.module}.ts`),
      handler: spec.exportName,
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memorySizeMiB,
      timeout: spec.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role: this.role,
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      environment: { BANK_ADAPTER: deployedBankAdapter, ...props.environment, ...this.#environment(props) },
      bundling: {
        // The SDK versions the tests ran against, not whatever the runtime ships (wrapNumbers, error names).
        bundleAwsSDK: true,
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        // Defence in depth: error names are literals (lambdas/domain/errors.ts), but a class or function name that
        // reaches a log, a metric or an ErrorEquals must read the same in the bundle as in the source.
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
      },
    });
    this.#grant(props);
    acknowledge(
      this.function,
      'AwsSolutions-L1',
      'Node.js 22 on purpose: the runtime the local engine, the tests and the gRPC image run on (package.json pins node 22).',
    );
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; CDK adds them for active tracing.',
    );
  }

  #environment(props: EngineFunctionProps): Record<string, string> {
    const environment: Record<string, string> = {
      METRICS_ADAPTER: 'emf',
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
      POWERTOOLS_SERVICE_NAME: metricsServiceName,
    };
    // Every function learns every table name (names are not secrets); the role decides what it may touch.
    for (const [logicalName, variable] of Object.entries(tableNameEnvironmentVariables)) {
      environment[variable] = props.tables[logicalName as LogicalTableName].tableName;
    }
    if (props.spec.startsExecutions) environment.STATE_MACHINE_ARN = required(props.stateMachine, props.spec, 'stateMachine').stateMachineArn;
    // Every deployed process states its bank adapter and its dead-letter queue (lambdas/config.ts refuses to start
    // without them); only the functions that send get the grant.
    environment.BANK_ADAPTER = 'mock';
    if (props.deadLetterQueue) environment.DEAD_LETTER_QUEUE_URL = props.deadLetterQueue.queueUrl;
    return environment;
  }

  #grant(props: EngineFunctionProps): void {
    grantTableAccess(this.role, props.tables, props.spec.tables);
    if (props.spec.startsExecutions) required(props.stateMachine, props.spec, 'stateMachine').grantStartExecution(this.role);
    if (props.spec.sendsToDeadLetterQueue) required(props.deadLetterQueue, props.spec, 'deadLetterQueue').grantSendMessages(this.role);
  }
}

function required<T>(value: T | undefined, spec: FunctionSpec, name: string): T {
  if (value === undefined) throw new Error(`${spec.id} needs ${name}`);
  return value;
}
