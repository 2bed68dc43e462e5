/**
 * Lambda entry point of the statement inbox on AWS: an EventBridge rule sends each S3 `Object Created` event under
 * `incoming/` of the statement bucket here (infra/constructs/statement-inbox.ts). The file goes through the same use
 * case as `POST /api/v1/statements`; a refused file goes to the rejections queue with its reason, and the function
 * succeeds (retrying cannot fix a file). A fault (DynamoDB, S3 unavailable) throws: EventBridge and Lambda retry,
 * then the event lands in the rule's dead-letter queue.
 */
import middy from '@middy/core';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { S3ObjectCreatedNotificationEvent } from 'aws-lambda';
import { incomingPrefix, S3StatementInbox } from '../adapters/s3/statement-bucket';
import { statementContentBytesMax } from '../adapters/statements/reader';
import { ConfigurationError } from '../config';
import { operationsOf } from '../usecases/operations/deps';
import { receiveStatementFile, type StatementFileResult } from '../usecases/operations/statement-files';
import type { StatementFileInbox } from '../ports/statement-files';
import { lambdaDeps } from './lambda-deps';
import { flushMetrics } from './middleware';
import type { ApiDeps } from './http';

/** The settings of this function beyond the engine's own (lambdas/config.ts). */
export const statementInboxVariables = ['STATEMENT_BUCKET', 'STATEMENT_REJECTIONS_QUEUE_URL'] as const;

export interface StatementImportDeps {
  readonly deps: ApiDeps;
  readonly inbox: StatementFileInbox;
  readonly bucketName: string;
}

/** The handler with its dependencies given (tests); `importStatementObject` below builds them from the environment. */
export function createStatementImportHandler(resolve: () => StatementImportDeps) {
  return middy<S3ObjectCreatedNotificationEvent, StatementFileResult | { outcome: 'IGNORED'; reason: string }>()
    .use(flushMetrics(() => resolve().deps.metrics))
    .handler(async (event) => {
      const { deps, inbox, bucketName } = resolve();
      const { bucket, object } = event.detail;
      // The rule filters both; a mismatch is a wiring mistake, never a file to import from someone else's bucket.
      if (bucket.name !== bucketName || !object.key.startsWith(incomingPrefix)) return { outcome: 'IGNORED', reason: `not under s3://${bucketName}/${incomingPrefix}` };
      const file = object.key.slice(incomingPrefix.length);
      const result = await receiveStatementFile(operationsOf(deps), inbox, { file, sizeBytes: object.size }, statementContentBytesMax, {
        actor: `s3://${bucketName}`,
        via: 'S3',
        file: object.key,
      });
      console.log(JSON.stringify({ level: result.outcome === 'REJECTED' ? 'warn' : 'info', message: 'statement file', key: object.key, ...result }));
      return result;
    });
}

let resolved: StatementImportDeps | undefined;

export const importStatementObject = createStatementImportHandler(() => {
  if (resolved === undefined) {
    const missing = statementInboxVariables.filter((name) => !process.env[name]);
    if (missing.length > 0) throw new ConfigurationError(missing, missing.map((name) => `${name} is required`));
    const bucketName = process.env.STATEMENT_BUCKET!;
    resolved = { deps: lambdaDeps(), bucketName, inbox: new S3StatementInbox(new S3Client({}), new SQSClient({}), bucketName, process.env.STATEMENT_REJECTIONS_QUEUE_URL!) };
  }
  return resolved;
});
