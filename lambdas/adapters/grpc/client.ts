/**
 * A small typed client of SettlementService over @grpc/grpc-js: used by bin/grpc-client.ts, the benchmark and the
 * tests. Credentials go in metadata (`authorization: Bearer <key>`); TLS when certificate material is given.
 */
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { settlementPackageDefinition, settlementServiceName } from './proto';

export interface SettlementClientOptions {
  /** host:port */
  readonly address: string;
  readonly apiKey?: string;
  /** Mutual TLS: the server's CA, and the client's certificate and key. Plaintext when absent. */
  readonly tls?: { readonly rootCertificate: Buffer; readonly certificateChain?: Buffer; readonly privateKey?: Buffer };
  readonly channelOptions?: grpc.ChannelOptions;
}

export type UnaryMethod = 'ExecuteSettlement' | 'GetSettlementStatus' | 'ReconcileAccounts' | 'GetNostroBalance' | 'GetVostroBalance';

type RawClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export class SettlementClient {
  readonly raw: RawClient;
  readonly #apiKey: string | undefined;

  constructor(options: SettlementClientOptions) {
    const Service = grpc.loadPackageDefinition(settlementPackageDefinition());
    const constructor = settlementServiceName.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], Service) as grpc.ServiceClientConstructor;
    const credentials = options.tls
      ? grpc.credentials.createSsl(options.tls.rootCertificate, options.tls.privateKey ?? null, options.tls.certificateChain ?? null)
      : grpc.credentials.createInsecure();
    this.raw = new constructor(options.address, credentials, options.channelOptions) as unknown as RawClient;
    this.#apiKey = options.apiKey;
  }

  metadata(apiKey = this.#apiKey): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (apiKey !== undefined) metadata.set('authorization', `Bearer ${apiKey}`);
    return metadata;
  }

  /** Calls a unary method; rejects with the ServiceError (code, details, metadata). */
  call<Response = Record<string, unknown>>(method: UnaryMethod, request: Record<string, unknown>, options: { metadata?: grpc.Metadata; deadlineMs?: number } = {}): Promise<Response> {
    const deadline = Date.now() + (options.deadlineMs ?? 30_000);
    return new Promise((resolve, reject) => {
      (this.raw[method] as (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: Response) => void) => void).call(
        this.raw,
        request,
        options.metadata ?? this.metadata(),
        { deadline },
        (error, response) => (error ? reject(error) : resolve(response)),
      );
    });
  }

  /** Opens StreamSettlementEvents; the caller reads 'data' events and cancels when done. */
  streamEvents(request: Record<string, unknown>, metadata: grpc.Metadata = this.metadata()): grpc.ClientReadableStream<Record<string, unknown>> {
    return (this.raw.StreamSettlementEvents as (request: unknown, metadata: grpc.Metadata) => grpc.ClientReadableStream<Record<string, unknown>>).call(this.raw, request, metadata);
  }

  close(): void {
    this.raw.close();
  }
}

/** grpc.health.v1.Health/Check: SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN. No credentials needed. */
export async function checkHealth(address: string, service = '', credentials = grpc.credentials.createInsecure()): Promise<string> {
  const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');
  const client = new HealthClient(address, credentials) as unknown as grpc.Client & { check: (request: unknown, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: { status: string }) => void) => void };
  try {
    return await new Promise((resolve, reject) => client.check({ service }, { deadline: Date.now() + 5_000 }, (error, response) => (error ? reject(error) : resolve(response.status))));
  } finally {
    client.close();
  }
}

/** The services the server lists through reflection (grpc.reflection.v1), as grpcurl's `list` does. */
export async function listServicesByReflection(address: string, credentials = grpc.credentials.createInsecure()): Promise<string[]> {
  const reflectionProto = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
  const definition = protoLoader.loadSync(reflectionProto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const Reflection = grpc.makeGenericClientConstructor(definition['grpc.reflection.v1.ServerReflection'] as grpc.ServiceDefinition, 'ServerReflection');
  const client = new Reflection(address, credentials) as unknown as grpc.Client & { serverReflectionInfo: (options: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, { list_services_response?: { service: { name: string }[] } }> };
  try {
    return await new Promise((resolve, reject) => {
      const call = client.serverReflectionInfo({ deadline: Date.now() + 5_000 });
      call.on('data', (response) => {
        resolve((response.list_services_response?.service ?? []).map((service: { name: string }) => service.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '*' });
    });
  } finally {
    client.close();
  }
}
