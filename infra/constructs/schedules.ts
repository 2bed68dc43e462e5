/**
 * EventBridge schedules for the jobs in lambdas/handlers/jobs.ts: the same handlers the local engine runs on timers.
 * Each job is idempotent and guards its own mutual exclusion, so an overlapping or repeated run is harmless.
 *
 * Nothing a job fails on is dropped silently: the rule's target retries delivery and sends what it could not
 * deliver to the failed-jobs queue, and the function's asynchronous invocation retries a run that threw and then
 * sends that event to the same queue. Observability alarms on the queue and on the rules' failed invocations.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ScheduleIntervals } from '../config';
import { acknowledge } from '../nag';
import { holdingQueueDefaults } from './storage-defaults';

export interface SchedulesProps {
  readonly intervals: ScheduleIntervals;
  readonly jobs: Readonly<Record<keyof ScheduleIntervals, lambda.IFunction>>;
}

const ruleIds: Readonly<Record<keyof ScheduleIntervals, string>> = {
  reconcile: 'ReconcileSchedule',
  retryFailed: 'RetryFailedSchedule',
  cleanup: 'CleanupSchedule',
  recoverStuck: 'RecoverStuckSchedule',
  publishBalances: 'PublishBalancesSchedule',
};

/** Delivery retries by EventBridge, and run retries by Lambda's asynchronous invocation: the same bound for both. */
export const jobRetryAttemptsMax = 2;

export class Schedules extends Construct {
  readonly rules: Readonly<Record<keyof ScheduleIntervals, events.Rule>>;
  /** Scheduled events that could not be delivered, or whose run failed after its retries. */
  readonly failedJobsQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    this.failedJobsQueue = new sqs.Queue(this, 'FailedJobsQueue', holdingQueueDefaults);
    acknowledge(this.failedJobsQueue, 'AwsSolutions-SQS3', 'This queue is itself the dead-letter queue of the job schedules and of the jobs\' asynchronous invocations.');
    const rules: Partial<Record<keyof ScheduleIntervals, events.Rule>> = {};
    for (const job of Object.keys(ruleIds) as (keyof ScheduleIntervals)[]) {
      const interval = props.intervals[job];
      // A run that could not start before the next one is due is dropped (into the queue): the next run does its work.
      const maxEventAge = Duration.seconds(Math.min(Math.max(interval.toSeconds(), 60), 3600));
      props.jobs[job].configureAsyncInvoke({
        retryAttempts: jobRetryAttemptsMax,
        maxEventAge,
        onFailure: new destinations.SqsDestination(this.failedJobsQueue),
      });
      rules[job] = new events.Rule(this, ruleIds[job], {
        description: `Settlement Engine job ${job}, every ${interval.toHumanString()}`,
        schedule: events.Schedule.rate(interval),
        targets: [new targets.LambdaFunction(props.jobs[job], { retryAttempts: jobRetryAttemptsMax, maxEventAge, deadLetterQueue: this.failedJobsQueue })],
      });
    }
    this.rules = rules as Record<keyof ScheduleIntervals, events.Rule>;
  }
}
