/**
 * distill-guard as a platform team gets it: `npm pack` (which builds dist/ and the handler bundles), the tarball
 * installed into a fresh CDK app with its own package.json, and the README's "Use as a construct" code as that
 * app. The consumer's synth must bundle nothing: every function's code is a bundle shipped in the package.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';

const REPO = path.resolve(__dirname, '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-guard-pack-'));
const appDir = path.join(work, 'app');
let tarball = '';
let template: Template;
let cdkOut = '';

/** The first ```ts block under the README's "Use as a construct" heading. */
function readmeSnippet(): string {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const at = readme.indexOf('## Use as a construct');
  if (at < 0) throw new Error('README.md has no "## Use as a construct" section');
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error('README.md "Use as a construct" has no ```ts block');
  return block[1];
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

beforeAll(() => {
  // prepack builds dist/ (tsc + the handler bundles) before packing
  npm(['pack', '--pack-destination', work], REPO);
  tarball = path.join(
    work,
    fs.readdirSync(work).find((f) => f.endsWith('.tgz'))!,
  );

  fs.mkdirSync(appDir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- reads each package's installed version by name
  const version = (pkg: string) => require(`${pkg}/package.json`).version as string;
  fs.writeFileSync(
    path.join(appDir, 'package.json'),
    JSON.stringify({
      name: 'consumer-app',
      version: '0.0.0',
      private: true,
      dependencies: { 'distill-guard': `file:${tarball}`, 'aws-cdk-lib': version('aws-cdk-lib'), constructs: version('constructs') },
    }),
  );
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], appDir);

  const code = readmeSnippet();
  fs.writeFileSync(path.join(appDir, 'app.ts'), code);
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  fs.writeFileSync(path.join(appDir, 'app.js'), js.outputText);
  cdkOut = path.join(appDir, 'cdk.out');
  execFileSync(process.execPath, ['app.js'], { cwd: appDir, env: { ...process.env, CDK_OUTDIR: cdkOut }, stdio: ['ignore', 'pipe', 'pipe'] });
  const templates = fs.readdirSync(cdkOut).filter((f) => f.endsWith('.template.json'));
  expect(templates).toHaveLength(1);
  template = Template.fromJSON(JSON.parse(fs.readFileSync(path.join(cdkOut, templates[0]), 'utf8')));
}, 300_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the tarball holds the compiled library, its declarations, the bundles, schemas, README and LICENSE only', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  for (const f of [
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
    'dist/lib/distill-guard.d.ts',
    'dist/lambdas/aggregate/handler/index.js',
    'schemas/account-suspended.json',
    'README.md',
    'LICENSE',
    'package.json',
  ]) {
    expect(files).toContain(f);
  }
  const outside = files.filter((f) => !/^(dist|schemas)\//.test(f) && !['README.md', 'LICENSE', 'package.json', 'bin/distill-guard.js'].includes(f));
  expect(outside).toEqual([]);
  expect(files.filter((f) => /^dist\/(test|sim|cli|local|bench)\//.test(f) || /\.ts$/.test(f.replace(/\.d\.ts$/, '')))).toEqual([]);
  const manifest = JSON.parse(fs.readFileSync(path.join(appDir, 'node_modules', 'distill-guard', 'package.json'), 'utf8'));
  expect(manifest.private).toBeUndefined();
  expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
  // the CLI is not shipped: its command says so instead of failing on a missing module
  const bin = path.join(appDir, 'node_modules', '.bin', 'distill-guard');
  const cli = () => execFileSync(process.execPath, [fs.realpathSync(bin), '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(cli).toThrow(/the CLI runs from a clone of the repository/);
});

test("the README's code type-checks against the installed package's declarations", () => {
  const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [
    '--noEmit',
    '--strict',
    '--skipLibCheck',
    '--esModuleInterop',
    '--module',
    'commonjs',
    '--target',
    'es2022',
    '--types',
    'node',
    '--typeRoots',
    path.join(REPO, 'node_modules', '@types'),
    'app.ts',
  ];
  const run = () => execFileSync(process.execPath, [tsc, ...args], { cwd: appDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(run).not.toThrow();
});

test('the consumer app synthesizes the pipeline on its existing REST API', () => {
  template.resourceCountIs('AWS::Kinesis::Stream', 1);
  template.hasResourceProperties('AWS::Kinesis::Stream', { StreamEncryption: { EncryptionType: 'KMS' } });
  expect(Object.keys(template.findResources('AWS::DynamoDB::Table')).length).toBeGreaterThanOrEqual(2);
  // the escalation workflow and the sharded linkage's state machine
  template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
  template.resourceCountIs('AWS::Events::EventBus', 1);
  // the existing stage gets the access-log format through UpdateStage
  const updateStage = template.findResources('Custom::DistillGuardStageAccessLog');
  expect(Object.keys(updateStage)).toHaveLength(1);
  expect(JSON.stringify(updateStage)).toContain('a1b2c3d4e5');
});

test("every distill-guard function's code is a bundle shipped in the package (nothing bundled in the consumer's synth)", () => {
  const shipped = new Map<string, string>();
  const bundles = path.join(appDir, 'node_modules', 'distill-guard', 'dist', 'lambdas');
  for (const stage of fs.readdirSync(bundles)) {
    for (const name of fs.readdirSync(path.join(bundles, stage)))
      shipped.set(sha256(path.join(bundles, stage, name, 'index.js')), `${stage}/${name}`);
  }
  const functions = Object.entries<any>(template.findResources('AWS::Lambda::Function')).filter(
    ([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
  );
  expect(functions.length).toBeGreaterThanOrEqual(8);
  const used: string[] = [];
  for (const [id, r] of functions) {
    expect({ id, handler: r.Properties.Handler, runtime: r.Properties.Runtime }).toEqual({ id, handler: 'index.handler', runtime: 'nodejs22.x' });
    const assetDir = path.join(cdkOut, `asset.${String(r.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    const bundle = shipped.get(sha256(path.join(assetDir, 'index.js')));
    expect({ id, bundle: bundle !== undefined }).toEqual({ id, bundle: true });
    used.push(bundle!);
  }
  // each function its own handler (no two functions of this app share one)
  expect(new Set(used).size).toBe(functions.length);
});
