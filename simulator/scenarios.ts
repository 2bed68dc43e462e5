/**
 * What the simulated bank does with a transfer: per creditor-agent BIC from configuration, or per transfer from a
 * marker in its remittance text, else the default (confirm at once).
 *
 * Markers are matched on the remittance lower-cased with every character outside a-z and 0-9 turned into a space,
 * because SEPA transliterates "[", "]" and "_" to "." on the way (so "[mock:reject]" and "sim reject AC04" both
 * work on every rail):
 *   sim reject <CODE> | mock reject         rejected at once (pacs.002 RJCT, reason CODE, default AC04)
 *   sim late reject <CODE> | mock late reject  accepted (ACSP), rejected at the first status query
 *   sim delay <N> | mock slow               accepted, settled N seconds later (mock slow: 2 s)
 *   sim pending                             accepted and never settled (the engine's confirmation times out)
 *   sim timeout | mock timeout              the first call is recorded but never answered (the caller times out)
 *   sim down | mock down                    every call about the transfer gets HTTP 503
 *   mock unavailable                        the first call gets HTTP 503
 *   sim recall refuse | sim recall pending  a recall is refused (camt.029 RJCR) or stays pending (PDCR)
 *   sim late return <CODE>                  settled at once, then returned (pacs.004, reason CODE, default AC04)
 *                                           in the next GET /returns: a return after the engine completed it
 */
export type Behaviour = 'confirm' | 'reject' | 'late-reject' | 'delay' | 'pending' | 'timeout' | 'down' | 'unavailable';

export interface BankScenario {
  readonly behaviour: Behaviour;
  /** ISO external status reason code for rejections. */
  readonly reasonCode?: string;
  /** Seconds until settlement, for `delay`. */
  readonly delaySeconds?: number;
  /** Answer to a recall (camt.056): return the funds (pacs.004, default), refuse, or leave pending. */
  readonly recall?: 'return' | 'refuse' | 'pending';
  /** After settling, the beneficiary bank sends the money back with this ISO return reason (a late return). */
  readonly lateReturn?: string;
}

export const defaultScenario: BankScenario = { behaviour: 'confirm' };
const reasonCodePattern = /^[A-Z0-9]{4}$/;

export function scenarioFromRemittance(remittance: string): BankScenario | undefined {
  const words = remittance.toLowerCase().replace(/[^a-z0-9]+/g, ' ');
  const code = (match: RegExpMatchArray | null) => {
    const candidate = match?.[1]?.toUpperCase();
    return candidate && reasonCodePattern.test(candidate) ? candidate : 'AC04';
  };
  const recall = /\bsim recall refuse\b/.test(words) ? 'refuse' : /\bsim recall pending\b/.test(words) ? 'pending' : undefined;
  const withRecall = (scenario: BankScenario): BankScenario => (recall ? { ...scenario, recall } : scenario);
  let match: RegExpMatchArray | null;
  if ((match = words.match(/\bsim late return(?: ([a-z0-9]{4}))?\b/))) return withRecall({ behaviour: 'confirm', lateReturn: code(match) });
  if ((match = words.match(/\bsim late reject(?: ([a-z0-9]{4}))?\b/)) || /\bmock late reject\b/.test(words)) return withRecall({ behaviour: 'late-reject', reasonCode: code(match) });
  if ((match = words.match(/\bsim reject(?: ([a-z0-9]{4}))?\b/)) || /\bmock reject\b/.test(words)) return withRecall({ behaviour: 'reject', reasonCode: code(match) });
  if ((match = words.match(/\bsim delay (\d{1,4})\b/))) return withRecall({ behaviour: 'delay', delaySeconds: Number(match[1]) });
  if (/\bmock slow\b/.test(words)) return withRecall({ behaviour: 'delay', delaySeconds: 2 });
  if (/\bsim pending\b/.test(words)) return withRecall({ behaviour: 'pending' });
  if (/\b(sim|mock) timeout\b/.test(words)) return withRecall({ behaviour: 'timeout' });
  if (/\b(sim|mock) down\b/.test(words)) return withRecall({ behaviour: 'down' });
  if (/\bmock unavailable\b/.test(words)) return withRecall({ behaviour: 'unavailable' });
  return recall ? { ...defaultScenario, recall } : undefined;
}
