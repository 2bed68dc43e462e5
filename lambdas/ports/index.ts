/**
 * Ports: what the use cases need from the outside world. Adapters in lambdas/adapters implement them; the use
 * cases import these interfaces only, never an AWS SDK.
 */
export type * from './bank';
export * from './metrics';
import type { CarriedRecord } from './stores';

/** Source of time, injectable so tests control windows, expiries and durations. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * Starts a settlement's workflow, on its fast path: Step Functions StartExecution of the Express machine on AWS, the
 * local ASL interpreter locally. The fast path hands slow settlements to the Standard workflow itself.
 */
export interface WorkflowPort {
  /**
   * Starts the execution for one attempt, named after the settlement id and attempt. Express does not refuse a
   * duplicate start: the duplicate replays the idempotent stages as no-ops, and its hand-off to the Standard workflow
   * (same name) is refused or joined by Step Functions, so a duplicate start changes nothing.
   * `resume` (the record version a recovery or operator requeue committed) names a further run of the same
   * attempt: Step Functions never reuses the name of a closed execution, and each resume commits a new version.
   * `record`: the record as just written or read, which the first stage decides on instead of reading it again.
   */
  startSettlement(input: WorkflowStart): Promise<{ executionName: string; alreadyStarted: boolean }>;
}

/** The input of a settlement's execution. */
export interface WorkflowStart {
  readonly settlementId: string;
  readonly attempt: number;
  readonly resume?: number;
  readonly record?: CarriedRecord;
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
