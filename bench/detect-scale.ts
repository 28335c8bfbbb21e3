/**
 * How the cost of linkage and scoring grows with the number of active accounts (docs/detection.md, "Scale: never all pairs").
 *
 *   NODE_OPTIONS=--max-old-space-size=8192 npx tsx bench/detect-scale.ts [--sizes 10000,100000,1000000] [--seed 1]
 *   ... --sharded [--accounts-per-shard 250000] [--extrapolate 10000000] [--check]   (bench/detect-scale-sharded.ts)
 *
 * Accounts are simulated directly as profiles (72 h of merged windows), not replayed from logs: organic accounts
 * with a few random sessions, own IPs (some behind shared NATs), popular and long-tail user agents, own and
 * popular templates; plus 0.5% campaign accounts in synchronized clusters of 20 sharing templates. Prints
 * figures; asserts nothing.
 */
import { Command, InvalidArgumentError } from 'commander';
import { nonNegativeInt, runScript } from '../cli/usage';
import { DEFAULT_DETECTION_CONFIG } from '../src/detect/config';
import { runDetection } from '../src/detect/index';
import { linkAccounts } from '../src/detect/linkage';
import { emptyProfile, type AccountProfile } from '../src/detect/profile';
import { rng } from '../sim/rng';
import * as os from 'node:os';
import { runShardedScale } from './detect-scale-sharded';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2);
const SPAN_H = 72;

function addSession(p: AccountProfile, start: number, minutes: number, perMinute: number, model: string, bucketMs: number): void {
  for (let m = 0; m < minutes; m += 1) {
    const ts = start + m * 60_000;
    p.syncBuckets.add(Math.floor(ts / bucketMs));
    const ws = Math.floor(ts / HOUR) * HOUR;
    let cell = p.hours.get(ws);
    if (!cell) p.hours.set(ws, (cell = { n: 0, models: {} }));
    cell.n += perMinute;
    cell.models[model] = (cell.models[model] ?? 0) + perMinute;
    p.models[model] = (p.models[model] ?? 0) + perMinute;
    p.modelFirstUse[model] = Math.min(p.modelFirstUse[model] ?? Infinity, ws);
    p.hourOfDay[Math.floor((ts % 86_400_000) / HOUR)] += perMinute;
    p.n += perMinute;
    p.firstTs = Math.min(p.firstTs, ts);
    p.lastTs = Math.max(p.lastTs, ts);
  }
}

export function syntheticProfiles(n: number, seed = 1): AccountProfile[] {
  const rand = rng(seed);
  const bucketMs = DEFAULT_DETECTION_CONFIG.linkage.syncBucketMs;
  const out: AccountProfile[] = [];
  const popularUas = Array.from({ length: 10 }, (_, i) => `sdk-${i}/1.${i}`);
  const campaigns = Math.max(1, Math.floor((n * 0.005) / 20));
  const campaignSessions: number[][] = [];
  for (let c = 0; c < campaigns; c++) campaignSessions.push(Array.from({ length: 20 }, () => T0 + Math.floor(rand() * (SPAN_H - 1) * 60) * 60_000));
  for (let i = 0; i < n; i++) {
    const p = emptyProfile(`acct_${i}`);
    const campaign = i < campaigns * 20 ? Math.floor(i / 20) : -1;
    p.createdAt = T0 - Math.floor(rand() * 700) * 86_400_000;
    if (campaign >= 0) {
      for (const s of campaignSessions[campaign]) addSession(p, s + Math.floor(rand() * 3) * 60_000, 25, 2, 'model-a', bucketMs);
      for (let k = 0; k < 6; k++) p.templates.add(`camp-${campaign}-${k}`);
      for (let k = 0; k < 20; k++) p.ips.add(`proxy-${campaign}-${Math.floor(rand() * 60)}`);
      p.userAgents.add(popularUas[Math.floor(rand() * popularUas.length)]);
    } else {
      const sessions = 1 + Math.floor(rand() * 3);
      for (let s = 0; s < sessions; s++)
        addSession(
          p,
          T0 + Math.floor(rand() * (SPAN_H - 2) * 60) * 60_000,
          5 + Math.floor(rand() * 40),
          1,
          rand() < 0.7 ? 'model-a' : 'model-b',
          bucketMs,
        );
      const nat = rand() < 0.05 ? Math.floor(rand() * Math.max(1, n / 200)) : -1; // 5% behind NATs of ~10 accounts
      p.ips.add(nat >= 0 ? `nat-${nat}` : `ip-${i}`);
      p.userAgents.add(rand() < 0.9 ? popularUas[Math.floor(rand() * popularUas.length)] : `tail-${i}`);
      const own = 2 + Math.floor(rand() * 4);
      for (let k = 0; k < own; k++) p.templates.add(`own-${i}-${k}`);
      if (rand() < 0.3) p.templates.add(`popular-${Math.floor(1000 * rand() * rand())}`); // skewed popularity
    }
    for (const ip of p.ips) p.subnets.add(ip.split('-').slice(0, 2).join('-'));
    p.usageN = Math.round(p.n * 0.9);
    p.promptClasses = { chat: p.usageN };
    p.outputTokens = p.usageN * 400;
    p.inputTokens = p.usageN * 300;
    out.push(p);
  }
  return out;
}

