/**
 * The gRPC shim: SettlementService over @grpc/grpc-js, plus the standard health service and server reflection.
 * On AWS it runs as a Fargate task behind a Network Load Balancer; locally the engine runs it in-process.
 *
 * Every SettlementService call is admitted (credentials, then the client's rate) before its request is even
 * looked at, so an unauthenticated call writes nothing. Handlers translate the message, call one use case and
 * map the result; errors.ts maps failures to status codes.
 */
import { once } from 'node:events';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import * as protoLoader from '@grpc/proto-loader';
import { ValidationError } from '../../domain/errors';
import { positiveInteger, type Environment } from '../../config';
import { ForbiddenError, Permission, actsFor, authorize, requireParty, requirePayer, type Principal } from '../../domain/access';
import { parseBic } from '../../domain/bic';
import { parseCurrency } from '../../domain/money';
import { isTerminal, parseSettlementId } from '../../domain/settlement';
import type { AccountView, SettlementView } from '../../usecases/views';
import { AccessControl, type CallerCredentials } from '../auth/access-control';
import type { AccessConfiguration } from '../auth/config';
import { CatchUpBusyError, SubscriberTooSlowError, type SettlementEventSource } from '../events/shared-reader';
import type { SettlementEvent } from '../../ports/stores';
import { consoleErrorLogger, GrpcStatusError, toServiceError, type ErrorLogger } from './errors';
import { defaultEventStreamOptions, parseStreamRequest, type EventStreamOptions } from './event-stream';
import {
  EnumPrefix,
  isoToTimestamp,
  parseWaitForTerminalMs,
  toAccountBalanceMessage,
  toProtoEnum,
  toReconcileRequest,
  toReconcileResponse,
  toSettlementMessage,
  toSubmitRequest,
} from './mapping';
import {
  protoLoaderOptions,
  settlementPackageDefinition,
  settlementServiceName,
  type AccountBalanceRequestMessage,
  type ExecuteSettlementRequestMessage,
  type GetSettlementStatusRequestMessage,
  type ReconcileAccountsRequestMessage,
  type SettlementEventMessage,
  type StreamSettlementEventsRequestMessage,
} from './proto';

/** The use cases the gRPC server calls (implemented by the core; a plain object of functions). */
export interface SettlementApiDeps {
  /** Validates (ValidationError naming the camelCase field) and submits; idempotent on settlementId. */
  submitSettlement(request: unknown, submittedBy?: string): Promise<{ created: boolean; settlement: SettlementView }>;
  /** Throws SettlementNotFoundError. */
  getSettlement(settlementId: string): Promise<SettlementView>;
  /** Resolves at a terminal status, or at the deadline with the current view. */
  waitForSettlement(settlementId: string, timeoutMs: number): Promise<SettlementView>;
  /** Throws AccountNotFoundError. */
  getAccount(accountType: 'NOSTRO' | 'VOSTRO', bic: string, currency: string): Promise<AccountView>;
  /** True when the store answers. Polled by the health service. */
  checkDatabase(): Promise<boolean>;
  /** Absent until the reconciliation engine lands: ReconcileAccounts then answers UNIMPLEMENTED. */
  reconcileAccounts?(request: unknown): Promise<unknown>;
  /**
   * Where StreamSettlementEvents reads: the process's one reader of the settlements table's change stream
   * (adapters/events/shared-reader.ts). Absent: the RPC answers UNIMPLEMENTED.
   */
  events?: SettlementEventSource;
  /** Records a refused call (PERMISSION_DENIED) in the audit trail. */
  auditRefusal?(error: ForbiddenError, call: string): Promise<void>;
}

/** What each RPC does, for the access policy (domain/access.ts); the REST routes declare the same. */
export const rpcPermissions = {
  ExecuteSettlement: Permission.settlementSubmit,
  GetSettlementStatus: Permission.settlementRead,
  ReconcileAccounts: Permission.operationsWrite,
  StreamSettlementEvents: Permission.settlementRead,
  GetNostroBalance: Permission.accountRead,
  GetVostroBalance: Permission.accountRead,
} as const satisfies Record<string, Permission>;
export type RpcName = keyof typeof rpcPermissions;

