/**
 * The statement inbox on AWS: the import function, driven by S3 `Object Created` events (EventBridge) against
 * DynamoDB Local, with S3 and SQS mocked. A camt.053 object is imported through the route's use case (stored, audited),
 * the same object again changes nothing, and an oversized, hostile or misnamed object is refused with its reason
 * on the rejections queue and writes nothing.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context, S3ObjectCreatedNotificationEvent } from 'aws-lambda';
import { buildCamt053 } from '../../../lambdas/adapters/banks/iso20022/messages';
import { S3StatementInbox } from '../../../lambdas/adapters/s3/statement-bucket';
import { statementContentBytesMax } from '../../../lambdas/adapters/statements/reader';
import { createStatementImportHandler } from '../../../lambdas/handlers/statement-import';
import { scanAll } from '../../support/invariants';
import { startTestEngine, type TestEngine } from '../../support/engine';

const bucketName = 'settlement-statements-test';
const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/111122223333/statement-rejections';
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
let engine: TestEngine;
let handler: ReturnType<typeof createStatementImportHandler>;

beforeAll(async () => {
  engine = await startTestEngine({ httpPort: null });
  const inbox = new S3StatementInbox(new S3Client({ region: 'eu-west-1' }), new SQSClient({ region: 'eu-west-1' }), bucketName, queueUrl);
  handler = createStatementImportHandler(() => ({ deps: engine.deps, inbox, bucketName }));
});
afterAll(async () => {
  s3.restore();
  sqs.restore();
  await engine.stop();
});
beforeEach(() => {
  s3.reset();
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});

function camt053(statementId: string): string {
  return buildCamt053({
    messageId: `MSG-${statementId}`,
    createdAt: '2025-03-12T18:00:00.000Z',
    statementId,
    account: 'NOSTRO#BNPAFRPP#EUR',
    currency: 'EUR',
    servicerBic: 'BNPAFRPP',
    openingBalance: '20000000.00',
    closingBalance: '19998750.00',
    fromDate: '2025-03-12',
    toDate: '2025-03-12',
    entries: [{ entryReference: 'BNK-0', amount: '-1250.00', bookingDate: '2025-03-12', valueDate: '2025-03-12', endToEndId: 'stl-s3-1' }],
  });
}

/** S3 answers GetObject for the key with these bytes, announcing `contentLength` (default: the true length). */
function objectHolds(key: string, content: string | Buffer, contentLength = Buffer.byteLength(content)): void {
  s3.on(GetObjectCommand, { Bucket: bucketName, Key: key }).callsFake(() => ({ ContentLength: contentLength, Body: Readable.from([Buffer.from(content)]) }));
}

function objectCreated(key: string, size: number, bucket = bucketName): S3ObjectCreatedNotificationEvent {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '111122223333',
    time: '2025-03-12T18:05:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: { version: '0', bucket: { name: bucket }, object: { key, size, etag: 'e', 'version-id': 'v1', sequencer: '01' }, 'request-id': 'r', requester: '111122223333', 'source-ip-address': '10.0.0.1', reason: 'PutObject' },
  };
}

const invoke = (event: S3ObjectCreatedNotificationEvent) => handler(event, {} as Context);
/** Every item of every table: "writes nothing" means this does not change. */
const tablesNow = async () => Object.fromEntries(await Promise.all((Object.keys(engine.tables) as (keyof TestEngine['tables'])[]).map(async (table) => [table, await scanAll(engine, table)] as const)));
const rejections = () => sqs.commandCalls(SendMessageCommand).map((call) => JSON.parse(call.args[0].input.MessageBody!) as { key: string; code: string; reason: string });

