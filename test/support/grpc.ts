/**
 * A test engine serving gRPC (and REST) behind real access control, with a client holding a valid key.
 */
import * as grpc from '@grpc/grpc-js';
import { generateDevelopmentKey, parseApiKeys } from '../../lambdas/adapters/auth/api-keys';
import type { AccessConfiguration } from '../../lambdas/adapters/auth/config';
import { SettlementClient } from '../../lambdas/adapters/grpc/client';
import type { LocalEngineOptions } from '../../lambdas/local/engine';
import { startTestEngine, type TestEngine } from './engine';

export interface GrpcTestEngine {
  readonly engine: TestEngine;
  readonly client: SettlementClient;
  readonly address: string;
  readonly apiKey: string;
  stop(): Promise<void>;
}

export function testAccess(overrides: Partial<AccessConfiguration> = {}): AccessConfiguration & { apiKey: string } {
  const key = generateDevelopmentKey('integration-tests');
  return {
    apiKey: key.key,
    apiKeys: parseApiKeys(key.hashedConfig),
    rateLimit: { ratePerSecond: 100_000, burst: 100_000 },
    grpcMessageBytesMax: 64 * 1024,
    httpBodyBytesMax: 64 * 1024,
    ...overrides,
  };
}

export async function startGrpcTestEngine(options: LocalEngineOptions = {}): Promise<GrpcTestEngine> {
  const access = options.access ? { ...options.access, apiKey: '' } : testAccess();
  const engine = await startTestEngine({ grpcPort: 0, access, grpcEventStream: { pollIntervalMs: 50 }, ...options });
  const address = `127.0.0.1:${engine.grpcPort}`;
  const client = new SettlementClient({ address, apiKey: access.apiKey });
  return {
    engine,
    client,
    address,
    apiKey: access.apiKey,
    stop: async () => {
      client.close();
      await engine.stop();
    },
  };
}

/** The status a gRPC call failed with, or undefined when it succeeded. */
export async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError | undefined> {
  return promise.then(
    () => undefined,
    (error: grpc.ServiceError) => error,
  );
}

/** A snake_case ExecuteSettlement request between two seeded banks; override any field. */
export function grpcSettlementRequest(settlementId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    settlement_id: settlementId,
    payer_bic: 'DEUTDEFF',
    payee_bic: 'BNPAFRPP',
    amount: '1250.00',
    currency: 'EUR',
    rail: 'RAIL_SEPA',
    kind: 'SETTLEMENT_KIND_DOMESTIC',
    value_date: new Date().toISOString().slice(0, 10),
    reference: 'Invoice 42',
    ...overrides,
  };
}