export interface GrpcServerOptions {
  readonly deps: SettlementApiDeps;
  readonly access: AccessConfiguration;
  /** Shared with the HTTP API so that a client's rate is one budget across both; built from `access` if absent. */
  readonly accessControl?: AccessControl;
  /** How often the health service probes the database. Default 2000 ms. */
  readonly healthProbeIntervalMs?: number;
  /** A probe that has not answered after this long counts as failed. Default 1000 ms. */
  readonly healthProbeTimeoutMs?: number;
  readonly eventStream?: Partial<EventStreamOptions>;
  /** Concurrent StreamSettlementEvents calls served at most; more get RESOURCE_EXHAUSTED. Default 256 (GRPC_STREAMS_MAX). */
  readonly activeStreamsMax?: number;
  /** Of those, one client (API key or certificate) holds at most this many. Default 16 (GRPC_STREAMS_PER_CLIENT_MAX). */
  readonly activeStreamsPerClientMax?: number;
  readonly logger?: ErrorLogger;
}

export interface StartGrpcServerOptions extends GrpcServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 0.0.0.0 (the Fargate task is reached through its ENI); the local engine binds 127.0.0.1. */
  readonly host?: string;
}

export interface RunningGrpcServer {
  readonly port: number;
  /** Drains in-flight calls for up to graceMs (default 5000), then cancels what remains. */
  stop(graceMs?: number): Promise<void>;
}

export const healthServiceNames = ['', settlementServiceName] as const;
const shuttingDownMessage = 'the server is shutting down; reconnect with your last cursor';
/** Margin kept before a call's deadline when waiting for a terminal status, to answer in time. */
const deadlineMarginMs = 50;

export class SettlementGrpcServer {
  readonly server: grpc.Server;
  readonly health = new HealthImplementation(Object.fromEntries(healthServiceNames.map((name) => [name, 'NOT_SERVING' as ServingStatus])));
  readonly #deps: SettlementApiDeps;
  readonly #accessControl: AccessControl;
  readonly #streamOptions: EventStreamOptions;
  readonly #logger: ErrorLogger;
  readonly #activeStreamsMax: number;
  readonly #activeStreams = new Set<AbortController>();
  readonly #activeStreamsPerClientMax: number;
  readonly #activeStreamsByClient = new Map<string, number>();
  readonly #shutdown = new AbortController();
  readonly #probeIntervalMs: number;
  readonly #probeTimeoutMs: number;
  #probeTimer: NodeJS.Timeout | undefined;
  #probeInFlight: Promise<void> | undefined;
  #servingStatus: ServingStatus = 'NOT_SERVING';

