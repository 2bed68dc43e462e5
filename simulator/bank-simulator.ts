/**
 * The bank simulator: a local stand-in for a correspondent bank's ISO 20022 gateway, served over HTTPS with mutual
 * TLS. It is not part of the deployed engine (it lives outside lambdas/ and only the local tools start it); the
 * engine reaches it through the same adapter that would reach a real gateway (lambdas/adapters/banks/iso20022/).
 *
 * It accepts pacs.008 and pacs.009 (answering with a pacs.002 per its scenarios), status queries (the latest
 * pacs.002), recalls (camt.056, answered with a pacs.004 or a camt.029), and produces a camt.053 per account from
 * its own book of transfers. Incoming XML goes through the same hardened reader as the engine's.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Money, formatAmount } from '../lambdas/domain/money';
import {
  MessageDefinition,
  buildCamt029,
  buildCamt053,
  buildPacs002,
  buildPacs004,
  envelope,
  messageIdOf,
  openEnvelope,
  parseCamt056,
  parseCreditTransfer,
  type ReceivedTransfer,
} from '../lambdas/adapters/banks/iso20022/messages';
import { Iso20022MessageInvalidError } from '../lambdas/domain/errors';
import { ensureCertificates, type SimulatorCertificates } from './certificates';
import { defaultScenario, scenarioFromRemittance, type BankScenario } from './scenarios';

export interface BankSimulatorOptions {
  /** Default 18543; 0 picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Where certificates are made on first start and kept. */
  readonly dataDirectory: string;
  /** Scenario per creditor-agent BIC (the beneficiary bank); markers in a transfer's remittance take precedence. */
  readonly scenariosByBic?: Readonly<Record<string, BankScenario>>;
  /** Opening balance per account id (NOSTRO#<BIC>#<CCY>) of the statements it produces. */
  readonly openingBalances?: Readonly<Record<string, string>>;
  /** How long a `timeout` transfer's first call is held before the connection is dropped. */
  readonly timeoutHoldMs?: number;
  readonly now?: () => Date;
}

export interface SimulatedTransfer {
  readonly transfer: ReceivedTransfer;
  readonly receivedAt: string;
  readonly scenario: BankScenario;
  status: 'ACSP' | 'ACSC' | 'RJCT';
  reasonCode?: string;
  settledAt?: string;
  returnedAt?: string;
  calls: number;
  statusQueries: number;
}

export interface RunningBankSimulator {
  readonly url: string;
  readonly port: number;
  readonly certificates: SimulatorCertificates;
  /** The simulator's book: every transfer it received, by UETR. */
  readonly transfers: ReadonlyMap<string, SimulatedTransfer>;
  stop(): Promise<void>;
}

export const bankSimulatorDefaultPort = 18543;
/** Largest request body accepted: one business message is a few kilobytes. */
export const simulatorRequestBytesMax = 256 * 1024;
/** Transfers the book keeps (a development tool: enough for a long local session and the benchmarks). */
export const simulatorTransfersMax = 200_000;
/** Returns listed per GET /returns (the engine's page is bankReturnsPageMax). */
export const simulatorReturnsPageMax = 100;

