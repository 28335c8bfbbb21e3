/**
 * A distributed detection run: the whole of detection in stages over account shards, so that no process holds the
 * population (docs/detection.md, "Past one process"). Account shards are ranges of account ids, in the order the
 * single path sorts its profiles, so positions, linkage and scores are the single path's.
 *
 *   profiles     (per account shard, reads the windows)  profiles and a summary         lambdas/detect/score-shard.ts
 *   offsets      (one step)       positions of each shard, the run's models, the next run's bounds
 *   partition    (per account shard)  linkage records (linkage/sharded)
 *   frequencies, index, pairs     the linkage stages
 *   merge        (one step)       clusters and links
 *   parts        (per account shard)  the shard's part of the population's figures (scoring/parts.ts)
 *   reduce       (one step)       baselines, adoption, cluster contexts
 *   decide       (per account shard, writes scores, starts cases)                          lambdas/detect/score-shard.ts
 *   finish       (one step)       cluster verdicts, the run's summary                      the scorer
 *
 * This module holds the stages that read and write only the run's records (the stage function runs them); the two
 * that read or write DynamoDB live in the lambdas and call the helpers here.
 */
import type { ModelFirstSeen } from '../../aggregate/window';
import type { DetectionConfig, LinkageConfig } from '../config';
import { dataRecord } from '../../shared/data-record';
import type { LinkageResult } from '../linkage';
import {
  measured,
  mergeShardedLinkage,
  planShards,
  runShardStage,
  SHARD_STAGES,
  writeAccountShard,
  type ShardPlan,
  type ShardStage,
  type ShardStageStats,
  type ShardStore,
} from '../linkage/sharded';
import { clusterVerdicts, deserializeContext, reduceScoringParts, scoreShardPart, serializeContext } from '../scoring/sharded';
import type { ShardScoringInput, SerializedContext } from '../scoring/sharded';
import type { ClusterVerdict, MemberVerdict } from '../scoring/decide';
import type { ScoringContext } from '../scoring/context';
import type { ScoringPart } from '../scoring/parts';
import type { AccountProfile } from '../profile';
import { readJson, readLinkage, readShardProfiles, readShardSummary, runKeys, writeLinkage } from './records';

/** A run's plan: the linkage plan, and the account-id bounds between its shards. */
export interface RunPlan extends ShardPlan {
  /** Shard s holds account ids in [bounds[s - 1], bounds[s]) (open at both ends of the list): accountShards - 1 ids. */
  bounds: string[];
}

/** Stages over account shards, over key partitions, and single steps: what a stage child is given. */
export const RUN_SHARD_STAGES = ['partition', 'parts'] as const;
export const RUN_STEPS = ['offsets', 'merge', 'reduce'] as const;
/** Stages of the run beyond linkage's: those of the stage function, and the two of the score-shard function. */
export type RunStage = (typeof RUN_SHARD_STAGES)[number] | (typeof RUN_STEPS)[number] | 'profiles' | 'decide';
/** Every stage the stage function runs. */
export const STAGE_FUNCTION_STAGES: readonly string[] = [...SHARD_STAGES, ...RUN_SHARD_STAGES, ...RUN_STEPS];

/**
 * Orders strings by code point: UTF-8 byte order, the order of DynamoDB's sort keys, which cuts the shards. JavaScript's
 * `<` compares UTF-16 code units and puts characters beyond U+FFFF (surrogate pairs) before U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Up to `shards - 1` distinct bounds, evenly spaced through a sample of account ids (sorted here by code point). */
export function boundsFromSample(sample: readonly string[], shards: number): string[] {
  const sorted = [...sample].sort(compareCodePoints);
  const out: string[] = [];
  for (let k = 1; k < shards; k++) {
    const id = sorted[Math.floor((k * sorted.length) / shards)];
    if (id !== undefined && (out.length === 0 || compareCodePoints(id, out[out.length - 1]) > 0)) out.push(id);
  }
  return out;
}

/**
 * A run for about `population` accounts, cut by `sample` (account ids of a recent run) into shards of about
 * `accountsPerShard`. The population is only known once the `offsets` step has counted every shard.
 */
