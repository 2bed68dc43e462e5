/**
 * The statement inbox on AWS (docs/rails.md, statements): correspondents' camt.053 and CSV files are put into a
 * private bucket under `incoming/<BIC>/<currency>/<name>.xml|.csv`; S3 sends each `Object Created` event to
 * EventBridge, whose rule invokes the import function (lambdas/handlers/statement-import.ts). The function imports
 * the file through the same use case as `POST /api/v1/statements`; a file it refuses goes to the rejections queue
 * with its reason, and an event it could not process after its retries goes to the failed-events queue.
 *
 * The function may read objects under `incoming/` of this bucket and send to the rejections queue; on the tables it
 * reads accounts and puts the statement (reconciliation) and its audit entry (reference). Nothing else.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { write, type FunctionSpec } from '../function-catalogue';
import { acknowledge } from '../nag';
import type { EngineTables } from '../stateful-stack';
import { EngineFunction } from './engine-function';
import { holdingQueueDefaults, privateBucketDefaults } from './storage-defaults';

/** The key prefix files are dropped under (lambdas/adapters/s3/statement-bucket.ts reads the same). */
export const statementIncomingPrefix = 'incoming/';
/** EventBridge delivery retries and Lambda run retries: the same bound for both. */
export const statementImportRetryAttemptsMax = 2;

export const statementImportFunction: FunctionSpec = {
  id: 'StatementImportFunction',
  module: 'statement-import',
  exportName: 'importStatementObject',
  description: 'Statement inbox: imports a camt.053 or CSV file put into the statement bucket (S3 Object Created, via EventBridge)',
  // importStatement: reads the account, puts the statement (attribute_not_exists) and its audit entry and chain head.
  tables: { accounts: 'read', reconciliation: write('PutItem'), reference: write('PutItem') },
  startsExecutions: false,
  sendsToDeadLetterQueue: false,
  // A 300 KB statement of 20,000 entries is read twice (summary, then check); well under a minute.
  timeout: Duration.seconds(60),
  memorySizeMiB: 512,
  // Banks send a few files a day each; a burst of uploads queues in EventBridge's retries rather than in DynamoDB.
  reservedConcurrency: 2,
};

export interface StatementInboxProps {
  readonly tables: EngineTables;
  readonly logRetention: logs.RetentionDays;
  /** Every function's environment (lambdas/config.ts requires the dead-letter queue's URL of every process). */
  readonly environment: Readonly<Record<string, string>>;
  readonly deadLetterQueue: sqs.IQueue;
  /** Reserved concurrency of the import function; undefined leaves it in the unreserved pool. */
  readonly reservedConcurrency?: number;
}

export class StatementInbox extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly importFunction: EngineFunction;
  /** Files the engine refused, one message each: `{ bucket, key, code, reason }`. */
  readonly rejectionsQueue: sqs.Queue;
  /** Events that still failed after their retries (DynamoDB or S3 unavailable, a bug): the event itself. */
  readonly failedEventsQueue: sqs.Queue;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: StatementInboxProps) {
    super(scope, id);
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...privateBucketDefaults,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(400) }],
    });
    acknowledge(this.accessLogsBucket, 'AwsSolutions-S1', 'This bucket receives the statement bucket\'s server access logs; logging it into itself would loop.');
    // Statements are evidence for reconciliation reports: versioned, retained, never public.
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucketDefaults,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'statement-bucket/',
      eventBridgeEnabled: true,
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) }] },
        { noncurrentVersionExpiration: Duration.days(400) },
      ],
    });

    // S3 turns EventBridge delivery on through CDK's bucket-notifications custom resource (one per stack).
    const notificationsHandler = Stack.of(this).node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notificationsHandler) {
      acknowledge(
        notificationsHandler,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "CDK's own bucket-notifications handler, run once at deploy to switch on EventBridge delivery for the bucket: it only writes its logs.",
      );
    }

    this.rejectionsQueue = new sqs.Queue(this, 'RejectionsQueue', holdingQueueDefaults);
    acknowledge(this.rejectionsQueue, 'AwsSolutions-SQS3', 'The end of the line for refused statement files: operators read each reason and fix the file; there is nothing to retry.');
    this.failedEventsQueue = new sqs.Queue(this, 'FailedEventsQueue', holdingQueueDefaults);
    acknowledge(this.failedEventsQueue, 'AwsSolutions-SQS3', 'This queue is itself the dead-letter queue of the import rule and of the function\'s asynchronous invocations.');

    this.importFunction = new EngineFunction(this, 'Import', {
      spec: statementImportFunction,
      tables: props.tables,
      logRetention: props.logRetention,
      deadLetterQueue: props.deadLetterQueue,
      reservedConcurrency: props.reservedConcurrency,
      environment: { ...props.environment, STATEMENT_BUCKET: this.bucket.bucketName, STATEMENT_REJECTIONS_QUEUE_URL: this.rejectionsQueue.queueUrl },
    });
    const role = this.importFunction.role;
    // GetObject on incoming/ only: not List, not Put, not Delete, not the rest of the bucket.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${statementIncomingPrefix}*`)] }));
    this.rejectionsQueue.grantSendMessages(role);
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId) as string}.Arn>/${statementIncomingPrefix}*]`,
      'The function reads whichever file arrives, so it may read every object under incoming/ of this one bucket (and nothing outside it).',
    );

    this.importFunction.function.configureAsyncInvoke({
      retryAttempts: statementImportRetryAttemptsMax,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.failedEventsQueue),
    });
    this.rule = new events.Rule(this, 'ObjectCreated', {
      description: 'Settlement Engine statement inbox: a file put under incoming/ is imported',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [this.bucket.bucketName] }, object: { key: [{ prefix: statementIncomingPrefix }] } },
      },
      targets: [new targets.LambdaFunction(this.importFunction.function, { retryAttempts: statementImportRetryAttemptsMax, maxEventAge: Duration.hours(6), deadLetterQueue: this.failedEventsQueue })],
    });
  }
}
