import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'distill-guard.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-sim-cli-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('distill-guard simulate', () => {
  test('writes logs, usage, labels and meta', () => {
    const out = path.join(dir, 'traffic');
    const r = run(['simulate', '--out', out, '--scale', 'small', '--days', '1', '--organic', '20', '--seed', '3', '--no-gzip']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/simulated \d+ requests/);
    for (const f of ['logs.jsonl', 'usage.jsonl', 'labels.json', 'meta.json']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    const first = JSON.parse(fs.readFileSync(path.join(out, 'logs.jsonl'), 'utf8').split('\n')[0]) as Record<string, unknown>;
    expect(Object.values(first).every((v) => typeof v === 'string')).toBe(true);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'meta.json'), 'utf8')) as { seed: string; days: number };
    expect(meta).toMatchObject({ seed: '3', days: 1 });
  });

  test('rejects a bad variant with a clear message', () => {
    const r = run(['simulate', '--out', path.join(dir, 'x'), '--variant', 'sneaky']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--variant must be base, evasive or adaptive, got "sneaky"');
  });
});

describe('distill-guard eval', () => {
  test('scores existing traffic and writes the worst-world tables with targets', () => {
    const data = path.join(dir, 'traffic'); // from the simulate test above (plain .jsonl)
    if (!fs.existsSync(data)) {
      run(['simulate', '--out', data, '--scale', 'small', '--days', '1', '--organic', '20', '--seed', '3', '--no-gzip']);
    }
    const results = path.join(dir, 'results.md');
    const r = run(['eval', '--data', data, '--results', results, '--no-logs-only']);
    expect(r.status).toBe(0);
    const md = fs.readFileSync(results, 'utf8');
    expect(md).toContain('| target | worst world | result |');
    expect(md).toContain('## Worst world: access logs + usage events');
    expect(md).toContain('| organic kind | accounts (min-max) | worst review+ | world | worst suspended | world |');
    expect(md).toContain('| cot_harvest |');
    expect(md).toContain('## Why organic accounts were flagged (logs + usage)');
    expect(md).toMatch(/\| base s3 \| logs\+usage \|/);
    expect(md).toContain('Tuning seeds: 1, 2, 3');
    expect(r.stdout).toContain('# distill-guard detection results');
  });

  test('rejects an unknown variant and a missing foreign validation folder with clear messages', () => {
    const v = run(['eval', '--variants', 'base,sneaky', '--results', path.join(dir, 'x.md')]);
    expect(v.status).not.toBe(0);
    expect(v.stderr).toMatch(/--variants accepts base,evasive(,[a-z]+)*, got "sneaky"/);
    const f = run(['eval', '--foreign', '--foreign-dir', path.join(dir, 'no-such-dir'), '--results', path.join(dir, 'x.md')]);
    expect(f.status).not.toBe(0);
    expect(f.stderr).toContain('the foreign validation (foreign-traffic.mjs and score.mjs) was not found');
  });
});