export function planRun(
  prefix: string,
  period: { periodStart: number; periodEnd: number },
  population: number,
  sample: readonly string[],
  accountsPerShard?: number,
  keyPartitionsPerShard?: number,
): RunPlan {
  const wanted = planShards(population, prefix, period, accountsPerShard, keyPartitionsPerShard).accountShards;
  const bounds = boundsFromSample(sample, wanted);
  const plan = planShards(bounds.length + 1, prefix, period, 1, keyPartitionsPerShard);
  return { ...plan, accounts: 0, bounds };
}

/** The account-id range of shard `s` (for the index query): from `lo` inclusive to `hi` exclusive. */
export function shardRange(plan: RunPlan, s: number): { lo?: string; hi?: string } {
  return { ...(s > 0 ? { lo: plan.bounds[s - 1] } : {}), ...(s < plan.bounds.length ? { hi: plan.bounds[s] } : {}) };
}

/** What the next run draws its bounds from: the population and a sorted sample of its account ids. */
export interface PopulationState {
  population: number;
  sample: string[];
  /** The run's clock (ms). */
  at: number;
}

/** Up to about `size` ids, evenly spaced through sorted `ids`. */
export function sampleIds(ids: readonly string[], size = 4_096): string[] {
  const step = Math.max(1, Math.ceil(ids.length / size));
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += step) out.push(ids[i]);
  return out;
}

/**
 * Step `offsets`: every shard's count gives the positions; the models the shards saw, in name order, become the
 * run's; the shards' samples, the next run's state. Returns the plan every later stage is given.
 */
export async function runOffsets(store: ShardStore, plan: RunPlan): Promise<{ plan: RunPlan; state: PopulationState }> {
  const offsets = [0];
  const models: ModelFirstSeen = dataRecord();
  const sample: string[] = [];
  for (let s = 0; s < plan.accountShards; s++) {
    const summary = await readShardSummary(store, plan, s);
    offsets.push(offsets[s] + summary.accounts);
    for (const [m, t] of Object.entries(summary.models)) models[m] = Math.min(models[m] ?? Infinity, t);
    sample.push(...summary.sample);
  }
  const sorted = modelsInNameOrder(models);
  await store.put(runKeys.models(plan), JSON.stringify(sorted));
  const accounts = offsets[offsets.length - 1];
  return { plan: { ...plan, accounts, offsets }, state: { population: accounts, sample: sampleIds(sample), at: plan.periodEnd } };
}

/** Models in name order: detection iterates them, and its result must not depend on the order they were read in. */
export function modelsInNameOrder(models: ModelFirstSeen): ModelFirstSeen {
  return dataRecord(
    Object.keys(models)
      .sort()
      .map((m) => [m, models[m]]),
  );
}

/** The run's models, as the offsets step merged them. */
export async function runModels(store: ShardStore, plan: RunPlan): Promise<ModelFirstSeen> {
  return dataRecord(Object.entries(await readJson<Record<string, number>>(store, runKeys.models(plan))));
}

/** What every scoring stage of the run scores against (allowlist and indicators: the decide stage adds its own). */
export async function scoringInput(store: ShardStore, plan: RunPlan, config: DetectionConfig): Promise<ShardScoringInput> {
  return { modelFirstSeen: await runModels(store, plan), now: plan.periodEnd, periodStart: plan.periodStart, config };
}

/** Stage `parts`: one shard's part of the population's figures. */
async function runParts(store: ShardStore, plan: RunPlan, config: DetectionConfig, shard: number) {
  const input = await scoringInput(store, plan, config);
  const linkage = await readLinkage(store, plan);
  const profiles = await readShardProfiles(store, plan, shard);
  const part = scoreShardPart(profiles, linkage, input);
  await store.put(runKeys.part(plan, shard), JSON.stringify(part));
  return { input: profiles.length, output: part.members.length };
}

