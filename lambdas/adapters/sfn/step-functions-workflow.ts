/**
 * WorkflowPort on AWS: Step Functions StartExecution of the fast path (the Express machine, STATE_MACHINE_ARN),
 * execution name derived from the settlement id and attempt. The fast path hands a slow settlement to the Standard
 * machine under the same name, and a Standard execution name cannot be reused once closed, so every attempt (and
 * every resumed run) gets its own name.
 */
import { createHash } from 'node:crypto';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowPort, WorkflowStart } from '../../ports';

/** Step Functions execution names: 1–80 characters of [A-Za-z0-9-_]. */
export function executionName(settlementId: string, attempt: number, resume?: number): string {
  const suffix = `-a${attempt}${resume === undefined ? '' : `-r${resume}`}`;
  // 80 characters at most: the readable part gives way to the suffix (56 keeps first-run names as they were).
  const safe = settlementId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, Math.min(56, 80 - 13 - suffix.length));
  // The hash keeps ids that differ only in replaced characters apart.
  const hash = createHash('sha256').update(settlementId).digest('hex').slice(0, 12);
  return `${safe}-${hash}${suffix}`;
}

export class StepFunctionsWorkflow implements WorkflowPort {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async startSettlement(input: WorkflowStart): Promise<{ executionName: string; alreadyStarted: boolean }> {
    const name = executionName(input.settlementId, input.attempt, input.resume);
    try {
      await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
      return { executionName: name, alreadyStarted: false };
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return { executionName: name, alreadyStarted: true };
      throw error;
    }
  }
}
