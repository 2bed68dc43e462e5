/**
 * Reconciliation end to end through the store: N ledger postings on one nostro in DynamoDB Local, a statement of the
 * same N entries, one run of the use case (`runReconciliation`: run lock, balance at the period end, paged ledger
 * Query, matching, report written). Prints the run's wall time. The postings are written first (not timed).
 *
 *   npx tsx bench/reconciliation-store.ts [entries]     (default 10000)
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, toNumberValue } from '../lambdas/adapters/dynamodb/client';
import { ensureTables } from '../lambdas/adapters/dynamodb/bootstrap';
import { DynamoAccountStore } from '../lambdas/adapters/dynamodb/account-store';
import { ledgerEntryKey } from '../lambdas/adapters/dynamodb/account-store';
import { createOperationsDeps } from '../lambdas/composition';
import { tableNamesWithPrefix } from '../lambdas/adapters/dynamodb/table-definitions';
import { Money, formatAmount } from '../lambdas/domain/money';
import { startDynamoDbLocal, localCredentials, localRegion } from '../lambdas/local/dynamodb-local';
import type { BankClient, BankDirectory, StatementEntry } from '../lambdas/ports/bank';
import { noMetrics } from '../lambdas/ports';
import { runReconciliation } from '../lambdas/usecases/operations/reconcile';

const count = Number(process.argv[2] ?? 10_000);
const accountId = 'NOSTRO#BNPAFRPP#EUR';
const day = '2025-03-10';
const amountOf = (index: number) => formatAmount(new Money(-(1 + (index % 9_973))).dividedBy(100), 'EUR');
const postedAtOf = (index: number) => new Date(Date.parse(`${day}T06:00:00.000Z`) + index * 1000).toISOString();

async function main(): Promise<void> {
  const dynamo = await startDynamoDbLocal({});
  const documentClient = createDocumentClient({ endpoint: dynamo.endpoint, region: localRegion, credentials: localCredentials });
  const tables = tableNamesWithPrefix('bench-');
  try {
    const retiringIndexes = await ensureTables(documentClient as unknown as DynamoDBClient, tables);
    const opening = new Money('100000000.00');
    let balance = opening;
    const items = Array.from({ length: count }, (_, index) => {
      const entry = { accountId, postedAt: postedAtOf(index), reference: `stl-${index}`, leg: 'PAYOUT_NOSTRO' };
      balance = balance.plus(amountOf(index));
      return { ...entry, entryKey: ledgerEntryKey(entry), amount: toNumberValue(amountOf(index)), currency: 'EUR', kind: 'SETTLEMENT', valueDate: day };
    });
    const writeStarted = performance.now();
    for (let start = 0; start < items.length; start += 25) {
      await documentClient.send(new BatchWriteCommand({ RequestItems: { [tables.ledger]: items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    await documentClient.send(
      new BatchWriteCommand({
        RequestItems: {
          [tables.accounts]: [{ PutRequest: { Item: { accountId, accountType: 'NOSTRO', bicCurrency: 'BNPAFRPP#EUR', bic: 'BNPAFRPP', currency: 'EUR', balance: toNumberValue(balance), locked: toNumberValue('0'), available: toNumberValue(balance), floor: toNumberValue('0'), accountStatus: 'ACTIVE', version: 1, updatedAt: day } } }],
        },
      }),
    );
    console.log(`wrote ${count} postings in ${Math.round(performance.now() - writeStarted)} ms (not part of the run)`);
    const bank: BankClient = {
      rail: 'SWIFT',
      initiateTransfer: async () => { throw new Error('not used'); },
      getTransfer: async () => undefined,
      reverseTransfer: async () => { throw new Error('not used'); },
      statement: async (request) => ({
        accountId: request.accountId,
        currency: 'EUR',
        openingBalance: formatAmount(opening, 'EUR'),
        closingBalance: formatAmount(balance, 'EUR'),
        entries: (async function* (): AsyncGenerator<StatementEntry> {
          for (let index = 0; index < count; index++) yield { entryReference: `B${index}`, endToEndId: `stl-${index}`, amount: amountOf(index), currency: 'EUR', bookingDate: day, valueDate: day };
        })(),
      }),
    };
    const banks: BankDirectory = { forRail: () => bank };
    const ops = createOperationsDeps({ documentClient, tables, retiringIndexes, accounts: new DynamoAccountStore(documentClient, tables), banks, metrics: noMetrics, clock: { now: () => new Date() } });
    const started = performance.now();
    const report = await runReconciliation(ops, { accountId, from: `${day}T00:00:00.000Z`, to: `${day}T23:59:59.999Z` }, 'API');
    const milliseconds = Math.round(performance.now() - started);
    console.log(`reconciliation through DynamoDB Local, ${count} entries: ${milliseconds} ms, matched ${report.summary?.matched.count}, discrepancies ${report.summary?.discrepancyCount}`);
  } finally {
    documentClient.destroy();
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
