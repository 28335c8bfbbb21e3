import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { ReplayReport } from '../../src/shared/contract';
import { simulate } from '../../sim';
import {
  Column,
  LogScan,
  RunMetrics,
  TargetCheck,
  addRecord,
  checkTargets,
  computeMetrics,
  emptyScan,
  inferNewModel,
  renderTable,
  renderTargets,
  scanLogs,
  volumeBaseline,
} from '../../sim/eval';
import type { Labels, Scale, Variant } from '../../sim/types';

const ROOT = path.resolve(__dirname, '..', '..');

interface EvalOptions {
  scale: string;
  seeds: string;
  variants: string;
  work: string;
  results: string;
  volumeLimit: number;
  data?: string;
  logsOnly: boolean;
  strict: boolean;
  organic?: number;
  days?: number;
}

interface ReplayRun {
  report: ReplayReport | null;
  seconds: number;
  error?: string;
}

/** Run `distill-guard replay` as a child process, exactly as a user would. */
function runReplay(logs: string, usage: string | undefined, out: string): Promise<ReplayRun> {
  const args = [path.join(ROOT, 'bin', 'distill-guard.js'), 'replay', '--logs', logs, ...(usage ? ['--usage', usage] : []), '--out', out];
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', () => undefined);
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) {
        resolve({ report: null, seconds, error: `replay exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}` });
        return;
      }
      try {
        resolve({ report: JSON.parse(fs.readFileSync(out, 'utf8')) as ReplayReport, seconds });
      } catch (e) {
        resolve({ report: null, seconds, error: `unreadable report ${out}: ${(e as Error).message}` });
      }
    });
    child.on('error', (e) => resolve({ report: null, seconds: 0, error: e.message }));
  });
}

interface VariantResult {
  name: string;
  lines: number;
  accounts: string;
  table: string;
  checks: TargetCheck[];
  replayTimes: string[];
}

