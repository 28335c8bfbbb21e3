/**
 * The edge graph the phases build up: accepted edges, each account's incident edges and union-find components.
 * Verification, group evidence and pruning all add to (or rebuild) one graph; cluster assembly reads it. Pruning
 * lives here because it only looks at edges.
 */
import type { LinkageConfig } from '../config';
import { UnionFind } from './primitives';
import type { Edge, LinkageAccount } from './types';

export class LinkGraph {
  readonly edges: Edge[] = [];
  /** Per account index: indices into `edges` (undefined while the account has none). */
  readonly edgeIdx: number[][];
  readonly uf: UnionFind;
  /** accountId -> account index, for the accounts with edges (the graph's nodes). */
  readonly indexOf = new Map<string, number>();

  /** A graph over `n` accounts, by position. */
  constructor(n: number) {
    this.edgeIdx = new Array(n);
    this.uf = new UnionFind(n);
  }

  /** Adds an edge between accounts x (edge.a) and y (edge.b), and joins their components. */
  add(x: number, y: number, edge: Edge): void {
    this.indexOf.set(edge.a, x);
    this.indexOf.set(edge.b, y);
    const k = this.edges.push(edge) - 1;
    (this.edgeIdx[x] ??= []).push(k);
    (this.edgeIdx[y] ??= []).push(k);
    this.uf.union(x, y);
  }

  degree(i: number): number {
    return this.edgeIdx[i]?.length ?? 0;
  }

  /** Replaces the edges with `kept` (in order) and recomputes incidence and components from scratch. */
  rebuild(kept: Edge[]): void {
    this.edges.length = 0;
    for (let i = 0; i < this.edgeIdx.length; i++) this.edgeIdx[i] = undefined as unknown as number[];
    this.uf.reset();
    for (const e of kept) this.add(this.indexOf.get(e.a)!, this.indexOf.get(e.b)!, e);
  }
}

/**
 * Edges without those that attach an account to the graph by a single timing-only edge (content and
 * infrastructure below 0.2): one chance synchrony edge must not pull an unrelated account into a whole cluster.
 */
export function pruneTimingLeaves(edges: Edge[]): Edge[] {
  const deg = new Map<string, number>();
  for (const e of edges) {
    deg.set(e.a, (deg.get(e.a) ?? 0) + 1);
    deg.set(e.b, (deg.get(e.b) ?? 0) + 1);
  }
  return edges.filter((e) => !(e.scores.content < 0.2 && e.scores.infra < 0.2 && (deg.get(e.a) === 1 || deg.get(e.b) === 1)));
}

/**
 * Phase 5, leaf pruning: a chance synchrony edge between an unrelated account and one member would pull that
 * account into the whole cluster, so an account whose only link is one timing-only edge is not a member; the graph
 * is rebuilt without those edges. Returns how many edges were dropped.
 */
export function pruneLeaves(graph: LinkGraph): number {
  const kept = pruneTimingLeaves(graph.edges);
  const pruned = graph.edges.length - kept.length;
  if (pruned > 0) graph.rebuild(kept);
  return pruned;
}

/**
 * Phase 5, people beside a fleet: an account whose every edge is shared infrastructure and sign-up time (content and
 * timing under 0.2) and that runs a person's hours (under `signupLinkMinDuty` of the hours since its first request,
 * observed for `signupLinkMinHistoryMs`) signed up the same week behind the fleet's VPN exit or proxy by chance; its
 * edges are dropped. Returns how many edges were dropped.
 */
export function prunePersonalAttachments(graph: LinkGraph, profiles: readonly LinkageAccount[], periodEnd: number, cfg: LinkageConfig): number {
  const drop = new Set<number>();
  for (let i = 0; i < profiles.length; i++) {
    const mine = graph.edgeIdx[i];
    if (!mine?.length) continue;
    if (!mine.every((k) => graph.edges[k].scores.content < 0.2 && graph.edges[k].scores.timing < 0.2 && graph.edges[k].scores.signup > 0)) continue;
    const p = profiles[i];
    const observedMs = periodEnd - p.firstTs;
    if (observedMs < cfg.signupLinkMinHistoryMs) continue;
    let active = 0;
    for (const cell of p.hours.values()) if (cell.n > 0) active++;
    if (active / Math.ceil(observedMs / 3_600_000) >= cfg.signupLinkMinDuty) continue;
    for (const k of mine) drop.add(k);
  }
  if (drop.size) graph.rebuild(graph.edges.filter((_, k) => !drop.has(k)));
  return drop.size;
}
