/**
 * The settlement state machine, deployed from statemachines/settlement.asl.json itself: the file the local
 * interpreter runs is the file Step Functions runs, with each `${<State>FunctionArn}` substituted by CloudFormation.
 */
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

export const stateMachineDefinitionPath = path.join(projectRoot, 'statemachines', 'settlement.asl.json');

export interface SettlementWorkflowProps {
  readonly stageFunctions: Readonly<Record<StageStateName, lambda.IFunction>>;
  readonly logRetention: logs.RetentionDays;
}

export class SettlementWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: SettlementWorkflowProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const stages = Object.entries(props.stageFunctions) as [StageStateName, lambda.IFunction][];

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromFile(stateMachineDefinitionPath),
      definitionSubstitutions: Object.fromEntries(stages.map(([state, fn]) => [substitutionKey(state), fn.functionArn])),
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      // Every event is logged; payloads (amounts, BICs) stay in the execution history, out of the logs.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // A definition from a file is opaque to CDK, so invoke rights are granted explicitly, function by function,
    // on the unqualified ARNs the definition names (no `:*` version wildcard).
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: stages.map(([, fn]) => fn.functionArn) }),
    );

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
