/**
 * The merge: the partitions' edges and weak pairs replayed in the single path's verification order (so its
 * work-saving rule, skip a pair already in one component whose two accounts have enough edges, drops the same
 * pairs), then the single path's own group evidence, pruning and cluster assembly. Prompt libraries are found from
 * the accounts the `index` stage listed; cluster evidence reads the frequencies of cluster members only.
 */
import type { LinkageConfig } from '../../config';
import { AttributeDict, type AttributeIndex } from '../attributes';
import { assembleClusters, components } from '../clusters';
import { LinkGraph, pruneLeaves, prunePersonalAttachments } from '../graph';
import { addLibraryEdges, addTriangleEdges, type PromptLibraries } from '../groups';
import { UnionFind } from '../primitives';
import type { LinkageAccount, LinkageOptions, LinkageResult } from '../types';
import type { WeakPair } from '../verify';
import type { FrequencyStats } from './frequencies';
import type { ShardPlan, ShardStore } from './index';
import type { PairStats } from './pairs';
import {
  compareRank,
  fromLines,
  keys,
  partFolders,
  readAll,
  readParts,
  shardOf,
  type AccountRecord,
  type FrequencyRecord,
  type LibraryRecord,
  type PairRecord,
} from './records';

/** Every partition's pairs, one per account pair (lowest rank), in verification order; and their counts. */
async function orderedPairs(store: ShardStore, plan: ShardPlan): Promise<{ pairs: PairRecord[]; stats: PairStats }> {
  const stats: PairStats = { attributePairs: 0, lshCandidates: 0, verifiedPairs: 0 };
  const byPair = new Map<string, PairRecord>();
  for (let p = 0; p < plan.keyPartitions; p++) {
    const body = await store.get(keys.pairs(plan, p));
    const nl = body.indexOf('\n');
    const s = JSON.parse(body.slice(0, nl)) as PairStats;
    stats.attributePairs += s.attributePairs;
    stats.lshCandidates += s.lshCandidates;
    stats.verifiedPairs += s.verifiedPairs;
    for (const r of fromLines<PairRecord>(body.slice(nl + 1))) {
      const key = `${r[0][0]},${r[1]}`;
      const seen = byPair.get(key);
      if (!seen || compareRank(r[0], seen[0]) < 0) byPair.set(key, r);
    }
  }
  return { pairs: [...byPair.values()].sort((x, y) => compareRank(x[0], y[0])), stats };
}

/** Edges and weak pairs, added as the single path's verification loop adds them. */
function replay(pairs: PairRecord[], accounts: readonly LinkageAccount[], n: number, cfg: LinkageConfig): { graph: LinkGraph; weak: WeakPair[] } {
  const graph = new LinkGraph(n);
  const weak: WeakPair[] = [];
  for (const [[a], b, accepted, content, infra, timing, signup, total, phi, sharedBuckets, sharedHours] of pairs) {
    if (graph.degree(a) >= cfg.maxEdgesPerAccount && graph.degree(b) >= cfg.maxEdgesPerAccount && graph.uf.find(a) === graph.uf.find(b)) continue;
    if (accepted) {
      const edge = {
        a: accounts[a].accountId,
        b: accounts[b].accountId,
        scores: { content, infra, timing, signup },
        total,
        phi,
        sharedBuckets,
        sharedHours,
      };
      graph.add(a, b, edge);
    } else weak.push({ a, b, content, infra, timing, signup, total, phi, sharedBuckets, sharedHours });
  }
  return { graph, weak };
}

/** findPromptLibraries over the accounts that draw on shared libraries (the only ones it can place in a group). */
export function librariesFromRecords(records: LibraryRecord[], n: number, cfg: LinkageConfig): PromptLibraries {
  const templates = new Int32Array(n);
  const score = new Float64Array(n);
  const groupOf = new Int32Array(n).fill(-1);
  const groups: PromptLibraries['groups'] = [];
  if (cfg.libraryMinTemplates <= 0) return { groups, templates, score, groupOf };
  records.sort((x, y) => x[0] - y[0]);
  const q = new Map<string, number>();
  for (const [, shared] of records) for (const [name] of shared) q.set(name, (q.get(name) ?? 0) + 1);
  const inLibrary = (name: string, df: number): boolean => q.get(name)! >= 2 && q.get(name)! >= cfg.libraryExclusiveShare * df;
  const uf = new UnionFind(n);
  const firstHolder = new Map<string, number>();
  for (const [i, shared] of records)
    for (const [name, df] of shared) {
      if (!inLibrary(name, df)) continue;
      templates[i]++;
      const first = firstHolder.get(name);
      if (first === undefined) firstHolder.set(name, i);
      else uf.union(first, i);
    }
  const byRoot = new Map<number, LibraryRecord[]>();
  for (const r of records) {
    if (templates[r[0]] < 2) continue;
    const root = uf.find(r[0]);
    byRoot.set(root, [...(byRoot.get(root) ?? []), r]);
  }
  for (const members of byRoot.values()) {
    if (members.length < cfg.minClusterSize) continue;
    const distinct = new Set<string>();
    for (const [, shared] of members) for (const [name, df] of shared) if (inLibrary(name, df)) distinct.add(name);
    if (distinct.size < cfg.libraryMinTemplates) continue;
    const g = groups.length;
    groups.push({ members: members.map((r) => r[0]), templates: distinct.size });
    for (const [i] of members) {
      groupOf[i] = g;
      score[i] = Math.min(1, templates[i] / cfg.librarySaturation);
    }
  }
  for (const [i] of records) if (groupOf[i] < 0) templates[i] = 0;
  return { groups, templates, score, groupOf };
}

