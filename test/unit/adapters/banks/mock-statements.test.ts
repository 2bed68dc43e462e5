import { MockStatementBook } from '../../../../lambdas/adapters/banks/mock-statements';
import type { MockTransfer } from '../../../../lambdas/adapters/banks/mock-bank';
import type { StatementEntry } from '../../../../lambdas/ports/bank';

const account = 'NOSTRO#BNPAFRPP#EUR';
const request = { accountId: account, bic: 'BNPAFRPP', currency: 'EUR', from: '2025-03-10T00:00:00.000Z', to: '2025-03-10T23:59:59.999Z' };

function transfer(settlementId: string, amount: string, settledAt: string | undefined, extra: Partial<MockTransfer> = {}): MockTransfer {
  return {
    instruction: { idempotencyKey: `${settlementId}:1`, settlementId, rail: 'SEPA', debtorAgentBic: 'BNPAFRPP', creditorAgentBic: 'BNPAFRPP', amount, currency: 'EUR', valueDate: '2025-03-10', reference: 'x' },
    bankReference: `MOCK-${settlementId}`,
    state: settledAt ? 'SETTLED' : 'ACCEPTED',
    statusChecks: 0,
    receivedAt: settledAt ?? '2025-03-10T10:00:00.000Z',
    ...(settledAt && { settledAt }),
    ...extra,
  };
}

async function entriesOf(statement: { entries: AsyncIterable<StatementEntry> }) {
  const entries: StatementEntry[] = [];
  for await (const entry of statement.entries) entries.push(entry);
  return entries;
}

describe('MockStatementBook', () => {
  const transfers = [
    transfer('before', '100.00', '2025-03-09T12:00:00.000Z'),
    transfer('a', '1250.00', '2025-03-10T09:00:00.000Z'),
    transfer('pending', '70.00', undefined),
    transfer('reversed', '640.00', '2025-03-10T10:00:00.000Z', { state: 'REVERSED', reversedAt: '2025-03-10T11:00:00.000Z' }),
    transfer('after', '5.00', '2025-03-11T00:00:00.000Z'),
    { ...transfer('other', '9.00', '2025-03-10T09:30:00.000Z'), instruction: { ...transfer('other', '9.00', undefined).instruction, debtorAgentBic: 'DEUTDEFF' } },
  ];

  it('books settled transfers as debits and reversals as credits, with the opening from the book and earlier bookings', async () => {
    const book = new MockStatementBook();
    book.useOpeningBalances(async (accountId) => (accountId === account ? '20000000' : '0'));
    const statement = await book.statement(transfers, request);
    expect(statement).toMatchObject({ openingBalance: '19999900.00', closingBalance: '19998650.00' });
    expect((await entriesOf(statement)).map((entry) => [entry.endToEndId, entry.amount, entry.entryReference])).toEqual([
      ['a', '-1250.00', 'MOCK-a'],
      ['reversed', '-640.00', 'MOCK-reversed'],
      ['reversed', '640.00', 'MOCK-reversedR'],
    ]);
  });

  it('applies injected discrepancies until cleared', async () => {
    const book = new MockStatementBook();
    book.inject({ kind: 'dropEntry', endToEndId: 'a' });
    book.inject({ kind: 'closingBalance', accountId: account, delta: '-0.01' });
    book.inject({ kind: 'extraEntry', accountId: account, entry: { entryReference: 'FEE', endToEndId: 'NOTPROVIDED', amount: '-25.00', bookingDate: '2025-03-10', valueDate: '2025-03-10', bookedAt: '2025-03-10T12:00:00.000Z' } });
    const statement = await book.statement(transfers, request);
    expect((await entriesOf(statement)).map((entry) => entry.endToEndId)).toEqual(['reversed', 'reversed', 'NOTPROVIDED']);
    expect(statement).toMatchObject({ openingBalance: '-100.00', closingBalance: '-125.01' });
    book.clearInjected();
    expect((await book.statement(transfers, request)).closingBalance).toBe('-1350.00');
  });
});
