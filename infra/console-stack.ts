/**
 * The console stack: the operations console on AWS (infra/constructs/console-site.ts) and its own API stage over
 * the engine's API functions. A stack of its own: the console's ~50 API resources would crowd the engine stack's
 * 500-resource limit, and it can be left out (`consoleEnabled=false`) or redeployed without touching the engine.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { ApiFunctionRole, RouteDeclaration } from './api-routes';
import { consoleFeedPort, consoleSignInParameterName, type SettlementEngineConfig } from './config';
import { ConsoleSite } from './constructs/console-site';
import { SettlementRestApi } from './constructs/rest-api';

export interface ConsoleStackProps extends StackProps {
  readonly config: SettlementEngineConfig;
  readonly routes: readonly RouteDeclaration[];
  /** The engine stack's API functions; the console's stage invokes the same ones, with the same grants. */
  readonly apiFunctions: Readonly<Record<ApiFunctionRole, lambda.IFunction>>;
  /** The gRPC service's internal load balancer, whose feed listener serves /api/v1/events/* (absent: grpcEnabled=false). */
  readonly feedLoadBalancer?: elbv2.INetworkLoadBalancer;
}

export class ConsoleStack extends Stack {
  readonly site: ConsoleSite;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.site = new ConsoleSite(this, 'Console', {
      config: config.console,
      ...(props.feedLoadBalancer && { feed: { loadBalancer: props.feedLoadBalancer, port: consoleFeedPort, signInParameterName: consoleSignInParameterName(config.stackNamePrefix) } }),
      createApi: (siteScope, userPool) => {
        // Imported by ARN so that their invoke permissions live in this stack: the engine stack never depends on it.
        const handlers = Object.fromEntries(
          (Object.entries(props.apiFunctions) as [ApiFunctionRole, lambda.IFunction][]).map(([role, engineFunction]) => [
            role,
            lambda.Function.fromFunctionAttributes(siteScope, `${role}-function`, { functionArn: engineFunction.functionArn, sameEnvironment: true }),
          ]),
        ) as Record<ApiFunctionRole, lambda.IFunction>;
        return new SettlementRestApi(siteScope, 'Api', { handlers, routes: props.routes, config: config.api, logRetention: config.logRetention, cognitoUserPool: userPool, restApiName: 'settlement-engine-console' }).api;
      },
    });
    new CfnOutput(this, 'ConsoleUrl', { value: this.site.url, description: 'The operations console (sign in with a Cognito account)' });
    new CfnOutput(this, 'ConsoleUserPoolId', { value: this.site.userPool.userPoolId, description: 'Cognito user pool of the console: create users and add them to a role group here' });
  }
}
