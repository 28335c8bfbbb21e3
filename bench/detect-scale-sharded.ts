/**
 * The sharded linkage path at scale: the bench's synthetic population cut into shards, every stage child run in its
 * own process (as one Lambda of the Distributed Map), first one after another, then as many at once as this machine
 * has cores. Prints per-stage child time and peak memory, and the merge's; `--extrapolate` projects the figures to a
 * population too large to hold here (per-child work depends on the shard size, not the population; the merge
 * grows linearly). Asserts nothing.
 *
 *   NODE_OPTIONS=--max-old-space-size=8192 npx tsx bench/detect-scale.ts --sharded --sizes 1000000 --extrapolate 10000000
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_DETECTION_CONFIG } from '../src/detect/config';
import { linkAccounts } from '../src/detect/linkage';
import {
  mergeShardedLinkage,
  planShards,
  SHARD_STAGES,
  stageParts,
  writeAccountShards,
  type ShardPlan,
  type ShardStage,
} from '../src/detect/linkage/sharded';
import { FileShardStore } from '../src/detect/linkage/sharded/file-store';
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

function runChild(root: string, planFile: string, stage: ShardStage, part: number): Promise<ChildStats> {
  const script = path.join(__dirname, 'shard-child.ts');
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', script, root, planFile, stage, String(part)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`shard child ${stage}/${part} failed: ${stderr || err.message}`)) : resolve(JSON.parse(stdout) as ChildStats),
    ),
  );
}

/** Every stage's children, `concurrency` at a time; returns their stats and the wall time. */
async function runStages(root: string, planFile: string, plan: ShardPlan, concurrency: number): Promise<{ children: ChildStats[]; wallMs: number }> {
  const t0 = performance.now();
  const children: ChildStats[] = [];
  for (const stage of SHARD_STAGES) {
    const parts = Array.from({ length: stageParts(plan, stage) }, (_, k) => k);
    await pool(parts, concurrency, async (part) => void children.push(await runChild(root, planFile, stage, part)));
  }
  return { children, wallMs: performance.now() - t0 };
}

function stageRows(children: ChildStats[], print: (s: string) => void): void {
  print('  stage       | children | max child s | work s (sum) | process CPU s | max peak RSS MB | max heap MB');
  for (const stage of SHARD_STAGES) {
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
  profilesOf: (n: number, seed: number) => import('../src/detect/profile').AccountProfile[],
  o: ShardedScaleOptions,
): Promise<void> {
  const cfg = DEFAULT_DETECTION_CONFIG.linkage;
  const t0 = Date.UTC(2026, 10, 2);
  const opts = { periodStart: t0, periodEnd: t0 + 72 * HOUR };
  const cores = os.cpus().length;
  o.print(
    `sharded linkage (${o.accountsPerShard.toLocaleString('en')} accounts per shard; children in their own processes; node ${process.version}; ${cores} cpus)`,
  );
  for (const n of sizes) {
    const profiles = profilesOf(n, o.seed);
    const root = mkdtempSync(path.join(os.tmpdir(), 'dg-shards-'));
    try {
      const store = new FileShardStore(root);
      const plan = planShards(n, 'run/', opts, o.accountsPerShard, o.keyPartitionsPerShard);
      const planFile = path.join(root, 'plan.json');
      writeFileSync(planFile, JSON.stringify(plan));
      const tp = performance.now();
      await writeAccountShards(store, plan, profiles, cfg);
      const partitionMs = performance.now() - tp;
      o.print(
        `\n${n.toLocaleString('en')} accounts: ${plan.accountShards} account shards, ${plan.keyPartitions} key partitions; partition stage (in the scorer) ${(partitionMs / 1000).toFixed(1)} s`,
      );
      const runs: Record<string, { children: ChildStats[]; wallMs: number }> = {};
      for (const [mode, concurrency] of [
        ['in sequence', 1],
        [`in parallel (${cores})`, cores],
      ] as const) {
        runs[mode] = await runStages(root, planFile, plan, concurrency);
        o.print(`  children ${mode}: ${(runs[mode].wallMs / 1000).toFixed(1)} s wall`);
      }
      stageRows(runs['in sequence'].children, o.print);
      (global as { gc?: () => void }).gc?.();
      const heap0 = process.memoryUsage().heapUsed;
      const { result, stats } = await mergeShardedLinkage(store, plan, profiles, cfg);
      o.print(
        `  merge: ${(stats.ms / 1000).toFixed(1)} s, heap +${((stats.heapUsedBytes - heap0) / MB).toFixed(0)} MB over the profiles (process heap ${(stats.heapUsedBytes / MB).toFixed(0)} MB); ${result.stats.edges} edges, ${result.clusters.length} clusters`,
      );
      if (o.check) {
        const single = linkAccounts(profiles, cfg, opts);
        const same = isDeepStrictEqual(
          [single.clusters, [...single.byAccount], single.edges],
          [result.clusters, [...result.byAccount], result.edges],
        );
        o.print(`  same clusters, links and edges as the single path: ${same ? 'yes' : 'NO'}`);
      }
      if (o.extrapolate) extrapolated(o.extrapolate, n, runs['in sequence'].children, stats.ms, partitionMs, o);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
}

/** Figures at `target` accounts from those measured at `n`: children x(target/n) at the same shard size; merge and partition linear. */
function extrapolated(target: number, n: number, children: ChildStats[], mergeMs: number, partitionMs: number, o: ShardedScaleOptions): void {
  const f = target / n;
  const at = 40; // children at once (the Distributed Map's MaxConcurrency default here)
  const cpu = children.reduce((s, c) => s + c.ms, 0) / 1000;
  const peak = Math.max(...children.map((c) => c.peakRssBytes));
  let wallMs = 0;
  for (const stage of SHARD_STAGES) {
    const mine = children.filter((c) => c.stage === stage);
    wallMs += Math.ceil((mine.length * f) / at) * Math.max(...mine.map((c) => c.ms));
  }
  o.print(
    `  extrapolated to ${target.toLocaleString('en')} accounts (x${f.toFixed(0)}, same shard size): ${Math.ceil(children.length * f)} children, ${(cpu * f).toFixed(0)} s of stage work in all;`,
  );
  o.print(`    per-child peak RSS unchanged (${(peak / MB).toFixed(0)} MB); ${at} children at once: ~${(wallMs / 1000).toFixed(0)} s of children;`);
  o.print(
    `    merge ~${((mergeMs * f) / 1000).toFixed(0)} s and partition ~${((partitionMs * f) / 1000).toFixed(0)} s (linear in accounts; both hold the profiles)`,
  );
}
