/**
 * The local workflow runs the real ASL files with stand-in stage handlers (no database): what is under test is the
 * hand-off from the fast path to the Standard workflow and Step Functions' name rules the local adapter follows.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { LocalWorkflow, loadStateMachineDefinition, type ExecutionOutcome, type WorkflowStateEvent } from '../../../lambdas/local/local-workflow';
import { executionName } from '../../../lambdas/adapters/sfn/step-functions-workflow';
import { stageNames, type StageHandler, type StageName } from '../../../lambdas/handlers/stage-handlers';

/** Stages that answer at once; CheckConfirmation answers per settlement: pending until `confirm(id)`. */
function standInStages() {
  const confirmed = new Set<string>();
  const handlers = Object.fromEntries(stageNames.map((stage) => [stage, (async () => ({ status: 'OK' })) as StageHandler])) as Record<StageName, StageHandler>;
  handlers.CheckConfirmation = (async (input: { settlementId: string; confirmation?: { polls?: number } }) => {
    const polls = (input.confirmation?.polls ?? 0) + 1;
    return confirmed.has(input.settlementId) ? { state: 'CONFIRMED', polls, waitSeconds: 0 } : { state: 'PENDING', polls, waitSeconds: 1 };
  }) as StageHandler;
  return { handlers, confirm: (id: string) => confirmed.add(id), pend: (id: string) => confirmed.delete(id) };
}

// One workflow for the file (building the two interpreters validates both files); each test has its own settlement.
const stages = standInStages();
const events: WorkflowStateEvent[] = [];
const ends: ExecutionOutcome[] = [];
const workflow = new LocalWorkflow(stages.handlers, { confirmationWaitMs: 5, retryIntervalMs: 1, onStateEvent: (event) => events.push(event), onExecutionEnd: (outcome) => ends.push(outcome) });
const entered = (id: string, kind: WorkflowStateEvent['workflow'], state: string) => events.filter((event) => event.settlementId === id && event.workflow === kind && event.kind === 'entered' && event.stateName === state).length;
const endsOf = (id: string) => ends.filter((end) => end.settlementId === id);

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

afterAll(() => workflow.stop(1_000));

describe('LocalWorkflow: the fast path and its hand-off', () => {
  it('hands a confirmation pending after three checks to the Standard workflow, named as the Express execution', async () => {
    const id = 'stl-handoff';
    const { executionName: name } = await workflow.startSettlement({ settlementId: id, attempt: 1 });
    await until(() => entered(id, 'STANDARD', 'WaitForConfirmation') > 0);
    expect(entered(id, 'EXPRESS', 'CheckConfirmation')).toBe(3);
    expect(entered(id, 'STANDARD', 'Validate')).toBe(0);
    stages.confirm(id);
    await workflow.idle();
    // The Express run that handed off is not reported: the Standard run of the same name carries the settlement on.
    expect(endsOf(id)).toEqual([{ executionName: name, settlementId: id, workflow: 'STANDARD', succeeded: true }]);
    expect(name).toBe(executionName(id, 1));
  });

  it('joins a duplicate hand-off to the running Standard execution of that name and input: one Standard run', async () => {
    const id = 'stl-join';
    await workflow.startSettlement({ settlementId: id, attempt: 1 });
    await until(() => entered(id, 'STANDARD', 'Route') === 1);
    // The same Express execution delivered again (at-least-once): it reaches the hand-off with the same input.
    await workflow.startSettlement({ settlementId: id, attempt: 1 });
    await until(() => entered(id, 'EXPRESS', 'HandedOff') === 2);
    stages.confirm(id);
    await workflow.idle();
    expect(entered(id, 'STANDARD', 'Route')).toBe(1);
    expect(endsOf(id).map((end) => end.workflow)).toEqual(['STANDARD']);
  });

  it('refuses a hand-off under the name of a closed Standard execution, as Step Functions does, and the Express run ends handed off', async () => {
    const id = 'stl-closed';
    await workflow.startSettlement({ settlementId: id, attempt: 1 });
    await until(() => entered(id, 'STANDARD', 'Route') === 1);
    stages.confirm(id);
    await workflow.idle();
    // A late duplicate that finds the bank pending again (a stand-in: real stages would see the settlement COMPLETED).
    stages.pend(id);
    await workflow.startSettlement({ settlementId: id, attempt: 1 });
    await workflow.idle();
    expect(entered(id, 'STANDARD', 'Route')).toBe(1);
    const express = events.filter((event) => event.settlementId === id && event.workflow === 'EXPRESS' && event.kind === 'entered').map((event) => event.stateName);
    expect(express.slice(-2)).toEqual(['HandOff', 'HandedOff']);
    expect(endsOf(id).map((end) => end.workflow)).toEqual(['STANDARD']);
  });

  it('runs the Standard workflow from Validate when it is started without a hand-off (an operator, the race harness)', async () => {
    const machine = new StateMachine(loadStateMachineDefinition() as never, { validationOptions: { checkArn: true, checkPaths: true } });
    stages.confirm('stl-whole');
    const entered: string[] = [];
    const execution = machine.run({ settlementId: 'stl-whole', attempt: 1 }, { overrides: { taskResourceLocalHandlers: Object.fromEntries(stageNames.map((stage) => [stage, (input: unknown) => stages.handlers[stage](input as never, {} as never) as never])) } });
    const log = (async () => {
      for await (const event of execution.eventLogs as AsyncGenerator<{ type: string; state?: { name: string } }>) if (event.type === 'StateEntered') entered.push(event.state!.name);
    })();
    await execution.result;
    await log;
    expect(entered.slice(0, 2)).toEqual(['Route', 'Validate']);
    expect(entered.at(-1)).toBe('Completed');
  });
});
