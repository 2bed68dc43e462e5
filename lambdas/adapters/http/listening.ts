/**
 * Starts a node:http server listening and gives back its port and a stop that also ends open connections (kept-alive
 * sockets and live streams would otherwise hold `close` open): the local REST and metrics servers and the gRPC
 * task's feed server all stop this way.
 */
import type http from 'node:http';

export interface ListeningServer {
  readonly port: number;
  stop(): Promise<void>;
}

export async function listen(server: http.Server, options: { port: number; host: string }): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
