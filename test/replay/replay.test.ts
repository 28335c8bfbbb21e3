import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { population, toLog, toUsage } from '../detect/fixtures';
import { replayFiles, InputError } from '../../src/replay/index';
import { validateReplayReport } from '../../src/contract/schemas';
import { progressLine } from '../../cli/commands/replay';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'distill-guard.js');
const dir = mkdtempSync(join(tmpdir(), 'dg-replay-'));

const pop = population({ organic: 60 });
const logs: string[] = [];
const usage: string[] = [];
for (const r of pop.reqs) {
  const l = toLog(r);
  logs.push(JSON.stringify(l));
  if (r.promptClass) usage.push(JSON.stringify(toUsage(r, l)));
}
// Malformed lines in real traffic: not JSON, truncated, a record without an account, an empty line.
logs.splice(50, 0, 'not json at all', '{"requestId":"x","requestTimeEpoch":"17935', JSON.stringify({ ...toLog(pop.reqs[0]), accountId: '-' }), '');
const logsPath = join(dir, 'logs.jsonl');
const usagePath = join(dir, 'usage.jsonl.gz');
writeFileSync(logsPath, logs.join('\n') + '\n');
writeFileSync(usagePath, gzipSync(usage.join('\n') + '\n'));

function cli(args: string[]) {
  return spawnSync(process.execPath, [BIN, 'replay', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}

describe('distill-guard replay (CLI, end to end)', () => {
  const out = join(dir, 'report.json');
  let report: Record<string, any>;

  beforeAll(() => {
    const r = cli(['--logs', logsPath, '--usage', usagePath, '--out', out, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    report = JSON.parse(readFileSync(out, 'utf8'));
  });

  test('writes the contract report shape', () => {
    expect(validateReplayReport(report)).toEqual({ valid: true, errors: [] });
    expect(Array.isArray(report.accounts)).toBe(true);
    expect(Array.isArray(report.clusters)).toBe(true);
    for (const a of report.accounts) {
      expect(typeof a.accountId).toBe('string');
      expect(['allow', 'monitor', 'review', 'suspend']).toContain(a.decision);
      expect(typeof a.score).toBe('number');
      expect(Array.isArray(a.reasons)).toBe(true);
      expect(a.clusterId === null || typeof a.clusterId === 'string').toBe(true);
      expect(a.firstFlaggedAt === null || typeof a.firstFlaggedAt === 'number').toBe(true);
      if (a.decision === 'review' || a.decision === 'suspend') expect(typeof a.firstFlaggedAt).toBe('number');
    }
    for (const c of report.clusters) {
      expect(typeof c.clusterId).toBe('string');
      expect(c.accountIds.length).toBeGreaterThan(1);
      expect(Array.isArray(c.reasons)).toBe(true);
    }
  });

  test('finds the campaign clusters and flags them in log time', () => {
    const byId = new Map(report.accounts.map((a: any) => [a.accountId, a]));
    for (const id of pop.campaign) {
      const a: any = byId.get(id);
      expect(['review', 'suspend']).toContain(a?.decision);
      expect(a.firstFlaggedAt).toBeGreaterThanOrEqual(pop.reqs[0].ts);
      expect(a.firstFlaggedAt).toBeLessThanOrEqual(pop.reqs[pop.reqs.length - 1].ts);
      expect(report.clusters.find((c: any) => c.clusterId === a.clusterId).accountIds).toContain(id);
    }
    // The eval harness extracts on its own (CoT, long outputs): review by design; every other organic account stays below.
    for (const id of pop.organic.filter((x) => !pop.evalHarness.includes(x)))
      expect(['monitor', 'allow']).toContain((byId.get(id) as any)?.decision ?? 'allow');
    expect((byId.get(pop.evalHarness[0]) as any)?.decision).toBe('review');
  });

  test('counts malformed lines by reason instead of failing', () => {
    expect(report.input.linesRead).toBe(logs.length - 1 + usage.length);
    expect(report.input.skippedTotal).toBe(3);
    expect(report.input.skipped['not-json']).toBe(2);
    expect(report.input.emptyLines).toBe(1);
    expect(report.input.usageEvents).toBe(usage.length);
  });

  test('exits non-zero with a clear message on a missing file', () => {
    const r = cli(['--logs', join(dir, 'nope.jsonl'), '--out', join(dir, 'x.json')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read --logs '.*nope\.jsonl': no such file/);
  });

  test('exits non-zero on a .gz file that is not gzip, and on a corrupt gzip stream', () => {
    const fake = join(dir, 'fake.jsonl.gz');
    writeFileSync(fake, 'plain text\n');
    const r = cli(['--logs', fake, '--out', join(dir, 'x.json')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not gzip/);
    const corrupt = join(dir, 'corrupt.jsonl.gz');
    const gz = gzipSync(logs.slice(0, 200).join('\n'));
    writeFileSync(corrupt, gz.subarray(0, Math.floor(gz.length / 2)));
    const r2 = cli(['--logs', corrupt, '--out', join(dir, 'y.json')]);
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toMatch(/corrupt or truncated gzip/);
  });

  test('exits non-zero when the output directory does not exist, or required options are missing', () => {
    const r = cli(['--logs', logsPath, '--out', join(dir, 'missing-dir', 'r.json')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot write --out/);
    const r2 = cli(['--out', join(dir, 'r.json')]);
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toMatch(/--logs/);
  });
});

describe('exit codes scripts can trust', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  test('--version prints the package version and exits 0', () => {
    const r = run(['--version']);
    expect([r.status, r.stdout.trim()]).toEqual([0, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version]);
  });
  test('usage errors exit 2, on stderr: an unknown command, an unknown option, a missing required option', () => {
    for (const args of [['no-such-command'], ['cost', '--no-such-option'], ['replay']]) {
      const r = run(args);
      expect([args.join(' '), r.status]).toEqual([args.join(' '), 2]);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stdout).toBe('');
    }
  });
  test('a bad value is a usage error too (exit 2), one line with the value', () => {
    const r = cli(['--logs', logsPath, '--out', join(dir, 'i.json'), '--interval', 'soon']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/argument 'soon' is invalid/);
  });
  test('a failure while running exits 1 with one line on stderr that shows the value', () => {
    const r = cli(['--logs', logsPath, '--out', join(dir, 'missing-dir', 'r.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/missing-dir/);
  });
});

describe('a script that replays the wrong file is told so', () => {
  test('every line skipped: exit 1, one line naming the file and why; the report is still written', () => {
    const wrong = join(dir, 'usage-as-logs.jsonl');
    writeFileSync(
      wrong,
      usage
        .slice(0, 50)
        .join('\n')
        .replace(/"accountId"/g, '"account"') + '\n',
    );
    const out = join(dir, 'wrong.json');
    const r = cli(['--logs', wrong, '--out', out, '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/every line of --logs '.*usage-as-logs\.jsonl' was skipped \(50 lines: /);
    expect(JSON.parse(readFileSync(out, 'utf8')).input.skippedTotal).toBe(50);
  });

  test('a file of text is the wrong file too', () => {
    const text = join(dir, 'readme.txt');
    writeFileSync(text, 'hello\nworld\n');
    const r = cli(['--logs', text, '--out', join(dir, 'text.json'), '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/every line of --logs '.*readme\.txt' was skipped \(2 lines: not-json 2\)/);
  });

  test('a CloudWatch Logs export (a timestamp before each record) replays like the plain file', async () => {
    const exported = join(dir, 'cwl-export.jsonl.gz');
    const at = (l: string) => {
      try {
        return new Date(Number(JSON.parse(l).requestTimeEpoch)).toISOString();
      } catch {
        return '2026-11-02T00:00:00.000Z'; // the malformed lines keep a prefix too
      }
    };
    const lines = logs.map((l) => (l === '' ? l : `${at(l)} ${l}`));
    writeFileSync(exported, gzipSync(lines.join('\n') + '\n'));
    const [plain, cwl] = await Promise.all([replayFiles({ logs: logsPath }), replayFiles({ logs: exported })]);
    expect(cwl.input!.requests).toBe(plain.input!.requests);
    expect(cwl.input!.skippedTotal).toBe(plain.input!.skippedTotal);
    expect(cwl.accounts).toEqual(plain.accounts);
  });

  test('--json prints the summary on stdout', () => {
    const r = cli(['--logs', logsPath, '--out', join(dir, 'j.json'), '--quiet', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ out: join(dir, 'j.json'), input: { skippedTotal: 3 }, summary: { accountsSeen: expect.any(Number) } });
  });

  test('progress: a share of the bytes read, with an ETA', () => {
    expect(progressLine({ linesRead: 1234567, clock: Date.UTC(2026, 10, 3, 4), bytesRead: 25e6, bytesTotal: 100e6 }, 30_000)).toBe(
      'replay: 25% of 100 MB, ETA 1m30s, log time 2026-11-03T04:00Z, 1,234,567 lines',
    );
    expect(progressLine({ linesRead: 0, clock: 0, bytesRead: 0, bytesTotal: 10 }, 0)).toMatch(/^replay: 0% of 0\.0 MB, ETA -,/);
  });
});

describe('replayFiles (library)', () => {
  test('access logs alone still work (no usage file)', async () => {
    const report = await replayFiles({ logs: logsPath });
    expect(report.input!.usageEvents).toBe(0);
    const ids = new Set(report.accounts.filter((a) => a.decision === 'review' || a.decision === 'suspend').map((a) => a.accountId));
    // Without usage events there is no CoT evidence: the pivoting cluster is what access logs alone show.
    for (const id of pop.pivotCampaign) expect(ids.has(id)).toBe(true);
    for (const id of pop.organic) expect(ids.has(id)).toBe(false);
  });

  test('rejects unreadable input with InputError', async () => {
    await expect(replayFiles({ logs: dir })).rejects.toBeInstanceOf(InputError);
  });
});
