import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { camt053Statement, readCamt053Headers } from '../../../../lambdas/adapters/statements/camt053';
import { StatementInvalidError } from '../../../../lambdas/domain/operations-errors';
import type { StatementEntry } from '../../../../lambdas/ports/bank';

const samplePath = join(__dirname, '../../../fixtures/camt053-sample.xml');
const sample = readFileSync(samplePath, 'utf8');
const eurTarget = { accountId: 'NOSTRO#DEUTDEFF#EUR', currency: 'EUR' };

async function collect(entries: AsyncIterable<StatementEntry>): Promise<StatementEntry[]> {
  const result: StatementEntry[] = [];
  for await (const entry of entries) result.push(entry);
  return result;
}

/** The sample with one substitution, read from a string source. */
function variant(search: string | RegExp, replacement: string) {
  const text = sample.replace(search, replacement);
  expect(text).not.toBe(sample);
  return () => [text];
}

async function failureOf(open: () => Iterable<string> | AsyncIterable<string>, target = eurTarget): Promise<StatementInvalidError> {
  try {
    const statement = await camt053Statement(open, target);
    await collect(statement.entries);
  } catch (error) {
    expect(error).toBeInstanceOf(StatementInvalidError);
    return error as StatementInvalidError;
  }
  throw new Error('expected a StatementInvalidError');
}

