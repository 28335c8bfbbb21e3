import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError, deprecationNotice } from '../usage';
import type { ReplayReport } from '../../src/shared/contract';
import { simulate } from '../../sim';
import { LogScan, addRecord, computeMetrics, emptyScan, inferNewModel, scanLogs, volumeBaseline } from '../../sim/eval';
import {
  ForeignScore,
  Group,
  MODES,
  Mode,
  STRONG_SIGNAL,
  TARGETS,
  WorldScore,
  checkTargets,
  failedWorld,
  kindFrom,
  mergeReasons,
  organicReasons,
  renderReasons,
  renderSignals,
  renderTargets,
  renderWorlds,
  renderWorst,
  signalCounts,
  worldFromForeign,
  worldFromMetrics,
  worldName,
} from '../../sim/eval-worst';
import { VARIANTS, type Labels, type Scale, type Variant } from '../../sim/types';

const ROOT = path.resolve(__dirname, '..', '..');
/** Per checkout, so that two checkouts evaluating on one machine do not overwrite each other's worlds. */
const DEFAULT_WORK = path.join(os.tmpdir(), `distill-guard-eval-${createHash('sha1').update(ROOT).digest('hex').slice(0, 8)}`);

/** The simulator's variants that eval accepts and runs by default: all of them (sim/types.ts). */
const SIM_VARIANTS: readonly Variant[] = VARIANTS;
/** The foreign validation generator's variants. */
const FOREIGN_VARIANTS = ['base', 'evasive'] as const;

const DEFAULT_SEEDS = '111,112,113,114,115';
const DEFAULT_FOREIGN_SEEDS = '211,212,213';
const DEFAULT_TUNE_SEEDS = '1,2,3,101,102,103,104,105,106';
/** Foreign generator seeds looked at while tuning (report seeds must avoid them). */
const DEFAULT_FOREIGN_TUNE_SEEDS = '11,12,201,202,203,204,205,206,207,208,209';

interface EvalOptions {
  scale: string;
  seeds?: string;
  tuneSeeds: string;
  foreignTuneSeeds: string;
  variants?: string;
  jobs: number;
  work: string;
  results?: string;
  volumeLimit: number;
  data?: string;
  logsOnly: boolean;
  strict?: boolean;
  reuse: boolean;
  organic?: number;
  days?: number;
  foreign: boolean;
  foreignDir?: string;
  foreignScale: number;
}

// ----------------------------------------------------------------------------------------------------------
// Child processes and a small job pool
// ----------------------------------------------------------------------------------------------------------

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  error?: string;
}

function runChild(cmd: string, args: string[], cwd: string): Promise<ChildRun> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout = (stdout + d.toString()).slice(-1_000_000);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
    child.on('error', (e) => resolve({ code: null, stdout, stderr, seconds: 0, error: e.message }));
  });
}

const tail = (s: string): string => s.trim().split('\n').slice(-3).join(' ');

interface ReplayRun {
  report: ReplayReport | null;
  seconds: number;
  error?: string;
}

/** Run `distill-guard replay` as a child process, exactly as a user would. */
async function runReplay(logs: string, usage: string | undefined, out: string): Promise<ReplayRun> {
  const args = [path.join(ROOT, 'bin', 'distill-guard.js'), 'replay', '--logs', logs, ...(usage ? ['--usage', usage] : []), '--out', out];
  const r = await runChild(process.execPath, args, ROOT);
  if (r.error) return { report: null, seconds: r.seconds, error: r.error };
  if (r.code !== 0) return { report: null, seconds: r.seconds, error: `replay exited ${r.code}: ${tail(r.stderr)}` };
  try {
    return { report: JSON.parse(fs.readFileSync(out, 'utf8')) as ReplayReport, seconds: r.seconds };
  } catch (e) {
    return { report: null, seconds: r.seconds, error: `unreadable report ${out}: ${(e as Error).message}` };
  }
}

