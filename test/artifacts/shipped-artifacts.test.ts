/**
 * The artifacts that ship, tested from outside: the Lambda bundles in cdk.out driven through the real ASL file, and
 * the gRPC task's entry compiled as the Dockerfile compiles it and started with the settings the stack gives it,
 * both against DynamoDB Local.
 *
 * The app is synthesized once with real bundling (the local esbuild, minified, as `npm run synth` does). Each Task of
 * the two ASL files (the Express fast path every settlement starts on, and the Standard workflow it hands slow ones
 * to) is mapped to its function's bundle through its state machine's DefinitionSubstitutions (placeholder →
 * Fn::GetAtt of a function → its Code asset and Handler), and the bundles run in a plain Node process
 * (support/bundle-driver.cjs) with the environment the template gives the functions. The
 * outcomes are read back from DynamoDB. Error names are what Retry and Catch match on, so a bundle whose error
 * classes lost their names fails here: transient errors end FAILED instead of being retried, reasons read
 * INTERNAL.UNEXPECTED.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { stateMachinePaths } from '../../lambdas/local/local-workflow';
import { executionName } from '../../lambdas/adapters/sfn/step-functions-workflow';
import type { SettlementHistory } from '../../lambdas/ports/stores';
import { startLocalDeadLetterQueue, type LocalDeadLetterQueue } from '../../lambdas/local/sqs-emulator';
import { newSettlementId, settlementRequest, startTestEngine, type TestEngine } from '../support/engine';
import { readSettlementFrames } from '../support/sse';
import * as grpc from '@grpc/grpc-js';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import * as https from 'node:https';
import { ensureCertificates } from '../../simulator/certificates';
import { hashApiKey } from '../../lambdas/adapters/auth/api-keys';
import { SettlementClient } from '../../lambdas/adapters/grpc/client';
import { logicalIdOf, removeAssembly, repositoryRoot, synthesizeEngine, type SynthesizedEngine } from '../infra/support/engine-app';
import { freePort, startSsmStandIn, startStepFunctionsStandIn, waitForListening } from './support/processes';
import { grpcSettlementRequest } from '../support/grpc';
import { bundleEnvironment, bundleOf, grpcTaskEnvironment, stateMachineTasks, type FunctionBundle, type TemplateJson } from './support/assembly';
import { allFunctions } from '../../infra/function-catalogue';

const run = promisify(execFile);
const driverPath = path.join(__dirname, 'support', 'bundle-driver.cjs');

interface DriverRun {
  readonly workflow: 'EXPRESS' | 'STANDARD';
  readonly name: string;
  readonly status: string;
  readonly states: readonly string[];
  readonly error?: { name: string; message: string };
}
interface DriverResult {
  readonly submissions: ReadonlyArray<{ settlementId: string; statusCode: number; body: unknown }>;
  readonly outcomes: Readonly<Record<string, { runs: readonly DriverRun[]; handOffs: ReadonlyArray<{ name: string; outcome: 'STARTED' | 'SAME_EXECUTION' | 'REFUSED' }> }>>;
  readonly invalidValidate: { threw: boolean; name?: string; code?: string; message?: string; constructorName?: string };
}

// One bundled synthesis for the whole file (it is the slow part: esbuild for every function).
let synthesized: SynthesizedEngine;
const previousDocker = process.env.CDK_DOCKER;

beforeAll(() => {
  // Any attempt to run Docker (bundling fallback, image build) would fail on this path.
  process.env.CDK_DOCKER = path.join(__dirname, 'docker-must-not-run');
  // With the console: the engine stack then gives the task the console feed's port and sign-in parameter.
  synthesized = synthesizeEngine({ bundle: true, withConsole: true });
}, 180_000);

afterAll(() => {
  if (previousDocker === undefined) delete process.env.CDK_DOCKER;
  else process.env.CDK_DOCKER = previousDocker;
  removeAssembly(synthesized);
});

describe('the Lambda bundles in cdk.out, through the real ASL files', () => {
  let engine: TestEngine;
  let deadLetterQueue: LocalDeadLetterQueue;
  let result: DriverResult;
  let redelivered: DriverResult;
  let beforeRedelivery: Record<string, SettlementHistory | undefined>;
  let workDirectory: string;
  let tasks: Record<'EXPRESS' | 'STANDARD', Record<string, FunctionBundle>>;
  const requests = {
    happy: settlementRequest({ settlementId: newSettlementId('art-ok'), amount: '10.00' }),
    insufficientFunds: settlementRequest({ settlementId: newSettlementId('art-funds'), amount: '900000000.00' }),
    bankRejects: settlementRequest({ settlementId: newSettlementId('art-reject'), amount: '11.00', reference: 'Invoice [mock:reject]' }),
    transientOnce: settlementRequest({ settlementId: newSettlementId('art-retry'), amount: '12.00', reference: 'Invoice [mock:timeout]' }),
    // Settled, then returned by the beneficiary bank on its own: money went out and came back, so the rollback compensates.
    compensated: settlementRequest({ settlementId: newSettlementId('art-comp'), amount: '13.00', reference: 'Invoice [mock:returned]' }),
    // SWIFT's two pending checks fit the fast path's three; a third pending check does not.
    swift: settlementRequest({ settlementId: newSettlementId('art-swift'), amount: '14.00', rail: 'SWIFT', kind: 'INTERNATIONAL' }),
    swiftSlow: settlementRequest({ settlementId: newSettlementId('art-slow'), amount: '15.00', rail: 'SWIFT', kind: 'INTERNATIONAL', reference: 'Invoice [mock:slow]' }),
    // Express is at-least-once: this one's execution is delivered twice at once.
    duplicated: settlementRequest({ settlementId: newSettlementId('art-dup'), amount: '16.00' }),
  };
  const redeliveredIds = [requests.happy, requests.swiftSlow, requests.compensated].map((request) => String(request.settlementId));

  beforeAll(async () => {
    const template = synthesized.engine.toJSON() as TemplateJson;
    const { engine: engineStack } = synthesized.stacks;
    tasks = {
      EXPRESS: stateMachineTasks(template, synthesized.assembly.directory, logicalIdOf(engineStack.fastPath.stateMachine)),
      STANDARD: stateMachineTasks(template, synthesized.assembly.directory, logicalIdOf(engineStack.workflow.stateMachine)),
    };
    const api = bundleOf(template, synthesized.assembly.directory, logicalIdOf(engineStack.functions.ApiFunction!.function));
    // The tables as deployed: the stateful stack keeps the retiring indexes, and a deployed runtime reads them.
    [engine, deadLetterQueue] = await Promise.all([startTestEngine({ httpPort: null, retiringIndexes: 'with-retiring' }), startLocalDeadLetterQueue()]);
    const environment = bundleEnvironment(template, [...Object.values(tasks.EXPRESS), ...Object.values(tasks.STANDARD), api], {
      tables: engine.tables,
      deadLetterQueueUrl: deadLetterQueue.queueUrl,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:settlement-engine-express',
    });
    workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'settlement-bundles-'));
    const drive = async (phase: string, work: Record<string, unknown>): Promise<DriverResult> => {
      const inputPath = path.join(workDirectory, `${phase}-input.json`);
      const outputPath = path.join(workDirectory, `${phase}-output.json`);
      const targets = (bundles: Record<string, FunctionBundle>) => Object.fromEntries(Object.entries(bundles).map(([state, bundle]) => [state, { bundle: bundle.file, export: bundle.exportName }]));
      fs.writeFileSync(
        inputPath,
        JSON.stringify({
          asl: stateMachinePaths,
          standardArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:settlement-engine',
          tasks: { EXPRESS: targets(tasks.EXPRESS), STANDARD: targets(tasks.STANDARD) },
          api: { bundle: api.file, export: api.exportName },
          retryIntervalMs: 5,
          ...work,
        }),
      );
      await run(process.execPath, [driverPath, inputPath, outputPath], {
        env: {
          ...environment,
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_ENDPOINT_URL_DYNAMODB: engine.dynamoEndpoint,
          AWS_ENDPOINT_URL_SQS: deadLetterQueue.endpoint,
        },
        maxBuffer: 64 * 1024 * 1024,
      });
      return JSON.parse(fs.readFileSync(outputPath, 'utf8')) as DriverResult;
    };
    result = await drive('submit', { requests: Object.values(requests), duplicates: [requests.duplicated.settlementId] });
    // A late duplicate delivery of finished settlements: the same execution name and input as the API started.
    beforeRedelivery = Object.fromEntries(await Promise.all(redeliveredIds.map(async (id) => [id, await engine.deps.settlements.history(id)] as const)));
    redelivered = await drive('redeliver', { redeliveries: redeliveredIds.map((id) => ({ name: executionName(id, 1), input: { settlementId: id, attempt: 1 } })) });
  }, 180_000);

  afterAll(async () => {
    if (workDirectory) fs.rmSync(workDirectory, { recursive: true, force: true });
    await engine?.stop();
    await deadLetterQueue?.stop();
  });

  const outcomeOf = async (request: Record<string, unknown>) => {
    const settlementId = String(request.settlementId);
    const outcome = result.outcomes[settlementId]!;
    const status = outcome.runs.every((one) => one.status === 'SUCCEEDED') ? 'SUCCEEDED' : 'FAILED';
    return { execution: { status }, runs: outcome.runs, handOffs: outcome.handOffs, history: await engine.deps.settlements.history(settlementId) };
  };

  // What test/infra/bundling.test.ts checked, on this suite's one bundled synthesis (synthesis is the slow part).
  it.each(allFunctions.map((spec) => [spec.id, spec] as const))('bundles %s with the local esbuild into index.js with a source map', (_id, spec) => {
    const bundle = bundleOf(synthesized.engine.toJSON() as TemplateJson, synthesized.assembly.directory, logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function));
    expect(bundle.exportName).toBe(spec.exportName);
    expect(fs.readFileSync(bundle.file, 'utf8')).toContain(spec.exportName);
    expect(fs.existsSync(`${bundle.file}.map`)).toBe(true);
  });

  it('shares one bundle among functions of the same handler module', () => {
    const template = synthesized.engine.toJSON() as TemplateJson;
    const files = new Set(allFunctions.filter((spec) => spec.module === 'stages').map((spec) => bundleOf(template, synthesized.assembly.directory, logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function)).file));
    expect(files.size).toBe(1);
  });

  it.each(['EXPRESS', 'STANDARD'] as const)('maps every stage Task state of the %s file to the bundle its function names', (kind) => {
    const states = (JSON.parse(fs.readFileSync(stateMachinePaths[kind], 'utf8')) as { States: Record<string, { Type: string; Resource?: string }> }).States;
    expect(Object.keys(tasks[kind]).sort()).toEqual(Object.keys(states).filter((state) => states[state]!.Type === 'Task' && state !== 'HandOff').sort());
  });

  it('accepts every submission through the API bundle', () => {
    expect(result.submissions.map((submission) => submission.statusCode)).toEqual(Object.values(requests).map(() => 202));
  });

  it('completes a SEPA settlement on the Express fast path alone', async () => {
    const { execution, runs, history } = await outcomeOf(requests.happy);
    expect(execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(history?.record.status).toBe('COMPLETED');
    expect(runs.map((one) => one.workflow)).toEqual(['EXPRESS']);
    expect(runs[0]!.states.at(-1)).toBe('Completed');
  });

  it('completes a SWIFT settlement whose two pending checks fit the fast path, without a hand-off', async () => {
    const { runs, history } = await outcomeOf(requests.swift);
    expect(history?.record.status).toBe('COMPLETED');
    expect(runs.map((one) => one.workflow)).toEqual(['EXPRESS']);
    expect(runs[0]!.states.filter((state) => state === 'CheckConfirmation')).toHaveLength(3);
  });

  it('hands a SWIFT settlement still pending after three checks to the Standard workflow, named as the Express execution, which completes it', async () => {
    const { execution, runs, handOffs, history } = await outcomeOf(requests.swiftSlow);
    expect(execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(history?.record.status).toBe('COMPLETED');
    expect(history?.lock?.state).toBe('POSTED');
    const name = executionName(String(requests.swiftSlow.settlementId), 1);
    expect(runs.map((one) => [one.workflow, one.name, one.states.at(-1)])).toEqual([
      ['EXPRESS', name, 'HandedOff'],
      ['STANDARD', name, 'Completed'],
    ]);
    expect(handOffs).toEqual([{ name, outcome: 'STARTED' }]);
    // The Standard run resumes the confirmation loop: no stage before it runs again.
    expect(runs[1]!.states.slice(0, 3)).toEqual(['Route', 'WaitForConfirmation', 'CheckConfirmation']);
    expect(runs[1]!.states).not.toContain('Validate');
  });

  it('changes nothing when the same Express execution is delivered twice at once: one transfer, one posting', async () => {
    const { runs, history } = await outcomeOf(requests.duplicated);
    expect(runs.map((one) => [one.workflow, one.status])).toEqual([
      ['EXPRESS', 'SUCCEEDED'],
      ['EXPRESS', 'SUCCEEDED'],
    ]);
    expect(history?.record).toMatchObject({ status: 'COMPLETED', attempt: 1 });
    expect(history?.lock?.state).toBe('POSTED');
    const statuses = history!.events.map((event) => event.status);
    expect(statuses).toEqual([...new Set(statuses)]);
    expect(statuses.at(-1)).toBe('COMPLETED');
  });

  it('changes nothing when finished settlements\' Express executions are delivered again later, and hands nothing off twice', async () => {
    for (const id of redeliveredIds) {
      expect(await engine.deps.settlements.history(id)).toEqual(beforeRedelivery[id]);
      const again = redelivered.outcomes[id]!;
      expect(again.runs.map((one) => [one.workflow, one.status])).toEqual([['EXPRESS', 'SUCCEEDED']]);
      expect(again.handOffs.filter((handOff) => handOff.outcome === 'STARTED')).toEqual([]);
    }
  });

  it('rolls back insufficient funds with its own reason code, not INTERNAL.UNEXPECTED', async () => {
    const { execution, history } = await outcomeOf(requests.insufficientFunds);
    expect(execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(history?.record).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.INSUFFICIENT_FUNDS', retryable: false });
  });

  it('rolls back a bank rejection as BANK.REJECTED within the fast path: BeginRollback asks the bank, nothing to compensate', async () => {
    const { history, runs } = await outcomeOf(requests.bankRejects);
    expect(history?.record).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.REJECTED' });
    expect(runs.map((one) => one.workflow)).toEqual(['EXPRESS']);
    expect(history?.events.map((event) => event.status)).toEqual(expect.arrayContaining(['TRANSFER_INITIATED', 'ROLLING_BACK', 'ROLLED_BACK', 'FAILED']));
    expect(history?.events.map((event) => event.status)).not.toContain('COMPENSATING');
    expect(history?.compensations).toEqual([expect.objectContaining({ state: 'NOT_REQUIRED', bankState: 'REJECTED' })]);
  });

  it('retries a transient error by its name in the ASL Retry, and completes', async () => {
    // The mock bank times out on the first InitiateTransfer: TransferOutcomeUnknownError, in every Task's Retry.
    const { execution, history } = await outcomeOf(requests.transientOnce);
    expect(execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(history?.record.status).toBe('COMPLETED');
    expect(history?.events.map((event) => event.status)).not.toContain('COMPENSATING');
  });

  it('hands compensation of a transfer the bank returned after settling it to the Standard workflow, which voids the lock', async () => {
    const { history, runs } = await outcomeOf(requests.compensated);
    expect(runs.map((one) => [one.workflow, one.states.at(-1)])).toEqual([
      ['EXPRESS', 'HandedOff'],
      ['STANDARD', 'RolledBack'],
    ]);
    expect(runs[1]!.states.slice(0, 3)).toEqual(['Route', 'BeginRollback', 'NeedsCompensation']);
    expect(runs[1]!.states).toContain('Compensate');
    expect(history?.record).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.REJECTED' });
    expect(history?.events.map((event) => event.status)).toEqual(expect.arrayContaining(['TRANSFER_INITIATED', 'COMPENSATING', 'ROLLED_BACK', 'FAILED']));
    expect(history?.lock?.state).toBe('VOIDED');
  });

  it('throws from the built validate bundle, on an invalid event, an error whose name is the literal class name', () => {
    expect(result.invalidValidate).toMatchObject({ threw: true, name: 'ValidationError', code: 'VALIDATION.INVALID_FIELD' });
  });
});

describe('the gRPC task entry, compiled as the Dockerfile compiles it', () => {
  const apiKey = `sk_artifact_${randomUUID()}`;
  let engine: TestEngine;
  let appDirectory: string;
  let server: ChildProcess | undefined;
  let stepFunctions: http.Server;
  let client: SettlementClient;
  let address: string;
  let output = '';
  // The console's sign-in as the task finds it: a stand-in for SSM (the parameter the console stack writes) naming an
  // issuer whose JWKS is served here over HTTPS, and the key that signs the test's ID tokens.
  const clientId = 'console-client';
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let issuer: string;
  let jwksServer: https.Server;
  let ssmStandIn: http.Server;
  let feedUrl: string;

  beforeAll(async () => {
    const certificates = await ensureCertificates(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'settlement-feed-tls-')), 'tls'));
    jwksServer = https.createServer({ cert: certificates.serverCert, key: certificates.serverKey }, (request, response) => {
      if (request.url !== '/pool/.well-known/jwks.json') return response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...signingKey.publicKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' }] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    issuer = `https://127.0.0.1:${(jwksServer.address() as { port: number }).port}/pool`;
    ssmStandIn = await startSsmStandIn((name) => (name === '/SettlementEngine/console/sign-in' ? JSON.stringify({ issuer, clientId }) : undefined));
    const feedPort = await freePort();
    feedUrl = `http://127.0.0.1:${feedPort}`;
    // The tables as deployed: the stateful stack keeps the retiring indexes, and the task reads them.
    engine = await startTestEngine({ httpPort: null, retiringIndexes: 'with-retiring' });
    // Stand-in for the Step Functions endpoint: StartExecution runs the execution in the test engine's interpreter.
    stepFunctions = await startStepFunctionsStandIn((input) => engine.workflow.startSettlement(input));
    appDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'settlement-grpc-entry-'));
    await run('sh', [path.join(repositoryRoot, 'scripts', 'build-grpc-entry.sh'), path.join(appDirectory, 'dist')], {
      cwd: repositoryRoot,
      env: { ...process.env, ESBUILD: path.join(repositoryRoot, 'node_modules', '.bin', 'esbuild') },
    });
    // The runtime image's layout: dist/ at the root, beside proto/, statemachines/, config/ and node_modules/.
    fs.cpSync(path.join(appDirectory, 'dist'), appDirectory, { recursive: true });
    for (const directory of ['proto', 'statemachines', 'config', 'node_modules']) fs.symlinkSync(path.join(repositoryRoot, directory), path.join(appDirectory, directory));
    const taskEnvironment = grpcTaskEnvironment(synthesized.engine.toJSON() as TemplateJson, {
      tables: engine.tables,
      deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/settlement-engine-dead-letters',
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:settlement-engine',
      secrets: { API_KEYS: `artifact-test:${hashApiKey(apiKey)}` },
    });
    const port = await freePort();
    server = spawn(process.execPath, ['--enable-source-maps', 'bin/grpc-server.js'], {
      cwd: appDirectory,
      env: {
        ...taskEnvironment,
        // What the test changes: where it listens (a free local port, not the container's) and which endpoints the SDK uses.
        GRPC_PORT: String(port),
        HOST: '127.0.0.1',
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: engine.dynamoEndpoint,
        // StreamSettlementEvents reads the table's change stream, which DynamoDB Local serves on its own endpoint.
        AWS_ENDPOINT_URL_DYNAMODB_STREAMS: engine.dynamoEndpoint,
        AWS_ENDPOINT_URL_SFN: `http://127.0.0.1:${(stepFunctions.address() as { port: number }).port}`,
        AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(ssmStandIn.address() as { port: number }).port}`,
        CONSOLE_FEED_PORT: String(feedPort),
        // The stand-in issuer's certificate is signed by a test CA.
        NODE_EXTRA_CA_CERTS: certificates.paths.ca,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk) => (output += String(chunk)));
    server.stderr!.on('data', (chunk) => (output += String(chunk)));
    await waitForListening(server, () => output);
    // The feed's HTTP server starts right after the gRPC server.
    for (let attempt = 0; attempt < 100 && !output.includes('console feed listening'); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    address = `127.0.0.1:${port}`;
    client = new SettlementClient({ address, apiKey });
  }, 120_000);

  afterAll(async () => {
    client?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    stepFunctions?.close();
    jwksServer?.close();
    ssmStandIn?.close();
    await engine?.workflow.idle();
    await engine?.stop();
    if (appDirectory) fs.rmSync(appDirectory, { recursive: true, force: true });
  });

  it('answers ExecuteSettlement, GetSettlementStatus and StreamSettlementEvents for one settlement', async () => {
    const settlementId = newSettlementId('art-grpc');
    const since = { seconds: String(Math.floor(Date.now() / 1000) - 1), nanos: 0 };
    const executed = await client.call<{ settlement: { status: string } }>('ExecuteSettlement', grpcSettlementRequest(settlementId, { amount: '21.00', wait_for_terminal_ms: 20_000 }), { deadlineMs: 30_000 });
    expect(executed.settlement.status).toBe('SETTLEMENT_STATUS_COMPLETED');
    const status = await client.call<{ settlement: unknown }>('GetSettlementStatus', { settlement_id: settlementId });
    expect(status.settlement).toEqual(executed.settlement);
    const statuses = await new Promise<string[]>((resolve, reject) => {
      const received: string[] = [];
      const stream = client.streamEvents({ settlement_id: settlementId, since });
      const timer = setTimeout(() => (stream.cancel(), reject(new Error(`stream: ${received.join(', ')}`))), 20_000);
      stream.on('data', (event: { status: string }) => {
        received.push(event.status);
        if (event.status === 'SETTLEMENT_STATUS_COMPLETED') {
          clearTimeout(timer);
          stream.cancel();
          resolve(received);
        }
      });
      stream.on('error', (error: { code?: number }) => {
        if (error.code !== grpc.status.CANCELLED) reject(error);
      });
    });
    expect(statuses[0]).toBe('SETTLEMENT_STATUS_PENDING');
    expect(statuses.at(-1)).toBe('SETTLEMENT_STATUS_COMPLETED');
  });

  it('answers GetNostroBalance and GetVostroBalance', async () => {
    await expect(client.call('GetNostroBalance', { bic: 'CHASUS33', currency: 'USD' })).resolves.toMatchObject({ account: { account_id: 'NOSTRO#CHASUS33#USD' } });
    await expect(client.call('GetVostroBalance', { bic: 'DEUTDEFF', currency: 'EUR' })).resolves.toMatchObject({ account: { account_id: 'VOSTRO#DEUTDEFF#EUR' } });
  });

  it('answers ReconcileAccounts with a report, not UNIMPLEMENTED', async () => {
    const report = await client.call<Record<string, unknown>>('ReconcileAccounts', { account_type: 'ACCOUNT_TYPE_NOSTRO', bic: 'CHASUS33', currency: 'USD' }, { deadlineMs: 60_000 });
    expect(report).toMatchObject({ status: 'COMPLETED', accounts: 1, report_id: expect.stringMatching(/.+/) });
  });

  /** An ID token as Cognito issues it, signed by the stand-in pool's key unless told otherwise. */
  function idToken(claims: Record<string, unknown>, key: KeyObject = signingKey.privateKey): string {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'RS256', kid: 'test-key', typ: 'JWT' })}.${encode({ iss: issuer, aud: clientId, token_use: 'id', iat: nowSeconds, auth_time: nowSeconds, exp: nowSeconds + 3600, sub: 'user-1', ...claims })}`;
    return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
  }

  /** Reads the SSE feed until `until` holds (or the deadline); the settlement events received. */
  async function readFeed(query: string, token: string, until: (events: ReadonlyArray<{ settlementId: string; status: string }>) => boolean): Promise<Array<{ settlementId: string; status: string; payerBic: string; payeeBic: string }>> {
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(), 30_000);
    try {
      const response = await fetch(`${feedUrl}/api/v1/events/stream?${query}`, { headers: { authorization: token }, signal: controller.signal });
      expect(response.status).toBe(200);
      return await readSettlementFrames<{ settlementId: string; status: string; payerBic: string; payeeBic: string }>(response, until);
    } finally {
      clearTimeout(deadline);
      controller.abort();
    }
  }

  it("serves the console's live feed over HTTP to a Cognito ID token, a participant seeing only its own settlements", async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    // Not the participant's (CHASUS33 → CITIUS33), then its own (DEUTDEFF → BNPAFRPP): one shard, so in this order.
    const others = newSettlementId('art-feed-other');
    const own = newSettlementId('art-feed-own');
    const execute = (settlementId: string, overrides: Record<string, unknown>) =>
      client.call<{ settlement: { status: string } }>('ExecuteSettlement', grpcSettlementRequest(settlementId, { amount: '2.00', wait_for_terminal_ms: 20_000, ...overrides }), { deadlineMs: 30_000 });
    await execute(others, { payer_bic: 'CHASUS33', payee_bic: 'CITIUS33', currency: 'USD', rail: 'RAIL_ACH' });
    await execute(own, {});
    const participant = idToken({ 'cognito:username': 'bnp-ops', 'cognito:groups': ['participant-BNPAFRPP'] });
    const seen = await readFeed(`since=${encodeURIComponent(since)}`, participant, (events) => events.some((event) => event.settlementId === own && event.status === 'COMPLETED'));
    expect(seen.filter((event) => event.settlementId === own).map((event) => event.status)).toEqual(['PENDING', 'VALIDATED', 'LOCKED', 'TRANSFER_INITIATED', 'CONFIRMED', 'COMPLETED']);
    expect(seen.filter((event) => event.payerBic !== 'BNPAFRPP' && event.payeeBic !== 'BNPAFRPP')).toEqual([]);
    // An operator's feed has both.
    const operator = idToken({ 'cognito:username': 'alice', 'cognito:groups': ['operator'] });
    const all = await readFeed(`since=${encodeURIComponent(since)}`, `Bearer ${operator}`, (events) => events.some((event) => event.settlementId === own && event.status === 'COMPLETED'));
    expect(all.some((event) => event.settlementId === others)).toBe(true);
    const stats = await fetch(`${feedUrl}/api/v1/events/stats`, { headers: { authorization: operator } });
    expect(stats.status).toBe(200);
    expect(((await stats.json()) as { minutes: unknown[] }).minutes).toHaveLength(60);
  });

  it('refuses the feed with 401 to an expired token, a token for another client, one signed by another key, and none; 403 to a user in no role group', async () => {
    const groups = { 'cognito:username': 'alice', 'cognito:groups': ['operator'] };
    const refusals = {
      expired: idToken({ ...groups, exp: Math.floor(Date.now() / 1000) - 60 }),
      otherClient: idToken({ ...groups, aud: 'another-client' }),
      accessToken: idToken({ ...groups, token_use: 'access' }),
      otherKey: idToken(groups, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
      none: '',
    };
    for (const [name, token] of Object.entries(refusals)) {
      const response = await fetch(`${feedUrl}/api/v1/events/stream`, { headers: { authorization: token } });
      expect([name, response.status]).toEqual([name, 401]);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('AUTH.UNAUTHENTICATED');
    }
    const noRole = await fetch(`${feedUrl}/api/v1/events/stats`, { headers: { authorization: idToken({ 'cognito:username': 'bob', 'cognito:groups': ['visitors'] }) } });
    expect(noRole.status).toBe(403);
    expect((await fetch(`${feedUrl}/api/v1/settlements`)).status).toBe(404);
  });

  it('refuses a call without an API key', async () => {
    const anonymous = new SettlementClient({ address });
    try {
      await expect(anonymous.call('GetNostroBalance', { bic: 'CHASUS33', currency: 'USD' })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    } finally {
      anonymous.close();
    }
  });
});
