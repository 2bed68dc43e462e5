import { Match, type Template } from 'aws-cdk-lib/assertions';
import { rails, requestFields, settlementKinds } from '../../lambdas/domain/settlement';
import { apiRoutes } from '../../lambdas/handlers/routes';
import { bodyModels, restRoutesOf, routeKey, routesNotOnApiGateway, type ApiFunctionRole } from '../../infra/api-routes';
import { defaultConfig } from '../../infra/config';
import { adminApiFunction, apiFunction, healthFunction, type FunctionSpec } from '../../infra/function-catalogue';

const restRoutes = restRoutesOf(apiRoutes);
const functionOfRole: Readonly<Record<ApiFunctionRole, FunctionSpec>> = { api: apiFunction, admin: adminApiFunction, health: healthFunction };
import { logicalIdOf, onlyResource, removeAssembly, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

describe('REST API', () => {
  let synthesized: SynthesizedEngine;
  let template: Template;
  let restApiId: string;
  /** Full path (`/api/v1/settlements/{id}`) → logical id of its AWS::ApiGateway::Resource. */
  let resourceIdsByPath: Map<string, string>;

  beforeAll(() => {
    synthesized = synthesizeEngine();
    template = synthesized.engine;
    [restApiId] = onlyResource(template, 'AWS::ApiGateway::RestApi');
    resourceIdsByPath = apiResourcePaths(template);
  });
  afterAll(() => removeAssembly(synthesized));

  const methodOf = (method: string, path: string) => ({
    HttpMethod: method,
    ResourceId: path === '/' ? { 'Fn::GetAtt': [restApiId, 'RootResourceId'] } : { Ref: resourceIdsByPath.get(path) },
    RestApiId: { Ref: restApiId },
  });

  it('is a regional REST API', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  describe.each(restRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))('%s', (_name, route) => {
    it(route.authorization === 'IAM' ? 'requires IAM (SigV4) authorization' : 'is open (liveness probe)', () => {
      expect(resourceIdsByPath.get(route.path)).toBeDefined();
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        ...methodOf(route.method, route.path),
        AuthorizationType: route.authorization === 'IAM' ? 'AWS_IAM' : 'NONE',
      });
    });

    it(`proxies to the ${functionOfRole[route.function].id}`, () => {
      const apiFunctionId = logicalIdOf(synthesized.stacks.engine.functions[functionOfRole[route.function].id]!.function);
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        ...methodOf(route.method, route.path),
        Integration: {
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
          Uri: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [apiFunctionId, 'Arn'] }])] },
        },
      });
    });

    it(route.bodyModel ? `validates the body against the ${route.bodyModel} model` : 'has no body model', () => {
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        ...methodOf(route.method, route.path),
        RequestValidatorId: route.bodyModel ? { Ref: Match.stringLikeRegexp('RequestValidator') } : Match.absent(),
        RequestModels: route.bodyModel ? { 'application/json': { Ref: Match.stringLikeRegexp(route.bodyModel === 'settlementRequest' ? 'SettlementRequestModel' : 'JsonObjectModel') } } : Match.absent(),
      });
    });
  });

  it('deploys exactly the route table of the API handler, /metrics aside, with IAM wherever the handler authenticates', () => {
    const expected = apiRoutes
      .filter((route) => !routesNotOnApiGateway.includes(routeKey(route)))
      .map((route) => `${routeKey(route)} ${route.authenticated ? 'IAM' : 'NONE'}`)
      .sort();
    expect(restRoutes.map((route) => `${routeKey(route)} ${route.authorization}`).sort()).toEqual(expected);
  });

  it('checks bodies only on routes the handler has', () => {
    const handlerRoutes = new Set(apiRoutes.map(routeKey));
    for (const key of Object.keys(bodyModels)) expect(handlerRoutes).toContain(key);
  });

  it('exposes the routes of the design card', () => {
    const shape = (key: string) => key.replace(/\{[^}]+\}/g, '{}');
    const deployed = new Set(restRoutes.map((route) => shape(routeKey(route))));
    const designCard = [
      'GET /health',
      'GET /api/v1/accounts/nostro',
      'GET /api/v1/accounts/vostro',
      'POST /api/v1/settlements',
      'GET /api/v1/settlements/{}',
      'GET /api/v1/settlements/parked',
      'POST /api/v1/settlements/{}/requeue',
      'POST /api/v1/settlements/{}/abandon',
      'POST /api/v1/accounts',
      'POST /api/v1/accounts/{}/fund-in',
      'POST /api/v1/accounts/{}/fund-out',
      'GET /api/v1/windows/{}',
      'GET /api/v1/banks',
      'POST /api/v1/reconciliations',
      'GET /api/v1/reconciliations/{}',
    ];
    for (const route of designCard) expect(deployed).toContain(route);
  });

  it('declares no method beyond the routes (no ANY, no OPTIONS, no {proxy+}), and /metrics is not one of them', () => {
    template.resourceCountIs('AWS::ApiGateway::Method', restRoutes.length);
    expect([...resourceIdsByPath.keys()].some((path) => path.includes('proxy+') || path === '/metrics')).toBe(false);
  });

  it('leaves only GET /health without authorization', () => {
    const open = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { AuthorizationType: 'NONE' } }));
    expect(open).toHaveLength(1);
    expect(open[0]!.Properties.HttpMethod).toBe('GET');
    expect(open[0]!.Properties.ResourceId).toEqual({ Ref: resourceIdsByPath.get('/health') });
  });

  it('checks bodies and parameters with one request validator', () => {
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
  });

  it('requires every settlement request field and no other, with money as a string', () => {
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      Name: 'SettlementRequest',
      ContentType: 'application/json',
      Schema: Match.objectLike({
        type: 'object',
        required: [...requestFields],
        additionalProperties: false,
        properties: Match.objectLike({
          amount: Match.objectLike({ type: 'string' }),
          rail: Match.objectLike({ enum: [...rails] }),
          kind: Match.objectLike({ enum: [...settlementKinds] }),
        }),
      }),
    });
  });

  it('answers a refused body in the handler\'s error shape', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"error":\\{"code":"VALIDATION.INVALID_FIELD"') },
    });
  });

  it('throttles the stage, logs access as JSON to its log group, logs errors only, and traces with X-Ray', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: defaultConfig.api.stageName,
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId"') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: defaultConfig.api.throttlingRateLimit,
          ThrottlingBurstLimit: defaultConfig.api.throttlingBurstLimit,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
        }),
      ]),
    });
    const [, stage] = onlyResource(template, 'AWS::ApiGateway::Stage');
    const accessLogs = logicalIdOf(synthesized.stacks.engine.node.findChild('Rest').node.findChild('AccessLogs'));
    expect(JSON.stringify((stage.Properties.AccessLogSetting as { DestinationArn: unknown }).DestinationArn)).toContain(accessLogs);
  });

  it('lets API Gateway invoke each API function through one API-scoped permission', () => {
    for (const spec of Object.values(functionOfRole)) {
      const functionId = logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function);
      const permissions = template.findResources('AWS::Lambda::Permission', {
        Properties: { FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] }, Principal: 'apigateway.amazonaws.com' },
      });
      expect(Object.keys(permissions)).toHaveLength(1);
    }
  });

  describe('routing by grant set', () => {
    const functionOf = (key: string) => restRoutes.find((route) => routeKey(route) === key)?.function;

    it('sends the health routes to the small health function, the deep check behind IAM', () => {
      expect(functionOf('GET /health')).toBe('health');
      expect(functionOf('GET /health/deep')).toBe('health');
      expect(restRoutes.find((route) => routeKey(route) === 'GET /health/deep')?.authorization).toBe('IAM');
    });

    it('sends submission and every read to the API function, and nothing that writes balances', () => {
      expect(functionOf('POST /api/v1/settlements')).toBe('api');
      for (const route of restRoutes.filter((candidate) => candidate.function === 'api')) {
        expect(route.method === 'GET' || routeKey(route) === 'POST /api/v1/settlements').toBe(true);
      }
    });

    it('sends the routes that move money or change reference data to the admin function', () => {
      for (const key of ['POST /api/v1/accounts', 'POST /api/v1/accounts/{accountId}/fund-in', 'POST /api/v1/accounts/{accountId}/fund-out', 'POST /api/v1/settlements/{settlementId}/abandon', 'PUT /api/v1/windows/{currency}']) {
        expect(functionOf(key)).toBe('admin');
      }
    });
  });

  it('gives the health routes a throttle of their own, apart from the stage throttle submission uses', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith(
        ['/~1health', '/~1health~1deep'].map((resourcePath) =>
          Match.objectLike({
            HttpMethod: 'GET',
            ResourcePath: resourcePath,
            ThrottlingRateLimit: defaultConfig.api.healthThrottlingRateLimit,
            ThrottlingBurstLimit: defaultConfig.api.healthThrottlingBurstLimit,
          }),
        ),
      ),
    });
    expect(defaultConfig.api.healthThrottlingRateLimit).toBeLessThan(defaultConfig.api.throttlingRateLimit);
  });
});

/** Rebuilds each resource's full path from PathPart and ParentId. */
function apiResourcePaths(template: Template): Map<string, string> {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (logicalId: string): string => {
    const { PathPart, ParentId } = resources[logicalId]!.Properties as { PathPart: string; ParentId: { Ref?: string } };
    const parent = ParentId.Ref === undefined ? '' : pathOf(ParentId.Ref);
    return `${parent}/${PathPart}`;
  };
  return new Map(Object.keys(resources).map((logicalId) => [pathOf(logicalId), logicalId]));
}
