/**
 * DeadLetterPort over SQS: the same client against AWS and against a local SQS-API emulator.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterMessage, DeadLetterPort } from '../../ports';

export class SqsDeadLetterQueue implements DeadLetterPort {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: DeadLetterMessage): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: { settlementId: { DataType: 'String', StringValue: message.settlementId }, reasonCode: { DataType: 'String', StringValue: message.reasonCode } },
      }),
    );
  }
}

/** Keeps parked-settlement messages in memory: for tools and tests that run without a queue. */
export class InMemoryDeadLetterQueue implements DeadLetterPort {
  readonly messages: DeadLetterMessage[] = [];
  async send(message: DeadLetterMessage): Promise<void> {
    this.messages.push(message);
  }
}
