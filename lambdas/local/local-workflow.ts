/**
 * WorkflowPort for the local engine: runs statemachines/settlement.asl.json itself in the aws-local-stepfunctions
 * interpreter, each Task state mapped to the same handler its Lambda function runs on AWS.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import type { WorkflowPort } from '../ports';
import { executionName } from '../adapters/sfn/step-functions-workflow';
import { stageNames, type StageHandler, type StageName } from '../handlers/stage-handlers';

export const stateMachinePath = path.resolve(__dirname, '../../statemachines/settlement.asl.json');

/** Local stand-in ARN of each Task's function, substituted like CDK's definitionSubstitutions. */
export function localFunctionArn(stage: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:settlement-engine-${stage}`;
}

/** The ASL file with `${<State>FunctionArn}` placeholders substituted. */
export function loadStateMachineDefinition(substitute: (placeholder: string) => string = (name) => localFunctionArn(name.replace(/FunctionArn$/, ''))): Record<string, unknown> {
  const text = readFileSync(stateMachinePath, 'utf8').replace(/\$\{(\w+)\}/g, (_, name: string) => substitute(name));
  return JSON.parse(text) as Record<string, unknown>;
}

export interface LocalWorkflowOptions {
  /** Overrides every Retry interval (ms); undefined keeps the ASL's own backoff. */
  readonly retryIntervalMs?: number;
  /** Overrides the confirmation Wait (ms); undefined waits the seconds the stage asked for. */
  readonly confirmationWaitMs?: number;
  /** Called when an execution ends, with the terminal state name or the failure. */
  readonly onExecutionEnd?: (outcome: ExecutionOutcome) => void;
  /**
   * Called for every state entered and every Task retry, as Step Functions Standard bills them (the bench's
   * capacity model counts transitions and Lambda invocations with it). Absent: the event log is not read.
   */
  readonly onStateEvent?: (event: WorkflowStateEvent) => void;
}

export interface WorkflowStateEvent {
  readonly settlementId: string;
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
  readonly succeeded: boolean;
  readonly error?: string;
}

interface Running {
  readonly settlementId: string;
  readonly done: Promise<void>;
  readonly abort: () => void;
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
  private readonly machine: StateMachine;
  private readonly running = new Map<string, Running>();
  private stopped = false;

  constructor(
    private readonly handlers: Readonly<Record<StageName, StageHandler>>,
    private readonly options: LocalWorkflowOptions = {},
  ) {
    this.machine = new StateMachine(loadStateMachineDefinition() as never, { validationOptions: { checkArn: true, checkPaths: true } });
  }

  get runningCount(): number {
    return this.running.size;
  }

  async startSettlement(input: { settlementId: string; attempt: number; resume?: number }): Promise<{ executionName: string; alreadyStarted: boolean }> {
    const name = executionName(input.settlementId, input.attempt, input.resume);
    if (this.stopped) throw new Error('local workflow is stopped');
    // Like Step Functions: starting a running execution of the same name again is a no-op.
    if (this.running.has(name)) return { executionName: name, alreadyStarted: true };
    const execution = this.machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(
          stageNames.map((stage) => [stage, async (state: unknown) => (await this.handlers[stage](state as never, localLambdaContext(stage))) as never]),
        ),
        ...(this.options.confirmationWaitMs !== undefined && { waitTimeOverrides: { WaitForConfirmation: this.options.confirmationWaitMs } }),
        ...(this.options.retryIntervalMs !== undefined && { retryIntervalOverrides: Object.fromEntries(stageNames.map((stage) => [stage, this.options.retryIntervalMs!])) }),
      },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: `arn:aws:states:us-east-1:000000000000:execution:settlement-engine:${name}`, Name: name, StartTime: new Date().toISOString() },
        StateMachine: { Id: 'arn:aws:states:us-east-1:000000000000:stateMachine:settlement-engine', Name: 'settlement-engine' },
      },
    });
    if (this.options.onStateEvent) void this.observe(execution.eventLogs, input.settlementId, this.options.onStateEvent);
    const done = execution.result.then(
      () => this.options.onExecutionEnd?.({ executionName: name, settlementId: input.settlementId, succeeded: true }),
      (error: unknown) => {
        const message = (error as Error)?.message ?? String(error);
        this.options.onExecutionEnd?.({ executionName: name, settlementId: input.settlementId, succeeded: false, error: message });
        if (!message.includes('SettlementParked')) console.error(JSON.stringify({ level: 'error', message: 'execution failed', executionName: name, error: message }));
      },
    ).finally(() => this.running.delete(name));
    this.running.set(name, { settlementId: input.settlementId, done, abort: execution.abort });
    return { executionName: name, alreadyStarted: false };
  }

  private async observe(events: AsyncGenerator<unknown>, settlementId: string, onStateEvent: (event: WorkflowStateEvent) => void): Promise<void> {
    for await (const raw of events) {
      const event = raw as { type: string; timestamp: number; state?: { name: string; type: string; input: unknown } };
      const kind = stateEventKinds[event.type];
      if (event.state === undefined || kind === undefined) continue;
      onStateEvent({ settlementId, kind, timestamp: event.timestamp, stateName: event.state.name, stateType: event.state.type, input: event.state.input });
    }
  }

  /** Waits for running executions to end, up to `timeoutMs`; then aborts the rest (recovery resumes them). */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const all = Promise.all([...this.running.values()].map((running) => running.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    for (const running of this.running.values()) running.abort();
  }

  /** Whether an execution of this settlement runs in this process (the recovery sweep leaves it alone). */
  isRunning(settlementId: string): boolean {
    for (const running of this.running.values()) if (running.settlementId === settlementId) return true;
    return false;
  }

  /** Resolves when no execution is running (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((running) => running.done));
  }
}
