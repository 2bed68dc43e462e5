/**
 * The whole deployment: the stateful stack (tables, retained) and the engine stack (everything else).
 * bin/app.ts and the infra tests build the same thing through this one function.
 */
import { Tags, type App } from 'aws-cdk-lib';
import type { RouteDeclaration } from './api-routes';
import type { SettlementEngineConfig } from './config';
import { ConsoleStack } from './console-stack';
import { EngineStack } from './engine-stack';
import { StatefulStack } from './stateful-stack';

export interface SettlementEngineStacks {
  readonly stateful: StatefulStack;
  readonly engine: EngineStack;
  /** Absent when `consoleEnabled=false`. */
  readonly console?: ConsoleStack;
}

/** `routes` is the REST handler's route table (lambdas/handlers/routes), which the entry point passes in. */
export function buildSettlementEngine(app: App, config: SettlementEngineConfig, routes: readonly RouteDeclaration[]): SettlementEngineStacks {
  // Environment-agnostic stacks: synth needs no account, no credentials and no context lookups.
  const stateful = new StatefulStack(app, `${config.stackNamePrefix}-stateful`, {
    description: 'Settlement Engine: DynamoDB tables (retained on delete)',
    tableEncryption: config.tableEncryption,
    terminationProtection: true,
  });
  const engine = new EngineStack(app, `${config.stackNamePrefix}-engine`, {
    description: 'Settlement Engine: functions, state machine, schedules, REST API, gRPC shim, alarms',
    tables: stateful.tables,
    config,
    routes,
  });
  const functions = engine.functions;
  const console = config.console.enabled
    ? new ConsoleStack(app, `${config.stackNamePrefix}-console`, {
        description: 'Settlement Engine: operations console (CloudFront, S3, Cognito, its API stage)',
        config,
        routes,
        apiFunctions: { api: functions.ApiFunction!.function, admin: functions.AdminApiFunction!.function, health: functions.HealthFunction!.function },
        ...(engine.grpc && { feedLoadBalancer: engine.grpc.loadBalancer }),
      })
    : undefined;
  Tags.of(app).add('application', 'settlement-engine');
  return { stateful, engine, ...(console && { console }) };
}
