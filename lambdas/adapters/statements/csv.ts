/**
 * CSV bank statement → Statement, streamed with csv-parse. The layout is documented in docs/operations.md
 * ("CSV statement layout"); in short:
 *
 *   recordType,date,amount,currency,creditDebit,valueDate,entryReference,endToEndId
 *   OPBD,2025-03-10,1000000.00,EUR,CRDT,,,
 *   CLBD,2025-03-10,998750.00,EUR,CRDT,,,
 *   NTRY,2025-03-10,1250.00,EUR,DBIT,2025-03-10,BNK-0001,stl-0001
 *
 * A header line with exactly these columns (any order); the opening (OPBD) and closing (CLBD) balance records come
 * first, as in camt.053, so the balances are known before entries stream; then one NTRY record per booked entry.
 * Amounts are unsigned with a CRDT/DBIT indicator, as in camt.053. Errors name the line and the column.
 */
import { Readable, pipeline } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { invariant } from '../../domain/errors';
import { StatementInvalidError } from '../../domain/operations-errors';
import type { Statement, StatementEntry } from '../../ports/bank';
import { fieldLengthMax, isoDatePart, signedStatementAmount, type StatementSource, type StatementTarget } from './source';

export const csvStatementColumns = ['recordType', 'date', 'amount', 'currency', 'creditDebit', 'valueDate', 'entryReference', 'endToEndId'] as const;
type CsvColumn = (typeof csvStatementColumns)[number];
type CsvRecord = Readonly<Record<CsvColumn, string>>;
interface NumberedRecord {
  readonly record: CsvRecord;
  readonly line: number;
}

export const CsvRecordType = { opening: 'OPBD', closing: 'CLBD', entry: 'NTRY' } as const;

/** Reads the balance records, then returns a Statement whose entries continue the same stream (iterable once). */
export async function csvStatement(open: StatementSource, target: StatementTarget): Promise<Statement> {
  const records = csvRecords(open());
  const balances: Partial<Record<'OPBD' | 'CLBD', string>> = {};
  while (balances.OPBD === undefined || balances.CLBD === undefined) {
    const next = await records.next();
    if (next.done) throw new StatementInvalidError('csv', 'end of file', 'an OPBD and a CLBD record must come before the entries');
    const { record, line } = next.value;
    if (record.recordType !== CsvRecordType.opening && record.recordType !== CsvRecordType.closing) {
      await records.return(undefined);
      throw new StatementInvalidError('csv', `line ${line}, column recordType`, `"${record.recordType}" before both balances (OPBD and CLBD come first)`);
    }
    if (balances[record.recordType] !== undefined) throw new StatementInvalidError('csv', `line ${line}, column recordType`, `a second ${record.recordType}`);
    balances[record.recordType] = amountOf(record, line, target.currency);
  }
  return { accountId: target.accountId, currency: target.currency, openingBalance: balances.OPBD, closingBalance: balances.CLBD, entries: csvEntries(records, target.currency) };
}

async function* csvEntries(records: AsyncGenerator<NumberedRecord>, currency: string): AsyncGenerator<StatementEntry> {
  for await (const { record, line } of iterateOnce(records)) {
    if (record.recordType !== CsvRecordType.entry) throw new StatementInvalidError('csv', `line ${line}, column recordType`, `"${record.recordType.slice(0, 10)}" after the balances (only NTRY records follow)`);
    const bookingDate = dateOf(record, 'date', line);
    const valueDate = record.valueDate === '' ? bookingDate : dateOf(record, 'valueDate', line);
    if (record.entryReference === '') throw new StatementInvalidError('csv', `line ${line}, column entryReference`, 'is required');
    if (record.endToEndId === '') throw new StatementInvalidError('csv', `line ${line}, column endToEndId`, 'is required (NOTPROVIDED when the bank has none)');
    yield { entryReference: record.entryReference, endToEndId: record.endToEndId, amount: amountOf(record, line, currency), currency, bookingDate, valueDate };
  }
}

function iterateOnce<T>(iterator: AsyncGenerator<T>): AsyncIterable<T> {
  let used = false;
  return {
    [Symbol.asyncIterator]() {
      invariant(!used, 'a CSV statement\'s entries can be iterated once');
      used = true;
      return iterator;
    },
  };
}

/** csv-parse over the source with line numbers; its errors become StatementInvalidError naming the line. */
async function* csvRecords(source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>): AsyncGenerator<NumberedRecord> {
  const parser = parse({
    bom: true,
    columns: (header: string[]) => checkHeader(header),
    info: true,
    trim: true,
    skip_empty_lines: true,
    max_record_size: fieldLengthMax,
  });
  // pipeline destroys the parser with the source's error, which then surfaces from the iteration below.
  pipeline(Readable.from(source), parser, () => undefined);
  try {
    for await (const item of parser as AsyncIterable<{ record: CsvRecord; info: { lines: number } }>) {
      yield { record: item.record, line: item.info.lines };
    }
  } catch (error) {
    if (error instanceof StatementInvalidError) throw error;
    const csvError = error as CsvError & { lines?: number };
    throw new StatementInvalidError('csv', `line ${csvError.lines ?? '?'}`, csvError.message, { cause: error });
  } finally {
    parser.destroy();
  }
}

function checkHeader(header: string[]): CsvColumn[] {
  const missing = csvStatementColumns.filter((column) => !header.includes(column));
  const unknown = header.filter((column) => !(csvStatementColumns as readonly string[]).includes(column));
  if (unknown.length > 0) throw new StatementInvalidError('csv', 'line 1', `unknown column ${unknown.map((column) => `"${column.slice(0, 20)}"`).join(', ')}`);
  if (missing.length > 0) throw new StatementInvalidError('csv', 'line 1', `missing column ${missing.join(', ')}`);
  if (new Set(header).size !== header.length) throw new StatementInvalidError('csv', 'line 1', 'repeats a column');
  return header as CsvColumn[];
}

function amountOf(record: CsvRecord, line: number, currency: string): string {
  if (record.currency !== currency) throw new StatementInvalidError('csv', `line ${line}, column currency`, `is "${record.currency.slice(0, 10)}", the account is in ${currency}`);
  const result = signedStatementAmount(record.amount, currency, record.creditDebit);
  if ('reason' in result) {
    const column = /indicator/.test(result.reason) ? 'creditDebit' : 'amount';
    throw new StatementInvalidError('csv', `line ${line}, column ${column}`, result.reason);
  }
  return result.amount;
}

function dateOf(record: CsvRecord, column: 'date' | 'valueDate', line: number): string {
  const date = isoDatePart(record[column]);
  if (date === undefined) throw new StatementInvalidError('csv', `line ${line}, column ${column}`, `"${record[column].slice(0, 40)}" is not an ISO date`);
  return date;
}
