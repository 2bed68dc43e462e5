/**
 * The net debit cap holds under concurrency: it is a condition of LockFunds' transaction on the payer's vostro
 * (locked + amount ≤ cap), not only Validate's read. Two settlements that each fit the cap and together do not
 * both pass Validate (nothing is held yet when each reads), then lock at the same time: exactly one locks.
 */
import { ErrorCode, NetDebitCapExceededError, TransactionConflictError } from '../../../lambdas/domain/errors';
import { Money } from '../../../lambdas/domain/money';
import { parseSettlementRequest } from '../../../lambdas/domain/settlement';
import { loadCompliancePolicy } from '../../../lambdas/adapters/compliance/policy-file';
import { lockFunds, validate } from '../../../lambdas/usecases/stages';
import { capPartsTotal, capShareOf, homeShard } from '../../../lambdas/domain/account-shards';
import { beginRollback, releaseLocks } from '../../../lambdas/usecases/rollback';
import { rebalanceAccount } from '../../../lambdas/adapters/dynamodb/account-shards';
import { settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { bookViolations } from '../../support/invariants';
import { raceBeforeFirstTransaction } from '../../support/racing-client';

const cap = '1500.00';
/** A payer whose vostro is a hot account of 2 balance shards (cap share 1,000 each). */
const hotPayer = 'CAPHDEFF';
const hotCap = '2000.00';
/** Hot payers that split the cap over 4 and 8 shards (500.00 and 250.00 each until a lock moves parts). */
const widePayer = 'CAPWDEFF';
const crowdPayer = 'CAPCDEFF';
/** Hot payers whose cap parts the rebalancer evens (4 and 2 shards). */
const evenedPayer = 'CAPEDEFF';
const racedPayer = 'CAPRDEFF';
const pulledPayer = 'CAPPDEFF';
let engine: TestEngine;

beforeAll(async () => {
  const policy = loadCompliancePolicy();
  engine = await startTestEngine({ compliance: { ...policy, netDebitCaps: { DEUTDEFF: { EUR: new Money(cap) }, [hotPayer]: { EUR: new Money(hotCap) }, [widePayer]: { EUR: new Money(hotCap) }, [crowdPayer]: { EUR: new Money(hotCap) }, [evenedPayer]: { EUR: new Money(hotCap) }, [racedPayer]: { EUR: new Money('1000.00') }, [pulledPayer]: { EUR: new Money('1000.00') } } } });
});

afterAll(async () => {
  await engine.stop();
});

/** Creates a settlement (no workflow) and runs Validate on it, as the state machine would: its result is LockFunds' input. */
async function validated(amount: string, payerBic = 'DEUTDEFF', settlementId?: string): Promise<{ settlementId: string; validation: Awaited<ReturnType<typeof validate>> }> {
  const request = parseSettlementRequest(settlementRequest({ payerBic, payeeBic: 'BNPAFRPP', amount, ...(settlementId && { settlementId }) }));
  await engine.deps.settlements.create(request, engine.deps.clock.now().toISOString());
  const validation = await validate(engine.deps, { settlementId: request.settlementId });
  return { settlementId: request.settlementId, validation };
}

/** LockFunds as the state machine runs it: a transaction conflict is retried (its Retry list), anything else ends it. */
async function lockAsTheWorkflowWould({ settlementId, validation }: Awaited<ReturnType<typeof validated>>): Promise<'LOCKED' | Error> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      await lockFunds(engine.deps, { settlementId, validation });
      return 'LOCKED';
    } catch (error) {
      if (!(error instanceof TransactionConflictError)) return error as Error;
    }
  }
  throw new Error(`lockFunds of ${settlementId} kept conflicting`);
}

