/**
 * A gRPC client for SettlementService that needs nothing but this repository:
 *
 *   npx tsx bin/grpc-client.ts execute --payer DEUTDEFF --payee BNPAFRPP --amount 1250.00 --currency EUR --wait 10000
 *   npx tsx bin/grpc-client.ts status <settlement id>
 *   npx tsx bin/grpc-client.ts nostro|vostro <BIC> <currency>
 *   npx tsx bin/grpc-client.ts reconcile [--type VOSTRO] [--bank BIC] [--currency EUR]
 *   npx tsx bin/grpc-client.ts stream [--settlement id] [--bank BIC] [--currency EUR] [--cursor c] [--since ISO]
 *   npx tsx bin/grpc-client.ts health | list
 *
 * Address: --address or GRPC_ADDRESS (default 127.0.0.1:50056). Key: --key, else API_KEY, else the development key
 * `npm start` leaves in .data/dev-api-key. Mutual TLS: GRPC_CLIENT_CA, GRPC_CLIENT_CERT, GRPC_CLIENT_KEY (paths).
 * Prints each response as JSON; exits 1 with the gRPC status on failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { SettlementClient, checkHealth, listServicesByReflection } from '../lambdas/adapters/grpc/client';

const usage = 'usage: grpc-client.ts execute|status|nostro|vostro|reconcile|stream|health|list [options] (see the header of bin/grpc-client.ts)';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      address: { type: 'string' },
      key: { type: 'string' },
      id: { type: 'string' },
      payer: { type: 'string', default: 'DEUTDEFF' },
      payee: { type: 'string', default: 'BNPAFRPP' },
      amount: { type: 'string', default: '1250.00' },
      currency: { type: 'string' },
      rail: { type: 'string', default: 'SEPA' },
      kind: { type: 'string', default: 'DOMESTIC' },
      'value-date': { type: 'string', default: new Date().toISOString().slice(0, 10) },
      reference: { type: 'string', default: 'gRPC client' },
      // EPC SCT names both accounts by IBAN; the defaults are ISO 13616's example IBANs.
      'payer-iban': { type: 'string', default: 'DE89370400440532013000' },
      'payee-iban': { type: 'string', default: 'FR1420041010050500013M02606' },
      wait: { type: 'string', default: '0' },
      type: { type: 'string' },
      bank: { type: 'string' },
      settlement: { type: 'string' },
      cursor: { type: 'string' },
      since: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  const address = values.address ?? process.env.GRPC_ADDRESS ?? '127.0.0.1:50056';
  const tls = process.env.GRPC_CLIENT_CA
    ? { rootCertificate: readFileSync(process.env.GRPC_CLIENT_CA), certificateChain: optionalFile(process.env.GRPC_CLIENT_CERT), privateKey: optionalFile(process.env.GRPC_CLIENT_KEY) }
    : undefined;
  const credentials = tls ? grpc.credentials.createSsl(tls.rootCertificate, tls.privateKey ?? null, tls.certificateChain ?? null) : grpc.credentials.createInsecure();
  if (command === 'health') return print({ status: await checkHealth(address, rest[0] ?? '', credentials) });
  if (command === 'list') return print({ services: await listServicesByReflection(address, credentials) });

  const client = new SettlementClient({ address, apiKey: values.key ?? process.env.API_KEY ?? developmentKey(), tls });
  try {
    switch (command) {
      case 'execute':
        return print(
          await client.call(
            'ExecuteSettlement',
            {
              settlement_id: values.id ?? `cli-${randomUUID().slice(0, 8)}`,
              payer_bic: values.payer,
              payee_bic: values.payee,
              amount: values.amount,
              currency: values.currency ?? 'EUR',
              rail: `RAIL_${values.rail}`,
              kind: `SETTLEMENT_KIND_${values.kind}`,
              value_date: values['value-date'],
              reference: values.reference,
              payer_iban: values['payer-iban'],
              payee_iban: values['payee-iban'],
              wait_for_terminal_ms: Number(values.wait),
            },
            { deadlineMs: Number(values.wait) + 10_000 },
          ),
        );
      case 'status':
        return print(await client.call('GetSettlementStatus', { settlement_id: rest[0] ?? values.id ?? '' }));
      case 'nostro':
      case 'vostro':
        return print(await client.call(command === 'nostro' ? 'GetNostroBalance' : 'GetVostroBalance', { bic: rest[0] ?? values.bank ?? '', currency: rest[1] ?? values.currency ?? '' }));
      case 'reconcile':
        return print(await client.call('ReconcileAccounts', { account_type: values.type ? `ACCOUNT_TYPE_${values.type}` : 'ACCOUNT_TYPE_UNSPECIFIED', bic: values.bank ?? '', currency: values.currency ?? '' }, { deadlineMs: 300_000 }));
      case 'stream':
        return await stream(client, values);
      default:
        console.error(usage);
        process.exitCode = 2;
    }
  } finally {
    client.close();
  }
}

function stream(client: SettlementClient, values: { settlement?: string; bank?: string; currency?: string; cursor?: string; since?: string }): Promise<void> {
  const since = values.since ? Date.parse(values.since) : undefined;
  const call = client.streamEvents({
    settlement_id: values.settlement ?? '',
    bank_bic: values.bank ?? '',
    currency: values.currency ?? '',
    cursor: values.cursor ?? '',
    since: since === undefined ? null : { seconds: String(Math.floor(since / 1000)), nanos: (since % 1000) * 1_000_000 },
  });
  process.on('SIGINT', () => call.cancel());
  return new Promise((resolve, reject) => {
    call.on('data', (event) => console.log(JSON.stringify(event)));
    call.on('error', (error: grpc.ServiceError) => (error.code === grpc.status.CANCELLED ? resolve() : reject(error)));
    call.on('end', resolve);
  });
}

function developmentKey(): string | undefined {
  return existsSync('.data/dev-api-key') ? readFileSync('.data/dev-api-key', 'utf8').trim() : undefined;
}

function optionalFile(path: string | undefined): Buffer | undefined {
  return path ? readFileSync(path) : undefined;
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

main().catch((error: grpc.ServiceError) => {
  const code = typeof error.code === 'number' ? grpc.status[error.code] : undefined;
  console.error(code ? `${code}: ${error.details}` : error);
  const field = error.metadata?.get?.('error-field')?.[0];
  if (field) console.error(`field: ${String(field)}`);
  process.exitCode = 1;
});
