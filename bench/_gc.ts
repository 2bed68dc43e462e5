import { performance } from 'node:perf_hooks';
import { startLocalEngine } from '../lambdas/local/engine';
import { submitSettlement } from '../lambdas/usecases/settlements';
import type { ExecutionOutcome } from '../lambdas/local/local-workflow';
const waiters = new Map<string, () => void>();
const mode = process.argv[2] ?? 'on';
const shards = Number(process.argv[3] ?? 0);
const seconds = Number(process.argv[4] ?? 10);
const stats = { writesGrouped: 0, writeGroups: 0, groupsSplit: 0, readsGrouped: 0, readBatches: 0 };
async function main() {
  const engine = await startLocalEngine({ httpPort: null, groupCommit: mode === 'on', groupCommitStats: stats, jobs: false, sqs: false, onExecutionEnd: (o: ExecutionOutcome) => waiters.get(o.settlementId)?.(), tablePrefix: 'gc-' });
  if (shards > 1) for (const id of ['VOSTRO#DEUTDEFF#EUR', 'NOSTRO#BNPAFRPP#EUR']) await engine.accounts.split(id, shards);
  const req = (id: string) => ({ settlementId: id, payerBic: 'DEUTDEFF', payeeBic: 'BNPAFRPP', amount: '1.00', currency: 'EUR', rail: 'MOCK', kind: 'DOMESTIC', valueDate: new Date().toISOString().slice(0, 10), reference: 'bench' });
  let seq = 0;
  const phase = async (secs: number) => {
    const end = performance.now() + secs * 1000; let count = 0; const t0 = performance.now();
    await Promise.all(Array.from({ length: 64 }, async (_, w) => { while (performance.now() < end) { const id = `gc-${w}-${seq++}`; const done = new Promise<void>((r) => waiters.set(id, r)); await submitSettlement(engine.deps, req(id)); await done; count++; } }));
    return count / ((performance.now() - t0) / 60000);
  };
  const counts = new Map<string, number>();
  (engine.documentClient as any).middlewareStack.add((next: any, ctx: any) => async (args: any) => {
    const i = args.input ?? {};
    const tables = i.TableName ?? (i.TransactItems ? 'tx' + i.TransactItems.length : i.RequestItems ? 'batch' : '');
    const k = `${ctx.commandName} ${tables}${i.IndexName ? '.' + i.IndexName : ''}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
    return next(args);
  }, { step: 'initialize', name: 'countCalls' });
  await phase(4);
  counts.clear();
  const cpu = () => { const { execSync } = require('node:child_process'); const java = execSync(`ps -o cputimes= -p ${(engine.dynamo as any) ? execSync(`pgrep -P ${process.pid} java`).toString().trim() : ''}`).toString().trim(); return { node: process.cpuUsage(), java: Number(java) }; };
  const c0 = cpu();
  const t = await phase(seconds);
  const c1 = cpu();
  console.log('per settlement ms: java', ((c1.java - c0.java) * 1000 / (t * seconds / 60)).toFixed(1), 'node', ((c1.node.user + c1.node.system - c0.node.user - c0.node.system) / 1e3 / (t * seconds / 60)).toFixed(1));
  console.log('node cpu s', ((c1.node.user + c1.node.system - c0.node.user - c0.node.system) / 1e6).toFixed(1), 'java cpu s', c1.java - c0.java);
  if (process.env.VERBOSE) { console.log(stats); console.log([...counts].sort((a, b) => b[1] - a[1])); }
  console.log(mode, 'shards', shards, Math.round(t), '/min');
  await engine.stop(2000);
}
main();
