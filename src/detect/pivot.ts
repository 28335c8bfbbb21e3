/**
 * New-model pivot: when a model first appears in the traffic, how fast does each account (and each cluster) move
 * its traffic to it, compared with the population's own adoption at the same age of the model?
 *
 * The baseline is the MEDIAN account's share of traffic on the new model over the same interval
 * [firstSeen, min(now, firstSeen + horizon)], not the traffic-weighted share: a large campaign that moves
 * millions of requests would otherwise raise the baseline it is compared against. An account pivots when it had
 * established traffic before the model appeared and moved at least `minShare` of its traffic to it while the
 * median account is at a few percent. Early adopters do this too, so an account-level pivot is only a weak
 * signal; a CLUSTER pivoting together (most members, most traffic) is the strong one.
 */
import type { ModelFirstSeen } from '../aggregate/window';
import type { PivotConfig } from './config';
import { median } from './features';
import type { AccountProfile } from './profile';

const HOUR = 3_600_000;

export interface ModelAdoption {
  model: string;
  firstSeen: number;
  /** Age of the model at evaluation (ms, capped at the horizon). */
  ageMs: number;
  /** Median share of active accounts' traffic on the model over [firstSeen, firstSeen + age]. */
  medianShare: number;
  /** Traffic-weighted share (for reference). */
  trafficShare: number;
  /** Fraction of active accounts with share >= minShare. */
  adopterFraction: number;
  activeAccounts: number;
}

export interface AccountPivot {
  model: string;
  share: number;
  baseline: number;
  requests: number;
  priorRequests: number;
  firstSeen: number;
}

export interface ClusterPivot {
  clusterId: string;
  model: string;
  share: number;
  baseline: number;
  membersMoved: number;
  members: number;
  firstSeen: number;
  /** The members that moved themselves: only they carry the pivot (a member linked by chance did not move). */
  movers: string[];
  /**
   * True when the cluster as a whole pivoted; false for a group inside it that moved together (a cluster that also
   * holds members that did not move, e.g. two fleets of one operator).
   */
  whole: boolean;
}

/**
 * The largest group of a cluster's movers whose first use of the model falls within `groupWindowMs` of each other:
 * at least `minClusterSize` of them, moving at least `minShare` of their traffic. Accounts that move on their
 * own schedule (a team's early adopters) do not form one; a fleet switched by one operator does.
 */
function moverGroup(
  clusterId: string,
  movers: { id: string; m: number; n: number; at: number }[],
  members: number,
  model: string,
  baseline: number,
  floor: number,
  firstSeen: number,
  cfg: PivotConfig,
): ClusterPivot | null {
  if (movers.length < cfg.minClusterSize) return null;
  const sorted = [...movers].sort((a, b) => a.at - b.at);
  let best: typeof sorted = [];
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j].at - sorted[i].at > cfg.groupWindowMs) i++;
    if (j - i + 1 > best.length) best = sorted.slice(i, j + 1);
  }
  if (best.length < cfg.minClusterSize) return null;
  let m = 0;
  let n = 0;
  for (const x of best) {
    m += x.m;
    n += x.n;
  }
  const share = n > 0 ? m / n : 0;
  if (share < cfg.minShare || share < cfg.minLift * floor) return null;
  return { clusterId, model, share, baseline, membersMoved: best.length, members, firstSeen, movers: best.map((x) => x.id), whole: false };
}

export interface PivotResult {
  models: ModelAdoption[];
  accounts: Map<string, AccountPivot>;
  clusters: Map<string, ClusterPivot>;
}

interface Usage {
  m: number;
  n: number;
  prior: number;
  /** The account's first use of the model (kept with the usage: both change only with the profile). */
  first: number | undefined;
}

/**
 * Per account and model: the last usageOf and what it was computed for, kept between runs (replay). Valid while the
 * profile is unchanged, `from` is the same and every hour it holds (all start at or before lastTs) lies inside both
 * the old and the new [from, to]: the sums are then over the same hours.
 */
export class PivotCache {
  /** model -> accountId -> entry (two lookups by strings whose hashes are kept, no key string built per call). */
  readonly entries = new Map<string, Map<string, { version: number; from: number; to: number; usage: Usage }>>();

  /** The cache of one model, to pass to `usage`. */
  model(model: string): Map<string, { version: number; from: number; to: number; usage: Usage }> {
    let byAccount = this.entries.get(model);
    if (!byAccount) this.entries.set(model, (byAccount = new Map()));
    return byAccount;
  }

