/**
 * DynamoDB adapter of the bank message journal: one item per message in the settlement's own partition of the
 * settlements table, `pk = <settlementId>`, `sk = MESSAGE#<at>#<direction>#<messageId>` (time-ordered, so a Query
 * returns them in the order they crossed the wire). The XML is kept as sent or received.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { bankMessagesPerSettlementMax, type BankMessage, type BankMessageDirection, type BankMessageJournal } from '../../ports/bank';
import { guard } from './client';
import type { TableNames } from './table-definitions';

export const bankMessageSortKeyPrefix = 'MESSAGE#';

export class DynamoBankMessageJournal implements BankMessageJournal {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async record(message: BankMessage): Promise<void> {
    await guard(() =>
      this.documentClient.send(
        new PutCommand({
          TableName: this.tables.settlements,
          Item: {
            pk: message.settlementId,
            sk: `${bankMessageSortKeyPrefix}${message.at}#${message.direction}#${message.messageId}`,
            itemType: 'MESSAGE',
            direction: message.direction,
            messageType: message.type,
            messageId: message.messageId,
            at: message.at,
            xml: message.xml,
          },
        }),
      ),
    );
  }

  async list(settlementId: string): Promise<BankMessage[]> {
    const result = await guard(() =>
      this.documentClient.send(
        new QueryCommand({
          TableName: this.tables.settlements,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': settlementId, ':prefix': bankMessageSortKeyPrefix },
          ConsistentRead: true,
          Limit: bankMessagesPerSettlementMax,
        }),
      ),
    );
    return (result.Items ?? []).map((item) => ({
      settlementId,
      direction: item.direction as BankMessageDirection,
      type: String(item.messageType),
      messageId: String(item.messageId),
      at: String(item.at),
      xml: String(item.xml),
    }));
  }
}

/** In memory, for unit tests and the in-process mock. */
export class InMemoryBankMessageJournal implements BankMessageJournal {
  private readonly messages: BankMessage[] = [];
  async record(message: BankMessage): Promise<void> {
    this.messages.push(message);
  }
  async list(settlementId: string): Promise<BankMessage[]> {
    return this.messages.filter((message) => message.settlementId === settlementId).slice(0, bankMessagesPerSettlementMax);
  }
}
