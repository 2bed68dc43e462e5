// Child process of the local engine: serves the SQS API (fauxqs) on loopback and prints {"port": N} once ready.
// A separate process because fauxqs is an ES module the engine's CommonJS test runner cannot load in-process.
// It exits when its parent goes away (stdin closes), so a killed engine never leaves it behind.
import { buildApp } from 'fauxqs';

const app = buildApp({ logger: false });
const address = await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);
const exit = () => app.close().finally(() => process.exit(0));
process.stdin.on('end', exit);
process.stdin.on('error', exit);
process.stdin.resume();
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
