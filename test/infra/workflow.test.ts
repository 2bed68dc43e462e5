import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { defaultScheduleIntervals } from '../../infra/config';
import { Schedules, jobRetryAttemptsMax } from '../../infra/constructs/schedules';
import { stateMachineDefinitionPath } from '../../infra/constructs/settlement-workflow';
import { expressDefinitionPath, expressStageStates, standardStateMachineSubstitution } from '../../infra/constructs/fast-path-workflow';
import { adminApiFunction, apiFunction, jobFunctions, stageExportName, stageFunctions, stageStateNames, substitutionKey, type StageStateName } from '../../infra/function-catalogue';
import { logicalIdOf, removeAssembly, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';
import { actionsOf, statementsOfRole } from './support/iam';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface AslState {
  Type: string;
  Resource?: string;
}

const placeholderPattern = /\$\{([A-Za-z0-9]+)\}/g;

// One synthesis for the whole file.
let synthesized: SynthesizedEngine;
beforeAll(() => {
  synthesized = synthesizeEngine();
});
afterAll(() => removeAssembly(synthesized));

const machines = [
  { title: 'the Standard workflow (statemachines/settlement.asl.json)', file: stateMachineDefinitionPath, type: 'STANDARD', workflow: () => synthesized.stacks.engine.workflow, logGroup: 'WorkflowLogs' },
  { title: 'the Express fast path (statemachines/settlement-express.asl.json)', file: expressDefinitionPath, type: 'EXPRESS', workflow: () => synthesized.stacks.engine.fastPath, logGroup: 'FastPathLogs' },
] as const;

describe.each(machines)('$title', ({ file, type, workflow, logGroup }) => {
  const definitionFile = fs.readFileSync(file, 'utf8');
  const definedStates = (JSON.parse(definitionFile) as { States: Record<string, AslState> }).States;
  const stageTaskNames = Object.entries(definedStates)
    .filter(([, state]) => state.Type === 'Task' && state.Resource?.endsWith('FunctionArn}'))
    .map(([name]) => name)
    .sort();
  let template: Template;
  let stateMachineId: string;
  let stateMachine: { Properties: Record<string, unknown> };

  beforeAll(() => {
    template = synthesized.engine;
    stateMachineId = logicalIdOf(workflow().stateMachine);
    stateMachine = template.findResources('AWS::StepFunctions::StateMachine')[stateMachineId] as { Properties: Record<string, unknown> };
  });

  /**
   * The definition text CloudFormation receives, before substitution: either inline (DefinitionString, possibly a
   * Fn::Join/Fn::Sub whose references become `${Ref:<logicalId>}` markers) or, for DefinitionBody.fromFile, the
   * staged S3 asset, read back from the cloud assembly through the stack's asset manifest.
   */
  function deployedDefinitionText(): string {
    const inline = stateMachine.Properties.DefinitionString as Json | undefined;
    if (inline !== undefined) return flattenIntrinsic(inline);
    const location = stateMachine.Properties.DefinitionS3Location as { Key: string };
    const artifact = synthesized.assembly.getStackArtifact(synthesized.stacks.engine.artifactId);
    const manifestPath = artifact.dependencies.map((dependency) => dependency.manifest).find((manifest) => manifest.type === 'cdk:asset-manifest');
    const assetManifest = JSON.parse(
      fs.readFileSync(path.join(synthesized.assembly.directory, (manifestPath!.properties as { file: string }).file), 'utf8'),
    ) as { files: Record<string, { source: { path: string } }> };
    const hash = location.Key.replace(/\.json$/, '');
    const source = assetManifest.files[hash]?.source.path;
    if (source === undefined) throw new Error(`no file asset ${hash} in the asset manifest`);
    return fs.readFileSync(path.join(synthesized.assembly.directory, source), 'utf8');
  }

  /** Placeholder → logical id of the resource whose ARN CloudFormation substitutes for it. */
  function substitutions(): Record<string, string> {
    const map = (stateMachine.Properties.DefinitionSubstitutions ?? {}) as Record<string, { 'Fn::GetAtt'?: [string, string]; Ref?: string }>;
    return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, value['Fn::GetAtt']?.[0] ?? value.Ref!]));
  }

  const arnMarker = (logicalId: string) => `arn:test:${logicalId}`;

  it('deploys its file byte for byte', () => {
    expect(deployedDefinitionText()).toBe(definitionFile);
  });

  it('substitutes every placeholder of the file, and only those: stage function ARNs, and the Standard machine for the hand-off', () => {
    const placeholders = new Set([...definitionFile.matchAll(placeholderPattern)].map((match) => match[1]));
    expect(new Set(Object.keys(substitutions()))).toEqual(placeholders);
    for (const [key, value] of Object.entries(stateMachine.Properties.DefinitionSubstitutions as Record<string, unknown>)) {
      if (key === standardStateMachineSubstitution) expect(value).toEqual({ Ref: logicalIdOf(synthesized.stacks.engine.workflow.stateMachine) });
      else expect(value).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    }
    expect(placeholders.has(standardStateMachineSubstitution)).toBe(type === 'EXPRESS');
  });

  it('equals the file after substitution, each stage Task running the handler export named after its state', () => {
    const bySubstitution = substitutions();
    const deployed = JSON.parse(
      deployedDefinitionText().replace(placeholderPattern, (_whole, key: string) => arnMarker(bySubstitution[key] ?? `UNSUBSTITUTED:${key}`)),
    ) as { States: Record<string, AslState> };

    const expected = JSON.parse(definitionFile) as { States: Record<string, AslState> };
    const handlerToLogicalId = Object.fromEntries(
      Object.entries(template.findResources('AWS::Lambda::Function')).map(([logicalId, resource]) => [resource.Properties.Handler as string, logicalId]),
    );
    for (const [stateName, state] of Object.entries(expected.States)) {
      if (state.Type !== 'Task') continue;
      if (!stageTaskNames.includes(stateName)) continue;
      const handlerLogicalId = handlerToLogicalId[`index.${stageExportName(stateName as StageStateName)}`];
      expect(handlerLogicalId).toBeDefined();
      state.Resource = arnMarker(handlerLogicalId!);
    }
    expect(deployed.States).toEqual(JSON.parse(JSON.stringify(expected.States).replace(placeholderPattern, (_whole, key: string) => arnMarker(bySubstitution[key]!))));
  });

  it('has a deployed stage function for every stage Task state of the file', () => {
    expect(stageTaskNames.every((name) => stageFunctions.some((spec) => spec.state === name))).toBe(true);
    expect(stageTaskNames.map((name) => substitutionKey(name as StageStateName)).sort()).toEqual(Object.keys(substitutions()).filter((key) => key !== standardStateMachineSubstitution).sort());
  });

  it(`is a${type === 'EXPRESS' ? 'n Express' : ' Standard'} workflow with every event logged (no payloads) and X-Ray tracing on`, () => {
    expect(stateMachine.Properties).toMatchObject({
      StateMachineType: type,
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${logGroup}`)), 'Arn'] } } }],
      },
    });
  });

  it('uses a wildcard resource only for log delivery and X-Ray, whose actions have no resource-level permissions', () => {
    const role = logicalIdOf(workflow().stateMachine.role);
    const onEverything = statementsOfRole(template, role).filter((statement) => statement.Resource === '*');
    for (const action of onEverything.flatMap(actionsOf)) expect(action).toMatch(/^(logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)|xray:\w+)$/);
  });

  it('may invoke exactly the stage functions its file names, by unqualified ARN', () => {
    const role = logicalIdOf(workflow().stateMachine.role);
    const invoke = statementsOfRole(template, role).filter((statement) => JSON.stringify(statement.Action).includes('lambda:InvokeFunction'));
    const stageLogicalIds = stageTaskNames.map((name) => logicalIdOf(synthesized.stacks.engine.functions[`${name}Function`]!.function)).sort();
    expect(invoke).toHaveLength(1);
    const resources = (invoke[0]!.Resource as { 'Fn::GetAtt': [string, string] }[]).map((resource) => resource['Fn::GetAtt'][0]).sort();
    expect(resources).toEqual(stageLogicalIds);
    expect(stateMachineId).toBeDefined();
  });

  it(type === 'EXPRESS' ? 'may start executions of the Standard workflow, and of nothing else' : 'may start no execution', () => {
    const role = logicalIdOf(workflow().stateMachine.role);
    const states = statementsOfRole(template, role).filter((statement) => actionsOf(statement).some((action) => action.startsWith('states:')));
    if (type === 'STANDARD') return expect(states).toEqual([]);
    expect(states).toHaveLength(1);
    expect(actionsOf(states[0]!)).toEqual(['states:StartExecution']);
    expect(states[0]!.Resource).toEqual({ Ref: logicalIdOf(synthesized.stacks.engine.workflow.stateMachine) });
  });
});

describe('the two state machines', () => {
  it('are the only state machines, one of each type, every stage Task of either deployed', () => {
    const types = Object.values(synthesized.engine.findResources('AWS::StepFunctions::StateMachine')).map((resource) => resource.Properties.StateMachineType as string);
    expect(types.sort()).toEqual(['EXPRESS', 'STANDARD']);
    expect(stageFunctions.map((spec) => spec.state).sort()).toEqual([...stageStateNames].sort());
    expect(expressStageStates(stageStateNames)).toEqual(stageStateNames.filter((state) => state !== 'Compensate'));
  });

  it('start settlements on the fast path: the API, the admin API and the start-executing jobs name it in STATE_MACHINE_ARN', () => {
    const fastPath = { Ref: logicalIdOf(synthesized.stacks.engine.fastPath.stateMachine) };
    const starters = [apiFunction, adminApiFunction, ...jobFunctions].filter((spec) => spec.startsExecutions);
    expect(starters.length).toBeGreaterThanOrEqual(4);
    for (const spec of starters) {
      const resource = synthesized.engine.findResources('AWS::Lambda::Function')[logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function)]!;
      expect((resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables.STATE_MACHINE_ARN).toEqual(fastPath);
    }
  });
});

describe('job schedules', () => {
  it.each([
    ['reconcile', 'rate(6 hours)'],
    ['retryFailed', 'rate(5 minutes)'],
    ['cleanup', 'rate(10 minutes)'],
    ['recoverStuck', 'rate(5 minutes)'],
    ['publishBalances', 'rate(5 minutes)'],
  ])('runs %s on %s by default', (job, expression) => {
    const spec = jobFunctions.find((candidate) => candidate.exportName === job)!;
    synthesized.engine.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: expression,
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function), 'Arn'] } })],
    });
  });

  it('schedules the five jobs and nothing else', () => {
    // The one rule without a schedule is the statement inbox's (S3 Object Created): test/infra/console-and-statement-inbox.test.ts.
    expect(Object.keys(synthesized.engine.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } }))).toHaveLength(5);
    synthesized.engine.resourceCountIs('AWS::Events::Rule', 6);
  });

  it('gives every schedule target a retry policy and the failed-jobs queue as its dead-letter queue', () => {
    const queueId = logicalIdOf(synthesized.stacks.engine.schedules.failedJobsQueue);
    const rules = Object.values(synthesized.engine.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } }));
    expect(rules).toHaveLength(jobFunctions.length);
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({
          RetryPolicy: { MaximumRetryAttempts: jobRetryAttemptsMax, MaximumEventAgeInSeconds: expect.any(Number) },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        }),
      ]);
    }
  });

  it('sends a job run that failed after its retries to the same queue (asynchronous invocation on failure)', () => {
    const queueId = logicalIdOf(synthesized.stacks.engine.schedules.failedJobsQueue);
    for (const spec of jobFunctions) {
      synthesized.engine.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function) },
        MaximumRetryAttempts: jobRetryAttemptsMax,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
      });
    }
  });
});

describe('Schedules construct', () => {
  it('takes its intervals as props', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'settlement-engine-cdk-'));
    const stack = new Stack(new App({ outdir, builtinCloudFormationValidation: false }), 'ScheduleProps');
    const job = (id: string) => new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=()=>{}') });
    new Schedules(stack, 'Schedules', {
      intervals: { ...defaultScheduleIntervals, reconcile: Duration.hours(1), retryFailed: Duration.minutes(2) },
      jobs: { reconcile: job('Reconcile'), retryFailed: job('Retry'), cleanup: job('Cleanup'), recoverStuck: job('Recover'), publishBalances: job('Balances') },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});

/** Text of an intrinsic string: literals kept, references as `${Ref:<logicalId>}` / `${GetAtt:<logicalId>}`. */
function flattenIntrinsic(value: Json): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'] as [string, Json[]];
      return parts.map(flattenIntrinsic).join(separator);
    }
    if ('Fn::Sub' in value) {
      const sub = value['Fn::Sub'];
      return typeof sub === 'string' ? sub : flattenIntrinsic((sub as Json[])[0]!);
    }
    if ('Ref' in value) return `\${Ref:${String(value.Ref)}}`;
    if ('Fn::GetAtt' in value) return `\${GetAtt:${String((value['Fn::GetAtt'] as Json[])[0])}}`;
  }
  throw new Error(`unexpected intrinsic in the definition: ${JSON.stringify(value)}`);
}
