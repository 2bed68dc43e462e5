/**
 * Dependencies of the recovery use cases: the engine's ports plus the index reads of RecoveryStore.
 */
import { InvariantViolationError } from '../../domain/errors';
import type { RecoveryStore } from '../../ports/recovery';
import type { EngineDeps } from '../deps';

export type RecoveryDeps = EngineDeps & { readonly recovery: RecoveryStore };

/** The recovery store is wired wherever jobs or admin routes run; its absence is a wiring bug. */
export function requireRecoveryDeps(deps: EngineDeps): RecoveryDeps {
  if (!deps.recovery) throw new InvariantViolationError('recovery: EngineDeps.recovery is not wired (jobs and the parked-settlement API need it)');
  return deps as RecoveryDeps;
}
