/**
 * The local dead-letter queue: an SQS-API emulator (the fauxqs package) started as a child process on loopback,
 * and the same SqsDeadLetterQueue adapter (@aws-sdk/client-sqs) that runs against SQS on AWS.
 * The emulator keeps messages in memory: a parked settlement's truth is its record (GET /settlements/parked),
 * the queue only notifies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SqsDeadLetterQueue } from '../adapters/sqs/dead-letter-queue';
import type { DeadLetterMessage } from '../ports';
import { localCredentials, localRegion } from './dynamodb-local';

/** How long the emulator may take to listen (a Node start plus fastify). */
export const sqsEmulatorStartTimeoutMs = 15_000;
/** Messages one ReceiveMessage returns at most (the SQS limit). */
const receiveBatchMax = 10;

export const deadLetterQueueName = 'settlement-engine-dead-letters';

export interface LocalDeadLetterQueue {
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly deadLetters: SqsDeadLetterQueue;
  /** Reads (and deletes) up to `max` messages: what an operator's consumer does; tests use it. */
  receive(max?: number): Promise<DeadLetterMessage[]>;
  stop(): Promise<void>;
}

const launcherPath = path.resolve(__dirname, 'sqs-emulator-main.mjs');

export async function startLocalDeadLetterQueue(): Promise<LocalDeadLetterQueue> {
  const child = spawn(process.execPath, [launcherPath, '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let client: SQSClient | undefined;
  try {
    const port = await listeningPort(child);
    const endpoint = `http://127.0.0.1:${port}`;
    client = new SQSClient({ endpoint, region: process.env.AWS_REGION ?? localRegion, credentials: localCredentials });
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: deadLetterQueueName }));
    if (!QueueUrl) throw new Error('the SQS emulator created no queue URL');
    const sqs = client;
    return {
      endpoint,
      queueUrl: QueueUrl,
      deadLetters: new SqsDeadLetterQueue(sqs, QueueUrl),
      receive: async (max = receiveBatchMax) => {
        const result = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: Math.min(max, receiveBatchMax), WaitTimeSeconds: 0 }));
        const messages = result.Messages ?? [];
        for (const message of messages) await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
        return messages.map((message) => JSON.parse(message.Body ?? '{}') as DeadLetterMessage);
      },
      stop: async () => {
        sqs.destroy();
        child.stdin?.end();
        await exited;
      },
    };
  } catch (error) {
    client?.destroy();
    child.kill('SIGKILL');
    throw error;
  }
}

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let errorOutput = '';
    child.stderr?.on('data', (chunk: Buffer) => (errorOutput = (errorOutput + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => reject(new Error(`the SQS emulator did not start within ${sqsEmulatorStartTimeoutMs} ms: ${errorOutput}`)), sqsEmulatorStartTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the SQS emulator exited with code ${code}: ${errorOutput}`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch {
        reject(new Error(`the SQS emulator said ${line}`));
      }
    });
  });
}
