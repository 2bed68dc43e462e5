/**
 * The ISO 20022 bank adapter: implements the BankClient port by exchanging ISO 20022 messages with a bank gateway
 * over HTTPS with mutual TLS. The same adapter reaches the local bank simulator (simulator/) and a real bank's
 * gateway: only the endpoint, the CA and the client certificate differ (configuration; on AWS from Secrets Manager,
 * docs/rails.md).
 *
 * Gateway protocol (docs/rails.md): POST /messages with an envelope (header + Document) answers with an envelope;
 * GET /transfers/{uetr}/status answers with the latest pacs.002; GET /accounts/{account}/statement answers with a
 * camt.053 Document. Every message sent and received is recorded in the BankMessageJournal with its settlement.
 *
 * Rails: SWIFT → pacs.009 with a head.001 header (CBPR+); SEPA → pacs.008 under the EPC SCT rules; ACH → the local
 * scheme's pacs.008 (docs/rails.md says why not a NACHA file). A recall is a camt.056; its answer a pacs.004 (funds
 * returned) or a camt.029 (refused or pending).
 */
import { Agent, request as httpsRequest } from 'node:https';
import { BankUnavailableError, Iso20022MessageInvalidError, TransferOutcomeUnknownError } from '../../../domain/errors';
import type { Rail } from '../../../domain/settlement';
import { BankMessageDirection, bankReturnsPageMax, type BankClient, type BankReturn, type BankDirectory, type BankMessageJournal, type ReversalReceipt, type Statement, type StatementRequest, type TransferInstruction, type TransferReceipt } from '../../../ports/bank';
import type { Clock } from '../../../ports';
import { camt053Statement } from '../../statements/camt053';
import {
  MessageDefinition,
  buildApplicationHeader,
  buildCamt056,
  buildPacs008,
  buildPacs009,
  cbprBusinessService,
  endToEndIdOf,
  envelope,
  messageIdOf,
  openEnvelope,
  parseCamt029,
  parseCreditTransfer,
  parsePacs002,
  parsePacs004,
  uetrOf,
  type CreditTransfer,
} from './messages';
import { parseXml } from './xml';

export interface GatewayConfiguration {
  /** Base URL of the bank gateway, https://host:port. */
  readonly url: string;
  /** PEM: the CA that signed the gateway's server certificate. */
  readonly ca: string;
  /** PEM: our client certificate and its key (mutual TLS). */
  readonly cert: string;
  readonly key: string;
  /** The network's own BIC (instructing agent, sender of the header). */
  readonly networkBic: string;
  readonly networkName: string;
  /** Per-call budget; a transfer call that runs out is an unknown outcome, never a failure. */
  readonly requestTimeoutMs: number;
  readonly responseBytesMax: number;
}

export const gatewayDefaults = { requestTimeoutMs: 10_000, responseBytesMax: 1024 * 1024, networkBic: 'DELTGB2L', networkName: 'DelTran Settlement Network' } as const;

/** The settlement id of an engine idempotency key `<settlementId>:<attempt>`. */
export function settlementIdOfKey(idempotencyKey: string): string {
  const colon = idempotencyKey.lastIndexOf(':');
  return colon > 0 ? idempotencyKey.slice(0, colon) : idempotencyKey;
}

interface GatewayResponse {
  readonly status: number;
  readonly body: string;
}

export class Iso20022GatewayBank implements BankDirectory {
  private readonly agent: Agent;

  constructor(
    private readonly config: GatewayConfiguration,
    private readonly journal: BankMessageJournal,
    private readonly clock: Clock,
    /** Rails this adapter does not speak (MOCK) go to this directory. */
    private readonly fallback?: BankDirectory,
  ) {
    this.agent = new Agent({ ca: config.ca, cert: config.cert, key: config.key, keepAlive: true, maxSockets: 64 });
  }

  forRail(rail: Rail): BankClient {
    if (rail === 'MOCK' && this.fallback) return this.fallback.forRail(rail);
    return {
      rail,
      initiateTransfer: (instruction) => this.initiate(instruction),
      getTransfer: (idempotencyKey) => this.status(rail, idempotencyKey),
      reverseTransfer: (idempotencyKey, reason) => this.recall(rail, idempotencyKey, reason),
      statement: (request) => this.statement(request),
    };
  }

