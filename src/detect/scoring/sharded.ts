/**
 * Scoring over account shards, with the same result as `runDetection` on the whole population: no process holds
 * more than one shard's profiles and features.
 *
 *   parts    (per account shard)  features, and the shard's `ScoringPart`
 *   reduce   (one step)           parts in shard order -> baselines, adoption, cluster contexts (`ScoringContext`)
 *   decide   (per account shard)  features again, decisions; cluster members' verdicts
 *   clusters (one step)           members' verdicts -> cluster reports
 *
 * A shard's features are computed twice (once per pass) rather than kept: they are a fraction of the profile's
 * cost, and a child of a distributed run keeps nothing between stages. Each stage's output is plain JSON
 * (`serializeContext` for the context's maps).
 */
import type { ModelFirstSeen } from '../../aggregate/window';
import type { DetectionConfig } from '../config';
import type { ExternalIndicatorSet } from '../external';
import { computeFeatures, type AccountFeatures } from '../features';
import type { Cluster, LinkageResult } from '../linkage';
import { accountPivots, pivotUsage, pivotWindows, type ClusterPivot, type PivotUsage, type PivotWindow } from '../pivot';
import type { AccountProfile } from '../profile';
import type { ClusterContext } from '../score';
import { reduceScoring, type ScoringContext } from './context';
import { clusterVerdict, decideAccount, memberVerdicts, type ClusterVerdict, type MemberVerdict, type ScoredAccount } from './decide';
import { scoringPart, type ScoringPart } from './parts';

/** What every shard scores against: the same for all shards of a run. */
export interface ShardScoringInput {
  modelFirstSeen: ModelFirstSeen;
  now: number;
  periodStart: number;
  config: DetectionConfig;
  allowlist?: Set<string>;
  external?: ExternalIndicatorSet;
}

/** The linkage as scoring reads it: clusters and each member's link. */
export type ScoringLinkage = Pick<LinkageResult, 'clusters' | 'byAccount'>;

interface ShardFeatures {
  features: AccountFeatures[];
  windows: PivotWindow[];
  usage: PivotUsage;
}

function shardFeatures(profiles: readonly AccountProfile[], input: ShardScoringInput): ShardFeatures {
  const features = profiles.map((p) => computeFeatures(p, input.modelFirstSeen, input.now));
  const windows = pivotWindows(input.modelFirstSeen, input.now, input.config.pivot, input.periodStart);
  return { features, windows, usage: pivotUsage(profiles, windows) };
}

/** Stage `parts`: one shard's contribution to the population's figures. */
export function scoreShardPart(profiles: readonly AccountProfile[], linkage: ScoringLinkage, input: ShardScoringInput): ScoringPart {
  const { features, usage } = shardFeatures(profiles, input);
  return scoringPart(profiles, features, linkage, usage, input.now, input.config);
}

/** Stage `reduce`: every shard's part, in shard order. */
export function reduceScoringParts(parts: readonly ScoringPart[], linkage: ScoringLinkage, input: ShardScoringInput): ScoringContext {
  const windows = pivotWindows(input.modelFirstSeen, input.now, input.config.pivot, input.periodStart);
  return reduceScoring(parts, linkage, windows, input.now, input.config);
}

/** Stage `decide`: one shard's decisions, and the verdicts of its cluster members (for the cluster reports). */
export function decideShard(
  profiles: readonly AccountProfile[],
  linkage: ScoringLinkage,
  ctx: ScoringContext,
  input: ShardScoringInput,
): { accounts: ScoredAccount[]; verdicts: Map<string, MemberVerdict> } {
  const { features, windows, usage } = shardFeatures(profiles, input);
  const pivots = accountPivots(profiles, windows, usage, ctx.models, input.config.pivot);
  const warm = input.now - input.periodStart >= input.config.warmupMs;
  const opts = { now: input.now, warm, config: input.config, allowlist: input.allowlist, external: input.external };
  const accounts = profiles.map((p, i) => decideAccount(p, features[i], linkage.byAccount.get(p.accountId), pivots.get(p.accountId), ctx, opts));
  return { accounts, verdicts: memberVerdicts(accounts, linkage, input.config) };
}

/** Stage `clusters`: each cluster's reasons and decisions from its members' verdicts, gathered from every shard. */
export function clusterVerdicts(
  linkage: ScoringLinkage,
  ctx: ScoringContext,
  verdicts: Map<string, MemberVerdict>,
  config: DetectionConfig,
): Map<string, ClusterVerdict> {
  return new Map(linkage.clusters.map((c) => [c.clusterId, clusterVerdict(c, ctx.contexts.get(c.clusterId)!, verdicts, config)]));
}

/** The context as JSON: its maps as entries. */
export interface SerializedContext {
  baselines: ScoringContext['baselines'];
  models: ScoringContext['models'];
  pivots: [string, ClusterPivot][];
  contexts: [string, Omit<ClusterContext, 'cluster'> & { clusterId: string }][];
}

/** Clusters travel once, in the linkage; a context names its cluster. */
export function serializeContext(ctx: ScoringContext): SerializedContext {
  return {
    baselines: ctx.baselines,
    models: ctx.models,
    pivots: [...ctx.pivots],
    contexts: [...ctx.contexts].map(([id, { cluster: _c, ...rest }]) => [id, { ...rest, clusterId: id }]),
  };
}

export function deserializeContext(s: SerializedContext, clusters: readonly Cluster[]): ScoringContext {
  const byId = new Map(clusters.map((c) => [c.clusterId, c]));
  const contexts = new Map<string, ClusterContext>();
  for (const [id, { clusterId: _id, ...rest }] of s.contexts) {
    const cluster = byId.get(id);
    if (!cluster) throw new Error(`scoring context: cluster ${JSON.stringify(id)} is not in the linkage`);
    contexts.set(id, { ...rest, cluster });
  }
  return { baselines: s.baselines, models: s.models, pivots: new Map(s.pivots), contexts };
}

/**
 * Every stage in this process, shard after shard (tests and the bench; a distributed run runs each stage's shards
 * as children). `shards` are consecutive slices of the population, in its order.
 */
export function scoreInShards(
  shards: readonly (readonly AccountProfile[])[],
  linkage: ScoringLinkage,
  input: ShardScoringInput,
  roundTrip = false,
): { accounts: ScoredAccount[]; context: ScoringContext; clusters: Map<string, ClusterVerdict> } {
  const json = <T>(x: T): T => (roundTrip ? (JSON.parse(JSON.stringify(x)) as T) : x);
  const parts = shards.map((s) => json(scoreShardPart(s, linkage, input)));
  let context = reduceScoringParts(parts, linkage, input);
  if (roundTrip) context = deserializeContext(json(serializeContext(context)), linkage.clusters);
  const accounts: ScoredAccount[] = [];
  const verdicts = new Map<string, MemberVerdict>();
  for (const s of shards) {
    const d = decideShard(s, linkage, context, input);
    accounts.push(...json(d.accounts));
    for (const [id, v] of json([...d.verdicts])) verdicts.set(id, v);
  }
  return { accounts, context, clusters: clusterVerdicts(linkage, context, verdicts, input.config) };
}