/** Step `reduce`: the parts in shard order, reduced to the context every shard decides against. */
async function runReduce(store: ShardStore, plan: RunPlan, config: DetectionConfig) {
  const input = await scoringInput(store, plan, config);
  const linkage = await readLinkage(store, plan);
  const parts: ScoringPart[] = [];
  for (let s = 0; s < plan.accountShards; s++) parts.push(await readJson<ScoringPart>(store, runKeys.part(plan, s)));
  const ctx = reduceScoringParts(parts, linkage, input);
  await store.put(runKeys.context(plan), JSON.stringify(serializeContext(ctx)));
  return { input: parts.length, output: ctx.contexts.size };
}

/** What the decide stage reads of the run for shard `shard`. */
export async function decideInputs(
  store: ShardStore,
  plan: RunPlan,
  shard: number,
): Promise<{ profiles: AccountProfile[]; linkage: LinkageResult; context: ScoringContext; models: ModelFirstSeen }> {
  const linkage = await readLinkage(store, plan);
  const context = deserializeContext(await readJson<SerializedContext>(store, runKeys.context(plan)), linkage.clusters);
  return { profiles: await readShardProfiles(store, plan, shard), linkage, context, models: await runModels(store, plan) };
}

/** What a decide child leaves for the finish: its members' verdicts and its counts. */
export interface ShardVerdicts<C = Record<string, number>> {
  verdicts: [string, MemberVerdict][];
  counts: C;
}

export async function writeVerdicts<C>(store: ShardStore, plan: RunPlan, shard: number, v: ShardVerdicts<C>): Promise<void> {
  await store.put(runKeys.verdicts(plan, shard), JSON.stringify(v));
}

/** Step `finish`: every shard's verdicts and counts; each cluster's verdict. */
export async function finishRun<C>(
  store: ShardStore,
  plan: RunPlan,
  config: DetectionConfig,
): Promise<{ clusters: Map<string, ClusterVerdict>; shards: C[]; linkage: LinkageResult['stats'] }> {
  const linkage = await readLinkage(store, plan);
  const context = deserializeContext(await readJson<SerializedContext>(store, runKeys.context(plan)), linkage.clusters);
  const verdicts = new Map<string, MemberVerdict>();
  const shards: C[] = [];
  for (let s = 0; s < plan.accountShards; s++) {
    const v = await readJson<ShardVerdicts<C>>(store, runKeys.verdicts(plan, s));
    for (const [id, verdict] of v.verdicts) verdicts.set(id, verdict);
    shards.push(v.counts);
  }
  return { clusters: clusterVerdicts(linkage, context, verdicts, config), shards, linkage: linkage.stats };
}

/** One child or step of the stage function. */
export async function runRunStage(
  store: ShardStore,
  plan: RunPlan,
  config: DetectionConfig,
  stage: ShardStage | RunStage,
  part: number,
): Promise<ShardStageStats & { plan?: RunPlan; state?: PopulationState }> {
  const cfg: LinkageConfig = config.linkage;
  if ((SHARD_STAGES as readonly string[]).includes(stage)) return runShardStage(store, plan, cfg, stage as ShardStage, part);
  const shardStage = (RUN_SHARD_STAGES as readonly string[]).includes(stage);
  if (shardStage && !(Number.isInteger(part) && part >= 0 && part < plan.accountShards))
    throw new Error(`detection run: part ${part} out of range for stage ${stage} (${plan.accountShards} shards)`);
  switch (stage) {
    case 'partition':
      return writeAccountShard(store, plan, cfg, part, await readShardProfiles(store, plan, part));
    case 'parts':
      return measured(stage, part, () => runParts(store, plan, config, part));
    case 'offsets': {
      let out: Awaited<ReturnType<typeof runOffsets>> | undefined;
      const stats = await measured(stage, 0, async () => {
        out = await runOffsets(store, plan);
        return { input: plan.accountShards, output: out.plan.accounts };
      });
      return { ...stats, ...out! };
    }
    case 'merge': {
      const { result, stats } = await mergeShardedLinkage(store, plan, cfg);
      await writeLinkage(store, plan, result);
      return stats;
    }
    case 'reduce':
      return measured(stage, 0, () => runReduce(store, plan, config));
    default:
      throw new Error(`detection run: unknown stage ${JSON.stringify(stage)}`);
  }
}
