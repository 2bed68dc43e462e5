/**
 * The bank port: every call to a payment rail goes through one BankClient. The mock (adapters/banks/mock-bank.ts)
 * implements it for local use and tests; SWIFT, SEPA and ACH adapters implement it in production.
 */
import type { Rail } from '../domain/settlement';
import type { Statement, StatementEntry } from '../domain/statement';

export type { Statement, StatementEntry };

/** What the bank says about a transfer. */
export type TransferState =
  /** Accepted for processing; not yet settled. */
  | 'ACCEPTED'
  /** Settled at the bank: money has left the nostro. */
  | 'SETTLED'
  /** Refused: no money left. */
  | 'REJECTED'
  /** Reversed at our request after it had been accepted or settled. */
  | 'REVERSED';

export interface TransferInstruction {
  /** Idempotency key the bank deduplicates on: `<settlementId>:<attempt>`. */
  readonly idempotencyKey: string;
  readonly settlementId: string;
  readonly rail: Rail;
  /** Bank holding the nostro the payout leaves from. */
  readonly debtorAgentBic: string;
  readonly creditorAgentBic: string;
  /** Decimal string in the currency's minor units. */
  readonly amount: string;
  readonly currency: string;
  readonly valueDate: string;
  readonly reference: string;
  /** The payer's and payee's account IBANs, when the settlement carries them (always on SEPA through ISO 20022). */
  readonly debtorIban?: string;
  readonly creditorIban?: string;
}

export interface TransferReceipt {
  readonly idempotencyKey: string;
  readonly bankReference: string;
  readonly state: TransferState;
  /** Bank's reason text when REJECTED. */
  readonly reason?: string;
  /** ISO 20022 external status reason code (AC04, AM04, ...) when the rail gives one. */
  readonly reasonCode?: string;
}

export interface ReversalReceipt {
  readonly idempotencyKey: string;
  readonly state: 'REVERSED' | 'PENDING' | 'REFUSED';
  readonly reason?: string;
  readonly reasonCode?: string;
}

export interface StatementRequest {
  /** Engine account id the statement is for (NOSTRO#<BIC>#<CCY> or VOSTRO#<BIC>#<CCY>). */
  readonly accountId: string;
  readonly bic: string;
  readonly currency: string;
  /** Inclusive ISO timestamps. */
  readonly from: string;
  readonly to: string;
}

export interface BankClient {
  readonly rail: Rail;
  /** Idempotent on `idempotencyKey`: a repeated call returns the first call's receipt. */
  initiateTransfer(instruction: TransferInstruction): Promise<TransferReceipt>;
  /** The transfer's current state, or undefined when the bank never received this key. */
  getTransfer(idempotencyKey: string): Promise<TransferReceipt | undefined>;
  /** Asks for a reversal of an accepted or settled transfer. Idempotent on `idempotencyKey`. */
  reverseTransfer(idempotencyKey: string, reason: string): Promise<ReversalReceipt>;
  statement(request: StatementRequest): Promise<Statement>;
}

/** Picks the bank client for a rail. */
export interface BankDirectory {
  forRail(rail: Rail): BankClient;
  /**
   * Returns (pacs.004) the bank reported since `since` (ISO instant) of transfers it had settled: a beneficiary
   * bank sending the money back after the settlement completed. At most bankReturnsPageMax; absent when the bank
   * adapter has no such feed (the in-process mock bank).
   */
  listReturns?(since: string): Promise<readonly BankReturn[]>;
}

/** Returns read per call of listReturns. */
export const bankReturnsPageMax = 100;

/** A return of a settled transfer, as the bank reported it. */
export interface BankReturn {
  /** The bank's return identification (RtrId): the idempotency key of booking it. */
  readonly returnId: string;
  readonly messageId: string;
  /** The original transfer's end-to-end id: the settlement id (docs/rails.md). */
  readonly originalEndToEndId: string;
  readonly originalUetr: string;
  /** Decimal string. */
  readonly amount: string;
  readonly currency: string;
  /** ISO external return reason (AC04, AM05, FOCR, ...). */
  readonly reasonCode: string;
  readonly type: string;
  /** The message as it crossed the wire. */
  readonly xml: string;
}

export const BankMessageDirection = { sent: 'SENT', received: 'RECEIVED' } as const;
export type BankMessageDirection = (typeof BankMessageDirection)[keyof typeof BankMessageDirection];

/** One message exchanged with a bank for a settlement, kept with the settlement for operators and audits. */
export interface BankMessage {
  readonly settlementId: string;
  readonly direction: BankMessageDirection;
  /** ISO 20022 message definition ("pacs.008.001.08", "pacs.002.001.10", ...). */
  readonly type: string;
  /** The message's own identifier (MsgId, case id). */
  readonly messageId: string;
  readonly at: string;
  /** The message as it crossed the wire. */
  readonly xml: string;
}

/** Where the bank adapter records every message it sends and receives. */
export interface BankMessageJournal {
  record(message: BankMessage): Promise<void>;
  /** A settlement's messages, oldest first (bounded by bankMessagesPerSettlementMax). */
  list(settlementId: string): Promise<BankMessage[]>;
}

/** Messages kept per settlement; a settlement exchanges a handful (transfer, status reports, recall, answer). */
export const bankMessagesPerSettlementMax = 200;
