import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { tableDefinitions, tableNameEnvironmentVariables, type LogicalTableName } from '../../lambdas/adapters/dynamodb/table-definitions';
import { defaultConfig } from '../../infra/config';
import { grpcSecretFields, grpcTaskTableAccess, unprovisionedApiKeys, vpcCidr } from '../../infra/constructs/grpc-service';
import { allFunctions } from '../../infra/function-catalogue';
import { tableActions } from '../../infra/table-access';
import { deployedSettingNames, logicalIdOf, removeAssembly, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';
import { allActions, dynamoDbAccess, statementsOfRole, streamAccess } from './support/iam';

const certificateArn = 'arn:aws:acm:eu-west-1:111122223333:certificate/00000000-0000-0000-0000-000000000000';
const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:settlement-grpc-AbCdEf';

/** The container's `Secrets`: name → ValueFrom. */
function containerSecrets(template: Template): Record<string, unknown> {
  const [definition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  const container = (definition!.Properties.ContainerDefinitions as { Secrets?: { Name: string; ValueFrom: unknown }[] }[])[0]!;
  return Object.fromEntries((container.Secrets ?? []).map((secret) => [secret.Name, secret.ValueFrom]));
}

describe('gRPC shim on Fargate behind an NLB', () => {
  let synthesized: SynthesizedEngine;
  let template: Template;
  beforeAll(() => {
    synthesized = synthesizeEngine();
    template = synthesized.engine;
  });
  afterAll(() => removeAssembly(synthesized));

  it('runs an arm64 Fargate task whose container listens on 50056', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'grpc-shim',
          PortMappings: [{ ContainerPort: 50056, Protocol: 'tcp' }],
          ReadonlyRootFilesystem: true,
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
  });

  it('checks container health through the gRPC health service', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ HealthCheck: Match.objectLike({ Command: ['CMD', 'node', 'health-probe.cjs'], Interval: 15, Retries: 3 }) }),
      ],
    });
  });

  it('gives the task the table names, the state machine and GRPC_PORT=50056', () => {
    const tableNames = Object.values(tableNameEnvironmentVariables).map((Name) => ({ Name, Value: Match.anyValue() }));
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'GRPC_PORT', Value: '50056' },
            // Settlements start on the Express fast path.
            { Name: 'STATE_MACHINE_ARN', Value: { Ref: logicalIdOf(synthesized.stacks.engine.fastPath.stateMachine) } },
            ...tableNames,
          ]),
        }),
      ],
    });
  });

  it('runs the service in private subnets without public IPs, registered with the NLB target group', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      LoadBalancers: [{ ContainerName: 'grpc-shim', ContainerPort: 50056, TargetGroupArn: { Ref: Match.anyValue() } }],
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
  });

  it('puts an internal network load balancer in front', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internal' });
  });

  it('listens on 50056 over TCP when no certificate is given', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 50056,
      Protocol: 'TCP',
      Certificates: Match.absent(),
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.anyValue() } }],
    });
  });

  it('checks targets by TCP on the traffic port (an NLB cannot speak gRPC)', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 50056,
      Protocol: 'TCP',
      TargetType: 'ip',
      HealthCheckProtocol: 'TCP',
      HealthCheckIntervalSeconds: 10,
    });
  });

  it('admits gRPC clients from the VPC range only, and the tasks only from the NLB', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: vpcCidr, FromPort: 50056, ToPort: 50056, IpProtocol: 'tcp' })],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 50056,
      ToPort: 50056,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancerSecurityGroup'), 'GroupId'] },
    });
  });

  it('gives the task role only its table grants, the settlements change stream and StartExecution', () => {
    const taskRole = logicalIdOf(synthesized.stacks.engine.grpc!.service.taskDefinition.taskRole);
    const statements = statementsOfRole(template, taskRole);
    const tableLogicalIds = Object.fromEntries(
      tableDefinitions.map((definition) => [definition.logicalName, logicalIdOf(synthesized.stacks.stateful.tables[definition.logicalName])]),
    ) as Record<LogicalTableName, string>;
    const expected = Object.fromEntries(
      Object.entries(grpcTaskTableAccess).map(([table, access]) => [table, tableActions(access).sort()]),
    );
    expect(dynamoDbAccess(statements, tableLogicalIds)).toEqual(expected);
    // StreamSettlementEvents and nothing more: the shard list, iterators and records of one stream.
    expect(streamAccess(statements, tableLogicalIds)).toEqual({ settlements: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] });
    expect([...allActions(statements)].filter((action) => action.startsWith('dynamodb:'))).not.toContain('dynamodb:ListStreams');
    expect([...allActions(statements)].filter((action) => !action.startsWith('dynamodb:') && !action.startsWith('kms:')).sort()).toEqual(['states:StartExecution']);
  });

  describe('API keys from Secrets Manager', () => {
    it('creates the secret, deny-all until an operator puts digests in, retained with the data', () => {
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: { SecretString: JSON.stringify({ [grpcSecretFields.apiKeys]: unprovisionedApiKeys }) },
        DeletionPolicy: 'Retain',
      });
      expect(unprovisionedApiKeys).toMatch(/^[a-z]+:0{64}$/);
    });

    it('injects API_KEYS as an ECS secret (the value itself, from the secret\'s JSON field), never as plain environment', () => {
      const secretId = logicalIdOf(synthesized.stacks.engine.grpc!.secret);
      expect(containerSecrets(template)).toEqual({
        API_KEYS: { 'Fn::Join': ['', [{ Ref: secretId }, ':API_KEYS::']] },
      });
      const [definition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
      const environment = JSON.stringify((definition!.Properties.ContainerDefinitions as { Environment: unknown }[])[0]!.Environment);
      for (const field of Object.values(grpcSecretFields)) expect(environment).not.toContain(field);
    });

    it('lets the task execution role read that secret, and the task role nothing of Secrets Manager', () => {
      const taskDefinition = synthesized.stacks.engine.grpc!.service.taskDefinition;
      const executionStatements = statementsOfRole(template, logicalIdOf(taskDefinition.executionRole!));
      expect(executionStatements).toContainEqual(
        expect.objectContaining({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: logicalIdOf(synthesized.stacks.engine.grpc!.secret) } }),
      );
      expect([...allActions(statementsOfRole(template, logicalIdOf(taskDefinition.taskRole)))].filter((action) => action.startsWith('secretsmanager:'))).toEqual([]);
    });

    it('gives the task every setting its entry refuses to start without, and every function the same stated choices', () => {
      // The settings bin/grpc-server.ts needs to start on AWS; lambdas/config.ts's requiredEnvironmentVariables
      // (deploy-code, #10) is to replace this list once it exists.
      const settings = deployedSettingNames(synthesized);
      const tableVariables = Object.values(tableNameEnvironmentVariables);
      for (const name of [...tableVariables, 'API_KEYS', 'STATE_MACHINE_ARN', 'GRPC_PORT', 'BANK_ADAPTER', 'METRICS_ADAPTER']) expect(settings.get('grpc-task')).toContain(name);
      for (const spec of allFunctions) {
        for (const name of [...tableVariables, 'BANK_ADAPTER', 'METRICS_ADAPTER']) expect(settings.get(spec.id)).toContain(name);
      }
    });

    it('states its bank adapter instead of leaving it to a default', () => {
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'BANK_ADAPTER', Value: 'mock' }]) })],
      });
    });

    it('refuses API keys or TLS material in grpcEnvironment', () => {
      expect(() => synthesizeEngine({ config: { grpc: { ...defaultConfig.grpc, environment: { API_KEYS: 'client:' + 'a'.repeat(64) } } } })).toThrow(/API_KEYS.*secret/);
    });
  });

  it('stages the Docker build context at synth (no Docker needed) from the repository Dockerfile, for linux/arm64', () => {
    const artifact = synthesized.assembly.getStackArtifact(synthesized.stacks.engine.artifactId);
    const manifestFile = artifact.dependencies.map((dependency) => dependency.manifest).find((manifest) => manifest.type === 'cdk:asset-manifest');
    const manifest = JSON.parse(fs.readFileSync(path.join(synthesized.assembly.directory, (manifestFile!.properties as { file: string }).file), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile: string; platform: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]!.source).toEqual(expect.objectContaining({ dockerFile: 'Dockerfile', platform: 'linux/arm64' }));
    const context = path.join(synthesized.assembly.directory, images[0]!.source.directory);
    for (const needed of ['Dockerfile', 'package.json', 'package-lock.json', 'bin/grpc-server.ts', 'lambdas', 'proto', 'infra/grpc-shim/health-probe.cjs']) {
      expect(fs.existsSync(path.join(context, needed))).toBe(true);
    }
    for (const excluded of ['node_modules', 'cdk.out', '.git', 'test', 'infra/engine-stack.ts']) {
      expect(fs.existsSync(path.join(context, excluded))).toBe(false);
    }
  });
});

