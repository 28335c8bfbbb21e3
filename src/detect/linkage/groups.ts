/**
 * Phase 4, group evidence: links that no single pair justifies but a group does. Weak synchrony closed into a
 * triangle by a third synchronized account, and prompt libraries (templates drawn by a group of accounts and by
 * nobody else) both add edges to the graph after pair verification.
 */
import type { LinkageConfig } from '../config';
import type { AccountProfile } from '../profile';
import { isPlatform, type AttributeIndex } from './attributes';
import type { LinkGraph } from './graph';
import { UnionFind } from './primitives';
import type { Family, LinkageAccount } from './types';
import type { WeakPair } from './verify';

/**
 * Weak synchrony alone is common by chance between two accounts, rare among three at once: a weak pair becomes an
 * edge (timing boosted by `syncTriangleBoost`) when a third account is synchronized with both, through a weak pair
 * or an accepted edge with timing evidence. Returns the number of edges added.
 */
export function addTriangleEdges(graph: LinkGraph, weak: WeakPair[], profiles: readonly LinkageAccount[], cfg: LinkageConfig): number {
  if (weak.length === 0) return 0;
  const adj = new Map<number, Set<number>>();
  const link = (x: number, y: number): void => {
    let sx = adj.get(x);
    if (!sx) adj.set(x, (sx = new Set()));
    sx.add(y);
  };
  for (const w of weak) {
    link(w.a, w.b);
    link(w.b, w.a);
  }
  for (const e of graph.edges) {
    if (e.scores.timing <= 0) continue;
    const x = graph.indexOf.get(e.a)!;
    const y = graph.indexOf.get(e.b)!;
    link(x, y);
    link(y, x);
  }
  let added = 0;
  for (const w of weak) {
    const sa = adj.get(w.a)!;
    const sb = adj.get(w.b)!;
    const [small, big] = sa.size < sb.size ? [sa, sb] : [sb, sa];
    let third = false;
    for (const c of small)
      if (c !== w.a && c !== w.b && big.has(c)) {
        third = true;
        break;
      }
    if (!third) continue;
    const timing = Math.min(1, w.timing * cfg.syncTriangleBoost);
    graph.add(w.a, w.b, {
      a: profiles[w.a].accountId,
      b: profiles[w.b].accountId,
      scores: { content: w.content, infra: w.infra, timing, signup: w.signup },
      total: w.total - w.timing + timing,
      phi: w.phi,
      sharedBuckets: w.sharedBuckets,
      sharedHours: w.sharedHours,
    });
    added++;
  }
  return added;
}

export interface PromptLibraries {
  /** Groups of accounts drawing from one library: member indices (the first is the hub) and distinct templates. */
  groups: { members: number[]; templates: number }[];
  /** Per account: library templates it holds, its 0..1 score, and its group index (-1: none). */
  templates: Int32Array;
  score: Float64Array;
  groupOf: Int32Array;
}

/**
 * Prompt libraries: group-level content evidence that does not wait for pairs of accounts to overlap.
 *
 * A fleet draws its prompts from one library of templates (paraphrased or not). Pair by pair, two members of a
 * large fleet with a large library share few templates, so pairwise overlap builds up slowly; but every template a
 * member sends is also sent by other members, and by nobody else. Organic users mostly write their own prompts:
 * few of their templates are shared at all, and the shared ones (public examples, a course's starter prompt) are
 * also held by many accounts that do not otherwise share prompts.
 *
 * 1. An account "draws from shared libraries" when at least `libraryMinTemplates` of its distinct templates, and at
 *    least `libraryMinShare` of them, are held by 2..`libraryMaxAccounts` accounts.
 * 2. A template belongs to a library when at least `libraryExclusiveShare` of its holders (and 2) draw from shared
 *    libraries.
 * 3. Accounts are grouped by the library templates they hold (union-find over account-template incidences); a
 *    group of at least `minClusterSize` accounts with at least `libraryMinTemplates` distinct templates is reported.
 *    A member's score is min(1, its library templates / `librarySaturation`), and 0 below 2 templates.
 *
 * Cost: one pass over account-template incidences (linear in accounts); no pair of accounts is enumerated.
 * `platform` (per account, 1 for a platform: the attribute index's) spares asking isPlatform again.
 * Hand-written: no library does bipartite group detection on this data model.
 */
