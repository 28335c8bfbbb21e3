/** `distill-guard indicators`: import lists a partner's bundle; bad keys and bad bundles fail with a one-line message. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyProfile } from '../../src/detect/index';
import { buildBundle, summariseCampaign } from '../../src/share';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'distill-guard.js');
const dir = mkdtempSync(join(tmpdir(), 'dg-ind-cli-'));
const KEY = 'a sharing key of enough length';

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, 'indicators', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
}

const members = ['a1', 'a2'].map((id) => {
  const p = emptyProfile(id);
  p.subnets.add('45.1.2.0/24');
  p.templates.add('t-1');
  p.userAgents.add('python-httpx/0.27.2');
  p.firstTs = 1000;
  p.lastTs = 2000;
  return p;
});
const bundlePath = join(dir, 'bundle.json');
writeFileSync(
  bundlePath,
  JSON.stringify(buildBundle([summariseCampaign('c-1', members, KEY)], { producer: 'Provider A', keyId: 'kid-1', now: Date.UTC(2026, 11, 1) })),
);
const keyPath = join(dir, 'key');
writeFileSync(keyPath, KEY);

test('import lists the partner, the campaign, its validity and what it holds', () => {
  const r = cli(['import', bundlePath, '--key-file', keyPath, '--key-id', 'kid-1']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(
    /^Provider A: model-distillation campaign [0-9a-f]{16} \(infrastructure--[0-9a-f-]{36}\), valid until 2026-12-31T00:00:00.000Z: 1 \/24s, 0 hashed \/24s, 1 user agents, 1 hashed templates/,
  );
});

test('a bundle hashed with another key id is refused (exit 1, one line naming both ids)', () => {
  const r = cli(['import', bundlePath, '--key-file', keyPath, '--key-id', 'kid-2']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^distill-guard: indicator indicator--\S+ is hashed with key id "kid-1", the sharing key given is "kid-2"\n$/);
});

test('not a bundle, and export without a key: exit 1 with the value received', () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ type: 'report' }));
  const r = cli(['import', bad]);
  expect(r.status).toBe(1);
  expect(r.stderr).toBe('distill-guard: not a stix bundle: type "report"\n');
  const e = cli(['export', '--logs', bad, '--out', join(dir, 'out.json')], { DISTILL_GUARD_SHARING_KEY: '', DISTILL_GUARD_SHARING_KEY_ID: '' });
  expect(e.status).toBe(1);
  expect(e.stderr).toMatch(/^distill-guard: a sharing key and its id are required .* got key unset, id null\n$/);
});

test('export takes traffic (--logs) or a deployment (--local / --stack), exactly one: else a usage error (exit 2)', () => {
  const env = { DISTILL_GUARD_SHARING_KEY: KEY, DISTILL_GUARD_SHARING_KEY_ID: 'kid-1' };
  const neither = cli(['export', '--out', join(dir, 'o.json')], env);
  expect(neither.status).toBe(2);
  expect(neither.stderr).toMatch(/give --logs FILE to export from traffic, or --local \/ --stack NAME to export from a deployment, got neither/);
  const both = cli(['export', '--logs', bundlePath, '--stack', 'DistillGuard', '--out', join(dir, 'o.json')], env);
  expect(both.status).toBe(2);
  expect(both.stderr).toMatch(/--logs replays files and --stack reads a deployment: give one of them, got both/);
  const mixed = cli(['export', '--local', '--stack', 'DistillGuard', '--out', join(dir, 'o.json')], env);
  expect(mixed.status).toBe(2);
  const missing = cli(['export', '--endpoints', join(dir, 'no-endpoints.json'), '--out', join(dir, 'o.json')], env);
  expect(missing.status).toBe(1);
  expect(missing.stderr).toMatch(/^distill-guard: cannot read local endpoints file .*no-endpoints\.json/);
});
