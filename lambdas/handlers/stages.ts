/**
 * Lambda entry points of the stage functions: one export per Task state (the names are infra's handler names).
 */
import { createStageHandlers } from './stage-handlers';
import { lambdaDeps } from './lambda-deps';

const handlers = createStageHandlers(() => lambdaDeps());

export const validate = handlers.Validate;
export const lockFunds = handlers.LockFunds;
export const initiateTransfer = handlers.InitiateTransfer;
export const checkConfirmation = handlers.CheckConfirmation;
export const finalize = handlers.Finalize;
export const beginRollback = handlers.BeginRollback;
export const compensate = handlers.Compensate;
export const releaseLocks = handlers.ReleaseLocks;
export const markFailed = handlers.MarkFailed;
export const parkSettlement = handlers.ParkSettlement;
