/**
 * The engine stack: everything stateless around the tables. Functions, the state machine, schedules, the REST API,
 * the gRPC shim, the dead-letter queue, alarms and the dashboard. It can be destroyed and redeployed freely.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { consoleSignInParameterName, grpcPort, type SettlementEngineConfig } from './config';
import { EngineFunction } from './constructs/engine-function';
import { GrpcService } from './constructs/grpc-service';
import { Observability } from './constructs/observability';
import { SettlementRestApi } from './constructs/rest-api';
import { Schedules } from './constructs/schedules';
import { StatementInbox } from './constructs/statement-inbox';
import { SettlementWorkflow } from './constructs/settlement-workflow';
import { FastPathWorkflow } from './constructs/fast-path-workflow';
import type { RouteDeclaration } from './api-routes';
import { adminApiFunction, allFunctions, apiFunction, healthFunction, jobFunctions, stageFunctions, type FunctionSpec, type StageStateName } from './function-catalogue';
import { acknowledge } from './nag';
import type { EngineTables } from './stateful-stack';
import { holdingQueueDefaults } from './constructs/storage-defaults';

export interface EngineStackProps extends StackProps {
  readonly tables: EngineTables;
  readonly config: SettlementEngineConfig;
  /** The REST handler's route table, passed in by bin/app.ts (infra imports no handler code). */
  readonly routes: readonly RouteDeclaration[];
}

export class EngineStack extends Stack {
  readonly functions: Readonly<Record<string, EngineFunction>>;
  /** The Standard workflow: settlements the fast path hands off (long confirmation waits, compensation). */
  readonly workflow: SettlementWorkflow;
  /** The Express fast path every settlement starts on (STATE_MACHINE_ARN of the API, the jobs and the gRPC task). */
  readonly fastPath: FastPathWorkflow;
  readonly deadLetterQueue: sqs.Queue;
  readonly restApi: SettlementRestApi;
  readonly schedules: Schedules;
  readonly statementInbox: StatementInbox;
  /** Absent when the configuration leaves the gRPC shim out. */
  readonly grpc?: GrpcService;

  constructor(scope: Construct, id: string, props: EngineStackProps) {
    super(scope, id, props);
    const { config, tables } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'ParkedSettlementsQueue', holdingQueueDefaults);
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', 'This queue is the end of the line: it holds parked settlements for operators, so it has no dead-letter queue of its own.');

    const functions: Record<string, EngineFunction> = {};
    // The reconcile job covers the interval since its previous run: it must know the schedule's period.
    const reconcileEnvironment = { RECONCILIATION_INTERVAL_SECONDS: String(config.schedules.reconcile.toSeconds()) };
    const create = (spec: FunctionSpec, workflow?: FastPathWorkflow) => {
      functions[spec.id] = new EngineFunction(this, spec.id, {
        spec,
        tables,
        logRetention: config.logRetention,
        environment: { ...(spec.exportName === 'reconcile' && reconcileEnvironment), ...config.functionEnvironment },
        stateMachine: workflow?.stateMachine,
        deadLetterQueue: this.deadLetterQueue,
        reservedConcurrency: config.reservedConcurrency.enabled ? (config.reservedConcurrency.overrides[spec.id] ?? spec.reservedConcurrency) : undefined,
      });
      return functions[spec.id].function;
    };

    const stageHandlers = {} as Record<StageStateName, lambda.IFunction>;
    for (const spec of stageFunctions) stageHandlers[spec.state] = create(spec);
    this.workflow = new SettlementWorkflow(this, 'Workflow', { stageFunctions: stageHandlers, logRetention: config.logRetention });
    this.fastPath = new FastPathWorkflow(this, 'FastPath', { stageFunctions: stageHandlers, standard: this.workflow.stateMachine, logRetention: config.logRetention });

    const unknownOverrides = Object.keys(config.reservedConcurrency.overrides).filter((id) => !allFunctions.some((spec) => spec.id === id));
    if (unknownOverrides.length > 0) throw new Error(`reservedConcurrency names no function: ${unknownOverrides.join(', ')}`);
    const apiHandlers = { api: create(apiFunction, this.fastPath), admin: create(adminApiFunction, this.fastPath), health: create(healthFunction) };
    const jobs = Object.fromEntries(jobFunctions.map((spec) => [spec.exportName, create(spec, this.fastPath)]));
    this.functions = functions;

    this.schedules = new Schedules(this, 'Schedules', {
      intervals: config.schedules,
      jobs: { reconcile: jobs.reconcile!, retryFailed: jobs.retryFailed!, cleanup: jobs.cleanup!, recoverStuck: jobs.recoverStuck!, publishBalances: jobs.publishBalances! },
    });
    this.statementInbox = new StatementInbox(this, 'StatementInbox', { tables, logRetention: config.logRetention, environment: config.functionEnvironment, deadLetterQueue: this.deadLetterQueue, reservedConcurrency: config.reservedConcurrency.enabled ? 2 : undefined });
    this.restApi = new SettlementRestApi(this, 'Rest', { handlers: apiHandlers, routes: props.routes, config: config.api, logRetention: config.logRetention });
    if (config.grpc.enabled) {
      this.grpc = new GrpcService(this, 'Grpc', {
        config: config.grpc,
        tables,
        stateMachine: this.fastPath.stateMachine,
        deadLetterQueue: this.deadLetterQueue,
        logRetention: config.logRetention,
        natGateways: config.natGateways,
        ...(config.console.enabled && { consoleFeed: { signInParameterName: consoleSignInParameterName(config.stackNamePrefix) } }),
      });
      new CfnOutput(this, 'GrpcEndpoint', { value: `${this.grpc.loadBalancer.loadBalancerDnsName}:${grpcPort}`, description: 'gRPC endpoint (NLB)' });
    }
    new Observability(this, 'Observability', {
      alarms: config.alarms,
      stateMachine: this.workflow.stateMachine,
      fastPathStateMachine: this.fastPath.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
      restApi: this.restApi.api,
      dashboardName: config.stackNamePrefix,
      functions: allFunctions.map((spec) => ({ spec, function: functions[spec.id]!.function })),
      tables,
      scheduleRules: this.schedules.rules,
      failedJobsQueue: this.schedules.failedJobsQueue,
      grpcTargetGroup: this.grpc?.targetGroup,
    });

    new CfnOutput(this, 'RestApiUrl', { value: this.restApi.api.url, description: 'Base URL of the REST API (SigV4-signed requests)' });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn, description: 'Standard workflow (hand-offs)' });
    new CfnOutput(this, 'FastPathStateMachineArn', { value: this.fastPath.stateMachine.stateMachineArn, description: 'Express fast path: where every settlement starts' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'StatementBucketName', { value: this.statementInbox.bucket.bucketName, description: 'Put statements under incoming/<BIC>/<currency>/<name>.xml|.csv' });
  }
}
