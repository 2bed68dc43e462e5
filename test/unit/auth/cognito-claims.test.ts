/**
 * The console's callers on AWS: a request API Gateway's Cognito authorizer admitted reaches the router with the
 * ID token's claims; the user's groups become the principal the one access policy decides on.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { principalOfCognitoClaims } from '../../../lambdas/adapters/auth/cognito-claims';
import { Permission, requirePayer, type Principal } from '../../../lambdas/domain/access';
import { createRouter, type ApiDeps, type Route } from '../../../lambdas/handlers/http';

/** A route that answers with the caller the router resolved, after the payer check settlement submission makes. */
const whoAmI = (method: Route['method'], permission: Permission): Route => ({
  method,
  path: '/api/v1/whoami',
  authenticated: true,
  permission,
  request: method === 'POST' ? { body: z.strictObject({ payerBic: z.string() }) } : {},
  handle: async (request) => {
    if (method === 'POST') requirePayer(request.caller, (request.body as { payerBic: string }).payerBic);
    return { statusCode: 200, body: { caller: request.caller, principal: request.principal } };
  },
});
const route = createRouter([whoAmI('GET', Permission.operationsRead), whoAmI('POST', Permission.settlementSubmit)]);
const deps = {} as ApiDeps;

/** An event as API Gateway hands it over behind a Cognito user pool authorizer (REST API, payload 1.0). */
function cognitoEvent(claims: Record<string, string>, method = 'GET', body?: unknown): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path: '/api/v1/whoami',
    headers: { 'content-type': 'application/json', Authorization: 'eyJ...' },
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    queryStringParameters: null,
    requestContext: { authorizer: { claims: { sub: '7c1e…', token_use: 'id', iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc', ...claims } }, identity: { sourceIp: '203.0.113.9' } },
  } as unknown as APIGatewayProxyEvent;
}

describe('a Cognito-authorized request', () => {
  it('is an operator when the user is in the operator group, named after the user for the audit trail', async () => {
    const response = await route(cognitoEvent({ 'cognito:username': 'alice', 'cognito:groups': 'operator' }), deps);

    expect(response.statusCode).toBe(200);
    expect((response.body as { caller: Principal }).caller).toEqual({ clientName: 'cognito:alice', method: 'cognito', role: 'operator', bics: [] });
    expect((response.body as { principal: string }).principal).toBe('cognito:alice');
  });

  it('is a participant bound to its BIC when the user is in participant-<BIC>, and may submit only as that payer', async () => {
    const claims = { 'cognito:username': 'bob', 'cognito:groups': 'participant-DEUTDEFF' };
    const own = await route(cognitoEvent(claims, 'POST', { payerBic: 'DEUTDEFFXXX' }), deps);
    const other = await route(cognitoEvent(claims, 'POST', { payerBic: 'BNPAFRPP' }), deps);

    expect(own.statusCode).toBe(200);
    expect((own.body as { caller: Principal }).caller).toEqual({ clientName: 'cognito:bob', method: 'cognito', role: 'participant', bics: ['DEUTDEFF'] });
    expect(other).toMatchObject({ statusCode: 403, body: { error: { code: 'ACCESS.FORBIDDEN' } } });
  });

  it('is refused 403 when the role does not grant the route (a participant reading operations data)', async () => {
    const response = await route(cognitoEvent({ 'cognito:username': 'bob', 'cognito:groups': 'participant-DEUTDEFF' }), deps);

    expect(response).toMatchObject({ statusCode: 403, body: { error: { code: 'ACCESS.FORBIDDEN' } } });
  });

  it('is refused 403 when the user is in no role group, or in groups naming two roles', async () => {
    const none = await route(cognitoEvent({ 'cognito:username': 'carol' }), deps);
    const two = await route(cognitoEvent({ 'cognito:username': 'dave', 'cognito:groups': '[operator auditor]' }), deps);

    expect(none).toMatchObject({ statusCode: 403, body: { error: { message: expect.stringMatching(/no role group/) } } });
    expect(two).toMatchObject({ statusCode: 403, body: { error: { message: expect.stringMatching(/more than one role \(auditor, operator\)/) } } });
  });
});

describe('principalOfCognitoClaims', () => {
  it.each([
    ['a single group', 'auditor', { role: 'auditor', bics: [] }],
    ['a comma-separated list', 'participant-DEUTDEFF,participant-COBADEFFXXX', { role: 'participant', bics: ['DEUTDEFF', 'COBADEFF'] }],
    ['a bracketed, space-separated list', '[participant-DEUTDEFF participant-BNPAFRPP]', { role: 'participant', bics: ['DEUTDEFF', 'BNPAFRPP'] }],
  ])('reads cognito:groups given as %s', (_form, groups, expected) => {
    expect(principalOfCognitoClaims({ 'cognito:username': 'erin', 'cognito:groups': groups })).toEqual({ principal: { clientName: 'cognito:erin', method: 'cognito', ...expected } });
  });

  it.each([
    ['an access token', { 'cognito:username': 'frank', 'cognito:groups': 'operator', token_use: 'access' }, /ID token/],
    ['a token without a user', { 'cognito:groups': 'operator' }, /names no user/],
    ['a group that looks like a role but is not one', { 'cognito:username': 'gina', 'cognito:groups': 'service' }, /no role group/],
    ['a participant group without a valid BIC', { 'cognito:username': 'hal', 'cognito:groups': 'participant-deutdeff' }, /no role group/],
  ])('refuses %s', (_case, claims, reason) => {
    expect(principalOfCognitoClaims(claims)).toEqual({ refused: expect.objectContaining({ method: 'cognito' }), reason: expect.stringMatching(reason) });
  });
});
