/**
 * Many processes, one table: two engine processes (`npm start` each, as test/crash/harness.ts runs it) on one
 * DynamoDB Local and one table prefix, which is what many Lambdas and gRPC tasks on one set of tables are. Load
 * goes through both; one is killed with SIGKILL mid-load and started again while the other carries on; the
 * recovery sweeps of both run (each resumes what it finds stuck, including the other's work). Once quiet: every
 * accepted settlement exists and is terminal or parked, and every money invariant holds (test/property/invariants.ts).
 * TWO_ENGINES_SEED repeats a run's choices.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { EngineProcess, bookAccess, waitForQuiet, type ExternalDatabase } from '../crash/harness';
import { quietBookViolations, summaryOf } from '../property/invariants';
import { seededRandom } from '../support/random';

const seed = Number(process.env.TWO_ENGINES_SEED ?? Math.floor(Math.random() * 2 ** 31));
const payers = ['DEUTDEFF', 'BNPAFRPP', 'INGBNL2A', 'BARCGB22'];
const markers = ['', '', '', '', ' [mock:timeout]', ' [mock:reject]', ' [mock:late-reject]', ' [mock:unavailable]'];

interface Traffic {
  readonly accepted: string[];
  stop(): Promise<void>;
}

/** Clients sending settlements to one engine until stopped; requests cut by a kill are not counted as accepted. */
function drive(engine: EngineProcess, apiKey: string, label: string, random: () => number, clients = 3): Traffic {
  const accepted: string[] = [];
  let stopped = false;
  let sequence = 0;
  const client = async (index: number) => {
    // `stopped` is set by stop() below, from outside this loop.
    while (!stopped) {
      const payer = payers[Math.floor(random() * payers.length)];
      const payee = payers.filter((bic) => bic !== payer)[Math.floor(random() * (payers.length - 1))];
      const settlementId = `two-${label}-k${index}-${++sequence}`;
      const body = {
        settlementId,
        payerBic: payer,
        payeeBic: payee,
        amount: `${1 + Math.floor(random() * 900)}.${String(Math.floor(random() * 100)).padStart(2, '0')}`,
        currency: 'EUR',
        rail: random() < 0.5 ? 'SEPA' : 'MOCK',
        kind: 'DOMESTIC',
        valueDate: '2026-11-25',
        reference: `two engines${markers[Math.floor(random() * markers.length)]}`,
      };
      try {
        const response = await fetch(`${engine.httpUrl}/api/v1/settlements`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify(body) });
        if (response.status === 202 || response.status === 200) accepted.push(settlementId);
        else if (response.status !== 503) throw new Error(`unexpected ${response.status}: ${await response.text()}`);
      } catch (error) {
        if (stopped || (error as Error).message.startsWith('fetch failed')) return;
        throw error;
      }
    }
  };
  const running = Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
  return {
    accepted,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('two engine processes on one table', () => {
  it('lose nothing and keep every money invariant when one is killed and restarted under load', async () => {
    const endpoint = process.env.TEST_DYNAMODB_ENDPOINT;
    if (!endpoint) throw new Error('TEST_DYNAMODB_ENDPOINT is not set');
    const random = seededRandom(seed);
    const database: ExternalDatabase = { endpoint, tablePrefix: `two${seed.toString(36)}-` };
    const apiKey = randomBytes(24).toString('hex');
    const apiKeys = `two-engines:${createHash('sha256').update(apiKey).digest('hex')}`;
    const dataDirectory = mkdtempSync(path.join(tmpdir(), 'two-engines-'));
    const engines: EngineProcess[] = [];
    const access = bookAccess(endpoint, database.tablePrefix);
    try {
      // The first creates the tables and seeds; the second finds them (and the seed) in place.
      engines.push(await EngineProcess.start(dataDirectory, apiKeys, database));
      engines.push(await EngineProcess.start(dataDirectory, apiKeys, database));
      const baseline = await summaryOf(access);
      const first = drive(engines[0], apiKey, 'a', random);
      const second = drive(engines[1], apiKey, 'b', random);
      await pause(800 + Math.floor(random() * 1200));
      await engines[0].killAndWait();
      await first.stop();
      await pause(300 + Math.floor(random() * 700));
      engines[0] = await EngineProcess.start(dataDirectory, apiKeys, database);
      const restarted = drive(engines[0], apiKey, 'a2', random);
      await pause(800 + Math.floor(random() * 800));
      await Promise.all([second.stop(), restarted.stop()]);
      const { inFlightAtRestart } = await waitForQuiet(access);
      const accepted = [...first.accepted, ...second.accepted, ...restarted.accepted];
      const missing: string[] = [];
      for (const settlementId of accepted) {
        const record = await access.documentClient.send(new GetCommand({ TableName: access.tables.settlements, Key: { pk: settlementId, sk: 'RECORD' }, ConsistentRead: true }));
        if (!record.Item) missing.push(settlementId);
      }
      const violations = await quietBookViolations(access, { baseline, vostroMovements: {}, retriesDrained: false });
      console.log(`two engines: seed ${seed}; accepted ${first.accepted.length} by the killed engine, ${second.accepted.length} by the other, ${restarted.accepted.length} after the restart; ${inFlightAtRestart} in flight when the load stopped`);
      expect(missing).toEqual([]);
      expect(violations).toEqual([]);
      expect(first.accepted.length + second.accepted.length + restarted.accepted.length).toBeGreaterThan(0);
    } catch (error) {
      throw new Error(`two engines (TWO_ENGINES_SEED=${seed}) failed: ${(error as Error).message}\n--- engine output ---\n${engines.map((engine) => engine.log).join('\n---\n')}`, { cause: error });
    } finally {
      access.destroy();
      await Promise.all(engines.map((engine) => engine.stop()));
      rmSync(dataDirectory, { recursive: true, force: true });
    }
  }, 5 * 60_000);
});
