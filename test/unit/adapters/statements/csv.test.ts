import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvStatement } from '../../../../lambdas/adapters/statements/csv';
import { StatementInvalidError } from '../../../../lambdas/domain/operations-errors';
import type { StatementEntry } from '../../../../lambdas/ports/bank';

const samplePath = join(__dirname, '../../../fixtures/statement-sample.csv');
const sample = readFileSync(samplePath, 'utf8');
const target = { accountId: 'NOSTRO#DEUTDEFF#EUR', currency: 'EUR' };

async function collect(entries: AsyncIterable<StatementEntry>): Promise<StatementEntry[]> {
  const result: StatementEntry[] = [];
  for await (const entry of entries) result.push(entry);
  return result;
}

async function failureOf(text: string): Promise<StatementInvalidError> {
  try {
    const statement = await csvStatement(() => [text], target);
    await collect(statement.entries);
  } catch (error) {
    expect(error).toBeInstanceOf(StatementInvalidError);
    return error as StatementInvalidError;
  }
  throw new Error('expected a StatementInvalidError');
}

describe('csvStatement', () => {
  it('reads balances first, then signed entries, streaming from a file', async () => {
    const statement = await csvStatement(() => createReadStream(samplePath, { highWaterMark: 64 }), target);
    expect(statement).toMatchObject({ accountId: 'NOSTRO#DEUTDEFF#EUR', currency: 'EUR', openingBalance: '1500000.00', closingBalance: '1647249.50' });
    const entries = await collect(statement.entries);
    expect(entries.map((entry) => [entry.endToEndId, entry.amount])).toEqual([
      ['stl-20250310-0001', '-1250.00'],
      ['stl-20250310-0002', '-98000.50'],
      ['mov-20250310-0001', '250000.00'],
      ['stl-20250310-0003', '-1500.00'],
      ['stl-20250310-0004', '-2000.00'],
    ]);
    expect(entries[0]).toEqual({ entryReference: 'DEUT-0310-000101', endToEndId: 'stl-20250310-0001', amount: '-1250.00', currency: 'EUR', bookingDate: '2025-03-10', valueDate: '2025-03-10' });
  });

  it('accepts columns in any order, a byte-order mark, blank lines and an empty value date (= booking date)', async () => {
    const text = '\uFEFFendToEndId,recordType,date,amount,currency,creditDebit,valueDate,entryReference\n,CLBD,2025-03-10,90.00,EUR,CRDT,,\n,OPBD,2025-03-10,100,EUR,CRDT,,\n\nx-1,NTRY,2025-03-10,10,EUR,DBIT,,B1\n';
    const statement = await csvStatement(() => [text], target);
    expect(statement).toMatchObject({ openingBalance: '100.00', closingBalance: '90.00' });
    expect(await collect(statement.entries)).toEqual([{ entryReference: 'B1', endToEndId: 'x-1', amount: '-10.00', currency: 'EUR', bookingDate: '2025-03-10', valueDate: '2025-03-10' }]);
  });

  it('reads a negative (debit) balance', async () => {
    const statement = await csvStatement(() => [sample.replace('OPBD,2025-03-10,1500000.00,EUR,CRDT', 'OPBD,2025-03-10,1500000.00,EUR,DBIT')], target);
    expect(statement.openingBalance).toBe('-1500000.00');
  });

  describe('refuses a malformed file naming the line and column', () => {
    it.each([
      ['a bad amount', sample.replace('98000.50,EUR', '98 000.50,EUR'), 'csv line 5, column amount: "98 000.50" is not an unsigned decimal amount'],
      ['a signed amount', sample.replace('98000.50,EUR', '-98000.50,EUR'), 'csv line 5, column amount: "-98000.50" is not an unsigned decimal amount'],
      ['a bad indicator', sample.replace('250000.00,EUR,CRDT', '250000.00,EUR,C'), 'csv line 6, column creditDebit: credit/debit indicator "C" is not CRDT or DBIT'],
      ['another currency', sample.replace('1500.00,EUR', '1500.00,USD'), 'csv line 7, column currency: is "USD", the account is in EUR'],
      ['a bad date', sample.replace('2025-03-10,2000.00', '10/03/2025,2000.00'), 'csv line 8, column date: "10/03/2025" is not an ISO date'],
      ['an entry before the balances', sample.replace(/^(.*\n)(OPBD.*\n)(CLBD.*\n)(NTRY.*\n)/, '$1$4$2$3'), 'csv line 2, column recordType: "NTRY" before both balances (OPBD and CLBD come first)'],
      ['a balance after the entries', `${sample}CLBD,2025-03-10,1.00,EUR,CRDT,,,\n`, 'csv line 9, column recordType: "CLBD" after the balances (only NTRY records follow)'],
      ['a missing end-to-end id', sample.replace(',stl-20250310-0002', ','), 'csv line 5, column endToEndId: is required (NOTPROVIDED when the bank has none)'],
      ['an unknown column', sample.replace('endToEndId', 'endToEndRef'), 'csv line 1: unknown column "endToEndRef"'],
      ['too many decimals', sample.replace('1250.00,EUR', '1250.001,EUR'), 'csv line 4, column amount: EUR allows 2 decimal places, "1250.001" has more'],
    ])('%s', async (_, text, message) => {
      expect((await failureOf(text)).message).toBe(message);
    });

    it('a record with the wrong number of fields (csv-parse error with its line)', async () => {
      const error = await failureOf(sample.replace('DEUT-0310-000103,', 'DEUT-0310-000103,extra,'));
      expect(error.message).toMatch(/^csv line 6: Invalid Record Length/);
    });

    it('no balances at all', async () => {
      expect((await failureOf('recordType,date,amount,currency,creditDebit,valueDate,entryReference,endToEndId\n')).message).toBe('csv end of file: an OPBD and a CLBD record must come before the entries');
    });
  });
});
