/**
 * The console's browser files, built from console/src with esbuild when first asked for and kept in memory: nothing
 * built is committed, and `npm start` and the tests serve exactly the source in the tree. esbuild is a development
 * dependency, loaded only here: the deployed stack serves the console as a static site instead (docs/console.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ConsoleAssets {
  readonly html: string;
  readonly script: string;
  readonly css: string;
}

const root = join(__dirname, '..', '..', '..');
let building: Promise<ConsoleAssets> | undefined;

export function consoleAssets(): Promise<ConsoleAssets> {
  building ??= build().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

/** How the script is built, here and for the static site on AWS (infra/constructs/console-site.ts bundles at synth). */
export const consoleScriptBuildOptions: import('esbuild').BuildOptions & { write: false } = {
  entryPoints: [join(root, 'console', 'src', 'main.ts')],
  bundle: true,
  write: false,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'silent',
};

/** The page and its styles (uPlot's and ours), as served. */
export function consoleStaticFiles(): Pick<ConsoleAssets, 'html' | 'css'> {
  const css = [readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'), readFileSync(join(root, 'console', 'src', 'console.css'), 'utf8')].join('\n');
  return { html: readFileSync(join(root, 'console', 'src', 'index.html'), 'utf8'), css };
}

async function build(): Promise<ConsoleAssets> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build(consoleScriptBuildOptions);
  return { ...consoleStaticFiles(), script: result.outputFiles[0].text };
}
