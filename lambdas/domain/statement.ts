/**
 * A bank statement as the domain reconciles it (entities belong to the domain; the bank port speaks in them).
 */

/** One entry of a bank statement for an account (ISO 20022 camt.053 Ntry, reduced). */
export interface StatementEntry {
  /** The bank's own entry reference. */
  readonly entryReference: string;
  /** End-to-end reference: the settlement id (or movement id) the engine sent. */
  readonly endToEndId: string;
  /** Signed decimal string: negative for a debit of the account. */
  readonly amount: string;
  readonly currency: string;
  readonly bookingDate: string;
  readonly valueDate: string;
}

/** A statement for one account and period. */
export interface Statement {
  readonly accountId: string;
  readonly currency: string;
  readonly openingBalance: string;
  readonly closingBalance: string;
  /** Streamed so a statement of any length is reconciled in bounded memory. */
  readonly entries: AsyncIterable<StatementEntry>;
}
