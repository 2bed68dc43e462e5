/**
 * The carried record: an execution carries the record from Submit and from each stage that wrote it to the next
 * stage, which decides on it instead of reading it again. It is a hint, never trusted beyond its version: every write
 * is conditional on the status and version it was decided on, and a refusal decided on it is decided again on a
 * fresh read. Real engine, DynamoDB Local, the real ASL file in the local interpreter.
 */
import { Money } from '../../../lambdas/domain/money';
import { parseSettlementRequest } from '../../../lambdas/domain/settlement';
import { SortKey } from '../../../lambdas/adapters/dynamodb/settlement-store';
import { parkInPlace } from '../../../lambdas/usecases/recovery/attempts';
import { submitSettlement } from '../../../lambdas/usecases/settlements';
import { checkConfirmation, finalize, initiateTransfer, lockFunds, transferKey, validate, type ValidationResult } from '../../../lambdas/usecases/stages';
import { balances, settled, settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';
import { bookViolations } from '../../support/invariants';

let engine: TestEngine;
/** Strongly consistent reads of each settlement's record, as DynamoDB Local received them (GetItem or in a batch). */
const recordReads = new Map<string, number>();

beforeAll(async () => {
  engine = await startTestEngine();
  engine.documentClient.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; Key?: Record<string, unknown>; RequestItems?: Record<string, { Keys?: Record<string, unknown>[] }> };
      const keys = context.commandName === 'GetItemCommand' && input.TableName === engine.tables.settlements ? [input.Key] : (input.RequestItems?.[engine.tables.settlements]?.Keys ?? []);
      for (const key of keys) {
        const pk = unmarshalled(key?.pk);
        if (pk !== undefined && unmarshalled(key?.sk) === SortKey.record) recordReads.set(pk, (recordReads.get(pk) ?? 0) + 1);
      }
      return next(args);
    },
    { step: 'initialize', name: 'countRecordReads' },
  );
});

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  await engine.workflow.idle();
  expect(await bookViolations(engine)).toEqual([]);
});

/** A key attribute as the document client or the low-level client gives it. */
function unmarshalled(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return (value as { S?: string } | undefined)?.S;
}

/** A settlement created as Submit creates it, its workflow not started: the test runs the stages. */
async function created(amount = '100.00') {
  const request = parseSettlementRequest(settlementRequest({ amount }));
  const { record } = await engine.deps.settlements.create(request, engine.deps.clock.now().toISOString());
  return { settlementId: request.settlementId, record: engine.deps.settlements.carry(record) };
}

