import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errorCatalogue, errorCatalogueEntries, errorCodeByName, ownRetryErrorNames, runtimeErrorNames, transientErrorNames, type ErrorName } from '../../../lambdas/domain/error-catalogue';
import * as coreErrors from '../../../lambdas/domain/errors';
import * as operationsErrors from '../../../lambdas/domain/operations-errors';
import * as recoveryErrors from '../../../lambdas/domain/recovery-errors';
import { GrpcStatusError } from '../../../lambdas/adapters/grpc/errors';
import { AccessConfigurationError } from '../../../lambdas/adapters/auth/api-keys';
import { StaleSettlementError } from '../../../lambdas/ports/stores';
import { JavaMissingError } from '../../../lambdas/local/dynamodb-local';

const statemachinesDirectory = path.resolve(__dirname, '../../../statemachines');

interface Retrier {
  readonly ErrorEquals: readonly string[];
}
interface TaskState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Retrier[];
}

function aslFiles(): Array<{ file: string; states: Record<string, TaskState> }> {
  return readdirSync(statemachinesDirectory)
    .filter((file) => file.endsWith('.asl.json'))
    .map((file) => ({ file, states: (JSON.parse(readFileSync(path.join(statemachinesDirectory, file), 'utf8')) as { States: Record<string, TaskState> }).States }));
}

/** Builds an error with placeholder arguments: arrays of one string read as a string in messages and join like a list. */
function sample(type: abstract new (...args: never[]) => Error): Error {
  const args = Array.from({ length: Math.max(type.length, 1) }, () => ['x']);
  return Reflect.construct(type, args) as Error;
}

const errorModules = { ...coreErrors, ...operationsErrors, ...recoveryErrors };
const errorClasses = Object.entries(errorModules).filter(
  (entry): entry is [string, typeof coreErrors.ValidationError] => typeof entry[1] === 'function' && entry[1].prototype instanceof coreErrors.SettlementEngineError,
);

describe('the error catalogue', () => {
  it('registers every typed error class of the errors modules', () => {
    expect(errorClasses.map(([exportName]) => exportName).sort()).toEqual(Object.keys(errorCatalogue).sort());
  });

  it.each(Object.entries(errorCatalogue))('gives %s a literal name equal to its class name, and its static code and kind to each instance', (name, type) => {
    expect(type.name).toBe(name);
    const error = sample(type as never) as coreErrors.SettlementEngineError;
    expect(error.name).toBe(name);
    expect(error.code).toBe(type.code);
    expect(error.kind).toBe(type.kind);
    expect(error).toBeInstanceOf(type);
  });

  it('keeps names that do not come from the class at run time (a renamed class keeps its name)', () => {
    // What a minifier does: the binding gets another name; the error's name must not follow it.
    const renamed = { ae: coreErrors.InsufficientFundsError }.ae;
    Object.defineProperty(renamed, 'name', { value: 'ae', configurable: true });
    try {
      expect(new renamed('acc', '1.00').name).toBe('InsufficientFundsError');
    } finally {
      Object.defineProperty(renamed, 'name', { value: 'InsufficientFundsError', configurable: true });
    }
  });

  it('gives the errors outside the catalogue literal names as well', () => {
    expect(new GrpcStatusError(0 as never, 'm').name).toBe('GrpcStatusError');
    expect(new AccessConfigurationError('API_KEYS', 'm').name).toBe('AccessConfigurationError');
    expect(new StaleSettlementError('s').name).toBe('StaleSettlementError');
    expect(new JavaMissingError().name).toBe('JavaMissingError');
  });

  it('has one code per name and derives the reason code of every catalogued name', () => {
    for (const entry of errorCatalogueEntries) expect(errorCodeByName[entry.name]).toBe(entry.code);
    expect(errorCodeByName['States.Timeout']).toBe(coreErrors.ErrorCode.stageTimeout);
  });

  it('derives the every-Task transient list from the kinds, without the errors one Task retries itself', () => {
    expect([...transientErrorNames].sort()).toEqual(
      ['BankUnavailableError', 'StoreUnavailableError', 'ThrottlingError', 'TransactionConflictError', 'TransferOutcomeUnknownError'].sort(),
    );
  });
});

describe('the state machines against the error catalogue', () => {
  const files = aslFiles();

  it('finds the state machine files', () => {
    expect(files.map(({ file }) => file)).toContain('settlement.asl.json');
  });

  it.each(files.map(({ file, states }) => [file, states] as const))('%s names only catalogued errors (or States.*/Lambda.*, and StepFunctions.* on the hand-off) in ErrorEquals', (_file, states) => {
    const unknown: string[] = [];
    for (const [stateName, state] of Object.entries(states)) {
      for (const clause of [...(state.Retry ?? []), ...(state.Catch ?? [])]) {
        for (const name of clause.ErrorEquals) {
          const known = name in errorCatalogue || (runtimeErrorNames as readonly string[]).includes(name) || name.startsWith('States.') || name.startsWith('Lambda.') || (stateName === 'HandOff' && name.startsWith('StepFunctions.'));
          if (!known) unknown.push(`${stateName}: ${name}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it.each(files.map(({ file, states }) => [file, states] as const))('%s retries every transient error on every stage Task', (_file, states) => {
    const missing: string[] = [];
    for (const [stateName, state] of Object.entries(states)) {
      // The fast path's HandOff is Step Functions' own StartExecution integration, not a stage: no stage error reaches it.
      if (state.Type !== 'Task' || !state.Resource?.endsWith('FunctionArn}')) continue;
      const retried = new Set((state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals));
      for (const name of transientErrorNames) if (!retried.has(name)) missing.push(`${stateName}: ${name satisfies ErrorName}`);
    }
    expect(missing).toEqual([]);
  });

  it.each(files.map(({ file, states }) => [file, states] as const))('%s retries each one-Task transient error in some Retry', (_file, states) => {
    // ReversalPendingError is Compensate's; the fast path hands compensation to the Standard workflow.
    if (!('Compensate' in states)) return;
    const retried = new Set(Object.values(states).flatMap((state) => (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals)));
    for (const name of ownRetryErrorNames) expect(retried.has(name)).toBe(true);
  });
});
