/**
 * Guard ablation: which DynamoDB conditions does the test suite actually need?
 *
 * Finds every `ConditionExpression` in lambdas/adapters/** with the TypeScript compiler API (string literals,
 * templates, conditionals, concatenations alike), then, one guard at a time, weakens it to a tautology in a
 * temporary copy of the tree — `(<original>) OR attribute_not_exists(ablatedGuard)`, which keeps every
 * placeholder in use so DynamoDB accepts the request, and is true for every item — and runs jest there. A guard
 * whose mutant passes every test is one no test needs: it is listed as SURVIVED.
 *
 *   npm run ablate                                   # every guard, the whole suite (slow: one suite run per guard)
 *   npm run ablate -- --tests test/races test/integration/recovery --bail
 *   npm run ablate -- --files settlement-store,operations-store --list
 *
 * Options: --tests <paths...> (jest path patterns; default all), --bail (stop a mutant's run at its first failing
 * test file), --files <substrings> (only guards in matching adapter files), --lines <n,...> (only guards starting on
 * those lines of those files), --list (print the guards and stop),
 * --json <file> (write the results), --fail-on-survivors (exit 1 when a guard survives).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';

const repositoryRoot = path.resolve(__dirname, '..');
const adaptersDirectory = path.join(repositoryRoot, 'lambdas', 'adapters');
/** What a mutant's tree needs besides node_modules (linked, not copied). */
const copiedEntries = ['lambdas', 'test', 'statemachines', 'config', 'proto', 'bin', 'infra', 'bench', 'package.json', 'jest.config.js', 'tsconfig.json', 'cdk.json'];
/** Longest one mutant's test run may take before it counts as killed by a hang. */
const mutantTimeoutMs = 30 * 60_000;