/**
 * The account records of positions `wanted` (the graph's nodes: every account of a pair or a library), read from the
 * partition stage's records, a line at a time; only the wanted lines are parsed.
 */
async function nodeRecords(store: ShardStore, plan: ShardPlan, wanted: ReadonlySet<number>): Promise<Map<number, AccountRecord>> {
  const out = new Map<number, AccountRecord>();
  const shards = new Set<number>();
  for (const i of wanted) shards.add(shardOf(plan, i));
  for (const shard of [...shards].sort((x, y) => x - y)) {
    const body = await store.get(keys.accounts(plan, shard));
    for (let at = 0; at < body.length;) {
      let end = body.indexOf('\n', at);
      if (end < 0) end = body.length;
      // Each line starts with {"i":<position>,
      const comma = body.indexOf(',', at);
      if (end > at && wanted.has(Number(body.slice(at + 5, comma)))) {
        const r = JSON.parse(body.slice(at, end)) as AccountRecord;
        out.set(r.i, r);
      }
      at = end + 1;
    }
  }
  return out;
}

/** What the merge's phases read of the nodes, from their records (a sparse array by position). */
function linkageAccounts(records: Map<number, AccountRecord>, n: number): LinkageAccount[] {
  const accounts: LinkageAccount[] = new Array(n);
  for (const [i, r] of records) {
    const hours = new Map<number, { n: number }>();
    for (const [start, count] of r.hours) hours.set(start, { n: count });
    accounts[i] = { accountId: r.id, firstTs: r.firstTs ?? Number.POSITIVE_INFINITY, createdAt: r.createdAt, hours };
  }
  return accounts;
}

/** The attribute index cluster assembly reads, for the accounts in clusters only (others hold no attributes). */
async function memberIndex(
  store: ShardStore,
  plan: ShardPlan,
  records: Map<number, AccountRecord>,
  members: number[],
  cfg: LinkageConfig,
): Promise<AttributeIndex> {
  const n = plan.accounts;
  const dict = new AttributeDict();
  const none = new Int32Array(0);
  const accAttrs: Int32Array[] = new Array<Int32Array>(n).fill(none);
  const platform = new Uint8Array(n);
  const dfOf = new Map<string, number>();
  for (const shard of new Set(members.map((i) => shardOf(plan, i)))) {
    for await (const [i, pos, df] of readParts<FrequencyRecord>(store, partFolders.frequencies(plan), shard)) {
      const name = records.get(i)?.attrs[pos];
      if (name !== undefined) dfOf.set(name, df);
    }
  }
  for (const i of members) {
    const r = records.get(i)!;
    accAttrs[i] = Int32Array.from(r.attrs, (name) => dict.intern(name, name.startsWith('t:') ? 'content' : 'infra'));
    platform[i] = r.platform ? 1 : 0;
  }
  const empty = new Float64Array(0);
  return {
    n,
    k: cfg.maxAttributeAccounts,
    accAttrs,
    names: dict.names,
    fam: dict.fam,
    df: Int32Array.from(dict.names, (name) => dfOf.get(name) ?? 1),
    weight: empty,
    ownContent: empty,
    ownInfra: empty,
    platform,
    postings: [],
    usefulOf: [],
    indexed: 0,
    skippedPopular: 0,
  };
}

/**
 * The merge holds no profiles: the pairs, the libraries, and the records of the graph's nodes (every account of a
 * pair or a library), so its memory grows with the graph, not the population (beyond a few bytes per account).
 */
export async function mergePartitions(store: ShardStore, plan: ShardPlan, cfg: LinkageConfig, opts: LinkageOptions): Promise<LinkageResult> {
  const n = plan.accounts;
  const { pairs, stats } = await orderedPairs(store, plan);
  const libraries: LibraryRecord[] = [];
  for await (const r of readAll<LibraryRecord>(store, `${plan.prefix}libraries/`)) libraries.push(r);
  const nodes = new Set<number>();
  for (const r of pairs) nodes.add(r[0][0]).add(r[1]);
  for (const [i] of libraries) nodes.add(i);
  const records = await nodeRecords(store, plan, nodes);
  const accounts = linkageAccounts(records, n);
  const { graph, weak } = replay(pairs, accounts, n, cfg);
  addTriangleEdges(graph, weak, accounts, cfg);
  const library = librariesFromRecords(libraries, n, cfg);
  addLibraryEdges(graph, library, accounts);
  const prunedLeaves = (cfg.syncPruneLeaves ? pruneLeaves(graph) : 0) + prunePersonalAttachments(graph, accounts, opts.periodEnd, cfg);
  const index = await memberIndex(store, plan, records, components(graph, cfg.minClusterSize).flat(), cfg);
  const { clusters, byAccount } = assembleClusters(accounts, cfg, opts, index, graph, library);
  const freq: FrequencyStats = { attributes: 0, indexedAttributes: 0, skippedPopular: 0 };
  for (let p = 0; p < plan.keyPartitions; p++) {
    const s = JSON.parse(await store.get(keys.frequencyStats(plan, p))) as FrequencyStats;
    freq.attributes += s.attributes;
    freq.indexedAttributes += s.indexedAttributes;
    freq.skippedPopular += s.skippedPopular;
  }
  return {
    clusters,
    byAccount,
    edges: graph.edges,
    stats: { accounts: n, ...freq, ...stats, edges: graph.edges.length, prunedLeaves },
  };
}
