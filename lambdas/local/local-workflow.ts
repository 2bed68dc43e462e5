/**
 * WorkflowPort for the local engine: runs the two ASL files themselves in the aws-local-stepfunctions interpreter,
 * each Task state mapped to the same handler its Lambda function runs on AWS. A settlement starts on the fast path
 * (statemachines/settlement-express.asl.json, Express on AWS); its HandOff Task, Step Functions' own
 * `states:startExecution` integration on AWS, starts the Standard workflow (statemachines/settlement.asl.json) here,
 * with Step Functions' rule for names: a name that runs with the same input is the same execution, a name that ran
 * (or runs with another input) is refused with `StepFunctions.ExecutionAlreadyExistsException`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import type { WorkflowPort, WorkflowStart } from '../ports';
import { executionName } from '../adapters/sfn/step-functions-workflow';
import { stageNames, type StageHandler, type StageName } from '../handlers/stage-handlers';

export type WorkflowKind = 'EXPRESS' | 'STANDARD';

export const stateMachinePaths: Readonly<Record<WorkflowKind, string>> = {
  EXPRESS: path.resolve(__dirname, '../../statemachines/settlement-express.asl.json'),
  STANDARD: path.resolve(__dirname, '../../statemachines/settlement.asl.json'),
};
/** The Standard workflow's file (the complete workflow; the fast path hands off to it). */
export const stateMachinePath = stateMachinePaths.STANDARD;

/** The fast path's Task that starts the Standard workflow (not a stage: Step Functions calls StartExecution itself). */
export const handOffStateName = 'HandOff';

