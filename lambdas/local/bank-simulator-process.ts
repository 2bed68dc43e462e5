/**
 * `npm start` runs the bank simulator as a separate process (bin/bank-simulator.ts), as a bank's gateway is a
 * separate system, and points the engine's ISO 20022 adapter at it with the certificates it made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BankGatewaySettings } from '../config';

export interface SimulatorProcess {
  readonly gateway: Omit<BankGatewaySettings, 'networkBic' | 'requestTimeoutMs'>;
  stop(): Promise<void>;
}

/** How long the simulator may take to make its certificates and listen. */
const simulatorStartTimeoutMs = 60_000;

export async function startSimulatorProcess(env: NodeJS.ProcessEnv): Promise<SimulatorProcess> {
  const entry = join(__dirname, '..', '..', 'bin', 'bank-simulator.ts');
  // Same Node and the same TypeScript loader (tsx) as this process.
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, entry], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLines = await new Promise<string[]>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`bank simulator did not start within ${simulatorStartTimeoutMs} ms`)), simulatorStartTimeoutMs);
    child.once('exit', (code) => reject(new Error(`bank simulator exited with code ${code} before it listened`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const lines = output.split('\n');
      if (lines.length >= 3) {
        clearTimeout(timer);
        resolve(lines);
      }
    });
  });
  child.stdout!.resume();
  const url = /listening on (https:\/\/\S+)/.exec(firstLines[0])?.[1];
  const paths = /CA (\S+), client certificate (\S+) \(key (\S+)\)/.exec(firstLines[1]);
  if (!url || !paths) throw new Error(`bank simulator announced itself unexpectedly: ${firstLines.slice(0, 2).join(' | ')}`);
  return {
    gateway: { url, ca: readFileSync(paths[1], 'utf8'), cert: readFileSync(paths[2], 'utf8'), key: readFileSync(paths[3], 'utf8') },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
