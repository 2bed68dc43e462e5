/**
 * ISO 20022 camt.053 (BankToCustomerStatement, any version 001.02 to 001.13) → Statement, streamed.
 *
 * The XML is read with saxes, a maintained non-validating streaming parser: one chunk at a time, events turned into
 * entries as each <Ntry> closes, so memory stays at one chunk plus one entry however long the statement is. DTDs
 * are refused (no entity expansion from the file), text per element is bounded.
 *
 * What is read (paths under Document/BkToCstmrStmt/Stmt):
 *   Id, Acct/Id/IBAN | Acct/Id/Othr/Id, Acct/Ccy, Acct/Svcr/FinInstnId/BICFI | BIC
 *   Bal: Tp/CdOrPrtry/Cd (OPBD or PRCD = opening, CLBD = closing), Amt@Ccy, CdtDbtInd, Dt/Dt | Dt/DtTm
 *   Ntry: NtryRef, Amt@Ccy, CdtDbtInd, Sts | Sts/Cd, BookgDt/Dt | DtTm, ValDt/Dt | DtTm, AcctSvcrRef,
 *         NtryDtls/TxDtls: Refs/EndToEndId, Amt@Ccy | AmtDtls/TxAmt/Amt@Ccy, CdtDbtInd
 * Only booked entries (BOOK) count: pending and information entries are not in the booked balance. A batch entry
 * with several TxDtls becomes one StatementEntry per transaction (they must add up to the entry). An entry without
 * an EndToEndId gets "NOTPROVIDED", the ISO placeholder, and will show as missing in the ledger.
 *
 * The schema puts every Bal before the first Ntry, so a statement's opening and closing balances are known before
 * its entries stream. A file holding several Stmt for the requested account (daily statements over a period) is
 * read twice: once for the balances, once for the entries (the source is re-openable for that reason).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { Money } from '../../domain/money';
import { StatementInvalidError } from '../../domain/operations-errors';
import type { Statement, StatementEntry } from '../../ports/bank';
import { fieldLengthMax, isoDatePart, signedStatementAmount, type StatementSource, type StatementTarget } from './source';

export const camt053NamespacePrefix = 'urn:iso:std:iso:20022:tech:xsd:camt.053.';
/** Placeholder ISO 20022 uses for an end-to-end reference the originator did not give. */
export const endToEndIdNotProvided = 'NOTPROVIDED';
export const elementDepthMax = 32;
export const transactionsPerEntryMax = 10_000;

/** The balances and identification of one <Stmt>. */
export interface Camt053StatementHeader {
  /** 1-based position of the Stmt in the document. */
  readonly index: number;
  readonly id: string;
  /** IBAN or proprietary account id; undefined when the Stmt carries neither. */
  readonly account: string | undefined;
  readonly servicerBic: string | undefined;
  readonly currency: string;
  readonly openingBalance: string;
  readonly closingBalance: string;
  readonly openingDate: string | undefined;
  readonly closingDate: string | undefined;
}

type Camt053Event = { readonly type: 'header'; readonly header: Camt053StatementHeader } | { readonly type: 'entry'; readonly statementIndex: number; readonly entry: StatementEntry };

/** The headers of every Stmt in the document, in order (reads the whole file once, keeps no entry). */
export async function readCamt053Headers(open: StatementSource): Promise<Camt053StatementHeader[]> {
  const headers: Camt053StatementHeader[] = [];
  for await (const event of camt053Events(open(), { entries: false })) {
    if (event.type === 'header') headers.push(event.header);
  }
  return headers;
}

/**
 * The Statement for one account from a camt.053 document: the Stmt elements for the target's currency (and account
 * identification, when given), opening balance of the first, closing balance of the last, their booked entries.
 */