/** At most `n` jobs at a time; higher priority first, then first come first served. */
class Pool {
  private running = 0;
  private readonly queue: Array<{ prio: number; seq: number; go: () => void }> = [];
  private seq = 0;
  constructor(private readonly n: number) {}
  async run<T>(prio: number, job: () => Promise<T>): Promise<T> {
    if (this.running >= this.n) {
      await new Promise<void>((go) => {
        this.queue.push({ prio, seq: this.seq++, go });
        this.queue.sort((a, b) => b.prio - a.prio || a.seq - b.seq);
      });
    } else this.running++;
    try {
      return await job();
    } finally {
      // hand the slot over on the next turn, so that what the finished job's caller queues next (its replays)
      // competes for it by priority
      setImmediate(() => {
        const next = this.queue.shift();
        if (next) next.go();
        else this.running--;
      });
    }
  }
}

/** Replays before generation, so that worlds are finished (and their memory freed) before new ones start. */
const PRIO_REPLAY = 1;
const PRIO_GENERATE = 0;

// ----------------------------------------------------------------------------------------------------------
// Simulator worlds
// ----------------------------------------------------------------------------------------------------------

interface SimWorld {
  labels: Labels;
  scan: LogScan;
  newModel: string | null;
  logsPath: string;
  usagePath?: string;
  dir: string;
  variant: string;
  seed: string;
  describe: string;
}

async function generateSim(o: EvalOptions, variant: Variant, seed: string, log: (s: string) => void): Promise<SimWorld> {
  const dir = path.join(o.work, `${o.scale}${o.days ? `-d${o.days}` : ''}${o.organic ? `-o${o.organic}` : ''}-${variant}-seed${seed}`);
  const metaFile = path.join(dir, 'meta.json');
  if (o.reuse && fs.existsSync(metaFile)) {
    const find = (base: string): string | undefined =>
      [`${base}.jsonl.gz`, `${base}.jsonl`].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
    const logsPath = find('logs');
    if (logsPath) {
      const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as {
        newModel?: string;
        accounts?: { organic: number; campaign: number };
        days?: number;
      };
      const scan = await scanLogs(logsPath);
      const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8')) as Labels;
      log(`${variant} s${seed}: reusing ${dir} (${scan.lines.toLocaleString('en-US')} requests)`);
      const describe = meta.accounts ? `${meta.accounts.organic} organic + ${meta.accounts.campaign} campaign accounts, ${meta.days} days` : '';
      return { labels, scan, newModel: meta.newModel ?? inferNewModel(scan), logsPath, usagePath: find('usage'), dir, variant, seed, describe };
    }
  }
  const t0 = Date.now();
  const sim = simulate({ seed, variant, scale: o.scale as Scale, organic: o.organic, days: o.days });
  const scan = emptyScan();
  const res = await sim.writeTo(dir, {
    onEvent: (e) => {
      scan.lines++;
      addRecord(scan, e.log.accountId, Number(e.log.requestTimeEpoch), e.log.path);
    },
  });
  const describe = `${sim.meta.accounts.organic} organic + ${sim.meta.accounts.campaign} campaign accounts, ${sim.meta.days} days`;
  log(
    `${variant} s${seed}: generated ${res.lines.toLocaleString('en-US')} requests (${describe}) in ${((Date.now() - t0) / 1000).toFixed(1)}s -> ${dir}`,
  );
  return { labels: sim.labels, scan, newModel: sim.meta.newModel, logsPath: res.logsPath, usagePath: res.usagePath, dir, variant, seed, describe };
}

function loadDataWorld(dir: string, log: (s: string) => void): Promise<SimWorld> {
  const find = (base: string): string | undefined =>
    [`${base}.jsonl.gz`, `${base}.jsonl`].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  const logsPath = find('logs');
  if (!logsPath) throw new Error(`no logs.jsonl[.gz] in ${dir}`);
  const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8')) as Labels;
  const metaFile = path.join(dir, 'meta.json');
  const meta = fs.existsSync(metaFile)
    ? (JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { newModel?: string; variant?: string; seed?: string })
    : {};
  log(`scanning ${logsPath}`);
  return scanLogs(logsPath).then((scan) => ({
    labels,
    scan,
    newModel: meta.newModel ?? inferNewModel(scan),
    logsPath,
    usagePath: find('usage'),
    dir,
    variant: meta.variant ?? 'data',
    seed: meta.seed ?? path.basename(dir),
    describe: `data from ${dir}`,
  }));
}

