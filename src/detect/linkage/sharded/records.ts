/**
 * The records sharded linkage stages exchange, where they live in the store, and which shard or partition owns an
 * account or a blocking key. Records are JSON arrays, one per line (NDJSON): compact, and a stage reads them a line
 * at a time.
 */
import { fnv1a } from '../primitives';
import type { ShardPlan, ShardStore } from './index';

/** An account as the `partition` stage leaves it: everything later stages need, nothing else. */
export interface AccountRecord {
  /** Position in the single path's profiles array: orders rows, ties and union-find roots as it does. */
  i: number;
  /** What the merge reads of the graph's nodes (`LinkageAccount`): id, first request (null: none), active hours. */
  id: string;
  firstTs: number | null;
  hours: [start: number, n: number][];
  /** Attribute names (`t:`, `ip:`, `sn:`, `ua:`, `key:`) in the single path's intern order. */
  attrs: string[];
  platform: boolean;
  stable: boolean;
  createdAt: number | null;
  /** Sorted sync buckets inside the run's timing window. */
  buckets: number[];
}

/** Document frequency of an attribute (df >= 2 only; absent means 1) and where the single path first interned it. */
export type FrequencyRecord = [i: number, pos: number, df: number, firstI: number, firstPos: number];

/** One useful attribute of an account: name, weight, content (1) or infrastructure (0). */
export type UsefulAttribute = [name: string, weight: number, content: 0 | 1];

/** What pair verification needs of one account, sent to every partition owning one of its blocking keys. */
export interface VerificationRecord {
  i: number;
  useful: UsefulAttribute[];
  ownContent: number;
  ownInfra: number;
  /** Sorted active buckets, null when too few to carry timing evidence. */
  buckets: number[] | null;
  createdAt: number | null;
  stable: boolean;
  /** Subnet count and requests are not sent: `stable` is what verification reads of them. */
  /** Band keys this partition owns: [band index, 30-bit key]. */
  bands: [number, number][];
  /** The MinHash signature, when the account has band keys here (orders large band buckets). */
  sig?: number[];
}

/** Where a pair stands in the single path's verification order: its row, then how the row reached it. */
export type PairRank = [row: number, via: 0 | 1, a: number, b: number, c: number];

/** Orders ranks as the single path verifies pairs. */
export function compareRank(x: PairRank, y: PairRank): number {
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return x[k] - y[k];
  return 0;
}

/** A verified pair that became an edge or a weak pair: rank, the other account, and its scores. */
export type PairRecord = [
  rank: PairRank,
  other: number,
  accepted: 0 | 1,
  content: number,
  infra: number,
  timing: number,
  signup: number,
  total: number,
  phi: number,
  sharedBuckets: number,
  sharedHours: number,
];

/** An account drawing from shared prompt libraries: its shared templates and their document frequencies. */
export type LibraryRecord = [i: number, templates: [name: string, df: number][]];

/** Object keys of one run. Objects written in parts are named by their writer; readers ask for their part. */
export const keys = {
  accounts: (plan: ShardPlan, shard: number) => `${plan.prefix}accounts/${shard}`,
  /** Parts by key partition, one object per account shard. */
  occurrences: (plan: ShardPlan, shard: number) => `${plan.prefix}occurrences/${shard}`,
  /** Parts by account shard, one object per key partition. */
  frequencies: (plan: ShardPlan, partition: number) => `${plan.prefix}frequencies/${partition}`,
  frequencyStats: (plan: ShardPlan, partition: number) => `${plan.prefix}frequency-stats/${partition}`,
  /** Parts by key partition, one object per account shard. */
  verification: (plan: ShardPlan, shard: number) => `${plan.prefix}verification/${shard}`,
  libraries: (plan: ShardPlan, shard: number) => `${plan.prefix}libraries/${shard}`,
  pairs: (plan: ShardPlan, partition: number) => `${plan.prefix}pairs/${partition}`,
};

/** Folders of objects written in parts, listed by readers. */
export const partFolders = {
  occurrences: (plan: ShardPlan) => `${plan.prefix}occurrences/`,
  frequencies: (plan: ShardPlan) => `${plan.prefix}frequencies/`,
  verification: (plan: ShardPlan) => `${plan.prefix}verification/`,
};

/** Accounts per shard: shard s holds positions [s * size, (s + 1) * size). */
export function shardSize(plan: ShardPlan): number {
  return Math.max(1, Math.ceil(plan.accounts / plan.accountShards));
}

/** The account shard of position `i`: by the plan's offsets when its shards differ in size, else by shard size. */
export function shardOf(plan: ShardPlan, i: number): number {
  const o = plan.offsets;
  if (!o) return Math.floor(i / shardSize(plan));
  let lo = 0;
  let hi = o.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (o[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The key partition of an attribute name or a band key. */
export function attributePartition(plan: ShardPlan, name: string): number {
  return fnv1a(name) % plan.keyPartitions;
}

export function bandPartition(plan: ShardPlan, band: number, key: number): number {
  return fnv1a(`b${band}:${key}`) % plan.keyPartitions;
}

export function toLines(records: readonly unknown[]): string {
  let out = '';
  for (const r of records) out += JSON.stringify(r) + '\n';
  return out;
}

/** Records of one object, parsed line by line. */
export function* fromLines<T>(body: string): Generator<T> {
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    if (end > start) yield JSON.parse(body.slice(start, end)) as T;
    start = end + 1;
  }
}

/** Every record under `prefix`, object by object in key order. */
export async function* readAll<T>(store: ShardStore, prefix: string): AsyncGenerator<T> {
  for (const key of await store.list(prefix)) yield* fromLines<T>(await store.get(key));
}

/** This reader's part of every object in `folder` (objects written in parts), object by object. */
export async function* readParts<T>(store: ShardStore, folder: string, part: number): AsyncGenerator<T> {
  for (const key of await store.list(folder)) yield* fromLines<T>(await store.getPart(key, part));
}

/** Records bucketed by reader, serialized as they come, written as the parts of one object. */
export class Outbox<T> {
  private readonly lines = new Map<number, string[]>();
  private count = 0;
  add(reader: number, record: T): void {
    this.addLine(reader, JSON.stringify(record));
  }
  /** A record already serialized (a writer that sends one record to many readers serializes its bulk once). */
  addLine(reader: number, line: string): void {
    let list = this.lines.get(reader);
    if (!list) this.lines.set(reader, (list = []));
    list.push(line);
    this.count++;
  }
  async flush(store: ShardStore, key: string): Promise<number> {
    const parts = new Map<number, string>();
    for (const [reader, list] of this.lines) parts.set(reader, list.join('\n') + '\n');
    await store.putParts(key, parts);
    const n = this.count;
    this.lines.clear();
    this.count = 0;
    return n;
  }
}
