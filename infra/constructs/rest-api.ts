/**
 * The REST API: API Gateway (REST, regional) in front of the API handler (three functions, one per grant set:
 * infra/api-routes.ts), IAM (SigV4) authorization on every route but `GET /health`, JSON-schema checks on request
 * bodies, stage throttling (per method) with a throttle of its own for the health routes, JSON access logs and X-Ray.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { restRoutesOf, settlementRequestSchema, type ApiFunctionRole, type BodyModel, type PlainSchema, type RouteDeclaration } from '../api-routes';
import type { RestApiConfig } from '../config';
import { acknowledge } from '../nag';

export interface RestApiProps {
  /** The function behind each group of routes. */
  readonly handlers: Readonly<Record<ApiFunctionRole, lambda.IFunction>>;
  /** The handler's route table (bin/app.ts passes lambdas/handlers/routes). */
  readonly routes: readonly RouteDeclaration[];
  readonly config: RestApiConfig;
  readonly logRetention: logs.RetentionDays;
  /**
   * The console's API (infra/constructs/console-site.ts): every authenticated route takes this user pool's ID
   * token instead of SigV4, the handler reads the caller from the token's claims; absent: IAM.
   */
  readonly cognitoUserPool?: cognito.IUserPool;
  /** Default `settlement-engine`. */
  readonly restApiName?: string;
}

export class SettlementRestApi extends Construct {
  readonly api: apigateway.RestApi;

  constructor(scope: Construct, id: string, props: RestApiProps) {
    super(scope, id);
    const restRoutes = restRoutesOf(props.routes);
    // API Gateway applies stage limits to each method separately; the health routes get a lower bucket of their
    // own, so probes can neither crowd submission nor cost more than this.
    const healthThrottle = { throttlingRateLimit: props.config.healthThrottlingRateLimit, throttlingBurstLimit: props.config.healthThrottlingBurstLimit };
    const methodOptions = Object.fromEntries(restRoutes.filter((route) => route.function === 'health').map((route) => [`${route.path}/${route.method}`, healthThrottle]));
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const cognitoAuthorizer = props.cognitoUserPool && new apigateway.CognitoUserPoolsAuthorizer(this, 'CognitoAuthorizer', { cognitoUserPools: [props.cognitoUserPool], resultsCacheTtl: Duration.minutes(5) });
    const authenticated: apigateway.MethodOptions = cognitoAuthorizer
      ? { authorizationType: apigateway.AuthorizationType.COGNITO, authorizer: cognitoAuthorizer }
      : { authorizationType: apigateway.AuthorizationType.IAM };
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: props.restApiName ?? 'settlement-engine',
      description: `Settlement Engine REST API (${cognitoAuthorizer ? 'Cognito user pool' : 'IAM'} authorization)`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Execution logs need the account-level CloudWatch role (one per account and region): the engine's API
      // creates it; a second API in the same account uses it.
      ...(cognitoAuthorizer === undefined ? { cloudWatchRole: true, cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : { cloudWatchRole: false }),
      deployOptions: {
        stageName: props.config.stageName,
        throttlingRateLimit: props.config.throttlingRateLimit,
        throttlingBurstLimit: props.config.throttlingBurstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        // Errors only, and never request or response bodies: they carry payment details.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        methodOptions,
      },
      defaultMethodOptions: authenticated,
    });

    // One API-scoped invoke permission instead of two per method: 25 routes would crowd the function's 20 KB
    // resource policy, and the one handler serves every route of this API anyway.
    const integrations = Object.fromEntries(
      (Object.entries(props.handlers) as [ApiFunctionRole, lambda.IFunction][]).map(([role, handler]) => [
        role,
        new apigateway.LambdaIntegration(handler, { proxy: true, scopePermissionToMethod: false }),
      ]),
    ) as Record<ApiFunctionRole, apigateway.LambdaIntegration>;
    const validator = this.api.addRequestValidator('RequestValidator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const models = this.#models();
    for (const route of restRoutes) {
      const resource = this.api.root.resourceForPath(route.path);
      const method = resource.addMethod(route.method, integrations[route.function], {
        ...(route.authorization === 'IAM' ? authenticated : { authorizationType: apigateway.AuthorizationType.NONE }),
        ...(route.bodyModel && { requestValidator: validator, requestModels: { 'application/json': models[route.bodyModel] } }),
      });
      if (route.authorization === 'NONE') {
        acknowledge(method, 'AwsSolutions-APIG4', 'GET /health is the unauthenticated liveness probe; it reveals only up/down.');
        acknowledge(method, 'AwsSolutions-COG4', 'GET /health is the unauthenticated liveness probe; it reveals only up/down.');
      } else if (!cognitoAuthorizer) {
        acknowledge(method, 'AwsSolutions-COG4', 'Callers are services and operators with AWS credentials: IAM (SigV4) authorization, not Cognito user pools.');
      }
    }

    // A refused body answers in the handler's error shape ({ error: { code, message } }), saying what failed.
    this.api.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json': '{"error":{"code":"VALIDATION.INVALID_FIELD","message":"$util.escapeJavaScript($context.error.validationErrorString)"}}',
      },
    });
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        "API Gateway's account-level logging role: the AWS-managed policy is the documented way to let the service write execution logs.",
      );
    }
    acknowledge(
      this.api,
      'AwsSolutions-APIG3',
      cognitoAuthorizer
        ? "No WAF web ACL on the API itself: browsers reach it through the console's CloudFront distribution (which carries the web ACL, consoleWebAclArn), every route but /health requires a Cognito ID token, and the stage is throttled."
        : 'No WAF web ACL by default: every route but /health requires SigV4, and the stage is throttled. Associate a web ACL per account policy.',
    );
  }

  #models(): Record<BodyModel, apigateway.Model> {
    return {
      settlementRequest: this.api.addModel('SettlementRequestModel', {
        contentType: 'application/json',
        modelName: 'SettlementRequest',
        schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, ...toJsonSchema(settlementRequestSchema) },
      }),
      jsonObject: this.api.addModel('JsonObjectModel', {
        contentType: 'application/json',
        modelName: 'JsonObject',
        schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
      }),
    };
  }
}

/** The plain JSON schema of api-routes.ts as CDK's typed JsonSchema. */
function toJsonSchema(schema: PlainSchema): apigateway.JsonSchema {
  return {
    type: schema.type === undefined ? undefined : schema.type === 'object' ? apigateway.JsonSchemaType.OBJECT : apigateway.JsonSchemaType.STRING,
    required: schema.required ? [...schema.required] : undefined,
    additionalProperties: schema.additionalProperties,
    minLength: schema.minLength,
    maxLength: schema.maxLength,
    enum: schema.enum ? [...schema.enum] : undefined,
    properties: schema.properties && Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => [name, toJsonSchema(property)])),
  };
}
