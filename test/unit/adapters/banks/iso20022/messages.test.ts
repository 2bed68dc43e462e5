/**
 * ISO 20022 messages: every builder's output validates against the vendored official schema, parsers read back
 * what builders wrote, and the reader refuses malformed, oversized, wrong-namespace and hostile XML.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MessageDefinition,
  buildApplicationHeader,
  buildCamt053,
  buildPacs002,
  buildPacs008,
  buildPacs009,
  envelope,
  openEnvelope,
  outcomeOfStatus,
  parsePacs002,
  toSepaText,
  uetrOf,
  type CreditTransfer,
} from '../../../../../lambdas/adapters/banks/iso20022/messages';
import { parseXml } from '../../../../../lambdas/adapters/banks/iso20022/xml';
import { Iso20022MessageInvalidError } from '../../../../../lambdas/domain/errors';
import { camt053Statement } from '../../../../../lambdas/adapters/statements/camt053';
import { xsdErrors } from '../../../../support/xsd';

const transfer: CreditTransfer = {
  messageId: 'DLT0001',
  createdAt: '2026-12-01T10:00:00.000Z',
  uetr: uetrOf('stl-1:1'),
  instructionId: 'INS0001',
  endToEndId: 'stl-1',
  transactionId: 'TX0001',
  amount: '1250.00',
  currency: 'EUR',
  settlementDate: '2026-12-01',
  instructingAgentBic: 'DELTGB2L',
  instructedAgentBic: 'BNPAFRPP',
  creditorAgentBic: 'DEUTDEFF',
  debtorAccount: 'NOSTRO#BNPAFRPP#EUR',
  remittance: 'Invoice 42 – [mock:reject] Zürich',
  debtorName: 'DelTran Settlement Network',
  debtorIban: 'DE89370400440532013000',
  creditorIban: 'FR1420041010050500013M02606',
};

describe('ISO 20022 message builders', () => {
  it('builds a SEPA pacs.008 that validates, in the SEPA character set and at most 140 characters of remittance', async () => {
    const xml = buildPacs008({ ...transfer, remittance: `${transfer.remittance} ${'x'.repeat(200)}` }, 'SEPA');
    expect(await xsdErrors(MessageDefinition.pacs008, xml)).toEqual([]);
    const remittance = /<Ustrd>(.*)<\/Ustrd>/.exec(xml)![1];
    expect(remittance).toHaveLength(140);
    expect(remittance.startsWith('Invoice 42 . .mock:reject. Z.rich')).toBe(true);
    expect(xml).toContain('<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>');
    expect(xml).toContain('<CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct>');
  });

  it('refuses a SEPA pacs.008 without the debtor\'s or the creditor\'s IBAN (EPC SCT), and builds an ACH one without', async () => {
    const { debtorIban, creditorIban, ...withoutIbans } = transfer;
    expect(() => buildPacs008({ ...withoutIbans, creditorIban }, 'SEPA')).toThrow(/IBAN/);
    expect(() => buildPacs008({ ...withoutIbans, debtorIban }, 'SEPA')).toThrow(/IBAN/);
    expect(await xsdErrors(MessageDefinition.pacs008, buildPacs008(withoutIbans, 'ACH'))).toEqual([]);
  });

  it('refuses a SEPA pacs.008 in any currency but EUR', () => {
    expect(() => buildPacs008({ ...transfer, currency: 'USD' }, 'SEPA')).toThrow(Iso20022MessageInvalidError);
  });

  it('builds a pacs.009 and its head.001 header that both validate', async () => {
    expect(await xsdErrors(MessageDefinition.pacs009, buildPacs009({ ...transfer, currency: 'USD' }))).toEqual([]);
    const header = buildApplicationHeader({ fromBic: 'DELTGB2L', toBic: 'CHASUS33', businessMessageId: 'DLT0001', messageDefinition: MessageDefinition.pacs009, createdAt: transfer.createdAt, businessService: 'swift.cbprplus.02' });
    expect(await xsdErrors(MessageDefinition.head001, header)).toEqual([]);
  });

  it('is caught by the schema when a mandatory element is missing (the validator is live)', async () => {
    const broken = buildPacs009(transfer).replace(/<NbOfTxs>1<\/NbOfTxs>/, '');
    expect((await xsdErrors(MessageDefinition.pacs009, broken)).join('\n')).toMatch(/NbOfTxs/);
  });

  it('writes a camt.053 that validates and that the statement importer reads back', async () => {
    const xml = buildCamt053({
      messageId: 'STM1',
      createdAt: transfer.createdAt,
      statementId: 'STMT1',
      account: 'NOSTRO#BNPAFRPP#EUR',
      currency: 'EUR',
      servicerBic: 'BNPAFRPP',
      openingBalance: '1000.00',
      closingBalance: '-250.00',
      fromDate: '2026-12-01',
      toDate: '2026-12-01',
      entries: [{ entryReference: 'E1', amount: '-1250.00', bookingDate: '2026-12-01', valueDate: '2026-12-01', endToEndId: 'stl-1', uetr: transfer.uetr }],
    });
    expect(await xsdErrors(MessageDefinition.camt053, xml)).toEqual([]);
    const statement = await camt053Statement(() => [xml], { accountId: 'NOSTRO#BNPAFRPP#EUR', currency: 'EUR' });
    const entries = [];
    for await (const entry of statement.entries) entries.push(entry);
    expect(statement).toMatchObject({ openingBalance: '1000.00', closingBalance: '-250.00' });
    expect(entries).toEqual([expect.objectContaining({ endToEndId: 'stl-1', amount: '-1250.00' })]);
  });
});

describe('pacs.002 status reports', () => {
  const report = (status: string, reasonCode?: string) =>
    envelope({
      document: buildPacs002({ messageId: 'S1', createdAt: transfer.createdAt, originalMessageId: 'DLT0001', originalDefinition: MessageDefinition.pacs008, originalEndToEndId: 'stl-1', originalTransactionId: 'TX0001', originalUetr: transfer.uetr, status, ...(reasonCode && { reasonCode }) }),
    });

  it.each([
    ['ACSC', 'CONFIRMED'],
    ['ACCC', 'CONFIRMED'],
    ['ACSP', 'PENDING'],
    ['PDNG', 'PENDING'],
    ['RJCT', 'REJECTED'],
    ['ZZZZ', 'PENDING'],
  ])('maps %s to %s', (status, outcome) => {
    expect(outcomeOfStatus(status)).toBe(outcome);
  });

  it('keeps the ISO reason code of a rejection', async () => {
    const xml = report('RJCT', 'AM04');
    const parsed = parsePacs002(openEnvelope(xml, 'pacs.002', [MessageDefinition.pacs002]).document);
    expect(parsed).toMatchObject({ status: 'RJCT', outcome: 'REJECTED', reasonCode: 'AM04', originalUetr: transfer.uetr });
    expect(await xsdErrors(MessageDefinition.pacs002, /<Document[\s\S]*<\/Document>/.exec(xml)![0])).toEqual([]);
  });
});

describe('the hardened XML reader', () => {
  const namespace = 'urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10';
  const refused = (xml: string, namespaces?: readonly string[]) => {
    try {
      parseXml(xml, 'the message', namespaces);
    } catch (error) {
      expect(error).toBeInstanceOf(Iso20022MessageInvalidError);
      return (error as Error).message;
    }
    throw new Error('was not refused');
  };

  it('refuses entity expansion (billion laughs) before expanding anything', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><Document xmlns="${namespace}">&lol2;</Document>`;
    expect(refused(laughs)).toMatch(/DOCTYPE or entity declaration/);
  });

  it('refuses an external entity', () => {
    expect(refused(`<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Document xmlns="${namespace}">&xxe;</Document>`)).toMatch(/DOCTYPE/);
  });

  it('refuses an undeclared entity reference', () => {
    expect(refused(`<Document xmlns="${namespace}">&xxe;</Document>`)).toMatch(/not well-formed/);
  });

  it('refuses malformed XML', () => {
    expect(refused(`<Document xmlns="${namespace}"><GrpHdr></Document>`)).toMatch(/not well-formed/);
  });

  it('refuses a document in another namespace', () => {
    expect(refused(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>`, [namespace])).toMatch(/namespace "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/);
  });

  it('refuses an oversized document without parsing it', () => {
    expect(refused(`<Document xmlns="${namespace}">${'x'.repeat(300 * 1024)}</Document>`)).toMatch(/bytes, more than/);
  });

  it('refuses nesting deeper than the limit', () => {
    expect(refused(`<Document xmlns="${namespace}">${'<a>'.repeat(50)}${'</a>'.repeat(50)}</Document>`)).toMatch(/deeper than/);
  });
});

describe('the vendored schemas', () => {
  it('are the files recorded in SHA256SUMS', () => {
    const directory = join(__dirname, '../../../../../schemas/iso20022');
    const sums = readFileSync(join(directory, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums.length).toBeGreaterThanOrEqual(8);
    for (const line of sums) {
      const [sum, file] = line.split(/\s+/);
      expect(`${file}:${createHash('sha256').update(readFileSync(join(directory, file))).digest('hex')}`).toBe(`${file}:${sum}`);
    }
  });

  it('keeps the SEPA conversion to the EPC character set', () => {
    expect(toSepaText('Zahlung für Rechnung #42 & Co_')).toBe('Zahlung f.r Rechnung .42 . Co.');
  });
});