export function findPromptLibraries(
  profiles: AccountProfile[],
  accAttrs: Int32Array[],
  fam: Family[],
  df: Int32Array,
  cfg: LinkageConfig,
  platform?: Uint8Array,
): PromptLibraries {
  const N = profiles.length;
  const templates = new Int32Array(N);
  const score = new Float64Array(N);
  const groupOf = new Int32Array(N).fill(-1);
  const groups: PromptLibraries['groups'] = [];
  if (cfg.libraryMinTemplates <= 0) return { groups, templates, score, groupOf };
  const shared = (id: number): boolean => fam[id] === 'content' && df[id] >= 2 && df[id] <= cfg.libraryMaxAccounts;
  // No shared template anywhere (access logs alone carry none): no account can qualify, and the dictionary is
  // shorter than the accounts' attribute lists.
  let anyShared = false;
  for (let id = 0; id < df.length && !anyShared; id++) anyShared = shared(id);
  if (!anyShared) return { groups, templates, score, groupOf };
  const qualified = new Uint8Array(N);
  const q = new Int32Array(df.length);
  for (let i = 0; i < N; i++) {
    if (platform ? platform[i] === 1 : isPlatform(profiles[i], cfg)) continue;
    let d = 0;
    let s = 0;
    for (const id of accAttrs[i]) {
      if (fam[id] !== 'content') continue;
      d++;
      if (shared(id)) s++;
    }
    if (s < cfg.libraryMinTemplates || s < cfg.libraryMinShare * d) continue;
    qualified[i] = 1;
    for (const id of accAttrs[i]) if (shared(id)) q[id]++;
  }
  const inLibrary = (id: number): boolean => shared(id) && q[id] >= 2 && q[id] >= cfg.libraryExclusiveShare * df[id];
  const uf = new UnionFind(N);
  const firstHolder = new Int32Array(df.length).fill(-1);
  for (let i = 0; i < N; i++) {
    if (!qualified[i]) continue;
    for (const id of accAttrs[i]) {
      if (!inLibrary(id)) continue;
      templates[i]++;
      if (firstHolder[id] < 0) firstHolder[id] = i;
      else uf.union(firstHolder[id], i);
    }
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < N; i++) {
    if (templates[i] < 2) continue;
    const r = uf.find(i);
    let list = byRoot.get(r);
    if (!list) byRoot.set(r, (list = []));
    list.push(i);
  }
  for (const members of byRoot.values()) {
    if (members.length < cfg.minClusterSize) continue;
    const distinct = new Set<number>();
    for (const i of members) for (const id of accAttrs[i]) if (inLibrary(id)) distinct.add(id);
    if (distinct.size < cfg.libraryMinTemplates) continue;
    const g = groups.length;
    groups.push({ members, templates: distinct.size });
    for (const i of members) {
      groupOf[i] = g;
      score[i] = Math.min(1, templates[i] / cfg.librarySaturation);
    }
  }
  for (let i = 0; i < N; i++) if (groupOf[i] < 0) templates[i] = 0;
  return { groups, templates, score, groupOf };
}

/**
 * Star edges from each library group's hub to its other members bind the group; the content score of an edge is
 * that of its weaker end. Returns the number of edges added.
 */
export function addLibraryEdges(graph: LinkGraph, library: PromptLibraries, profiles: readonly LinkageAccount[]): number {
  let added = 0;
  for (const g of library.groups) {
    const hub = g.members[0];
    for (const i of g.members) {
      if (i === hub) continue;
      const content = Math.min(library.score[i], library.score[hub]);
      graph.add(hub, i, {
        a: profiles[hub].accountId,
        b: profiles[i].accountId,
        scores: { content, infra: 0, timing: 0, signup: 0 },
        total: content,
        phi: 0,
        sharedBuckets: 0,
        sharedHours: 0,
      });
      added++;
    }
  }
  return added;
}

/** Phase 4 in full: triangle edges, then prompt-library edges. Returns the libraries (per-account evidence). */
export function addGroupEvidence(
  graph: LinkGraph,
  weak: WeakPair[],
  profiles: AccountProfile[],
  index: AttributeIndex,
  cfg: LinkageConfig,
): PromptLibraries {
  addTriangleEdges(graph, weak, profiles, cfg);
  const library = findPromptLibraries(profiles, index.accAttrs, index.fam, index.df, cfg, index.platform);
  addLibraryEdges(graph, library, profiles);
  return library;
}