  /**
   * Returns the gateway reports since `since` (GET /returns?since=: JSON `{ "returns": [envelope, ...] }`, each a
   * pacs.004 in an envelope). An unreadable list is transient; an unreadable return in it is skipped (and logged),
   * never booked.
   */
  async listReturns(since: string): Promise<readonly BankReturn[]> {
    const response = await this.call('GET', `/returns?${new URLSearchParams({ since, limit: String(bankReturnsPageMax) }).toString()}`);
    if (response.status !== 200) throw new BankUnavailableError(`gateway returns query answered HTTP ${response.status}`);
    let listed: unknown;
    try {
      listed = JSON.parse(response.body);
    } catch (error) {
      throw new BankUnavailableError('gateway returns list is not JSON', { cause: error });
    }
    const envelopes = (listed as { returns?: unknown } | null)?.returns;
    if (!Array.isArray(envelopes)) throw new BankUnavailableError('gateway returns list has no "returns" array');
    const returns: BankReturn[] = [];
    for (const xml of envelopes.slice(0, bankReturnsPageMax)) {
      try {
        if (typeof xml !== 'string') throw new Iso20022MessageInvalidError('return from the gateway', 'is not a string');
        const parsed = parsePacs004(openEnvelope(xml, 'return from the gateway', [MessageDefinition.pacs004]).document);
        returns.push({ returnId: parsed.returnId, messageId: parsed.messageId, originalEndToEndId: parsed.originalEndToEndId, originalUetr: parsed.originalUetr, amount: parsed.returnedAmount, currency: parsed.currency, reasonCode: parsed.reasonCode, type: MessageDefinition.pacs004, xml });
      } catch (error) {
        if (!(error instanceof Iso20022MessageInvalidError)) throw error;
        console.error(JSON.stringify({ level: 'error', message: 'unreadable return skipped', error: error.message }));
      }
    }
    return returns;
  }

  /** Closes kept-alive connections (local engine stop). */
  close(): void {
    this.agent.destroy();
  }

  private creditTransferOf(instruction: TransferInstruction): CreditTransfer {
    const key = instruction.idempotencyKey;
    return {
      messageId: messageIdOf('DLT', key),
      createdAt: this.clock.now().toISOString(),
      uetr: uetrOf(key),
      instructionId: messageIdOf('INS', key),
      endToEndId: endToEndIdOf(instruction.settlementId),
      transactionId: messageIdOf('TX', key),
      amount: instruction.amount,
      currency: instruction.currency,
      settlementDate: instruction.valueDate,
      instructingAgentBic: this.config.networkBic,
      instructedAgentBic: instruction.debtorAgentBic,
      creditorAgentBic: instruction.creditorAgentBic,
      debtorAccount: `NOSTRO#${instruction.debtorAgentBic}#${instruction.currency}`,
      remittance: instruction.reference,
      debtorName: this.config.networkName,
      ...(instruction.debtorIban && { debtorIban: instruction.debtorIban }),
      ...(instruction.creditorIban && { creditorIban: instruction.creditorIban }),
    };
  }

  private async initiate(instruction: TransferInstruction): Promise<TransferReceipt> {
    const transfer = this.creditTransferOf(instruction);
    let document: string;
    let header: string | undefined;
    let definition: MessageDefinition;
    switch (instruction.rail) {
      case 'SWIFT':
      case 'MOCK':
        definition = MessageDefinition.pacs009;
        document = buildPacs009(transfer);
        header = buildApplicationHeader({ fromBic: this.config.networkBic, toBic: instruction.debtorAgentBic, businessMessageId: transfer.messageId, messageDefinition: definition, createdAt: transfer.createdAt, businessService: cbprBusinessService });
        break;
      case 'SEPA':
        definition = MessageDefinition.pacs008;
        document = buildPacs008(transfer, 'SEPA');
        break;
      case 'ACH':
        definition = MessageDefinition.pacs008;
        document = buildPacs008(transfer, 'ACH');
        break;
    }
    const xml = envelope({ header, document });
    await this.journal.record({ settlementId: instruction.settlementId, direction: BankMessageDirection.sent, type: definition, messageId: transfer.messageId, at: transfer.createdAt, xml });
    let response: GatewayResponse;
    try {
      response = await this.call('POST', '/messages', xml);
    } catch (error) {
      // The request may have reached the bank: the outcome is unknown, and the status query will tell.
      if (error instanceof TransferOutcomeUnknownError || error instanceof BankUnavailableError) throw error;
      throw new TransferOutcomeUnknownError(`${instruction.rail} gateway: ${describe(error)}`, { cause: error });
    }
    if (response.status >= 500) throw new TransferOutcomeUnknownError(`${instruction.rail} gateway answered HTTP ${response.status}`);
    if (response.status !== 200) throw new TransferOutcomeUnknownError(`${instruction.rail} gateway refused the message: HTTP ${response.status} ${response.body.slice(0, 200)}`);
    return this.receiptFrom(instruction.settlementId, instruction.idempotencyKey, response.body, instruction.rail, TransferOutcomeUnknownError);
  }

