/**
 * Reads a synthesized cloud assembly the way CloudFormation would wire it: which bundle each Task state invokes (the
 * state machine's DefinitionSubstitutions → Fn::GetAtt of a function → its Code asset and Handler), and the
 * environment the template gives the functions, with the tokens a deployment resolves (table names, queue URL,
 * state machine ARN) replaced by the test's own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tableNameEnvironmentVariables, type LogicalTableName, type TableNames } from '../../../lambdas/adapters/dynamodb/table-definitions';

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}
export interface TemplateJson {
  readonly Resources: Record<string, Resource>;
}

export interface FunctionBundle {
  readonly logicalId: string;
  /** The bundle's index.js in cdk.out. */
  readonly file: string;
  /** The export its Handler names (`index.validate` → `validate`). */
  readonly exportName: string;
}

export function bundleOf(template: TemplateJson, assemblyDirectory: string, logicalId: string): FunctionBundle {
  const resource = template.Resources[logicalId];
  if (resource?.Type !== 'AWS::Lambda::Function') throw new Error(`${logicalId} is not a Lambda function`);
  const code = resource.Properties.Code as { S3Key: string };
  const handler = String(resource.Properties.Handler);
  const [moduleName, exportName] = handler.split('.');
  const file = path.join(assemblyDirectory, `asset.${code.S3Key.replace(/\.zip$/, '')}`, `${moduleName}.js`);
  if (!fs.existsSync(file)) throw new Error(`no bundle ${file} for ${logicalId} (was the app synthesized with bundling?)`);
  return { logicalId, file, exportName: exportName! };
}

/**
 * Each stage Task state of one state machine (by logical id), mapped to the bundle its substituted Resource invokes.
 * A substitution that is not a function (the fast path's `${StandardStateMachineArn}`, a Ref) names no bundle.
 */
export function stateMachineTasks(template: TemplateJson, assemblyDirectory: string, stateMachineLogicalId: string): Record<string, FunctionBundle> {
  const machine = template.Resources[stateMachineLogicalId];
  if (machine?.Type !== 'AWS::StepFunctions::StateMachine') throw new Error(`${stateMachineLogicalId} is not a state machine`);
  const substitutions = machine.Properties.DefinitionSubstitutions as Record<string, { 'Fn::GetAtt'?: [string, string]; Ref?: string }>;
  return Object.fromEntries(
    Object.entries(substitutions)
      .filter(([placeholder]) => placeholder.endsWith('FunctionArn'))
      .map(([placeholder, value]) => {
        const [logicalId, attribute] = value['Fn::GetAtt'] ?? [];
        if (!logicalId || attribute !== 'Arn') throw new Error(`${placeholder} is not a function ARN: ${JSON.stringify(value)}`);
        return [placeholder.replace(/FunctionArn$/, ''), bundleOf(template, assemblyDirectory, logicalId)];
      }),
  );
}

export interface TestResources {
  readonly tables: TableNames;
  readonly deadLetterQueueUrl: string;
  readonly stateMachineArn: string;
}

/**
 * The union of the environments the template gives these functions, each value resolved: literal strings as they
 * are, the tokens of a deployment (table names, the queue URL, the state machine ARN) to the test's resources.
 * A token this cannot resolve fails the test: the stack would then hand the function something the test does not model.
 */
export function bundleEnvironment(template: TemplateJson, bundles: readonly FunctionBundle[], resources: TestResources): Record<string, string> {
  const byVariable: Record<string, string> = {
    ...Object.fromEntries((Object.keys(tableNameEnvironmentVariables) as LogicalTableName[]).map((name) => [tableNameEnvironmentVariables[name], resources.tables[name]])),
    DEAD_LETTER_QUEUE_URL: resources.deadLetterQueueUrl,
    STATE_MACHINE_ARN: resources.stateMachineArn,
  };
  const environment: Record<string, string> = {};
  for (const bundle of bundles) {
    const variables = ((template.Resources[bundle.logicalId]!.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(variables)) environment[name] = resolve(name, value, byVariable);
  }
  return environment;
}

export function resolve(name: string, value: unknown, byVariable: Readonly<Record<string, string>>): string {
  if (name in byVariable) return byVariable[name]!;
  if (typeof value === 'string') return value;
  throw new Error(`${name} is a deployment-time token the test cannot resolve: ${JSON.stringify(value)}`);
}

/**
 * The environment the template gives the gRPC task's container: its Environment, resolved as above, and its
 * Secrets (ECS injects each Secrets Manager field as a variable), each taken from `resources.secrets`. A secret
 * the test does not supply fails the test.
 */
export function grpcTaskEnvironment(template: TemplateJson, resources: TestResources & { secrets: Readonly<Record<string, string>> }): Record<string, string> {
  const definitions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::ECS::TaskDefinition');
  if (definitions.length !== 1) throw new Error(`expected one task definition, found ${definitions.length}`);
  const containers = definitions[0]!.Properties.ContainerDefinitions as Array<{ Environment?: Array<{ Name: string; Value: unknown }>; Secrets?: Array<{ Name: string }> }>;
  if (containers.length !== 1) throw new Error(`expected one container, found ${containers.length}`);
  const byVariable: Record<string, string> = {
    ...Object.fromEntries((Object.keys(tableNameEnvironmentVariables) as LogicalTableName[]).map((name) => [tableNameEnvironmentVariables[name], resources.tables[name]])),
    DEAD_LETTER_QUEUE_URL: resources.deadLetterQueueUrl,
    STATE_MACHINE_ARN: resources.stateMachineArn,
  };
  const environment: Record<string, string> = {};
  for (const { Name, Value } of containers[0]!.Environment ?? []) environment[Name] = resolve(Name, Value, byVariable);
  for (const { Name } of containers[0]!.Secrets ?? []) {
    const value = resources.secrets[Name];
    if (value === undefined) throw new Error(`the task receives secret ${Name}, which the test does not supply`);
    environment[Name] = value;
  }
  return environment;
}
