/**
 * Roles and scopes over REST and gRPC against the running engine: participants act only for their banks, auditors
 * change nothing (every mutating route and RPC tried, from the route table and the service definition, so that a
 * new route cannot escape), refusals are 403 / PERMISSION_DENIED with ACCESS.FORBIDDEN, audited, and write nothing.
 */
import * as grpc from '@grpc/grpc-js';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { SettlementClient } from '../../../lambdas/adapters/grpc/client';
import { settlementPackageDefinition, settlementServiceName } from '../../../lambdas/adapters/grpc/proto';
import { rpcPermissions, type RpcName } from '../../../lambdas/adapters/grpc/server';
import { mutatingPermissions, Permission } from '../../../lambdas/domain/access';
import { apiRoutes } from '../../../lambdas/handlers/routes';
import { http, newSettlementId, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { failure, grpcSettlementRequest } from '../../support/grpc';
import { roleAccess, type CallerName } from '../../support/access';

const access = roleAccess();
let engine: TestEngine;
const clients = new Map<CallerName, SettlementClient>();
const client = (caller: CallerName) => {
  if (!clients.has(caller)) clients.set(caller, new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey: access.keys[caller] }));
  return clients.get(caller)!;
};

beforeAll(async () => {
  engine = await startTestEngine({ access, grpcPort: 0, grpcEventStream: { pollIntervalMs: 50 } });
});

afterAll(async () => {
  for (const each of clients.values()) each.close();
  await engine?.stop();
});

/** Every item of every table, hashed, except the ACCESS audit stream (refusals are recorded). */
async function tablesDigest(): Promise<string> {
  const hash = createHash('sha256');
  for (const table of Object.values(engine.tables).sort()) {
    const items: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await engine.documentClient.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const item of page.Items ?? []) {
        if (item.entityType === 'ACCESS' || item.pk === 'AUDITCHAIN#ACCESS') continue;
        items.push(JSON.stringify(item, Object.keys(item).sort()));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    hash.update(`${table}\n${items.sort().join('\n')}\n`);
  }
  return hash.digest('hex');
}

async function accessRefusals(actor: string): Promise<Array<Record<string, any>>> {
  const listing = await http(engine, 'GET', `/api/v1/audit?entityType=ACCESS&actor=${actor}&limit=200`, undefined, access.headers('auditor'));
  expect(listing.status).toBe(200);
  return listing.json.items;
}

