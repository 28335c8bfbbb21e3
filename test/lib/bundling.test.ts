/**
 * The ONE test that really bundles: a normal App (no `aws:cdk:bundling-stacks` skip) synthesizes the full
 * stack, so every NodejsFunction is bundled by the local esbuild (no Docker). Each Lambda's code asset must exist
 * in the cloud assembly as an index.js that loads and exports its handler.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { DistillGuardStack } from '../../lib/distill-guard-stack';

// Inside the repo (git-ignored) so a loaded bundle resolves the external @aws-sdk/* from node_modules, as the
// Lambda runtime provides them.
const outdir = path.join(__dirname, '..', '..', '.local', `bundling-test-${process.pid}`);

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

test('cdk synth bundles every Lambda with the local esbuild', () => {
  // asset metadata on, as the cdk CLI sets it (and as the local runtime reads the bundles)
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  new DistillGuardStack(app, 'DistillGuard');
  const assembly = app.synth();
  const template = assembly.getStackByName('DistillGuard').template;
  const functions = Object.entries<any>(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const bundled = functions.filter(([, r]) => r.Metadata?.['aws:asset:path'] && r.Properties.Runtime === 'nodejs22.x');
  // authorizer, model stub, aggregator, publisher, sweeper, case, suspension, expirer (+ the scorer when present)
  expect(bundled.length).toBeGreaterThanOrEqual(8);
  for (const [id, r] of bundled) {
    const dir = path.join(assembly.directory, r.Metadata['aws:asset:path']);
    const entry = path.join(dir, 'index.js');
    expect({ id, exists: fs.existsSync(entry) }).toEqual({ id, exists: true });
    const size = fs.statSync(entry).size;
    expect(size).toBeGreaterThan(1000);
    expect(fs.existsSync(`${entry}.map`)).toBe(true);
  }
  // each function its own handler's bundle (no two functions of this stack share an entry)
  const assets = bundled.map(([, r]) => r.Metadata['aws:asset:path']);
  expect(new Set(assets).size).toBe(bundled.length);
  const authorizer = bundled.find(([id]) => /DemoApiAuthorizerFn/.test(id));
  expect(authorizer).toBeDefined();
  // the bundle is self-contained apart from the runtime-provided AWS SDK, and exports the handler
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the synthesized bundle from a path known only at run time
  const mod = require(path.join(assembly.directory, authorizer![1].Metadata['aws:asset:path'], 'index.js'));
  expect(typeof mod.handler).toBe('function');
}, 600_000);
