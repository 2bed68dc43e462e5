/**
 * ISO 20022 messages of the bank rails, built with fast-xml-parser's XMLBuilder and read with the hardened parser
 * (xml.ts). Pure functions: no I/O, no clock (times are arguments), so every message is reproducible in tests and
 * each one is validated there against the vendored official schema (schemas/iso20022/).
 *
 * Versions: the ones SWIFT CBPR+ and the EPC SCT 2025 interbank implementation guidelines name
 * (schemas/iso20022/README.md): pacs.008.001.08 (SEPA credit transfer), pacs.009.001.08 with the head.001.001.02
 * business application header (SWIFT CBPR+ financial institution transfer), pacs.002.001.10 (status report),
 * camt.056.001.08 (recall), pacs.004.001.09 (return), camt.029.001.09 (answer to a recall that returns nothing),
 * camt.053.001.08 (statement).
 */
import { createHash } from 'node:crypto';
import { XMLBuilder } from 'fast-xml-parser';
import { Iso20022MessageInvalidError } from '../../../domain/errors';
import { at, child, parseXml, requiredText, textAt, type XmlElement } from './xml';

export const MessageDefinition = {
  head001: 'head.001.001.02',
  pacs008: 'pacs.008.001.08',
  pacs009: 'pacs.009.001.08',
  pacs002: 'pacs.002.001.10',
  pacs004: 'pacs.004.001.09',
  camt056: 'camt.056.001.08',
  camt029: 'camt.029.001.09',
  camt053: 'camt.053.001.08',
} as const;
export type MessageDefinition = (typeof MessageDefinition)[keyof typeof MessageDefinition];

export const namespaceOf = (definition: MessageDefinition) => `urn:iso:std:iso:20022:tech:xsd:${definition}`;

/** Namespace of the gateway envelope that carries a business application header and a document over HTTPS. */
export const envelopeNamespace = 'urn:deltran:settlement:bank-gateway:envelope:1';

/** CBPR+ business service of the header (SWIFT's usage guidelines name it so). */
export const cbprBusinessService = 'swift.cbprplus.02';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: true, processEntities: true });

/** ISO Max35Text identifiers: derived from a key so that a repeated call produces the same message id. */
export function messageIdOf(prefix: string, key: string): string {
  return `${prefix}${createHash('sha256').update(key).digest('hex').slice(0, 32 - prefix.length).toUpperCase()}`.slice(0, 35);
}

