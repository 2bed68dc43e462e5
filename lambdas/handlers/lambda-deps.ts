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
import { DynamoMockBankStore } from '../adapters/dynamodb/mock-bank-store';
import { DynamoRecoveryStore } from '../adapters/dynamodb/recovery-store';
import { StepFunctionsWorkflow } from '../adapters/sfn/step-functions-workflow';
import { InMemoryDeadLetterQueue, SqsDeadLetterQueue } from '../adapters/sqs/dead-letter-queue';
import { BankAdapter, bankAdapterFromEnvironment, bankGatewayFromEnvironment, limitsFromEnvironment, tableNamesFromEnvironment, type Environment } from '../config';
import { Iso20022GatewayBank, gatewayDefaults } from '../adapters/banks/iso20022/gateway-bank';
import { readFileSync } from 'node:fs';
import type { BankDirectory } from '../ports';
import { noMetrics, systemClock, type MetricsPort, type WorkflowPort } from '../ports';
import { EmfMetrics } from '../adapters/metrics/emf';
import { createOperationsDeps, operationsLimitsFromEnvironment } from '../adapters/dynamodb/operations-deps';
import { openingPosting } from '../adapters/dynamodb/reconciliation-store';
import { StoredWindowPort } from '../usecases/operations/windows';
import type { ApiDeps } from './http';
import { loadCompliancePolicy } from '../adapters/compliance/policy-file';
import { DynamoBankMessageJournal } from '../adapters/dynamodb/bank-message-store';

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
  const accounts = new DynamoAccountStore(documentClient, tables);
  // The mock bank is the only rail adapter of the MVP (SEED.md); real rails implement the same BankClient port.
  // Its record of transfers is in the reference table: shared by every function, and it survives them.
  const mockBank = new MockBank(systemClock, {}, new DynamoMockBankStore(documentClient, tables));
  // The mock bank's book starts each nostro at the amount it was opened with (mock-statements.ts).
  mockBank.statementBook.useOpeningBalances((accountId) => openingPosting(documentClient, tables, accountId));
  const bankMessages = new DynamoBankMessageJournal(documentClient, tables);
  // BANK_ADAPTER=iso20022: SWIFT, SEPA and ACH go to the bank gateway over mutual TLS (docs/rails.md); MOCK stays.
  const banks: BankDirectory =
    bankAdapterFromEnvironment(env) === BankAdapter.iso20022
      ? new Iso20022GatewayBank({ ...gatewayDefaults, ...bankGatewayFromEnvironment(env, (path) => readFileSync(path, 'utf8')) }, bankMessages, systemClock, mockBank)
      : mockBank;
  // CloudWatch EMF on Lambda (same metric names as Prometheus locally); METRICS_ADAPTER=none turns it off.
  const metrics: MetricsPort = env.METRICS_ADAPTER === 'none' ? noMetrics : new EmfMetrics({}, env as NodeJS.ProcessEnv);
  const operations = createOperationsDeps({ documentClient, tables, accounts, banks, metrics, clock: systemClock, limits: operationsLimitsFromEnvironment(env) });
  return {
    settlements: new DynamoSettlementStore(documentClient, tables),
    accounts,
    reference: new DynamoReferenceStore(documentClient, tables),
    windows: new StoredWindowPort(operations.windows, systemClock, operations.limits.windowCacheSeconds),
    banks,
    operations,
    workflow,
    deadLetters: env.DEAD_LETTER_QUEUE_URL ? new SqsDeadLetterQueue(new SQSClient({}), env.DEAD_LETTER_QUEUE_URL) : new InMemoryDeadLetterQueue(),
    recovery: new DynamoRecoveryStore(documentClient, tables),
    metrics,
    clock: systemClock,
    limits: limitsFromEnvironment(env),
    // The compliance policy file (COMPLIANCE_CONFIG, shipped beside the bundle); the composition root takes this over.
    ...(env.COMPLIANCE_CONFIG && { compliance: loadCompliancePolicy(env.COMPLIANCE_CONFIG) }),
    bankMessages,
    checkDatabase: () => databaseAnswers(documentClient as unknown as DynamoDBClient, tables),
  };
}
