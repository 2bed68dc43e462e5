/**
 * The local REST server: turns each HTTP request into an API Gateway proxy event (REST API, payload 1.0) for the
 * same handler Lambda runs behind API Gateway, and writes the proxy result back.
 */
import http from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { requestBodyBytesMax } from '../handlers/http';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalHttpServer {
  readonly port: number;
  stop(): Promise<void>;
}

const localContext = { functionName: 'settlement-engine-api', awsRequestId: 'local', callbackWaitsForEmptyEventLoop: false } as unknown as Context;

/** Handlers that answer from the raw request (streams): GET only, by exact path, before any body is read. */
export type RawHandlers = Readonly<Record<string, (request: http.IncomingMessage, response: http.ServerResponse) => void>>;

export async function startHttpServer(handler: ProxyHandler, options: { port: number; host: string; rawHandlers?: RawHandlers }): Promise<LocalHttpServer> {
  const server = http.createServer((request, response) => {
    const raw = request.method === 'GET' ? options.rawHandlers?.[new URL(request.url ?? '/', 'http://localhost').pathname] : undefined;
    if (raw) return raw(request, response);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Stop buffering early; the handler answers 413 from the size alone.
      if (size > requestBodyBytesMax) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const body = tooLarge ? 'x'.repeat(requestBodyBytesMax + 1) : Buffer.concat(chunks).toString('utf8');
      const event = {
        httpMethod: request.method ?? 'GET',
        path: url.pathname,
        resource: url.pathname,
        headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')])),
        multiValueHeaders: {},
        queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
        multiValueQueryStringParameters: null,
        pathParameters: null,
        stageVariables: null,
        body: body === '' ? null : body,
        isBase64Encoded: false,
        requestContext: { identity: { sourceIp: request.socket.remoteAddress ?? '' } },
      } as unknown as APIGatewayProxyEvent;
      handler(event, localContext).then(
        (result) => {
          response.writeHead(result.statusCode, result.headers as http.OutgoingHttpHeaders);
          response.end(result.body);
        },
        (error: unknown) => {
          console.error(JSON.stringify({ level: 'error', message: 'local HTTP adapter failed', error: String(error) }));
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ error: { code: 'INTERNAL.UNEXPECTED', message: 'internal error' } }));
        },
      );
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
