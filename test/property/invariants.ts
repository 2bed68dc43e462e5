/**
 * The money invariants of the recovery proofs (property and crash tests), on top of test/support/invariants.ts:
 * the engine's books against the bank's own record, each completed settlement posted exactly once for its amount,
 * Σ nostro − Σ vostro moved only by fund movements, and nothing left half-done once the engine is quiet.
 * Takes the document client and table names only, so a test can check an engine running in another process.
 */
import { withRecordParts } from '../support/settlement-items';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Money } from '../../lambdas/domain/money';
import { toMoney } from '../../lambdas/adapters/dynamodb/client';
import { DynamoMockBankStore } from '../../lambdas/adapters/dynamodb/mock-bank-store';
import type { TableNames } from '../../lambdas/adapters/dynamodb/table-definitions';
import { bookSummary, bookViolations, scanAll, type BookSummary } from '../support/invariants';
import type { TestEngine } from '../support/engine';

export interface BookAccess {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tables: TableNames;
}

/** test/support/invariants.ts reads only these two fields of an engine. */
const asEngine = (access: BookAccess) => access as unknown as TestEngine;

export const summaryOf = (access: BookAccess): Promise<BookSummary> => bookSummary(asEngine(access));

export interface QuietBookExpectations {
  /** Σ nostro − Σ vostro per currency before the run. */
  readonly baseline: BookSummary;
  /** Net fund movements posted on vostros during the run, per currency (fund-in positive). */
  readonly vostroMovements: Readonly<Record<string, Money>>;
  /** Whether the retry job has drained every retry (false when FAILED-and-retryable settlements may wait for retryAt). */
  readonly retriesDrained?: boolean;
}

/**
 * Every violation found once no execution runs and the jobs have drained: the lead's book checks with every
 * settlement terminal or parked, plus the checks below.
 */
export async function quietBookViolations(access: BookAccess, expected: QuietBookExpectations): Promise<string[]> {
  const violations = await bookViolations(asEngine(access), { allSettled: true });
  const items = withRecordParts(await scanAll(asEngine(access), 'settlements'));
  const ledger = await scanAll(asEngine(access), 'ledger');
  const transfers = await new DynamoMockBankStore(access.documentClient, access.tables).list();
  const records = items.filter((item) => item.sk === 'RECORD');
  for (const record of records) {
    const id = String(record.pk);
    const amount = toMoney(record.amount);
    const partition = items.filter((item) => item.pk === id);
    const lock = partition.find((item) => item.sk === 'LOCK');
    if (lock && !toMoney(lock.amount).equals(amount)) violations.push(`${id}: lock of ${toMoney(lock.amount).toFixed()} for a settlement of ${amount.toFixed()}`);
    const atBank = transfers.filter((transfer) => transfer.instruction.settlementId === id);
    const outAtBank = atBank.filter((transfer) => transfer.state === 'SETTLED' || transfer.state === 'ACCEPTED');
    if (record.status === 'COMPLETED') {
      const postings = ledger.filter((entry) => entry.kind === 'SETTLEMENT' && entry.reference === id);
      const posted = postings.reduce((sum: Money, entry) => sum.plus(toMoney(entry.amount)), new Money(0));
      if (!posted.equals(amount.times(-2))) violations.push(`${id}: COMPLETED but its postings sum to ${posted.toFixed()} (expected ${amount.times(-2).toFixed()})`);
      const finalKey = `${id}:${String(record.attempt)}`;
      if (outAtBank.length !== 1 || outAtBank[0].instruction.idempotencyKey !== finalKey || outAtBank[0].state !== 'SETTLED') {
        violations.push(`${id}: COMPLETED but the bank holds ${describe(atBank)} (expected exactly ${finalKey} SETTLED)`);
      }
    } else if (!record.parked && outAtBank.length > 0) {
      // Money out at the bank for a settlement the engine calls failed: lost money.
      violations.push(`${id}: ${String(record.status)} (not parked) but the bank holds ${describe(outAtBank)}`);
    }
    if (expected.retriesDrained !== false && record.status === 'FAILED' && record.retryable === true && !record.parked) violations.push(`${id}: FAILED and retryable after the jobs drained (retries left undone)`);
    if ((record.status === 'COMPLETED' || record.status === 'FAILED') && !record.parked) {
      const open = partition.filter((item) => item.itemType === 'OPERATION' && (item.operationState === 'STARTED' || item.operationState === 'PARKED'));
      if (open.length > 0) violations.push(`${id}: ${String(record.status)} with operation(s) still ${open.map((item) => `${String(item.sk)}=${String(item.operationState)}`).join(', ')}`);
    }
  }
  const summary = await summaryOf(access);
  for (const currency of new Set([...Object.keys(summary.nostroMinusVostro), ...Object.keys(expected.baseline.nostroMinusVostro)])) {
    const before = new Money(expected.baseline.nostroMinusVostro[currency] ?? '0');
    const want = before.minus(expected.vostroMovements[currency] ?? 0);
    const got = new Money(summary.nostroMinusVostro[currency] ?? '0');
    if (!got.equals(want)) violations.push(`Σ nostro − Σ vostro in ${currency} is ${got.toFixed()}, expected ${want.toFixed()} (settlements must not change it)`);
  }
  return violations;
}

function describe(transfers: readonly { instruction: { idempotencyKey: string }; state: string }[]): string {
  return transfers.length === 0 ? 'nothing' : transfers.map((transfer) => `${transfer.instruction.idempotencyKey}=${transfer.state}`).join(', ');
}