describe('the carried record', () => {
  it('lets a settlement go from Submit to COMPLETED reading its record twice: after the bank call and at the confirmation check, each to see a rollback meanwhile', async () => {
    const request = settlementRequest({ amount: '75.00' });
    const id = String(request.settlementId);
    recordReads.delete(id);

    await submitSettlement(engine.deps, request);
    await engine.workflow.idle();

    // Counted before anything else reads it. Five stages used to read it at their start (Validate, LockFunds,
    // InitiateTransfer, CheckConfirmation, Finalize) and InitiateTransfer once more after the call; now InitiateTransfer
    // after the call and CheckConfirmation (which must see a rollback that came meanwhile) read it.
    expect(recordReads.get(id)).toBe(2);
    expect((await settled(engine, id)).status).toBe('COMPLETED');
  });

  it('is decided on only for its version: a stage given a record another actor moved since decides again on a fresh read', async () => {
    const { settlementId, record } = await created();
    const validation = await validate(engine.deps, { settlementId, record });
    const lock = await lockFunds(engine.deps, { settlementId, record, validation });
    expect(lock.status).toBe('LOCKED');
    // An operator parks it between LockFunds and InitiateTransfer: the record the execution carries is now stale.
    await parkInPlace(engine.deps, settlementId, { stage: 'Operator', detail: 'parked (test)' }, 'TEST.PARKED', 'parked (test)');

    await expect(initiateTransfer(engine.deps, { settlementId, record, lock })).rejects.toMatchObject({ name: 'SettlementParkedError' });

    // Nothing was sent: the stage did not act on the LOCKED, unparked record it was given.
    expect(await engine.deps.banks.forRail('SEPA').getTransfer(transferKey({ settlementId, attempt: 1 }))).toBeUndefined();
    expect((await engine.deps.settlements.get(settlementId))).toMatchObject({ status: 'LOCKED', parked: true });
  });

  it('makes a duplicate delivery with an old record a no-op: the lock is taken once', async () => {
    const { settlementId, record } = await created('40.00');
    const before = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    const validation = await validate(engine.deps, { settlementId, record });
    const lock = await lockFunds(engine.deps, { settlementId, record, validation });
    await initiateTransfer(engine.deps, { settlementId, record, lock });

    // LockFunds delivered again with the state it had the first time (the record as Submit wrote it).
    await expect(lockFunds(engine.deps, { settlementId, record, validation })).resolves.toMatchObject({ status: 'TRANSFER_INITIATED' });

    const after = await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR');
    expect(new Money(after.locked).minus(before.locked).toFixed(2)).toBe('40.00');
  });

  it('leads only to a write: a stage that finds nothing to write on it decides on a fresh read (a parked settlement is not sent again)', async () => {
    const { settlementId, record } = await created('30.00');
    const validation = await validate(engine.deps, { settlementId, record });
    const lock = await lockFunds(engine.deps, { settlementId, record, validation });
    const transfer = await initiateTransfer(engine.deps, { settlementId, record, lock });
    await parkInPlace(engine.deps, settlementId, { stage: 'Operator', detail: 'parked (test)' }, 'TEST.PARKED', 'parked (test)');

    // Delivered again with a state that carries the TRANSFER_INITIATED, unparked record its first run left.
    await expect(initiateTransfer(engine.deps, { settlementId, record, lock, transfer })).rejects.toMatchObject({ name: 'SettlementParkedError' });
  });

  it('decides a refusal again on a fresh read: a record behind the truth is not a reason to fail the settlement', async () => {
    const { settlementId, record } = await created('25.00');
    const validation = await validate(engine.deps, { settlementId, record });
    const lock = await lockFunds(engine.deps, { settlementId, record, validation });
    await initiateTransfer(engine.deps, { settlementId, record, lock });

    // A state that lost InitiateTransfer's result carries the LOCKED record: both stages would refuse on it.
    await expect(checkConfirmation(engine.deps, { settlementId, record, lock })).resolves.toMatchObject({ state: 'CONFIRMED' });
    await expect(finalize(engine.deps, { settlementId, record, lock })).resolves.toEqual({ status: 'COMPLETED' });
  });

  it('decides a refusal on it again on a fresh read, for a stage that writes nothing (Validate)', async () => {
    const { settlementId, record } = await created('15.00');
    recordReads.delete(settlementId);

    // A hand-made state whose record says parked: Validate would refuse on it; the record itself is not parked.
    await expect(validate(engine.deps, { settlementId, record: { ...record, parked: true } })).resolves.toMatchObject({ status: 'VALIDATED' });
    expect(recordReads.get(settlementId)).toBe(1);
  });

  it('is ignored when it is not a record of this settlement', async () => {
    const mine = await created('10.00');
    const other = await created('20.00');
    recordReads.delete(mine.settlementId);

    const validation = await validate(engine.deps, { settlementId: mine.settlementId, record: other.record });

    expect(validation).toMatchObject({ status: 'VALIDATED', version: 1 });
    expect(recordReads.get(mine.settlementId)).toBe(1);
    expect(engine.deps.settlements.uncarry({ ...other.record, amount: 'twenty' })).toBeUndefined();
    expect(engine.deps.settlements.uncarry({ settlementId: mine.settlementId })).toBeUndefined();
    expect(engine.deps.settlements.uncarry('RECORD')).toBeUndefined();
  });
});

