/**
 * Ports: what the use cases need from the outside world. Adapters in lambdas/adapters implement them; the use
 * cases import these interfaces only, never an AWS SDK.
 */
export type * from './bank';
export * from './metrics';

/** Source of time, injectable so tests control windows, expiries and durations. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Starts a settlement's workflow: Step Functions StartExecution on AWS, the local ASL interpreter locally. */
export interface WorkflowPort {
  /**
   * Starts (or, if an execution of that name already exists, leaves alone) the execution for one attempt.
   * The execution name is derived from the settlement id and attempt so a duplicate start is a no-op.
   * `resume` (the record version a recovery or operator requeue committed) names a further run of the same
   * attempt: Step Functions never reuses the name of a closed execution, and each resume commits a new version.
   */
  startSettlement(input: { settlementId: string; attempt: number; resume?: number }): Promise<{ executionName: string; alreadyStarted: boolean }>;
}

/** A message for operators about a settlement that could not be finished automatically. */
export interface DeadLetterMessage {
  readonly settlementId: string;
  readonly status: string;
  readonly reasonCode: string;
  readonly reason: string;
  readonly attempt: number;
  readonly parkedAt: string;
}

/** Dead-letter queue for parked settlements: SQS on AWS and against the local SQS emulator. */
export interface DeadLetterPort {
  send(message: DeadLetterMessage): Promise<void>;
}
