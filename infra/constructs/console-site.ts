/**
 * The operations console on AWS (docs/console.md): the page and its script, built from console/src by esbuild at
 * synth, in a private bucket that only this CloudFront distribution may read (Origin Access Control); sign-in with a
 * Cognito user pool (hosted UI, code flow with PKCE, MFA required, Plus feature plan with full threat protection)
 * whose groups are roles (`operator`, `auditor`, `participant-<BIC>`); and `/api/*` on the same origin, forwarded to
 * the console's own REST stage, where a Cognito authorizer checks the ID token before the engine's function runs.
 * Every answer carries the page's strict CSP and HSTS from one response headers policy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, DockerImage, Duration, Fn, RemovalPolicy, Stack, type BundlingOptions } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import * as esbuild from 'esbuild';
import { consoleScriptBuildOptions, consoleStaticFiles } from '../../lambdas/adapters/console/bundle';
import { consoleContentSecurityPolicy } from '../../lambdas/adapters/console/security-headers';
import type { ConsoleConfig } from '../config';
import { acknowledge } from '../nag';
import { projectRoot } from './engine-function';
import { privateBucketDefaults } from './storage-defaults';

/** The groups that are roles (lambdas/adapters/auth/cognito-claims.ts reads them back). */
export const consoleRoleGroups = ['operator', 'auditor'] as const;
export const participantGroupPrefix = 'participant-';
/** How long a sign-in lasts: an operator's session is a working day at most, the ID token an hour. */
export const consoleTokenValidity = { id: Duration.hours(1), access: Duration.hours(1), refresh: Duration.hours(8) } as const;
/** The page's path on the distribution, as locally (`/console`). */
export const consolePath = '/console';

export interface ConsoleSiteProps {
  readonly config: ConsoleConfig;
  /**
   * Builds the console's API stage with this user pool's authorizer: the site creates the pool, the caller (the
   * console stack) creates the API over the engine's functions.
   */
  readonly createApi: (scope: Construct, userPool: cognito.IUserPool) => apigateway.RestApi;
  /**
   * The live feed and last-hour stats (`/api/v1/events/*`): served by the engine's gRPC task over HTTP on the
   * internal load balancer, reached through a CloudFront VPC origin. The task checks the ID token itself against the
   * issuer and client this site writes to `signInParameterName`. Absent (no gRPC service): those pages are not served.
   */
  readonly feed?: { readonly loadBalancer: elbv2.INetworkLoadBalancer; readonly port: number; readonly signInParameterName: string };
}

/** The distribution's path for the live feed and the stats, served by the gRPC task (the rest of /api/* by the REST stage). */
export const consoleFeedPathPattern = '/api/v1/events/*';