/** Replays of one simulator world (with usage, logs only) and the volume baseline, scored with sim/eval.ts. */
async function scoreSimWorld(o: EvalOptions, pool: Pool, w: SimWorld, log: (s: string) => void): Promise<WorldScore[]> {
  const base = { seed: w.seed, variant: w.variant, lines: w.scan.lines };
  const groupOf = (id: string): Group | null => {
    const l = w.labels[id];
    if (!l || !w.scan.firstSeen.has(id)) return null;
    return l.kind === 'organic' ? { side: 'organic', name: String(l.type) } : { side: 'campaign', name: String(l.campaign ?? l.type) };
  };
  const vol = volumeBaseline(w.scan, o.volumeLimit);
  const volScore = worldFromMetrics(computeMetrics(w.labels, vol, w.scan, w.newModel), { ...base, mode: 'volume baseline', replaySeconds: null });
  w.scan.times = new Map(); // only the volume baseline needs them
  const replay = async (mode: Mode): Promise<WorldScore> => {
    const usage = mode === 'logs+usage' ? w.usagePath : undefined;
    const out = path.join(w.dir, mode === 'logs+usage' ? 'report.json' : 'report-logs-only.json');
    const r = await pool.run(PRIO_REPLAY, () => runReplay(w.logsPath, usage, out));
    log(`${worldName(w)} ${mode}: ${r.error ?? `replay done in ${r.seconds.toFixed(1)}s`}`);
    if (!r.report) return failedWorld({ ...base, mode, replaySeconds: r.seconds }, r.error ?? 'no report');
    const m = computeMetrics(w.labels, r.report, w.scan, w.newModel);
    const reasons = organicReasons(r.report, kindFrom(groupOf), worldName(w));
    return worldFromMetrics(m, { ...base, mode, replaySeconds: r.seconds, reasons, signals: signalCounts(r.report, Object.keys(w.labels), groupOf) });
  };
  const modes: Mode[] = o.logsOnly ? ['logs+usage', 'logs only'] : ['logs+usage'];
  return [...(await Promise.all(modes.map(replay))), volScore];
}

// ----------------------------------------------------------------------------------------------------------
// Foreign validation worlds
// ----------------------------------------------------------------------------------------------------------

/** `<repo>/../shared/validation`, also from a git worktree (then relative to the main checkout). */
export function findForeignDir(explicit: string | undefined): string {
  const candidates = explicit ? [path.resolve(explicit)] : [path.resolve(ROOT, '..', 'shared', 'validation')];
  if (!explicit) {
    try {
      const git = fs.readFileSync(path.join(ROOT, '.git'), 'utf8'); // a worktree: "gitdir: <main>/.git/worktrees/<name>"
      const m = /^gitdir:\s*(.+?)[\\/]\.git[\\/]worktrees[\\/]/m.exec(git);
      if (m) candidates.push(path.resolve(m[1], '..', 'shared', 'validation'));
    } catch {
      // a plain checkout: .git is a directory
    }
  }
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'foreign-traffic.mjs')) && fs.existsSync(path.join(d, 'score.mjs')));
  if (!dir) {
    throw new Error(
      `the foreign validation (foreign-traffic.mjs and score.mjs) was not found in ${candidates.join(' or ')}; ` +
        'it lives outside this repository, next to it in ../shared/validation. Pass --foreign-dir DIR to point at it.',
    );
  }
  return dir;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of fs.createReadStream(file)) {
    const b = chunk as Buffer;
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  }
  return n;
}

