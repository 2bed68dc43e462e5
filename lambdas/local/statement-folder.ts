/**
 * The statement inbox of the local engine, the stand-in for the S3 bucket: a folder watched by polling. A file put
 * at `incoming/<BIC>/<currency>/<name>.xml|.csv` goes through the same use case as on AWS (receiveStatementFile),
 * then moves to `imported/` (imported, or already there) or to `rejected/` beside a `<name>.reason.json` saying
 * why. A fault (DynamoDB down) leaves the file where it is for the next scan.
 *
 * Writers should create the file elsewhere (or under a dot name) and rename it into place; as a second guard a file
 * modified less than `settleMs` ago waits for the next scan, so a half-written file is not read.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readBoundedText, tooLarge } from '../adapters/statements/bounded-text';
import type { StatementFileInbox, StatementFileRejection } from '../ports/statement-files';
import type { OperationsDeps } from '../usecases/operations/deps';
import { receiveStatementFile, StatementFileOutcome, type StatementFileResult } from '../usecases/operations/statement-files';

export const statementFolderDefaults = {
  pollIntervalMs: 2_000,
  /** A file younger than this (by mtime) waits for the next scan. */
  settleMs: 1_000,
  /** Files one scan takes at most; the rest wait for the next. */
  filesPerScanMax: 100,
  /** Directory entries one scan looks at at most (BIC and currency folders included). */
  entriesPerScanMax: 10_000,
} as const;

export type StatementFolderOptions = Partial<Record<keyof typeof statementFolderDefaults, number>>;

export interface StatementFolder {
  readonly directory: string;
  /** Scans now (after a scan in progress); resolves with what this scan did. */
  scan(): Promise<Array<{ file: string } & StatementFileResult>>;
  stop(): Promise<void>;
}

export const statementFolderAreas = { incoming: 'incoming', imported: 'imported', rejected: 'rejected' } as const;

class FolderInbox implements StatementFileInbox {
  constructor(private readonly directory: string) {}

  async read(file: string, bytesMax: number): Promise<string> {
    const location = path.join(this.directory, statementFolderAreas.incoming, file);
    const stat = await lstat(location);
    if (stat.size > bytesMax) throw tooLarge(bytesMax, stat.size);
    return readBoundedText(createReadStream(location, { highWaterMark: 64 * 1024 }), bytesMax);
  }

  async reject(rejection: StatementFileRejection): Promise<void> {
    const target = await this.moveTo(statementFolderAreas.rejected, rejection.file);
    // Written aside and renamed into place: whoever watches rejected/ never reads half a reason.
    const reasonFile = `${target}.reason.json`;
    await writeFile(`${reasonFile}.partial`, `${JSON.stringify({ code: rejection.code, reason: rejection.reason }, null, 2)}\n`);
    await rename(`${reasonFile}.partial`, reasonFile);
  }

  async moveTo(area: string, file: string): Promise<string> {
    const target = path.join(this.directory, area, file);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(path.join(this.directory, statementFolderAreas.incoming, file), target);
    return target;
  }
}

export async function startStatementFolder(directory: string, ops: () => OperationsDeps, contentBytesMax: number, options: StatementFolderOptions = {}): Promise<StatementFolder> {
  const settings = { ...statementFolderDefaults, ...options };
  const inbox = new FolderInbox(directory);
  await mkdir(path.join(directory, statementFolderAreas.incoming), { recursive: true });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inProgress: Promise<unknown> = Promise.resolve();

  const scanOnce = async (): Promise<Array<{ file: string } & StatementFileResult>> => {
    const done: Array<{ file: string } & StatementFileResult> = [];
    for (const file of await arrivedFiles(directory, settings)) {
      if (stopped) break;
      try {
        const result = await receiveStatementFile(ops(), inbox, { file }, contentBytesMax, { actor: 'statement-folder', via: 'FOLDER', file });
        if (result.outcome !== StatementFileOutcome.rejected) await inbox.moveTo(statementFolderAreas.imported, file);
        console.log(JSON.stringify({ level: result.outcome === StatementFileOutcome.rejected ? 'warn' : 'info', message: 'statement file', file, ...result }));
        done.push({ file, ...result });
      } catch (error) {
        console.error(JSON.stringify({ level: 'error', message: 'statement file could not be imported; it is tried again at the next scan', file, error: String(error) }));
      }
    }
    return done;
  };
  const scan = () => {
    const next = inProgress.catch(() => undefined).then(scanOnce);
    inProgress = next.catch(() => undefined);
    return next;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void scan().finally(schedule), settings.pollIntervalMs);
    timer.unref();
  };
  schedule();
  return {
    directory,
    scan,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inProgress;
    },
  };
}

/** Regular, settled files under incoming/, as `<BIC>/<currency>/<name>` (or whatever misplaced path, to be refused). */
async function arrivedFiles(directory: string, settings: Record<keyof typeof statementFolderDefaults, number>): Promise<string[]> {
  const root = path.join(directory, statementFolderAreas.incoming);
  const files: string[] = [];
  const pending = [''];
  let entriesSeen = 0;
  const settledBefore = Date.now() - settings.settleMs;
  // Breadth-first without recursion; bounded by the entries and files per scan.
  while (pending.length > 0 && files.length < settings.filesPerScanMax && entriesSeen < settings.entriesPerScanMax) {
    const relative = pending.shift()!;
    for (const entry of await readdir(path.join(root, relative), { withFileTypes: true })) {
      if (++entriesSeen > settings.entriesPerScanMax || files.length >= settings.filesPerScanMax) break;
      // Dot names are files still being written (or editors' leftovers); symbolic links are never followed.
      if (entry.name.startsWith('.') || entry.isSymbolicLink()) continue;
      const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) pending.push(name);
      else if (entry.isFile() && (await lstat(path.join(root, name))).mtimeMs <= settledBefore) files.push(name);
    }
  }
  return files.sort();
}
