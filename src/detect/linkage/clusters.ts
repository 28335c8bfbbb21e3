/**
 * Phase 6, clusters: connected components of the final graph with at least minClusterSize members become clusters,
 * with a stable id, cluster-level evidence (families over its edges, shared rare attributes, sign-up spread,
 * exclusive templates) and per-account links. Read-only over the graph and the attribute index.
 */
import type { LinkageConfig } from '../config';
import type { AttributeIndex } from './attributes';
import type { LinkGraph } from './graph';
import type { PromptLibraries } from './groups';
import { fnv1a } from './primitives';
import {
  FAMILIES,
  type AccountLink,
  type Cluster,
  type ClusterEvidence,
  type Family,
  type LinkageAccount,
  type LinkageOptions,
  type SharedAttribute,
} from './types';

/** A family "contributes" to an edge from this score on. */
const CONTRIBUTES = 0.2;

/** Member indices of the components with at least `minSize` accounts, largest first (ties: lowest member first). */
export function components(graph: LinkGraph, minSize: number): number[][] {
  const comps = new Map<number, number[]>();
  for (let i = 0; i < graph.edgeIdx.length; i++) {
    if (!graph.edgeIdx[i]) continue;
    const r = graph.uf.find(i);
    let list = comps.get(r);
    if (!list) comps.set(r, (list = []));
    list.push(i);
  }
  const kept: number[][] = [];
  for (const members of comps.values()) if (members.length >= minSize) kept.push(members);
  return kept.sort((x, y) => y.length - x.length);
}

/**
 * Stable ids: a component inherits the previous id most of its members carried, if no larger component took it
 * already; else a hash of its smallest account id. `ids` are the sorted member account ids.
 */
export function assignClusterId(ids: string[], previous: Map<string, string> | undefined, used: Set<string>): string {
  let clusterId: string | undefined;
  if (previous) {
    const votes = new Map<string, number>();
    for (const id of ids) {
      const prev = previous.get(id);
      if (prev && !used.has(prev)) votes.set(prev, (votes.get(prev) ?? 0) + 1);
    }
    let best = 0;
    for (const [cid, v] of votes)
      if (v > best || (v === best && clusterId !== undefined && cid < clusterId)) {
        best = v;
        clusterId = cid;
      }
  }
  if (!clusterId) {
    clusterId = 'c-' + fnv1a(ids[0]).toString(16).padStart(8, '0');
    let n = 1;
    while (used.has(clusterId))
      clusterId =
        'c-' +
        fnv1a(ids[0] + '#' + n++)
          .toString(16)
          .padStart(8, '0');
  }
  used.add(clusterId);
  return clusterId;
}

/** Cluster-level evidence, and the cluster's exclusive templates (for the per-account counts). */
export function clusterEvidence(
  members: number[],
  graph: LinkGraph,
  index: AttributeIndex,
  profiles: readonly LinkageAccount[],
  cfg: LinkageConfig,
): { evidence: ClusterEvidence; exclusive: Set<number> } {
  const { df, fam, names } = index;
  const edgeSet = new Set<number>();
  for (const i of members) for (const e of graph.edgeIdx[i]) edgeSet.add(e);
  const families: Partial<Record<Family, { edges: number; meanScore: number }>> = {};
  let phiSum = 0;
  let phiN = 0;
  for (const e of edgeSet) {
    const edge = graph.edges[e];
    for (const f of FAMILIES) {
      const s = edge.scores[f];
      if (s < CONTRIBUTES) continue;
      const agg = (families[f] ??= { edges: 0, meanScore: 0 });
      agg.meanScore = (agg.meanScore * agg.edges + s) / (agg.edges + 1);
      agg.edges++;
    }
    if (edge.scores.timing > 0) {
      phiSum += edge.phi;
      phiN++;
    }
  }
  // Shared rare attributes among members (a platform's templates do not count).
  const { ids: held, count } = holderCounts(members, index);
  const sharedAttributes: SharedAttribute[] = held
    .filter((id) => count[id] >= 2)
    .sort((x, y) => count[y] - count[x] || df[x] - df[y])
    .slice(0, 8)
    .map((id) => ({ attribute: names[id], family: fam[id], members: count[id], population: df[id] }));
  // Templates (almost) exclusive to the cluster: held by several members and by few accounts outside it. A
  // large fleet's templates are held by so many accounts that pairwise rarity discounts them; concentration
  // inside a cluster already bound by other evidence is what makes them telling.
  const exclusive = new Set<number>();
  for (const id of held) {
    const c = count[id];
    if (fam[id] === 'content' && c >= Math.max(3, cfg.exclusiveMinMembers * members.length) && c / df[id] >= cfg.exclusiveMinShare) exclusive.add(id);
  }
  let minC = Infinity;
  let maxC = -Infinity;
  for (const i of members) {
    const c = profiles[i].createdAt;
    if (c === null) continue;
    if (c < minC) minC = c;
    if (c > maxC) maxC = c;
  }
  const evidence: ClusterEvidence = {
    edges: edgeSet.size,
    families,
    meanPhi: phiN ? phiSum / phiN : 0,
    sharedAttributes,
    signupSpreadMs: Number.isFinite(minC) ? maxC - minC : null,
    exclusiveTemplates: exclusive.size,
  };
  return { evidence, exclusive };
}

