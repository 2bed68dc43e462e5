/**
 * A bad-input corpus against both APIs of a real engine: hundreds of malformed settlement requests — wrong types,
 * huge strings and numbers, scientific notation, negative zero, unicode lookalikes in BICs, unknown currencies,
 * deep JSON, wrong content types — plus random garbage from fast-check. Each must get a clear client error naming
 * the field (HTTP 4xx with `error.field`; gRPC INVALID_ARGUMENT with `error-field` metadata), never a 5xx or
 * INTERNAL, and nothing may be written: every table holds the same items before and after.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { parseApiKeys } from '../../lambdas/adapters/auth/api-keys';
import { SettlementClient } from '../../lambdas/adapters/grpc/client';
import { http, startTestEngine, type TestEngine } from '../support/engine';
import { scanAll } from '../support/invariants';

const apiKey = 'bad-input-corpus-key-0123456789abcdef';
const authorization = { authorization: `Bearer ${apiKey}` };
let engine: TestEngine;
let grpcClient: SettlementClient;
const counts = { http: 0, grpc: 0 };

const valid = {
  settlementId: 'bad-input-valid-shape',
  payerBic: 'DEUTDEFF',
  payeeBic: 'BNPAFRPP',
  amount: '1250.00',
  currency: 'EUR',
  rail: 'SEPA',
  kind: 'DOMESTIC',
  valueDate: new Date().toISOString().slice(0, 10),
  reference: 'Invoice 42',
};
type Field = keyof typeof valid;

const lookalikeBics = [
  'DЕUTDEFF', // Cyrillic Е
  'DEUΤDEFF', // Greek Τ
  'ＤＥＵＴＤＥＦＦ', // full width
  'DEUTDEFF\u200B', // zero-width space
  'DEUTDE\u0301FF', // combining accent
  'deutdeff',
  'DeutDEFF',
  'DEUTDEF',
  'DEUTDEFF1',
  'DEUTDEFF12',
  'DEUTDEFF1234',
  'DEUT DEFF',
  ' DEUTDEFF',
  'DEUTDEFF ',
  'DEUT-DEFF',
  '1EUTDEFF',
  'DEUTD1FF',
  'DEUTDEFF\u0000',
  '',
];
const hugeString = 'x'.repeat(50_000);
const badByField: Record<Field, unknown[]> = {
  settlementId: ['', ' leading', 'trailing ', 'a'.repeat(65), 'has space', '../etc/passwd', '-starts-with-dash', 'идентификатор', 'emoji💸', 'nul\u0000', 'tab\there', hugeString, 42, -0, 1e400, true, null, [], {}, ['id'], { id: 'x' }],
  payerBic: [...lookalikeBics, 12345678, null, true, [], {}, hugeString],
  payeeBic: [...lookalikeBics, 'DEUTDEFF' /* same as payer */, 87654321, null, false, [], {}],
  amount: [
    1250, 1250.5, 1.25e3, -0, 0, 1e308, 9007199254740993, '1e3', '1E3', '1.25e3', '1.5E+2', '-0', '-0.00', '0', '0.00', '00.10', '-1', '+1', '1.001', '1,000.00', '1 000',
    ' 1', '1 ', '01', '1.', '.5', 'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '0o7', '1_000', '١٢٣', '１２３', '٫5', '9'.repeat(19), '9'.repeat(400), `1${'0'.repeat(30)}`,
    `0.${'0'.repeat(300)}1`, '', ' ', '€12', '12 EUR', null, true, [], {}, ['1.00'], { value: '1.00' },
  ],
  currency: ['eur', 'Eur', 'EURO', 'EU', 'E', '', 'XXX', 'XAU', 'XTS', 'ABC', 'ЕUR', 'ＥＵＲ', 'EUR ', ' EUR', '978', 978, null, true, [], {}],
  rail: ['sepa', 'Sepa', 'WIRE', 'SWIFT ', '', 'RAIL_SEPA', 0, 1, null, true, [], {}],
  kind: ['domestic', 'LOCAL', '', 'DOMESTIC ', 'SETTLEMENT_KIND_DOMESTIC', 0, null, [], {}],
  valueDate: ['2026-02-30', '2026-13-01', '2026-00-10', '26-11-25', '2026/11/25', '2026-11-25T00:00:00Z', '2026-11-25 ', '+002026-11-25', '２０２６-１１-２５', '', 20261125, null, [], {}],
  reference: ['x'.repeat(141), 'bell\u0007', 'tab\t', 'new\nline', 'emoji 💸', ' leading', 'trailing ', '', 'rtl\u202Eoverride', 'zero\u200Bwidth', 'nul\u0000', hugeString, 42, null, [], {}],
};

