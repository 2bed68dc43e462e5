/**
 * Fuzzing the edges: fast-check generates hostile requests against one real engine over REST and gRPC (duplicate
 * keys, unknown fields, deep and huge JSON, long and odd ids, control characters, impossible and out-of-window
 * dates, bad amounts, wrong types, BIC spellings, unknown banks, unknown enum numbers, truncated and random
 * protobuf). Each must be refused as the client's mistake (HTTP 4xx naming the field, gRPC INVALID_ARGUMENT with
 * the error-code and error-field trailers), none may be a 5xx or INTERNAL, nothing may be written (every table
 * holds as many items after as before) and nothing may be logged as an unhandled error.
 *
 * FUZZ_SEED fixes the cases (the seed in use is printed); FUZZ_RUNS sets the REST case count (default 700; gRPC
 * runs half as many: 1,050 cases per run).
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { parseApiKeys } from '../../lambdas/adapters/auth/api-keys';
import { SettlementClient } from '../../lambdas/adapters/grpc/client';
import { rawGrpc } from '../../bench/hostile-client';
import { startTestEngine, type TestEngine } from '../support/engine';
import { scanAll } from '../support/invariants';

const seed = process.env.FUZZ_SEED === undefined ? 20_261_201 : Number(process.env.FUZZ_SEED);
const restRuns = process.env.FUZZ_RUNS === undefined ? 700 : Number(process.env.FUZZ_RUNS);
const grpcRuns = Math.max(1, Math.floor(restRuns / 2));
const apiKey = 'fuzz-suite-key-0123456789abcdef0123';
const today = new Date().toISOString().slice(0, 10);

let engine: TestEngine;
let client: SettlementClient;
let rawClient: grpc.Client;
let sequence = 0;

const valid = () => ({
  settlementId: `fuzz-${++sequence}`,
  payerBic: 'DEUTDEFF',
  payeeBic: 'BNPAFRPP',
  amount: '10.00',
  currency: 'EUR',
  rail: 'SEPA',
  kind: 'DOMESTIC',
  valueDate: today,
  reference: 'fuzz',
});
type Field = keyof ReturnType<typeof valid>;
const fields = Object.keys(valid()) as Field[];

/** One hostile request: raw JSON text, and the field the refusal must name (undefined: any 4xx will do). */
interface HostileRest {
  readonly label: string;
  readonly method: 'POST' | 'GET';
  readonly path: string;
  readonly text?: string;
  readonly field?: string;
  readonly status?: number;
}

const controlCharacter = fc.constantFrom('\u0000', '\u0007', '\u001b', '\u007f', '\u200b', '\u202e', '\u2028', '\ufeff');
const oddText = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const impossibleDate = fc.constantFrom('2026-02-30', '2026-02-29', '2025-04-31', '2026-13-01', '2026-00-10', '2026-1-1', '26-11-25', '2026/11/25');
const badDate = fc.oneof(
  fc.constantFrom('2026-02-30', '2026-02-29', '2025-04-31', '2026-13-01', '2026-00-10', '2026-1-1', '26-11-25', '2026/11/25', `${today}T00:00:00Z`, `${today} `),
  fc.integer({ min: 1900, max: 2020 }).map((year) => `${year}-06-15`),
  fc.integer({ min: 2040, max: 9999 }).map((year) => `${year}-06-15`),
);
const badAmount = fc.oneof(
  fc.constantFrom('0', '0.00', '-1', '+1', '1e3', '1.001', '1,000.00', ' 1', '01', '1.', '.5', 'NaN', 'Infinity', '0x10', '١٢٣', '9'.repeat(19), ''),
  fc.double().map(String).filter((text) => !/^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$/.test(text)),
);
const wrongType = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }));
/** Well-formed BICs no bank in the seed has. */
const unknownBic = fc.stringMatching(/^ZZ[A-Z]{2}[A-Z]{2}[A-Z0-9]{2}$/);
const bicSpelling = fc.constantFrom('DEUTDEFFXXX', 'deutdeff', 'DEUTDEF', 'DEUTDEFFXX', 'DЕUTDEFF', 'DEUTDEFF ', 'DEUT-DEFF');

function body(request: Record<string, unknown>): string {
  return JSON.stringify(request);
}

