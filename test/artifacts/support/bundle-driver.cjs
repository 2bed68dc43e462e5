/**
 * Runs the Lambda bundles that synthesis wrote to cdk.out, in a plain Node process (no ts-jest, no source): the
 * API bundle takes each settlement as API Gateway would hand it over, its StartExecution goes to a stand-in Step
 * Functions endpoint here that runs the real fast-path ASL file (Express on AWS) in aws-local-stepfunctions, each
 * Task state invoking the export of the stage bundle its function's Handler names. The fast path's HandOff Task
 * (Step Functions' own StartExecution integration on AWS) starts the real Standard ASL file here, with Step
 * Functions' name rules: the same name and input as a running execution is that execution; a name used otherwise
 * is refused with StepFunctions.ExecutionAlreadyExistsException. Input and output are JSON files (stdout carries
 * the bundles' EMF lines).
 *
 * usage: node bundle-driver.cjs <input.json> <output.json>
 * input: { asl: { EXPRESS, STANDARD }, standardArn, tasks: { EXPRESS: { <State>: { bundle, export } }, STANDARD: … },
 *          api: { bundle, export }, requests: [ … ], duplicates: [settlementId], redeliveries: [{ name, input }],
 *          retryIntervalMs }
 * requests go through the API bundle; a settlement id in `duplicates` has its Express execution delivered twice at
 * once (Express is at-least-once); `redeliveries` start Express executions directly (a late duplicate delivery).
 */
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { StateMachine } = require('aws-local-stepfunctions');

const [inputPath, outputPath] = process.argv.slice(2);
const input = JSON.parse(fs.readFileSync(inputPath, 'utf8'));

/** How long one execution may take before the driver gives up on it. */
const executionTimeoutMs = 60_000;
/** Rounds of waiting for executions that started while the driver waited (hand-offs start one each). */
const settleRoundsMax = 10;

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

function substitute(text, name) {
  if (name === 'StandardStateMachineArn') return input.standardArn;
  return `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
}

const machines = Object.fromEntries(
  ['EXPRESS', 'STANDARD'].map((kind) => {
    const definition = JSON.parse(fs.readFileSync(input.asl[kind], 'utf8').replace(/\$\{(\w+)\}/g, substitute));
    return [kind, new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } })];
  }),
);

/** Per settlement: every execution run ({ workflow, name, status, states entered }) and every hand-off request. */
const runs = new Map();
const handOffs = new Map();
const pending = new Set();
/** Standard executions by name: { input, running } (Step Functions keeps names for 90 days; this run keeps all). */
const standardNames = new Map();

function record(map, settlementId, entry) {
  if (!map.has(settlementId)) map.set(settlementId, []);
  map.get(settlementId).push(entry);
}

function handOff(request) {
  if (request.StateMachineArn !== input.standardArn) throw new Error(`hand-off to an unknown state machine ${request.StateMachineArn}`);
  const settlementId = request.Input.settlementId;
  const serialized = JSON.stringify(request.Input);
  const existing = standardNames.get(request.Name);
  const reply = { ExecutionArn: `${input.standardArn.replace(':stateMachine:', ':execution:')}:${request.Name}`, StartDate: new Date().toISOString() };
  if (existing && existing.running && existing.input === serialized) {
    record(handOffs, settlementId, { name: request.Name, outcome: 'SAME_EXECUTION' });
    return reply;
  }
  if (existing) {
    record(handOffs, settlementId, { name: request.Name, outcome: 'REFUSED' });
    const error = new Error(`Execution Already Exists: '${reply.ExecutionArn}'`);
    error.name = 'StepFunctions.ExecutionAlreadyExistsException';
    throw error;
  }
  record(handOffs, settlementId, { name: request.Name, outcome: 'STARTED' });
  const entry = { input: serialized, running: true };
  standardNames.set(request.Name, entry);
  startExecution('STANDARD', request.Name, request.Input).finally(() => (entry.running = false));
  return reply;
}

function startExecution(kind, name, executionInput) {
  const taskHandlers = Object.fromEntries(Object.entries(input.tasks[kind]).map(([state, target]) => [state, (event) => handlerOf(target)(event, lambdaContext(state))]));
  if (kind === 'EXPRESS') taskHandlers.HandOff = async (request) => handOff(request);
  const execution = machines[kind].run(executionInput, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers,
      waitTimeOverrides: { WaitForConfirmation: 1 },
      // Backoff shortened, never removed: a Retry still has to match the error by name.
      retryIntervalOverrides: Object.fromEntries(Object.keys(taskHandlers).map((state) => [state, input.retryIntervalMs])),
    },
    context: { Execution: { Id: `arn:aws:states:us-east-1:000000000000:execution:${kind.toLowerCase()}:${name}`, Name: name, StartTime: new Date().toISOString() } },
  });
  const run = { workflow: kind, name, status: 'RUNNING', states: [] };
  record(runs, executionInput.settlementId, run);
  void (async () => {
    for await (const event of execution.eventLogs) if (event.type === 'StateEntered') run.states.push(event.state.name);
  })();
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`execution ${name} did not end within ${executionTimeoutMs} ms`)), executionTimeoutMs)));
  const done = Promise.race([execution.result, timeout])
    .then(
      (output) => Object.assign(run, { status: 'SUCCEEDED', output }),
      (error) => Object.assign(run, { status: 'FAILED', error: { name: error?.name, message: error?.message } }),
    )
    .finally(() => {
      clearTimeout(timer);
      pending.delete(done);
    });
  pending.add(done);
  return done;
}

/** Stand-in for the Step Functions endpoint: StartExecution of the fast path only (AWS JSON 1.0 protocol). */
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
      const executionInput = JSON.parse(command.input);
      startExecution('EXPRESS', command.name, executionInput);
      // At-least-once: the same Express execution delivered a second time, at once.
      if ((input.duplicates ?? []).includes(executionInput.settlementId)) startExecution('EXPRESS', command.name, executionInput);
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
    await handlerOf(input.tasks.EXPRESS.Validate)({ attempt: 1 }, lambdaContext('Validate'));
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
  for (const request of input.requests ?? []) {
    const response = await api(apiEvent(request), lambdaContext('Api'));
    submissions.push({ settlementId: request.settlementId, statusCode: response.statusCode, body: JSON.parse(response.body) });
  }
  for (const redelivery of input.redeliveries ?? []) startExecution('EXPRESS', redelivery.name, redelivery.input);
  for (let round = 0; round < settleRoundsMax && pending.size > 0; round++) await Promise.all([...pending]);
  const ids = new Set([...runs.keys()]);
  const outcomes = Object.fromEntries([...ids].map((id) => [id, { runs: runs.get(id), handOffs: handOffs.get(id) ?? [] }]));
  const result = { submissions, outcomes, invalidValidate: input.requests?.length ? await invalidValidateEvent() : undefined };
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