export class ConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly logsBucket: s3.Bucket;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly userPoolDomain: cognito.UserPoolDomain;
  readonly api: apigateway.RestApi;
  readonly distribution: cloudfront.Distribution;
  readonly headersPolicy: cloudfront.ResponseHeadersPolicy;
  /** Where the gRPC task reads the pool's issuer and the console's client (with `feed` only). */
  readonly signInParameter?: ssm.StringParameter;
  /** The console's address: `https://<domain>/console`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    const { config } = props;
    this.logsBucket = new s3.Bucket(this, 'Logs', {
      ...privateBucketDefaults,
      // CloudFront's standard logs are delivered with an ACL grant: the one reason this bucket keeps ACLs.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(400) }],
    });
    acknowledge(this.logsBucket, 'AwsSolutions-S1', "This bucket receives the console bucket's access logs and the distribution's; logging it into itself would loop.");
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucketDefaults,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'console-bucket/',
      // Only built files, but a versioned bucket with objects cannot be deleted by CloudFormation: kept (the defaults'
      // RETAIN), like the logs.
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
    });

    this.userPool = this.#userPool(config);
    this.userPoolDomain = this.userPool.addDomain('SignIn', {
      cognitoDomain: { domainPrefix: config.cognitoDomainPrefix ?? Fn.join('-', ['settlement-console', Aws.ACCOUNT_ID]) },
    });
    const signInOrigin = this.userPoolDomain.baseUrl();
    this.api = props.createApi(this, this.userPool);

    this.headersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Settlement Engine console: strict CSP (own script, own origin, the Cognito domain), HSTS, no framing',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleContentSecurityPolicy([signInOrigin]), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = this.#distribution(config, props.feed);
    const domain = config.domainName ?? this.distribution.distributionDomainName;
    this.url = `https://${domain}${consolePath}`;
    this.userPoolClient = this.userPool.addClient('Console', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [this.url],
        logoutUrls: [this.url],
      },
      preventUserExistenceErrors: true,
      idTokenValidity: consoleTokenValidity.id,
      accessTokenValidity: consoleTokenValidity.access,
      refreshTokenValidity: consoleTokenValidity.refresh,
      enableTokenRevocation: true,
    });
    if (props.feed) {
      this.signInParameter = new ssm.StringParameter(this, 'SignInParameter', {
        parameterName: props.feed.signInParameterName,
        description: "Settlement Engine console: the Cognito issuer and app client whose ID tokens the gRPC task's live feed accepts",
        // What aws-jwt-verify checks in the task: the issuer (its JWKS beside it) and the audience. Not secret.
        stringValue: Stack.of(this).toJsonString({ issuer: Fn.join('', ['https://', this.userPool.userPoolProviderUrl]), clientId: this.userPoolClient.userPoolClientId }),
      });
    }

    new s3deploy.BucketDeployment(this, 'Files', {
      destinationBucket: this.bucket,
      sources: [
        s3deploy.Source.asset(path.join(projectRoot, 'console'), { bundling: consoleBundling() }),
        // What the page needs to send people to the hosted sign-in; none of it is secret.
        s3deploy.Source.jsonData('console/config.json', { signIn: 'cognito', signInOrigin, clientId: this.userPoolClient.userPoolClientId, redirectUri: this.url }),
      ],
      distribution: this.distribution,
      distributionPaths: [`${consolePath}*`],
      memoryLimit: 256,
    });
    this.#acknowledgeDeploymentHandler();
  }

  /** CDK's own deployment function (one per stack), which copies the built files in at deploy time. */
  #acknowledgeDeploymentHandler(): void {
    const handler = Stack.of(this).node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) return;
    acknowledge(handler, 'AwsSolutions-L1', "CDK's BucketDeployment handler: its runtime is chosen by aws-cdk-lib and moves with it; it runs only during deployments.");
    acknowledge(
      handler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's BucketDeployment handler writes its logs with the AWS-managed basic execution policy; it runs only during deployments.",
    );
    const bucketId = Stack.of(this).resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
    const findings = [
      'Action::s3:GetBucket*',
      'Action::s3:GetObject*',
      'Action::s3:List*',
      'Action::s3:Abort*',
      'Action::s3:DeleteObject*',
      'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
      `Resource::<${bucketId}.Arn>/*`,
      'Resource::*',
    ];
    for (const finding of findings) {
      acknowledge(
        handler,
        `AwsSolutions-IAM5[${finding}]`,
        "CDK's BucketDeployment handler: read on the CDK asset bucket's objects, write on this console bucket's objects, CloudFront invalidation (CDK grants it on *); nothing else.",
      );
    }
  }

  #userPool(config: ConsoleConfig): cognito.UserPool {
    const userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: 'settlement-console',
      // Accounts are issued by an administrator, never self-made.
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const groups = [...consoleRoleGroups, ...config.participantBics.map((bic) => `${participantGroupPrefix}${bic}`)];
    for (const group of groups) {
      new cognito.CfnUserPoolGroup(this, `Group-${group}`, { userPoolId: userPool.userPoolId, groupName: group, description: `Settlement Engine console role: ${group}` });
    }
    return userPool;
  }

  #distribution(config: ConsoleConfig, feed: ConsoleSiteProps['feed']): cloudfront.Distribution {
    // The API answers per caller: never cached, and the Authorization header is part of the key so that CloudFront
    // forwards it (an origin request policy may not carry it).
    const apiCachePolicy = new cloudfront.CachePolicy(this, 'ApiCachePolicy', {
      comment: 'Settlement Engine console API: not cached; Authorization forwarded',
      defaultTtl: Duration.seconds(0),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.seconds(1),
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Authorization'),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
    });
    // `/console` is the page, as locally; the bucket holds it as console/index.html.
    const pagePath = new cloudfront.Function(this, 'PagePath', {
      comment: 'Settlement Engine console: /console is console/index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(
        `function handler(event) { var request = event.request; if (request.uri === '/' || request.uri === '${consolePath}' || request.uri === '${consolePath}/') request.uri = '${consolePath}/index.html'; return request; }`,
      ),
    });
    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Settlement Engine operations console',
      defaultRootObject: 'console/index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headersPolicy,
        functionAssociations: [{ function: pagePath, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        // Before /api/*: CloudFront takes the first behavior whose pattern matches.
        ...(feed && {
          [consoleFeedPathPattern]: {
            // HTTP inside the VPC: CloudFront reaches the internal load balancer privately; viewers speak HTTPS only.
            origin: origins.VpcOrigin.withNetworkLoadBalancer(feed.loadBalancer, {
              httpPort: feed.port,
              protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
              vpcOriginName: 'settlement-console-feed',
              // The feed sends a comment every 15 s (feedHeartbeatMs): well inside the wait for the next bytes.
              readTimeout: Duration.seconds(60),
              keepaliveTimeout: Duration.seconds(60),
            }),
            viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cachePolicy: apiCachePolicy,
            originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            responseHeadersPolicy: this.headersPolicy,
          },
        }),
        '/api/*': {
          origin: new origins.RestApiOrigin(this.api),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: apiCachePolicy,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: this.headersPolicy,
        },
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logsBucket,
      logFilePrefix: 'distribution/',
      ...(config.webAclArn && { webAclId: config.webAclArn }),
      ...(config.domainName &&
        config.certificateArn && {
          domainNames: [config.domainName],
          certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn),
          minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        }),
    });
    acknowledge(distribution, 'AwsSolutions-CFR1', 'No geo restriction: operators and participant banks sign in from wherever they work; sign-in needs a Cognito account with MFA.');
    if (!config.webAclArn) {
      acknowledge(
        distribution,
        'AwsSolutions-CFR2',
        'A CLOUDFRONT-scope web ACL must be created in us-east-1, outside this environment-agnostic stack: pass its ARN as consoleWebAclArn. Until then every API call still needs a Cognito ID token.',
      );
    }
    if (!config.certificateArn) {
      acknowledge(
        distribution,
        'AwsSolutions-CFR4',
        'On the default *.cloudfront.net certificate the minimum protocol cannot be pinned (CloudFront negotiates TLS 1.2+ with current browsers); give consoleDomainName and consoleCertificateArn to enforce TLSv1.2_2021.',
      );
    }
    return distribution;
  }
}

/** esbuild in this process, never Docker: the same build as the local engine's (lambdas/adapters/console/bundle.ts). */
function consoleBundling(): BundlingOptions {
  return {
    // Required by the type; never pulled, because the local bundling below always succeeds or throws.
    image: DockerImage.fromRegistry('scratch'),
    local: {
      tryBundle(outputDirectory: string): boolean {
        const target = path.join(outputDirectory, 'console');
        fs.mkdirSync(target, { recursive: true });
        const script = esbuild.buildSync(consoleScriptBuildOptions).outputFiles[0];
        const { html, css } = consoleStaticFiles();
        fs.writeFileSync(path.join(target, 'app.js'), script.text);
        fs.writeFileSync(path.join(target, 'app.css'), css);
        fs.writeFileSync(path.join(target, 'index.html'), html);
        return true;
      },
    },
  };
}