  private async status(rail: Rail, idempotencyKey: string): Promise<TransferReceipt | undefined> {
    const response = await this.call('GET', `/transfers/${uetrOf(idempotencyKey)}/status`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new BankUnavailableError(`${rail} gateway status query answered HTTP ${response.status}`);
    return this.receiptFrom(settlementIdOfKey(idempotencyKey), idempotencyKey, response.body, rail, BankUnavailableError);
  }

  /** Reads a pacs.002 answer, records it, and maps its status; an unreadable answer is transient, never a verdict. */
  private async receiptFrom(settlementId: string, idempotencyKey: string, body: string, rail: Rail, onInvalid: typeof BankUnavailableError | typeof TransferOutcomeUnknownError): Promise<TransferReceipt> {
    let report;
    try {
      report = parsePacs002(openEnvelope(body, `pacs.002 from the ${rail} gateway`, [MessageDefinition.pacs002]).document);
    } catch (error) {
      if (error instanceof Iso20022MessageInvalidError) throw new onInvalid(`${rail} gateway sent an unreadable status report: ${error.message}`, { cause: error });
      throw error;
    }
    if (report.originalUetr !== uetrOf(idempotencyKey)) throw new onInvalid(`${rail} gateway answered about transfer ${report.originalUetr}, not ${uetrOf(idempotencyKey)}`);
    await this.journal.record({ settlementId, direction: BankMessageDirection.received, type: MessageDefinition.pacs002, messageId: report.messageId, at: this.clock.now().toISOString(), xml: body });
    const state = report.outcome === 'CONFIRMED' ? 'SETTLED' : report.outcome === 'REJECTED' ? 'REJECTED' : 'ACCEPTED';
    return {
      idempotencyKey,
      bankReference: report.accountServicerReference ?? report.originalUetr,
      state,
      ...(state === 'REJECTED' && { reason: report.additionalInformation ?? `status ${report.status}` }),
      ...(report.reasonCode && { reasonCode: report.reasonCode }),
    };
  }

  /**
   * camt.056 recall of the transfer sent under `idempotencyKey`. The original's details come from the message the
   * journal kept. The answer is a pacs.004 (returned: REVERSED) or a camt.029 (RJCR: REFUSED, PDCR: PENDING).
   */
  private async recall(rail: Rail, idempotencyKey: string, reason: string): Promise<ReversalReceipt> {
    const settlementId = settlementIdOfKey(idempotencyKey);
    const uetr = uetrOf(idempotencyKey);
    const original = await this.originalTransfer(settlementId, uetr);
    if (!original) return { idempotencyKey, state: 'REFUSED', reason: 'no transfer was sent under this key' };
    const createdAt = this.clock.now().toISOString();
    const caseId = messageIdOf('RCL', idempotencyKey);
    const document = buildCamt056({
      caseId,
      createdAt,
      assignerBic: this.config.networkBic,
      assigneeBic: original.instructedAgentBic,
      originalMessageId: original.messageId,
      originalDefinition: original.definition,
      originalEndToEndId: original.endToEndId,
      originalTransactionId: original.transactionId,
      originalUetr: uetr,
      originalAmount: original.amount,
      currency: original.currency,
      originalSettlementDate: original.settlementDate,
      reasonCode: 'TECH',
      additionalInformation: reason,
    });
    const header = buildApplicationHeader({ fromBic: this.config.networkBic, toBic: original.instructedAgentBic, businessMessageId: caseId, messageDefinition: MessageDefinition.camt056, createdAt });
    const xml = envelope({ header, document });
    await this.journal.record({ settlementId, direction: BankMessageDirection.sent, type: MessageDefinition.camt056, messageId: caseId, at: createdAt, xml });
    const response = await this.call('POST', '/messages', xml);
    if (response.status !== 200) throw new BankUnavailableError(`${rail} gateway answered the recall with HTTP ${response.status}`);
    let opened;
    try {
      opened = openEnvelope(response.body, `answer to recall ${caseId}`, [MessageDefinition.pacs004, MessageDefinition.camt029]);
    } catch (error) {
      if (error instanceof Iso20022MessageInvalidError) throw new BankUnavailableError(`${rail} gateway sent an unreadable answer to a recall: ${error.message}`, { cause: error });
      throw error;
    }
    const receivedAt = this.clock.now().toISOString();
    if (opened.definition === MessageDefinition.pacs004) {
      const returned = parsePacs004(opened.document);
      await this.journal.record({ settlementId, direction: BankMessageDirection.received, type: MessageDefinition.pacs004, messageId: `RTR-${caseId}`, at: receivedAt, xml: response.body });
      if (returned.originalUetr !== uetr) throw new BankUnavailableError(`pacs.004 returns ${returned.originalUetr}, not ${uetr}`);
      return { idempotencyKey, state: 'REVERSED', ...(returned.reasonCode && { reasonCode: returned.reasonCode }) };
    }
    const resolution = parseCamt029(opened.document);
    await this.journal.record({ settlementId, direction: BankMessageDirection.received, type: MessageDefinition.camt029, messageId: `RSL-${caseId}`, at: receivedAt, xml: response.body });
    if (resolution.status === 'PDCR') return { idempotencyKey, state: 'PENDING', ...(resolution.reasonCode && { reasonCode: resolution.reasonCode }) };
    return { idempotencyKey, state: 'REFUSED', reason: `recall refused${resolution.reasonCode ? ` (${resolution.reasonCode})` : ''}`, ...(resolution.reasonCode && { reasonCode: resolution.reasonCode }) };
  }

  private async originalTransfer(settlementId: string, uetr: string) {
    for (const message of await this.journal.list(settlementId)) {
      if (message.direction !== 'SENT' || (message.type !== MessageDefinition.pacs008 && message.type !== MessageDefinition.pacs009)) continue;
      const transfer = parseCreditTransfer(openEnvelope(message.xml, 'journalled transfer', [MessageDefinition.pacs008, MessageDefinition.pacs009]), 'journalled transfer');
      if (transfer.uetr === uetr) return transfer;
    }
    return undefined;
  }

  private async statement(request: StatementRequest): Promise<Statement> {
    const query = new URLSearchParams({ currency: request.currency, from: request.from, to: request.to });
    const response = await this.call('GET', `/accounts/${encodeURIComponent(request.accountId)}/statement?${query.toString()}`);
    if (response.status !== 200) throw new BankUnavailableError(`gateway statement of ${request.accountId} answered HTTP ${response.status}`);
    // Checked whole by the hardened reader first (DOCTYPE, size, depth, namespace), then streamed by the importer.
    parseXml(response.body, `camt.053 of ${request.accountId}`, [`urn:iso:std:iso:20022:tech:xsd:${MessageDefinition.camt053}`]);
    return camt053Statement(() => [response.body], { accountId: request.accountId, currency: request.currency });
  }

  private call(method: 'GET' | 'POST', path: string, body?: string): Promise<GatewayResponse> {
    const url = new URL(path, this.config.url);
    return new Promise<GatewayResponse>((resolve, reject) => {
      const outgoing = httpsRequest(
        url,
        { method, agent: this.agent, timeout: this.config.requestTimeoutMs, headers: { ...(body !== undefined && { 'content-type': 'application/xml; charset=utf-8', 'content-length': Buffer.byteLength(body) }) } },
        (incoming) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          incoming.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > this.config.responseBytesMax) {
              incoming.destroy();
              reject(new TransferOutcomeUnknownError(`gateway answer exceeds ${this.config.responseBytesMax} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          incoming.on('error', (error) => reject(new TransferOutcomeUnknownError(`gateway answer broke off: ${error.message}`, { cause: error })));
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new TransferOutcomeUnknownError(`gateway did not answer within ${this.config.requestTimeoutMs} ms`)));
      outgoing.on('error', (error) => {
        if (error instanceof TransferOutcomeUnknownError) return reject(error);
        const code = (error as NodeJS.ErrnoException).code;
        // Nothing reached the bank when the connection could not even be made (or TLS refused us): unavailable.
        if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || /certificate|SSL|TLS/i.test(error.message)) reject(new BankUnavailableError(`gateway unreachable: ${error.message}`, { cause: error }));
        else reject(new TransferOutcomeUnknownError(`gateway call failed: ${error.message}`, { cause: error }));
      });
      if (body !== undefined) outgoing.write(body);
      outgoing.end();
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
