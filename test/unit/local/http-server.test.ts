import { setTimeout as delay } from 'node:timers/promises';
import { startHttpServer } from '../../../lambdas/local/http-server';

describe('the local HTTP server', () => {
  it('answers a request that takes the engine longer than the idle timeout: waiting on the engine is not client idleness', async () => {
    // A busy database makes an answer slow; the idle cut-off (300 ms here) must not hang up on the client meanwhile.
    const server = await startHttpServer(
      async () => {
        await delay(900);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"slow":true}' };
      },
      { port: 0, host: '127.0.0.1', limits: { idleTimeoutMs: 300, headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 } },
    );
    try {
      const first = await fetch(`http://127.0.0.1:${server.port}/api/v1/anything`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ slow: true });
      // The same keep-alive connection still serves a second slow answer.
      const second = await fetch(`http://127.0.0.1:${server.port}/api/v1/anything`);
      expect(second.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