describe('the reads Validate carries to LockFunds', () => {
  /** The engine's account store, counting the hold reads made through it. */
  function countingAccounts() {
    const reads: string[] = [];
    const accounts = Object.create(engine.deps.accounts) as typeof engine.deps.accounts;
    accounts.readForHold = async (accountId, reference, amount, cap) => {
      reads.push(accountId);
      return engine.deps.accounts.readForHold(accountId, reference, amount, cap);
    };
    return { deps: { ...engine.deps, accounts }, reads };
  }

  /** Validate's result as the execution's JSON carries it. */
  const asCarried = (value: unknown): ValidationResult => JSON.parse(JSON.stringify(value)) as ValidationResult;

  it('are what LockFunds plans its holds on: it locks both legs without reading either account again', async () => {
    const { settlementId, record } = await created('10.00');
    const { deps, reads } = countingAccounts();
    const validation = asCarried(await validate(deps, { settlementId, record }));
    expect(reads.splice(0)).toEqual(['VOSTRO#DEUTDEFF#EUR', 'NOSTRO#BNPAFRPP#EUR']);

    expect((await lockFunds(deps, { settlementId, record, validation })).status).toBe('LOCKED');

    expect(reads).toEqual([]);
    expect((await balances(engine, 'VOSTRO', 'DEUTDEFF', 'EUR')).locked).not.toBe('0.00');
    // Without them (an execution of an engine before this one), LockFunds reads both legs itself.
    const second = await created('10.00');
    const { holds: _withheld, ...bare } = asCarried(await validate(deps, { settlementId: second.settlementId, record: second.record }));
    reads.length = 0;
    expect((await lockFunds(deps, { settlementId: second.settlementId, record: second.record, validation: bare })).status).toBe('LOCKED');
    expect(reads.sort()).toEqual(['NOSTRO#BNPAFRPP#EUR', 'VOSTRO#DEUTDEFF#EUR']);
  });

  it('decide a refusal only on a fresh read: a carried read that says FROZEN, or a floor the account no longer has, is read again and the lock taken', async () => {
    // With the record carried too (advance decides a refusal on it again) and without it (an execution started
    // without one: the reads carried alone are not planned on, and LockFunds reads both legs).
    for (const [withRecord, forge] of [true, false].flatMap((carriesRecord) => [
      [carriesRecord, (hold: Record<string, unknown>) => ({ ...hold, status: 'FROZEN' })],
      // The lock's condition pins the floor as read: it fails on the store, then the fresh read plans it right.
      [carriesRecord, (hold: Record<string, unknown>) => ({ ...hold, shards: (hold.shards as Record<string, unknown>[]).map((shard) => ({ ...shard, floor: '0.01' })) })],
    ] as const)) {
      const { settlementId, record } = await created('10.00');
      const { deps, reads } = countingAccounts();
      const validation = asCarried(await validate(deps, { settlementId, record }));
      reads.length = 0;
      const holds = validation.holds as unknown as Record<string, Record<string, unknown>>;

      const lock = await lockFunds(deps, { settlementId, ...(withRecord && { record }), validation: { ...validation, holds: { ...holds, vostro: forge(holds.vostro) } } as typeof validation });

      expect(lock.status).toBe('LOCKED');
      expect(reads.sort()).toEqual(['NOSTRO#BNPAFRPP#EUR', 'VOSTRO#DEUTDEFF#EUR']);
    }
  });

  it('are ignored when they are not reads of this settlement\'s accounts on the shards its id picks', async () => {
    const forgeries: Array<(holds: Record<string, Record<string, unknown>>) => unknown> = [
      (holds) => ({ ...holds, vostro: { ...holds.vostro, accountId: 'VOSTRO#BNPAFRPP#EUR' } }),
      (holds) => ({ ...holds, vostro: { ...holds.vostro, shardCount: 4, home: 9 } }),
      (holds) => ({ ...holds, nostro: { ...holds.nostro, shards: [{ ...(holds.nostro.shards as object[])[0], available: 'lots' }] } }),
      (holds) => ({ vostro: holds.vostro }),
    ];
    for (const forge of forgeries) {
      const { settlementId, record } = await created('10.00');
      const { deps, reads } = countingAccounts();
      const validation = asCarried(await validate(deps, { settlementId, record }));
      reads.length = 0;

      const lock = await lockFunds(deps, { settlementId, record, validation: { ...validation, holds: forge(validation.holds as unknown as Record<string, Record<string, unknown>>) } as typeof validation });

      expect(lock.status).toBe('LOCKED');
      expect(reads.sort()).toEqual(['NOSTRO#BNPAFRPP#EUR', 'VOSTRO#DEUTDEFF#EUR']);
    }
  });
});
