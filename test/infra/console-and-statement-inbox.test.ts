/**
 * The two operator-facing surfaces on AWS, asserted on one synthesis (each synthesis costs ~10 s): the console
 * stack (private bucket behind CloudFront with Origin Access Control, CSP and HSTS on every answer, a Cognito pool
 * with MFA and role groups, a Cognito authorizer on every console API route) and the statement inbox of the engine
 * stack (a private, versioned, logged bucket whose Object Created events reach the import function, which may read
 * that bucket's incoming/ files and nothing else).
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { tableDefinitions, type LogicalTableName } from '../../lambdas/adapters/dynamodb/table-definitions';
import { restRoutesOf } from '../../infra/api-routes';
import { consoleFeedPort, consoleSignInParameterName } from '../../infra/config';
import { statementImportFunction } from '../../infra/constructs/statement-inbox';
import { tableActions } from '../../infra/table-access';
import { apiRoutes } from '../../lambdas/handlers/routes';
import { actionsOf, allActions, dynamoDbAccess, statementsOfRole, type PolicyStatement } from './support/iam';
import { logicalIdOf, onlyResource, removeAssembly, resourceTemplate, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

let synthesized: SynthesizedEngine;
let consoleTemplate: Template;
beforeAll(() => {
  synthesized = synthesizeEngine({ withConsole: true });
  consoleTemplate = Template.fromStack(synthesized.stacks.console!);
});
afterAll(() => removeAssembly(synthesized));

/** Statements of a bucket's policy. */
const bucketPolicyOf = (template: Template, bucketLogicalId: string): PolicyStatement[] =>
  Object.values(template.findResources('AWS::S3::BucketPolicy'))
    .filter((policy) => JSON.stringify(policy.Properties.Bucket) === JSON.stringify({ Ref: bucketLogicalId }))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as PolicyStatement[]);

const privateBucket = { PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }, BucketEncryption: Match.objectLike({}) };
const deniesPlainHttp = (statements: PolicyStatement[]) =>
  expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));