  usage(p: AccountProfile, model: string, from: number, to: number, byAccount = this.model(model)): Usage {
    const e = byAccount.get(p.accountId);
    if (e && e.version === p.version && e.from === from && (e.to === to || (p.lastTs <= e.to && p.lastTs <= to))) return e.usage;
    const usage = usageOf(p, model, from, to);
    if (e) {
      e.version = p.version;
      e.from = from;
      e.to = to;
      e.usage = usage;
    } else byAccount.set(p.accountId, { version: p.version, from, to, usage });
    return usage;
  }
}

function usageOf(p: AccountProfile, model: string, from: number, to: number): Usage {
  let m = 0;
  let n = 0;
  let prior = 0;
  for (const [start, cell] of p.hours) {
    if (start < from) prior += cell.n;
    else if (start <= to) {
      n += cell.n;
      m += cell.models[model] ?? 0;
    }
  }
  return { m, n, prior, first: p.modelFirstUse[model] };
}

/** A model new enough to watch: the hours its adoption is measured over. */
export interface PivotWindow {
  model: string;
  firstSeen: number;
  /** The hour of its release, and the end of the horizon (or now). */
  from: number;
  to: number;
}

/**
 * The models whose adoption is measured now, in `modelFirstSeen`'s order.
 * @param periodStart start of observation: a model first seen within `minHistoryMs` of it is not "new" (it may
 *   simply predate the observation).
 */
export function pivotWindows(modelFirstSeen: ModelFirstSeen, now: number, cfg: PivotConfig, periodStart: number): PivotWindow[] {
  const out: PivotWindow[] = [];
  for (const [model, firstSeen] of Object.entries(modelFirstSeen)) {
    if (firstSeen < periodStart + cfg.minHistoryMs || firstSeen > now) continue;
    if (now - firstSeen > cfg.horizonMs + cfg.reportForMs) continue;
    out.push({ model, firstSeen, from: Math.floor(firstSeen / HOUR) * HOUR, to: Math.min(now, firstSeen + cfg.horizonMs) });
  }
  return out;
}

/** Per window: the position and usage of every account that sent requests in it, in profile order. */
export type PivotUsage = { at: number; u: Usage }[][];

export function pivotUsage(profiles: readonly AccountProfile[], windows: readonly PivotWindow[], cache?: PivotCache): PivotUsage {
  return windows.map(({ model, from, to }) => {
    const out: { at: number; u: Usage }[] = [];
    const modelCache = cache?.model(model);
    for (let at = 0; at < profiles.length; at++) {
      const p = profiles[at];
      const u = cache ? cache.usage(p, model, from, to, modelCache) : usageOf(p, model, from, to);
      if (u.n > 0) out.push({ at, u });
    }
    return out;
  });
}

/** A cluster member's usage of a new model, for the cluster's pivot. */
export type MemberUsage = { id: string; clusterId: string; m: number; n: number; prior: number; first: number | undefined };

/**
 * What a part of the population contributes to one model's adoption: the shares the median is taken over, the
 * sums, and the usage of cluster members (in profile order). Parts concatenated in profile order reduce to the
 * whole population's figures.
 */
export interface ModelPart {
  shares: number[];
  sumM: number;
  sumN: number;
  members: MemberUsage[];
}

export function modelParts(
  profiles: readonly AccountProfile[],
  usage: PivotUsage,
  cfg: PivotConfig,
  clusterOf: (accountId: string) => string | undefined,
): ModelPart[] {
  return usage.map((entries) => {
    const part: ModelPart = { shares: [], sumM: 0, sumN: 0, members: [] };
    for (const { at, u } of entries) {
      part.sumM += u.m;
      part.sumN += u.n;
      if (u.n >= cfg.minActiveRequests) part.shares.push(u.m / u.n);
      const id = profiles[at].accountId;
      const clusterId = clusterOf(id);
      if (clusterId) part.members.push({ id, clusterId, m: u.m, n: u.n, prior: u.prior, first: u.first });
    }
    return part;
  });
}

/** One model's adoption over the whole population, and the clusters that pivoted to it. */
export function reduceModel(w: PivotWindow, parts: readonly ModelPart[], cfg: PivotConfig, clusters: Map<string, ClusterPivot>): ModelAdoption {
  const shares = parts.length === 1 ? parts[0].shares : parts.flatMap((p) => p.shares);
  let sumM = 0;
  let sumN = 0;
  for (const p of parts) {
    sumM += p.sumM;
    sumN += p.sumN;
  }
  let adopters = 0;
  for (const s of shares) if (s >= cfg.minShare) adopters++;
  const medianShare = median(shares) ?? 0;
  const adoption: ModelAdoption = {
    model: w.model,
    firstSeen: w.firstSeen,
    ageMs: w.to - w.firstSeen,
    medianShare,
    trafficShare: sumN ? sumM / sumN : 0,
    adopterFraction: shares.length ? adopters / shares.length : 0,
    activeAccounts: shares.length,
  };
  // Everyone moved: a normal release, nothing stands out.
  if (medianShare <= cfg.maxPopulationShare) clusterPivots(w, parts, medianShare, cfg, clusters);
  return adoption;
}

