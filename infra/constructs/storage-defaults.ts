/**
 * What every bucket and every holding queue of the stacks shares, in one place, so that a new one cannot forget a
 * part of it (cdk-nag would say so, but only after the fact).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/** Private, encrypted at rest, TLS only, and kept when the stack goes (the buckets hold evidence and logs). */
export const privateBucketDefaults = {
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  removalPolicy: RemovalPolicy.RETAIN,
} satisfies s3.BucketProps;

/** A queue where messages wait for an operator: encrypted, TLS only, kept the longest SQS allows (14 days). */
export const holdingQueueDefaults = {
  encryption: sqs.QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
  retentionPeriod: Duration.days(14),
} satisfies sqs.QueueProps;
