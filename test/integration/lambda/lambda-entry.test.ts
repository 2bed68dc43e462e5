/**
 * The Lambda entry points as AWS runs them: configuration from environment variables, the SDK's own endpoint
 * resolution (AWS_ENDPOINT_URL, here the test DynamoDB Local), Step Functions mocked with aws-sdk-client-mock
 * because no local server speaks its API.
 */
import { SFNClient, StartExecutionCommand, ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { executionName, StepFunctionsWorkflow } from '../../../lambdas/adapters/sfn/step-functions-workflow';
import { tableNameEnvironmentVariables, type LogicalTableName } from '../../../lambdas/adapters/dynamodb/table-definitions';
import { settlementRequest, startTestEngine, type TestEngine } from '../../support/engine';

const sfn = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:settlement';
let engine: TestEngine;
const context = {} as Context;

beforeAll(async () => {
  // The tables as deployed (retiring indexes kept): the handlers' configuration is a deployed runtime's.
  engine = await startTestEngine({ httpPort: null, retiringIndexes: 'with-retiring' });
  const env = process.env;
  for (const name of Object.keys(tableNameEnvironmentVariables) as LogicalTableName[]) env[tableNameEnvironmentVariables[name]] = engine.tables[name];
  Object.assign(env, { AWS_ENDPOINT_URL: engine.dynamoEndpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', STATE_MACHINE_ARN: stateMachineArn, BANK_ADAPTER: 'mock', DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/settlement-dead-letters' });
});

afterAll(async () => {
  await engine.stop();
  delete process.env.AWS_ENDPOINT_URL;
});

beforeEach(() => sfn.reset());

function apiEvent(method: string, path: string, body?: unknown): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    queryStringParameters: null,
    requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:user/operator' } },
  } as unknown as APIGatewayProxyEvent;
}

describe('the API Lambda', () => {
  it('creates the settlement in DynamoDB and starts its execution, named by id and attempt', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${stateMachineArn}:x` });
    const { handler } = await import('../../../lambdas/handlers/api');
    const request = settlementRequest();
    const response = await handler(apiEvent('POST', '/api/v1/settlements', request), context);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ settlementId: request.settlementId, status: 'PENDING' });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn, name: executionName(String(request.settlementId), 1) });
    // The execution carries the record just written, so Validate decides on it without reading it again.
    const input = JSON.parse(String(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input));
    expect(input).toMatchObject({ settlementId: request.settlementId, attempt: 1, record: { pk: request.settlementId, status: 'PENDING', version: 1, amount: '1250.00' } });
    expect(engine.deps.settlements.uncarry(input.record)).toEqual(await engine.deps.settlements.get(String(request.settlementId)));
  });

  it('answers 400 naming the field without calling Step Functions', async () => {
    const { handler } = await import('../../../lambdas/handlers/api');
    const response = await handler(apiEvent('POST', '/api/v1/settlements', settlementRequest({ currency: 'EURO' })), context);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.field).toBe('currency');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('the stage Lambdas', () => {
  it('settle a submitted settlement when invoked in the order the state machine invokes them', async () => {
    sfn.on(StartExecutionCommand).resolves({});
    const api = await import('../../../lambdas/handlers/api');
    const stages = await import('../../../lambdas/handlers/stages');
    const request = settlementRequest({ amount: '10.00' });
    await api.handler(apiEvent('POST', '/api/v1/settlements', request), context);
    // The execution starts with the input the API gave StartExecution; each result lands in the execution's state
    // (ResultPath), which the next Task receives whole.
    let state: Record<string, unknown> = JSON.parse(String(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input));
    const validation = await stages.validate(state as never, context);
    expect(validation).toMatchObject({ status: 'VALIDATED', payerAccountId: expect.stringMatching(/^VOSTRO#/) });
    state = { ...state, validation };
    const lock = await stages.lockFunds(state as never, context);
    expect(lock).toMatchObject({ status: 'LOCKED', record: { status: 'LOCKED', lockState: 'PENDING' } });
    state = { ...state, lock };
    const transfer = await stages.initiateTransfer(state as never, context);
    expect(transfer).toMatchObject({ status: 'TRANSFER_INITIATED', record: { status: 'TRANSFER_INITIATED' } });
    state = { ...state, transfer };
    const confirmation = await stages.checkConfirmation(state as never, context);
    expect(confirmation).toMatchObject({ state: 'CONFIRMED' });
    state = { ...state, confirmation };
    expect(await stages.finalize(state as never, context)).toEqual({ status: 'COMPLETED' });
  });

  it('refuse an event without a settlement id', async () => {
    const stages = await import('../../../lambdas/handlers/stages');
    await expect(stages.validate({} as never, context)).rejects.toMatchObject({ name: 'ValidationError', field: 'settlementId' });
  });
});

describe('StepFunctionsWorkflow', () => {
  it('treats an execution that already exists as started (a duplicate start is a no-op)', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const workflow = new StepFunctionsWorkflow(new SFNClient({ region: 'us-east-1' }), stateMachineArn);
    await expect(workflow.startSettlement({ settlementId: 'a.b:c', attempt: 2 })).resolves.toEqual({ executionName: executionName('a.b:c', 2), alreadyStarted: true });
  });

  it('derives valid, distinct execution names per attempt', () => {
    const names = [executionName('a.b', 1), executionName('a_b', 1), executionName('a.b', 2), executionName('x'.repeat(64), 5)];
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(new Set(names).size).toBe(names.length);
  });
});
