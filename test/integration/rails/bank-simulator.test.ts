/**
 * The ISO 20022 rails end to end: REST → the real state machine → the ISO 20022 adapter → HTTPS with mutual TLS →
 * the bank simulator (started once for this file) → pacs.002 back; every message kept with the settlement and each
 * one checked against the vendored official schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBankSimulator, type RunningBankSimulator } from '../../../simulator/bank-simulator';
import { http, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { xsdErrors } from '../../support/xsd';
import type { MessageDefinition } from '../../../lambdas/adapters/banks/iso20022/messages';
import { bookViolations } from '../../support/invariants';
import { bookBankReturns } from '../../../lambdas/usecases/returns';

let simulator: RunningBankSimulator;
let engine: TestEngine;
const dataDirectory = mkdtempSync(join(tmpdir(), 'bank-simulator-'));

beforeAll(async () => {
  simulator = await startBankSimulator({ port: 0, dataDirectory, timeoutHoldMs: 1_500 });
  engine = await startTestEngine({
    // An international transfer counts as unconfirmed 2 s after its attempt started (the kind's deadline, not a
    // count of checks): the recall path runs in seconds.
    limits: { confirmationChecksMax: 10_000, confirmationDeadlineSeconds: { DOMESTIC: 60, INTERNATIONAL: 2 } },
    bankGateway: { url: simulator.url, ca: simulator.certificates.ca, cert: simulator.certificates.clientCert, key: simulator.certificates.clientKey, networkBic: 'DELTGB2L', requestTimeoutMs: 500 },
  });
});

afterAll(async () => {
  await engine.stop();
  await simulator.stop();
  rmSync(dataDirectory, { recursive: true, force: true });
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

interface MessageItem {
  type: string;
  direction: string;
  at: string;
  messageId: string;
  message: string;
}

/** EPC SCT names both accounts by IBAN: every SEPA settlement here carries them (ISO 13616 example IBANs). */
const ibans = { payerIban: 'DE89370400440532013000', payeeIban: 'FR1420041010050500013M02606' };

async function submit(request: Record<string, unknown>) {
  const response = await http(engine, 'POST', '/api/v1/settlements', request);
  expect(response.status).toBe(202);
  return settled(engine, String(request.settlementId));
}

async function messagesOf(settlementId: string): Promise<MessageItem[]> {
  const response = await http(engine, 'GET', `/api/v1/settlements/${settlementId}/messages`);
  expect(response.status).toBe(200);
  return response.json.items as MessageItem[];
}

/** The Document (and header) inside a gateway envelope, as the schema knows them. */
function partsOf(envelopeXml: string): { header?: string; document: string } {
  const header = /<AppHdr[\s\S]*<\/AppHdr>/.exec(envelopeXml)?.[0];
  const document = /<Document[\s\S]*<\/Document>/.exec(envelopeXml)?.[0];
  if (!document) throw new Error(`no Document in ${envelopeXml.slice(0, 200)}`);
  return { ...(header && { header }), document };
}

async function expectSchemaValid(item: MessageItem): Promise<void> {
  const { header, document } = partsOf(item.message);
  expect(await xsdErrors(item.type as MessageDefinition, document)).toEqual([]);
  if (header) expect(await xsdErrors('head.001.001.02', header)).toEqual([]);
}