async function foreignWorld(
  o: EvalOptions,
  dirF: string,
  pool: Pool,
  variant: string,
  seed: string,
  log: (s: string) => void,
): Promise<WorldScore[]> {
  const out = path.join(o.work, `foreign-x${o.foreignScale}-${variant}-seed${seed}`);
  const truthFile = path.join(out, 'truth.json');
  const logsPath = path.join(out, 'logs.jsonl');
  const usagePath = path.join(out, 'usage.jsonl');
  const name = `${variant} s${seed}`;
  const modes: Mode[] = o.logsOnly ? ['logs+usage', 'logs only'] : ['logs+usage'];
  const fail = (error: string, lines: number | null = null): WorldScore[] =>
    modes.map((mode) => failedWorld({ seed, variant, mode, lines, replaySeconds: null }, error));
  type Truth = { accounts: Record<string, string>; stats: Record<string, unknown> };
  const gen = await pool.run(PRIO_GENERATE, async (): Promise<{ error: string } | { lines: number; truth: Truth }> => {
    if (!(o.reuse && fs.existsSync(truthFile) && fs.existsSync(logsPath) && fs.existsSync(usagePath))) {
      const args = [path.join(dirF, 'foreign-traffic.mjs'), out, '--seed', seed, '--variant', variant, '--scale', String(o.foreignScale)];
      const g = await runChild(process.execPath, args, dirF);
      if (g.code !== 0) return { error: `foreign-traffic.mjs exited ${g.code}: ${g.error ?? tail(g.stderr)}` };
      log(`${name}: generated in ${g.seconds.toFixed(1)}s -> ${out} ${tail(g.stderr).slice(0, 300)}`);
    } else log(`${name}: reusing ${out}`);
    return { lines: await countLines(logsPath), truth: JSON.parse(fs.readFileSync(truthFile, 'utf8')) as Truth };
  });
  if ('error' in gen) return fail(gen.error);
  const { lines, truth } = gen;
  const groupOf = (id: string): Group | null => {
    const l = truth.accounts[id];
    if (!l || !truth.stats[id]) return null;
    if (l.startsWith('organic:')) return { side: 'organic', name: l.slice('organic:'.length) };
    return l.startsWith('campaign:') ? { side: 'campaign', name: l.slice('campaign:'.length) } : null;
  };
  const one = async (mode: Mode): Promise<WorldScore> => {
    const report = path.join(out, mode === 'logs+usage' ? 'report.json' : 'report-logs-only.json');
    const base = { seed, variant, mode, lines };
    return pool.run(PRIO_REPLAY, async () => {
      const r = await runReplay(logsPath, mode === 'logs+usage' ? usagePath : undefined, report);
      if (!r.report) {
        log(`${name} ${mode}: ${r.error}`);
        return failedWorld({ ...base, replaySeconds: r.seconds }, r.error ?? 'no report');
      }
      // the validation's own scorer: its figures are reported as they are
      const s = await runChild(process.execPath, [path.join(dirF, 'score.mjs'), truthFile, report], dirF);
      let score: ForeignScore;
      try {
        if (s.code !== 0) throw new Error(`exited ${s.code}: ${s.error ?? tail(s.stderr)}`);
        score = JSON.parse(s.stdout.trim().split('\n').pop() ?? '') as ForeignScore;
      } catch (e) {
        return failedWorld({ ...base, replaySeconds: r.seconds }, `score.mjs: ${(e as Error).message}`);
      }
      fs.writeFileSync(report.replace(/\.json$/, '.score.json'), `${JSON.stringify(score)}\n`);
      log(`${name} ${mode}: replay done in ${r.seconds.toFixed(1)}s`);
      const reasons = organicReasons(r.report, kindFrom(groupOf), name);
      return worldFromForeign(score, {
        ...base,
        replaySeconds: r.seconds,
        reasons,
        signals: signalCounts(r.report, Object.keys(truth.accounts), groupOf),
      });
    });
  };
  return Promise.all(modes.map(one));
}

