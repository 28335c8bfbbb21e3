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

/** Where stages leave their records (S3 objects under one run prefix; a Map in memory). */
export interface ShardStore {
  put(key: string, body: string): Promise<void>;
  /** Throws when the key is missing. */
  get(key: string): Promise<string>;
  /** Keys that start with `prefix`. */
  list(prefix: string): Promise<string[]>;
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
}

export type ShardStage = 'frequencies' | 'index' | 'pairs';

/** What one stage child measured: for metrics and the bench. */
export interface ShardStageStats {
  stage: 'partition' | ShardStage | 'merge';
  part: number;
  inputRecords: number;
  outputRecords: number;
  ms: number;
  /** Heap in use and resident set size at the end of the child (bytes). */
  heapUsedBytes: number;
  rssBytes: number;
}

/** A run plan for `accounts` accounts with about `accountsPerShard` accounts per shard. */
export function planShards(accounts: number, prefix: string, opts: LinkageOptions, accountsPerShard = 250_000): ShardPlan {
  const accountShards = Math.max(1, Math.ceil(accounts / accountsPerShard));
  return { prefix, accounts, accountShards, keyPartitions: accountShards, periodStart: opts.periodStart, periodEnd: opts.periodEnd };
}

/** Stage `partition`: writes the account shards (the step that holds the profiles runs it). */
export async function writeAccountShards(
  _store: ShardStore,
  _plan: ShardPlan,
  _profiles: AccountProfile[],
  _cfg: LinkageConfig,
): Promise<ShardStageStats[]> {
  throw new Error('sharded linkage: not implemented yet');
}

/** One child of a Distributed Map: stage `stage` over account shard or key partition `part`. */
export async function runShardStage(
  _store: ShardStore,
  _plan: ShardPlan,
  _cfg: LinkageConfig,
  _stage: ShardStage,
  _part: number,
): Promise<ShardStageStats> {
  throw new Error('sharded linkage: not implemented yet');
}

/** Final step: the children's edges replayed in the single path's order, then groups, pruning and clusters. */
export async function mergeShardedLinkage(
  _store: ShardStore,
  _plan: ShardPlan,
  _profiles: AccountProfile[],
  _cfg: LinkageConfig,
  _previous?: Map<string, string>,
): Promise<{ result: LinkageResult; stats: ShardStageStats }> {
  throw new Error('sharded linkage: not implemented yet');
}

/** A ShardStore in memory (tests, the bench, replay). */
export class MemoryShardStore implements ShardStore {
  readonly objects = new Map<string, string>();
  async put(key: string, body: string): Promise<void> {
    this.objects.set(key, body);
  }
  async get(key: string): Promise<string> {
    const body = this.objects.get(key);
    if (body === undefined) throw new Error(`shard store: no object ${key}`);
    return body;
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
