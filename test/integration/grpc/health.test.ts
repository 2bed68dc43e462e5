/**
 * The gRPC health service follows the database: this engine owns its DynamoDB Local, and the test stops it.
 */
import { checkHealth } from '../../../lambdas/adapters/grpc/client';
import { http } from '../../support/engine';
import { startGrpcTestEngine, type GrpcTestEngine } from '../../support/grpc';

let running: GrpcTestEngine;

beforeAll(async () => {
  // No shared endpoint: the engine starts a DynamoDB Local of its own.
  running = await startGrpcTestEngine({ dynamoEndpoint: undefined, seed: false });
});

afterAll(async () => {
  await running?.stop();
});

async function eventually(probe: () => Promise<string>, expected: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (last !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = await probe();
  }
  return last;
}

describe('gRPC health', () => {
  it('is SERVING while the database answers and flips to NOT_SERVING when it goes away', async () => {
    expect((await http(running.engine, 'GET', '/health/deep', undefined, { 'x-api-key': running.apiKey })).status).toBe(200);
    expect(await checkHealth(running.address)).toBe('SERVING');
    expect(await checkHealth(running.address, 'deltran.settlement.v1.SettlementService')).toBe('SERVING');
    expect(running.engine.dynamo).toBeDefined();

    await running.engine.dynamo!.stop();

    expect(await eventually(() => checkHealth(running.address), 'NOT_SERVING')).toBe('NOT_SERVING');
    expect(await checkHealth(running.address, 'deltran.settlement.v1.SettlementService')).toBe('NOT_SERVING');
    // Anonymous liveness never touches the database; the authenticated deep check does.
    expect((await http(running.engine, 'GET', '/health')).status).toBe(200);
    expect((await http(running.engine, 'GET', '/health/deep')).status).toBe(401);
    expect((await http(running.engine, 'GET', '/health/deep', undefined, { 'x-api-key': running.apiKey })).status).toBe(503);
  });
});
