/**
 * Sharded linkage: the same linkage as `linkAccounts`, computed in stages over shards of the population so that no
 * single process holds the whole attribute index or pair set. Stages exchange records through a `ShardStore` (S3 in
 * AWS, memory in tests and the bench); each `runShardStage` call is one child of a Step Functions Distributed Map.
 *
 *   partition   (account shards)  accounts -> attribute occurrences by key partition
 *   frequencies (key partitions)  document frequency and first-seen order of every attribute
 *   index       (account shards)  weights, useful attributes, MinHash bands -> verification records by key
 *   pairs       (key partitions)  candidate pairs of each blocking key, verified -> edges and weak pairs
 *   merge       (one step)        edges replayed in the single path's order -> groups, pruning, clusters
 */
import type { LinkageConfig } from '../../config';
import type { AccountProfile } from '../../profile';
import type { LinkageOptions, LinkageResult } from '../types';
import { frequencyPartition } from './frequencies';
import { mergePartitions } from './merge';
import { pairPartition } from './pairs';
import { partitionShard } from './partition';
import { shardSize } from './records';
import { indexShard } from './weights';
import type { RunStage } from '../../sharded-run/stages';

/**
 * Where stages leave their records (S3 objects under one run prefix; files; a Map in memory). A stage child that
 * sends records to many readers writes them as the parts of one object (`putParts`), and each reader fetches only its
 * part (`getPart`): requests grow with writers plus readers, not with their product.
 */
export interface ShardStore {
  put(key: string, body: string): Promise<void>;
  /** Throws when the key is missing. */
  get(key: string): Promise<string>;
  /** Keys that start with `prefix` (objects written by put or putParts; not their part indexes). */
  list(prefix: string): Promise<string[]>;
  /** Writes `parts` (reader number -> body) as one object. */
  putParts(key: string, parts: ReadonlyMap<number, string>): Promise<void>;
  /** Part `part` of an object written by putParts: '' when it has none; throws when the object is missing. */
  getPart(key: string, part: number): Promise<string>;
}

/** One sharded run: where its records live and how the population is cut. */
export interface ShardPlan {
  /** Prefix of every object of this run in the store, ending in `/`. */
  prefix: string;
  /** Accounts in the run (the single path's `profiles.length`). */
  accounts: number;
  /** Shards of accounts (by position in the profiles array) and partitions of blocking keys. */
  accountShards: number;
  keyPartitions: number;
  periodStart: number;
  periodEnd: number;
  /**
   * First position of each account shard, then the population (accountShards + 1 numbers), when shards differ in
   * size (a distributed run's shards are ranges of account ids). Without it, shards are `shardSize` positions each.
   */
  offsets?: number[];
}

export type ShardStage = 'frequencies' | 'index' | 'pairs';

/** What one stage child measured: for metrics and the bench. */
export interface ShardStageStats {
  stage: 'partition' | ShardStage | 'merge' | RunStage;
  part: number;
  inputRecords: number;
  outputRecords: number;
  ms: number;
  /** Heap in use and resident set size at the end of the child (bytes). */
  heapUsedBytes: number;
  rssBytes: number;
}

/**
 * A run plan for `accounts` accounts, about `accountsPerShard` per account shard. An account's verification record
 * goes to the partition of each of its blocking keys (up to ~25: useful attributes and MinHash bands), so there are
 * `keyPartitionsPerShard` key partitions per account shard: a partition then receives about the same number of
 * records at any population size, and so does each child's memory.
 */
export function planShards(
  accounts: number,
  prefix: string,
  opts: LinkageOptions,
  accountsPerShard = 250_000,
  keyPartitionsPerShard = 16,
): ShardPlan {
  if (!prefix.endsWith('/')) throw new Error(`sharded linkage: prefix must end in '/', got '${prefix}'`);
  if (!(accountsPerShard >= 1) || !(keyPartitionsPerShard >= 1))
    throw new Error(`sharded linkage: shard sizes must be >= 1, got ${accountsPerShard}, ${keyPartitionsPerShard}`);
  const accountShards = Math.max(1, Math.ceil(accounts / accountsPerShard));
  return {
    prefix,
    accounts,
    accountShards,
    keyPartitions: accountShards * Math.round(keyPartitionsPerShard),
    periodStart: opts.periodStart,
    periodEnd: opts.periodEnd,
  };
}

/** Measures one stage child: time, heap and resident memory at its end. */
export async function measured(
  stage: ShardStageStats['stage'],
  part: number,
  run: () => Promise<{ input: number; output: number }>,
): Promise<ShardStageStats> {
  const t0 = performance.now();
  const { input, output } = await run();
  const mem = process.memoryUsage();
  return { stage, part, inputRecords: input, outputRecords: output, ms: performance.now() - t0, heapUsedBytes: mem.heapUsed, rssBytes: mem.rss };
}

