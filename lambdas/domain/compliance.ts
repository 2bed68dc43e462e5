/**
 * Compliance checks of the Validate stage: sanctions screening of payer and payee (BIC, and the registered bank name
 * where known), per-currency and per-bank amount limits, and a net debit cap per participant. Pure: the policy and
 * the facts are arguments; a refusal is a typed business error with a stable code, thrown before anything is locked.
 */
import { Money } from './money';
import { AmountLimitExceededError, NetDebitCapExceededError, SanctionsHitError, invariant } from './errors';

export interface SanctionedParty {
  /** The list's own id for the entry (OFAC ent_num). */
  readonly entryId: string;
  readonly name: string;
  readonly programs: readonly string[];
  /** BICs the entry names (8 or 11 characters as listed). */
  readonly bics: readonly string[];
}

export interface SanctionsList {
  /** Where the list came from (file name), for the refusal's detail. */
  readonly source: string;
  readonly parties: readonly SanctionedParty[];
}

export interface CompliancePolicy {
  readonly sanctions: SanctionsList;
  /** Largest single settlement per currency. */
  readonly amountLimitPerCurrency: Readonly<Record<string, Money>>;
  /** Largest single settlement per bank (payer or payee) and currency. */
  readonly amountLimitPerBank: Readonly<Record<string, Readonly<Record<string, Money>>>>;
  /** Largest unsettled debit position per participant and currency (its vostro's held amount, this one included). */
  readonly netDebitCaps: Readonly<Record<string, Readonly<Record<string, Money>>>>;
}

export interface ComplianceFacts {
  readonly payerBic: string;
  readonly payeeBic: string;
  readonly payerName?: string;
  readonly payeeName?: string;
  readonly amount: Money;
  readonly currency: string;
  /**
   * What the payer's vostro holds already for other settlements; read only when the payer has a net debit cap in
   * the currency (a hot account's held sum is a read of every shard).
   */
  readonly payerHeld?: Money;
}

/** Upper-case letters and digits only, single spaces: how names are compared. */
export function normalizedName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, ' ').trim();
}

/** The sanctioned party a BIC or name matches, if any. A BIC matches by its 8-character institution code. */
export function screen(list: SanctionsList, bic: string, name?: string): SanctionedParty | undefined {
  const institution = bic.slice(0, 8);
  const wanted = name ? normalizedName(name) : undefined;
  return list.parties.find((party) => party.bics.some((listed) => listed.slice(0, 8) === institution) || (wanted !== undefined && wanted.length > 0 && normalizedName(party.name) === wanted));
}

/** Throws the first refusal: sanctions (payer, then payee), then amount limits, then the payer's net debit cap. */
export function assertCompliant(policy: CompliancePolicy, facts: ComplianceFacts): void {
  for (const [role, bic, name] of [['payer', facts.payerBic, facts.payerName], ['payee', facts.payeeBic, facts.payeeName]] as const) {
    const hit = screen(policy.sanctions, bic, name);
    if (hit) throw new SanctionsHitError(role, bic, `${hit.name} (${policy.sanctions.source} entry ${hit.entryId}, programs ${hit.programs.join(', ') || 'none'})`);
  }
  const currencyLimit = policy.amountLimitPerCurrency[facts.currency];
  if (currencyLimit && facts.amount.greaterThan(currencyLimit)) throw new AmountLimitExceededError(`${facts.currency}`, currencyLimit.toFixed(), facts.amount.toFixed());
  for (const bic of [facts.payerBic, facts.payeeBic]) {
    const bankLimit = policy.amountLimitPerBank[bic]?.[facts.currency];
    if (bankLimit && facts.amount.greaterThan(bankLimit)) throw new AmountLimitExceededError(`${bic} ${facts.currency}`, bankLimit.toFixed(), facts.amount.toFixed());
  }
  const cap = policy.netDebitCaps[facts.payerBic]?.[facts.currency];
  if (!cap) return;
  invariant(facts.payerHeld !== undefined, `assertCompliant: ${facts.payerBic} has a net debit cap in ${facts.currency} but its held sum was not read`);
  const position = facts.payerHeld.plus(facts.amount);
  if (position.greaterThan(cap)) throw new NetDebitCapExceededError(facts.payerBic, facts.currency, cap.toFixed(), position.toFixed());
}
