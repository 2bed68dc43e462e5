/**
 * Runs the Lambda bundles that synthesis wrote to cdk.out, in a plain Node process (no ts-jest, no source): the
 * API bundle takes each settlement as API Gateway would hand it over, its StartExecution goes to a stand-in Step
 * Functions endpoint here that runs the real ASL file in aws-local-stepfunctions, each Task state invoking the
 * export of the stage bundle its function's Handler names. Input and output are JSON files (stdout carries the
 * bundles' EMF lines).
 *
 * usage: node bundle-driver.cjs <input.json> <output.json>
 * input: { aslPath, tasks: { <State>: { bundle, export } }, api: { bundle, export }, requests: [ … ], retryIntervalMs }
 */
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { StateMachine } = require('aws-local-stepfunctions');

const [inputPath, outputPath] = process.argv.slice(2);
const input = JSON.parse(fs.readFileSync(inputPath, 'utf8'));

/** How long one execution may take before the driver gives up on it. */
const executionTimeoutMs = 60_000;

function lambdaContext(functionName) {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `driver-${Date.now()}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'driver',
    getRemainingTimeInMillis: () => 30_000,
  };
}

function handlerOf(target) {
  const handler = require(target.bundle)[target.export];
  if (typeof handler !== 'function') throw new Error(`${target.bundle} exports no function ${target.export}`);
  return handler;
}

const definition = JSON.parse(fs.readFileSync(input.aslPath, 'utf8').replace(/\$\{(\w+)\}/g, (_, name) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`));
const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
const stateNames = Object.keys(input.tasks);
const executions = new Map();

function startExecution(name, executionInput) {
  const execution = machine.run(executionInput, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(stateNames.map((state) => [state, (event) => handlerOf(input.tasks[state])(event, lambdaContext(state))])),
      waitTimeOverrides: { WaitForConfirmation: 1 },
      // Backoff shortened, never removed: a Retry still has to match the error by name.
      retryIntervalOverrides: Object.fromEntries(stateNames.map((state) => [state, input.retryIntervalMs])),
    },
    context: { Execution: { Id: `arn:aws:states:us-east-1:000000000000:execution:settlement-engine:${name}`, Name: name, StartTime: new Date().toISOString() } },
  });
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`execution ${name} did not end within ${executionTimeoutMs} ms`)), executionTimeoutMs)));
  executions.set(
    executionInput.settlementId,
    Promise.race([execution.result, timeout]).then(
      (output) => ({ status: 'SUCCEEDED', output }),
      (error) => ({ status: 'FAILED', error: { name: error?.name, message: error?.message } }),
    ).finally(() => clearTimeout(timer)),
  );
}

/** Stand-in for the Step Functions endpoint: StartExecution only (AWS JSON 1.0 protocol). */
function startStepFunctionsEndpoint() {
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const target = request.headers['x-amz-target'];
      if (target !== 'AWSStepFunctions.StartExecution') {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ __type: 'UnknownOperationException', message: String(target) }));
        return;
      }
      const command = JSON.parse(body);
      startExecution(command.name, JSON.parse(command.input));
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ executionArn: `${command.stateMachineArn.replace(':stateMachine:', ':execution:')}:${command.name}`, startDate: Date.now() / 1000 }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function apiEvent(body) {
  return {
    httpMethod: 'POST',
    path: '/api/v1/settlements',
    resource: '/api/v1/settlements',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    queryStringParameters: null,
    pathParameters: null,
    requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:user/artifact-test' } },
  };
}

async function invalidValidateEvent() {
  try {
    await handlerOf(input.tasks.Validate)({ attempt: 1 }, lambdaContext('Validate'));
    return { threw: false };
  } catch (error) {
    return { threw: true, name: error.name, code: error.code, message: error.message, constructorName: error.constructor?.name };
  }
}

async function main() {
  const server = await startStepFunctionsEndpoint();
  process.env.AWS_ENDPOINT_URL_SFN = `http://127.0.0.1:${server.address().port}`;
  const api = handlerOf(input.api);
  const submissions = [];
  for (const request of input.requests) {
    const response = await api(apiEvent(request), lambdaContext('Api'));
    submissions.push({ settlementId: request.settlementId, statusCode: response.statusCode, body: JSON.parse(response.body) });
  }
  const outcomes = {};
  for (const [settlementId, done] of executions) outcomes[settlementId] = await done;
  const result = { submissions, outcomes, invalidValidate: await invalidValidateEvent() };
  server.close();
  fs.writeFileSync(outputPath, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