describe('a settlement through the bank simulator', () => {
  it('completes on SEPA with a pacs.008 that validates against the schema and a pacs.002 kept with it', async () => {
    const request = settlementRequest({ rail: 'SEPA', ...ibans, reference: 'Invoice 42 [ref]' });

    const view = await submit(request);

    expect(view.status).toBe('COMPLETED');
    const messages = await messagesOf(String(request.settlementId));
    // The answer to the transfer, then the answer to the confirmation check: both pacs.002.
    expect(messages.map((item) => `${item.direction} ${item.type}`)).toEqual(['SENT pacs.008.001.08', 'RECEIVED pacs.002.001.10', 'RECEIVED pacs.002.001.10']);
    await expectSchemaValid(messages[0]);
    await expectSchemaValid(messages[1]);
    expect(messages[0].message).toContain('<SvcLvl><Cd>SEPA</Cd></SvcLvl>');
    expect(messages[0].message).toContain('<Ustrd>Invoice 42 .ref.</Ustrd>');
    expect(messages[0].message).toContain('<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>');
    expect(messages[0].message).toContain('<CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct>');
    expect(view).toMatchObject(ibans);
    expect(messages[1].message).toContain('<TxSts>ACSC</TxSts>');
    expect(simulator.transfers.size).toBeGreaterThan(0);
  });

  it('refuses a SEPA settlement without the IBANs with a 400 naming the field, writing nothing', async () => {
    const withoutPayee = settlementRequest({ rail: 'SEPA', payerIban: ibans.payerIban });
    const badIban = settlementRequest({ rail: 'SEPA', ...ibans, payerIban: 'DE89370400440532013001' });

    const missing = await http(engine, 'POST', '/api/v1/settlements', withoutPayee);
    const invalid = await http(engine, 'POST', '/api/v1/settlements', badIban);

    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json)).toContain('payeeIban');
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.json)).toContain('payerIban');
    for (const request of [withoutPayee, badIban]) expect((await http(engine, 'GET', `/api/v1/settlements/${String(request.settlementId)}`)).status).toBe(404);
  });

  it('completes on SWIFT with a pacs.009 and its head.001 header, both schema-valid', async () => {
    const request = settlementRequest({ rail: 'SWIFT', kind: 'INTERNATIONAL', payerBic: 'CHASUS33', payeeBic: 'CITIUS33', currency: 'USD', amount: '990.10' });

    const view = await submit(request);

    expect(view.status).toBe('COMPLETED');
    const messages = await messagesOf(String(request.settlementId));
    expect(messages[0]).toMatchObject({ type: 'pacs.009.001.08', direction: 'SENT' });
    expect(messages[0].message).toContain('<BizSvc>swift.cbprplus.02</BizSvc>');
    await expectSchemaValid(messages[0]);
  });

  it('ends FAILED with the ISO reason code when the bank rejects, nothing moved', async () => {
    const request = settlementRequest({ rail: 'SEPA', ...ibans, reference: 'sim reject AC04' });

    const view = await submit(request);

    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.REJECTED', retryable: false });
    expect(view.reason).toContain('AC04');
    const messages = await messagesOf(String(request.settlementId));
    const report = messages.find((item) => item.type === 'pacs.002.001.10')!;
    expect(report.message).toContain('<TxSts>RJCT</TxSts>');
    expect(report.message).toContain('<Cd>AC04</Cd>');
    await expectSchemaValid(report);
    expect(view.lock).toMatchObject({ state: 'VOIDED' });
  });

  it('ends FAILED with the reason code when the bank accepts, then rejects late', async () => {
    const request = settlementRequest({ rail: 'SWIFT', kind: 'INTERNATIONAL', payerBic: 'CHASUS33', payeeBic: 'CITIUS33', currency: 'USD', reference: 'sim late reject AM04' });

    const view = await submit(request);

    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'BANK.REJECTED' });
    expect(view.reason).toContain('AM04');
    const statuses = (await messagesOf(String(request.settlementId))).filter((item) => item.type === 'pacs.002.001.10').map((item) => /<TxSts>(\w+)<\/TxSts>/.exec(item.message)![1]);
    expect(statuses).toEqual(expect.arrayContaining(['ACSP', 'RJCT']));
  });

  it('recalls a transfer the bank does not confirm within its kind\'s deadline (camt.056) and records the return (pacs.004)', async () => {
    const request = settlementRequest({ rail: 'SWIFT', kind: 'INTERNATIONAL', payerBic: 'CHASUS33', payeeBic: 'CITIUS33', currency: 'USD', reference: 'sim pending' });

    const view = await submit(request);

    expect(view).toMatchObject({ status: 'FAILED', reasonCode: 'SETTLEMENT.CONFIRMATION_TIMEOUT' });
    expect(view.reason).toContain('international confirmation deadline of 2 s');
    expect(view.checkpoints.map((checkpoint) => `${checkpoint.stage}:${checkpoint.status}`)).toContain('Compensate:COMPENSATED');
    const messages = await messagesOf(String(request.settlementId));
    const recall = messages.find((item) => item.type === 'camt.056.001.08')!;
    const returned = messages.find((item) => item.type === 'pacs.004.001.09')!;
    expect(recall).toMatchObject({ direction: 'SENT' });
    expect(returned).toMatchObject({ direction: 'RECEIVED' });
    await expectSchemaValid(recall);
    await expectSchemaValid(returned);
  });

  it('parks the settlement when the bank refuses the recall (camt.029), keeping the lock', async () => {
    const request = settlementRequest({ rail: 'SWIFT', kind: 'INTERNATIONAL', payerBic: 'CHASUS33', payeeBic: 'CITIUS33', currency: 'USD', reference: 'sim pending sim recall refuse' });

    const view = await submit(request);

    expect(view.parked).toBe(true);
    expect(view.lock).toMatchObject({ state: 'PENDING' });
    const answer = (await messagesOf(String(request.settlementId))).find((item) => item.type === 'camt.029.001.09')!;
    expect(answer.message).toContain('<TxCxlSts>RJCR</TxCxlSts>');
    await expectSchemaValid(answer);
  });

  it('waits for a domestic transfer the bank settles a second later (within the domestic deadline)', async () => {
    const request = settlementRequest({ rail: 'SEPA', ...ibans, reference: 'sim delay 1' });

    expect(await submit(request)).toMatchObject({ status: 'COMPLETED' });
  });

  it('asks again after a call that timed out and completes on the same transfer', async () => {
    const request = settlementRequest({ rail: 'SEPA', ...ibans, reference: 'sim timeout' });

    const view = await submit(request);

    expect(view.status).toBe('COMPLETED');
    const sent = (await messagesOf(String(request.settlementId))).filter((item) => item.direction === 'SENT');
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sent.map((item) => item.messageId)).size).toBe(1);
  });

  it('books a return that arrives after the settlement completed: the money goes back in one transaction, once', async () => {
    const request = settlementRequest({ rail: 'SEPA', ...ibans, amount: '321.00', reference: 'sim late return AC04' });
    const view = await submit(request);
    expect(view.status).toBe('COMPLETED');
    const balanceOf = async (accountId: string) => (await engine.deps.accounts.get(accountId))!.balance.toFixed(2);
    const vostroId = String(view.payerAccountId);
    const nostroId = String(view.nostroAccountId);
    const completed = { vostro: await balanceOf(vostroId), nostro: await balanceOf(nostroId) };

    // The reconciliation job books returns first; here it is called as the job calls it, twice (a replay).
    const first = await bookBankReturns(engine.deps);
    const second = await bookBankReturns(engine.deps);

    expect(first.outcomes).toEqual([expect.objectContaining({ settlementId: request.settlementId, outcome: 'BOOKED' })]);
    expect(second.outcomes).toEqual([expect.objectContaining({ settlementId: request.settlementId, outcome: 'EXISTS' })]);
    const plus = (amount: string) => (Number(amount) + 321).toFixed(2);
    expect(await balanceOf(vostroId)).toBe(plus(completed.vostro));
    expect(await balanceOf(nostroId)).toBe(plus(completed.nostro));
    const returned = await http(engine, 'GET', `/api/v1/settlements/${String(request.settlementId)}`);
    expect(returned.json).toMatchObject({ status: 'COMPLETED', returned: { amount: '321.00', reasonCode: 'AC04' } });
    const pacs004 = (await messagesOf(String(request.settlementId))).filter((item) => item.type === 'pacs.004.001.09');
    expect(pacs004).toHaveLength(1);
    expect(pacs004[0]).toMatchObject({ direction: 'RECEIVED' });
    await expectSchemaValid(pacs004[0]);
  });
});