const hostileRest: fc.Arbitrary<HostileRest> = fc.oneof(
  // Duplicate keys: the second value differs; the refusal names the key.
  fc.tuple(fc.constantFrom(...fields), fc.string({ maxLength: 12 })).map(([field, other]) => {
    const request = valid();
    return { label: `duplicate ${field}`, method: 'POST' as const, path: '/api/v1/settlements', text: body(request).replace(/}$/, `,${JSON.stringify(field)}:${JSON.stringify(other)}}`), field };
  }),
  // Unknown fields, named.
  fc.string({ minLength: 1, maxLength: 20 }).map((suffix) => {
    const key = `x_${suffix}`;
    return { label: 'unknown field', method: 'POST' as const, path: '/api/v1/settlements', text: body({ ...valid(), [key]: 'x' }), field: key };
  }),
  // Wrong JSON types in any field.
  fc.tuple(fc.constantFrom(...fields), wrongType).map(([field, value]) => ({ label: `wrong type ${field}`, method: 'POST' as const, path: '/api/v1/settlements', text: body({ ...valid(), [field]: value }), field })),
  // Missing fields.
  fc.constantFrom(...fields).map((field) => {
    const { [field]: _omitted, ...rest } = valid();
    return { label: `missing ${field}`, method: 'POST' as const, path: '/api/v1/settlements', text: body(rest), field };
  }),
  // Long and odd settlement ids, in the body and in the path.
  fc.oneof(fc.integer({ min: 65, max: 3_000 }).map((length) => 'x'.repeat(length)), oddText.filter((text) => !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(text))).chain((id) =>
    fc.constantFrom<HostileRest>(
      { label: 'odd id in body', method: 'POST', path: '/api/v1/settlements', text: body({ ...valid(), settlementId: id }), field: 'settlementId' },
      { label: 'odd id in path', method: 'GET', path: `/api/v1/settlements/${encodeURIComponent(id)}`, field: id.includes('/') || /^\.{1,2}$/.test(id) ? undefined : 'settlementId' },
    ),
  ),
  // Control and invisible characters in free text.
  fc.tuple(fc.string({ maxLength: 20 }), controlCharacter, fc.string({ maxLength: 20 })).map(([before, control, after]) => ({ label: 'control character in reference', method: 'POST' as const, path: '/api/v1/settlements', text: body({ ...valid(), reference: `a${before}${control}${after}a` }), field: 'reference' })),
  fc.tuple(controlCharacter, fc.stringMatching(/^[A-Z]{4}DE[A-Z0-9]{2}$/)).map(([control, bic]) => ({ label: 'control character in bank name', method: 'POST' as const, path: '/api/v1/banks', text: body({ bic, name: `Bank${control}Name`, country: 'DE' }), field: 'name' })),
  // Impossible and out-of-window dates.
  badDate.map((valueDate) => ({ label: `value date ${valueDate}`, method: 'POST' as const, path: '/api/v1/settlements', text: body({ ...valid(), valueDate }), field: 'valueDate' })),
  impossibleDate.map((from) => ({ label: `reconciliation from ${from}`, method: 'POST' as const, path: '/api/v1/reconciliations', text: body({ accountId: 'NOSTRO#BNPAFRPP#EUR', from: `${from}T00:00:00Z`, to: `${today}T00:00:00Z` }), field: 'from' })),
  // Bad amounts.
  badAmount.map((amount) => ({ label: `amount ${amount}`, method: 'POST' as const, path: '/api/v1/settlements', text: body({ ...valid(), amount }), field: 'amount' })),
  // BIC spellings and banks the registry does not know.
  bicSpelling.map((payeeBic) => ({ label: `payee ${payeeBic}`, method: 'POST' as const, path: '/api/v1/settlements', text: body({ ...valid(), payeeBic }), field: 'payeeBic' })),
  unknownBic.map((payerBic) => ({ label: `unknown payer ${payerBic}`, method: 'POST' as const, path: '/api/v1/settlements', text: body({ ...valid(), payerBic }), field: 'payerBic' })),
  // Deep and huge JSON.
  fc.integer({ min: 9, max: 20_000 }).map((depth) => ({ label: `depth ${depth}`, method: 'POST' as const, path: '/api/v1/settlements', text: `${'['.repeat(depth)}${']'.repeat(depth)}`, field: 'body', status: depth * 2 > 64 * 1024 ? 413 : 400 })),
  fc.integer({ min: 65 * 1024, max: 200 * 1024 }).map((size) => ({ label: `huge body ${size}`, method: 'POST' as const, path: '/api/v1/settlements', text: body({ ...valid(), reference: 'x'.repeat(size) }), field: 'body', status: 413 })),
  // Garbage bodies.
  fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 })).map((text) => ({ label: 'garbage body', method: 'POST' as const, path: '/api/v1/settlements', text })),
  // Odd account ids and query strings.
  oddText.map((id) => ({ label: 'odd account id', method: 'GET' as const, path: `/api/v1/accounts/${encodeURIComponent(id)}` })),
  fc.tuple(fc.constantFrom('limit', 'cursor', 'bank', 'currency', 'color'), oddText).map(([key, value]) => ({ label: `query ${key}`, method: 'GET' as const, path: `/api/v1/accounts/vostro?${key}=${encodeURIComponent(value)}` })),
);

