/**
 * Dependencies of the Lambda functions, built once per container from environment variables (set by CDK).
 * Cloud and local differ only here: the local engine builds the same EngineDeps from embedded stand-ins.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoSettlementStore } from '../adapters/dynamodb/settlement-store';
import { DynamoAccountStore, DynamoReferenceStore } from '../adapters/dynamodb/account-store';
import { databaseAnswers } from '../adapters/dynamodb/bootstrap';
import { MockBank } from '../adapters/banks/mock-bank';
import { StepFunctionsWorkflow } from '../adapters/sfn/step-functions-workflow';
import { InMemoryDeadLetterQueue, SqsDeadLetterQueue } from '../adapters/sqs/dead-letter-queue';
import { limitsFromEnvironment, tableNamesFromEnvironment, type Environment } from '../config';
import { noMetrics, systemClock, type WorkflowPort } from '../ports';
import { alwaysOpenWindows } from '../usecases/deps';
import type { ApiDeps } from './http';

let cached: ApiDeps | undefined;

/** Lazily built so that importing a handler module has no side effects (tests, bundling). */
export function lambdaDeps(env: Environment = process.env): ApiDeps {
  cached ??= buildLambdaDeps(env);
  return cached;
}

function buildLambdaDeps(env: Environment): ApiDeps {
  const tables = tableNamesFromEnvironment(env);
  const documentClient = createDocumentClient();
  const workflow: WorkflowPort = env.STATE_MACHINE_ARN
    ? new StepFunctionsWorkflow(new SFNClient({}), env.STATE_MACHINE_ARN)
    : {
        startSettlement: async () => {
          throw new Error('configuration: STATE_MACHINE_ARN is not set for this function');
        },
      };
  return {
    settlements: new DynamoSettlementStore(documentClient, tables),
    accounts: new DynamoAccountStore(documentClient, tables),
    reference: new DynamoReferenceStore(documentClient, tables),
    windows: alwaysOpenWindows,
    // The mock bank is the only rail adapter of the MVP (SEED.md); real rails implement the same BankClient port.
    banks: new MockBank(systemClock),
    workflow,
    deadLetters: env.DEAD_LETTER_QUEUE_URL ? new SqsDeadLetterQueue(new SQSClient({}), env.DEAD_LETTER_QUEUE_URL) : new InMemoryDeadLetterQueue(),
    metrics: noMetrics,
    clock: systemClock,
    limits: limitsFromEnvironment(env),
    checkDatabase: () => databaseAnswers(documentClient as unknown as DynamoDBClient, tables),
  };
}
