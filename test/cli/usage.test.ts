/**
 * The CLI as scripts see it, without any pipeline: every argument check is a usage error (exit 2, one line on
 * stderr with the value received) found before any network call; the target is explicit while a local runtime is
 * running; renamed flags and commands still work with a notice; the SDK's Node-version notice never prints.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'distill-guard.js');
/** Any AWS call fails at once: a closed local port, dummy credentials, no instance metadata. */
const OFFLINE = {
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_ACCESS_KEY_ID: 'AKIAOFFLINE',
  AWS_SECRET_ACCESS_KEY: 'offline',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_MAX_ATTEMPTS: '1',
};

function run(args: string[], cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-usage-'))) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...OFFLINE };
  delete env.NODE_NO_WARNINGS;
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  delete env.AWS_PROFILE;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('argument checks are usage errors, before any connection', () => {
  const cases: Array<[string[], RegExp]> = [
    [['review', 'list', '--state', 'bogus'], /argument 'bogus' is invalid.*got 'bogus'/],
    [['review', 'list', '--sort', 'size'], /argument 'size' is invalid/],
    [['review', 'list', '--decision', 'ban'], /argument 'ban' is invalid/],
    [['review', 'approve', 'c-1', '--reason', 'r', '--step', 'ban'], /argument 'ban' is invalid/],
    [['review', 'shadow', 'maybe'], /value 'maybe' is invalid/],
    [['cluster', 'list', '--state', 'closed'], /argument 'closed' is invalid/],
    [['cluster', 'decide', 'c.g1', '--reason', 'r', '--approve', '--exclude', 'acct-x'], /argument 'acct-x' is invalid.*ACCOUNT:REASON/],
    [['cluster', 'decide', 'c.g1', '--reason', 'r', '--approve', '--reject'], /cannot be used with/],
    [['cluster', 'decide', 'c.g1', '--reason', 'r'], /--approve or --reject/],
    [['allowlist', 'add', 'a', '--owner', 'o', '--reason', 'r', '--expires', 'someday'], /argument 'someday' is invalid/],
    [['audit', 'list', '--limit', '0'], /argument '0' is invalid/],
    [['audit', 'list', '--since', 'last week'], /got 'last week'/],
    [['restrict', 'a', '--reason', 'r', '--duration-hours', '99999'], /argument '99999' is invalid/],
    [['console', '--port', '70000'], /argument '70000' is invalid/],
    [['events', 'tail', '--detail-type', 'Account Banned'], /argument 'Account Banned' is invalid/],
    [['events', 'tail', '--max', 'x'], /argument 'x' is invalid/],
    [['events', 'redeliver', '--from', 'yesterday'], /got "yesterday"/],
    [['events', 'redeliver', '--from', '1h', '--local'], /no archive/],
    [['review', 'list', '--local', '--region', 'us-east-1'], /'--local' cannot be used with option '--region/],
    [['simulate', '--out', 'x', '--variant', 'sneaky'], /argument 'sneaky' is invalid/],
    [['simulate', '--out', 'x', '--seed', ''], /argument '' is invalid/],
    [['replay', '--logs', 'l', '--out', 'o', '--interval', '0'], /argument '0' is invalid/],
    [['eval', '--scale', 'huge'], /argument 'huge' is invalid/],
    [['bench', '--events', '-1'], /argument '-1' is invalid/],
    [['local', '--seed', ''], /argument '' is invalid/],
  ];
  test.each(cases)('%j', (args, message) => {
    const r = run(args);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/is deprecated/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toMatch(message);
    // Refused before connecting: nothing about stacks, regions or credentials.
    expect(r.stderr).not.toMatch(/describe stack|credentials|ECONNREFUSED/i);
  });
});

describe('the target is explicit', () => {
  const withLocal = () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-target-'));
    fs.mkdirSync(path.join(cwd, '.local'));
    fs.writeFileSync(path.join(cwd, '.local', 'endpoints.json'), JSON.stringify({ version: 1, region: 'us-east-1', endpoints: {}, resources: {} }));
    return cwd;
  };
  test.each([[['review', 'list']], [['breaker', 'status']], [['events', 'cleanup']]])(
    '%j with a local runtime running and no target is a usage error naming both',
    (args) => {
      const r = run(args, withLocal());
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(
        /^error: a local runtime is running \(\.local\/endpoints\.json\) but no target was given: pass --local for it, or --stack\/--region\/--profile for AWS/,
      );
    },
  );
  test('AWS_REGION alone does not pick AWS over a running local runtime', () => {
    expect(run(['review', 'list'], withLocal()).code).toBe(2); // AWS_REGION is set in OFFLINE
  });
  test('--region picks AWS even when a local runtime is running (and the SDK notice never prints)', () => {
    const r = run(['review', 'list', '--region', 'us-east-1', '--stack', 'Nope'], withLocal());
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot describe stack Nope/);
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|Warning/);
  });
});