async function itemCounts(): Promise<Record<string, number>> {
  const tables = Object.keys(engine.tables) as Array<keyof TestEngine['tables']>;
  return Object.fromEntries(await Promise.all(tables.map(async (table) => [table, (await scanAll(engine, table)).length] as const)));
}

let errorLog: jest.SpyInstance;

beforeAll(async () => {
  engine = await startTestEngine({
    grpcPort: 0,
    access: {
      apiKeys: parseApiKeys(`fuzz:${createHash('sha256').update(apiKey).digest('hex')}`),
      rateLimit: { ratePerSecond: 100_000, burst: 100_000 },
      grpcMessageBytesMax: 64 * 1024,
      httpBodyBytesMax: 64 * 1024,
    },
  });
  client = new SettlementClient({ address: `127.0.0.1:${engine.grpcPort}`, apiKey });
  rawClient = new grpc.Client(`127.0.0.1:${engine.grpcPort}`, grpc.credentials.createInsecure());
  console.log(`fuzz: seed ${seed} (FUZZ_SEED), ${restRuns} REST and ${grpcRuns} gRPC cases (FUZZ_RUNS)`);
});

beforeEach(() => {
  errorLog = jest.spyOn(console, 'error');
});

afterEach(() => {
  expect(errorLog.mock.calls.map((call) => String(call[0]).slice(0, 300))).toEqual([]);
  errorLog.mockRestore();
});

afterAll(async () => {
  client?.close();
  rawClient?.close();
  await engine?.stop();
});

describe('fuzzing the REST edge', () => {
  it('refuses every hostile request with a 4xx naming the field, never a 5xx, and writes nothing', async () => {
    const before = await itemCounts();
    await fc.assert(
      fc.asyncProperty(hostileRest, async (hostile) => {
        const response = await fetch(`${engine.httpUrl}${hostile.path}`, {
          method: hostile.method,
          headers: { authorization: `Bearer ${apiKey}`, ...(hostile.text !== undefined && { 'content-type': 'application/json' }) },
          ...(hostile.text !== undefined && { body: hostile.text }),
        });
        const text = await response.text();
        const error = (() => {
          try {
            return (JSON.parse(text) as { error?: { field?: string; code?: string } }).error;
          } catch {
            return undefined;
          }
        })();
        const context = `${hostile.label}: ${response.status} ${text.slice(0, 200)}`;
        expect({ context, clientError: response.status >= 400 && response.status < 500 }).toEqual({ context, clientError: true });
        if (hostile.status !== undefined) expect({ context, status: response.status }).toEqual({ context, status: hostile.status });
        if (hostile.field !== undefined) expect({ context, field: error?.field }).toEqual({ context, field: hostile.field });
        expect(typeof error?.code).toBe('string');
      }),
      { seed, numRuns: restRuns, endOnFailure: true },
    );
    expect(await itemCounts()).toEqual(before);
  }, 120_000);
});

const snakeRequest = (request: Record<string, unknown>) => ({
  settlement_id: request.settlementId,
  payer_bic: request.payerBic,
  payee_bic: request.payeeBic,
  amount: request.amount,
  currency: request.currency,
  rail: typeof request.rail === 'string' ? `RAIL_${request.rail}` : request.rail,
  kind: typeof request.kind === 'string' ? `SETTLEMENT_KIND_${request.kind}` : request.kind,
  value_date: request.valueDate,
  reference: request.reference,
});

interface HostileGrpc {
  readonly label: string;
  readonly method: 'ExecuteSettlement' | 'GetSettlementStatus' | 'ReconcileAccounts' | 'StreamSettlementEvents';
  readonly message?: Record<string, unknown>;
  readonly bytes?: Uint8Array;
  /** snake_case field the refusal must name; undefined: any field. */
  readonly field?: string;
}

const snake = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