describe('the console on AWS', () => {
  const bucketId = () => logicalIdOf(synthesized.stacks.console!.site.bucket);
  const distributionId = () => logicalIdOf(synthesized.stacks.console!.site.distribution);

  it('keeps the files in a private, encrypted bucket that only this distribution may read, over TLS', () => {
    resourceTemplate(consoleTemplate, bucketId()).hasResourceProperties('AWS::S3::Bucket', privateBucket);
    const policy = bucketPolicyOf(consoleTemplate, bucketId());
    deniesPlainHttp(policy);
    const allows = policy.filter((statement) => statement.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Condition: { StringEquals: { 'AWS:SourceArn': expect.objectContaining({ 'Fn::Join': expect.arrayContaining([expect.arrayContaining([{ Ref: distributionId() }])]) }) } },
      }),
    ]);
  });

  it('reads the bucket through Origin Access Control (SigV4, always), not an origin access identity', () => {
    const [oacId] = onlyResource(consoleTemplate, 'AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' } });
    resourceTemplate(consoleTemplate, distributionId()).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { Origins: Match.arrayWith([Match.objectLike({ OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] }, S3OriginConfig: { OriginAccessIdentity: '' } })]) },
    });
  });

  it('answers every path with the strict CSP, HSTS for two years with preload, nosniff and no framing', () => {
    const [policyId, policy] = onlyResource(consoleTemplate, 'AWS::CloudFront::ResponseHeadersPolicy');
    const headers = (policy.Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, Record<string, unknown>> }).SecurityHeadersConfig;
    expect(headers.StrictTransportSecurity).toEqual({ AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Preload: true, Override: true });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.ContentSecurityPolicy.Override).toBe(true);
    const csp = JSON.stringify(headers.ContentSecurityPolicy.ContentSecurityPolicy);
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self' https://", "form-action 'none'", "frame-ancestors 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe-inline');
    const behaviours = resourceTemplate(consoleTemplate, distributionId()).toJSON() as { Resources: Record<string, { Properties: { DistributionConfig: { DefaultCacheBehavior: unknown; CacheBehaviors: unknown[] } } }> };
    const config = Object.values(behaviours.Resources)[0]!.Properties.DistributionConfig;
    for (const behaviour of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) {
      expect(behaviour).toMatchObject({ ResponseHeadersPolicyId: { Ref: policyId }, ViewerProtocolPolicy: expect.stringMatching(/^(redirect-to-https|https-only)$/) });
    }
  });

  it('logs every request of the distribution', () => {
    resourceTemplate(consoleTemplate, distributionId()).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { Logging: { Bucket: Match.objectLike({ 'Fn::GetAtt': [logicalIdOf(synthesized.stacks.console!.site.logsBucket), 'RegionalDomainName'] }) } },
    });
  });

  it('signs people in with a Cognito pool: admin-created accounts, MFA required (authenticator app), Plus plan with full threat protection', () => {
    consoleTemplate.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true }) },
    });
  });

  it('has a group per role (operator, auditor) for the claims mapping to read', () => {
    const groups = Object.values(consoleTemplate.findResources('AWS::Cognito::UserPoolGroup')).map((group) => group.Properties.GroupName as string);
    expect(groups.sort()).toEqual(['auditor', 'operator']);
  });

  it('lets the page sign in by the authorization code flow only, as a public client, back to the console', () => {
    consoleTemplate.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      GenerateSecret: false,
      CallbackURLs: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId(), 'DomainName'] }, '/console']] }],
    });
  });

  it('puts a Cognito authorizer of that pool on every authenticated route of the console API, and IAM on none', () => {
    const [authorizerId] = onlyResource(consoleTemplate, 'AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [logicalIdOf(synthesized.stacks.console!.site.userPool), 'Arn'] }],
    });
    const methods = Object.values(consoleTemplate.findResources('AWS::ApiGateway::Method')).map((method) => method.Properties as { AuthorizationType: string; AuthorizerId?: unknown; HttpMethod: string });
    const authenticated = restRoutesOf(apiRoutes).filter((route) => route.authorization === 'IAM');
    const cognitoMethods = methods.filter((method) => method.AuthorizationType === 'COGNITO_USER_POOLS');
    expect(cognitoMethods).toHaveLength(authenticated.length);
    for (const method of cognitoMethods) expect(method.AuthorizerId).toEqual({ Ref: authorizerId });
    expect(methods.filter((method) => method.AuthorizationType === 'AWS_IAM')).toEqual([]);
    expect(methods.filter((method) => method.AuthorizationType === 'NONE' && method.HttpMethod !== 'OPTIONS')).toHaveLength(restRoutesOf(apiRoutes).length - authenticated.length);
  });

  it('serves /api/* from that API on the same origin, never cached, forwarding the Authorization header', () => {
    const [cachePolicyId] = onlyResource(consoleTemplate, 'AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ DefaultTTL: 0, MinTTL: 0, ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({ HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Authorization'] } }) }),
    });
    resourceTemplate(consoleTemplate, distributionId()).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { CacheBehaviors: Match.arrayWith([Match.objectLike({ PathPattern: '/api/*', CachePolicyId: { Ref: cachePolicyId }, AllowedMethods: Match.arrayWith(['PUT', 'POST', 'DELETE']) })]) },
    });
  });

  it('serves /api/v1/events/* (live feed, stats) from the gRPC task through a VPC origin on its internal NLB, before /api/*, never cached, Authorization forwarded', () => {
    const [cachePolicyId] = onlyResource(consoleTemplate, 'AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ DefaultTTL: 0, MinTTL: 0, ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({ HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Authorization'] } }) }),
    });
    const [vpcOriginId] = onlyResource(consoleTemplate, 'AWS::CloudFront::VpcOrigin', {
      VpcOriginEndpointConfig: Match.objectLike({ HTTPPort: consoleFeedPort, OriginProtocolPolicy: 'http-only', Arn: { 'Fn::ImportValue': Match.stringLikeRegexp('GrpcLoadBalancer') } }),
    });
    const config = consoleTemplate.toJSON().Resources[distributionId()].Properties.DistributionConfig;
    expect(config.CacheBehaviors.map((behavior: { PathPattern: string }) => behavior.PathPattern)).toEqual(['/api/v1/events/*', '/api/*']);
    const [feed] = config.CacheBehaviors;
    expect(feed).toMatchObject({ CachePolicyId: { Ref: cachePolicyId }, ViewerProtocolPolicy: 'https-only', AllowedMethods: ['GET', 'HEAD'] });
    const origin = config.Origins.find((candidate: { Id: string }) => candidate.Id === feed.TargetOriginId);
    expect(origin.VpcOriginConfig).toMatchObject({ VpcOriginId: { 'Fn::GetAtt': [vpcOriginId, 'Id'] } });
    // The task learns which pool and client to trust from a parameter this stack writes (it is deployed after the engine).
    consoleTemplate.hasResourceProperties('AWS::SSM::Parameter', { Name: consoleSignInParameterName('SettlementEngine'), Type: 'String', Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    expect(JSON.stringify(consoleTemplate.findResources('AWS::SSM::Parameter'))).toMatch(/"issuer\\":\\"https:\/\/.*ProviderURL.*clientId/);
  });

  it('opens the feed port on the engine NLB to the VPC only, from the NLB to the tasks only, with the task reading that one parameter', () => {
    const engine = synthesized.engine;
    engine.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: consoleFeedPort, Protocol: 'TCP' });
    engine.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: consoleFeedPort, Protocol: 'TCP', HealthCheckProtocol: 'HTTP', HealthCheckPath: '/health' });
    const grpc = synthesized.stacks.engine.grpc!;
    const ingress = Object.values(engine.findResources('AWS::EC2::SecurityGroupIngress')).map((rule) => rule.Properties as Record<string, unknown>);
    const feedIngress = [
      ...ingress.filter((rule) => rule.FromPort === consoleFeedPort),
      ...Object.values(engine.findResources('AWS::EC2::SecurityGroup')).flatMap((group) => ((group.Properties.SecurityGroupIngress ?? []) as Record<string, unknown>[]).filter((rule) => rule.FromPort === consoleFeedPort)),
    ];
    expect(feedIngress).toHaveLength(2);
    expect(feedIngress).toContainEqual(expect.objectContaining({ CidrIp: '10.56.0.0/16', IpProtocol: 'tcp', ToPort: consoleFeedPort }));
    expect(feedIngress).toContainEqual(expect.objectContaining({ SourceSecurityGroupId: { 'Fn::GetAtt': [logicalIdOf(grpc.loadBalancer.connections.securityGroups[0]!), 'GroupId'] }, ToPort: consoleFeedPort }));
    expect(feedIngress.filter((rule) => rule.CidrIp === '0.0.0.0/0')).toEqual([]);
    const [, taskDefinition] = onlyResource(engine, 'AWS::ECS::TaskDefinition');
    const [container] = taskDefinition.Properties.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[]; PortMappings: { ContainerPort: number }[] }[];
    expect(container!.Environment).toEqual(expect.arrayContaining([{ Name: 'CONSOLE_FEED_PORT', Value: String(consoleFeedPort) }, { Name: 'CONSOLE_SIGN_IN_PARAMETER', Value: consoleSignInParameterName('SettlementEngine') }]));
    expect(container!.PortMappings.map((mapping) => mapping.ContainerPort)).toContain(consoleFeedPort);
    const taskRoleId = (taskDefinition.Properties.TaskRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const ssmStatements = statementsOfRole(engine, taskRoleId).filter((statement) => actionsOf(statement).some((action) => action.startsWith('ssm:')));
    expect(ssmStatements).toHaveLength(1);
    expect(actionsOf(ssmStatements[0]!)).toEqual(['ssm:GetParameter']);
    expect(JSON.stringify(ssmStatements[0]!.Resource)).toContain(':parameter/SettlementEngine/console/sign-in"');
  });

  it('leaves the engine stack independent of the console stack (the console imports the functions, not the reverse)', () => {
    expect(JSON.stringify(synthesized.engine.toJSON())).not.toContain('SettlementEngine-console');
    expect(synthesized.stacks.engine.dependencies).not.toContain(synthesized.stacks.console);
  });
});

