/**
 * The audit trail from the command line:
 *
 *   npx tsx bin/audit.ts export --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z [--format jsonl|csv] [--out file]
 *   npx tsx bin/audit.ts verify <export file>
 *
 * export reads GET /api/v1/audit/export from --url or API_URL (default http://127.0.0.1:8086) with --key, else
 * API_KEY, else the development key `npm start` leaves in .data/dev-api-key. verify checks every entry's hash and
 * each stream's links; it prints each changed, missing or unreadable entry and exits 1 if there is any.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyAuditExport } from '../lambdas/adapters/audit/export-file';

const usage = 'usage: audit.ts export --from ISO --to ISO [--format jsonl|csv] [--out file] | verify <file>';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string', default: 'jsonl' }, out: { type: 'string' }, url: { type: 'string' }, key: { type: 'string' } },
  });
  const [command, file] = positionals;
  if (command === 'verify' && file) {
    const result = verifyAuditExport(readFileSync(file, 'utf8'));
    for (const { line, message } of result.unreadable) console.log(`line ${line}: ${message}`);
    for (const problem of result.problems) console.log(`${problem.problem}: ${problem.message}`);
    const bad = result.problems.length + result.unreadable.length;
    console.log(bad === 0 ? `verified: ${result.entries} entries in ${result.streams} streams` : `NOT verified: ${bad} problem(s) in ${result.entries} entries`);
    return bad === 0 ? 0 : 1;
  }
  if (command === 'export' && values.from && values.to) {
    const url = values.url ?? process.env.API_URL ?? 'http://127.0.0.1:8086';
    const key = values.key ?? process.env.API_KEY ?? (existsSync('.data/dev-api-key') ? readFileSync('.data/dev-api-key', 'utf8').trim() : undefined);
    const query = new URLSearchParams({ from: values.from, to: values.to, format: values.format ?? 'jsonl' });
    const response = await fetch(`${url}/api/v1/audit/export?${query}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    const text = await response.text();
    if (!response.ok) {
      console.error(`export failed: HTTP ${response.status} ${text}`);
      return 1;
    }
    if (values.out) writeFileSync(values.out, text);
    else process.stdout.write(text);
    console.error(`exported ${response.headers.get('x-audit-entries') ?? '?'} entries`);
    return 0;
  }
  console.error(usage);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