/** `--sizes 1000,10000`: integers of at least 100. */
function sizesArg(v: string): number[] {
  const sizes = v.split(',').map((s) => Number(s.trim()));
  for (const s of sizes) if (!Number.isInteger(s) || s < 100) throw new InvalidArgumentError(`expected comma-separated integers >= 100, got '${v}'`);
  return sizes;
}

export async function runDetectScale(sizes: number[], seed = 1, print: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<void> {
  print(`detection scale (profiles over ${SPAN_H} h; node ${process.version}; ${os.cpus().length} cpus)`);
  print('accounts   | linkage ms | us/account | scoring ms | total ms | candidates | edges | clusters | heap MB');
  print('-----------|------------|------------|------------|----------|------------|-------|----------|--------');
  let prev: { n: number; ms: number } | null = null;
  for (const n of sizes) {
    const profiles = syntheticProfiles(n, seed);
    (global as { gc?: () => void }).gc?.();
    const cfg = DEFAULT_DETECTION_CONFIG;
    const opts = { periodStart: T0, periodEnd: T0 + SPAN_H * HOUR };
    const t0 = process.hrtime.bigint();
    const link = linkAccounts(profiles, cfg.linkage, opts);
    const t1 = process.hrtime.bigint();
    const result = runDetection({
      profiles,
      modelFirstSeen: { 'model-a': T0 - 1000 * HOUR, 'model-b': T0 - 1000 * HOUR },
      now: opts.periodEnd,
      periodStart: T0,
      config: cfg,
      linkage: link,
    });
    const t2 = process.hrtime.bigint();
    const linkMs = Number(t1 - t0) / 1e6;
    const scoreMs = Number(t2 - t1) / 1e6;
    const heap = process.memoryUsage().heapUsed / 1e6;
    const flagged = result.accounts.filter((a) => a.decision === 'review' || a.decision === 'suspend').length;
    print(
      `${String(n).padEnd(10)} | ${linkMs.toFixed(0).padStart(10)} | ${((linkMs * 1000) / n).toFixed(1).padStart(10)} | ${scoreMs.toFixed(0).padStart(10)} | ${(linkMs + scoreMs).toFixed(0).padStart(8)} | ${String(link.stats.verifiedPairs).padStart(10)} | ${String(link.stats.edges).padStart(5)} | ${String(link.clusters.length).padStart(8)} | ${heap.toFixed(0).padStart(7)}`,
    );
    if (prev) {
      const growth = (linkMs + scoreMs) / prev.ms;
      print(
        `           x${(n / prev.n).toFixed(0)} accounts -> x${growth.toFixed(1)} time (linear would be x${(n / prev.n).toFixed(0)}); flagged ${flagged} of ${Math.floor((n * 0.005) / 20) * 20} simulated campaign accounts`,
      );
    } else {
      print(`           flagged ${flagged} of ${Math.max(1, Math.floor((n * 0.005) / 20)) * 20} simulated campaign accounts`);
    }
    prev = { n, ms: linkMs + scoreMs };
  }
}

if (require.main === module) {
  runScript(
    new Command('detect-scale')
      .description('linkage and scoring time against the number of accounts (synthetic profiles, in process)')
      .option('--sizes <list>', 'account counts, comma-separated', sizesArg, [10_000, 100_000, 1_000_000])
      .option('--seed <n>', 'seed of the synthetic profiles', nonNegativeInt, 1)
      .option('--sharded', 'run the sharded linkage path (children in their own processes) instead of the single path')
      .option('--accounts-per-shard <n>', 'sharded: accounts per shard', nonNegativeInt, 250_000)
      .option('--key-partitions-per-shard <n>', 'sharded: key partitions per account shard', nonNegativeInt, 16)
      .option('--extrapolate <n>', 'sharded: project the figures to this many accounts', nonNegativeInt)
      .option('--check', 'sharded: compare with the single path too')
      .action(
        (o: {
          sizes: number[];
          seed: number;
          sharded?: boolean;
          accountsPerShard: number;
          keyPartitionsPerShard: number;
          extrapolate?: number;
          check?: boolean;
        }) =>
          o.sharded
            ? runShardedScale(o.sizes, syntheticProfiles, {
                seed: o.seed,
                accountsPerShard: o.accountsPerShard,
                keyPartitionsPerShard: o.keyPartitionsPerShard,
                extrapolate: o.extrapolate,
                check: !!o.check,
                print: (s) => process.stdout.write(s + '\n'),
              })
            : runDetectScale(o.sizes, o.seed),
      ),
  );
}
