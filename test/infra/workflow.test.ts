import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { defaultScheduleIntervals } from '../../infra/config';
import { Schedules, jobRetryAttemptsMax } from '../../infra/constructs/schedules';
import { stateMachineDefinitionPath } from '../../infra/constructs/settlement-workflow';
import { jobFunctions, stageExportName, stageFunctions, substitutionKey, type StageStateName } from '../../infra/function-catalogue';
import { logicalIdOf, onlyResource, removeAssembly, synthesizeEngine, type SynthesizedEngine } from './support/engine-app';
import { actionsOf, statementsOfRole } from './support/iam';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface AslState {
  Type: string;
  Resource?: string;
}

const definitionFile = fs.readFileSync(stateMachineDefinitionPath, 'utf8');
const placeholderPattern = /\$\{([A-Za-z0-9]+)\}/g;

// One synthesis for the whole file.
let synthesized: SynthesizedEngine;
beforeAll(() => {
  synthesized = synthesizeEngine();
});
afterAll(() => removeAssembly(synthesized));

describe('settlement state machine', () => {
  let template: Template;
  let stateMachineId: string;
  let stateMachine: { Properties: Record<string, unknown> };

  beforeAll(() => {
    template = synthesized.engine;
    [stateMachineId, stateMachine] = onlyResource(template, 'AWS::StepFunctions::StateMachine');
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

  /** Placeholder → logical id of the function whose ARN CloudFormation substitutes for it. */
  function substitutions(): Record<string, string> {
    const map = (stateMachine.Properties.DefinitionSubstitutions ?? {}) as Record<string, { 'Fn::GetAtt': [string, string] }>;
    return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, value['Fn::GetAtt'][0]]));
  }

  const functionArnMarker = (logicalId: string) => `arn:test:lambda:${logicalId}`;

  it('deploys statemachines/settlement.asl.json byte for byte', () => {
    expect(deployedDefinitionText()).toBe(definitionFile);
  });

  it('substitutes every placeholder of the file, and only those, with a function ARN', () => {
    const placeholders = new Set([...definitionFile.matchAll(placeholderPattern)].map((match) => match[1]));
    expect(new Set(Object.keys(substitutions()))).toEqual(placeholders);
    for (const value of Object.values(stateMachine.Properties.DefinitionSubstitutions as Record<string, unknown>)) {
      expect(value).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    }
  });

  it('equals the file after substitution, each Task running the handler export named after its state', () => {
    const bySubstitution = substitutions();
    const deployed = JSON.parse(
      deployedDefinitionText().replace(placeholderPattern, (_whole, key: string) => functionArnMarker(bySubstitution[key] ?? `UNSUBSTITUTED:${key}`)),
    ) as { States: Record<string, AslState> };

    const expected = JSON.parse(definitionFile) as { States: Record<string, AslState> };
    const handlerToLogicalId = Object.fromEntries(
      Object.entries(template.findResources('AWS::Lambda::Function')).map(([logicalId, resource]) => [resource.Properties.Handler as string, logicalId]),
    );
    for (const [stateName, state] of Object.entries(expected.States)) {
      if (state.Type !== 'Task') continue;
      const handlerLogicalId = handlerToLogicalId[`index.${stageExportName(stateName as StageStateName)}`];
      expect(handlerLogicalId).toBeDefined();
      state.Resource = functionArnMarker(handlerLogicalId!);
    }
    expect(deployed).toEqual(expected);
  });

  it('has a deployed function for every Task state of the file, and no other', () => {
    const taskStates = Object.entries((JSON.parse(definitionFile) as { States: Record<string, AslState> }).States)
      .filter(([, state]) => state.Type === 'Task')
      .map(([name]) => name)
      .sort();
    expect(stageFunctions.map((spec) => spec.state).sort()).toEqual(taskStates);
    expect(stageFunctions.map((spec) => substitutionKey(spec.state)).sort()).toEqual(Object.keys(substitutions()).sort());
  });

  it('is a Standard workflow with every event logged and X-Ray tracing on', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('WorkflowLogs'), 'Arn'] } } }],
      },
    });
  });

  it('uses a wildcard resource only for log delivery and X-Ray, whose actions have no resource-level permissions', () => {
    const role = logicalIdOf(synthesized.stacks.engine.workflow.stateMachine.role);
    const onEverything = statementsOfRole(template, role).filter((statement) => statement.Resource === '*');
    for (const action of onEverything.flatMap(actionsOf)) expect(action).toMatch(/^(logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)|xray:\w+)$/);
  });

  it('may invoke exactly the ten stage functions, by unqualified ARN', () => {
    const role = logicalIdOf(synthesized.stacks.engine.workflow.stateMachine.role);
    const invoke = statementsOfRole(template, role).filter((statement) => JSON.stringify(statement.Action).includes('lambda:InvokeFunction'));
    const stageLogicalIds = stageFunctions.map((spec) => logicalIdOf(synthesized.stacks.engine.functions[spec.id]!.function)).sort();
    expect(invoke).toHaveLength(1);
    const resources = (invoke[0]!.Resource as { 'Fn::GetAtt': [string, string] }[]).map((resource) => resource['Fn::GetAtt'][0]).sort();
    expect(resources).toEqual(stageLogicalIds);
    expect(stateMachineId).toBeDefined();
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
