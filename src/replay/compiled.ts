/**
 * Replay's own sources, bundled by esbuild when a command starts, for the CLI, the evaluation and the bench; and
 * replay on two threads from those bundles.
 *
 * Why: the CLI runs TypeScript through tsx, which compiles with esbuild's `keepNames`, so every nested function and
 * class is wrapped by a naming helper each time it is created. On replay's hot paths (a closure per line, per pair,
 * per account) that cost about a fifth of its CPU time: a 1.66M-line log took 48 CPU-s through tsx and 39 from a
 * plain bundle of the same files (docs/detection.md, "Where replay's time goes"). A worker thread needs JavaScript
 * it can load, which the reader's bundle is. The bundles are the same code, so the report is the same, account by
 * account (test/replay/threaded.test.ts).
 *
 * Hand-written: this is the one place that compiles at run time, and esbuild (already the bundler of the Lambda
 * handlers) does the work; the lines here only load its output.
 */
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ReplayReport } from '../shared/contract';
import type { ReplayOptions } from './index';

export type ReplayModule = typeof import('./index') & Pick<typeof import('./threaded'), 'replayThreaded'>;

/** The reader thread's young generation. */
const READER_YOUNG_GENERATION_MB = 48;

let loaded: { module: ReplayModule; reader: string } | undefined;

function bundle(esbuild: typeof import('esbuild'), entry: { file: string } | { contents: string }, external: string[] = []): string {
  const out = esbuild.buildSync({
    absWorkingDir: __dirname,
    external,
    ...('file' in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.contents, resolveDir: __dirname, loader: 'ts' as const } }),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}

/** The bundles, built and loaded once per process; undefined without esbuild (an install without devDependencies). */
function compiled(): { module: ReplayModule; reader: string } | undefined {
  if (loaded) return loaded;
  let esbuild: typeof import('esbuild');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- esbuild is a devDependency: absent, replay runs as loaded
    esbuild = require('esbuild') as typeof import('esbuild');
  } catch {
    return undefined;
  }
  // lines.ts stays outside the main bundle: its InputError is then the class callers test errors against.
  const code = bundle(esbuild, { contents: "export * from './index'; export { replayThreaded } from './threaded';" }, [join(__dirname, 'lines.ts')]);
  const mod = { exports: {} as ReplayModule };
  // The bundle imports Node built-ins and ./lines.ts, which this module's `require` resolves.
  const file = join(__dirname, 'index.ts');
  new Function('module', 'exports', 'require', '__filename', '__dirname', code)(mod, mod.exports, require, file, dirname(file));
  return (loaded = { module: mod.exports, reader: bundle(esbuild, { file: join(__dirname, 'reader-worker.ts') }) });
}

/**
 * Replay files on two threads from the bundles (threaded.ts); on one thread when esbuild is not installed, since
 * a worker cannot load TypeScript.
 */
export function replayCompiled(opts: ReplayOptions): Promise<ReplayReport> {
  const c = compiled();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the sources as loaded, only without esbuild
  if (!c) return (require('./index') as typeof import('./index')).replayFiles(opts);
  // The reader's objects die young and its heap stays small: the large young generation replay gives the main thread
  // (bin/distill-guard.js) would only add to the peak RSS there (64 MB less on a 1.5M-line replay, same CPU).
  const resourceLimits = { maxYoungGenerationSizeMb: READER_YOUNG_GENERATION_MB };
  return c.module.replayThreaded(opts, (workerData) => new Worker(c.reader, { eval: true, workerData, resourceLimits }));
}
