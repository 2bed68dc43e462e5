import { ConfigurationError, grpcTaskConfig, lambdaConfig, localConfig, requiredEnvironmentVariables } from '../../lambdas/config';
import { tableNameEnvironmentVariables } from '../../lambdas/adapters/dynamodb/table-definitions';

const tables = Object.fromEntries(Object.values(tableNameEnvironmentVariables).map((variable) => [variable, `table-${variable}`]));
const deployed = { ...tables, BANK_ADAPTER: 'mock', DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dead-letters' };
const task = { ...deployed, STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:settlement', API_KEYS: `gateway:${'a'.repeat(64)}` };

function problemOf(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('the configuration schema', () => {
  it('parses a deployed Lambda configuration with the named defaults', () => {
    const config = lambdaConfig(deployed);
    expect(config).toMatchObject({ bankAdapter: 'mock', deadLetterQueue: { adapter: 'sqs' }, workflow: { adapter: 'none' }, metrics: { adapter: 'emf' } });
    expect(config.tables.settlements).toBe(`table-${tableNameEnvironmentVariables.settlements}`);
    expect(config.limits.lockTtlSeconds).toBe(86_400);
  });

  it('has a deployed runtime read every retiring index (the stateful stack keeps them all deployed: test/infra), and the local one none until its bootstrap says', () => {
    const retiring = ['endedOperations', 'inFlight', 'parked', 'pendingLocks', 'retryQueue'];
    expect([...lambdaConfig(deployed).retiringIndexes].sort()).toEqual(retiring);
    expect([...grpcTaskConfig(task).retiringIndexes].sort()).toEqual(retiring);
    expect(localConfig().retiringIndexes).toEqual([]);
  });

  it.each([['BANK_ADAPTER'], ['DEAD_LETTER_QUEUE_URL'], [tableNameEnvironmentVariables.ledger]])('stops a deployed process that is not told %s, naming it', (variable) => {
    const error = problemOf(() => lambdaConfig({ ...deployed, [variable]: undefined }));
    expect(error.variables).toEqual([variable]);
    expect(error.message).toContain(variable);
  });

  it('refuses an unknown bank adapter and a malformed number, naming each variable', () => {
    const error = problemOf(() => lambdaConfig({ ...deployed, BANK_ADAPTER: 'swift', LOCK_TTL_SECONDS: '1.5' }));
    expect([...error.variables].sort()).toEqual(['BANK_ADAPTER', 'LOCK_TTL_SECONDS']);
    expect(error.message).toMatch(/BANK_ADAPTER must be one of mock/);
  });

  it('requires API keys and the state machine of the gRPC task', () => {
    expect(grpcTaskConfig(task)).toMatchObject({ grpc: { port: 50056, host: '0.0.0.0' }, workflow: { adapter: 'step-functions' } });
    expect(problemOf(() => grpcTaskConfig({ ...task, API_KEYS: '' })).variables).toEqual(['API_KEYS']);
    expect(problemOf(() => grpcTaskConfig({ ...task, STATE_MACHINE_ARN: undefined })).variables).toEqual(['STATE_MACHINE_ARN']);
  });

  it('runs the local engine on the mock bank with provided queue, workflow and metrics', () => {
    expect(localConfig({})).toMatchObject({ bankAdapter: 'mock', deadLetterQueue: { adapter: 'provided' }, workflow: { adapter: 'provided' }, metrics: { adapter: 'provided' } });
  });

  it('derives the required variables of each deployed runtime from the schema', () => {
    const tableVariables = Object.values(tableNameEnvironmentVariables);
    expect(requiredEnvironmentVariables('lambda')).toEqual([...tableVariables, 'BANK_ADAPTER', 'DEAD_LETTER_QUEUE_URL'].sort());
    expect(requiredEnvironmentVariables('grpc-task')).toEqual([...tableVariables, 'API_KEYS', 'BANK_ADAPTER', 'DEAD_LETTER_QUEUE_URL', 'STATE_MACHINE_ARN'].sort());
  });
});