describe('renamed flags and commands keep working, with a one-line notice', () => {
  test('events replay is events redeliver', () => {
    const r = run(['events', 'replay', '--from', '1h', '--local']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^distill-guard: events replay is deprecated, use events redeliver\n/);
  });
  test('events --state is --endpoints', () => {
    const r = run(['events', 'cleanup', '--state', '/nonexistent/endpoints.json']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'distill-guard: --state is deprecated, use --endpoints',
      expect.stringContaining('no local session state at /nonexistent/endpoints.json'),
    ]);
  });
  test('review approve --action is --step', () => {
    const r = run(['review', 'approve', 'c-1', '--reason', 'r', '--action', 'ban']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^distill-guard: --action is deprecated, use --step\n/);
  });
  test('hidden aliases stay out of --help', () => {
    expect(run(['events', '--help']).stdout).not.toMatch(/^\s+replay\b/m);
    expect(run(['review', 'list', '--help']).stdout).not.toMatch(/--reason/);
    expect(run(['review', 'approve', '--help']).stdout).not.toMatch(/--action/);
  });
});

describe('npm start says what to install when java is missing', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { requireJava } = require('../../cli/commands/local') as typeof import('../../cli/commands/local');
  const java = (r: { error?: Error; status?: number | null; stderr?: string }) => () => ({ status: 0, stdout: '', stderr: '', ...r });
  test('not on PATH, or too old: the install command', () => {
    expect(() => requireJava(java({ error: Object.assign(new Error('spawn java ENOENT'), { code: 'ENOENT' }), status: null }))).toThrow(
      /java 17 or later is required for DynamoDB Local and was not found on PATH: install it, e\.g\. apt-get install -y openjdk-17-jre-headless/,
    );
    expect(() => requireJava(java({ stderr: 'java version "1.8.0_392"' }))).toThrow(/found java 8: install it/);
    expect(() => requireJava(java({ stderr: 'openjdk version "11.0.2" 2019-01-15' }))).toThrow(/found java 11/);
  });
  test('java 17 and later pass', () => {
    expect(() => requireJava(java({ stderr: 'openjdk version "17.0.15" 2025-04-15' }))).not.toThrow();
    expect(() => requireJava(java({ stderr: 'openjdk version "21" 2023-09-19' }))).not.toThrow();
  });
  test('the command exits 1 with that line, before cdk synth', () => {
    const r = spawnSync(process.execPath, [BIN, 'local'], {
      cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'dg-java-')),
      env: { ...process.env, PATH: '/nonexistent' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(/^distill-guard: java 17 or later is required for DynamoDB Local and was not found on PATH: install it/);
  });
});

describe('every command answers --help and --json', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildProgram } = require('../../cli/main') as typeof import('../../cli/main');
  type Cmd = ReturnType<typeof buildProgram>;
  const leaves = (c: Cmd, prefix: string[] = []): Array<[string, Cmd]> =>
    c.commands.length ? c.commands.flatMap((s) => leaves(s, [...prefix, s.name()])) : [[prefix.join(' '), c]];
  const all = leaves(buildProgram());
  test('the tree is complete', () => {
    expect(all.map(([n]) => n)).toEqual(
      expect.arrayContaining([
        'replay',
        'simulate',
        'eval',
        'bench',
        'local',
        'review list',
        'review approve',
        'events tail',
        'events redeliver',
        'cost',
        'audit list',
        'signals',
        'console',
      ]),
    );
  });
  test.each(all)('%s has --json and a help text', (_name, cmd) => {
    expect(cmd.options.map((o) => o.long)).toContain('--json');
    expect(cmd.helpInformation()).toMatch(/^Usage: /);
  });
  test.each(['replay', 'review', 'events', 'eval', 'local'])('distill-guard %s --help exits 0 on stdout', (name) => {
    const r = run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: distill-guard /);
    expect(r.stderr).toBe('');
  });
});

describe('no option is accepted and ignored', () => {
  test.each([
    [['cost', '--rps', '10', '--json', '--markdown'], /cannot be used with/],
    [['audit', 'list', '--json', '--csv'], /cannot be used with/],
    [['local', '--rate', '50'], /--rate applies only with --soak/],
    [['local', '--soak', '60', '--hours', '2'], /cannot be used with/],
    [['eval', '--foreign-scale', '0.1'], /apply only with --foreign/],
    [['eval', '--data', 'd', '--seeds', '1'], /cannot be used with/],
    [['review', 'shadow', '--signal', 'x'], /give on or off/],
  ])('%j', (args, message) => {
    const r = run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
  });
});

describe('durations in the tables', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { duration } = require('../../cli/commands/ops-common') as typeof import('../../cli/commands/ops-common');
  test('minutes are rounded once: never 60m', () => {
    expect(duration((23 * 60 + 59.6) * 60_000)).toBe('24h00m');
    expect(duration((2 * 60 + 5) * 60_000)).toBe('2h05m');
    expect(duration(-90 * 60_000)).toBe('-1h30m');
  });
});