describe('the net debit cap at lock time', () => {
  it('locks exactly one of two concurrent settlements that each fit the cap and together pass it', async () => {
    const first = await validated('1000.00');
    const second = await validated('1000.00');
    // Both passed Validate: its read saw nothing held for either (Validate writes nothing: both still rest PENDING).
    expect([first.validation.status, second.validation.status]).toEqual(['VALIDATED', 'VALIDATED']);
    expect((await engine.deps.settlements.get(first.settlementId))?.status).toBe('PENDING');

    const outcomes = await Promise.all([lockAsTheWorkflowWould(first), lockAsTheWorkflowWould(second)]);

    expect(outcomes.filter((outcome) => outcome === 'LOCKED')).toHaveLength(1);
    const refusal = outcomes.find((outcome) => outcome !== 'LOCKED') as NetDebitCapExceededError;
    expect(refusal).toBeInstanceOf(NetDebitCapExceededError);
    expect(refusal).toMatchObject({ code: ErrorCode.netDebitCapExceeded, bic: 'DEUTDEFF', currency: 'EUR', cap, position: '2000.00' });
    const vostro = await engine.deps.accounts.get('VOSTRO#DEUTDEFF#EUR');
    expect(vostro?.locked.toFixed(2)).toBe('1000.00');

    // The refused one rolls back with the stable code, nothing of it held.
    const refused = (outcomes[0] === 'LOCKED' ? second : first).settlementId;
    await beginRollback(engine.deps, { settlementId: refused, error: { Error: refusal.name, Cause: refusal.message } });
    expect(await engine.deps.settlements.get(refused)).toMatchObject({ reasonCode: 'COMPLIANCE.NET_DEBIT_CAP_EXCEEDED', retryable: false });
    expect(await bookViolations(engine)).toEqual([]);
  });

  it('refuses at Validate a hot payer whose held sum over every shard, plus the amount, passes the cap', async () => {
    const at = engine.deps.clock.now().toISOString();
    await engine.reference.registerBank({ bic: hotPayer, name: 'Capped hot bank', country: 'DE', status: 'ACTIVE' }, at);
    await engine.accounts.open({ accountType: 'VOSTRO', bic: hotPayer, currency: 'EUR', floor: new Money(0), openingBalance: new Money('10000.00'), shards: 2 }, at);
    // Held on shard 1, not on the account's head (shard 0): only the sum over every shard shows it.
    let settlementId = '';
    for (let index = 0; homeShard(settlementId, 2) !== 1 || settlementId === ''; index++) settlementId = `${settlementRequest().settlementId as string}-${index}`;
    const held = await validated('600.00', hotPayer, settlementId);
    expect(await lockAsTheWorkflowWould(held)).toBe('LOCKED');

    await expect(validated('1500.00', hotPayer)).rejects.toMatchObject({ code: ErrorCode.netDebitCapExceeded, bic: hotPayer, cap: '2000', position: '2100' });
  });

  /** A settlement id for `payerBic` whose home shard of `shardCount` is `shard`. */
  function homedOn(shard: number, shardCount: number): string {
    let settlementId = '';
    for (let index = 0; settlementId === '' || homeShard(settlementId, shardCount) !== shard; index++) settlementId = `${settlementRequest().settlementId as string}-${index}`;
    return settlementId;
  }

  async function openHotPayer(bic: string, shards: number): Promise<void> {
    const at = engine.deps.clock.now().toISOString();
    await engine.reference.registerBank({ bic, name: `Capped hot bank ${bic}`, country: 'DE', status: 'ACTIVE' }, at);
    await engine.accounts.open({ accountType: 'VOSTRO', bic, currency: 'EUR', floor: new Money(0), openingBalance: new Money('100000.00'), shards }, at);
  }

  async function capParts(accountId: string, shards: number): Promise<number[]> {
    const account = (await engine.deps.accounts.get(accountId))!;
    expect(account.shards).toHaveLength(shards);
    return account.shards!.map((shard) => shard.capParts ?? capPartsTotal / shards);
  }

  it('locks on a hot payer a settlement larger than one shard\'s share of the cap, while the account as a whole has the room', async () => {
    await openHotPayer(widePayer, 4);
    // All three pass Validate (nothing held yet); the locks decide: 1,200 + 800 is the cap exactly, 900 passes it.
    const large = await validated('1200.00', widePayer, homedOn(1, 4));
    const over = await validated('900.00', widePayer, homedOn(3, 4));
    const fits = await validated('800.00', widePayer, homedOn(2, 4));

    expect(await lockAsTheWorkflowWould(large)).toBe('LOCKED');
    const refusal = await lockAsTheWorkflowWould(over);
    expect(refusal).toBeInstanceOf(NetDebitCapExceededError);
    expect(refusal).toMatchObject({ bic: widePayer, cap: hotCap, position: '2100.00' });
    expect(await lockAsTheWorkflowWould(fits)).toBe('LOCKED');

    const vostro = (await engine.deps.accounts.get(`VOSTRO#${widePayer}#EUR`))!;
    expect(vostro.locked.toFixed(2)).toBe('2000.00');
    // Each hold sits whole on its home shard, which took the cap parts it needed from the others.
    expect(vostro.shards!.map((shard) => shard.locked.toFixed(2))).toEqual(['0.00', '1200.00', '800.00', '0.00']);
    const parts = await capParts(vostro.accountId, 4);
    expect(parts.reduce((total, part) => total + part, 0)).toBe(capPartsTotal);
    expect(parts[1]).toBeGreaterThanOrEqual(600_000);
    expect(parts[2]).toBeGreaterThanOrEqual(400_000);
    expect(await bookViolations(engine)).toEqual([]);
  });

  it('locks on a hot payer, of many concurrent settlements, exactly as many as its cap holds', async () => {
    await openHotPayer(crowdPayer, 8);
    // Ten of 300.00 against a cap of 2,000.00 split over 8 shards (250.00 each): six fit, whatever their home shards.
    const candidates = await Promise.all(Array.from({ length: 10 }, (_, index) => validated('300.00', crowdPayer, `${settlementRequest().settlementId as string}-crowd-${index}`)));
    const outcomes = await Promise.all(candidates.map((candidate) => lockAsTheWorkflowWould(candidate)));

    expect(outcomes.filter((outcome) => outcome === 'LOCKED')).toHaveLength(6);
    expect(outcomes.filter((outcome) => outcome !== 'LOCKED').every((outcome) => outcome instanceof NetDebitCapExceededError)).toBe(true);
    const vostro = (await engine.deps.accounts.get(`VOSTRO#${crowdPayer}#EUR`))!;
    expect(vostro.locked.toFixed(2)).toBe('1800.00');
    const parts = await capParts(vostro.accountId, 8);
    expect(parts.reduce((total, part) => total + part, 0)).toBe(capPartsTotal);
    // Every shard keeps its locked within its own share of the cap.
    vostro.shards!.forEach((shard, index) => expect(shard.locked.times(capPartsTotal).lessThanOrEqualTo(new Money(hotCap).times(parts[index]))).toBe(true));
  });

  /** Ends a locked settlement's lock as the rollback branch does (the bank refused it: nothing left). */
  async function release(settlementId: string): Promise<void> {
    await beginRollback(engine.deps, { settlementId, error: { Error: 'BankRejectedError', Cause: 'test' } });
    await releaseLocks(engine.deps, { settlementId });
  }

  const capOf = (bic: string, currency: string) => engine.deps.compliance?.netDebitCaps[bic]?.[currency];

  /**
   * A 2-shard payer capped at 1,000.00 (500.00 on each shard) after an 800.00 settlement on shard 0 took 300,000 parts
   * from shard 1 and ended: its vostro's id.
   */
  async function capDrawnToShard0(bic: string): Promise<string> {
    await openHotPayer(bic, 2);
    const first = await validated('800.00', bic, homedOn(0, 2));
    expect(await lockAsTheWorkflowWould(first)).toBe('LOCKED');
    await release(first.settlementId);
    return `VOSTRO#${bic}#EUR`;
  }

  it('evens a hot payer\'s cap parts once a large settlement has ended, each shard keeping what its own locks need', async () => {
    await openHotPayer(evenedPayer, 4);
    const vostroId = `VOSTRO#${evenedPayer}#EUR`;
    const large = await validated('1200.00', evenedPayer, homedOn(1, 4));
    const small = await validated('300.00', evenedPayer, homedOn(2, 4));
    expect(await lockAsTheWorkflowWould(large)).toBe('LOCKED');
    expect(await lockAsTheWorkflowWould(small)).toBe('LOCKED');
    await release(large.settlementId);
    // Shard 1 still holds the parts 1,200.00 took; shard 0 gave all of its own.
    expect(await capParts(vostroId, 4)).toEqual([0, 600_000, 150_000, 250_000]);

    const [outcome] = await engine.deps.accounts.rebalanceShards([vostroId], capOf);

    // Shard 2 keeps the 150,000 its 300.00 needs; the other 850,000 are split evenly (212,500 each): shards 1 and 3
    // give 387,500 and 37,500.
    expect(outcome).toMatchObject({ result: 'MOVED', capPartsMoved: 425_000 });
    expect(await capParts(vostroId, 4)).toEqual([212_500, 212_500, 362_500, 212_500]);
    expect((await engine.deps.accounts.rebalanceShards([vostroId], capOf))[0].result).toBe('EVEN');
    // Without a cap the rebalancer leaves the parts alone.
    expect((await engine.deps.accounts.rebalanceShards([vostroId]))[0].result).toBe('EVEN');
    expect(await bookViolations(engine)).toEqual([]);
  });

  it('never evens cap parts out from under a lock taken between the rebalancer\'s read and its write', async () => {
    const vostroId = await capDrawnToShard0(racedPayer);
    expect(await capParts(vostroId, 2)).toEqual([800_000, 200_000]);
    // The rebalancer plans 500,000 each; before its transaction, 600.00 locks on shard 0 (its 800.00 share covers it).
    const racer = await validated('600.00', racedPayer, homedOn(0, 2));
    const racing = raceBeforeFirstTransaction(engine.documentClient, async () => {
      expect(await lockAsTheWorkflowWould(racer)).toBe('LOCKED');
    });

    const outcome = await rebalanceAccount(racing.client, engine.tables, vostroId, new Date().toISOString(), new Money('1000.00'));

    // Refused (shard 0 would keep a 500.00 share under 600.00 locked), then re-planned on a fresh read: the parts
    // are even enough now (only the funds the lock took are evened).
    expect(racing.raced()).toBe(true);
    expect(outcome.capPartsMoved).toBeUndefined();
    const parts = await capParts(vostroId, 2);
    expect(parts).toEqual([800_000, 200_000]);
    const vostro = (await engine.deps.accounts.get(vostroId))!;
    vostro.shards!.forEach((shard, index) => expect(shard.locked.lessThanOrEqualTo(capShareOf(new Money('1000.00'), parts[index], 'EUR'))).toBe(true));
  });

  it('never evens cap parts a lock moved between the rebalancer\'s read and its write: every shard it writes is pinned as read', async () => {
    const vostroId = await capDrawnToShard0(pulledPayer);
    // The rebalancer plans 500,000 each; before its transaction, 700.00 locks on shard 1, taking 500,000 from shard 0.
    const racer = await validated('700.00', pulledPayer, homedOn(1, 2));
    const racing = raceBeforeFirstTransaction(engine.documentClient, async () => {
      expect(await lockAsTheWorkflowWould(racer)).toBe('LOCKED');
    });

    await rebalanceAccount(racing.client, engine.tables, vostroId, new Date().toISOString(), new Money('1000.00'));

    // Refused, then re-planned: shard 1 keeps the 700,000 its lock needs, the 300,000 spare split evenly.
    expect(racing.raced()).toBe(true);
    const parts = await capParts(vostroId, 2);
    expect(parts).toEqual([150_000, 850_000]);
    const vostro = (await engine.deps.accounts.get(vostroId))!;
    vostro.shards!.forEach((shard, index) => expect(shard.locked.lessThanOrEqualTo(capShareOf(new Money('1000.00'), parts[index], 'EUR'))).toBe(true));
  });
});
