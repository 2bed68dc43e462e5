/**
 * Loads the compliance policy: config/compliance.json and the sanctions list it names, a file in the OFAC SDN.CSV
 * layout (no header; columns ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
 * Vess_flag, Vess_owner, Remarks; "-0-" for empty; BICs appear in Remarks as "SWIFT/BIC XXXXXXXX").
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { CompliancePolicy, SanctionedParty, SanctionsList } from '../../domain/compliance';
import { Money, parseCurrency } from '../../domain/money';
import { parseBic } from '../../domain/bic';

export const compliancePolicyPath = resolve(__dirname, '../../../config/compliance.json');
/** Entries a sanctions file may hold (the full SDN list has about 18,000). */
export const sanctionsEntriesMax = 100_000;

interface PolicyFile {
  readonly sanctionsList: string;
  readonly amountLimits?: { readonly perCurrency?: Record<string, string>; readonly perBank?: Record<string, Record<string, string>> };
  readonly netDebitCaps?: Record<string, Record<string, string>>;
}

export function parseSdnCsv(text: string, source: string): SanctionsList {
  const rows = parse(text, { relaxColumnCount: true, skipEmptyLines: true, bom: true, trim: true, maxRecordSize: 64 * 1024, to: sanctionsEntriesMax }) as string[][];
  const empty = (value: string | undefined) => (value === undefined || value === '-0-' ? '' : value);
  const parties: SanctionedParty[] = rows
    .filter((row) => row.length >= 2 && /^\d+$/.test(row[0]))
    .map((row) => ({
      entryId: row[0],
      name: empty(row[1]),
      programs: empty(row[3]).split(/\]\s*\[/).map((program) => program.replace(/[[\]]/g, '').trim()).filter(Boolean),
      bics: [...empty(row[11]).matchAll(/SWIFT\/BIC\s+([A-Z0-9]{8}(?:[A-Z0-9]{3})?)/g)].map((match) => match[1]),
    }));
  return { source, parties };
}

const amounts = (input: Record<string, string> | undefined, field: string): Record<string, Money> =>
  Object.fromEntries(Object.entries(input ?? {}).map(([currency, value]) => [parseCurrency(currency, `${field}.${currency}`), new Money(value)]));

const perBank = (input: Record<string, Record<string, string>> | undefined, field: string) =>
  Object.fromEntries(Object.entries(input ?? {}).map(([bic, limits]) => [parseBic(bic, `${field}.${bic}`), amounts(limits, `${field}.${bic}`)]));

/** Reads and checks the policy file; a malformed one stops the start with the field named. */
export function loadCompliancePolicy(path: string = compliancePolicyPath): CompliancePolicy {
  const file = JSON.parse(readFileSync(path, 'utf8')) as PolicyFile;
  if (typeof file.sanctionsList !== 'string') throw new Error(`configuration: ${path}: sanctionsList must name a file`);
  const listPath = join(dirname(path), file.sanctionsList);
  return {
    sanctions: parseSdnCsv(readFileSync(listPath, 'utf8'), file.sanctionsList),
    amountLimitPerCurrency: amounts(file.amountLimits?.perCurrency, 'amountLimits.perCurrency'),
    amountLimitPerBank: perBank(file.amountLimits?.perBank, 'amountLimits.perBank'),
    netDebitCaps: perBank(file.netDebitCaps, 'netDebitCaps'),
  };
}
