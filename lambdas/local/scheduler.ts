/**
 * Local stand-in for the EventBridge schedules: timers that invoke the same job handlers (lambdas/handlers/
 * job-handlers.ts) in this process. Runs of one job never overlap (the next is scheduled when one ends), every
 * timer is unref'd, and a failed run is logged and retried at the next interval, as EventBridge would.
 *
 * On start the recovery sweep runs once with no stuck threshold: a process that has just started runs no
 * execution, so every settlement in flight was left by the previous process and is resumed.
 */
import type { Context } from 'aws-lambda';
import type { Environment } from '../config';
import { positiveInteger } from '../config';
import { createJobHandlers, jobSettingsFromEnvironment, type JobHandlers, type JobName, type JobReports } from '../handlers/job-handlers';
import type { EngineDeps } from '../usecases/deps';
import { defaultJobSettings, logJob, type JobSettings } from '../usecases/recovery/limits';
import type { LocalWorkflow } from './local-workflow';

export interface JobIntervals {
  readonly retryIntervalMs: number;
  readonly cleanupIntervalMs: number;
  readonly recoveryIntervalMs: number;
}

/** The EventBridge rates of infra/config.ts, except recovery: locally a crash is the common case, so sweep often. */
export const defaultJobIntervals: JobIntervals = { retryIntervalMs: 5 * 60_000, cleanupIntervalMs: 10 * 60_000, recoveryIntervalMs: 60_000 };

/** Stuck threshold of the local periodic sweep: the engine knows which executions it runs, so it can be short. */
export const localStuckAfterSecondsDefault = 60;

const intervalOf: Readonly<Record<JobName, keyof JobIntervals>> = { retryFailed: 'retryIntervalMs', cleanup: 'cleanupIntervalMs', recoverStuck: 'recoveryIntervalMs' };

export interface LocalScheduler {
  /** The start-up recovery sweep; resolves when it has run (undefined if it failed, which is logged). */
  readonly startup: Promise<JobReports['recoverStuck'] | undefined>;
  /** Runs one job now, after any run of it in progress (tests, the operator's "do it now"). */
  run<N extends JobName>(name: N): Promise<JobReports[N]>;
  /** Stops the timers and waits for runs in progress. */
  stop(): Promise<void>;
}

/** Job intervals from the environment (seconds): RETRY_JOB_INTERVAL_SECONDS, CLEANUP_JOB_INTERVAL_SECONDS, RECOVERY_JOB_INTERVAL_SECONDS. */
export function jobIntervalsFromEnvironment(env: Environment): JobIntervals {
  return {
    retryIntervalMs: positiveInteger(env, 'RETRY_JOB_INTERVAL_SECONDS', defaultJobIntervals.retryIntervalMs / 1000) * 1000,
    cleanupIntervalMs: positiveInteger(env, 'CLEANUP_JOB_INTERVAL_SECONDS', defaultJobIntervals.cleanupIntervalMs / 1000) * 1000,
    recoveryIntervalMs: positiveInteger(env, 'RECOVERY_JOB_INTERVAL_SECONDS', defaultJobIntervals.recoveryIntervalMs / 1000) * 1000,
  };
}

const localJobContext = (name: string) => ({ functionName: `settlement-engine-${name}`, awsRequestId: 'local', callbackWaitsForEmptyEventLoop: false }) as unknown as Context;

export function startLocalScheduler(handlers: JobHandlers, intervals: JobIntervals): LocalScheduler {
  let stopped = false;
  const timers = new Map<JobName, NodeJS.Timeout>();
  const inProgress = new Map<JobName, Promise<unknown>>();

  const invoke = <N extends JobName>(name: N, event: Record<string, unknown> = {}): Promise<JobReports[N]> => {
    const previous = inProgress.get(name) ?? Promise.resolve();
    const handler = handlers[name] as (event: Record<string, unknown>, context: Context) => Promise<JobReports[N]>;
    const run = previous.catch(() => undefined).then(() => handler(event, localJobContext(name)));
    inProgress.set(name, run.catch(() => undefined));
    return run;
  };

  const schedule = (name: JobName) => {
    if (stopped) return;
    const timer = setTimeout(() => {
      invoke(name)
        .catch((error: unknown) => logJob('error', `job ${name} failed; it runs again at its next interval`, { error: String(error) }))
        .finally(() => schedule(name));
    }, intervals[intervalOf[name]]);
    timer.unref();
    timers.set(name, timer);
  };

  const startup = invoke('recoverStuck', { stuckAfterSeconds: 0 }).catch((error: unknown) => {
    logJob('error', 'start-up recovery sweep failed; the periodic sweep will resume stuck settlements', { error: String(error) });
    return undefined;
  });
  for (const name of Object.keys(intervalOf) as JobName[]) schedule(name);

  return {
    startup,
    run: (name) => invoke(name),
    stop: async () => {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      await Promise.all(inProgress.values());
    },
  };
}

/** The `jobs` option of the local engine: intervals and job settings; the defaults suit `npm start`. */
export interface LocalJobsOptions extends Partial<JobIntervals> {
  readonly settings?: Partial<Omit<JobSettings, 'isRunning'>>;
}

/**
 * Starts the scheduler over the engine's deps and workflow. The sweeps leave alone what this process's workflow
 * runs, so the local stuck threshold can be short.
 */
export function startLocalJobs(deps: () => EngineDeps, workflow: LocalWorkflow, options: LocalJobsOptions = {}): LocalScheduler {
  const settings: JobSettings = {
    ...defaultJobSettings,
    stuckAfterSeconds: localStuckAfterSecondsDefault,
    ...options.settings,
    isRunning: (settlementId) => workflow.isRunning(settlementId),
  };
  const intervals: JobIntervals = {
    retryIntervalMs: options.retryIntervalMs ?? defaultJobIntervals.retryIntervalMs,
    cleanupIntervalMs: options.cleanupIntervalMs ?? defaultJobIntervals.cleanupIntervalMs,
    recoveryIntervalMs: options.recoveryIntervalMs ?? defaultJobIntervals.recoveryIntervalMs,
  };
  return startLocalScheduler(createJobHandlers(deps, () => settings), intervals);
}

/**
 * The local engine's `jobs` option from the environment: intervals (RETRY_JOB_INTERVAL_SECONDS,
 * CLEANUP_JOB_INTERVAL_SECONDS, RECOVERY_JOB_INTERVAL_SECONDS), and the job settings that are set
 * (JOB_BATCH_SIZE, RECOVERY_STUCK_AFTER_SECONDS, OPERATION_RETENTION_SECONDS); JOBS=off turns the timers off.
 */
export function localJobsFromEnvironment(env: Environment): LocalJobsOptions | false {
  if (env.JOBS === 'off') return false;
  const settings = jobSettingsFromEnvironment(env);
  return {
    ...jobIntervalsFromEnvironment(env),
    settings: {
      ...(env.JOB_BATCH_SIZE && { batchSize: settings.batchSize }),
      ...(env.RECOVERY_STUCK_AFTER_SECONDS && { stuckAfterSeconds: settings.stuckAfterSeconds }),
      ...(env.OPERATION_RETENTION_SECONDS && { operationRetentionSeconds: settings.operationRetentionSeconds }),
    },
  };
}
