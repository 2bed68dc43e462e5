/**
 * Plumbing for starting shipped artifacts as processes: a free port, a stand-in Step Functions endpoint, and a
 * wait for the gRPC entry's "listening" line.
 */
import type { ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';

/** How long the gRPC entry may take to start listening. */
export const listeningTimeoutMs = 30_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Answers StartExecution (AWS JSON 1.0) by handing the execution input to `start`; any other operation is refused. */
export function startStepFunctionsStandIn(start: (input: { settlementId: string; attempt: number }) => Promise<unknown>): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += String(chunk)));
    request.on('end', () => {
      const reply = (status: number, payload: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(payload));
      };
      if (request.headers['x-amz-target'] !== 'AWSStepFunctions.StartExecution') return reply(400, { __type: 'UnknownOperationException', message: String(request.headers['x-amz-target']) });
      const command = JSON.parse(body) as { stateMachineArn: string; name: string; input: string };
      start(JSON.parse(command.input) as { settlementId: string; attempt: number }).then(
        () => reply(200, { executionArn: `${command.stateMachineArn.replace(':stateMachine:', ':execution:')}:${command.name}`, startDate: Date.now() / 1000 }),
        (error: unknown) => reply(500, { __type: 'InternalFailure', message: String(error) }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Resolves once the process logs that it listens; rejects with its output if it exits first or takes too long. */
export function waitForListening(child: ChildProcess, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening after ${listeningTimeoutMs} ms:\n${output()}`)), listeningTimeoutMs);
    const check = () => {
      if (output().includes('gRPC shim listening')) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gRPC entry exited with ${code} before listening:\n${output()}`));
    });
  });
}

/** Stand-in for SSM's GetParameter (JSON 1.1 over HTTP): the value `parameter` gives a name, else ParameterNotFound. */
export function startSsmStandIn(parameter: (name: string) => string | undefined): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += String(chunk)));
    request.on('end', () => {
      const name = (JSON.parse(body || '{}') as { Name?: string }).Name ?? '';
      const value = request.headers['x-amz-target'] === 'AmazonSSM.GetParameter' ? parameter(name) : undefined;
      if (value === undefined) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: 'ParameterNotFound', message: name }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ Parameter: { Name: name, Type: 'String', Value: value, Version: 1 } }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