export async function camt053Statement(open: StatementSource, target: StatementTarget): Promise<Statement> {
  const headers = await readCamt053Headers(open);
  const selected = headers.filter((header) => header.currency === target.currency && (target.account === undefined || header.account === target.account));
  const describe = `${target.currency}${target.account ? ` account ${target.account}` : ''}`;
  if (selected.length === 0) throw new StatementInvalidError('camt.053', 'document', `holds no Stmt for ${describe}`);
  const accounts = new Set(selected.map((header) => header.account));
  if (accounts.size > 1) throw new StatementInvalidError('camt.053', 'document', `holds ${describe} statements of several accounts (${[...accounts].join(', ')}); name the account`);
  const selectedByIndex = new Map(selected.map((header) => [header.index, header]));
  return {
    accountId: target.accountId,
    currency: target.currency,
    openingBalance: selected[0].openingBalance,
    closingBalance: selected[selected.length - 1].closingBalance,
    entries: selectedEntries(open, selectedByIndex),
  };
}

async function* selectedEntries(open: StatementSource, selected: ReadonlyMap<number, Camt053StatementHeader>): AsyncGenerator<StatementEntry> {
  for await (const event of camt053Events(open(), { entries: true })) {
    if (event.type === 'header') {
      const expected = selected.get(event.header.index);
      // The second pass must see the document the first pass saw.
      if (expected !== undefined && JSON.stringify(expected) !== JSON.stringify(event.header)) {
        throw new StatementInvalidError('camt.053', `Stmt[${event.header.index}]`, 'changed between the balance pass and the entry pass');
      }
    } else if (selected.has(event.statementIndex)) {
      yield event.entry;
    }
  }
}

/** Streams header and entry events; at most one chunk's worth of events is buffered. */
async function* camt053Events(source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>, options: { entries: boolean }): AsyncGenerator<Camt053Event> {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const reader = new Camt053Reader(parser, options.entries);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of source) {
    writeChunk(parser, () => (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })));
    yield* reader.drain();
  }
  writeChunk(parser, () => decoder.decode());
  try {
    parser.close();
  } catch (error) {
    throw asStatementError(parser, error);
  }
  reader.finish();
  yield* reader.drain();
}

function writeChunk(parser: SaxesParser<{ xmlns: true; position: true }>, text: () => string): void {
  try {
    parser.write(text());
  } catch (error) {
    throw asStatementError(parser, error);
  }
}

function asStatementError(parser: SaxesParser<{ xmlns: true; position: true }>, error: unknown): Error {
  if (error instanceof StatementInvalidError) return error;
  if (error instanceof TypeError) return new StatementInvalidError('camt.053', `line ${parser.line}`, 'is not valid UTF-8', { cause: error });
  // saxes messages read "[file:]line:column: reason".
  const message = error instanceof Error ? error.message : String(error);
  const position = /^(?:.*:)?(\d+):(\d+): (.*)$/s.exec(message);
  if (position === null) return new StatementInvalidError('camt.053', `line ${parser.line}`, message, { cause: error });
  return new StatementInvalidError('camt.053', `line ${position[1]}, column ${position[2]}`, `XML is not well formed: ${position[3]}`, { cause: error });
}

interface BalanceFields {
  code?: string;
  amount?: string;
  currency?: string;
  creditDebit?: string;
  date?: string;
}
interface BalanceValue {
  readonly amount: string;
  readonly currency: string;
  readonly date: string | undefined;
}
interface StatementFields {
  readonly index: number;
  id?: string;
  account?: string;
  servicerBic?: string;
  currency?: string;
  opening?: BalanceValue;
  closing?: BalanceValue;
  headerEmitted: boolean;
  entryCount: number;
}
interface TransactionFields {
  endToEndId?: string;
  amount?: string;
  currency?: string;
  creditDebit?: string;
}
interface EntryFields {
  readonly index: number;
  reference?: string;
  servicerReference?: string;
  amount?: string;
  currency?: string;
  creditDebit?: string;
  status?: string;
  bookingDate?: string;
  valueDate?: string;
  readonly transactions: TransactionFields[];
}

/** Depths of the elements that open a context: Document=1, BkToCstmrStmt=2, Stmt=3, Bal/Ntry=4, TxDtls=6. */
const Depth = { document: 1, group: 2, statement: 3, statementChild: 4, transaction: 6 } as const;

