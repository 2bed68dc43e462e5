/**
 * The fast path: statemachines/settlement-express.asl.json as an Express state machine, the entry of every settlement
 * (the API, the gRPC task and the jobs start it). It runs Validate → Finalize when the bank confirms within its three
 * checks, and hands a settlement that needs long waits to the Standard workflow (SettlementWorkflow) through Step
 * Functions' own StartExecution integration, under its own execution name. Neither the Standard StartExecution
 * quota nor its state-transition quota is on a fast settlement's path; only hand-offs use them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { substitutionKey, type StageStateName } from '../function-catalogue';
import { acknowledge } from '../nag';
import { projectRoot } from './engine-function';

export const expressDefinitionPath = path.join(projectRoot, 'statemachines', 'settlement-express.asl.json');
/** The placeholder the HandOff Task names the Standard state machine by. */
export const standardStateMachineSubstitution = 'StandardStateMachineArn';

/** The stage states the Express file runs (it has no Compensate: compensation is handed off). */
export function expressStageStates(stages: readonly StageStateName[]): StageStateName[] {
  const text = fs.readFileSync(expressDefinitionPath, 'utf8');
  return stages.filter((state) => text.includes(`\${${substitutionKey(state)}}`));
}

export interface FastPathWorkflowProps {
  readonly stageFunctions: Readonly<Record<StageStateName, lambda.IFunction>>;
  /** The Standard workflow a slow settlement is handed to. */
  readonly standard: sfn.IStateMachine;
  readonly logRetention: logs.RetentionDays;
}

export class FastPathWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: FastPathWorkflowProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const stages = expressStageStates(Object.keys(props.stageFunctions) as StageStateName[]).map((state) => [state, props.stageFunctions[state]] as const);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromFile(expressDefinitionPath),
      definitionSubstitutions: {
        ...Object.fromEntries(stages.map(([state, fn]) => [substitutionKey(state), fn.functionArn])),
        [standardStateMachineSubstitution]: props.standard.stateMachineArn,
      },
      stateMachineType: sfn.StateMachineType.EXPRESS,
      tracingEnabled: true,
      // Express keeps no execution history: its log is the only record of an execution, so every event is logged
      // (payloads stay out: amounts and BICs live in the settlement's own history). Priced in docs/capacity.md.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // A definition from a file is opaque to CDK: invoke rights on the stages it names, by unqualified ARN, and
    // StartExecution on the Standard machine alone (the HandOff Task's request-response integration needs no more).
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: stages.map(([, fn]) => fn.functionArn) }));
    props.standard.grantStartExecution(this.stateMachine.role);

    const policy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledge(
        policy,
        'AwsSolutions-IAM5[Resource::*]',
        'Step Functions log delivery (logs:*LogDelivery*, DescribeResourcePolicies) and X-Ray actions support no resource-level permissions.',
      );
    }
  }
}