/** A UUIDv4-shaped UETR derived from the idempotency key: stable across retries, unique per transfer. */
export function uetrOf(key: string): string {
  const hex = createHash('sha256').update(`uetr:${key}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The end-to-end reference: the settlement id when it fits Max35Text, else a stable digest of it. */
export function endToEndIdOf(settlementId: string): string {
  return settlementId.length <= 35 ? settlementId : messageIdOf('E2E', settlementId);
}

/** EPC SCT character set (Latin): a-z A-Z 0-9 / - ? : ( ) . , ' + and space. */
const sepaCharacter = /[A-Za-z0-9/\-?:().,'+ ]/;
/** Converts text to the SEPA character set, as the EPC rulebook allows: each other character becomes ".". */
export function toSepaText(text: string): string {
  return [...text].map((character) => (sepaCharacter.test(character) ? character : '.')).join('');
}

const agent = (bic: string) => ({ FinInstnId: { BICFI: bic } });
const amount = (value: string, currency: string) => ({ '#text': value, '@Ccy': currency });
const document = (definition: MessageDefinition, body: Record<string, unknown>) => builder.build({ Document: { '@xmlns': namespaceOf(definition), ...body } }) as string;

export interface CreditTransfer {
  readonly messageId: string;
  /** ISO date-time of creation. */
  readonly createdAt: string;
  readonly uetr: string;
  readonly instructionId: string;
  readonly endToEndId: string;
  readonly transactionId: string;
  /** Decimal string in the currency's minor units. */
  readonly amount: string;
  readonly currency: string;
  readonly settlementDate: string;
  /** The network (us). */
  readonly instructingAgentBic: string;
  /** The correspondent holding our nostro, that executes the payout. */
  readonly instructedAgentBic: string;
  /** The beneficiary bank. */
  readonly creditorAgentBic: string;
  /** Debtor account identification (the nostro the payout leaves from). */
  readonly debtorAccount: string;
  readonly remittance: string;
  readonly debtorName: string;
  /** The debtor's and creditor's account IBANs: mandatory under SEPA (EPC SCT), used on ACH when given. */
  readonly debtorIban?: string;
  readonly creditorIban?: string;
}

/** The scheme a pacs.008 is sent under: SEPA (EPC SCT) or the local ACH's ISO 20022 credit transfer. */
export type CreditTransferScheme = 'SEPA' | 'ACH';

/**
 * pacs.008. Under SEPA it follows the EPC SCT interbank rules: EUR only, service level SEPA, SLEV charges, agents by
 * BIC, remittance of at most 140 characters in the SEPA (Latin) character set. Under ACH: the local scheme's
 * credit transfer (local instrument ACH, any currency the scheme clears).
 */
export function buildPacs008(transfer: CreditTransfer, scheme: CreditTransferScheme): string {
  const sepa = scheme === 'SEPA';
  if (sepa && transfer.currency !== 'EUR') throw new Iso20022MessageInvalidError('pacs.008 for SEPA', `cannot carry ${transfer.currency}: SEPA settles EUR only`);
  if (sepa && (!transfer.debtorIban || !transfer.creditorIban)) throw new Iso20022MessageInvalidError('pacs.008 for SEPA', 'needs the debtor\'s and the creditor\'s IBAN (EPC SCT)');
  const text = (value: string) => (sepa ? toSepaText(value) : value);
  return document(MessageDefinition.pacs008, {
    FIToFICstmrCdtTrf: {
      GrpHdr: {
        MsgId: transfer.messageId,
        CreDtTm: transfer.createdAt,
        NbOfTxs: '1',
        TtlIntrBkSttlmAmt: amount(transfer.amount, transfer.currency),
        IntrBkSttlmDt: transfer.settlementDate,
        SttlmInf: { SttlmMtd: 'CLRG', ClrSys: { Prtry: sepa ? 'ST2' : 'ACH' } },
        InstgAgt: agent(transfer.instructingAgentBic),
        InstdAgt: agent(transfer.instructedAgentBic),
      },
      CdtTrfTxInf: {
        PmtId: { InstrId: transfer.instructionId, EndToEndId: transfer.endToEndId, TxId: transfer.transactionId, UETR: transfer.uetr },
        PmtTpInf: sepa ? { SvcLvl: { Cd: 'SEPA' } } : { SvcLvl: { Cd: 'NURG' }, LclInstrm: { Prtry: 'ACH' } },
        IntrBkSttlmAmt: amount(transfer.amount, transfer.currency),
        ChrgBr: 'SLEV',
        Dbtr: { Nm: text(transfer.debtorName).slice(0, 70), Id: { OrgId: { AnyBIC: transfer.instructingAgentBic } } },
        DbtrAcct: { Id: transfer.debtorIban ? { IBAN: transfer.debtorIban } : { Othr: { Id: text(transfer.debtorAccount).slice(0, 34) } } },
        DbtrAgt: agent(transfer.instructedAgentBic),
        CdtrAgt: agent(transfer.creditorAgentBic),
        Cdtr: { Nm: transfer.creditorAgentBic, Id: { OrgId: { AnyBIC: transfer.creditorAgentBic } } },
        CdtrAcct: { Id: transfer.creditorIban ? { IBAN: transfer.creditorIban } : { Othr: { Id: transfer.creditorAgentBic } } },
        RmtInf: { Ustrd: text(transfer.remittance).slice(0, 140) },
      },
    },
  });
}

/** pacs.009 (CBPR+ financial institution credit transfer, core): the network pays the beneficiary bank through its correspondent. */
export function buildPacs009(transfer: CreditTransfer): string {
  return document(MessageDefinition.pacs009, {
    FICdtTrf: {
      GrpHdr: { MsgId: transfer.messageId, CreDtTm: transfer.createdAt, NbOfTxs: '1', SttlmInf: { SttlmMtd: 'INDA' } },
      CdtTrfTxInf: {
        PmtId: { InstrId: transfer.instructionId, EndToEndId: transfer.endToEndId, TxId: transfer.transactionId, UETR: transfer.uetr },
        IntrBkSttlmAmt: amount(transfer.amount, transfer.currency),
        IntrBkSttlmDt: transfer.settlementDate,
        InstgAgt: agent(transfer.instructingAgentBic),
        InstdAgt: agent(transfer.instructedAgentBic),
        Dbtr: agent(transfer.instructingAgentBic),
        DbtrAcct: { Id: { Othr: { Id: transfer.debtorAccount.slice(0, 34) } } },
        CdtrAgt: agent(transfer.creditorAgentBic),
        Cdtr: agent(transfer.creditorAgentBic),
        RmtInf: { Ustrd: transfer.remittance.slice(0, 140) },
      },
    },
  });
}

export interface ApplicationHeader {
  readonly fromBic: string;
  readonly toBic: string;
  readonly businessMessageId: string;
  readonly messageDefinition: MessageDefinition;
  readonly createdAt: string;
  readonly businessService?: string;
}

/** head.001 business application header (CBPR+ requires it on every message). */
export function buildApplicationHeader(header: ApplicationHeader): string {
  return builder.build({
    AppHdr: {
      '@xmlns': namespaceOf(MessageDefinition.head001),
      Fr: { FIId: agent(header.fromBic) },
      To: { FIId: agent(header.toBic) },
      BizMsgIdr: header.businessMessageId,
      MsgDefIdr: header.messageDefinition,
      ...(header.businessService && { BizSvc: header.businessService }),
      CreDt: header.createdAt,
    },
  }) as string;
}

/** A business message as it crosses the gateway: an optional header and the document, in one envelope. */
export interface BusinessMessage {
  readonly header?: string;
  readonly document: string;
}

export function envelope(message: BusinessMessage): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="${envelopeNamespace}">${message.header ?? ''}${message.document}</Envelope>`;
}

export interface OpenedEnvelope {
  readonly header?: XmlElement;
  readonly document: XmlElement;
  /** The document's message definition, from its namespace (e.g. "pacs.002.001.11"). */
  readonly definition: MessageDefinition;
}

const knownDefinitions = Object.values(MessageDefinition) as readonly string[];

/** Reads a gateway envelope, refusing hostile or malformed XML and documents of unexpected definitions. */
export function openEnvelope(xml: string, what: string, expected: readonly MessageDefinition[]): OpenedEnvelope {
  const root = parseXml(xml, what, [envelopeNamespace]);
  if (root.name !== 'Envelope') throw new Iso20022MessageInvalidError(what, `root element is ${root.name}, expected Envelope`);
  const header = root.children.find((element) => element.name === 'AppHdr');
  const documentElement = root.children.find((element) => element.name === 'Document');
  if (!documentElement) throw new Iso20022MessageInvalidError(what, 'carries no Document');
  const definition = documentElement.namespace.replace('urn:iso:std:iso:20022:tech:xsd:', '');
  if (!knownDefinitions.includes(definition) || !(expected as readonly string[]).includes(definition)) {
    throw new Iso20022MessageInvalidError(what, `carries a Document in namespace "${documentElement.namespace.slice(0, 80)}", expected ${expected.join(' or ')}`);
  }
  if (header && header.namespace !== namespaceOf(MessageDefinition.head001)) throw new Iso20022MessageInvalidError(what, `header is in namespace "${header.namespace.slice(0, 80)}", expected ${MessageDefinition.head001}`);
  return { ...(header && { header }), document: documentElement, definition: definition as MessageDefinition };
}

/** How a pacs.002 transaction status maps onto the engine's view of a transfer. */
export type StatusOutcome = 'CONFIRMED' | 'REJECTED' | 'PENDING';

/**
 * ISO external payment transaction status codes → outcome. Settled (ACSC, ACCC) confirms; RJCT rejects; the
 * acceptance and pending statuses keep the transfer pending. An unknown code is pending, never a confirmation.
 */
export function outcomeOfStatus(status: string): StatusOutcome {
  switch (status) {
    case 'ACSC':
    case 'ACCC':
      return 'CONFIRMED';
    case 'RJCT':
      return 'REJECTED';
    default:
      return 'PENDING';
  }
}

export interface StatusReport {
  readonly messageId: string;
  readonly createdAt: string;
  readonly originalMessageId: string;
  readonly originalDefinition: MessageDefinition;
  readonly originalEndToEndId: string;
  readonly originalTransactionId: string;
  readonly originalUetr: string;
  /** ISO external payment transaction status (ACSC, ACSP, PDNG, RJCT, ...). */
  readonly status: string;
  /** ISO external status reason code (AC04, AM04, ...). */
  readonly reasonCode?: string;
  readonly additionalInformation?: string;
  /** The bank's reference for the transfer. */
  readonly accountServicerReference?: string;
}

export function buildPacs002(report: StatusReport): string {
  return document(MessageDefinition.pacs002, {
    FIToFIPmtStsRpt: {
      GrpHdr: { MsgId: report.messageId, CreDtTm: report.createdAt },
      TxInfAndSts: {
        OrgnlGrpInf: { OrgnlMsgId: report.originalMessageId, OrgnlMsgNmId: report.originalDefinition },
        OrgnlEndToEndId: report.originalEndToEndId,
        OrgnlTxId: report.originalTransactionId,
        OrgnlUETR: report.originalUetr,
        TxSts: report.status,
        ...((report.reasonCode || report.additionalInformation) && {
          StsRsnInf: { ...(report.reasonCode && { Rsn: { Cd: report.reasonCode } }), ...(report.additionalInformation && { AddtlInf: report.additionalInformation.slice(0, 105) }) },
        }),
        ...(report.accountServicerReference && { AcctSvcrRef: report.accountServicerReference }),
      },
    },
  });
}

export function parsePacs002(documentElement: XmlElement, what = 'pacs.002'): StatusReport & { readonly outcome: StatusOutcome } {
  const report = child(documentElement, 'FIToFIPmtStsRpt');
  const transaction = child(report, 'TxInfAndSts');
  if (!report || !transaction) throw new Iso20022MessageInvalidError(what, 'has no FIToFIPmtStsRpt/TxInfAndSts');
  const status = requiredText(transaction, 'TxSts', what);
  if (!/^[A-Z]{4}$/.test(status)) throw new Iso20022MessageInvalidError(what, `has transaction status "${status.slice(0, 10)}", not an ISO code`);
  const reasonCode = textAt(transaction, 'StsRsnInf/Rsn/Cd');
  if (reasonCode !== undefined && !/^[A-Z0-9]{1,4}$/.test(reasonCode)) throw new Iso20022MessageInvalidError(what, `has reason code "${reasonCode.slice(0, 10)}", not an ISO code`);
  return {
    messageId: requiredText(report, 'GrpHdr/MsgId', what),
    createdAt: requiredText(report, 'GrpHdr/CreDtTm', what),
    originalMessageId: textAt(transaction, 'OrgnlGrpInf/OrgnlMsgId') ?? '',
    originalDefinition: (textAt(transaction, 'OrgnlGrpInf/OrgnlMsgNmId') ?? '') as MessageDefinition,
    originalEndToEndId: textAt(transaction, 'OrgnlEndToEndId') ?? '',
    originalTransactionId: textAt(transaction, 'OrgnlTxId') ?? '',
    originalUetr: requiredText(transaction, 'OrgnlUETR', what),
    status,
    ...(reasonCode && { reasonCode }),
    ...(textAt(transaction, 'StsRsnInf/AddtlInf') && { additionalInformation: textAt(transaction, 'StsRsnInf/AddtlInf') }),
    ...(textAt(transaction, 'AcctSvcrRef') && { accountServicerReference: textAt(transaction, 'AcctSvcrRef') }),
    outcome: outcomeOfStatus(status),
  };
}

/** The transfer a pacs.008 or pacs.009 carries, as the receiving bank reads it (the simulator). */
export interface ReceivedTransfer {
  readonly definition: MessageDefinition;
  readonly messageId: string;
  readonly uetr: string;
  readonly endToEndId: string;
  readonly transactionId: string;
  readonly amount: string;
  readonly currency: string;
  readonly settlementDate: string;
  readonly instructedAgentBic: string;
  readonly creditorAgentBic: string;
  readonly debtorAccount: string;
  readonly remittance: string;
  readonly debtorIban?: string;
  readonly creditorIban?: string;
}

export function parseCreditTransfer(opened: OpenedEnvelope, what: string): ReceivedTransfer {
  const body = child(opened.document, opened.definition === MessageDefinition.pacs008 ? 'FIToFICstmrCdtTrf' : 'FICdtTrf');
  const transaction = child(body, 'CdtTrfTxInf');
  if (!body || !transaction) throw new Iso20022MessageInvalidError(what, 'has no credit transfer transaction');
  const amountElement = at(transaction, 'IntrBkSttlmAmt');
  const value = requiredText(transaction, 'IntrBkSttlmAmt', what);
  if (!/^\d{1,13}(\.\d{1,5})?$/.test(value)) throw new Iso20022MessageInvalidError(what, `has amount "${value.slice(0, 20)}"`);
  return {
    definition: opened.definition,
    messageId: requiredText(body, 'GrpHdr/MsgId', what),
    uetr: requiredText(transaction, 'PmtId/UETR', what),
    endToEndId: requiredText(transaction, 'PmtId/EndToEndId', what),
    transactionId: textAt(transaction, 'PmtId/TxId') ?? '',
    amount: value,
    currency: amountElement?.attributes.Ccy ?? '',
    settlementDate: textAt(transaction, 'IntrBkSttlmDt') ?? textAt(body, 'GrpHdr/IntrBkSttlmDt') ?? '',
    instructedAgentBic: textAt(transaction, 'InstdAgt/FinInstnId/BICFI') ?? textAt(body, 'GrpHdr/InstdAgt/FinInstnId/BICFI') ?? '',
    creditorAgentBic: requiredText(transaction, 'CdtrAgt/FinInstnId/BICFI', what),
    debtorAccount: textAt(transaction, 'DbtrAcct/Id/Othr/Id') ?? textAt(transaction, 'DbtrAcct/Id/IBAN') ?? '',
    remittance: textAt(transaction, 'RmtInf/Ustrd') ?? '',
    ...(textAt(transaction, 'DbtrAcct/Id/IBAN') && { debtorIban: textAt(transaction, 'DbtrAcct/Id/IBAN') }),
    ...(textAt(transaction, 'CdtrAcct/Id/IBAN') && { creditorIban: textAt(transaction, 'CdtrAcct/Id/IBAN') }),
  };
}

export interface RecallRequest {
  readonly caseId: string;
  readonly createdAt: string;
  readonly assignerBic: string;
  readonly assigneeBic: string;
  readonly originalMessageId: string;
  readonly originalDefinition: MessageDefinition;
  readonly originalEndToEndId: string;
  readonly originalTransactionId: string;
  readonly originalUetr: string;
  readonly originalAmount: string;
  readonly currency: string;
  readonly originalSettlementDate: string;
  /** ISO external cancellation reason (DUPL, TECH, FRAD, ...). */
  readonly reasonCode: string;
  readonly additionalInformation?: string;
}

/** camt.056: asks the correspondent to recall (cancel or return) a transfer that went out. */
export function buildCamt056(recall: RecallRequest): string {
  return document(MessageDefinition.camt056, {
    FIToFIPmtCxlReq: {
      Assgnmt: { Id: recall.caseId, Assgnr: { Agt: agent(recall.assignerBic) }, Assgne: { Agt: agent(recall.assigneeBic) }, CreDtTm: recall.createdAt },
      Undrlyg: {
        TxInf: {
          CxlId: recall.caseId,
          OrgnlGrpInf: { OrgnlMsgId: recall.originalMessageId, OrgnlMsgNmId: recall.originalDefinition },
          OrgnlEndToEndId: recall.originalEndToEndId,
          OrgnlTxId: recall.originalTransactionId,
          OrgnlUETR: recall.originalUetr,
          OrgnlIntrBkSttlmAmt: amount(recall.originalAmount, recall.currency),
          OrgnlIntrBkSttlmDt: recall.originalSettlementDate,
          CxlRsnInf: { Rsn: { Cd: recall.reasonCode }, ...(recall.additionalInformation && { AddtlInf: recall.additionalInformation.slice(0, 105) }) },
        },
      },
    },
  });
}

export function parseCamt056(documentElement: XmlElement, what = 'camt.056'): { readonly caseId: string; readonly originalUetr: string; readonly reasonCode: string } {
  const request = child(documentElement, 'FIToFIPmtCxlReq');
  if (!request) throw new Iso20022MessageInvalidError(what, 'has no FIToFIPmtCxlReq');
  return {
    caseId: requiredText(request, 'Assgnmt/Id', what),
    originalUetr: requiredText(request, 'Undrlyg/TxInf/OrgnlUETR', what),
    reasonCode: textAt(request, 'Undrlyg/TxInf/CxlRsnInf/Rsn/Cd') ?? '',
  };
}

export interface PaymentReturn {
  readonly messageId: string;
  readonly createdAt: string;
  readonly returnId: string;
  readonly originalMessageId: string;
  readonly originalDefinition: MessageDefinition;
  readonly originalEndToEndId: string;
  readonly originalUetr: string;
  readonly returnedAmount: string;
  readonly currency: string;
  readonly settlementDate: string;
  /** ISO external return reason (FOCR: following cancellation request, AC04, ...). */
  readonly reasonCode: string;
}

/** pacs.004: the funds come back (the answer to an accepted recall, or a return by the beneficiary bank). */
export function buildPacs004(payment: PaymentReturn): string {
  return document(MessageDefinition.pacs004, {
    PmtRtr: {
      GrpHdr: { MsgId: payment.messageId, CreDtTm: payment.createdAt, NbOfTxs: '1', SttlmInf: { SttlmMtd: 'INDA' } },
      TxInf: {
        RtrId: payment.returnId,
        OrgnlGrpInf: { OrgnlMsgId: payment.originalMessageId, OrgnlMsgNmId: payment.originalDefinition },
        OrgnlEndToEndId: payment.originalEndToEndId,
        OrgnlUETR: payment.originalUetr,
        RtrdIntrBkSttlmAmt: amount(payment.returnedAmount, payment.currency),
        IntrBkSttlmDt: payment.settlementDate,
        RtrRsnInf: { Rsn: { Cd: payment.reasonCode } },
      },
    },
  });
}

export function parsePacs004(
  documentElement: XmlElement,
  what = 'pacs.004',
): { readonly messageId: string; readonly returnId: string; readonly originalEndToEndId: string; readonly originalUetr: string; readonly returnedAmount: string; readonly currency: string; readonly reasonCode: string } {
  const payment = child(documentElement, 'PmtRtr');
  const transaction = child(payment, 'TxInf');
  if (!payment || !transaction) throw new Iso20022MessageInvalidError(what, 'has no PmtRtr/TxInf');
  const returnedAmount = requiredText(transaction, 'RtrdIntrBkSttlmAmt', what);
  if (!/^\d{1,13}(\.\d{1,5})?$/.test(returnedAmount)) throw new Iso20022MessageInvalidError(what, `has returned amount "${returnedAmount.slice(0, 20)}"`);
  return {
    messageId: requiredText(payment, 'GrpHdr/MsgId', what),
    returnId: textAt(transaction, 'RtrId') ?? requiredText(payment, 'GrpHdr/MsgId', what),
    originalEndToEndId: textAt(transaction, 'OrgnlEndToEndId') ?? '',
    originalUetr: requiredText(transaction, 'OrgnlUETR', what),
    returnedAmount,
    currency: at(transaction, 'RtrdIntrBkSttlmAmt')?.attributes.Ccy ?? '',
    reasonCode: textAt(transaction, 'RtrRsnInf/Rsn/Cd') ?? '',
  };
}

export interface RecallResolution {
  readonly caseId: string;
  readonly createdAt: string;
  readonly assignerBic: string;
  readonly assigneeBic: string;
  readonly originalUetr: string;
  /** RJCR (recall refused) or PDCR (pending); an accepted recall is answered with a pacs.004 instead. */
  readonly status: 'RJCR' | 'PDCR';
  /** ISO external payment cancellation rejection code (LEGL, NOAS, AC04, ...). */
  readonly reasonCode?: string;
}

/** camt.029: the correspondent's answer to a recall it does not (yet) honour. */
export function buildCamt029(resolution: RecallResolution): string {
  return document(MessageDefinition.camt029, {
    RsltnOfInvstgtn: {
      Assgnmt: { Id: resolution.caseId, Assgnr: { Agt: agent(resolution.assignerBic) }, Assgne: { Agt: agent(resolution.assigneeBic) }, CreDtTm: resolution.createdAt },
      Sts: { Conf: resolution.status === 'RJCR' ? 'RJCR' : 'PDCR' },
      CxlDtls: {
        TxInfAndSts: {
          OrgnlUETR: resolution.originalUetr,
          TxCxlSts: resolution.status,
          ...(resolution.reasonCode && { CxlStsRsnInf: { Rsn: { Cd: resolution.reasonCode } } }),
        },
      },
    },
  });
}

export function parseCamt029(documentElement: XmlElement, what = 'camt.029'): { readonly status: string; readonly reasonCode?: string } {
  const resolution = child(documentElement, 'RsltnOfInvstgtn');
  if (!resolution) throw new Iso20022MessageInvalidError(what, 'has no RsltnOfInvstgtn');
  const reasonCode = textAt(resolution, 'CxlDtls/TxInfAndSts/CxlStsRsnInf/Rsn/Cd');
  return { status: textAt(resolution, 'CxlDtls/TxInfAndSts/TxCxlSts') ?? requiredText(resolution, 'Sts/Conf', what), ...(reasonCode && { reasonCode }) };
}

export interface StatementEntryOut {
  readonly entryReference: string;
  /** Signed decimal string: negative debits the account. */
  readonly amount: string;
  readonly bookingDate: string;
  readonly valueDate: string;
  readonly endToEndId: string;
  readonly uetr?: string;
}

export interface AccountStatementOut {
  readonly messageId: string;
  readonly createdAt: string;
  readonly statementId: string;
  readonly account: string;
  readonly currency: string;
  readonly servicerBic: string;
  /** Signed decimal strings. */
  readonly openingBalance: string;
  readonly closingBalance: string;
  readonly fromDate: string;
  readonly toDate: string;
  readonly entries: readonly StatementEntryOut[];
}

const unsigned = (signed: string) => (signed.startsWith('-') ? signed.slice(1) : signed);
const creditDebit = (signed: string) => (signed.startsWith('-') ? 'DBIT' : 'CRDT');

/** camt.053: the end-of-day statement of one account. */
export function buildCamt053(statement: AccountStatementOut): string {
  const balance = (code: string, value: string, date: string) => ({ Tp: { CdOrPrtry: { Cd: code } }, Amt: amount(unsigned(value), statement.currency), CdtDbtInd: creditDebit(value), Dt: { Dt: date } });
  return document(MessageDefinition.camt053, {
    BkToCstmrStmt: {
      GrpHdr: { MsgId: statement.messageId, CreDtTm: statement.createdAt },
      Stmt: {
        Id: statement.statementId,
        CreDtTm: statement.createdAt,
        Acct: { Id: { Othr: { Id: statement.account.slice(0, 34) } }, Ccy: statement.currency, Svcr: agent(statement.servicerBic) },
        Bal: [balance('OPBD', statement.openingBalance, statement.fromDate), balance('CLBD', statement.closingBalance, statement.toDate)],
        Ntry: statement.entries.map((entry) => ({
          NtryRef: entry.entryReference,
          Amt: amount(unsigned(entry.amount), statement.currency),
          CdtDbtInd: creditDebit(entry.amount),
          Sts: { Cd: 'BOOK' },
          BookgDt: { Dt: entry.bookingDate },
          ValDt: { Dt: entry.valueDate },
          AcctSvcrRef: entry.entryReference,
          BkTxCd: { Domn: { Cd: 'PMNT', Fmly: { Cd: 'ICDT', SubFmlyCd: 'XBCT' } } },
          NtryDtls: { TxDtls: { Refs: { EndToEndId: entry.endToEndId, ...(entry.uetr && { UETR: entry.uetr }) }, Amt: amount(unsigned(entry.amount), statement.currency), CdtDbtInd: creditDebit(entry.amount) } },
        })),
      },
    },
  });
}

/** The text of a parsed element (for tests and logs). */
export { parseXml };