/** Local stand-in ARN of each Task's function, substituted like CDK's definitionSubstitutions. */
export function localFunctionArn(stage: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:settlement-engine-${stage}`;
}

const localStateMachineNames: Readonly<Record<WorkflowKind, string>> = { EXPRESS: 'settlement-engine-express', STANDARD: 'settlement-engine' };

/** Local stand-in ARN of each state machine (`${StandardStateMachineArn}` in the Express file). */
export function localStateMachineArn(kind: WorkflowKind): string {
  return `arn:aws:states:us-east-1:000000000000:stateMachine:${localStateMachineNames[kind]}`;
}

function localExecutionArn(kind: WorkflowKind, name: string): string {
  return `arn:aws:states:us-east-1:000000000000:execution:${localStateMachineNames[kind]}:${name}`;
}

/** `${<State>FunctionArn}` → the stage's local function ARN; `${StandardStateMachineArn}` → the local Standard ARN. */
export function localSubstitution(placeholder: string): string {
  if (placeholder === 'StandardStateMachineArn') return localStateMachineArn('STANDARD');
  return localFunctionArn(placeholder.replace(/FunctionArn$/, ''));
}

/** An ASL file with its `${…}` placeholders substituted (the Standard workflow unless `kind` says otherwise). */
export function loadStateMachineDefinition(substitute: (placeholder: string) => string = localSubstitution, kind: WorkflowKind = 'STANDARD'): Record<string, unknown> {
  const text = readFileSync(stateMachinePaths[kind], 'utf8').replace(/\$\{(\w+)\}/g, (_, name: string) => substitute(name));
  return JSON.parse(text) as Record<string, unknown>;
}

/** The Task states of an ASL file that run a stage handler (the HandOff Task does not). */
export function stageTasksOf(kind: WorkflowKind): StageName[] {
  const states = (JSON.parse(readFileSync(stateMachinePaths[kind], 'utf8')) as { States: Record<string, { Type: string }> }).States;
  return stageNames.filter((stage) => states[stage]?.Type === 'Task');
}

/**
 * Names of Standard executions this process started, kept to refuse a second start as Step Functions does (it keeps
 * them 90 days). Bounded: past it the oldest are forgotten (they closed long ago; stages stay idempotent anyway).
 */
export const standardNamesRememberedMax = 100_000;

/** StartExecution's refusal of a taken name, under the name the `states:startExecution` integration gives it. */
export class ExecutionAlreadyExistsError extends Error {
  override readonly name = 'StepFunctions.ExecutionAlreadyExistsException' as const;
  constructor(executionName: string) {
    super(`Execution Already Exists: '${executionName}'`);
  }
}

export interface LocalWorkflowOptions {
  /** Overrides every Retry interval (ms); undefined keeps the ASL's own backoff. */
  readonly retryIntervalMs?: number;
  /** Overrides the confirmation Wait (ms); undefined waits the seconds the stage asked for. */
  readonly confirmationWaitMs?: number;
  /**
   * Called when a settlement's run ends: the Express execution, or, when it handed off, the Standard execution
   * that carried on under the same name.
   */
  readonly onExecutionEnd?: (outcome: ExecutionOutcome) => void;
  /**
   * Called for every state entered and every Task retry, as Step Functions bills them (the bench's capacity model
   * counts Standard transitions, Express time and Lambda invocations with it). Absent: the event log is not read.
   */
  readonly onStateEvent?: (event: WorkflowStateEvent) => void;
}

export interface WorkflowStateEvent {
  readonly settlementId: string;
  readonly workflow: WorkflowKind;
  readonly kind: 'entered' | 'exited' | 'retried';
  /** Epoch ms. */
  readonly timestamp: number;
  readonly stateName: string;
  readonly stateType: string;
  readonly input: unknown;
}

export interface ExecutionOutcome {
  readonly executionName: string;
  readonly settlementId: string;
  readonly workflow: WorkflowKind;
  readonly succeeded: boolean;
  readonly error?: string;
}

interface Running {
  readonly settlementId: string;
  readonly input: string;
  readonly done: Promise<void>;
  readonly abort: () => void;
}

interface HandOffRequest {
  readonly StateMachineArn: string;
  readonly Name: string;
  readonly Input: { readonly settlementId: string };
}

/** A Lambda context for handlers invoked in-process (no deadline: the interpreter's TimeoutSeconds applies). */
function localLambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: '512',
    awsRequestId: 'local',
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } as unknown as Context;
}

const stateEventKinds: Readonly<Record<string, WorkflowStateEvent['kind']>> = { StateEntered: 'entered', StateExited: 'exited', StateRetried: 'retried' };

export class LocalWorkflow implements WorkflowPort {
  private readonly machines: Readonly<Record<WorkflowKind, StateMachine>>;
  private readonly stages: Readonly<Record<WorkflowKind, readonly StageName[]>>;
  /** Keyed `<kind>:<name>`. */
  private readonly running = new Map<string, Running>();
  private readonly standardNames = new Set<string>();
  private stopped = false;

  constructor(
    private readonly handlers: Readonly<Record<StageName, StageHandler>>,
    private readonly options: LocalWorkflowOptions = {},
  ) {
    const machine = (kind: WorkflowKind) => new StateMachine(loadStateMachineDefinition(localSubstitution, kind) as never, { validationOptions: { checkArn: true, checkPaths: true } });
    this.machines = { EXPRESS: machine('EXPRESS'), STANDARD: machine('STANDARD') };
    this.stages = { EXPRESS: stageTasksOf('EXPRESS'), STANDARD: stageTasksOf('STANDARD') };
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Starts the fast path (Express on AWS), named after the settlement id, attempt and resume. */
  async startSettlement(input: WorkflowStart): Promise<{ executionName: string; alreadyStarted: boolean }> {
    const name = executionName(input.settlementId, input.attempt, input.resume);
    if (this.stopped) throw new Error('local workflow is stopped');
    // Kept from before the fast path: starting a running execution of the same name again is a no-op here. Express
    // on AWS does not deduplicate starts; the stages' idempotency makes a duplicate harmless either way.
    if (this.running.has(`EXPRESS:${name}`)) return { executionName: name, alreadyStarted: true };
    this.run('EXPRESS', name, input);
    return { executionName: name, alreadyStarted: false };
  }

  /**
   * The HandOff Task: StartExecution on the Standard machine with Step Functions' name rules. Same name and input
   * as a running execution: that execution; a name already used otherwise: ExecutionAlreadyExistsError.
   */
  private async handOff(request: HandOffRequest): Promise<{ ExecutionArn: string; StartDate: string }> {
    if (request.StateMachineArn !== localStateMachineArn('STANDARD')) throw new Error(`hand-off to an unknown state machine ${request.StateMachineArn}`);
    if (this.stopped) throw new Error('local workflow is stopped');
    const input = JSON.stringify(request.Input);
    const reply = { ExecutionArn: localExecutionArn('STANDARD', request.Name), StartDate: new Date().toISOString() };
    const running = this.running.get(`STANDARD:${request.Name}`);
    if (running?.input === input) return reply;
    if (running !== undefined || this.standardNames.has(request.Name)) throw new ExecutionAlreadyExistsError(request.Name);
    this.standardNames.add(request.Name);
    if (this.standardNames.size > standardNamesRememberedMax) this.standardNames.delete(this.standardNames.values().next().value!);
    this.run('STANDARD', request.Name, request.Input);
    return reply;
  }

  private run(kind: WorkflowKind, name: string, input: { settlementId: string }): void {
    const stageHandlers = Object.fromEntries(
      this.stages[kind].map((stage) => [stage, async (state: unknown) => (await this.handlers[stage](state as never, localLambdaContext(stage))) as never]),
    );
    const taskHandlers = kind === 'EXPRESS' ? { ...stageHandlers, [handOffStateName]: async (request: unknown) => (await this.handOff(request as HandOffRequest)) as never } : stageHandlers;
    const execution = this.machines[kind].run(input, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        ...(this.options.confirmationWaitMs !== undefined && { waitTimeOverrides: { WaitForConfirmation: this.options.confirmationWaitMs } }),
        ...(this.options.retryIntervalMs !== undefined && { retryIntervalOverrides: Object.fromEntries(Object.keys(taskHandlers).map((state) => [state, this.options.retryIntervalMs!])) }),
      },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: localExecutionArn(kind, name), Name: name, StartTime: new Date().toISOString() },
        StateMachine: { Id: localStateMachineArn(kind), Name: localStateMachineNames[kind] },
      },
    });
    const settlementId = input.settlementId;
    if (this.options.onStateEvent) void this.observe(execution.eventLogs, settlementId, kind, this.options.onStateEvent);
    const key = `${kind}:${name}`;
    const done = execution.result.then(
      (output: unknown) => {
        // An Express run that handed off goes on in the Standard execution of the same name, which reports its end.
        if (kind === 'EXPRESS' && (output as { handedOff?: unknown } | null)?.handedOff !== undefined) return;
        this.options.onExecutionEnd?.({ executionName: name, settlementId, workflow: kind, succeeded: true });
      },
      (error: unknown) => {
        const message = (error as Error)?.message ?? String(error);
        this.options.onExecutionEnd?.({ executionName: name, settlementId, workflow: kind, succeeded: false, error: message });
        if (!message.includes('SettlementParked')) console.error(JSON.stringify({ level: 'error', message: 'execution failed', workflow: kind, executionName: name, error: message }));
      },
    ).finally(() => this.running.delete(key));
    this.running.set(key, { settlementId, input: JSON.stringify(input), done, abort: execution.abort });
  }

  private async observe(events: AsyncGenerator<unknown>, settlementId: string, workflow: WorkflowKind, onStateEvent: (event: WorkflowStateEvent) => void): Promise<void> {
    for await (const raw of events) {
      const event = raw as { type: string; timestamp: number; state?: { name: string; type: string; input: unknown } };
      const kind = stateEventKinds[event.type];
      if (event.state === undefined || kind === undefined) continue;
      onStateEvent({ settlementId, workflow, kind, timestamp: event.timestamp, stateName: event.state.name, stateType: event.state.type, input: event.state.input });
    }
  }

  /** Waits for running executions to end, up to `timeoutMs`; then aborts the rest (recovery resumes them). */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    for (const running of this.running.values()) running.abort();
  }

  /** Whether an execution of this settlement runs in this process, in either workflow (the recovery sweep leaves it alone). */
  isRunning(settlementId: string): boolean {
    for (const running of this.running.values()) if (running.settlementId === settlementId) return true;
    return false;
  }

  /** Resolves when no execution is running (tests, benchmarks); a hand-off starts its Standard run before the Express one ends. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((running) => running.done));
  }
}
