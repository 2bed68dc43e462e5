/**
 * Stage handlers: one per Task state of statemachines/settlement.asl.json, thin wrappers over the use cases.
 * `createStageHandlers` is used by the Lambda entry (stages.ts) and by the local engine alike.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { beginRollback, compensate, markFailed, parkSettlement, releaseLocks } from '../usecases/rollback';
import { checkConfirmation, finalize, initiateTransfer, lockFunds, validate, type StageInput } from '../usecases/stages';
import type { EngineDeps } from '../usecases/deps';
import { flushMetrics, requireSettlementId } from './middleware';

/** Task state name → use case. The keys are the ASL's Task state names; a test keeps them in sync. */
export const stageUseCases = {
  Validate: validate,
  LockFunds: lockFunds,
  InitiateTransfer: initiateTransfer,
  CheckConfirmation: checkConfirmation,
  Finalize: finalize,
  BeginRollback: beginRollback,
  Compensate: compensate,
  ReleaseLocks: releaseLocks,
  MarkFailed: markFailed,
  ParkSettlement: parkSettlement,
} as const;
export type StageName = keyof typeof stageUseCases;
export const stageNames = Object.keys(stageUseCases) as StageName[];

/** Export name of each stage's Lambda handler in lambdas/handlers/stages.ts (also the CDK handler name). */
export function stageHandlerExportName(stage: StageName): string {
  return stage.charAt(0).toLowerCase() + stage.slice(1);
}

export type StageHandler = (event: StageInput, context: Context) => Promise<unknown>;

export function createStageHandler(stage: StageName, deps: () => EngineDeps): StageHandler {
  const useCase = stageUseCases[stage] as (deps: EngineDeps, input: StageInput) => Promise<unknown>;
  return middy<StageInput, unknown>()
    .use(requireSettlementId())
    .use(flushMetrics(() => deps().metrics))
    .handler(async (event) => useCase(deps(), event));
}

export function createStageHandlers(deps: () => EngineDeps): Record<StageName, StageHandler> {
  return Object.fromEntries(stageNames.map((stage) => [stage, createStageHandler(stage, deps)])) as Record<StageName, StageHandler>;
}