describe('the statement import function', () => {
  it('imports a camt.053 object through the statement use case, stored and audited, when it lands under incoming/', async () => {
    const key = 'incoming/BNPAFRPP/EUR/2025-03-12.xml';
    objectHolds(key, camt053('STMT-S3-1'));

    const result = await invoke(objectCreated(key, Buffer.byteLength(camt053('STMT-S3-1'))));

    expect(result).toEqual({ outcome: 'IMPORTED', statementId: 'STMT-S3-1' });
    const stored = await engine.deps.operations!.statementInbox!.get('STMT-S3-1');
    expect(stored?.statement).toMatchObject({ accountId: 'NOSTRO#BNPAFRPP#EUR', format: 'CAMT053', entryCount: 1 });
    const audit = await engine.deps.operations!.audit.listByEntity('STATEMENT', 'STMT-S3-1', { limit: 10 });
    expect(audit.items.map((entry) => ({ action: entry.action, actor: entry.actor, via: entry.after?.via }))).toEqual([{ action: 'STATEMENT.RECEIVED', actor: `s3://${bucketName}`, via: 'S3' }]);
    expect(rejections()).toEqual([]);
  });

  it('changes nothing when the same object arrives again', async () => {
    const key = 'incoming/BNPAFRPP/EUR/again.xml';
    const content = camt053('STMT-S3-2');
    objectHolds(key, content);
    await invoke(objectCreated(key, content.length));
    const before = await tablesNow();

    const again = await invoke(objectCreated(key, content.length));

    expect(again).toEqual({ outcome: 'EXISTS', statementId: 'STMT-S3-2' });
    expect(await tablesNow()).toEqual(before);
    expect(rejections()).toEqual([]);
  });

  it('refuses an object the event announces as oversized without reading it, and writes nothing', async () => {
    const key = 'incoming/BNPAFRPP/EUR/huge.xml';
    const before = await tablesNow();

    const result = await invoke(objectCreated(key, statementContentBytesMax + 1));

    expect(result).toMatchObject({ outcome: 'REJECTED', code: 'STATEMENT.INVALID' });
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
    expect(rejections()).toEqual([expect.objectContaining({ key, code: 'STATEMENT.INVALID', reason: expect.stringMatching(/more than the 307200/) })]);
    expect(await tablesNow()).toEqual(before);
  });

  it('refuses an object whose stored length is over the limit before reading its body, whatever the event said', async () => {
    const key = 'incoming/BNPAFRPP/EUR/grown.xml';
    const body = Readable.from([Buffer.alloc(16)]);
    s3.on(GetObjectCommand, { Bucket: bucketName, Key: key }).resolves({ ContentLength: statementContentBytesMax + 1, Body: body as never });
    const before = await tablesNow();

    const result = await invoke(objectCreated(key, 100));

    expect(result).toMatchObject({ outcome: 'REJECTED', code: 'STATEMENT.INVALID', reason: expect.stringMatching(/307201 bytes/) });
    expect(body.destroyed).toBe(true);
    expect(await tablesNow()).toEqual(before);
  });

  it('refuses a hostile camt.053 (entity expansion) with the reason on the rejections queue, and writes nothing', async () => {
    const key = 'incoming/BNPAFRPP/EUR/billion-laughs.xml';
    const hostile = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&lol2;</Document>';
    objectHolds(key, hostile);
    const before = await tablesNow();

    const result = await invoke(objectCreated(key, hostile.length));

    expect(result).toMatchObject({ outcome: 'REJECTED', code: 'STATEMENT.INVALID' });
    expect(rejections()).toEqual([expect.objectContaining({ key, code: 'STATEMENT.INVALID' })]);
    expect(await tablesNow()).toEqual(before);
  });

  it('refuses an object whose key does not name a nostro, and bytes that are not UTF-8', async () => {
    objectHolds('incoming/statement.xml', camt053('STMT-S3-3'));
    objectHolds('incoming/BNPAFRPP/EUR/latin1.csv', Buffer.from([0x66, 0xe9, 0x0a]));
    const before = await tablesNow();

    const misnamed = await invoke(objectCreated('incoming/statement.xml', 500));
    const latin1 = await invoke(objectCreated('incoming/BNPAFRPP/EUR/latin1.csv', 3));

    expect(misnamed).toMatchObject({ outcome: 'REJECTED', code: 'VALIDATION.INVALID_FIELD', reason: expect.stringMatching(/<BIC>\/<currency>\/<name>/) });
    expect(latin1).toMatchObject({ outcome: 'REJECTED', code: 'STATEMENT.INVALID', reason: expect.stringMatching(/not UTF-8/) });
    expect(await tablesNow()).toEqual(before);
  });

  it('ignores an event of another bucket or outside incoming/', async () => {
    expect(await invoke(objectCreated('incoming/BNPAFRPP/EUR/x.xml', 10, 'someone-elses-bucket'))).toMatchObject({ outcome: 'IGNORED' });
    expect(await invoke(objectCreated('rejected/BNPAFRPP/EUR/x.xml', 10))).toMatchObject({ outcome: 'IGNORED' });
    expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
  });
});
