/**
 * Builds the deployment exactly as bin/app.ts does (same builder, same cdk.json context) and synthesizes it once.
 *
 * Template tests skip Lambda bundling (`aws:cdk:bundling-stacks: []`, CDK's own switch for this): bundling changes
 * asset hashes only, never the template's shape, and it is the slow part. test/infra/bundling.test.ts bundles for
 * real, once. `npm run synth` (bin/app.ts) additionally runs CDK's built-in CloudFormation validation and cdk-nag
 * as a synth-time plugin; test/infra/nag.test.ts runs the same cdk-nag pack on this tree.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { defaultConfig, type SettlementEngineConfig } from '../../../infra/config';
import { buildSettlementEngine, type SettlementEngineStacks } from '../../../infra/settlement-engine';
import { apiRoutes } from '../../../lambdas/handlers/routes';

export const repositoryRoot = path.resolve(__dirname, '..', '..', '..');

export interface SynthesizedEngine {
  readonly app: App;
  readonly stacks: SettlementEngineStacks;
  readonly assembly: CloudAssembly;
  readonly stateful: Template;
  readonly engine: Template;
}

export interface SynthesisOptions {
  readonly config?: Partial<SettlementEngineConfig>;
  /** Run esbuild for every function (slow); default false. */
  readonly bundle?: boolean;
  /**
   * Build the console stack too (as bin/app.ts does by default); default false. It costs ~5 s per synthesis and the
   * engine stack does not depend on it, so only the files that assert it (console, cdk-nag) ask for it.
   */
  readonly withConsole?: boolean;
}

/** The context of cdk.json: feature flags the CLI would pass to bin/app.ts. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export function synthesizeEngine(options: SynthesisOptions = {}): SynthesizedEngine {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'settlement-engine-cdk-'));
  const context = { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) };
  // CDK's built-in CloudFormation schema validation costs ~15 s per synthesis; `npm run synth` keeps it on.
  const app = new App({ outdir, context, builtinCloudFormationValidation: false });
  const config = { ...defaultConfig, ...options.config };
  const stacks = buildSettlementEngine(app, { ...config, console: { ...config.console, enabled: (options.withConsole ?? false) && config.console.enabled } }, apiRoutes);
  const assembly = app.synth();
  return { app, stacks, assembly, stateful: Template.fromStack(stacks.stateful), engine: Template.fromStack(stacks.engine) };
}

/** Removes the cloud assembly directory a synthesis wrote (call from afterAll). */
export function removeAssembly(synthesized: SynthesizedEngine | undefined): void {
  if (synthesized) fs.rmSync(synthesized.assembly.directory, { recursive: true, force: true });
}

/** The one resource of a type whose properties match, as [logicalId, resource]; fails unless exactly one matches. */
export function onlyResource(template: Template, type: string, properties: Record<string, unknown> = {}): [string, { Properties: Record<string, unknown> }] {
  const found = Object.entries(template.findResources(type, { Properties: properties }));
  if (found.length !== 1) throw new Error(`expected exactly one ${type} matching ${JSON.stringify(properties)}, found ${found.length}`);
  return found[0] as [string, { Properties: Record<string, unknown> }];
}

/** The CloudFormation logical id of a construct's resource (its default child for L2 constructs). */
export function logicalIdOf(construct: IConstruct): string {
  const element = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  if (!CfnElement.isCfnElement(element)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(element).resolve(Stack.of(element).getLogicalId(element)) as string;
}

/** A template holding only the one resource, so `hasResourceProperties` speaks about that resource alone. */
export function resourceTemplate(template: Template, logicalId: string): Template {
  const resource = (template.toJSON() as { Resources: Record<string, unknown> }).Resources[logicalId];
  if (resource === undefined) throw new Error(`no resource ${logicalId} in the template`);
  return Template.fromJSON({ Resources: { [logicalId]: resource } });
}

/**
 * The setting names each deployed process receives: every function's environment variables, and the gRPC task's
 * environment plus its ECS secrets. Keyed by function id (`ValidateFunction`, …) and `grpc-task`. What the contract
 * test checks against `requiredEnvironmentVariables(runtime)` of lambdas/config.ts.
 */
export function deployedSettingNames(synthesized: SynthesizedEngine): Map<string, Set<string>> {
  const settings = new Map<string, Set<string>>();
  const resources = (synthesized.engine.toJSON() as { Resources: Record<string, { Properties: Record<string, unknown> }> }).Resources;
  for (const [id, engineFunction] of Object.entries(synthesized.stacks.engine.functions)) {
    const variables = (resources[logicalIdOf(engineFunction.function)]!.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    settings.set(id, new Set(Object.keys(variables)));
  }
  const grpc = synthesized.stacks.engine.grpc;
  if (grpc) {
    const container = (resources[logicalIdOf(grpc.service.taskDefinition)]!.Properties.ContainerDefinitions as { Environment?: { Name: string }[]; Secrets?: { Name: string }[] }[])[0]!;
    settings.set('grpc-task', new Set([...(container.Environment ?? []), ...(container.Secrets ?? [])].map((entry) => entry.Name)));
  }
  return settings;
}
