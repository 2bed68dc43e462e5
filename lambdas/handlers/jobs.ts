// Placeholder while the core lands: scheduled jobs (EventBridge on AWS, timers locally).
const notYet = (name: string) => async (): Promise<never> => {
  throw new Error(`${name} is being implemented`);
};
export const reconcile = notYet('reconcile');
export const retryFailed = notYet('retryFailed');
export const cleanup = notYet('cleanup');
export const recoverStuck = notYet('recoverStuck');