export interface Guard {
  readonly file: string;
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export interface GuardResult extends Guard {
  readonly survived: boolean;
  readonly seconds: number;
  /** Test files that failed with the guard weakened (the first few). */
  readonly killedBy: readonly string[];
}

function listTypeScriptFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const full = path.join(directory, entry);
    if (statSync(full).isDirectory()) return listTypeScriptFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every `ConditionExpression: <expression>` property in the adapters, with the source range of its value. */
export function findGuards(directory = adaptersDirectory): Guard[] {
  const guards: Guard[] = [];
  for (const file of listTypeScriptFiles(directory)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAssignment(node) && propertyName(node.name) === 'ConditionExpression') {
        const start = node.initializer.getStart(source);
        guards.push({
          file: path.relative(repositoryRoot, file),
          line: source.getLineAndCharacterOfPosition(start).line + 1,
          start,
          end: node.initializer.getEnd(),
          text: node.initializer.getText(source).replace(/\s+/g, ' '),
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return guards;
}

function propertyName(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  return undefined;
}

/** The source with one guard weakened to a tautology that still uses each of its placeholders. */
export function weaken(source: string, guard: Pick<Guard, 'start' | 'end'>): string {
  const original = source.slice(guard.start, guard.end);
  return `${source.slice(0, guard.start)}\`(\${${original}}) OR attribute_not_exists(ablatedGuard)\`${source.slice(guard.end)}`;
}

function parseArguments(argv: readonly string[]) {
  const options = { tests: [] as string[], bail: false, files: [] as string[], lines: [] as number[], list: false, json: undefined as string | undefined, failOnSurvivors: false };
  let collecting: 'tests' | 'files' | 'lines' | undefined;
  for (const argument of argv) {
    if (argument === '--tests') collecting = 'tests';
    else if (argument === '--files') collecting = 'files';
    else if (argument === '--lines') collecting = 'lines';
    else if (argument === '--bail') [options.bail, collecting] = [true, undefined];
    else if (argument === '--list') [options.list, collecting] = [true, undefined];
    else if (argument === '--fail-on-survivors') [options.failOnSurvivors, collecting] = [true, undefined];
    else if (argument === '--json') [collecting, options.json] = [undefined, ''];
    else if (options.json === '') options.json = argument;
    else if (collecting === 'tests') options.tests.push(argument);
    else if (collecting === 'files') options.files.push(...argument.split(','));
    else if (collecting === 'lines') options.lines.push(...argument.split(',').map(Number));
    else throw new Error(`unknown argument ${argument} (see the comment at the top of tools/ablate.ts)`);
  }
  return options;
}

/** A copy of the tree to mutate; node_modules is linked. */
function prepareCopy(): string {
  const copy = mkdtempSync(path.join(tmpdir(), 'ablate-'));
  for (const entry of copiedEntries) {
    const from = path.join(repositoryRoot, entry);
    try {
      statSync(from);
    } catch {
      continue;
    }
    cpSync(from, path.join(copy, entry), { recursive: true });
  }
  symlinkSync(path.join(repositoryRoot, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  return copy;
}

/** Runs jest in `directory`; returns whether every test passed and which test files failed. */
function runTests(directory: string, tests: readonly string[], bail: boolean): { passed: boolean; failedFiles: string[]; output: string } {
  const report = path.join(directory, '.ablate-jest.json');
  const jest = path.join(repositoryRoot, 'node_modules', '.bin', 'jest');
  // In a session of its own (setsid), so that whatever the run leaves behind can be killed with it: under --bail jest
  // exits without its global teardown, and each mutant used to leave its DynamoDB Local JVM running.
  const result = spawnSync('setsid', [jest, '--json', `--outputFile=${report}`, '--silent', ...(bail ? ['--bail'] : []), ...tests], {
    cwd: directory,
    encoding: 'utf8',
    timeout: mutantTimeoutMs,
    env: { ...process.env, CI: 'true' },
  });
  killProcessGroup(result.pid);
  let failedFiles: string[] = [];
  try {
    const parsed = JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ name: string; status: string }> };
    failedFiles = parsed.testResults.filter((entry) => entry.status === 'failed').map((entry) => path.relative(directory, entry.name));
  } catch {
    // No report: jest writes none when --bail stops it; its FAIL lines name the files. With neither, jest died before
    // running a test (a compile error, a hang, DynamoDB Local not starting): said so, since that is no kill by a test.
    failedFiles = [...`${result.stderr ?? ''}`.matchAll(/^FAIL\s+(\S+)/gm)].map((match) => match[1]);
    if (failedFiles.length === 0 && result.status !== 0) failedFiles = [`(no test failed: jest exited ${result.status ?? result.signal})`];
  }
  return { passed: result.status === 0, failedFiles, output: `${result.stderr ?? ''}`.slice(-3000) };
}

function main(): void {
  const options = parseArguments(process.argv.slice(2));
  const guards = findGuards()
    .filter((guard) => options.files.length === 0 || options.files.some((part) => guard.file.includes(part)))
    .filter((guard) => options.lines.length === 0 || options.lines.includes(guard.line));
  if (options.list) {
    for (const guard of guards) console.log(`${guard.file}:${guard.line}  ${guard.text}`);
    console.log(`${guards.length} guards`);
    return;
  }
  const started = Date.now();
  const copy = prepareCopy();
  const results: GuardResult[] = [];
  try {
    const baseline = runTests(copy, options.tests, options.bail);
    if (!baseline.passed) throw new Error(`the tests fail without any mutation (${baseline.failedFiles.join(', ')}): fix them before ablating\n${baseline.output}`);
    console.log(`ablate: ${guards.length} guards; tests: ${options.tests.length > 0 ? options.tests.join(' ') : 'the whole suite'}${options.bail ? ' (--bail)' : ''}; baseline passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    for (const [index, guard] of guards.entries()) {
      const file = path.join(copy, guard.file);
      const original = readFileSync(path.join(repositoryRoot, guard.file), 'utf8');
      writeFileSync(file, weaken(original, guard));
      const guardStarted = Date.now();
      const run = runTests(copy, options.tests, options.bail);
      writeFileSync(file, original);
      const result: GuardResult = { ...guard, survived: run.passed, seconds: (Date.now() - guardStarted) / 1000, killedBy: run.failedFiles.slice(0, 3) };
      results.push(result);
      console.log(`[${index + 1}/${guards.length}] ${result.survived ? 'SURVIVED' : 'killed  '} ${guard.file}:${guard.line} ${guard.text}  (${result.seconds.toFixed(0)} s${result.killedBy.length > 0 ? `; ${result.killedBy.join(', ')}` : ''})`);
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  const survivors = results.filter((result) => result.survived);
  const byFile = new Map<string, { total: number; survived: number }>();
  for (const result of results) {
    const counts = byFile.get(result.file) ?? { total: 0, survived: 0 };
    counts.total++;
    if (result.survived) counts.survived++;
    byFile.set(result.file, counts);
  }
  console.log(`\nablate: ${survivors.length} of ${results.length} guards needed by no test; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  for (const [file, counts] of byFile) console.log(`  ${file}: ${counts.survived} of ${counts.total} survive`);
  for (const survivor of survivors) console.log(`  SURVIVED ${survivor.file}:${survivor.line} ${survivor.text}`);
  if (options.json) writeFileSync(options.json, JSON.stringify({ seconds: (Date.now() - started) / 1000, results }, null, 2));
  if (options.failOnSurvivors && survivors.length > 0) process.exitCode = 1;
}

if (require.main === module) main();

/** Kills what is left of a finished run's process group (its leader's pid); a group already empty is fine. */
function killProcessGroup(leaderPid: number | undefined): void {
  if (!leaderPid) return;
  try {
    process.kill(-leaderPid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group.
  }
}
