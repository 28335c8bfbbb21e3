/**
 * Where each Lambda handler's code comes from. Inside this repository it is bundled from `lambdas/` at synth by
 * the local esbuild; in the installed package (compiled to `dist/`, no TypeScript sources, no lock file) it is the
 * pre-built bundle `npm run bundle` wrote to `dist/lambdas/<stage>/<name>/`, so a consumer's synth bundles
 * nothing. Both go through `bundleHandler`, with the same esbuild options, so both hold the same code.
 */
import * as fs from 'fs';
import * as path from 'path';

/** Every handler a distill-guard construct deploys, relative to the repository root. */
export const HANDLER_ENTRIES = [
  'lambdas/aggregate/handler.ts',
  'lambdas/aggregate/object-handler.ts',
  'lambdas/detect/linkage-stage.ts',
  'lambdas/detect/score-shard.ts',
  'lambdas/detect/scorer.ts',
  'lambdas/escalate/case-handler.ts',
  'lambdas/escalate/cluster-handler.ts',
  'lambdas/escalate/expirer-handler.ts',
  'lambdas/escalate/reinstate-handler.ts',
  'lambdas/escalate/restrict-handler.ts',
  'lambdas/escalate/review-api-handler.ts',
  'lambdas/escalate/review-task-handler.ts',
  'lambdas/escalate/suspension-handler.ts',
  'lambdas/ingest/authorizer.ts',
  'lambdas/ingest/model-stub.ts',
  'lambdas/notify/publisher.ts',
  'lambdas/notify/sweeper.ts',
  'lambdas/share/exporter.ts',
] as const;

/** Root of the sources (`lib/shared/..`), or of the compiled package (`dist/lib/shared/..`). */
const ROOT = path.resolve(__dirname, '..', '..');

/** True when this module runs compiled (the installed package), false when run from its TypeScript source. */
export const FROM_PACKAGE = path.extname(__filename) === '.js';

/** `lambdas/escalate/case-handler.ts` -> `escalate/case-handler` (the bundle's folder under `lambdas/`). */
export function bundleName(entry: string): string {
  if (!(HANDLER_ENTRIES as readonly string[]).includes(entry)) {
    throw new Error(`unknown handler entry '${entry}'; add it to HANDLER_ENTRIES in lib/shared/handler-bundles.ts`);
  }
  return entry.replace(/^lambdas\//, '').replace(/\.ts$/, '');
}

/** The pre-built bundle folder of `entry` in the installed package (`dist/lambdas/<stage>/<name>`). */
export function prebuiltBundleDir(entry: string): string {
  return path.join(ROOT, 'lambdas', bundleName(entry));
}

/** The handler source file of `entry` (inside the repository only). */
export function sourceEntry(entry: string): string {
  return path.join(ROOT, entry);
}

/**
 * Bundles one handler into `outDir/index.js` (+ source map): Node.js 22, CommonJS, minified, AWS SDK v3 left
 * external (the Lambda runtime provides it). esbuild is a build-time tool, loaded only here.
 */
export function bundleHandler(entry: string, outDir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- esbuild is a build-time devDependency; loading it lazily keeps it off the library's load path
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [sourceEntry(entry)],
    outfile: path.join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    external: ['@aws-sdk/*'],
    logLevel: 'warning',
  });
}

/** `npm run bundle`: every handler into `<outRoot>/<stage>/<name>/index.js`. */
export function bundleAll(outRoot: string): string[] {
  return HANDLER_ENTRIES.map((entry) => {
    const dir = path.join(outRoot, bundleName(entry));
    fs.rmSync(dir, { recursive: true, force: true });
    bundleHandler(entry, dir);
    return dir;
  });
}

if (require.main === module) {
  const outRoot = path.resolve(process.argv[2] ?? path.join('dist', 'lambdas'));
  const started = Date.now();
  const dirs = bundleAll(outRoot);
  console.log(`bundled ${dirs.length} handlers into ${path.relative(process.cwd(), outRoot)} in ${Date.now() - started} ms`);
}