describe('camt053Statement', () => {
  it('reads the balances and booked entries of the EUR statement, credits and debits, splitting a batch', async () => {
    const statement = await camt053Statement(() => createReadStream(samplePath, { highWaterMark: 512 }), eurTarget);
    expect(statement).toMatchObject({ accountId: 'NOSTRO#DEUTDEFF#EUR', currency: 'EUR', openingBalance: '1500000.00', closingBalance: '1647249.50' });
    expect(await collect(statement.entries)).toEqual([
      { entryReference: 'DEUT-0310-000101', endToEndId: 'stl-20250310-0001', amount: '-1250.00', currency: 'EUR', bookingDate: '2025-03-10', valueDate: '2025-03-10' },
      { entryReference: 'DEUT-0310-000102', endToEndId: 'stl-20250310-0002', amount: '-98000.50', currency: 'EUR', bookingDate: '2025-03-10', valueDate: '2025-03-10' },
      { entryReference: 'DEUT-0310-000103', endToEndId: 'mov-20250310-0001', amount: '250000.00', currency: 'EUR', bookingDate: '2025-03-10', valueDate: '2025-03-10' },
      { entryReference: 'DEUT-0310-000104/1', endToEndId: 'stl-20250310-0003', amount: '-1500.00', currency: 'EUR', bookingDate: '2025-03-10', valueDate: '2025-03-10' },
      { entryReference: 'DEUT-0310-000104/2', endToEndId: 'stl-20250310-0004', amount: '-2000.00', currency: 'EUR', bookingDate: '2025-03-10', valueDate: '2025-03-10' },
    ]);
  });

  it('selects the USD statement by currency, takes PRCD as the opening, and marks a missing EndToEndId NOTPROVIDED', async () => {
    const statement = await camt053Statement(() => [sample], { accountId: 'NOSTRO#CHASUS33#USD', currency: 'USD', account: '0412345678' });
    expect(statement).toMatchObject({ openingBalance: '2000000.00', closingBalance: '2924975.00' });
    const entries = await collect(statement.entries);
    expect(entries.map((entry) => [entry.endToEndId, entry.amount])).toEqual([
      ['stl-20250310-0101', '-75000.00'],
      ['mov-20250310-0002', '1000000.00'],
      ['NOTPROVIDED', '-25.00'],
    ]);
  });

  it('lists every Stmt header in document order', async () => {
    const headers = await readCamt053Headers(() => [sample]);
    expect(headers.map((header) => [header.index, header.id, header.account, header.servicerBic, header.currency])).toEqual([
      [1, 'STMT-EUR-20250310-01', 'DE89370400440532013000', 'DEUTDEFFXXX', 'EUR'],
      [2, 'STMT-USD-20250310-01', '0412345678', 'CHASUS33XXX', 'USD'],
    ]);
  });

  it('joins several daily statements of one account: first opening, last closing, all entries', async () => {
    const eurStatement = sample.slice(sample.indexOf('<Stmt>'), sample.indexOf('</Stmt>') + '</Stmt>'.length);
    const nextDay = eurStatement
      .replace('STMT-EUR-20250310-01', 'STMT-EUR-20250311-01')
      .replace('<Amt Ccy="EUR">1500000.00</Amt>', '<Amt Ccy="EUR">1647249.50</Amt>')
      .replace(/<Cd>CLBD<\/Cd>\s*<\/CdOrPrtry>\s*<\/Tp>\s*<Amt Ccy="EUR">1647249.50<\/Amt>/, '<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1794499.00</Amt>')
      .replace(/DEUT-0310-/g, 'DEUT-0311-')
      .replace(/stl-20250310-/g, 'stl-20250311-')
      .replace(/mov-20250310-/g, 'mov-20250311-');
    const document = sample.replace('</Stmt>', `</Stmt>\n${nextDay}`);
    const statement = await camt053Statement(() => [document], eurTarget);
    expect(statement).toMatchObject({ openingBalance: '1500000.00', closingBalance: '1794499.00' });
    const entries = await collect(statement.entries);
    expect(entries).toHaveLength(10);
    expect(entries[9].endToEndId).toBe('stl-20250311-0004');
  });

  it('reads camt.053.001.02 style status text and AmtDtls amounts', async () => {
    const open = variant(/<Sts>\s*<Cd>BOOK<\/Cd>\s*<\/Sts>/g, '<Sts>BOOK</Sts>');
    const statement = await camt053Statement(open, eurTarget);
    expect(await collect(statement.entries)).toHaveLength(5);
  });

  it('reads a UTF-8 byte stream split inside a multi-byte character', async () => {
    const bytes = Buffer.from(sample.replace('INV 2025-0042 settlement', 'Überweisung für Rechnung 42'), 'utf8');
    const split = bytes.indexOf(Buffer.from('Ü', 'utf8')) + 1;
    const statement = await camt053Statement(() => [bytes.subarray(0, split), bytes.subarray(split)], eurTarget);
    expect(await collect(statement.entries)).toHaveLength(5);
  });

  describe('refuses a malformed statement naming the line and element', () => {
    it('a bad amount', async () => {
      const error = await failureOf(variant('<Amt Ccy="EUR">98000.50</Amt>', '<Amt Ccy="EUR">98,000.50</Amt>'));
      expect(error.message).toMatch(/^camt\.053 line \d+, Stmt\[1\]\/Ntry\[2\]\/Amt: "98,000.50" is not an unsigned decimal amount$/);
    });

    it('too many decimals for the currency', async () => {
      const error = await failureOf(variant('<Amt Ccy="EUR">1250.00</Amt>\n        <CdtDbtInd>DBIT', '<Amt Ccy="EUR">1250.005</Amt>\n        <CdtDbtInd>DBIT'));
      expect(error.message).toContain('Stmt[1]/Ntry[1]/Amt: EUR allows 2 decimal places');
    });

    it('a missing credit/debit indicator', async () => {
      const error = await failureOf(variant(/(<NtryRef>DEUT-0310-000103<\/NtryRef>\s*<Amt Ccy="EUR">250000.00<\/Amt>\s*)<CdtDbtInd>CRDT<\/CdtDbtInd>/, '$1'));
      expect(error.location).toMatch(/Stmt\[1\]\/Ntry\[3\]$/);
      expect(error.reason).toBe('has no CdtDbtInd');
    });

    it('no closing balance', async () => {
      const error = await failureOf(variant(/<Cd>CLBD<\/Cd>/, '<Cd>ITBD</Cd>'));
      expect(error.message).toContain('Stmt[1]/Ntry: has no closing balance (Bal of type CLBD)');
    });

    it('a batch that does not add up', async () => {
      const error = await failureOf(variant('<Amt Ccy="EUR">2000.00</Amt>', '<Amt Ccy="EUR">2000.01</Amt>'));
      expect(error.message).toContain('Stmt[1]/Ntry[4]: batch Ntry: TxDtls amounts do not add up to -3500.00');
    });

    it('an entry in another currency', async () => {
      const error = await failureOf(variant('<Amt Ccy="EUR">98000.50</Amt>\n        <CdtDbtInd>', '<Amt Ccy="USD">98000.50</Amt>\n        <CdtDbtInd>'));
      expect(error.reason).toBe('Ntry amount is in USD, the account in EUR');
    });

    it('a bad date', async () => {
      const error = await failureOf(variant('<Dt>2025-03-10</Dt>\n        </ValDt>', '<Dt>2025-02-30</Dt>\n        </ValDt>'));
      expect(error.message).toContain('Ntry[1]/ValDt/Dt: "2025-02-30" is not an ISO date');
    });

    it('XML that is not well formed', async () => {
      const error = await failureOf(variant('</NtryRef>', '</NtryReff>'));
      expect(error.message).toBe('camt.053 line 84, column 44: XML is not well formed: unexpected close tag.');
    });

    it('another message type', async () => {
      const error = await failureOf(variant('camt.053.001.08', 'camt.054.001.08'));
      expect(error.reason).toContain('root is not a camt.053 Document');
    });

    it('a DOCTYPE (no entity expansion from statements)', async () => {
      const error = await failureOf(variant('<Document', '<!DOCTYPE Document [<!ENTITY x "y">]>\n<Document'));
      expect(error.reason).toBe('a DOCTYPE is not allowed in a statement');
    });

    it('a truncated file', async () => {
      const error = await failureOf(() => [sample.slice(0, sample.indexOf('<Ntry>') + 200)]);
      expect(error.message).toMatch(/unclosed tag|before <\/Document>/);
    });

    it('no statement for the account', async () => {
      const error = await failureOf(() => [sample], { accountId: 'NOSTRO#DEUTDEFF#GBP', currency: 'GBP' });
      expect(error.message).toBe('camt.053 document: holds no Stmt for GBP');
    });
  });
});
