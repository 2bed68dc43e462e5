/**
 * The statement inbox on AWS: files are put into a bucket under `incoming/`, and a file the engine refuses is sent
 * with its reason to the statement rejections queue (the function may read the bucket and send to that queue,
 * nothing else: infra/constructs/statement-inbox.ts).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { StatementFileInbox, StatementFileRejection } from '../../ports/statement-files';
import { readBoundedText, tooLarge } from '../statements/bounded-text';

/** The key prefix files are dropped under; object-created events elsewhere in the bucket are not statements. */
export const incomingPrefix = 'incoming/';

export class S3StatementInbox implements StatementFileInbox {
  constructor(
    private readonly s3: S3Client,
    private readonly sqs: SQSClient,
    private readonly bucketName: string,
    private readonly rejectionsQueueUrl: string,
  ) {}

  async read(file: string, bytesMax: number): Promise<string> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucketName, Key: `${incomingPrefix}${file}` }));
    const body = object.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    // The length S3 announces is checked before the body is read; the bounded reader guards the rest.
    if (object.ContentLength !== undefined && object.ContentLength > bytesMax) {
      body?.destroy?.();
      throw tooLarge(bytesMax, object.ContentLength);
    }
    if (body === undefined) return '';
    try {
      return await readBoundedText(body, bytesMax);
    } finally {
      body.destroy?.();
    }
  }

  async reject(rejection: StatementFileRejection): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.rejectionsQueueUrl,
        MessageBody: JSON.stringify({ bucket: this.bucketName, key: `${incomingPrefix}${rejection.file}`, code: rejection.code, reason: rejection.reason }),
        MessageAttributes: { code: { DataType: 'String', StringValue: rejection.code } },
      }),
    );
  }
}