/**
 * Rare attributes (2 <= df <= K) held by the members, in the order first met, and how many members hold each
 * (`count`, indexed by attribute id, valid for the listed ids only; a platform's templates are left out). A typed
 * array instead of a map: a fleet's members hold thousands of pool addresses.
 */
function holderCounts(members: number[], index: AttributeIndex): { ids: number[]; count: Int32Array } {
  const { accAttrs, df, fam, k: K, platform: platforms } = index;
  const count = new Int32Array(df.length);
  const ids: number[] = [];
  for (const i of members) {
    const platform = platforms[i] === 1;
    for (const id of accAttrs[i]) {
      if (df[id] < 2 || df[id] > K || (platform && fam[id] === 'content')) continue;
      if (count[id]++ === 0) ids.push(id);
    }
  }
  return { ids, count };
}

/** Account i's link to its cluster: family means and maxima over its edges, synchrony, templates, library. */
export function accountLink(
  i: number,
  clusterId: string,
  graph: LinkGraph,
  index: AttributeIndex,
  exclusive: Set<number>,
  library: PromptLibraries,
): AccountLink {
  const { accAttrs, df, fam, k: K } = index;
  const sums: Record<Family, number> = { content: 0, infra: 0, timing: 0, signup: 0 };
  const counts: Record<Family, number> = { content: 0, infra: 0, timing: 0, signup: 0 };
  const maxF: Record<Family, number> = { content: 0, infra: 0, timing: 0, signup: 0 };
  let degree = 0;
  let phiAcc = 0;
  let syncPeers = 0;
  for (const e of graph.edgeIdx[i]) {
    const edge = graph.edges[e];
    degree++;
    if (edge.scores.timing >= CONTRIBUTES) {
      phiAcc += edge.phi;
      syncPeers++;
    }
    for (const f of FAMILIES) {
      const s = edge.scores[f];
      if (s > maxF[f]) maxF[f] = s;
      if (s < CONTRIBUTES) continue;
      sums[f] += s;
      counts[f]++;
    }
  }
  const families: Record<Family, number> = { content: 0, infra: 0, timing: 0, signup: 0 };
  for (const f of FAMILIES) families[f] = counts[f] ? sums[f] / counts[f] : 0;
  let sharedTemplates = 0;
  let exclusiveTemplates = 0;
  for (const id of accAttrs[i]) {
    if (fam[id] === 'content' && df[id] >= 2 && df[id] <= K) sharedTemplates++;
    if (exclusive.has(id)) exclusiveTemplates++;
  }
  const group = library.groupOf[i] >= 0 ? library.groups[library.groupOf[i]] : null;
  return {
    clusterId,
    families,
    maxFamilies: maxF,
    degree,
    sharedTemplates,
    exclusiveTemplates,
    meanPhi: syncPeers ? phiAcc / syncPeers : 0,
    syncPeers,
    libraryTemplates: library.templates[i],
    libraryScore: library.score[i],
    librarySize: group ? group.templates : 0,
    libraryAccounts: group ? group.members.length : 0,
    ...(group ? { libraryGroup: library.groupOf[i] } : {}),
  };
}

/** Clusters (largest first) and the per-account links of their members. */
export function assembleClusters(
  profiles: readonly LinkageAccount[],
  cfg: LinkageConfig,
  opts: LinkageOptions,
  index: AttributeIndex,
  graph: LinkGraph,
  library: PromptLibraries,
): { clusters: Cluster[]; byAccount: Map<string, AccountLink> } {
  const clusters: Cluster[] = [];
  const byAccount = new Map<string, AccountLink>();
  const used = new Set<string>();
  for (const members of components(graph, cfg.minClusterSize)) {
    const ids = members.map((i) => profiles[i].accountId).sort();
    const clusterId = assignClusterId(ids, opts.previous, used);
    const { evidence, exclusive } = clusterEvidence(members, graph, index, profiles, cfg);
    clusters.push({ clusterId, accountIds: ids, evidence });
    for (const i of members) byAccount.set(profiles[i].accountId, accountLink(i, clusterId, graph, index, exclusive, library));
  }
  return { clusters, byAccount };
}