class Camt053Reader {
  private readonly stack: string[] = [];
  private text = '';
  private amountCurrency: string | undefined;
  private statementCount = 0;
  private documentClosed = false;
  private statement: StatementFields | undefined;
  private balance: BalanceFields | undefined;
  private entry: EntryFields | undefined;
  private transaction: TransactionFields | undefined;
  private events: Camt053Event[] = [];

  constructor(
    private readonly parser: SaxesParser<{ xmlns: true; position: true }>,
    private readonly readEntries: boolean,
  ) {
    parser.on('doctype', () => this.fail('a DOCTYPE is not allowed in a statement'));
    parser.on('xmldecl', (declaration) => {
      if (declaration.encoding !== undefined && !/^utf-?8$/i.test(declaration.encoding)) this.fail(`encoding ${declaration.encoding} is not UTF-8`);
    });
    parser.on('opentag', (tag) => this.open(tag));
    parser.on('text', (text) => this.appendText(text));
    parser.on('cdata', (text) => this.appendText(text));
    parser.on('closetag', () => this.close());
  }

  /** Events produced since the last call. */
  drain(): Camt053Event[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  finish(): void {
    if (!this.documentClosed) this.fail('the document ends before </Document>');
    if (this.statementCount === 0) this.fail('holds no Stmt');
  }

  private open(tag: SaxesTagNS): void {
    this.stack.push(tag.local);
    this.text = '';
    const depth = this.stack.length;
    if (depth > elementDepthMax) this.fail(`nests deeper than ${elementDepthMax} elements`);
    if (depth === Depth.document && (tag.local !== 'Document' || !tag.uri.startsWith(camt053NamespacePrefix))) this.fail(`root is not a camt.053 Document (namespace "${tag.uri}")`);
    if (depth === Depth.group && tag.local !== 'BkToCstmrStmt') this.fail('expected BkToCstmrStmt');
    if (tag.local === 'Amt') this.amountCurrency = tag.attributes.Ccy?.value;
    if (depth === Depth.statement && tag.local === 'Stmt') {
      this.statementCount += 1;
      this.statement = { index: this.statementCount, headerEmitted: false, entryCount: 0 };
    }
    if (this.statement === undefined || (depth !== Depth.statementChild && depth !== Depth.transaction)) return;
    if (depth === Depth.statementChild && tag.local === 'Bal') {
      if (this.statement.headerEmitted) this.fail('a Bal follows an Ntry (the schema puts balances first)');
      this.balance = {};
    } else if (depth === Depth.statementChild && tag.local === 'Ntry') {
      this.emitHeader(this.statement);
      this.statement.entryCount += 1;
      this.entry = { index: this.statement.entryCount, transactions: [] };
    } else if (depth === Depth.transaction && tag.local === 'TxDtls' && this.entry !== undefined && this.stack[Depth.statementChild] === 'NtryDtls') {
      if (this.entry.transactions.length >= transactionsPerEntryMax) this.fail(`an entry has more than ${transactionsPerEntryMax} TxDtls`);
      this.transaction = {};
    }
  }

  private appendText(text: string): void {
    this.text += text;
    if (this.text.length > fieldLengthMax) this.fail(`an element's text is longer than ${fieldLengthMax} characters`);
  }

  private close(): void {
    const depth = this.stack.length;
    const text = this.text.trim();
    this.text = '';
    if (depth === Depth.document) this.documentClosed = true;
    if (this.transaction !== undefined) this.closeInTransaction(depth, text);
    else if (this.entry !== undefined) this.closeInEntry(depth, text);
    else if (this.balance !== undefined) this.closeInBalance(depth, text);
    else if (this.statement !== undefined) this.closeInStatement(depth, text);
    this.stack.pop();
  }

  private relative(depth: number): string {
    return this.stack.slice(depth).join('/');
  }

  private closeInTransaction(depth: number, text: string): void {
    const transaction = this.transaction as TransactionFields;
    const path = this.relative(Depth.transaction);
    if (path === 'Refs/EndToEndId') transaction.endToEndId = text;
    else if (path === 'Amt' || (path === 'AmtDtls/TxAmt/Amt' && transaction.amount === undefined)) {
      transaction.amount = this.checkedAmountText(text);
      transaction.currency = this.amountCurrency;
    } else if (path === 'CdtDbtInd') transaction.creditDebit = text;
    else if (depth === Depth.transaction) {
      this.entry?.transactions.push(transaction);
      this.transaction = undefined;
    }
  }

  private closeInEntry(depth: number, text: string): void {
    const entry = this.entry as EntryFields;
    const path = this.relative(Depth.statementChild);
    if (path === 'NtryRef') entry.reference = text;
    else if (path === 'AcctSvcrRef') entry.servicerReference = text;
    else if (path === 'Amt') {
      entry.amount = this.checkedAmountText(text);
      entry.currency = this.amountCurrency;
    } else if (path === 'CdtDbtInd') entry.creditDebit = text;
    else if (path === 'Sts' || path === 'Sts/Cd') entry.status = text || entry.status;
    else if (path === 'BookgDt/Dt' || path === 'BookgDt/DtTm') entry.bookingDate = this.date(text);
    else if (path === 'ValDt/Dt' || path === 'ValDt/DtTm') entry.valueDate = this.date(text);
    else if (depth === Depth.statementChild) {
      if (this.readEntries) this.emitEntries(entry);
      this.entry = undefined;
    }
  }

  private closeInBalance(depth: number, text: string): void {
    const balance = this.balance as BalanceFields;
    const statement = this.statement as StatementFields;
    const path = this.relative(Depth.statementChild);
    if (path === 'Tp/CdOrPrtry/Cd') balance.code = text;
    else if (path === 'Amt') {
      balance.amount = this.checkedAmountText(text);
      balance.currency = this.amountCurrency;
    } else if (path === 'CdtDbtInd') balance.creditDebit = text;
    else if (path === 'Dt/Dt' || path === 'Dt/DtTm') balance.date = this.date(text);
    else if (depth === Depth.statementChild) {
      const value = (): BalanceValue => ({ amount: this.amount(balance.amount, balance.currency, balance.creditDebit), currency: balance.currency as string, date: balance.date });
      // PRCD (previously closed booked) serves as the opening balance when a bank sends it instead of OPBD.
      if (balance.code === 'OPBD' || (balance.code === 'PRCD' && statement.opening === undefined)) statement.opening = value();
      else if (balance.code === 'CLBD') statement.closing = value();
      this.balance = undefined;
    }
  }

  private closeInStatement(depth: number, text: string): void {
    const statement = this.statement as StatementFields;
    const path = this.relative(Depth.statement);
    if (path === 'Id') statement.id = text;
    else if (path === 'Acct/Id/IBAN' || path === 'Acct/Id/Othr/Id') statement.account = text;
    else if (path === 'Acct/Ccy') statement.currency = text;
    else if (path === 'Acct/Svcr/FinInstnId/BICFI' || path === 'Acct/Svcr/FinInstnId/BIC') statement.servicerBic = text;
    else if (depth === Depth.statement) {
      this.emitHeader(statement);
      this.statement = undefined;
    }
  }

  private emitHeader(statement: StatementFields): void {
    if (statement.headerEmitted) return;
    statement.headerEmitted = true;
    if (statement.opening === undefined) this.fail('has no opening balance (Bal of type OPBD or PRCD)');
    if (statement.closing === undefined) this.fail('has no closing balance (Bal of type CLBD)');
    const currency = statement.currency ?? statement.opening.currency;
    if (statement.opening.currency !== currency || statement.closing.currency !== currency) this.fail(`balances are not in the account currency ${currency}`);
    const header: Camt053StatementHeader = {
      index: statement.index,
      id: statement.id ?? `Stmt[${statement.index}]`,
      account: statement.account,
      servicerBic: statement.servicerBic,
      currency,
      openingBalance: statement.opening.amount,
      closingBalance: statement.closing.amount,
      openingDate: statement.opening.date,
      closingDate: statement.closing.date,
    };
    this.events.push({ type: 'header', header });
  }

  private emitEntries(entry: EntryFields): void {
    const statement = this.statement as StatementFields;
    const currency = statement.currency ?? (statement.opening as BalanceValue).currency;
    if (entry.status === undefined) this.fail('Ntry has no Sts');
    if (entry.status !== 'BOOK') return;
    const amount = this.amount(entry.amount, entry.currency, entry.creditDebit);
    if (entry.currency !== currency) this.fail(`Ntry amount is in ${entry.currency}, the account in ${currency}`);
    if (entry.bookingDate === undefined) this.fail('booked Ntry has no BookgDt');
    const entryReference = entry.reference ?? entry.servicerReference ?? `${statement.id ?? statement.index}/${entry.index}`;
    const valueDate = entry.valueDate ?? entry.bookingDate;
    const base = { currency, bookingDate: entry.bookingDate, valueDate };
    if (entry.transactions.length <= 1) {
      const endToEndId = entry.transactions[0]?.endToEndId || endToEndIdNotProvided;
      this.events.push({ type: 'entry', statementIndex: statement.index, entry: { ...base, entryReference, endToEndId, amount } });
      return;
    }
    this.emitBatch(entry, statement.index, entryReference, base, amount);
  }

  /** A batch booking: one entry per TxDtls, which must add up to the booked amount. */
  private emitBatch(entry: EntryFields, statementIndex: number, entryReference: string, base: Pick<StatementEntry, 'currency' | 'bookingDate' | 'valueDate'>, amount: string): void {
    let total = new Money(0);
    const entries = entry.transactions.map((transaction, index): StatementEntry => {
      if (transaction.amount === undefined) this.fail(`batch Ntry TxDtls[${index + 1}] has no Amt`);
      const transactionAmount = this.amount(transaction.amount, transaction.currency, transaction.creditDebit ?? entry.creditDebit);
      if (transaction.currency !== base.currency) this.fail(`batch Ntry TxDtls[${index + 1}] is in ${transaction.currency}`);
      total = total.plus(transactionAmount);
      return { ...base, entryReference: `${entryReference}/${index + 1}`, endToEndId: transaction.endToEndId || endToEndIdNotProvided, amount: transactionAmount };
    });
    if (!total.equals(amount)) this.fail(`batch Ntry: TxDtls amounts do not add up to ${amount}`);
    entries.forEach((statementEntry) => this.events.push({ type: 'entry', statementIndex, entry: statementEntry }));
  }

  /** Checks an Amt where it is read, so that an error names its line and element; the sign comes later. */
  private checkedAmountText(text: string): string {
    if (this.amountCurrency === undefined) this.fail('Amt has no Ccy attribute');
    const result = signedStatementAmount(text, this.amountCurrency, 'CRDT');
    if ('reason' in result) this.fail(result.reason);
    return text;
  }

  private amount(text: string | undefined, currency: string | undefined, creditDebit: string | undefined): string {
    if (text === undefined) this.fail('has no Amt');
    if (currency === undefined) this.fail('Amt has no Ccy attribute');
    if (creditDebit === undefined) this.fail('has no CdtDbtInd');
    const result = signedStatementAmount(text, currency, creditDebit);
    if ('reason' in result) this.fail(result.reason);
    return result.amount;
  }

  private date(text: string): string {
    const date = isoDatePart(text);
    if (date === undefined) this.fail(`"${text.slice(0, 40)}" is not an ISO date`);
    return date;
  }

  /** Throws naming the line and the element path, with Stmt and Ntry positions: "line 42, Stmt[1]/Ntry[3]/Amt". */
  private fail(reason: string): never {
    const path = this.stack
      .slice(Depth.group)
      .map((name, index) => {
        if (index === 0 && name === 'Stmt' && this.statement) return `Stmt[${this.statement.index}]`;
        if (index === 1 && name === 'Ntry' && this.entry) return `Ntry[${this.entry.index}]`;
        return name;
      })
      .join('/');
    throw new StatementInvalidError('camt.053', `line ${this.parser.line}${path ? `, ${path}` : ''}`, reason);
  }
}
