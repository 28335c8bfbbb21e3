/**
 * A distributed detection run at scale: the bench's synthetic population cut into account-id ranges, every child
 * and step of the run in its own process (as one Lambda of the state machine), first one after another, then as
 * many at once as this machine has cores. Prints each stage's child time and peak memory; `--extrapolate` projects
 * the figures to a population too large to hold here (a shard's or partition's work depends on its size, not the
 * population; the three steps, offsets, merge and reduce, grow with it and are projected linearly). `--check`
 * compares every decision with `runDetection` on the whole population. Asserts nothing.
 *
 * The `profiles` children read DynamoDB in AWS; here the parent writes each shard's profiles, and a shard's `decide`
 * child (which holds the same profiles, decoded) stands for their memory.
 *
 *   NODE_OPTIONS=--max-old-space-size=8192 npx tsx bench/detect-scale.ts --sharded --sizes 1000000 --extrapolate 10000000
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_DETECTION_CONFIG } from '../src/detect/config';
import { runDetection } from '../src/detect/index';
import { stageParts } from '../src/detect/linkage/sharded';
import { FileShardStore } from '../src/detect/linkage/sharded/file-store';
import type { AccountProfile } from '../src/detect/profile';
import { profilesInRange } from '../src/detect/sharded-run/in-process';
import { writeShardProfiles } from '../src/detect/sharded-run/records';
import { planRun, sampleIds, type RunPlan } from '../src/detect/sharded-run/stages';
import { pool } from '../lambdas/detect/window-reader';

const HOUR = 3_600_000;
const MB = 1e6;

interface ChildStats {
  stage: string;
  part: number;
  ms: number;
  cpuMs: number;
  peakRssBytes: number;
  heapUsedBytes: number;
}

export interface ShardedScaleOptions {
  seed: number;
  accountsPerShard: number;
  keyPartitionsPerShard: number;
  /** Project the measured figures to this population. */
  extrapolate?: number;
  /** Compare with the single path (costs its time and memory). */
  check: boolean;
  print: (s: string) => void;
}

interface RunChildStats extends ChildStats {
  plan?: RunPlan;
}

function runChild(root: string, planFile: string, stage: string, part: number): Promise<RunChildStats> {
  const script = path.join(__dirname, 'shard-child.ts');
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', script, root, planFile, stage, String(part)], { maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      err ? reject(new Error(`run child ${stage}/${part} failed: ${stderr || err.message}`)) : resolve(JSON.parse(stdout) as RunChildStats),
    ),
  );
}

/** The run's stages after `offsets`, in order: how many children each has. */
const STAGES: [stage: string, parts: (plan: RunPlan) => number][] = [
  ['partition', (p) => p.accountShards],
  ['frequencies', (p) => stageParts(p, 'frequencies')],
  ['index', (p) => p.accountShards],
  ['pairs', (p) => stageParts(p, 'pairs')],
  ['merge', () => 1],
  ['parts', (p) => p.accountShards],
  ['reduce', () => 1],
  ['decide', (p) => p.accountShards],
];
const STEPS = new Set(['offsets', 'merge', 'reduce']);

/** `offsets`, then every stage's children `concurrency` at a time; their stats, the plan and the wall time. */
async function runStages(root: string, plan: RunPlan, concurrency: number): Promise<{ children: ChildStats[]; plan: RunPlan; wallMs: number }> {
  const t0 = performance.now();
  const first = path.join(root, 'plan.json');
  writeFileSync(first, JSON.stringify(plan));
  const offsets = await runChild(root, first, 'offsets', 0);
  const run = offsets.plan!;
  const planFile = path.join(root, 'run-plan.json');
  writeFileSync(planFile, JSON.stringify(run));
  const children: ChildStats[] = [{ ...offsets, plan: undefined } as ChildStats];
  for (const [stage, parts] of STAGES) {
    const items = Array.from({ length: parts(run) }, (_, k) => k);
    await pool(items, concurrency, async (part) => void children.push(await runChild(root, planFile, stage, part)));
  }
  return { children, plan: run, wallMs: performance.now() - t0 };
}

function stageRows(children: ChildStats[], print: (s: string) => void): void {
  print('  stage       | children | max child s | work s (sum) | process CPU s | max peak RSS MB | max heap MB');
  for (const stage of ['offsets', ...STAGES.map(([s]) => s)]) {
    const mine = children.filter((c) => c.stage === stage);
    const max = (f: (c: ChildStats) => number) => Math.max(...mine.map(f));
    const sum = (f: (c: ChildStats) => number) => mine.reduce((s, c) => s + f(c), 0);
    const cells = [
      String(mine.length).padStart(8),
      (max((c) => c.ms) / 1000).toFixed(1).padStart(11),
      (sum((c) => c.ms) / 1000).toFixed(1).padStart(12),
      (sum((c) => c.cpuMs) / 1000).toFixed(1).padStart(13),
      (max((c) => c.peakRssBytes) / MB).toFixed(0).padStart(15),
      (max((c) => c.heapUsedBytes) / MB).toFixed(0).padStart(11),
    ];
    print(`  ${stage.padEnd(11)} | ${cells.join(' | ')}`);
  }
}

