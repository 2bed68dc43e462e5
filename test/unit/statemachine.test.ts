import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { stageNames } from '../../lambdas/handlers/stage-handlers';
import { businessOutcomeNames, transientErrorNames } from '../../lambdas/domain/error-catalogue';

const aslPath = path.resolve(__dirname, '../../statemachines/settlement.asl.json');
const definition = JSON.parse(readFileSync(aslPath, 'utf8')) as { States: Record<string, Record<string, any>> };
const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');

describe('statemachines/settlement.asl.json', () => {
  it('is valid Amazon States Language (asl-validator)', () => {
    const output = execFileSync(path.resolve(__dirname, '../../node_modules/.bin/asl-validator'), ['--json-path', aslPath, '--no-arn-check'], { encoding: 'utf8' });
    expect(output).toContain('is valid');
  });

  it('maps every Task to exactly one stage handler, through a ${<State>FunctionArn} placeholder', () => {
    expect(tasks.map(([name]) => name).sort()).toEqual([...stageNames].sort());
    for (const [name, state] of tasks) expect(state.Resource).toBe(`\${${name}FunctionArn}`);
  });

  it('retries every transient error with bounded, jittered backoff on every Task', () => {
    for (const [, state] of tasks) {
      const retriers = state.Retry as Array<Record<string, any>>;
      const transient = retriers.find((retrier) => retrier.ErrorEquals.includes('BankUnavailableError'))!;
      expect(transient.ErrorEquals).toEqual(expect.arrayContaining([...transientErrorNames]));
      expect(transient).toMatchObject({ JitterStrategy: 'FULL', BackoffRate: 2 });
      expect(transient.MaxAttempts).toBeLessThanOrEqual(10);
      expect(transient.MaxDelaySeconds).toBeLessThanOrEqual(60);
    }
  });

  it('catches every forward stage into the rollback branch, and Finalize into parking (money has left)', () => {
    for (const name of ['LockFunds', 'InitiateTransfer', 'CheckConfirmation']) {
      expect(definition.States[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'BeginRollback' }]);
    }
    // Validate names its business outcomes (compliance refusals among them), then catches the rest the same way.
    expect(definition.States.Validate.Catch).toEqual([
      { ErrorEquals: [...businessOutcomeNames], ResultPath: '$.error', Next: 'BeginRollback' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'BeginRollback' },
    ]);
    for (const name of businessOutcomeNames) expect(definition.States.Validate.Retry.flatMap((retrier: { ErrorEquals: string[] }) => retrier.ErrorEquals)).not.toContain(name);
    expect(definition.States.Finalize.Catch[0].Next).toBe('ParkSettlement');
    for (const name of ['BeginRollback', 'Compensate', 'ReleaseLocks', 'MarkFailed']) expect(definition.States[name].Catch[0].Next).toBe('ParkSettlement');
  });

  it('bounds the confirmation loop through the stage (Wait reads the stage-computed delay)', () => {
    expect(definition.States.WaitForConfirmation).toEqual({ Type: 'Wait', SecondsPath: '$.confirmation.waitSeconds', Next: 'CheckConfirmation' });
  });
});