const hostileGrpc: fc.Arbitrary<HostileGrpc> = fc.oneof(
  fc.tuple(fc.constantFrom<Field>('settlementId', 'payerBic', 'payeeBic', 'amount', 'currency', 'valueDate', 'reference'), fc.oneof(oddText, fc.integer({ min: 65, max: 2_000 }).map((length) => 'y'.repeat(length)), controlCharacter.map((control) => `a${control}b`))).map(([field, value]) => ({ label: `odd ${field}`, method: 'ExecuteSettlement' as const, message: snakeRequest({ ...valid(), [field]: value }), field: snake(field) })),
  badDate.map((valueDate) => ({ label: `value date ${valueDate}`, method: 'ExecuteSettlement' as const, message: snakeRequest({ ...valid(), valueDate }), field: 'value_date' })),
  badAmount.map((amount) => ({ label: `amount ${amount}`, method: 'ExecuteSettlement' as const, message: snakeRequest({ ...valid(), amount }), field: 'amount' })),
  bicSpelling.map((payeeBic) => ({ label: `payee ${payeeBic}`, method: 'ExecuteSettlement' as const, message: snakeRequest({ ...valid(), payeeBic }), field: 'payee_bic' })),
  unknownBic.map((payerBic) => ({ label: `unknown payer ${payerBic}`, method: 'ExecuteSettlement' as const, message: snakeRequest({ ...valid(), payerBic }), field: 'payer_bic' })),
  fc.tuple(fc.constantFrom('rail', 'kind'), fc.integer({ min: 5, max: 1_000_000 })).map(([field, number]) => ({ label: `${field} ${number}`, method: 'ExecuteSettlement' as const, message: snakeRequest({ ...valid(), [field]: number }), field })),
  fc.integer({ min: 3, max: 1_000_000 }).map((number) => ({ label: `account_type ${number}`, method: 'ReconcileAccounts' as const, message: { account_type: number }, field: 'account_type' })),
  fc.oneof(oddText.filter((text) => !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(text)), fc.integer({ min: 65, max: 3_000 }).map((length) => 'z'.repeat(length))).map((id) => ({ label: 'odd settlement id', method: 'GetSettlementStatus' as const, message: { settlement_id: id }, field: 'settlement_id' })),
  // Truncated valid messages and random bytes: refused, never INTERNAL (random bytes may decode to odd fields).
  fc.integer({ min: 1, max: 60 }).map((cut) => ({ label: `truncated at ${cut}`, method: 'ExecuteSettlement' as const, bytes: truncatedRequest(cut) })),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({ label: 'random bytes', method: 'ExecuteSettlement' as const, bytes })),
  fc.uint8Array({ minLength: 1, maxLength: 100 }).map((bytes) => ({ label: 'random bytes (status)', method: 'GetSettlementStatus' as const, bytes })),
);

/** A valid ExecuteSettlementRequest's bytes cut after `cut` bytes (mid-field, mid-varint). */
function truncatedRequest(cut: number): Uint8Array {
  // Field 1 (settlement_id), a string of 40 bytes, then field 2: cutting anywhere inside breaks a length prefix.
  const id = Buffer.from('t'.repeat(40));
  const bytes = Buffer.concat([Buffer.from([0x0a, id.length]), id, Buffer.from([0x12, 0x08]), Buffer.from('DEUTDEFF')]);
  return bytes.subarray(0, Math.min(cut, bytes.length - 1));
}

describe('fuzzing the gRPC edge', () => {
  it('refuses every hostile call with INVALID_ARGUMENT and the error trailers, never INTERNAL, and writes nothing', async () => {
    const before = await itemCounts();
    await fc.assert(
      fc.asyncProperty(hostileGrpc, async (hostile) => {
        const outcome = hostile.bytes !== undefined ? await rawGrpc(engine.grpcPort!, hostile.method, Buffer.from(hostile.bytes), apiKey, rawClient) : await call(hostile);
        const context = `${hostile.label}: ${outcome.text}`;
        // A truncated message that still decodes (a prefix of valid fields) is refused for what it lacks.
        expect({ context, code: outcome.code }).toEqual({ context, code: grpc.status.INVALID_ARGUMENT });
        expect({ context, errorCode: outcome.errorCode }).toEqual({ context, errorCode: 'VALIDATION.INVALID_FIELD' });
        if (hostile.field !== undefined) expect({ context, field: outcome.field }).toEqual({ context, field: hostile.field });
      }),
      { seed, numRuns: grpcRuns, endOnFailure: true },
    );
    expect(await itemCounts()).toEqual(before);
  }, 120_000);
});

async function call(hostile: HostileGrpc): Promise<{ code: number; field?: string; errorCode?: string; text: string }> {
  try {
    await client.call(hostile.method as 'ExecuteSettlement', hostile.message!, { deadlineMs: 10_000 });
    return { code: grpc.status.OK, text: 'accepted' };
  } catch (error) {
    const serviceError = error as grpc.ServiceError;
    const field = serviceError.metadata?.get('error-field')[0];
    const errorCode = serviceError.metadata?.get('error-code')[0];
    return { code: serviceError.code, field: field === undefined ? undefined : String(field), errorCode: errorCode === undefined ? undefined : String(errorCode), text: `${grpc.status[serviceError.code]} ${String(field)} ${serviceError.details}` };
  }
}
