/**
 * EventBridge schedules for the jobs in lambdas/handlers/jobs.ts: the same handlers the local engine runs on timers.
 * Each job is idempotent and guards its own mutual exclusion, so an overlapping or repeated run is harmless.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { ScheduleIntervals } from '../config';

export interface SchedulesProps {
  readonly intervals: ScheduleIntervals;
  readonly jobs: Readonly<Record<keyof ScheduleIntervals, lambda.IFunction>>;
}

const ruleIds: Readonly<Record<keyof ScheduleIntervals, string>> = {
  reconcile: 'ReconcileSchedule',
  retryFailed: 'RetryFailedSchedule',
  cleanup: 'CleanupSchedule',
  recoverStuck: 'RecoverStuckSchedule',
};

export class Schedules extends Construct {
  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    for (const job of Object.keys(ruleIds) as (keyof ScheduleIntervals)[]) {
      const interval = props.intervals[job];
      new events.Rule(this, ruleIds[job], {
        description: `Settlement Engine job ${job}, every ${interval.toHumanString()}`,
        schedule: events.Schedule.rate(interval),
        targets: [
          new targets.LambdaFunction(props.jobs[job], {
            retryAttempts: 2,
            // A run that could not start before the next one is due is dropped: the next run does its work.
            maxEventAge: Duration.seconds(Math.min(Math.max(interval.toSeconds(), 60), 3600)),
          }),
        ],
      });
    }
  }
}