  constructor(private readonly options: GrpcServerOptions) {
    this.#deps = options.deps;
    this.#accessControl = options.accessControl ?? new AccessControl({ apiKeys: options.access.apiKeys, rateLimit: options.access.rateLimit });
    this.#streamOptions = { ...defaultEventStreamOptions, ...options.eventStream };
    this.#logger = options.logger ?? consoleErrorLogger;
    this.#activeStreamsMax = options.activeStreamsMax ?? defaultStreamLimits.activeStreamsMax;
    this.#activeStreamsPerClientMax = options.activeStreamsPerClientMax ?? defaultStreamLimits.activeStreamsPerClientMax;
    this.#probeIntervalMs = options.healthProbeIntervalMs ?? 2_000;
    this.#probeTimeoutMs = options.healthProbeTimeoutMs ?? 1_000;
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.access.grpcMessageBytesMax,
      'grpc.max_concurrent_streams': 1_000,
      // Reclaim connections of vanished clients; streams stay open through the HTTP/2 pings.
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
    });
    const definition = settlementPackageDefinition();
    const service = tolerantDeserializers(definition[settlementServiceName] as grpc.ServiceDefinition);
    this.server.addService(service, {
      ExecuteSettlement: this.#unary('ExecuteSettlement', (request: ExecuteSettlementRequestMessage, call, caller) => this.#executeSettlement(request, call, caller)),
      GetSettlementStatus: this.#unary('GetSettlementStatus', async (request: GetSettlementStatusRequestMessage, _call, caller) => {
        const settlement = await this.#deps.getSettlement(parseSettlementId(request.settlement_id));
        requireParty(caller, Permission.settlementRead, [settlement.payerBic, settlement.payeeBic]);
        return { settlement: toSettlementMessage(settlement) };
      }),
      ReconcileAccounts: this.#unary('ReconcileAccounts', (request: ReconcileAccountsRequestMessage) => this.#reconcileAccounts(request)),
      StreamSettlementEvents: (call: grpc.ServerWritableStream<StreamSettlementEventsRequestMessage, SettlementEventMessage>) => void this.#streamSettlementEvents(call),
      GetNostroBalance: this.#unary('GetNostroBalance', (request: AccountBalanceRequestMessage, _call, caller) => this.#accountBalance('NOSTRO', request, caller)),
      GetVostroBalance: this.#unary('GetVostroBalance', (request: AccountBalanceRequestMessage, _call, caller) => this.#accountBalance('VOSTRO', request, caller)),
    });
    this.health.addToServer(this.server);
    // Reflection describes our service and the health service, so grpcurl-style tools can call both.
    const healthDefinition = protoLoader.loadSync(healthProtoPath, protoLoaderOptions);
    new ReflectionService({ ...definition, ...healthDefinition }).addToServer(this.server);
  }

  /** Binds, probes the database once, starts the periodic probe. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const credentials = serverCredentials(this.options.access);
    const boundPort = await new Promise<number>((resolve, reject) => this.server.bindAsync(`${host}:${port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
    await this.probeDatabase();
    this.#probeTimer = setInterval(() => void this.probeDatabase(), this.#probeIntervalMs);
    this.#probeTimer.unref();
    return boundPort;
  }

  /**
   * Health is polled rather than probed per health call: a burst of health checks then costs no database
   * reads, and Watch subscribers get pushed a change within one interval. A probe never overlaps another.
   */
  probeDatabase(): Promise<void> {
    this.#probeInFlight ??= (async () => {
      let healthy = false;
      try {
        healthy = await withTimeout(this.#deps.checkDatabase(), this.#probeTimeoutMs);
      } catch {
        healthy = false;
      }
      if (!this.#shutdown.signal.aborted) this.#setServingStatus(healthy ? 'SERVING' : 'NOT_SERVING');
    })().finally(() => {
      this.#probeInFlight = undefined;
    });
    return this.#probeInFlight;
  }

  get servingStatus(): ServingStatus {
    return this.#servingStatus;
  }

  /**
   * Graceful shutdown: reports NOT_SERVING (so load balancers stop sending), ends event streams with
   * UNAVAILABLE (clients resume elsewhere from their cursor), cuts waits short (they answer with the current
   * state), lets in-flight unary calls finish, and after graceMs cancels whatever is still running.
   */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.#probeTimer !== undefined) clearInterval(this.#probeTimer);
    this.#setServingStatus('NOT_SERVING');
    this.#shutdown.abort();
    for (const stream of this.#activeStreams) stream.abort();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  #setServingStatus(servingStatus: ServingStatus): void {
    if (servingStatus === this.#servingStatus) return;
    this.#servingStatus = servingStatus;
    for (const name of healthServiceNames) this.health.setStatus(name, servingStatus);
  }

  /** Credentials, then rate, then the RPC's permission, then the request itself: a message that could not be decoded is refused here. */
  #admit(method: RpcName, call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): Principal {
    const caller = this.#accessControl.admit(grpcCredentials(call));
    authorize(caller, rpcPermissions[method]);
    if (isUndecodable(call.request)) throw new ValidationError('request', `is not a valid protobuf message of this method (${call.request.reason})`);
    return caller;
  }

  /** A refused call is audited (best effort: the caller gets PERMISSION_DENIED either way). */
  async #refused(error: unknown, method: RpcName): Promise<void> {
    if (error instanceof ForbiddenError) await this.#deps.auditRefusal?.(error, `gRPC ${method}`);
  }

  #unary<Request, Response>(method: RpcName, handle: (request: Request, call: grpc.ServerUnaryCall<Request, Response>, caller: Principal) => Promise<Response>): grpc.handleUnaryCall<Request, Response> {
    return (call, callback) => {
      (async () => {
        const caller = this.#admit(method, call);
        return handle(call.request, call, caller);
      })().then(
        (response) => callback(null, response),
        async (error: unknown) => {
          await this.#refused(error, method);
          callback(toServiceError(error, { method, logger: this.#logger }));
        },
      );
    };
  }

  async #executeSettlement(request: ExecuteSettlementRequestMessage, call: grpc.ServerUnaryCall<unknown, unknown>, caller: Principal) {
    const waitMs = parseWaitForTerminalMs(request.wait_for_terminal_ms);
    // A participant settles only as its own payer: checked before anything is written.
    requirePayer(caller, request.payer_bic);
    const { created, settlement } = await this.#deps.submitSettlement(toSubmitRequest(request), caller.clientName);
    let view = settlement;
    const budgetMs = Math.min(waitMs, remainingMs(call.getDeadline()) - deadlineMarginMs);
    if (budgetMs > 0 && !isTerminal(view.status) && !this.#shutdown.signal.aborted) {
      // A shutdown cuts the wait short: the call answers with the current state rather than holding the drain.
      const waitEnded = new AbortController();
      const shutdown = once(this.#shutdown.signal, 'abort', { signal: waitEnded.signal }).then(
        () => undefined,
        () => undefined,
      );
      try {
        view = (await Promise.race([this.#deps.waitForSettlement(view.settlementId, budgetMs), shutdown])) ?? (await this.#deps.getSettlement(view.settlementId));
      } finally {
        waitEnded.abort();
      }
    }
    return { created, settlement: toSettlementMessage(view) };
  }

  async #reconcileAccounts(request: ReconcileAccountsRequestMessage) {
    if (this.#deps.reconcileAccounts === undefined) {
      throw unimplemented('ReconcileAccounts is not available yet: this build does not include the reconciliation engine');
    }
    if (request.bic !== '') parseBic(request.bic, 'bic');
    if (request.currency !== '') parseCurrency(request.currency, 'currency');
    return toReconcileResponse(await this.#deps.reconcileAccounts(toReconcileRequest(request)));
  }

  async #accountBalance(accountType: 'NOSTRO' | 'VOSTRO', request: AccountBalanceRequestMessage, caller: Principal) {
    const bic = parseBic(request.bic, 'bic');
    requireParty(caller, Permission.accountRead, [bic]);
    const currency = parseCurrency(request.currency, 'currency');
    return { account: toAccountBalanceMessage(await this.#deps.getAccount(accountType, bic, currency)) };
  }

  async #streamSettlementEvents(call: grpc.ServerWritableStream<StreamSettlementEventsRequestMessage, SettlementEventMessage>): Promise<void> {
    const stream = new AbortController();
    const end = () => stream.abort();
    call.on('cancelled', end);
    call.on('close', end);
    let clientName = '';
    let counted = false;
    try {
      const caller = this.#admit('StreamSettlementEvents', call);
      clientName = caller.clientName;
      const events = this.#deps.events;
      if (events === undefined) throw unimplemented('StreamSettlementEvents has no event source in this deployment');
      const request = parseStreamRequest(call.request, this.#streamOptions);
      if (this.#activeStreams.size >= this.#activeStreamsMax) {
        throw new GrpcStatusError(grpc.status.RESOURCE_EXHAUSTED, `at most ${this.#activeStreamsMax} event streams at once; retry later`, streamRetryAfterMs);
      }
      const held = this.#activeStreamsByClient.get(clientName) ?? 0;
      if (held >= this.#activeStreamsPerClientMax) {
        throw new GrpcStatusError(grpc.status.RESOURCE_EXHAUSTED, `at most ${this.#activeStreamsPerClientMax} event streams per client at once; close one or retry later`, streamRetryAfterMs);
      }
      if (this.#shutdown.signal.aborted) throw new GrpcStatusError(grpc.status.UNAVAILABLE, shuttingDownMessage, streamRetryAfterMs);
      this.#activeStreams.add(stream);
      this.#activeStreamsByClient.set(clientName, held + 1);
      counted = true;
      for await (const delivered of events.events(request, stream.signal)) {
        // A participant sees only the events of settlements it is party to.
        if (!actsFor(caller, delivered.event.payerBic) && !actsFor(caller, delivered.event.payeeBic)) continue;
        if (!call.write(toEventMessage(delivered.event, delivered.cursor))) await drained(call, stream.signal);
        if (stream.signal.aborted) break;
      }
      if (this.#shutdown.signal.aborted && !call.cancelled) {
        call.emit('error', { code: grpc.status.UNAVAILABLE, details: shuttingDownMessage });
      }
    } catch (caught) {
      // The shared reader ended this stream (too slow, or too many starting far back): the client resumes from its cursor.
      const error = caught instanceof SubscriberTooSlowError || caught instanceof CatchUpBusyError ? new GrpcStatusError(grpc.status.RESOURCE_EXHAUSTED, `${caught.code}: ${caught.message}`, caught.retryAfterMs) : caught;
      await this.#refused(error, 'StreamSettlementEvents');
      if (!call.cancelled) call.emit('error', toServiceError(error, { method: 'StreamSettlementEvents', logger: this.#logger }));
    } finally {
      this.#activeStreams.delete(stream);
      if (counted) {
        const remaining = (this.#activeStreamsByClient.get(clientName) ?? 1) - 1;
        if (remaining <= 0) this.#activeStreamsByClient.delete(clientName);
        else this.#activeStreamsByClient.set(clientName, remaining);
      }
      stream.abort();
    }
  }
}

/** Creates the server with every service registered, not yet listening. */
export function createGrpcServer(options: GrpcServerOptions): SettlementGrpcServer {
  return new SettlementGrpcServer(options);
}

export async function startGrpcServer(options: StartGrpcServerOptions): Promise<RunningGrpcServer> {
  const server = createGrpcServer(options);
  const port = await server.listen(options.port, options.host);
  return { port, stop: (graceMs) => server.stop(graceMs) };
}

/** Mutual TLS when the three certificate paths are configured (clients must present a certificate the CA signed). */
export function serverCredentials(access: Pick<AccessConfiguration, 'grpcTls'>): grpc.ServerCredentials {
  if (access.grpcTls === undefined) return grpc.ServerCredentials.createInsecure();
  const { clientCertificateAuthority, certificateChain, privateKey } = access.grpcTls;
  return grpc.ServerCredentials.createSsl(clientCertificateAuthority, [{ cert_chain: certificateChain, private_key: privateKey }], true);
}

/** Credentials of a call: metadata, plus the verified client certificate's common name under mutual TLS. */
export function grpcCredentials(call: { metadata: grpc.Metadata; getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } | null }): CallerCredentials {
  const first = (key: string) => {
    const value = call.metadata.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  };
  const certificate = call.getAuthContext?.()?.sslPeerCertificate;
  const commonName = certificate?.subject?.CN;
  return { authorization: first('authorization'), apiKey: first('x-api-key'), verifiedCertificateName: typeof commonName === 'string' && commonName !== '' ? commonName : undefined };
}

export function toEventMessage(event: SettlementEvent, cursor: string): SettlementEventMessage {
  return {
    cursor,
    settlement_id: event.settlementId,
    seq: event.seq,
    status: toProtoEnum(event.status, EnumPrefix.status),
    previous_status: toProtoEnum(event.previousStatus, EnumPrefix.status),
    stage: event.stage,
    at: isoToTimestamp(event.at),
    reason_code: event.reasonCode ?? '',
    payer_bic: event.payerBic,
    payee_bic: event.payeeBic,
    currency: event.currency,
    amount: event.amount,
  };
}

/** Resolves when a slow client has taken the buffered messages, or when the stream ends; leaves no listener. */
async function drained(call: NodeJS.EventEmitter, signal: AbortSignal): Promise<void> {
  try {
    await once(call, 'drain', { signal });
  } catch {
    // The stream ended first.
  }
}

export const defaultStreamLimits = { activeStreamsMax: 256, activeStreamsPerClientMax: 16 } as const;

/** GRPC_STREAMS_MAX and GRPC_STREAMS_PER_CLIENT_MAX (README configuration table). */
export function streamLimitsFromEnvironment(env: Environment): { activeStreamsMax: number; activeStreamsPerClientMax: number } {
  return {
    activeStreamsMax: positiveInteger(env, 'GRPC_STREAMS_MAX', defaultStreamLimits.activeStreamsMax),
    activeStreamsPerClientMax: positiveInteger(env, 'GRPC_STREAMS_PER_CLIENT_MAX', defaultStreamLimits.activeStreamsPerClientMax),
  };
}
/** What a client refused a stream is told to wait before trying again. */
const streamRetryAfterMs = 1_000;

/** A request grpc-js could not decode: handed to the handler so that it is refused like any bad input. */
interface UndecodableRequest {
  readonly [undecodable]: true;
  readonly reason: string;
}
const undecodable = Symbol('undecodable');

function isUndecodable(request: unknown): request is UndecodableRequest {
  return typeof request === 'object' && request !== null && undecodable in request;
}

/**
 * grpc-js answers a request it cannot deserialize with INTERNAL, before any handler runs. That is the client's
 * mistake, not the server's: each method's deserializer is wrapped so that a decoding failure becomes a marker the
 * handler refuses with INVALID_ARGUMENT and the stable error-code trailer, after the usual authentication.
 */
function tolerantDeserializers(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(service).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return method.requestDeserialize(bytes);
          } catch (error) {
            return { [undecodable]: true, reason: String((error as Error)?.message ?? error).slice(0, 100) } satisfies UndecodableRequest;
          }
        },
      },
    ]),
  ) as grpc.ServiceDefinition;
}

function unimplemented(message: string): Error {
  return new GrpcStatusError(grpc.status.UNIMPLEMENTED, message);
}

function remainingMs(deadline: grpc.Deadline): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? at - Date.now() : Number.POSITIVE_INFINITY;
}

async function withTimeout(probe: Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