export async function startBankSimulator(options: BankSimulatorOptions): Promise<RunningBankSimulator> {
  const certificates = await ensureCertificates(options.dataDirectory);
  const bank = new SimulatedBank(options);
  const server: Server = createServer(
    { key: certificates.serverKey, cert: certificates.serverCert, ca: certificates.ca, requestCert: true, rejectUnauthorized: true },
    (request, response) => {
      bank.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) respond(response, 500, `simulator error: ${error instanceof Error ? error.message : String(error)}`);
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? bankSimulatorDefaultPort, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    certificates,
    transfers: bank.transfers,
    stop: () =>
      new Promise<void>((resolve) => {
        bank.stopping = true;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

class SimulatedBank {
  readonly transfers = new Map<string, SimulatedTransfer>();
  stopping = false;
  private sequence = 0;
  constructor(private readonly options: BankSimulatorOptions) {}

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'https://simulator');
    if (request.method === 'POST' && url.pathname === '/messages') return this.receive(await readBody(request), response);
    const status = /^\/transfers\/([0-9a-f-]{36})\/status$/.exec(url.pathname);
    if (request.method === 'GET' && status) return this.status(status[1], response);
    const statement = /^\/accounts\/([^/]{1,80})\/statement$/.exec(url.pathname);
    if (request.method === 'GET' && statement) return this.statement(decodeURIComponent(statement[1]), url.searchParams, response);
    if (request.method === 'GET' && url.pathname === '/returns') return this.returns(url.searchParams, response);
    if (request.method === 'GET' && url.pathname === '/health') return respond(response, 200, 'SERVING');
    respond(response, 404, 'no such gateway resource');
  }

  private async receive(body: string | undefined, response: ServerResponse): Promise<void> {
    if (body === undefined) return respond(response, 413, `message larger than ${simulatorRequestBytesMax} bytes`);
    let opened;
    try {
      opened = openEnvelope(body, 'message to the gateway', [MessageDefinition.pacs008, MessageDefinition.pacs009, MessageDefinition.camt056]);
    } catch (error) {
      if (error instanceof Iso20022MessageInvalidError) return respond(response, 400, error.message);
      throw error;
    }
    if (opened.definition === MessageDefinition.camt056) return this.recall(parseCamt056(opened.document), response);
    const transfer = parseCreditTransfer(opened, 'credit transfer');
    let known = this.transfers.get(transfer.uetr);
    if (!known) {
      if (this.transfers.size >= simulatorTransfersMax) return respond(response, 503, 'simulator book is full');
      const scenario = scenarioFromRemittance(transfer.remittance) ?? this.options.scenariosByBic?.[transfer.creditorAgentBic] ?? defaultScenario;
      const at = this.now().toISOString();
      known = { transfer, receivedAt: at, scenario, status: 'ACSP', calls: 0, statusQueries: 0 };
      if (scenario.behaviour === 'reject') Object.assign(known, { status: 'RJCT', reasonCode: scenario.reasonCode ?? 'AC04' });
      if (scenario.behaviour === 'confirm' || scenario.behaviour === 'timeout' || scenario.behaviour === 'unavailable') Object.assign(known, { status: 'ACSC', settledAt: at });
      if (scenario.behaviour === 'unavailable') {
        // Nothing is recorded on the refused call: the bank was unreachable.
        if (!this.unavailableSeen.has(transfer.uetr)) {
          this.unavailableSeen.add(transfer.uetr);
          return respond(response, 503, 'gateway unavailable (simulated)');
        }
      }
      this.transfers.set(transfer.uetr, known);
    }
    known.calls++;
    if (known.scenario.behaviour === 'down') return respond(response, 503, 'gateway down (simulated)');
    if (known.scenario.behaviour === 'timeout' && known.calls === 1) return this.hold(response);
    this.settleIfDue(known);
    return respond(response, 200, this.statusReport(known));
  }

  private readonly unavailableSeen = new Set<string>();

  private status(uetr: string, response: ServerResponse): void {
    const known = this.transfers.get(uetr);
    if (!known) return respond(response, 404, 'no such transfer');
    if (known.scenario.behaviour === 'down') return respond(response, 503, 'gateway down (simulated)');
    known.statusQueries++;
    if (known.scenario.behaviour === 'late-reject' && known.status === 'ACSP') Object.assign(known, { status: 'RJCT', reasonCode: known.scenario.reasonCode ?? 'AC04' });
    this.settleIfDue(known);
    respond(response, 200, this.statusReport(known));
  }

  private settleIfDue(known: SimulatedTransfer): void {
    if (known.status !== 'ACSP' || known.scenario.behaviour !== 'delay') return;
    const dueAt = Date.parse(known.receivedAt) + (known.scenario.delaySeconds ?? 0) * 1000;
    if (this.now().getTime() >= dueAt) Object.assign(known, { status: 'ACSC', settledAt: this.now().toISOString() });
  }

  private statusReport(known: SimulatedTransfer): string {
    const transfer = known.transfer;
    return envelope({
      document: buildPacs002({
        messageId: messageIdOf('SIM', `${transfer.uetr}:${++this.sequence}`),
        createdAt: this.now().toISOString(),
        originalMessageId: transfer.messageId,
        originalDefinition: transfer.definition,
        originalEndToEndId: transfer.endToEndId,
        originalTransactionId: transfer.transactionId,
        originalUetr: transfer.uetr,
        status: known.status,
        ...(known.reasonCode && { reasonCode: known.reasonCode, additionalInformation: reasonText(known.reasonCode) }),
        accountServicerReference: messageIdOf('SIMREF', transfer.uetr),
      }),
    });
  }

  private recall(recall: { caseId: string; originalUetr: string }, response: ServerResponse): void {
    const known = this.transfers.get(recall.originalUetr);
    const at = this.now().toISOString();
    const resolution = (status: 'RJCR' | 'PDCR', reasonCode?: string) =>
      respond(response, 200, envelope({ document: buildCamt029({ caseId: recall.caseId, createdAt: at, assignerBic: known?.transfer.instructedAgentBic || 'SIMUXXXX', assigneeBic: 'DELTGB2L', originalUetr: recall.originalUetr, status, ...(reasonCode && { reasonCode }) }) }));
    if (!known) return resolution('RJCR', 'NOOR');
    if (known.scenario.behaviour === 'down') return respond(response, 503, 'gateway down (simulated)');
    if (known.status === 'RJCT') return resolution('RJCR', 'NOOR');
    if (!known.returnedAt) {
      if (known.scenario.recall === 'refuse') return resolution('RJCR', 'LEGL');
      if (known.scenario.recall === 'pending') return resolution('PDCR');
      known.returnedAt = at;
    }
    respond(response, 200, envelope({ document: returnOf(known.transfer, at, known.returnedAt, 'FOCR') }));
  }

  /**
   * Returns of settled transfers since `since` (GET /returns): `{ "returns": [envelope with a pacs.004, ...] }`.
   * A `sim late return` transfer is returned the first time it is listed after it settled.
   */
  private returns(query: URLSearchParams, response: ServerResponse): void {
    const since = query.get('since') ?? '1970-01-01T00:00:00.000Z';
    const limit = Math.min(Number(query.get('limit') ?? simulatorReturnsPageMax) || simulatorReturnsPageMax, simulatorReturnsPageMax);
    const at = this.now().toISOString();
    const returned: string[] = [];
    for (const known of this.transfers.values()) {
      if (returned.length >= limit) break;
      if (!known.scenario.lateReturn || known.status !== 'ACSC' || !known.settledAt) continue;
      known.returnedAt ??= at;
      if (known.returnedAt < since) continue;
      returned.push(envelope({ document: returnOf(known.transfer, known.returnedAt, known.returnedAt, known.scenario.lateReturn) }));
    }
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify({ returns: returned }));
  }

  /**
   * camt.053 of one of the network's accounts at this bank: opening balance from configuration plus every settled
   * transfer out of it and every return into it before `from`; the entries between `from` and `to`.
   */
  private statement(accountId: string, query: URLSearchParams, response: ServerResponse): void {
    const from = query.get('from') ?? '1970-01-01T00:00:00.000Z';
    const to = query.get('to') ?? this.now().toISOString();
    const currency = query.get('currency') ?? accountId.split('#')[2] ?? 'EUR';
    const movements = [...this.transfers.values()]
      // The network's nostro here is the account a transfer leaves from: named in DbtrAcct/Othr, or (when DbtrAcct
      // carries the payer's IBAN, as on SEPA) known from the instructed agent (this bank) and the currency.
      .filter((known) => known.transfer.debtorAccount === accountId || known.transfer.debtorAccount === accountId.replace(/#/g, '.') || `NOSTRO#${known.transfer.instructedAgentBic}#${known.transfer.currency}` === accountId)
      .flatMap((known) => [
        ...(known.settledAt ? [{ at: known.settledAt, amount: new Money(known.transfer.amount).negated(), known, kind: 'PAY' }] : []),
        ...(known.returnedAt && known.settledAt ? [{ at: known.returnedAt, amount: new Money(known.transfer.amount), known, kind: 'RTR' }] : []),
      ]);
    let opening = new Money(this.options.openingBalances?.[accountId] ?? '0');
    for (const movement of movements) if (movement.at < from) opening = opening.plus(movement.amount);
    const inPeriod = movements.filter((movement) => movement.at >= from && movement.at <= to).sort((a, b) => a.at.localeCompare(b.at));
    const closing = inPeriod.reduce((sum, movement) => sum.plus(movement.amount), opening);
    const at = this.now().toISOString();
    respond(
      response,
      200,
      buildCamt053({
        messageId: messageIdOf('STM', `${accountId}:${from}:${to}`),
        createdAt: at,
        statementId: messageIdOf('STMT', `${accountId}:${from}:${to}`),
        account: accountId,
        currency,
        servicerBic: accountId.split('#')[1] ?? 'SIMUXXXX',
        openingBalance: formatAmount(opening, currency),
        closingBalance: formatAmount(closing, currency),
        fromDate: from.slice(0, 10),
        toDate: to.slice(0, 10),
        entries: inPeriod.map((movement) => ({
          entryReference: messageIdOf(movement.kind, movement.known.transfer.uetr),
          amount: formatAmount(movement.amount, currency),
          bookingDate: movement.at.slice(0, 10),
          valueDate: movement.known.transfer.settlementDate || movement.at.slice(0, 10),
          endToEndId: movement.known.transfer.endToEndId,
          uetr: movement.known.transfer.uetr,
        })),
      }),
    );
  }

  private hold(response: ServerResponse): void {
    const holdMs = this.options.timeoutHoldMs ?? 30_000;
    setTimeout(() => response.socket?.destroy(), holdMs).unref();
  }
}

/** The pacs.004 by which this bank sends `transfer` back: after a recall (FOCR) or unasked (a late return). */
function returnOf(transfer: ReceivedTransfer, createdAt: string, returnedAt: string, reasonCode: string): string {
  return buildPacs004({
    messageId: messageIdOf('SIMRTR', transfer.uetr),
    createdAt,
    returnId: messageIdOf('RTR', transfer.uetr),
    originalMessageId: transfer.messageId,
    originalDefinition: transfer.definition,
    originalEndToEndId: transfer.endToEndId,
    originalUetr: transfer.uetr,
    returnedAmount: transfer.amount,
    currency: transfer.currency,
    settlementDate: returnedAt.slice(0, 10),
    reasonCode,
  });
}

function reasonText(code: string): string {
  const texts: Record<string, string> = {
    AC01: 'incorrect account number',
    AC04: 'closed account number',
    AC06: 'blocked account',
    AG01: 'transaction forbidden',
    AM04: 'insufficient funds',
    AM05: 'duplication',
    BE01: 'inconsistent with end customer',
    RR04: 'regulatory reason',
  };
  return texts[code] ?? 'rejected by the beneficiary bank';
}

function respond(response: ServerResponse, statusCode: number, body: string): void {
  response.writeHead(statusCode, { 'content-type': statusCode === 200 ? 'application/xml; charset=utf-8' : 'text/plain; charset=utf-8' });
  response.end(body);
}

/** The request body, or undefined when it exceeds the limit (the rest is not read). */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > simulatorRequestBytesMax) {
        resolve(undefined);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