describe('the statement inbox on AWS', () => {
  const inbox = () => synthesized.stacks.engine.statementInbox;
  const bucketId = () => logicalIdOf(inbox().bucket);

  it('keeps statements in a private, encrypted, versioned bucket with access logs, a lifecycle, TLS only and EventBridge delivery', () => {
    resourceTemplate(synthesized.engine, bucketId()).hasResourceProperties('AWS::S3::Bucket', {
      ...privateBucket,
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(inbox().accessLogsBucket) }, LogFilePrefix: 'statement-bucket/' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })]) },
    });
    deniesPlainHttp(bucketPolicyOf(synthesized.engine, bucketId()));
    synthesized.engine.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: { Ref: bucketId() }, NotificationConfiguration: { EventBridgeConfiguration: {} } });
  });

  it('sends Object Created events under incoming/ of that bucket to the import function, with retries and a dead-letter queue', () => {
    synthesized.engine.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: [{ Ref: bucketId() }] }, object: { key: [{ prefix: 'incoming/' }] } } },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalIdOf(inbox().importFunction.function), 'Arn'] },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(inbox().failedEventsQueue), 'Arn'] } },
        }),
      ],
    });
  });

  it('runs lambdas/handlers/statement-import.ts, knowing the bucket and the rejections queue', () => {
    resourceTemplate(synthesized.engine, logicalIdOf(inbox().importFunction.function)).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.importStatementObject',
      Environment: { Variables: Match.objectLike({ STATEMENT_BUCKET: { Ref: bucketId() }, STATEMENT_REJECTIONS_QUEUE_URL: { Ref: logicalIdOf(inbox().rejectionsQueue) } }) },
    });
  });

  it("may read the files under incoming/ of that bucket and nothing else in S3, send only to its two queues, and use the tables' key", () => {
    const statements = statementsOfRole(synthesized.engine, logicalIdOf(inbox().importFunction.role));
    const s3Statements = statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith('s3:')));
    expect(s3Statements).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(), 'Arn'] }, '/incoming/*']] } }),
    ]);
    const sqsStatements = statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith('sqs:')));
    // Refused files to the rejections queue; Lambda sends a run that failed after its retries to the failed-events
    // queue with the function's own role.
    const queues = sqsStatements.flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]));
    expect(queues).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [logicalIdOf(inbox().rejectionsQueue), 'Arn'] }, { 'Fn::GetAtt': [logicalIdOf(inbox().failedEventsQueue), 'Arn'] }]));
    expect(queues).toHaveLength(2);
    expect(new Set(sqsStatements.flatMap(actionsOf))).toEqual(new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
    expect([...allActions(statements)].filter((action) => !/^(s3|sqs|dynamodb|kms|logs|xray):/.test(action))).toEqual([]);
  });

  it('holds exactly the table grants of the statement use case: read accounts, put the statement and its audit entry', () => {
    const tableIds = Object.fromEntries(tableDefinitions.map((definition) => [definition.logicalName, logicalIdOf(synthesized.stacks.stateful.tables[definition.logicalName])])) as Record<LogicalTableName, string>;
    const expected = Object.fromEntries(Object.entries(statementImportFunction.tables).map(([table, access]) => [table, tableActions(access).sort()]));
    expect(dynamoDbAccess(statementsOfRole(synthesized.engine, logicalIdOf(inbox().importFunction.role)), tableIds)).toEqual(expected);
    expect(Object.keys(expected).sort()).toEqual(['accounts', 'reconciliation', 'reference']);
  });
});
