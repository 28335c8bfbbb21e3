/**
 * The sharded linkage path gives what the single path gives, account by account, on the simulator's traffic (base
 * and evasive campaigns among organic customers) and on the scale bench's population, whatever the cut into shards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_DETECTION_CONFIG, runDetection, type DetectionConfig } from '../../src/detect/index';
import { linkAccounts, type LinkageOptions, type LinkageResult } from '../../src/detect/linkage';
import {
  linkAccountsSharded,
  MemoryShardStore,
  mergeShardedLinkage,
  planShards,
  runShardStage,
  SHARD_STAGES,
  stageParts,
  writeAccountShard,
} from '../../src/detect/linkage/sharded';
import { FileShardStore } from '../../src/detect/linkage/sharded/file-store';
import type { AccountProfile } from '../../src/detect/profile';
import { simulatedWorld } from '../support/simulated-world';
import { syntheticProfiles } from '../../bench/detect-scale';

const cfg = DEFAULT_DETECTION_CONFIG;

/** Profiles of a simulated world, as replay builds them, and its observation period. */
function simulatedProfiles(variant: 'base' | 'evasive', seed: number): { profiles: AccountProfile[]; opts: LinkageOptions } {
  const { profiles, period } = simulatedWorld(variant, seed);
  return { profiles, opts: period };
}

/** Everything but `verifiedPairs`: the sharded path scores every candidate (it cannot skip as the single path does). */
function comparable(r: LinkageResult) {
  const { verifiedPairs: _ignored, ...stats } = r.stats;
  return { clusters: r.clusters, byAccount: [...r.byAccount], edges: r.edges, stats };
}

describe('sharded linkage', () => {
  const worlds = [
    ['base', 5],
    ['evasive', 6],
  ] as const;

  it.each(worlds)(
    'links the %s simulated world (seed %i) exactly as the single path, in 1, 3 and 7 shards',
    async (variant, seed) => {
      const { profiles, opts } = simulatedProfiles(variant, seed);
      const single = linkAccounts(profiles, cfg.linkage, opts);
      expect(single.clusters.length).toBeGreaterThan(0);
      for (const shards of [1, 3, 7]) {
        const { result } = await linkAccountsSharded(profiles, cfg.linkage, opts, { accountsPerShard: Math.ceil(profiles.length / shards) });
        expect(comparable(result)).toEqual(comparable(single));
      }
    },
    120_000,
  );

  it('gives the same decisions, account by account, when scoring reuses the sharded linkage', async () => {
    const { profiles, opts } = simulatedProfiles('evasive', 6);
    const input = { profiles, modelFirstSeen: {}, now: opts.periodEnd, periodStart: opts.periodStart, config: cfg as DetectionConfig };
    const single = runDetection(input);
    const { result } = await linkAccountsSharded(profiles, cfg.linkage, opts, { accountsPerShard: 200 });
    const sharded = runDetection({ ...input, linkage: result });
    const decisions = (r: typeof single) => r.accounts.map((a) => [a.accountId, a.decision, a.score, a.reasons, a.clusterId]);
    expect(decisions(sharded)).toEqual(decisions(single));
    expect(sharded.accounts.some((a) => a.clusterId !== null)).toBe(true);
  }, 120_000);

  it("links the scale bench's population (synchronized campaigns, NATs, popular agents) exactly, through files", async () => {
    const profiles = syntheticProfiles(8_000, 4);
    const t0 = Date.UTC(2026, 10, 2);
    const opts = { periodStart: t0, periodEnd: t0 + 72 * 3_600_000 };
    const single = linkAccounts(profiles, cfg.linkage, opts);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dg-shards-'));
    try {
      const { result, stats } = await linkAccountsSharded(profiles, cfg.linkage, opts, { accountsPerShard: 1_500, store: new FileShardStore(dir) });
      expect(isDeepStrictEqual(comparable(result), comparable(single))).toBe(true);
      expect(stats.map((s) => s.stage)).toEqual(expect.arrayContaining(['partition', 'frequencies', 'index', 'pairs', 'merge']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('links shards of different sizes (a plan with offsets) exactly, the merge reading account records alone', async () => {
    const { profiles, opts } = simulatedProfiles('base', 5);
    const single = linkAccounts(profiles, cfg.linkage, opts);
    const store = new MemoryShardStore();
    const n = profiles.length;
    const offsets = [0, 7, 7, Math.floor(n / 2), n];
    const plan = { ...planShards(n, 'run/', opts, Math.ceil(n / 4)), offsets };
    expect(plan.accountShards).toBe(4);
    for (let s = 0; s < 4; s++) await writeAccountShard(store, plan, cfg.linkage, s, profiles.slice(offsets[s], offsets[s + 1]));
    await expect(writeAccountShard(store, plan, cfg.linkage, 0, profiles.slice(0, 6))).rejects.toThrow(
      'shard 0 of run/ holds 7 accounts, got 6 profiles',
    );
    for (const stage of SHARD_STAGES)
      for (let part = 0; part < stageParts(plan, stage); part++) await runShardStage(store, plan, cfg.linkage, stage, part);
    // the profiles are not needed any more: the merge reads what the partition wrote
    profiles.length = 0;
    const { result } = await mergeShardedLinkage(store, plan, cfg.linkage);
    expect(comparable(result)).toEqual(comparable(single));
  }, 120_000);

  it('refuses a part outside the stage, and a plan it cannot lay out', async () => {
    const plan = planShards(10, 'run/', { periodStart: 0, periodEnd: 1 }, 5);
    expect([plan.accountShards, plan.keyPartitions]).toEqual([2, 32]);
    await expect(runShardStage(new MemoryShardStore(), plan, cfg.linkage, 'index', 2)).rejects.toThrow('part 2 out of range for stage index');
    expect(() => planShards(10, 'run', { periodStart: 0, periodEnd: 1 })).toThrow("prefix must end in '/', got 'run'");
    expect(() => planShards(10, 'run/', { periodStart: 0, periodEnd: 1 }, 0)).toThrow('shard sizes must be >= 1, got 0, 16');
  });
});