/** One entry of the corpus: a body (object, or raw text with a content type) and the field the error must name. */
interface BadRequest {
  readonly label: string;
  readonly body: unknown;
  readonly raw?: string;
  readonly contentType?: string;
  /** The field the answer must name (HTTP error.field); undefined when any 4xx will do (random garbage). */
  readonly field?: string;
  /** Expected HTTP status when not 400. */
  readonly status?: number;
}

function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function corpus(): BadRequest[] {
  const requests: BadRequest[] = [];
  (Object.keys(badByField) as Field[]).forEach((field) => {
    badByField[field].forEach((value, index) => {
      // The same id as the payer for the "payee equals payer" case names payeeBic; otherwise the field itself.
      requests.push({ label: `${field}#${index}`, body: { ...valid, settlementId: `bad-${field}-${index}`, [field]: value }, field });
      // Missing field.
      if (index === 0) {
        const { [field]: _omitted, ...rest } = valid;
        requests.push({ label: `${field} missing`, body: field === 'settlementId' ? rest : { ...rest, settlementId: `bad-missing-${field}` }, field });
      }
    });
  });
  requests.push({ label: 'SEPA in USD', body: { ...valid, settlementId: 'bad-sepa-usd', currency: 'USD', payerBic: 'CHASUS33', payeeBic: 'CITIUS33' }, field: 'currency' });
  requests.push({ label: 'JPY with decimals', body: { ...valid, settlementId: 'bad-jpy', currency: 'JPY', rail: 'SWIFT', amount: '1.5' }, field: 'amount' });
  for (const extra of ['color', '__proto__', 'constructor', 'status', 'attempt', 'settlement_id', 'SettlementId']) {
    requests.push({ label: `unknown field ${extra}`, raw: JSON.stringify({ ...valid, settlementId: `bad-extra-${extra.replace(/_/g, '')}` }).replace(/}$/, `,"${extra}":"x"}`), body: undefined, field: extra });
  }
  for (const [label, raw] of [
    ['array', '[]'],
    ['null', 'null'],
    ['string', '"settlement"'],
    ['number', '42'],
    ['true', 'true'],
    ['truncated', '{"settlementId":'],
    ['trailing comma', '{"settlementId":"x",}'],
    ['single quotes', "{'settlementId':'x'}"],
    ['comment', '{/* */"settlementId":"x"}'],
    ['NaN literal', '{"amount":NaN}'],
    ['BOM', '\uFEFF{"settlementId":"x"}'],
    ['empty object', '{}'],
    ['depth 9', deepJson(9)],
    ['depth 100', deepJson(100)],
    ['depth 5000', deepJson(5000)],
    ['array of requests', JSON.stringify([valid])],
  ] as const) {
    requests.push({ label: `body ${label}`, raw, body: undefined, field: label === 'empty object' ? 'settlementId' : 'body' });
  }
  requests.push({ label: 'body too large', raw: JSON.stringify({ ...valid, reference: 'x'.repeat(70_000) }), body: undefined, status: 413, field: 'body' });
  for (const contentType of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json-patch+json', 'application/jsonx', '']) {
    requests.push({ label: `content-type "${contentType}"`, raw: JSON.stringify({ ...valid, settlementId: 'bad-content-type' }), contentType, body: undefined, status: 415, field: 'content-type' });
  }
  return requests;
}

/** Random garbage in every field (fast-check, fixed seed): each request is refused, none is a 5xx. */
function garbage(count: number): BadRequest[] {
  const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.double(), fc.integer());
  const requests = fc.sample(fc.record(Object.fromEntries((Object.keys(valid) as Field[]).map((field) => [field, value])) as Record<Field, fc.Arbitrary<unknown>>), { seed: 20_260_611, numRuns: count });
  return requests.map((body, index) => ({ label: `garbage#${index}`, body }));
}

/** Items per table. */
async function itemCounts(): Promise<Record<string, number>> {
  const tables = Object.keys(engine.tables) as Array<keyof TestEngine['tables']>;
  return Object.fromEntries(await Promise.all(tables.map(async (table) => [table, (await scanAll(engine, table)).length] as const)));
}

beforeAll(async () => {
  engine = await startTestEngine({
    grpcPort: 0,
    sqs: false,
    jobs: false,
    access: {
      apiKeys: parseApiKeys(`corpus:${createHash('sha256').update(apiKey).digest('hex')}`),
      rateLimit: { ratePerSecond: 100_000, burst: 100_000 },
      grpcMessageBytesMax: 64 * 1024,
      httpBodyBytesMax: 64 * 1024,
    },
  });
  grpcClient = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey });
});

afterAll(async () => {
  grpcClient?.close();
  await engine?.stop();
  console.log(`bad input: ${counts.http} malformed HTTP requests, ${counts.grpc} malformed gRPC requests; every one refused with a client error, nothing written`);
});

