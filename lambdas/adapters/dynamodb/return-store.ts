/**
 * DynamoDB adapter of returns after Finalize (ports/stores.ts ReturnStore). One transaction books a return:
 *
 * - the settlement record must be COMPLETED with the returned amount and currency (ConditionCheck);
 * - a `RETURN` item in the settlement's partition, created only if absent: one return per settlement, idempotent
 *   on the bank's return id (the same id again is EXISTS, another id is CONFLICT);
 * - the payout nostro and the payer's vostro each get balance += amount, available += amount;
 * - one RETURN ledger entry per account, keyed like every posting, so balances keep reconciling with the ledger.
 */
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { InvariantViolationError, invariant } from '../../domain/errors';
import type { LedgerEntry, ReturnBooking, ReturnStore, SettlementReturn } from '../../ports/stores';
import { ledgerEntryPut } from './account-store';
import { cancellationReasons, guard, toMoney, toNumberValue, translateTransientError } from './client';
import { SortKey } from './settlement-store';
import type { TableNames } from './table-definitions';

export const returnSortKey = 'RETURN';

export class DynamoReturnStore implements ReturnStore {
  constructor(
    private readonly documentClient: DynamoDBDocumentClient,
    private readonly tables: TableNames,
  ) {}

  async bookReturn(settlementReturn: SettlementReturn): Promise<ReturnBooking> {
    invariant(settlementReturn.amount.greaterThan(0), `bookReturn: ${settlementReturn.settlementId} returns a non-positive amount`);
    const now = new Date().toISOString();
    const legs = [
      { accountId: settlementReturn.nostroAccountId, counterpartyAccountId: settlementReturn.vostroAccountId, leg: 'RETURN_NOSTRO' },
      { accountId: settlementReturn.vostroAccountId, counterpartyAccountId: settlementReturn.nostroAccountId, leg: 'RETURN_VOSTRO' },
    ];
    const entries: LedgerEntry[] = legs.map((leg) => ({
      ...leg,
      amount: settlementReturn.amount,
      currency: settlementReturn.currency,
      kind: 'RETURN',
      reference: settlementReturn.settlementId,
      postedAt: settlementReturn.returnedAt,
      valueDate: settlementReturn.returnedAt.slice(0, 10),
    }));
    // Money in equals money out: both legs credit the same amount back (nostro from the bank, vostro to the payer).
    invariant(entries[0].amount.equals(entries[1].amount), 'bookReturn: the two legs of a return must carry the same amount');
    try {
      await this.documentClient.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tables.settlements,
                Key: { pk: settlementReturn.settlementId, sk: SortKey.record },
                ConditionExpression: '#status = :completed AND amount = :amount AND currency = :currency',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':completed': 'COMPLETED', ':amount': toNumberValue(settlementReturn.amount), ':currency': settlementReturn.currency },
              },
            },
            {
              Put: {
                TableName: this.tables.settlements,
                Item: {
                  pk: settlementReturn.settlementId,
                  sk: returnSortKey,
                  itemType: 'RETURN',
                  returnId: settlementReturn.returnId,
                  amount: toNumberValue(settlementReturn.amount),
                  currency: settlementReturn.currency,
                  reasonCode: settlementReturn.reasonCode,
                  returnedAt: settlementReturn.returnedAt,
                  vostroAccountId: settlementReturn.vostroAccountId,
                  nostroAccountId: settlementReturn.nostroAccountId,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            ...legs.map((leg) => ({
              Update: {
                TableName: this.tables.accounts,
                Key: { accountId: leg.accountId },
                UpdateExpression: 'SET balance = balance + :amount, available = available + :amount, version = version + :one, updatedAt = :now',
                ConditionExpression: 'attribute_exists(accountId) AND currency = :currency',
                ExpressionAttributeValues: { ':amount': toNumberValue(settlementReturn.amount), ':one': 1, ':now': now, ':currency': settlementReturn.currency },
              },
            })),
            ...entries.map((entry) => ledgerEntryPut(this.tables.ledger, entry)),
          ],
        }),
      );
      return 'BOOKED';
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw translateTransientError(error);
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'NOT_APPLICABLE';
      if (reasons[1]?.Code === 'ConditionalCheckFailed') {
        const old = reasons[1].Item ? unmarshall(reasons[1].Item as Record<string, AttributeValue>, { wrapNumbers: true }) : undefined;
        return old?.returnId === settlementReturn.returnId ? 'EXISTS' : 'CONFLICT';
      }
      if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) {
        // An account missing or in another currency, or a ledger key taken: the books disagree with the record.
        throw new InvariantViolationError(`return ${settlementReturn.returnId} of ${settlementReturn.settlementId}: an account or ledger condition failed`, { cause: error });
      }
      throw translateTransientError(error);
    }
  }

  async getReturn(settlementId: string): Promise<SettlementReturn | undefined> {
    const result = await guard(() => this.documentClient.send(new GetCommand({ TableName: this.tables.settlements, Key: { pk: settlementId, sk: returnSortKey }, ConsistentRead: true })));
    const item = result.Item;
    if (!item) return undefined;
    return {
      settlementId,
      returnId: String(item.returnId),
      amount: toMoney(item.amount),
      currency: String(item.currency),
      reasonCode: String(item.reasonCode),
      returnedAt: String(item.returnedAt),
      vostroAccountId: String(item.vostroAccountId),
      nostroAccountId: String(item.nostroAccountId),
    };
  }
}
