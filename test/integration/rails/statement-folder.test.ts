/**
 * The local statement inbox, end to end: the engine started with a watched folder (as `npm start` does) imports a
 * camt.053 dropped under incoming/<BIC>/<currency>/ exactly once, moves it to imported/, and sets a refused file
 * aside under rejected/ with its reason, writing nothing for it.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCamt053 } from '../../../lambdas/adapters/banks/iso20022/messages';
import { startTestEngine, type TestEngine } from '../../support/engine';

/** How long a test waits for the poller (generous on a shared machine; not a latency assertion). */
const arrivalWaitMs = 20_000;
let engine: TestEngine;
let directory: string;

beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'statement-folder-'));
  engine = await startTestEngine({ httpPort: null, statementFolder: { directory, pollIntervalMs: 100, settleMs: 0 } });
});
afterAll(async () => {
  await engine.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** Drops a file the way a writer should: written under a dot name, then renamed into place. */
function drop(relative: string, content: string): void {
  const target = path.join(directory, 'incoming', relative);
  mkdirSync(path.dirname(target), { recursive: true });
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.part`);
  writeFileSync(temporary, content);
  renameSync(temporary, target);
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + arrivalWaitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the folder did not pick the file up in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const statement = buildCamt053({
  messageId: 'MSG-FOLDER-1',
  createdAt: '2025-03-12T18:00:00.000Z',
  statementId: 'STMT-FOLDER-1',
  account: 'NOSTRO#BNPAFRPP#EUR',
  currency: 'EUR',
  servicerBic: 'BNPAFRPP',
  openingBalance: '20000000.00',
  closingBalance: '19998750.00',
  fromDate: '2025-03-12',
  toDate: '2025-03-12',
  entries: [{ entryReference: 'BNK-0', amount: '-1250.00', bookingDate: '2025-03-12', valueDate: '2025-03-12', endToEndId: 'stl-folder-1' }],
});

describe('the watched statement folder', () => {
  it('imports a dropped camt.053 once and moves it to imported/', async () => {
    drop('BNPAFRPP/EUR/2025-03-12.xml', statement);

    await until(() => existsSync(path.join(directory, 'imported/BNPAFRPP/EUR/2025-03-12.xml')));
    // Further scans find nothing to do: the file is imported once.
    await engine.statementFolder!.scan();
    await engine.statementFolder!.scan();

    const ops = engine.deps.operations!;
    expect((await ops.statementInbox!.get('STMT-FOLDER-1'))?.statement).toMatchObject({ accountId: 'NOSTRO#BNPAFRPP#EUR', format: 'CAMT053', entryCount: 1 });
    const audit = await ops.audit.listByEntity('STATEMENT', 'STMT-FOLDER-1', { limit: 10 });
    expect(audit.items.map((entry) => [entry.action, entry.actor, entry.after?.via])).toEqual([['STATEMENT.RECEIVED', 'statement-folder', 'FOLDER']]);
    expect(existsSync(path.join(directory, 'incoming/BNPAFRPP/EUR/2025-03-12.xml'))).toBe(false);
  });

  it('moves a file the engine refuses to rejected/ with its reason, and stores nothing', async () => {
    drop('BNPAFRPP/EUR/doctype.xml', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&e;</Document>');

    await until(() => existsSync(path.join(directory, 'rejected/BNPAFRPP/EUR/doctype.xml.reason.json')));

    const reason = JSON.parse(readFileSync(path.join(directory, 'rejected/BNPAFRPP/EUR/doctype.xml.reason.json'), 'utf8')) as { code: string; reason: string };
    expect(reason.code).toBe('STATEMENT.INVALID');
    expect(existsSync(path.join(directory, 'rejected/BNPAFRPP/EUR/doctype.xml'))).toBe(true);
    expect((await engine.deps.operations!.statementInbox!.listPending(100)).map((stored) => stored.statementId)).toEqual(['STMT-FOLDER-1']);
  });
});
