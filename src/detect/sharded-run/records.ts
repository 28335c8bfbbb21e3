/**
 * The records of a distributed detection run beside the linkage stages' own (linkage/sharded/records.ts): each
 * account shard's profiles (built once, read by every later stage of that shard), the shard's summary, the run's
 * models, the merged linkage, the scoring parts, the context and the members' verdicts. All under the run's prefix.
 */
import type { ModelFirstSeen } from '../../aggregate/window';
import type { LinkageResult } from '../linkage';
import type { ShardPlan, ShardStore } from '../linkage/sharded';
import { decodeProfile, encodeProfile, type EncodedProfile } from '../profile-codec';
import type { AccountProfile } from '../profile';

export const runKeys = {
  /** Parts of `PROFILES_PER_PART` encoded profiles, one per line. */
  profiles: (plan: ShardPlan, shard: number) => `${plan.prefix}profiles/${shard}`,
  shardSummary: (plan: ShardPlan, shard: number) => `${plan.prefix}profile-summaries/${shard}`,
  models: (plan: ShardPlan) => `${plan.prefix}models.json`,
  linkage: (plan: ShardPlan) => `${plan.prefix}linkage.json`,
  part: (plan: ShardPlan, shard: number) => `${plan.prefix}scoring/parts/${shard}`,
  context: (plan: ShardPlan) => `${plan.prefix}scoring/context.json`,
  verdicts: (plan: ShardPlan, shard: number) => `${plan.prefix}scoring/verdicts/${shard}`,
};

/** Profiles per part of a shard's profile object (a part is one string: well under V8's limit of ~512 MB). */
export const PROFILES_PER_PART = 2_000;

/** What the `profiles` stage leaves of its shard beside the profiles. */
export interface ShardSummary {
  accounts: number;
  parts: number;
  /** First-seen time of the models the shard's accounts used. */
  models: ModelFirstSeen;
  /** Every `sampleEvery`-th account id, in order: the next run's shard bounds are drawn from them. */
  sample: string[];
}

/** Writes a shard's profiles (in order) and its summary. */
export async function writeShardProfiles(
  store: ShardStore,
  plan: ShardPlan,
  shard: number,
  profiles: readonly AccountProfile[],
  models: ModelFirstSeen,
  sampleEvery: number,
): Promise<ShardSummary> {
  const parts = new Map<number, string>();
  for (let k = 0; k * PROFILES_PER_PART < profiles.length; k++) {
    let body = '';
    for (const p of profiles.slice(k * PROFILES_PER_PART, (k + 1) * PROFILES_PER_PART)) body += JSON.stringify(encodeProfile(p)) + '\n';
    parts.set(k, body);
  }
  await store.putParts(runKeys.profiles(plan, shard), parts);
  const sample: string[] = [];
  for (let i = 0; i < profiles.length; i += Math.max(1, sampleEvery)) sample.push(profiles[i].accountId);
  const summary: ShardSummary = { accounts: profiles.length, parts: parts.size, models, sample };
  await store.put(runKeys.shardSummary(plan, shard), JSON.stringify(summary));
  return summary;
}

export async function readShardSummary(store: ShardStore, plan: ShardPlan, shard: number): Promise<ShardSummary> {
  return JSON.parse(await store.get(runKeys.shardSummary(plan, shard))) as ShardSummary;
}

/** A shard's profiles, in the order they were written. */
export async function readShardProfiles(store: ShardStore, plan: ShardPlan, shard: number): Promise<AccountProfile[]> {
  const { parts } = await readShardSummary(store, plan, shard);
  const out: AccountProfile[] = [];
  for (let k = 0; k < parts; k++) {
    const body = await store.getPart(runKeys.profiles(plan, shard), k);
    for (const line of body.split('\n')) if (line) out.push(decodeProfile(JSON.parse(line) as EncodedProfile));
  }
  return out;
}

/** The merged linkage as scoring reads it: clusters, members' links and counts (edges stay in the merge). */
export interface StoredLinkage {
  clusters: LinkageResult['clusters'];
  byAccount: [string, NonNullable<ReturnType<LinkageResult['byAccount']['get']>>][];
  stats: LinkageResult['stats'];
}

export async function writeLinkage(store: ShardStore, plan: ShardPlan, r: LinkageResult): Promise<void> {
  const stored: StoredLinkage = { clusters: r.clusters, byAccount: [...r.byAccount], stats: r.stats };
  await store.put(runKeys.linkage(plan), JSON.stringify(stored));
}

export async function readLinkage(store: ShardStore, plan: ShardPlan): Promise<LinkageResult> {
  const s = JSON.parse(await store.get(runKeys.linkage(plan))) as StoredLinkage;
  return { clusters: s.clusters, byAccount: new Map(s.byAccount), edges: [], stats: s.stats };
}

export async function readJson<T>(store: ShardStore, key: string): Promise<T> {
  return JSON.parse(await store.get(key)) as T;
}
