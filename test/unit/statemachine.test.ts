import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { stageNames } from '../../lambdas/handlers/stage-handlers';
import { businessOutcomeNames, transientErrorNames } from '../../lambdas/domain/error-catalogue';
import { confirmationWaitSeconds } from '../../lambdas/usecases/stages';
import { defaultEngineLimits } from '../../lambdas/usecases/deps';

const aslPath = path.resolve(__dirname, '../../statemachines/settlement.asl.json');
const definition = JSON.parse(readFileSync(aslPath, 'utf8')) as { StartAt: string; States: Record<string, Record<string, any>> };
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

const expressPath = path.resolve(__dirname, '../../statemachines/settlement-express.asl.json');
const express = JSON.parse(readFileSync(expressPath, 'utf8')) as { TimeoutSeconds: number; States: Record<string, Record<string, any>> };
const expressTasks = Object.entries(express.States).filter(([, state]) => state.Type === 'Task');
/** Express executions end after five minutes, whatever they are doing. */
const expressDurationSecondsMax = 300;
/** What the fast path may spend waiting and backing off, summed over every Task it has: well under the limit. */
const fastPathWaitAndRetrySecondsMax = 90;

/** Longest total backoff a Task's Retry can add: every retrier used to its last attempt, each delay capped. */
function retrySecondsMax(state: Record<string, any>): number {
  return ((state.Retry ?? []) as Array<Record<string, number>>).reduce((sum, retrier) => {
    let total = 0;
    for (let attempt = 0; attempt < (retrier.MaxAttempts ?? 3); attempt++) total += Math.min((retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** attempt, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
    return sum + total;
  }, 0);
}

describe('statemachines/settlement-express.asl.json (the fast path)', () => {
  const fastChecks = express.States.IsConfirmed.Choices.find((choice: Record<string, unknown>) => choice.Variable === '$.confirmation.polls').NumericGreaterThanEquals as number;

  it('is valid Amazon States Language (asl-validator)', () => {
    const output = execFileSync(path.resolve(__dirname, '../../node_modules/.bin/asl-validator'), ['--json-path', expressPath, '--no-arn-check'], { encoding: 'utf8' });
    expect(output).toContain('is valid');
  });

  it('runs the stages through the same placeholders, and compensation nowhere: that waits on the bank', () => {
    const stages = expressTasks.filter(([name]) => name !== 'HandOff');
    for (const [name, state] of stages) expect(state.Resource).toBe(`\${${name}FunctionArn}`);
    expect(stages.map(([name]) => name).sort()).toEqual(stageNames.filter((stage) => stage !== 'Compensate').sort());
  });

  it('keeps Finalize\'s failures parked and every forward failure in the rollback branch, as the Standard workflow does', () => {
    for (const name of ['Validate', 'LockFunds', 'InitiateTransfer', 'CheckConfirmation', 'Finalize', 'BeginRollback', 'ReleaseLocks', 'MarkFailed']) {
      expect(express.States[name].Catch).toEqual(definition.States[name].Catch);
    }
  });

  it(`bounds its waits and retries well below Express's ${expressDurationSecondsMax}-second limit, and times out before it`, () => {
    const waits = Array.from({ length: fastChecks - 1 }, (_, index) => confirmationWaitSeconds(index + 1, defaultEngineLimits));
    const retries = expressTasks.reduce((sum, [name, state]) => sum + retrySecondsMax(state) * (name === 'CheckConfirmation' ? fastChecks : 1), 0);
    expect(waits).toEqual([1, 2]);
    expect(waits.reduce((sum, seconds) => sum + seconds, 0) + retries).toBeLessThanOrEqual(fastPathWaitAndRetrySecondsMax);
    expect(express.TimeoutSeconds).toBeLessThanOrEqual(expressDurationSecondsMax / 2);
    expect(express.States.WaitForConfirmation).toEqual(definition.States.WaitForConfirmation);
  });

  it('hands a confirmation still pending after the third check to the Standard workflow, which resumes the wait loop', () => {
    expect(fastChecks).toBe(3);
    expect(express.States.IsConfirmed.Choices[0]).toEqual({ Variable: '$.confirmation.state', StringEquals: 'CONFIRMED', Next: 'Finalize' });
    expect(express.States.IsConfirmed.Choices[1].Next).toBe('HandOffConfirmation');
    expect(express.States.HandOffConfirmation.Parameters).toEqual({ 'settlementId.$': '$.settlementId', 'attempt.$': '$.attempt', resumeAt: 'WaitForConfirmation', 'confirmation.$': '$.confirmation' });
    expect(definition.States.Route.Choices).toContainEqual({ Variable: '$.resumeAt', StringEquals: 'WaitForConfirmation', Next: 'WaitForConfirmation' });
  });

  it('hands a rollback that must ask the bank for a reversal (COMPENSATING) to the Standard workflow, which resumes at BeginRollback', () => {
    expect(express.States.NeedsCompensation.Choices[0]).toEqual({ Variable: '$.rollback.status', StringEquals: 'COMPENSATING', Next: 'HandOffCompensation' });
    expect(express.States.HandOffCompensation.Parameters.resumeAt).toBe('BeginRollback');
    expect(definition.States.Route.Choices).toContainEqual({ Variable: '$.resumeAt', StringEquals: 'BeginRollback', Next: 'BeginRollback' });
    expect(definition.StartAt).toBe('Route');
    expect(definition.States.Route.Choices[0]).toEqual({ Not: { Variable: '$.resumeAt', IsPresent: true }, Next: 'Validate' });
  });

  it('starts the Standard execution under its own name, and takes a refused duplicate name as handed off', () => {
    const handOff = express.States.HandOff;
    expect(handOff.Resource).toBe('arn:aws:states:::states:startExecution');
    expect(handOff.Parameters).toEqual({ StateMachineArn: '${StandardStateMachineArn}', 'Name.$': '$$.Execution.Name', 'Input.$': '$.handOffInput' });
    const refused = ['StepFunctions.ExecutionAlreadyExistsException', 'StepFunctions.ExecutionAlreadyExists'];
    expect(handOff.Retry[0]).toEqual({ ErrorEquals: refused, MaxAttempts: 0 });
    expect(handOff.Catch).toEqual([
      { ErrorEquals: refused, ResultPath: '$.handedOff', Next: 'HandedOff' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'HandOffFailed' },
    ]);
    expect(express.States.HandedOff.Type).toBe('Succeed');
    expect(express.States.HandOffFailed.Type).toBe('Fail');
  });
});
