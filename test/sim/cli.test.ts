import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { missedTargets } from '../../cli/commands/eval';

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
    expect(r.status).toBe(2); // a usage error
    expect(r.stderr).toMatch(/option '--variant <v>' argument 'sneaky' is invalid. Allowed choices are base, evasive, adaptive/);
  });

  test('--json prints the files written and the metadata', () => {
    const out = path.join(dir, 'traffic-json');
    const r = run(['simulate', '--out', out, '--scale', 'small', '--days', '1', '--organic', '5', '--seed', '4', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      logsPath: path.join(out, 'logs.jsonl.gz'),
      lines: expect.any(Number),
      meta: { seed: '4', days: 1 },
    });
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
    // A one-day world of 20 organic accounts misses some targets: the run says which and fails.
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toMatch(
      new RegExp(`^distill-guard: \\d+ of \\d+ targets missed: .+; results in ${results.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
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

  test('writes its results to the work folder, not into docs/; --json prints the checks', () => {
    const data = path.join(dir, 'traffic');
    const work = path.join(dir, 'work');
    const docs = ['eval-results.md', 'eval-foreign.md'].map((f) => path.join(ROOT, 'docs', f));
    const before = docs.map((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null));
    const r = run(['eval', '--data', data, '--work', work, '--no-logs-only', '--json']);
    expect(r.stderr).toContain(`results written to ${path.join(work, 'eval-results.md')}`);
    expect(fs.existsSync(path.join(work, 'eval-results.md'))).toBe(true);
    expect(docs.map((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null))).toEqual(before);
    const j = JSON.parse(r.stdout) as { results: string; checks: Array<{ pass: boolean | null }> };
    expect(j.results).toBe(path.join(work, 'eval-results.md'));
    expect(r.status).toBe(j.checks.some((c) => c.pass === false) ? 1 : 0);
  });

  test('missedTargets: a missed target or a failed world fails the run; unmeasured targets do not', () => {
    expect(
      missedTargets([
        { target: 'a >= 99%', pass: true },
        { target: 'b', pass: null },
      ]),
    ).toBeUndefined();
    expect(
      missedTargets([
        { target: 'a >= 99%', pass: false },
        { target: 'every replay produced a report', pass: false },
        { target: 'c', pass: true },
      ]),
    ).toBe('2 of 3 targets missed: a >= 99%; every replay produced a report');
  });

  test('rejects an unknown variant and a missing foreign validation folder with clear messages', () => {
    const v = run(['eval', '--variants', 'base,sneaky', '--results', path.join(dir, 'x.md')]);
    expect(v.status).toBe(2);
    expect(v.stderr).toMatch(/--variants accepts base,evasive(,[a-z]+)*, got "sneaky"/);
    const f = run(['eval', '--foreign', '--foreign-dir', path.join(dir, 'no-such-dir'), '--results', path.join(dir, 'x.md')]);
    expect(f.status).not.toBe(0);
    expect(f.stderr).toContain('the foreign validation (foreign-traffic.mjs and score.mjs) was not found');
  });
});
