/**
 * The gRPC task's HTTP side (bin/grpc-server.ts): the console's live feed and last-hour stats, `GET
 * /api/v1/events/stream` and `GET /api/v1/events/stats` (handlers/event-feed.ts, the same handlers the local engine
 * serves), reached only from the console's CloudFront distribution through its VPC origin. Every request carries the
 * user's Cognito ID token, which the feed's `authenticate` checks. `GET /health` answers the load balancer.
 * Nothing else is served: every other path is 404 before a byte of body is read.
 */
import http from 'node:http';
import { listen, type ListeningServer } from '../adapters/http/listening';
import type { RawHandler } from './event-feed';

/** Open connections at most (feeds are long-lived; the feed itself caps streams per process and per client). */
export const feedConnectionsMax = 256;
/** The request line and headers must arrive within this long (slow clients are cut off). */
export const feedHeadersTimeoutMs = 10_000;

export type FeedServer = ListeningServer;

export async function startFeedServer(options: { port: number; host: string; handlers: Readonly<Record<string, RawHandler>> }): Promise<FeedServer> {
  const server = http.createServer({ headersTimeout: feedHeadersTimeoutMs, requestTimeout: 2 * feedHeadersTimeoutMs, connectionsCheckingInterval: 1_000 }, (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const handler = request.method === 'GET' ? options.handlers[path] : undefined;
    if (handler) {
      // A live stream is long-lived by design; the header and request timeouts still hold for the request itself.
      request.socket.setTimeout(0);
      return handler(request, response);
    }
    if (request.method === 'GET' && path === '/health') return response.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok\n');
    response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'HTTP.NOT_FOUND', message: 'this address serves GET /api/v1/events/stream and /api/v1/events/stats only' } }));
  });
  server.maxConnections = feedConnectionsMax;
  return listen(server, options);
}
