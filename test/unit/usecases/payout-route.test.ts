/**
 * readPayout: Validate's read of the payout route and the nostro it names, in one round trip once the reference
 * store has seen the payee's route; the route, read fresh every time, decides (usecases/payout-route.ts).
 */
import { readPayout } from '../../../lambdas/usecases/payout-route';
import type { AccountHead, ReferenceStore } from '../../../lambdas/ports/stores';

/** Reference and account stores that log when each read starts and ends; a read ends a tick after it starts. */
function stores(routes: Map<string, string>, failing: ReadonlySet<string> = new Set()) {
  const log: string[] = [];
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const reference: ReferenceStore = {
    getBank: async () => undefined,
    getPayoutRoute: async (payeeBic, currency) => {
      log.push('route');
      await tick();
      log.push('route read');
      const nostroAccountId = routes.get(`${payeeBic}#${currency}`);
      return nostroAccountId === undefined ? undefined : { nostroAccountId };
    },
  };
  const accounts = {
    getHead: async (accountId: string): Promise<AccountHead | undefined> => {
      log.push(`head ${accountId}`);
      await tick();
      if (failing.has(accountId)) throw new Error(`${accountId} unreachable`);
      return { accountId, status: 'ACTIVE' } as AccountHead;
    },
  };
  return { log, reference, accounts, routes };
}

describe('readPayout', () => {
  it('reads the route, then the nostro it names, the first time; both together once the store has seen the payee\'s route', async () => {
    const { log, reference, accounts } = stores(new Map([['INGBNL2A#EUR', 'NOSTRO#DEUTDEFF#EUR']]));

    expect(await readPayout(reference, accounts.getHead, 'INGBNL2A', 'EUR')).toEqual({ nostroAccountId: 'NOSTRO#DEUTDEFF#EUR', head: expect.objectContaining({ accountId: 'NOSTRO#DEUTDEFF#EUR' }) });
    expect(log.splice(0)).toEqual(['route', 'route read', 'head NOSTRO#DEUTDEFF#EUR']);

    expect((await readPayout(reference, accounts.getHead, 'INGBNL2A', 'EUR')).nostroAccountId).toBe('NOSTRO#DEUTDEFF#EUR');
    expect(log.splice(0)).toEqual(['route', 'head NOSTRO#DEUTDEFF#EUR', 'route read']);
  });

  it('pays from the payee bank\'s own nostro when no route names one, and remembers that too', async () => {
    const { log, reference, accounts } = stores(new Map());

    expect((await readPayout(reference, accounts.getHead, 'BNPAFRPP', 'EUR')).nostroAccountId).toBe('NOSTRO#BNPAFRPP#EUR');
    expect((await readPayout(reference, accounts.getHead, 'BNPAFRPP', 'EUR')).head?.accountId).toBe('NOSTRO#BNPAFRPP#EUR');
    expect(log).toEqual(['route', 'route read', 'head NOSTRO#BNPAFRPP#EUR', 'route', 'head NOSTRO#BNPAFRPP#EUR', 'route read']);
  });

  it('follows a route changed since it was remembered: the route decides, the remembered nostro is set aside', async () => {
    const { log, reference, accounts, routes } = stores(new Map([['INGBNL2A#EUR', 'NOSTRO#DEUTDEFF#EUR']]));
    await readPayout(reference, accounts.getHead, 'INGBNL2A', 'EUR');
    routes.set('INGBNL2A#EUR', 'NOSTRO#BNPAFRPP#EUR');
    log.length = 0;

    expect(await readPayout(reference, accounts.getHead, 'INGBNL2A', 'EUR')).toEqual({ nostroAccountId: 'NOSTRO#BNPAFRPP#EUR', head: expect.objectContaining({ accountId: 'NOSTRO#BNPAFRPP#EUR' }) });
    expect(log.splice(0)).toEqual(['route', 'head NOSTRO#DEUTDEFF#EUR', 'route read', 'head NOSTRO#BNPAFRPP#EUR']);

    // And a route removed: the payee bank's own nostro again.
    routes.delete('INGBNL2A#EUR');
    expect((await readPayout(reference, accounts.getHead, 'INGBNL2A', 'EUR')).nostroAccountId).toBe('NOSTRO#INGBNL2A#EUR');
  });

  it('fails when the nostro the route names cannot be read, and not when only a guess the route contradicts failed', async () => {
    const { reference, accounts, routes } = stores(new Map([['INGBNL2A#EUR', 'NOSTRO#DEUTDEFF#EUR']]), new Set(['NOSTRO#DEUTDEFF#EUR']));
    await expect(readPayout(reference, accounts.getHead, 'INGBNL2A', 'EUR')).rejects.toThrow('NOSTRO#DEUTDEFF#EUR unreachable');

    // The store remembered the route before the head read failed: now the guess fails, and the route no longer names it.
    routes.set('INGBNL2A#EUR', 'NOSTRO#BNPAFRPP#EUR');
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      expect((await readPayout(reference, accounts.getHead, 'INGBNL2A', 'EUR')).head?.accountId).toBe('NOSTRO#BNPAFRPP#EUR');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', unhandled);
    }
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('keeps what it remembers per reference store: another store reads the route first again', async () => {
    const routes = new Map([['INGBNL2A#EUR', 'NOSTRO#DEUTDEFF#EUR']]);
    const first = stores(routes);
    await readPayout(first.reference, first.accounts.getHead, 'INGBNL2A', 'EUR');
    const second = stores(routes);

    await readPayout(second.reference, second.accounts.getHead, 'INGBNL2A', 'EUR');

    expect(second.log).toEqual(['route', 'route read', 'head NOSTRO#DEUTDEFF#EUR']);
  });
});