describe('a participant', () => {
  it('gets 403 ACCESS.FORBIDDEN settling as another bank, and nothing is written but the audit of the refusal', async () => {
    const before = await tablesDigest();
    const request = settlementRequest({ payerBic: 'BNPAFRPP', payeeBic: 'DEUTDEFF' });
    const response = await http(engine, 'POST', '/api/v1/settlements', request, access.headers('participantDeut'));
    expect(response.status).toBe(403);
    expect(response.json.error.code).toBe('ACCESS.FORBIDDEN');
    expect(await engine.deps.settlements.get(String(request.settlementId))).toBeUndefined();
    expect(await tablesDigest()).toBe(before);
    const refusals = await accessRefusals('participantDeut');
    expect(refusals.some((entry) => entry.action === 'ACCESS.FORBIDDEN' && entry.after.call === 'POST /api/v1/settlements')).toBe(true);
  });

  it('gets PERMISSION_DENIED over gRPC settling as another bank, and nothing is written', async () => {
    const settlementId = newSettlementId('grpc-deny');
    const error = await failure(client('participantDeut').call('ExecuteSettlement', { ...grpcSettlementRequest(settlementId), payer_bic: 'BNPAFRPP', payee_bic: 'DEUTDEFF' }));
    expect(error!.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error!.metadata.get('error-code')).toEqual(['ACCESS.FORBIDDEN']);
    expect(await engine.deps.settlements.get(settlementId)).toBeUndefined();
  });

  it('settles as its own payer, is recorded as the submitter, and reads only what it is party to', async () => {
    const request = settlementRequest();
    const submitted = await http(engine, 'POST', '/api/v1/settlements', request, access.headers('participantDeut'));
    expect(submitted.status).toBe(202);
    const view = await settled(engine, String(request.settlementId));
    expect(view.submittedBy).toBe('participantDeut');
    const history = await engine.deps.settlements.history(String(request.settlementId));
    expect(history!.events.every((event) => event.submittedBy === 'participantDeut')).toBe(true);

    expect((await http(engine, 'GET', `/api/v1/settlements/${request.settlementId}`, undefined, access.headers('participantDeut'))).status).toBe(200);
    const stranger = await http(engine, 'GET', `/api/v1/settlements/${request.settlementId}`, undefined, access.headers('participantIng'));
    expect(stranger.status).toBe(403);
    const strangerGrpc = await failure(client('participantIng').call('GetSettlementStatus', { settlement_id: request.settlementId }));
    expect(strangerGrpc!.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('lists only its own accounts and cannot read another bank’s balance', async () => {
    const own = await http(engine, 'GET', '/api/v1/accounts/vostro', undefined, access.headers('participantDeut'));
    expect(own.status).toBe(200);
    expect(own.json.items.length).toBeGreaterThan(0);
    expect(own.json.items.every((account: { bic: string }) => account.bic === 'DEUTDEFF')).toBe(true);
    expect((await http(engine, 'GET', '/api/v1/accounts/vostro?bank=BNPAFRPP', undefined, access.headers('participantDeut'))).status).toBe(403);
    expect((await http(engine, 'GET', '/api/v1/accounts/VOSTRO%23BNPAFRPP%23EUR', undefined, access.headers('participantDeut'))).status).toBe(403);
    const balance = await failure(client('participantDeut').call('GetVostroBalance', { bic: 'BNPAFRPP', currency: 'EUR' }));
    expect(balance!.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(await client('participantDeut').call('GetVostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' })).toHaveProperty('account');
  });

  it('cannot reach any administration route', async () => {
    for (const path of ['/api/v1/banks', '/api/v1/settlements/parked', '/api/v1/audit', '/api/v1/proposals']) {
      expect((await http(engine, 'GET', path, undefined, access.headers('participantDeut'))).status).toBe(403);
    }
  });
});

describe('the route table and the service definition', () => {
  it('declares a mutating permission on every route that is not a GET', () => {
    for (const route of apiRoutes) {
      if (route.method !== 'GET') expect([route.method, route.path, mutatingPermissions.includes(route.permission)]).toEqual([route.method, route.path, true]);
    }
  });

  it('declares a permission for every RPC of SettlementService', () => {
    const service = settlementPackageDefinition()[settlementServiceName] as Record<string, unknown>;
    expect(Object.keys(service).sort()).toEqual(Object.keys(rpcPermissions).sort());
  });
});

describe('an auditor', () => {
  const mutatingRoutes = apiRoutes.filter((route) => route.authenticated && mutatingPermissions.includes(route.permission));

  it('is refused on every mutating route with 403, and nothing is written', async () => {
    expect(mutatingRoutes.length).toBeGreaterThan(15);
    const before = await tablesDigest();
    for (const route of mutatingRoutes) {
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'accountId' ? encodeURIComponent('VOSTRO#DEUTDEFF#EUR') : name === 'currency' ? 'EUR' : name === 'bic' ? 'DEUTDEFF' : `x-${name}`));
      const body = route.method === 'DELETE' ? undefined : { amount: '1.00', movementId: 'auditor-try', status: 'FROZEN', reason: 'try', settlementId: newSettlementId() };
      const response = await http(engine, route.method, path, body, access.headers('auditor'));
      expect([route.method, route.path, response.status, response.json?.error?.code]).toEqual([route.method, route.path, 403, 'ACCESS.FORBIDDEN']);
    }
    expect(await tablesDigest()).toBe(before);
    expect((await accessRefusals('auditor')).length).toBeGreaterThanOrEqual(mutatingRoutes.length);
  });

  it('is refused on every mutating RPC with PERMISSION_DENIED, and reads everything', async () => {
    const mutatingRpcs = (Object.entries(rpcPermissions) as [RpcName, Permission][]).filter(([, permission]) => mutatingPermissions.includes(permission));
    expect(mutatingRpcs.map(([name]) => name).sort()).toEqual(['ExecuteSettlement', 'ReconcileAccounts']);
    const before = await tablesDigest();
    for (const [name] of mutatingRpcs) {
      const request = name === 'ExecuteSettlement' ? grpcSettlementRequest(newSettlementId('auditor')) : { bic: 'DEUTDEFF', currency: 'EUR' };
      const error = await failure(client('auditor').call(name as never, request));
      expect([name, error!.code]).toEqual([name, grpc.status.PERMISSION_DENIED]);
    }
    expect(await tablesDigest()).toBe(before);
    expect(await client('auditor').call('GetNostroBalance', { bic: 'BNPAFRPP', currency: 'EUR' })).toHaveProperty('account');
    for (const path of ['/api/v1/banks', '/api/v1/accounts/vostro', '/api/v1/settlements/parked', '/api/v1/audit', '/api/v1/proposals', '/api/v1/windows']) {
      expect([path, (await http(engine, 'GET', path, undefined, access.headers('auditor'))).status]).toEqual([path, 200]);
    }
  });
});