describe('malformed settlement requests', () => {
  it('over HTTP: each gets a clear 4xx naming the field, none a 5xx, and nothing is written', async () => {
    const before = await itemCounts();
    const failures: string[] = [];
    for (const request of [...corpus(), ...garbage(300)]) {
      const raw = request.raw ?? JSON.stringify(request.body);
      const response = await fetch(`${engine.httpUrl}/api/v1/settlements`, {
        method: 'POST',
        headers: { ...authorization, ...(request.contentType !== undefined ? (request.contentType === '' ? {} : { 'content-type': request.contentType }) : { 'content-type': 'application/json' }) },
        body: raw,
      });
      counts.http++;
      const text = await response.text();
      let error: { code?: string; field?: string; message?: string } | undefined;
      try {
        error = (JSON.parse(text) as { error?: typeof error }).error;
      } catch {
        error = undefined;
      }
      const expectedStatus = request.status ?? 400;
      const statusOk = request.field === undefined && request.status === undefined ? response.status >= 400 && response.status < 500 : response.status === expectedStatus;
      const fieldOk = request.field === undefined || error?.field === request.field;
      const clear = typeof error?.message === 'string' && error.message.length > 0 && typeof error.code === 'string';
      if (!statusOk || !fieldOk || !clear) failures.push(`${request.label}: ${response.status} ${text.slice(0, 200)} (expected ${expectedStatus}${request.field ? ` naming ${request.field}` : ''})`);
    }
    expect(failures).toEqual([]);
    // Bad paths and queries on the same resources.
    for (const path of ['/api/v1/settlements/%E0%A4%A', `/api/v1/settlements/${'x'.repeat(2000)}`, '/api/v1/settlements/parked?limit=-1', '/api/v1/settlements/parked?limit=1e2', '/api/v1/accounts/nostro?limit=0x10', '/api/v1/accounts/vostro?bank=DЕUTDEFF', '/api/v1/accounts/vostro?currency=eur']) {
      const response = await http(engine, 'GET', path, undefined, authorization);
      counts.http++;
      expect({ path, clientError: response.status >= 400 && response.status < 500 }).toEqual({ path, clientError: true });
    }
    expect(await itemCounts()).toEqual(before);
  }, 120_000);

  it('over gRPC: each gets INVALID_ARGUMENT naming the field, none INTERNAL or UNKNOWN, and nothing is written', async () => {
    const before = await itemCounts();
    const failures: string[] = [];
    const toProto = (body: Record<string, unknown>) => ({
      settlement_id: body.settlementId,
      payer_bic: body.payerBic,
      payee_bic: body.payeeBic,
      amount: body.amount,
      currency: body.currency,
      rail: typeof body.rail === 'string' ? `RAIL_${body.rail}` : body.rail,
      kind: typeof body.kind === 'string' ? `SETTLEMENT_KIND_${body.kind}` : body.kind,
      value_date: body.valueDate,
      reference: body.reference,
    });
    const snake = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    // Protobuf carries typed fields: only string values (and enum numbers) can be sent; wrong JSON types are HTTP's.
    const stringCases = corpus().filter((request) => request.body !== undefined && request.field !== undefined && request.field !== 'rail' && request.field !== 'kind')
      .filter((request) => Object.values(request.body as object).every((value) => typeof value === 'string'));
    const enumCases: BadRequest[] = [
      { label: 'rail unspecified', body: { ...valid, rail: 'UNSPECIFIED' }, field: 'rail' },
      { label: 'rail 99', body: { ...valid, rail: 99 }, field: 'rail' },
      { label: 'kind unspecified', body: { ...valid, kind: 'UNSPECIFIED' }, field: 'kind' },
      { label: 'kind 42', body: { ...valid, kind: 42 }, field: 'kind' },
    ];
    for (const request of [...stringCases, ...enumCases]) {
      counts.grpc++;
      try {
        await grpcClient.call('ExecuteSettlement', toProto(request.body as Record<string, unknown>), { deadlineMs: 10_000 });
        failures.push(`${request.label}: accepted`);
      } catch (error) {
        const serviceError = error as grpc.ServiceError;
        const field = serviceError.metadata?.get('error-field')[0];
        if (serviceError.code !== grpc.status.INVALID_ARGUMENT || field !== snake(request.field!)) failures.push(`${request.label}: ${serviceError.code} ${String(field)} ${serviceError.details}`);
      }
    }
    // A message larger than the limit: RESOURCE_EXHAUSTED, never INTERNAL.
    counts.grpc++;
    const oversized = await grpcClient.call('ExecuteSettlement', toProto({ ...valid, reference: 'x'.repeat(70_000) })).catch((error: grpc.ServiceError) => error);
    expect([grpc.status.RESOURCE_EXHAUSTED, grpc.status.INVALID_ARGUMENT]).toContain((oversized as grpc.ServiceError).code);
    expect(failures).toEqual([]);
    expect(await itemCounts()).toEqual(before);
  }, 120_000);
});