async function evalOne(o: EvalOptions, variant: Variant, seed: string, log: (s: string) => void): Promise<VariantResult> {
  let dir: string;
  let labels: Labels;
  let scan: LogScan;
  let logsPath: string;
  let usagePath: string | undefined;
  let newModel: string | null = null;
  let accounts = '';
  if (o.data) {
    dir = o.data;
    const find = (base: string): string | undefined => [`${base}.jsonl.gz`, `${base}.jsonl`].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
    logsPath = find('logs') ?? '';
    if (!logsPath) throw new Error(`no logs.jsonl[.gz] in ${dir}`);
    usagePath = find('usage');
    labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8')) as Labels;
    const metaFile = path.join(dir, 'meta.json');
    if (fs.existsSync(metaFile)) newModel = (JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { newModel?: string }).newModel ?? null;
    log(`scanning ${logsPath}`);
    scan = await scanLogs(logsPath);
    newModel ??= inferNewModel(scan);
  } else {
    dir = path.join(o.work, `${o.scale}-${variant}-seed${seed}`);
    const t0 = Date.now();
    const sim = simulate({ seed, variant, scale: o.scale as Scale, organic: o.organic, days: o.days });
    scan = emptyScan();
    const res = await sim.writeTo(dir, {
      onEvent: (e) => {
        scan.lines++;
        addRecord(scan, e.log.accountId, Number(e.log.requestTimeEpoch), e.log.path);
      },
    });
    labels = sim.labels;
    newModel = sim.meta.newModel;
    logsPath = res.logsPath;
    usagePath = res.usagePath;
    accounts = `${sim.meta.accounts.organic} organic + ${sim.meta.accounts.campaign} campaign accounts, ${sim.meta.days} days`;
    log(`generated ${res.lines.toLocaleString('en-US')} requests (${accounts}) in ${((Date.now() - t0) / 1000).toFixed(1)}s -> ${dir}`);
  }

  log(`replay with usage events ...`);
  const full = await runReplay(logsPath, usagePath, path.join(dir, 'report.json'));
  log(full.error ? `  ${full.error}` : `  done in ${full.seconds.toFixed(1)}s`);
  let logsOnly: ReplayRun | null = null;
  if (o.logsOnly) {
    log(`replay with access logs only ...`);
    logsOnly = await runReplay(logsPath, undefined, path.join(dir, 'report-logs-only.json'));
    log(logsOnly.error ? `  ${logsOnly.error}` : `  done in ${logsOnly.seconds.toFixed(1)}s`);
  }
  const mFull: RunMetrics | null = full.report ? computeMetrics(labels, full.report, scan, newModel) : null;
  const mLogs: RunMetrics | null = logsOnly?.report ? computeMetrics(labels, logsOnly.report, scan, newModel) : null;
  const mVol = computeMetrics(labels, volumeBaseline(scan, o.volumeLimit), scan, newModel);
  const columns: Column[] = [
    { title: 'logs + usage', metrics: mFull, note: full.error ? `replay failed: ${full.error}` : undefined },
    ...(o.logsOnly ? [{ title: 'logs only', metrics: mLogs, note: logsOnly?.error ? `replay failed: ${logsOnly.error}` : undefined }] : []),
    { title: `baseline: volume > ${o.volumeLimit}/24h`, metrics: mVol },
  ];
  const checks = mFull
    ? checkTargets(mFull, mLogs, { lines: scan.lines, seconds: Math.max(full.seconds, logsOnly?.seconds ?? 0) })
    : [{ target: 'replay produced a report', value: full.error ?? 'no report', pass: false }];
  const replayTimes = [
    `replay (logs + usage): ${full.error ? 'failed' : `${full.seconds.toFixed(1)}s`} for ${scan.lines.toLocaleString('en-US')} log lines`,
    ...(logsOnly ? [`replay (logs only): ${logsOnly.error ? 'failed' : `${logsOnly.seconds.toFixed(1)}s`}`] : []),
  ];
  return { name: o.data ? `data ${o.data}` : `${variant}, seed ${seed}`, lines: scan.lines, accounts, table: renderTable(columns), checks, replayTimes };
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('generate traffic (base and evasive), run replay on it, and score the report against the ground truth')
    .option('--scale <s>', 'small | medium', 'medium')
    .option('--seeds <list>', 'comma-separated seeds', '1')
    .option('--variants <list>', 'comma-separated: base,evasive', 'base,evasive')
    .option('--organic <n>', 'organic accounts (default: the scale preset)', (v) => parseIntArg('--organic', v))
    .option('--days <d>', 'days of traffic (default: the scale preset)', (v) => parseIntArg('--days', v))
    .option('--work <dir>', 'where traffic and reports go', path.join(os.tmpdir(), 'distill-guard-eval'))
    .option('--results <file>', 'markdown results file', path.join(ROOT, 'docs', 'eval-results.md'))
    .option('--volume-limit <n>', 'requests per rolling 24h for the volume baseline', (v) => parseIntArg('--volume-limit', v), 2000)
    .option('--data <dir>', 'score existing traffic (logs.jsonl[.gz], usage.jsonl[.gz], labels.json) instead of generating')
    .option('--no-logs-only', 'skip the access-logs-only replay')
    .option('--strict', 'exit non-zero when a target fails')
    .action(async (o: EvalOptions) => {
      if (o.scale !== 'small' && o.scale !== 'medium') throw new Error(`--scale must be small or medium, got ${JSON.stringify(o.scale)}`);
      const variants = o.variants.split(',').map((s) => s.trim()).filter(Boolean);
      for (const v of variants) if (v !== 'base' && v !== 'evasive') throw new Error(`--variants accepts base,evasive, got ${JSON.stringify(v)}`);
      const seeds = o.seeds.split(',').map((s) => s.trim()).filter(Boolean);
      const log = (s: string): void => void process.stderr.write(`[eval] ${s}\n`);
      const results: VariantResult[] = [];
      const runs = o.data ? [['base', 'data']] : seeds.flatMap((seed) => variants.map((v) => [v, seed]));
      for (const [variant, seed] of runs) {
        log(`=== ${o.data ? o.data : `${variant}, seed ${seed}, ${o.scale}`} ===`);
        results.push(await evalOne(o, variant as Variant, seed, log));
      }
      // the command line as a reader would type it (local paths left out)
      const args: string[] = [];
      const argv = process.argv.slice(3);
      for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--results' || argv[i] === '--work') i++;
        else if (!argv[i].startsWith('--results=') && !argv[i].startsWith('--work=')) args.push(argv[i]);
      }
      const cmd = `npm run eval${args.length ? ` -- ${args.join(' ')}` : ''}`;
      const load = os.loadavg().map((x) => x.toFixed(1)).join(' / ');
      const parts: string[] = [
        '# distill-guard detection results',
        '',
        `Produced by \`${cmd}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (${os.cpus().length} cores, Node ${process.version}; ` +
          `load average at the end ${load}: wall times are inflated when the machine is shared). ` +
          'Traffic from the project simulator (docs/simulator.md); the replay is `distill-guard replay` run as a child process; ' +
          'ground truth (labels.json) is read only here. "review+" means the decision was review or suspend. ' +
          'Only accounts that sent traffic count. Latency is in log time.',
        '',
      ];
      let allPass = true;
      for (const r of results) {
        parts.push(`## ${r.name}${r.accounts ? ` (${r.lines.toLocaleString('en-US')} requests; ${r.accounts})` : ''}`, '', r.table, '', '**Targets (issue 3)**', '', renderTargets(r.checks), '');
        parts.push(...r.replayTimes.map((t) => `- ${t}`), '');
        if (r.checks.some((c) => c.pass === false)) allPass = false;
      }
      parts.push(`Overall: ${allPass ? 'every target met' : 'some targets not met'}.`, '');
      const md = parts.join('\n');
      process.stdout.write(`${md}\n`);
      fs.mkdirSync(path.dirname(o.results), { recursive: true });
      fs.writeFileSync(o.results, md);
      log(`results written to ${o.results}`);
      if (o.strict && !allPass) process.exitCode = 1;
    });
}

function parseIntArg(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}
