import { previousPeriod } from '../../../../lambdas/usecases/operations/reconcile';

describe('previousPeriod', () => {
  it('is the last complete interval before now, aligned on UTC, with an inclusive end', () => {
    expect(previousPeriod(new Date('2025-03-12T12:30:00Z'), 6 * 3600)).toEqual({ from: '2025-03-12T06:00:00.000Z', to: '2025-03-12T11:59:59.999Z' });
    expect(previousPeriod(new Date('2025-03-12T00:00:00Z'), 6 * 3600)).toEqual({ from: '2025-03-11T18:00:00.000Z', to: '2025-03-11T23:59:59.999Z' });
  });
});
