/**
 * The contract between the configuration schema (lambdas/config.ts) and the stack: every deployed function and the
 * gRPC task receive each setting their runtime cannot start without. The list is derived from the schema, so a new
 * required setting fails here until the stack provides it.
 */
import { requiredEnvironmentVariables } from '../../lambdas/config';
import { allFunctions } from '../../infra/function-catalogue';
import { logicalIdOf, onlyResource, removeAssembly, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';

describe('the settings the stack gives each deployed process', () => {
  let synthesized: SynthesizedEngine;
  beforeAll(() => {
    synthesized = synthesizeEngine();
  });
  afterAll(() => removeAssembly(synthesized));

  it('derives a non-empty list for each runtime, the tables, bank adapter and dead-letter queue included', () => {
    for (const runtime of ['lambda', 'grpc-task'] as const) expect(requiredEnvironmentVariables(runtime)).toEqual(expect.arrayContaining(['SETTLEMENTS_TABLE', 'BANK_ADAPTER', 'DEAD_LETTER_QUEUE_URL']));
  });

  it.each(allFunctions.map((spec) => [spec.id, spec] as const))('gives %s every variable the lambda runtime requires', (_id, spec) => {
    const resources = synthesized.engine.toJSON().Resources as Record<string, { Properties: { Environment?: { Variables?: Record<string, unknown> } } }>;
    const variables = Object.keys(resources[logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function)]!.Properties.Environment?.Variables ?? {});
    expect(requiredEnvironmentVariables('lambda').filter((variable) => !variables.includes(variable))).toEqual([]);
  });

  it('gives the gRPC task every variable its runtime requires, as environment or ECS secret', () => {
    const [, taskDefinition] = onlyResource(synthesized.engine, 'AWS::ECS::TaskDefinition');
    const [container] = taskDefinition.Properties.ContainerDefinitions as Array<{ Environment?: Array<{ Name: string }>; Secrets?: Array<{ Name: string }> }>;
    const received = [...(container!.Environment ?? []), ...(container!.Secrets ?? [])].map((entry) => entry.Name);
    expect(requiredEnvironmentVariables('grpc-task').filter((variable) => !received.includes(variable))).toEqual([]);
  });
});