// ----------------------------------------------------------------------------------------------------------
// The command
// ----------------------------------------------------------------------------------------------------------

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function machine(): string {
  const cpus = os.cpus();
  const load = os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}; load average at the end ${load}`;
}

/** The command line as a reader would type it (local paths left out). */
function commandLine(): string {
  const args: string[] = [];
  const argv = process.argv.slice(3);
  const paths = ['--results', '--work', '--foreign-dir', '--data'];
  for (let i = 0; i < argv.length; i++) {
    if (paths.includes(argv[i])) i++;
    else if (!paths.some((p) => argv[i].startsWith(`${p}=`))) args.push(argv[i]);
  }
  return `npm run eval${args.length ? ` -- ${args.join(' ')}` : ''}`;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description(
      'generate independent worlds (several seeds, every variant), replay each with and without usage events, score them ' +
        'against the ground truth and report the worst world per organic kind and per campaign',
    )
    .addOption(new Option('--scale <s>', 'simulator size').choices(['small', 'medium']).default('medium'))
    .option('--seeds <list>', `report seeds, comma-separated (default ${DEFAULT_SEEDS}; with --foreign ${DEFAULT_FOREIGN_SEEDS})`)
    .option(
      '--tune-seeds <list>',
      'the simulator seeds detection thresholds were tuned on (printed in the header; report seeds should avoid them)',
      DEFAULT_TUNE_SEEDS,
    )
    .option(
      '--foreign-tune-seeds <list>',
      'the foreign generator seeds looked at while tuning (printed in the header; report seeds should avoid them)',
      DEFAULT_FOREIGN_TUNE_SEEDS,
    )
    .option('--variants <list>', `comma-separated (default: ${SIM_VARIANTS.join(',')}; with --foreign ${FOREIGN_VARIANTS.join(',')})`)
    .option('--jobs <n>', 'generators and replays run at the same time', (v) => parseIntArg('--jobs', v), 2)
    .option('--organic <n>', 'organic accounts (default: the scale preset)', (v) => parseIntArg('--organic', v))
    .option('--days <d>', 'days of traffic (default: the scale preset)', (v) => parseIntArg('--days', v))
    .option('--work <dir>', 'where generated worlds and reports go', DEFAULT_WORK)
    .option('--reuse', 'reuse worlds already generated under --work (same scale, variant and seed) instead of regenerating', false)
    .option(
      '--results <file>',
      'markdown results file (default <work>/eval-results.md; with --foreign <work>/eval-foreign.md); the committed snapshots are written only when asked: --results docs/eval-results.md',
    )
    .option('--volume-limit <n>', 'requests per rolling 24h for the volume baseline', (v) => parseIntArg('--volume-limit', v), 2000)
    .addOption(
      new Option('--data <dir>', 'score existing traffic (logs.jsonl[.gz], usage.jsonl[.gz], labels.json) instead of generating').conflicts([
        'foreign',
        'seeds',
        'variants',
        'reuse',
      ]),
    )
    .option('--no-logs-only', 'skip the access-logs-only replays')
    .option('--foreign', 'use the independent validation generator and scorer (../shared/validation) instead of the simulator', false)
    .option('--foreign-dir <dir>', 'where foreign-traffic.mjs and score.mjs are (default <repo>/../shared/validation)')
    .option('--foreign-scale <f>', 'size factor for foreign-traffic.mjs', parseScale, 0.25)
    .option('--json', 'print the target checks and per-world figures as JSON on stdout instead of the markdown')
    // Missing a target always fails the run now; the old switch is accepted with a notice.
    .addOption(new Option('--strict').hideHelp())
    .action(async (o: EvalOptions & { json?: boolean }, cmd: Command) => {
      const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      if (!o.foreign && (given('foreignDir') || given('foreignScale') || given('foreignTuneSeeds')))
        throw new UsageError('--foreign-dir, --foreign-scale and --foreign-tune-seeds apply only with --foreign');
      if (o.strict) deprecationNotice('--strict', 'nothing: eval exits 1 whenever a target is missed');
      const allowed: readonly string[] = o.foreign ? FOREIGN_VARIANTS : SIM_VARIANTS;
      const variants = list(o.variants ?? allowed.join(','));
      for (const v of variants) if (!allowed.includes(v)) throw new UsageError(`--variants accepts ${allowed.join(',')}, got ${JSON.stringify(v)}`);
      const seeds = list(o.seeds ?? (o.foreign ? DEFAULT_FOREIGN_SEEDS : DEFAULT_SEEDS));
      const tuneSeeds = list(o.tuneSeeds);
      if (seeds.length === 0 || variants.length === 0) throw new UsageError('--seeds and --variants must not be empty');
      const foreignDir = o.foreign ? findForeignDir(o.foreignDir) : undefined;
      const results = o.results ?? path.join(o.work, o.foreign ? 'eval-foreign.md' : 'eval-results.md');
      const log = (s: string): void => void process.stderr.write(`[eval] ${s}\n`);
      const pool = new Pool(o.jobs);
      // worlds in flight (generated, not yet scored): bounds disk, memory and how far generation runs ahead
      const inFlight = new Pool(o.jobs + 1);
      const started = Date.now();

      let worlds: WorldScore[];
      const describe: string[] = [];
      if (o.data) {
        const w = await loadDataWorld(o.data, log);
        describe.push(`${worldName(w)}: ${w.scan.lines.toLocaleString('en-US')} requests, ${w.describe}`);
        worlds = await scoreSimWorld(o, pool, w, log);
      } else if (foreignDir) {
        const runs = seeds.flatMap((seed) => variants.map((v) => inFlight.run(0, () => foreignWorld(o, foreignDir, pool, v, seed, log))));
        worlds = (await Promise.all(runs)).flat();
      } else {
        // the simulator runs in this process: one generation at a time, replays (child processes) alongside
        let genChain: Promise<unknown> = Promise.resolve();
        const runs = seeds.flatMap((seed) =>
          variants.map((variant) =>
            inFlight.run(0, async () => {
              const gen = genChain.then(() => pool.run(PRIO_GENERATE, () => generateSim(o, variant as Variant, seed, log)));
              genChain = gen.catch(() => undefined);
              const w = await gen;
              describe.push(`${worldName(w)}: ${w.scan.lines.toLocaleString('en-US')} requests, ${w.describe}`);
              return scoreSimWorld(o, pool, w, log);
            }),
          ),
        );
        worlds = (await Promise.all(runs)).flat();
      }
      const order = (w: WorldScore): string =>
        `${variants.indexOf(w.variant)} ${String(seeds.indexOf(w.seed)).padStart(4, '0')} ${MODES.indexOf(w.mode)}`;
      worlds.sort((a, b) => order(a).localeCompare(order(b)));

      const md = renderResults({
        o,
        worlds,
        seeds,
        variants,
        tuneSeeds,
        describe: describe.sort(),
        foreignDir,
        minutes: (Date.now() - started) / 60_000,
      });
      const checks = checkTargets(worlds);
      process.stdout.write(o.json ? `${JSON.stringify({ results, checks, worlds }, null, 1)}\n` : `${md}\n`);
      fs.mkdirSync(path.dirname(results), { recursive: true });
      fs.writeFileSync(results, md);
      log(`results written to ${results}`);
      const missed = missedTargets(checks);
      if (missed) throw new Error(`${missed}; results in ${results}`);
    });
}

/** One line naming the targets a run missed (a failed world counts), or undefined when every target was met. */
export function missedTargets(checks: ReadonlyArray<{ target: string; pass: boolean | null }>): string | undefined {
  const missed = checks.filter((c) => c.pass === false);
  return missed.length ? `${missed.length} of ${checks.length} targets missed: ${missed.map((c) => c.target).join('; ')}` : undefined;
}

function renderResults(a: {
  o: EvalOptions;
  worlds: WorldScore[];
  seeds: string[];
  variants: string[];
  tuneSeeds: string[];
  describe: string[];
  foreignDir?: string;
  minutes: number;
}): string {
  const { o, worlds } = a;
  const checks = checkTargets(worlds);
  const modes = MODES.filter((m) => worlds.some((w) => w.mode === m));
  const foreignTune = list(o.foreignTuneSeeds);
  const overlap = a.seeds.filter((s) => (a.foreignDir ? foreignTune : a.tuneSeeds).includes(s));
  const overlapNote = overlap.length
    ? ` — **${overlap.join(', ')} ${overlap.length > 1 ? 'were' : 'was'} looked at while tuning: these figures do not measure generalisation.**`
    : ' (not looked at while tuning, so these figures measure generalisation).';
  const source = a.foreignDir
    ? `Traffic from the independent validation generator \`../shared/validation/foreign-traffic.mjs\` (scale ${o.foreignScale}), not the project ` +
      'simulator; every figure below (except the reason and signal breakdowns, read from the replay report) is the output of its own `score.mjs`, unmodified. ' +
      'Its "mixed clusters" counts every cluster with more than one label (organic kinds or campaigns).'
    : o.data
      ? `Traffic read from an existing directory (\`--data\`).`
      : `Traffic from the project simulator (docs/simulator.md), scale ${o.scale}${o.days ? `, ${o.days} days` : ''}${o.organic ? `, ${o.organic} organic accounts` : ''}.`;
  const seedsLine = a.foreignDir
    ? `**Seeds.** Detection thresholds were tuned on simulator seeds ${a.tuneSeeds.join(', ')} and looked at on the foreign generator's ` +
      `seeds ${foreignTune.join(', ')} ("tuning" seeds). This report uses the foreign generator's seeds ${a.seeds.join(', ')} ("report" seeds)` +
      overlapNote
    : `**Seeds.** Tuning seeds: ${a.tuneSeeds.join(', ')} (detection thresholds were tuned on these). Report seeds: ${a.seeds.join(', ')}` +
      overlapNote;
  const parts: string[] = [
    a.foreignDir ? '# distill-guard detection results: foreign validation traffic' : '# distill-guard detection results',
    '',
    `Produced by \`${commandLine()}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${a.minutes.toFixed(1)} min ` +
      `(${o.jobs} jobs at a time). Machine: ${machine()}. Replay wall times are measured with other jobs running and are inflated when the machine is shared.`,
    '',
    seedsLine,
    '',
    `${source} ${a.variants.length} variant(s) (${a.variants.join(', ')}) x ${a.seeds.length} seed(s); each world is replayed ` +
      `(\`distill-guard replay\`, a child process) with access logs and usage events${o.logsOnly ? ' and with access logs only' : ''}. ` +
      'Every table below reports the WORST world, not the mean: for an organic kind the world with the highest review+ rate and the most suspensions; ' +
      'for a campaign the lowest recall and the slowest median latency. "review+" means review or suspend; only accounts that sent traffic count; ' +
      'latency is in log time. Ground truth is read only by this command.',
    '',
    '## Targets (checked on the worst world)',
    '',
    renderTargets(checks),
    '',
    `Overall: ${checks.some((c) => c.pass === false) ? '**some targets not met**' : 'every measurable target met'}.`,
    '',
  ];
  for (const mode of modes) {
    const ws = worlds.filter((w) => w.mode === mode);
    const title =
      mode === 'logs+usage'
        ? 'access logs + usage events'
        : mode === 'logs only'
          ? 'access logs only'
          : `baseline: suspend above ${o.volumeLimit} requests per rolling 24 h (no replay)`;
    parts.push(`## Worst world: ${title}`, '', renderWorst(ws), '');
  }
  for (const mode of modes.filter((m) => m !== 'volume baseline')) {
    parts.push(
      `## Why organic accounts were flagged (${mode === 'logs+usage' ? 'logs + usage' : 'logs only'})`,
      '',
      "Reason combinations from the report's `accounts[].reasons`, per organic kind, summed over worlds (an account counts once per world).",
      '',
      renderReasons(mergeReasons(worlds.filter((w) => w.mode === mode).map((w) => w.reasons))),
      '',
    );
  }
  for (const mode of modes.filter((m) => m !== 'volume baseline')) {
    parts.push(
      `## Signals strong on organic accounts (${mode === 'logs+usage' ? 'logs + usage' : 'logs only'})`,
      '',
      `Per signal, the accounts whose report \`reasonDetails\` give it a strength of at least ${STRONG_SIGNAL} (strong: the account is at ` +
        'least monitored, whatever the other signals say). Organic: the world with the highest share, and the organic kind and world with the ' +
        `highest share (kinds of at least ${TARGETS.kindMinAccounts} accounts first). Campaign: the world with the lowest share, and the ` +
        'campaign covered best in its worst world. Bold: above the review budget (' +
        `${TARGETS.organicReviewRate * 100}% of organic accounts, ${TARGETS.kindReviewRate * 100}% of a kind). The details are those of the ` +
        "account's highest decision; a signal in shadow mode counts only where another signal put the account in the report.",
      '',
      renderSignals(worlds.filter((w) => w.mode === mode)),
      '',
    );
  }
  parts.push('## Every world', '', renderWorlds(worlds), '');
  if (a.describe.length) parts.push(...a.describe.map((d) => `- ${d}`), '');
  return parts.join('\n');
}

function parseIntArg(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function parseScale(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n <= 10)) throw new InvalidArgumentError(`--foreign-scale must be a number in (0, 10], got ${JSON.stringify(v)}`);
  return n;
}