describe('gRPC shim with a certificate, an existing secret and mutual TLS', () => {
  let synthesized: SynthesizedEngine;
  beforeAll(() => {
    synthesized = synthesizeEngine({
      config: { grpc: { ...defaultConfig.grpc, certificateArn, loadBalancerScheme: 'internet-facing', allowedCidrs: ['203.0.113.0/24'], secretArn, mutualTls: true } },
    });
  });

  it('creates no secret and injects API_KEYS and the three PEMs from the given one', () => {
    synthesized.engine.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(containerSecrets(synthesized.engine)).toEqual({
      API_KEYS: `${secretArn}:API_KEYS::`,
      GRPC_TLS_CERT: `${secretArn}:GRPC_TLS_CERT::`,
      GRPC_TLS_KEY: `${secretArn}:GRPC_TLS_KEY::`,
      GRPC_TLS_CLIENT_CA: `${secretArn}:GRPC_TLS_CLIENT_CA::`,
    });
  });
  afterAll(() => removeAssembly(synthesized));

  it('terminates TLS on the 50056 listener and negotiates HTTP/2 by ALPN, as gRPC clients require', () => {
    synthesized.engine.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 50056,
      Protocol: 'TLS',
      Certificates: [{ CertificateArn: certificateArn }],
      AlpnPolicy: ['HTTP2Only'],
    });
  });

  it('can face the internet, admitting only the configured ranges', () => {
    synthesized.engine.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internet-facing' });
    synthesized.engine.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '203.0.113.0/24', FromPort: 50056 })],
    });
  });
});

describe('gRPC shim left out (LocalStack Community)', () => {
  let synthesized: SynthesizedEngine;
  beforeAll(() => {
    synthesized = synthesizeEngine({ config: { grpc: { ...defaultConfig.grpc, enabled: false } } });
  });
  afterAll(() => removeAssembly(synthesized));

  it('deploys no VPC, load balancer or ECS service, and keeps everything else', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ECS::Service']) synthesized.engine.resourceCountIs(type, 0);
    synthesized.engine.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    // Plus the statement inbox's import function and CDK's bucket-notifications handler that switches its EventBridge delivery on.
    synthesized.engine.resourceCountIs('AWS::Lambda::Function', allFunctions.length + 2);
  });
});
