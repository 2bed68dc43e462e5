/**
 * DynamoDB adapter of the statement inbox, in the reconciliation table: `STATEMENT#<statementId>/STATEMENT` holds
 * the statement's summary and its content (bounded by statementContentBytesMax, well under DynamoDB's 400 KB item
 * limit; larger files belong in S3, docs/rails.md). Pending statements are listed through gsi1
 * (`STATEMENTS#PENDING`, `<receivedAt>#<id>`), a sparse entry removed when the statement is reconciled.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StatementInbox, StoredStatement } from '../../ports/operations';
import { guard, isConditionalCheckFailed, translateTransientError } from './client';
import type { TableNames } from './table-definitions';

const pendingPartition = 'STATEMENTS#PENDING';
const keyOf = (statementId: string) => ({ pk: `STATEMENT#${statementId}`, sk: 'STATEMENT' });

export class DynamoStatementInbox implements StatementInbox {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async put(statement: StoredStatement, content: string): Promise<{ created: boolean; statement: StoredStatement }> {
    try {
      await this.documentClient.send(
        new PutCommand({
          TableName: this.tables.reconciliation,
          Item: { ...keyOf(statement.statementId), itemType: 'STATEMENT', statement: JSON.stringify(statement), content, gsi1pk: pendingPartition, gsi1sk: `${statement.receivedAt}#${statement.statementId}` },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, statement };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw translateTransientError(error);
      const existing = await this.get(statement.statementId);
      if (!existing) throw new Error(`statement ${statement.statementId} exists but cannot be read`, { cause: error });
      return { created: false, statement: existing.statement };
    }
  }

  async get(statementId: string): Promise<{ statement: StoredStatement; content: string } | undefined> {
    const result = await guard(() => this.documentClient.send(new GetCommand({ TableName: this.tables.reconciliation, Key: keyOf(statementId), ConsistentRead: true })));
    if (!result.Item) return undefined;
    return { statement: JSON.parse(String(result.Item.statement)) as StoredStatement, content: String(result.Item.content) };
  }

  async listPending(limit: number): Promise<StoredStatement[]> {
    const result = await guard(() =>
      this.documentClient.send(new QueryCommand({ TableName: this.tables.reconciliation, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': pendingPartition }, Limit: limit })),
    );
    return (result.Items ?? []).map((item) => JSON.parse(String(item.statement)) as StoredStatement);
  }

  async markReconciled(statementId: string, reportId: string): Promise<void> {
    const existing = await this.get(statementId);
    if (!existing) return;
    await guard(() =>
      this.documentClient.send(
        new UpdateCommand({
          TableName: this.tables.reconciliation,
          Key: keyOf(statementId),
          UpdateExpression: 'SET #statement = :statement REMOVE gsi1pk, gsi1sk',
          ExpressionAttributeNames: { '#statement': 'statement' },
          ExpressionAttributeValues: { ':statement': JSON.stringify({ ...existing.statement, reportId }) },
        }),
      ),
    );
  }
}
