/**
 * A distributed detection run with every child in this process, one after another, against any store (tests and
 * the bench). The two stages that touch DynamoDB in AWS are given here what they would read: each shard's profiles
 * and models for `profiles`, and nothing to write for `decide`.
 */
import type { ModelFirstSeen } from '../../aggregate/window';
import { dataRecord } from '../../shared/data-record';
import type { DetectionConfig } from '../config';
import { stageParts, type ShardStageStats, type ShardStore } from '../linkage/sharded';
import type { AccountProfile } from '../profile';
import { decideShard, type ShardScoringInput } from '../scoring/sharded';
import type { ClusterVerdict, ScoredAccount } from '../scoring/decide';
import { writeShardProfiles } from './records';
import { compareCodePoints, decideInputs, finishRun, runRunStage, shardRange, writeVerdicts, type RunPlan } from './stages';

/** The accounts of shard `s` of `plan` among `sorted` (profiles sorted by account id). */
export function profilesInRange(sorted: readonly AccountProfile[], plan: RunPlan, s: number): AccountProfile[] {
  const { lo, hi } = shardRange(plan, s);
  return sorted.filter(
    (p) => (lo === undefined || compareCodePoints(p.accountId, lo) >= 0) && (hi === undefined || compareCodePoints(p.accountId, hi) < 0),
  );
}

export async function runDetectionInProcess(
  store: ShardStore,
  plan: RunPlan,
  profiles: readonly AccountProfile[],
  modelFirstSeen: ModelFirstSeen,
  config: DetectionConfig,
  extra: Pick<ShardScoringInput, 'allowlist' | 'external'> = {},
): Promise<{ accounts: ScoredAccount[]; clusters: Map<string, ClusterVerdict>; stats: ShardStageStats[]; plan: RunPlan }> {
  const sorted = [...profiles].sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
  for (let s = 0; s < plan.accountShards; s++) {
    const mine = profilesInRange(sorted, plan, s);
    const models: ModelFirstSeen = dataRecord();
    for (const p of mine) for (const m in p.models) if (modelFirstSeen[m] !== undefined) models[m] = modelFirstSeen[m];
    await writeShardProfiles(store, plan, s, mine, models, 64);
  }
  const stats: ShardStageStats[] = [];
  const offsets = await runRunStage(store, plan, config, 'offsets', 0);
  stats.push(offsets);
  const run = offsets.plan!;
  const perShard = (stage: 'partition' | 'parts') => Array.from({ length: run.accountShards }, (_, s) => s).map((s) => [stage, s] as const);
  const perPartition = (stage: 'frequencies' | 'pairs') => Array.from({ length: stageParts(run, stage) }, (_, p) => [stage, p] as const);
  const children = [
    ...perShard('partition'),
    ...perPartition('frequencies'),
    ...Array.from({ length: run.accountShards }, (_, s) => ['index', s] as const),
    ...perPartition('pairs'),
    ['merge', 0] as const,
    ...perShard('parts'),
    ['reduce', 0] as const,
  ];
  for (const [stage, part] of children) stats.push(await runRunStage(store, run, config, stage, part));
  const accounts: ScoredAccount[] = [];
  for (let s = 0; s < run.accountShards; s++) {
    const d = await decideInputs(store, run, s);
    const input = { modelFirstSeen: d.models, now: run.periodEnd, periodStart: run.periodStart, config, ...extra };
    const { accounts: mine, verdicts } = decideShard(d.profiles, d.linkage, d.context, input);
    accounts.push(...mine);
    await writeVerdicts(store, run, s, { verdicts: [...verdicts], counts: { accounts: mine.length } });
  }
  const { clusters } = await finishRun(store, run, config);
  return { accounts, clusters, stats, plan: run };
}
