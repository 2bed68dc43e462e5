/**
 * The gRPC shim (bin/grpc-server.ts) on Fargate (arm64) behind a Network Load Balancer on :50056.
 *
 * Health is checked twice, because an NLB cannot speak gRPC: the target group checks TCP on the traffic port
 * (the listener accepts connections), and the container health check runs the standard gRPC health service's
 * Check through infra/grpc-shim/health-probe.cjs, so ECS replaces a task whose database is unreachable
 * (the shim reports NOT_SERVING then). The image is a Docker asset: synth only stages the build context; the
 * image is built and pushed by `cdk deploy`.
 */
import { Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { tableNameEnvironmentVariables, type LogicalTableName } from '../../lambdas/adapters/dynamodb/table-definitions';
import { consoleFeedPort, deployedBankAdapter, grpcPort, metricsNamespace, metricsServiceName, type GrpcServiceConfig } from '../config';
import { write, type TableAccess } from '../function-catalogue';
import { acknowledge } from '../nag';
import type { EngineTables } from '../stateful-stack';
import { grantStreamRead, grantTableAccess } from '../table-access';
import { projectRoot } from './engine-function';

export interface GrpcServiceProps {
  readonly config: GrpcServiceConfig;
  readonly tables: EngineTables;
  readonly stateMachine: sfn.IStateMachine;
  /** Named in the task's environment: every deployed process states its dead-letter queue (lambdas/config.ts). */
  readonly deadLetterQueue: sqs.IQueue;
  readonly logRetention: logs.RetentionDays;
  readonly natGateways: number;
  /**
   * With the console stack: the task also serves the console's live feed on consoleFeedPort (HTTP), reading the
   * console's sign-in settings from this SSM parameter (written by the console stack, deployed after this one).
   */
  readonly consoleFeed?: { readonly signInParameterName: string };
}

/**
 * What the task may touch: it records new settlements (PENDING, idempotent: puts only) and starts their executions,
 * reads status, events and balances, and runs ReconcileAccounts, which writes a report (run lock, batched lines).
 * It never writes a balance or the ledger.
 */
export const grpcTaskTableAccess: Readonly<Record<LogicalTableName, TableAccess>> = {
  settlements: write('PutItem'),
  accounts: 'read',
  ledger: 'read',
  reference: 'read',
  reconciliation: write('PutItem', 'DeleteItem', 'BatchWriteItem'),
};

/** Change streams the task reads: StreamSettlementEvents follows the settlements table's. */
export const grpcTaskStreamAccess: readonly LogicalTableName[] = ['settlements'];

export const grpcContainerName = 'grpc-shim';

/**
 * The fields of the task's secret, each injected by ECS as the environment variable of the same name holding the
 * value itself: API key digests (`clientName:sha256hex`, comma-separated) and, with mutual TLS, the PEM texts.
 */
export const grpcSecretFields = { apiKeys: 'API_KEYS', tlsCertificate: 'GRPC_TLS_CERT', tlsKey: 'GRPC_TLS_KEY', tlsClientCa: 'GRPC_TLS_CLIENT_CA' } as const;

/**
 * What a secret the stack creates holds until the operator puts real digests in: one entry whose digest is all
 * zeros. No key hashes to it (finding one would break SHA-256), so the task starts, passes its health checks and
 * refuses every call: deny-all, never open. Not secret, which is why it can be in the template.
 */
export const unprovisionedApiKeys = `unprovisioned:${'0'.repeat(64)}`;
/** The VPC's range, literal so that security group rules derived from it are checkable at synth. */
export const vpcCidr = '10.56.0.0/16';

export class GrpcService extends Construct {
  readonly vpc: ec2.Vpc;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly listener: elbv2.NetworkListener;
  readonly targetGroup: elbv2.NetworkTargetGroup;
  /** API key digests and mutual-TLS material, read by ECS at task start. */
  readonly secret: secretsmanager.ISecret;
  /** The console feed's listener (HTTP on consoleFeedPort), the console distribution's VPC origin; with `consoleFeed` only. */
  readonly feedListener?: elbv2.NetworkListener;

  constructor(scope: Construct, id: string, props: GrpcServiceProps) {
    super(scope, id);
    this.vpc = this.#vpc(props);
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.secret = this.#secret(props.config);
    const taskDefinition = this.#taskDefinition(props);

    const allowedCidrs = props.config.allowedCidrs ?? [vpcCidr];
    const loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: `gRPC clients to the NLB on ${grpcPort}`,
      allowAllOutbound: false,
    });
    for (const cidr of allowedCidrs) loadBalancerSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(grpcPort), 'gRPC clients');
    if (allowedCidrs.includes('0.0.0.0/0')) {
      acknowledge(loadBalancerSecurityGroup, 'AwsSolutions-EC23', 'The operator opened the gRPC listener to every address (grpcAllowedCidrs); calls still need credentials.');
    }
    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc: this.vpc,
      description: 'gRPC shim tasks: only the NLB may connect',
      allowAllOutbound: true,
    });
    serviceSecurityGroup.addIngressRule(loadBalancerSecurityGroup, ec2.Port.tcp(grpcPort), 'NLB traffic and health checks');
    loadBalancerSecurityGroup.addEgressRule(serviceSecurityGroup, ec2.Port.tcp(grpcPort), 'to the gRPC tasks');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: props.config.desiredCount,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      assignPublicIp: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [serviceSecurityGroup],
      healthCheckGracePeriod: Duration.seconds(60),
    });

    const internetFacing = props.config.loadBalancerScheme === 'internet-facing';
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing,
      vpcSubnets: { subnetType: internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [loadBalancerSecurityGroup],
      crossZoneEnabled: true,
    });
    this.listener = this.#listener(props.config);
    this.targetGroup = this.listener.addTargets('GrpcTargets', {
      port: grpcPort,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: grpcContainerName, containerPort: grpcPort })],
      // The NLB can check TCP or HTTP/1.1, not gRPC: TCP proves the listener; the container check proves gRPC health.
      healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(10), healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
      // Matches the task's stop timeout: in-flight calls drain before the target is gone.
      deregistrationDelay: Duration.seconds(30),
    });
    if (props.consoleFeed) {
      if (internetFacing) throw new Error('the console feed is reached through a CloudFront VPC origin, which needs the internal load balancer: grpcLoadBalancerScheme=internal, or consoleEnabled=false');
      // CloudFront's VPC origin connects from network interfaces it places in the load balancer's subnets, under a
      // security group it creates itself (its id is not known at synth): the VPC's range is the narrowest source
      // this template can name. Nothing outside the VPC can reach an internal NLB, and every request needs an ID token.
      loadBalancerSecurityGroup.addIngressRule(ec2.Peer.ipv4(vpcCidr), ec2.Port.tcp(consoleFeedPort), 'the console distribution (CloudFront VPC origin) to the live feed');
      loadBalancerSecurityGroup.addEgressRule(serviceSecurityGroup, ec2.Port.tcp(consoleFeedPort), 'to the tasks\' console feed');
      serviceSecurityGroup.addIngressRule(loadBalancerSecurityGroup, ec2.Port.tcp(consoleFeedPort), 'NLB traffic and health checks to the console feed');
      this.feedListener = this.loadBalancer.addListener('FeedListener', { port: consoleFeedPort, protocol: elbv2.Protocol.TCP });
      this.feedListener.addTargets('FeedTargets', {
        port: consoleFeedPort,
        protocol: elbv2.Protocol.TCP,
        targets: [this.service.loadBalancerTarget({ containerName: grpcContainerName, containerPort: consoleFeedPort })],
        healthCheck: { protocol: elbv2.Protocol.HTTP, path: '/health', interval: Duration.seconds(10), healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
        deregistrationDelay: Duration.seconds(30),
      });
    }
    acknowledge(
      this.loadBalancer,
      'AwsSolutions-ELB2',
      'NLB access logs cover TLS listeners only; connections are visible in the VPC flow logs and every RPC in the task logs.',
    );
  }

  #vpc(props: GrpcServiceProps): ec2.Vpc {
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    return new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(vpcCidr),
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      // DynamoDB traffic stays on the AWS network and off the NAT gateway's bill.
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
      flowLogs: { All: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
    });
  }

  #taskDefinition(props: GrpcServiceProps): ecs.FargateTaskDefinition {
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.config.cpu,
      memoryLimitMiB: props.config.memoryLimitMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const fromSecret = Object.keys(props.config.environment).filter((name) => (Object.values(grpcSecretFields) as string[]).includes(name));
    if (fromSecret.length > 0) throw new Error(`grpcEnvironment must not carry ${fromSecret.join(', ')}: they come from the task's secret (docs/deploy.md)`);
    const environment: Record<string, string> = {
      BANK_ADAPTER: deployedBankAdapter,
      ...props.config.environment,
      GRPC_PORT: String(grpcPort),
      STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
      // Every deployed process states its dead-letter queue (lambdas/config.ts refuses to start without it); BANK_ADAPTER above.
      DEAD_LETTER_QUEUE_URL: props.deadLetterQueue.queueUrl,
      // EMF to stdout, flushed every minute and on SIGTERM (bin/grpc-server.ts); the awslogs driver ships it.
      METRICS_ADAPTER: 'emf',
      POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
      POWERTOOLS_SERVICE_NAME: metricsServiceName,
    };
    if (props.consoleFeed) {
      environment.CONSOLE_FEED_PORT = String(consoleFeedPort);
      environment.CONSOLE_SIGN_IN_PARAMETER = props.consoleFeed.signInParameterName;
    }
    for (const [logicalName, variable] of Object.entries(tableNameEnvironmentVariables)) {
      environment[variable] = props.tables[logicalName as LogicalTableName].tableName;
    }
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    taskDefinition.addContainer(grpcContainerName, {
      image: ecs.ContainerImage.fromAsset(projectRoot, { file: 'Dockerfile', platform: Platform.LINUX_ARM64 }),
      environment,
      // ECS reads these at task start (a changed secret reaches new tasks: `aws ecs update-service --force-new-deployment`).
      secrets: this.#containerSecrets(props.config),
      portMappings: [{ containerPort: grpcPort, protocol: ecs.Protocol.TCP }, ...(props.consoleFeed ? [{ containerPort: consoleFeedPort, protocol: ecs.Protocol.TCP }] : [])],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'grpc', logGroup }),
      healthCheck: {
        command: ['CMD', 'node', 'health-probe.cjs'],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      // The shim keeps its state in DynamoDB; nothing needs to write to the image.
      readonlyRootFilesystem: true,
      // Graceful shutdown drains in-flight calls within this window after SIGTERM.
      stopTimeout: Duration.seconds(30),
    });
    grantTableAccess(taskDefinition.taskRole, props.tables, grpcTaskTableAccess);
    grantStreamRead(taskDefinition.taskRole, props.tables, grpcTaskStreamAccess);
    props.stateMachine.grantStartExecution(taskDefinition.taskRole);
    if (props.consoleFeed) {
      // Named, not referenced: the parameter belongs to the console stack, deployed after this one.
      taskDefinition.taskRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: [Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: props.consoleFeed.signInParameterName.replace(/^\//, '') })],
        }),
      );
    }
    if (taskDefinition.executionRole) {
      acknowledge(taskDefinition.executionRole, 'AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken, needed to pull the image, supports no resource-level permissions.');
    }
    acknowledge(
      taskDefinition,
      'AwsSolutions-ECS2',
      'The environment holds non-secret configuration only: table names, the state machine ARN, the port, and grpcEnvironment settings. API keys and TLS material are ECS secrets from Secrets Manager.',
    );
    return taskDefinition;
  }

  #secret(config: GrpcServiceConfig): secretsmanager.ISecret {
    if (config.secretArn !== undefined) return secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', config.secretArn);
    const secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Settlement Engine gRPC shim: API_KEYS (clientName:sha256hex, comma-separated) and, for mutual TLS, GRPC_TLS_CERT, GRPC_TLS_KEY, GRPC_TLS_CLIENT_CA (PEM)',
      secretObjectValue: { [grpcSecretFields.apiKeys]: SecretValue.unsafePlainText(unprovisionedApiKeys) },
      // Replacing the stack must not take the operator's key digests and certificates with it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'Holds digests of API keys and TLS material that operators issue: rotation is the documented add-then-remove procedure (docs/deploy.md), not a rotation function that could not reach the clients.',
    );
    return secret;
  }

  #containerSecrets(config: GrpcServiceConfig): Record<string, ecs.Secret> {
    const fields: string[] = [grpcSecretFields.apiKeys];
    if (config.mutualTls) fields.push(grpcSecretFields.tlsCertificate, grpcSecretFields.tlsKey, grpcSecretFields.tlsClientCa);
    return Object.fromEntries(fields.map((field) => [field, ecs.Secret.fromSecretsManager(this.secret, field)]));
  }

  #listener(config: GrpcServiceConfig): elbv2.NetworkListener {
    if (config.certificateArn === undefined) {
      return this.loadBalancer.addListener('Listener', { port: grpcPort, protocol: elbv2.Protocol.TCP });
    }
    // TLS ends at the NLB; gRPC clients insist on HTTP/2 being negotiated by ALPN.
    return this.loadBalancer.addListener('Listener', {
      port: grpcPort,
      protocol: elbv2.Protocol.TLS,
      certificates: [elbv2.ListenerCertificate.fromArn(config.certificateArn)],
      alpnPolicy: elbv2.AlpnPolicy.HTTP2_ONLY,
    });
  }
}