/** Stage `partition`: writes the account shards (the step that holds the profiles runs it). */
export async function writeAccountShards(
  store: ShardStore,
  plan: ShardPlan,
  profiles: AccountProfile[],
  cfg: LinkageConfig,
): Promise<ShardStageStats[]> {
  if (profiles.length !== plan.accounts) throw new Error(`sharded linkage: plan is for ${plan.accounts} accounts, got ${profiles.length}`);
  const size = shardSize(plan);
  const stats: ShardStageStats[] = [];
  for (let s = 0; s < plan.accountShards; s++) {
    const slice = profiles.slice(s * size, (s + 1) * size);
    stats.push(await measured('partition', s, () => partitionShard(store, plan, cfg, s, s * size, slice)));
  }
  return stats;
}

/**
 * Stage `partition` of one shard of a plan with offsets (a distributed run: its shards are ranges of account ids, of
 * any size): `profiles` are the shard's, in order.
 */
export async function writeAccountShard(
  store: ShardStore,
  plan: ShardPlan,
  cfg: LinkageConfig,
  shard: number,
  profiles: readonly AccountProfile[],
): Promise<ShardStageStats> {
  const o = plan.offsets;
  if (!o || o.length !== plan.accountShards + 1)
    throw new Error(`sharded linkage: plan ${plan.prefix} has no offsets for its ${plan.accountShards} shards`);
  if (o[shard + 1] - o[shard] !== profiles.length)
    throw new Error(`sharded linkage: shard ${shard} of ${plan.prefix} holds ${o[shard + 1] - o[shard]} accounts, got ${profiles.length} profiles`);
  return measured('partition', shard, () => partitionShard(store, plan, cfg, shard, o[shard], profiles));
}

/** How many children a stage has: key partitions, or account shards. */
export function stageParts(plan: ShardPlan, stage: ShardStage): number {
  return stage === 'index' ? plan.accountShards : plan.keyPartitions;
}

/** One child of a Distributed Map: stage `stage` over account shard or key partition `part`. */
export async function runShardStage(
  store: ShardStore,
  plan: ShardPlan,
  cfg: LinkageConfig,
  stage: ShardStage,
  part: number,
): Promise<ShardStageStats> {
  if (!Number.isInteger(part) || part < 0 || part >= stageParts(plan, stage))
    throw new Error(`sharded linkage: part ${part} out of range for stage ${stage}`);
  if (stage === 'frequencies') return measured(stage, part, () => frequencyPartition(store, plan, cfg, part));
  if (stage === 'index') return measured(stage, part, () => indexShard(store, plan, cfg, part));
  if (stage === 'pairs') return measured(stage, part, () => pairPartition(store, plan, cfg, part));
  throw new Error(`sharded linkage: unknown stage ${String(stage)}`);
}

/** The stages after `partition`, in order. */
export const SHARD_STAGES: readonly ShardStage[] = ['frequencies', 'index', 'pairs'];

/** Final step: the children's edges replayed in the single path's order, then groups, pruning and clusters. */
export async function mergeShardedLinkage(
  store: ShardStore,
  plan: ShardPlan,
  cfg: LinkageConfig,
  previous?: Map<string, string>,
): Promise<{ result: LinkageResult; stats: ShardStageStats }> {
  let result: LinkageResult | undefined;
  const opts: LinkageOptions = { periodStart: plan.periodStart, periodEnd: plan.periodEnd, previous };
  const stats = await measured('merge', 0, async () => {
    result = await mergePartitions(store, plan, cfg, opts);
    return { input: result.stats.edges, output: result.clusters.length };
  });
  return { result: result!, stats };
}

/**
 * The whole sharded path in this process, children one after another (tests, replay, the bench's sequential mode).
 * Gives the same clusters, links and edges as `linkAccounts(profiles, cfg, opts)`.
 */
export async function linkAccountsSharded(
  profiles: AccountProfile[],
  cfg: LinkageConfig,
  opts: LinkageOptions,
  options: { store?: ShardStore; accountsPerShard?: number; prefix?: string } = {},
): Promise<{ result: LinkageResult; stats: ShardStageStats[] }> {
  const store = options.store ?? new MemoryShardStore();
  const plan = planShards(profiles.length, options.prefix ?? 'linkage/', opts, options.accountsPerShard);
  const stats = await writeAccountShards(store, plan, profiles, cfg);
  for (const stage of SHARD_STAGES)
    for (let part = 0; part < stageParts(plan, stage); part++) stats.push(await runShardStage(store, plan, cfg, stage, part));
  const merged = await mergeShardedLinkage(store, plan, cfg, opts.previous);
  stats.push(merged.stats);
  return { result: merged.result, stats };
}

/** A ShardStore in memory (tests, the bench, replay). */
export class MemoryShardStore implements ShardStore {
  readonly objects = new Map<string, string | ReadonlyMap<number, string>>();
  async put(key: string, body: string): Promise<void> {
    this.objects.set(key, body);
  }
  async get(key: string): Promise<string> {
    const body = this.objects.get(key);
    if (typeof body !== 'string') throw new Error(`shard store: no object ${key}`);
    return body;
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async putParts(key: string, parts: ReadonlyMap<number, string>): Promise<void> {
    this.objects.set(key, new Map(parts));
  }
  async getPart(key: string, part: number): Promise<string> {
    const parts = this.objects.get(key);
    if (parts === undefined || typeof parts === 'string') throw new Error(`shard store: no object ${key} written in parts`);
    return parts.get(part) ?? '';
  }
}