export async function runShardedScale(
  sizes: number[],
  profilesOf: (n: number, seed: number) => AccountProfile[],
  o: ShardedScaleOptions,
): Promise<void> {
  const t0 = Date.UTC(2026, 10, 2);
  const period = { periodStart: t0, periodEnd: t0 + 72 * HOUR };
  const models = { 'model-a': t0 - 1000 * HOUR, 'model-b': t0 - 1000 * HOUR };
  const cores = os.cpus().length;
  o.print(
    `distributed detection run (${o.accountsPerShard.toLocaleString('en')} accounts per shard; children in their own processes; node ${process.version}; ${cores} cpus)`,
  );
  for (const n of sizes) {
    const profiles = profilesOf(n, o.seed).sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
    const plan = planRun('runs/bench/', period, n, sampleIds(profiles.map((p) => p.accountId)), o.accountsPerShard, o.keyPartitionsPerShard);
    o.print(`\n${n.toLocaleString('en')} accounts: ${plan.accountShards} account shards, ${plan.keyPartitions} key partitions`);
    const runs: Record<string, { children: ChildStats[]; plan: RunPlan; wallMs: number }> = {};
    for (const [mode, concurrency] of [
      ['in sequence', 1],
      [`in parallel (${cores})`, cores],
    ] as const) {
      const root = mkdtempSync(path.join(os.tmpdir(), 'dg-run-'));
      try {
        const store = new FileShardStore(root);
        const tp = performance.now();
        for (let s = 0; s < plan.accountShards; s++) await writeShardProfiles(store, plan, s, profilesInRange(profiles, plan, s), models, 64);
        o.print(`  profiles written (the profiles children's output): ${((performance.now() - tp) / 1000).toFixed(1)} s`);
        runs[mode] = await runStages(root, plan, concurrency);
        o.print(`  children ${mode}: ${(runs[mode].wallMs / 1000).toFixed(1)} s wall`);
        if (o.check && concurrency === 1) await check(store, runs[mode].plan, profiles, models, period, o.print);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
    stageRows(runs['in sequence'].children, o.print);
    if (o.extrapolate) extrapolated(o.extrapolate, n, runs['in sequence'].children, o);
  }
}

/** Every decision of the run against `runDetection` on the whole population (costs the single path's memory). */
async function check(
  store: FileShardStore,
  plan: RunPlan,
  profiles: AccountProfile[],
  modelFirstSeen: Record<string, number>,
  period: { periodStart: number; periodEnd: number },
  print: (s: string) => void,
): Promise<void> {
  const single = runDetection({ profiles, modelFirstSeen, now: period.periodEnd, periodStart: period.periodStart, config: DEFAULT_DETECTION_CONFIG });
  const { decideInputs } = await import('../src/detect/sharded-run/stages');
  const { decideShard } = await import('../src/detect/scoring/sharded');
  let k = 0;
  let differ = 0;
  for (let s = 0; s < plan.accountShards; s++) {
    const d = await decideInputs(store, plan, s);
    const input = { modelFirstSeen: d.models, now: plan.periodEnd, periodStart: plan.periodStart, config: DEFAULT_DETECTION_CONFIG };
    for (const a of decideShard(d.profiles, d.linkage, d.context, input).accounts) {
      const b = single.accounts[k++];
      if (a.accountId !== b.accountId || a.decision !== b.decision || a.score !== b.score || a.clusterId !== b.clusterId) differ++;
    }
  }
  print(
    `  same decision, score and cluster as runDetection for every account: ${differ === 0 && k === profiles.length ? 'yes' : `NO (${differ} differ)`}`,
  );
}

/**
 * Figures at `target` accounts from those measured at `n`: children x(target/n) at the same shard size, each as
 * measured; the three steps (offsets, merge, reduce) linear in accounts.
 */
function extrapolated(target: number, n: number, children: ChildStats[], o: ShardedScaleOptions): void {
  const f = target / n;
  const at = 40; // children at once (the Distributed Map's MaxConcurrency default)
  const work = children.reduce((s, c) => s + c.ms, 0) / 1000;
  const mapped = children.filter((c) => !STEPS.has(c.stage));
  const peak = Math.max(...mapped.map((c) => c.peakRssBytes));
  let wallMs = 0;
  for (const [stage] of STAGES) {
    const mine = children.filter((c) => c.stage === stage);
    wallMs += STEPS.has(stage) ? mine[0].ms * f : Math.ceil((mine.length * f) / at) * Math.max(...mine.map((c) => c.ms));
  }
  o.print(
    `  extrapolated to ${target.toLocaleString('en')} accounts (x${f.toFixed(0)}, same shard size): ${Math.ceil(mapped.length * f) + 3} children and steps, ~${(work * f).toFixed(0)} s of work in all, ~${(wallMs / 1000).toFixed(0)} s with ${at} children at once;`,
  );
  // What a process holds before any work (the smallest child): the steps' growth is what they hold above it.
  const floor = Math.min(...children.map((c) => c.peakRssBytes));
  o.print(
    `    per-child peak RSS unchanged (${(peak / MB).toFixed(0)} MB); the steps, linear above the process floor (${(floor / MB).toFixed(0)} MB):`,
  );
  for (const step of STEPS) {
    const c = children.find((x) => x.stage === step)!;
    const rss = floor + (c.peakRssBytes - floor) * f;
    o.print(
      `      ${step}: ~${((c.ms * f) / 1000).toFixed(0)} s, peak RSS ~${(rss / MB).toFixed(0)} MB (${(c.peakRssBytes / MB).toFixed(0)} MB measured)`,
    );
  }
}
