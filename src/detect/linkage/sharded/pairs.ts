/**
 * Stage `pairs` (per key partition): the candidate pairs of the blocking keys this partition owns (accounts sharing
 * a useful attribute; accounts in one MinHash band bucket), scored by the single path's PairScorer. Every holder of a
 * key is here, with its whole verification record, so a pair's shared weight and timing are exact.
 *
 * A pair sharing several attributes is scored once, by the partition of the first one in its row account's useful
 * list. A band pair is scored by every partition whose bucket holds it; the merge keeps one. Only edges and weak
 * pairs are written, each with its rank in the single path's verification order (see PairRank), so the merge can
 * replay that order.
 */
import type { LinkageConfig } from '../../config';
import { timingWindow } from '../timing';
import { acceptEdge, emptyPairScore, PairScorer, type PairScore } from '../verify';
import type { ShardPlan, ShardStore } from './index';
import {
  attributePartition,
  keys,
  partFolders,
  readParts,
  toLines,
  compareRank,
  type PairRank,
  type PairRecord,
  type VerificationRecord,
} from './records';

/** Counts of one partition (LinkageStats fields, summed over partitions by the merge). */
export interface PairStats {
  attributePairs: number;
  lshCandidates: number;
  verifiedPairs: number;
}

interface Account extends VerificationRecord {
  usefulNames: Set<string>;
}

/** Position in a's useful list of the first attribute b also keeps useful, -1 when none. */
function firstShared(a: Account, b: Account): number {
  return a.useful.findIndex(([name]) => b.usefulNames.has(name));
}

/** Shared content and infrastructure weight of a and b, summed in a's useful order as the single path does. */
function sharedWeights(a: Account, b: Account): [number, number] {
  let content = 0;
  let infra = 0;
  for (const [name, w, isContent] of a.useful) {
    if (!b.usefulNames.has(name)) continue;
    if (isContent) content += w;
    else infra += w;
  }
  return [content, infra];
}

/** Candidate pairs of one band bucket, in the single path's order, as positions in `list` with their rank. */
function bandPairs(list: Account[], cfg: LinkageConfig, emit: (x: Account, y: Account, px: number, py: number) => void): void {
  if (list.length <= cfg.lshMaxBucket) {
    for (let x = 0; x < list.length; x++) for (let y = x + 1; y < list.length; y++) emit(list[x], list[y], x, y);
    return;
  }
  const ordered = [...list].sort((p, q) => {
    for (let k = 0; k < p.sig!.length; k++) if (p.sig![k] !== q.sig![k]) return p.sig![k] - q.sig![k];
    return p.i - q.i;
  });
  for (let x = 0; x < ordered.length; x++) {
    for (let y = x + 1; y <= x + cfg.lshNeighbours && y < ordered.length; y++) emit(ordered[x], ordered[y], x, y);
  }
}

/** The partition's accounts (ascending position), its attribute postings and its band buckets. */
async function readPartition(store: ShardStore, plan: ShardPlan, partition: number) {
  const accounts: Account[] = [];
  for await (const v of readParts<VerificationRecord>(store, partFolders.verification(plan), partition))
    accounts.push({ ...v, usefulNames: new Set(v.useful.map((u) => u[0])) });
  accounts.sort((x, y) => x.i - y.i);
  const postings = new Map<string, Account[]>();
  const buckets = new Map<string, { band: number; list: Account[] }>();
  for (const a of accounts) {
    for (const [name] of a.useful) {
      if (attributePartition(plan, name) !== partition) continue;
      let list = postings.get(name);
      if (!list) postings.set(name, (list = []));
      list.push(a);
    }
    for (const [band, key] of a.bands) {
      let b = buckets.get(`${band}:${key}`);
      if (!b) buckets.set(`${band}:${key}`, (b = { band, list: [] }));
      b.list.push(a);
    }
  }
  return { accounts, postings, buckets };
}

export async function pairPartition(
  store: ShardStore,
  plan: ShardPlan,
  cfg: LinkageConfig,
  partition: number,
): Promise<{ input: number; output: number }> {
  const { accounts, postings, buckets } = await readPartition(store, plan, partition);
  const local = new Map(accounts.map((a, k) => [a.i, k]));
  const scorer = new PairScorer(
    {
      stable: Uint8Array.from(accounts, (a) => (a.stable ? 1 : 0)),
      created: Float64Array.from(accounts, (a) => a.createdAt ?? NaN),
    },
    cfg,
    { ownContent: Float64Array.from(accounts, (a) => a.ownContent), ownInfra: Float64Array.from(accounts, (a) => a.ownInfra) },
    {
      ...timingWindow(cfg, plan, plan.accounts),
      sortedBuckets: accounts.map((a) => (a.buckets ? Int32Array.from(a.buckets) : null)),
      candidates: [],
      lshCandidates: 0,
    },
  );
  const stats: PairStats = { attributePairs: 0, lshCandidates: 0, verifiedPairs: 0 };
  const found = new Map<string, PairRecord>();
  const s = emptyPairScore();
  const verify = (a: Account, b: Account, wC: number, wI: number, rank: PairRank): void => {
    const key = `${a.i},${b.i}`;
    const seen = found.get(key);
    if (seen) {
      if (compareRank(rank, seen[0]) < 0) seen[0] = rank;
      return;
    }
    stats.verifiedPairs++;
    scorer.score(local.get(a.i)!, local.get(b.i)!, wC, wI, s);
    const accepted = acceptEdge(s, cfg);
    if (accepted || (cfg.syncTriangles && s.timing > 0)) found.set(key, pairRecord(rank, b.i, accepted, s));
  };
  for (const [name, list] of postings) {
    stats.attributePairs += (list.length * (list.length - 1)) / 2;
    for (let x = 0; x < list.length; x++)
      for (let y = x + 1; y < list.length; y++) {
        const [a, b] = [list[x], list[y]];
        const pos = firstShared(a, b);
        if (a.useful[pos][0] !== name) continue;
        const [wC, wI] = sharedWeights(a, b);
        if (wC < cfg.minCandidateWeight && wI < cfg.minInfraCandidateWeight) continue; // a band pair, if any
        verify(a, b, wC, wI, [a.i, 0, pos, -b.i, 0]);
      }
  }
  for (const { band, list } of buckets.values())
    bandPairs(list, cfg, (x, y, px, py) => {
      stats.lshCandidates++;
      const [a, b] = x.i < y.i ? [x, y] : [y, x];
      const pos = firstShared(a, b);
      const [wC, wI] = pos >= 0 ? sharedWeights(a, b) : [0, 0];
      if (pos >= 0 && (wC >= cfg.minCandidateWeight || wI >= cfg.minInfraCandidateWeight)) return; // scored by its attribute
      verify(a, b, wC, wI, pos >= 0 ? [a.i, 0, pos, -b.i, 0] : [a.i, 1, band, px, py]);
    });
  await store.put(keys.pairs(plan, partition), JSON.stringify(stats) + '\n' + toLines([...found.values()]));
  return { input: accounts.length, output: found.size };
}

function pairRecord(rank: PairRank, other: number, accepted: boolean, s: PairScore): PairRecord {
  return [rank, other, accepted ? 1 : 0, s.content, s.infra, s.timing, s.signup, s.total, s.phi, s.sharedBuckets, s.sharedHours];
}