function clusterPivots(
  w: PivotWindow,
  parts: readonly ModelPart[],
  medianShare: number,
  cfg: PivotConfig,
  clusters: Map<string, ClusterPivot>,
): void {
  const { model, firstSeen, from } = w;
  const floor = Math.max(medianShare, 0.01);
  const byCluster = new Map<
    string,
    { m: number; n: number; prior: number; moved: number; members: number; movers: { id: string; m: number; n: number; at: number }[] }
  >();
  for (const part of parts)
    for (const u of part.members) {
      const share = u.m / u.n;
      const c = byCluster.get(u.clusterId) ?? { m: 0, n: 0, prior: 0, moved: 0, members: 0, movers: [] };
      c.m += u.m;
      c.n += u.n;
      c.prior += u.prior;
      c.members++;
      if (u.prior > 0 && share >= cfg.minShare) {
        c.moved++;
        c.movers.push({ id: u.id, m: u.m, n: u.n, at: u.first ?? from });
      }
      byCluster.set(u.clusterId, c);
    }
  for (const [clusterId, c] of byCluster) {
    if (c.members < cfg.minClusterSize || c.n < cfg.minRequests || c.prior < cfg.minPriorRequests) continue;
    const share = c.m / c.n;
    let pivot: ClusterPivot | null = null;
    if (share >= cfg.minShare && share >= cfg.minLift * floor && c.moved >= c.members * 0.5) {
      pivot = {
        clusterId,
        model,
        share,
        baseline: medianShare,
        membersMoved: c.moved,
        members: c.members,
        firstSeen,
        movers: c.movers.map((x) => x.id),
        whole: true,
      };
    } else {
      pivot = moverGroup(clusterId, c.movers, c.members, model, medianShare, floor, firstSeen, cfg);
    }
    const prev = clusters.get(clusterId);
    if (pivot && (!prev || pivot.share > prev.share)) clusters.set(clusterId, pivot);
  }
}

/** Accounts that moved to a new model far beyond the population's median share (one entry each: its largest move). */
export function accountPivots(
  profiles: readonly AccountProfile[],
  windows: readonly PivotWindow[],
  usage: PivotUsage,
  models: readonly ModelAdoption[],
  cfg: PivotConfig,
): Map<string, AccountPivot> {
  const accounts = new Map<string, AccountPivot>();
  windows.forEach(({ model, firstSeen }, k) => {
    const medianShare = models[k].medianShare;
    if (medianShare > cfg.maxPopulationShare) return;
    const floor = Math.max(medianShare, 0.01);
    for (const { at, u } of usage[k]) {
      const share = u.m / u.n;
      if (u.n < cfg.minRequests || u.prior < cfg.minPriorRequests) continue;
      if (share < cfg.minShare || share < cfg.minLift * floor) continue;
      const accountId = profiles[at].accountId;
      const prev = accounts.get(accountId);
      if (!prev || share > prev.share) {
        accounts.set(accountId, { model, share, baseline: medianShare, requests: u.n, priorRequests: u.prior, firstSeen });
      }
    }
  });
  return accounts;
}

/**
 * New-model adoption over the population, and the accounts and clusters that pivoted: the composition of the steps
 * above on one part (sharded scoring runs them on many).
 * @param periodStart start of observation (see `pivotWindows`).
 * @param cache per-account usage kept between runs (replay).
 */
export function detectPivots(
  profiles: AccountProfile[],
  modelFirstSeen: ModelFirstSeen,
  now: number,
  cfg: PivotConfig,
  clusterOf: (accountId: string) => string | undefined,
  periodStart: number,
  cache?: PivotCache,
): PivotResult {
  const windows = pivotWindows(modelFirstSeen, now, cfg, periodStart);
  const usage = pivotUsage(profiles, windows, cache);
  const parts = modelParts(profiles, usage, cfg, clusterOf);
  const clusters = new Map<string, ClusterPivot>();
  const models = windows.map((w, k) => reduceModel(w, [parts[k]], cfg, clusters));
  return { models, accounts: accountPivots(profiles, windows, usage, models, cfg), clusters };
}
