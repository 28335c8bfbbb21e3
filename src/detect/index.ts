/**
 * Detection entry point, shared by the scheduled scorer (lambdas/detect) and replay (src/replay):
 * profiles (merged AccountWindows) -> features -> linkage -> pivot -> per-account decisions with reasons.
 * Plain TypeScript, no AWS imports.
 */
import type { ModelFirstSeen } from '../aggregate/window';
import type { Decision } from '../shared/contract';
import type { DetectionConfig, Signal } from './config';
import { NetworkCounter, computeFeatures, median, sortedNumbers } from './features';
import type { AccountFeatures } from './features';
import { linkAccounts } from './linkage';
import type { LinkageCache } from './linkage';
import type { AccountLink, Cluster, LinkageResult } from './linkage';
import { PivotCache, detectPivots } from './pivot';
import type { ModelAdoption } from './pivot';
import type { AccountProfile } from './profile';
import { COORDINATION_FAMILIES, accountSignals, cotPerDay, decide } from './score';
import { externalSignals, withExternal } from './external';
import type { ExternalIndicatorSet } from './external';
import type { AccountDecision, ClusterContext, EvidenceFamily, FleetSignups, PopulationBaselines } from './score';
import type { ClusterPivot } from './pivot';

export * from './config';
export * from './external';
export * from './features';
export * from './linkage';
export * from './pivot';
export * from './profile';
export * from './score';

export interface DetectionInput {
  profiles: AccountProfile[];
  modelFirstSeen: ModelFirstSeen;
  /** Evaluation time (log time in replay, wall clock in the scorer), ms. */
  now: number;
  /** Start of the observation period (ms). */
  periodStart: number;
  config: DetectionConfig;
  /** accountId -> clusterId of the previous run, for stable cluster ids. */
  previousClusters?: Map<string, string>;
  /** Reuse this linkage instead of recomputing it (replay with a linkage cadence longer than its scoring interval). */
  linkage?: LinkageResult;
  /** Per-account features/decisions kept between runs (replay). */
  scoringCache?: ScoringCache;
  /** Per-account linkage data kept between runs (replay). */
  cache?: LinkageCache;
  /** Accounts never flagged (allowlist): still computed, decision forced to `allow`. */
  allowlist?: Set<string>;
  /** Indicators partners shared (the `external-indicator` signal). */
  external?: ExternalIndicatorSet;
}

/** One account's features and last decision, and the profile version they were computed for. */
interface ScoringEntry {
  version: number;
  features: AccountFeatures;
  decision?: DetectionResult['accounts'][number];
  decidedVersion?: number;
  linked?: boolean;
  warm?: boolean;
}

/** Per-account features and decisions kept between runs (replay): recomputed only when the profile changed. */
export class ScoringCache {
  readonly entries = new Map<string, ScoringEntry>();
  /** Per-account usage of new models (pivot detection). */
  readonly pivot = new PivotCache();
  /** Per-account distinct networks, counted as subnets arrive. */
  readonly networks = new Map<string, NetworkCounter>();
}

export interface ClusterReport {
  clusterId: string;
  accountIds: string[];
  reasons: Signal[];
  /** Highest member decision. */
  decision: Decision;
  /**
   * The decision on the cluster as a whole: the highest member decision when the cluster's evidence (coordination,
   * fleet, pivot) raised a member, or when two or more members were flagged; `monitor` at most when its one flagged
   * member would be flagged on its own traffic alone (an account taken over inside its owner's team): such a
   * cluster is context for that account's case, not a campaign.
   */
  clusterDecision: Decision;
  /** Fleet groups and pivot movers as counts: the report travels in workflow inputs, so it stays small. */
  evidence: Cluster['evidence'] & {
    intentShare: number | null;
    meanOutput: number | null;
    fleet: { windowMs: number; groups: (Omit<FleetSignups['groups'][number], 'accountIds'> & { members: number })[] } | null;
    pivot: (Omit<ClusterPivot, 'movers'> & { movers: number }) | null;
  };
}

export interface DetectionResult {
  accounts: (AccountDecision & { features: AccountFeatures })[];
  clusters: ClusterReport[];
  models: ModelAdoption[];
  baselines: PopulationBaselines;
  linkage: LinkageResult['stats'];
  /** The full linkage (for reuse by the next run). */
  linkageResult: LinkageResult;
}

const ORDER: Record<Decision, number> = { allow: 0, monitor: 1, review: 2, suspend: 3 };
const FAMILY_REASON: Record<string, Signal> = {
  timing: 'synchronized-activity',
  content: 'shared-templates',
  infra: 'shared-infrastructure',
};

export function runDetection(input: DetectionInput): DetectionResult {
  const { profiles, config, now } = input;
  const sc = input.scoringCache;
  // Per profile, by position: its features and cache entry, looked up once per run (the per-account loops below
  // run over every active account at every run).
  const warm = now - input.periodStart >= config.warmupMs;
  const features: AccountFeatures[] = new Array(profiles.length);
  const entries: (ScoringEntry | undefined)[] = new Array(profiles.length);
  // The previous decision where it stands unless the account is linked or pivots now: checked while the entry is at
  // hand (by the decision loop, linkage has evicted the entries from the CPU caches).
  const standing: ScoringEntry['decision'][] = new Array(profiles.length);
  profiles.forEach((p, i) => {
    let cached = sc?.entries.get(p.accountId);
    if (!cached || cached.version !== p.version) {
      let networks = sc?.networks.get(p.accountId);
      if (sc && !networks) sc.networks.set(p.accountId, (networks = new NetworkCounter()));
      const f = computeFeatures(p, input.modelFirstSeen, now, networks);
      cached = { version: p.version, features: f };
      sc?.entries.set(p.accountId, cached);
    }
    features[i] = cached.features;
    entries[i] = sc ? cached : undefined;
    standing[i] = sc ? standingDecision(cached, p, warm, input) : undefined;
  });
  // Population baselines.
  let withUsage = false;
  for (const f of features) {
    if (f.usageEvents < config.thresholds.baselineMinRequests) continue;
    withUsage = true;
    break;
  }
  const outputUnit: PopulationBaselines['outputUnit'] = withUsage ? 'tokens' : 'bytes';
  const outs: number[] = [];
  for (const f of features) {
    if (f.requests < config.thresholds.baselineMinRequests) continue;
    const v = outputUnit === 'tokens' ? f.avgOutputTokens : f.avgResponseBytes;
    if (v !== null) outs.push(v);
  }
  const baselines: PopulationBaselines = { medianOutput: median(outs), outputUnit };
  const periodEnd = Math.max(now, input.periodStart);
  const linkage =
    input.linkage ??
    linkAccounts(profiles, config.linkage, { periodStart: input.periodStart, periodEnd, previous: input.previousClusters }, input.cache);
  const pivots = detectPivots(
    profiles,
    input.modelFirstSeen,
    now,
    config.pivot,
    (id) => linkage.byAccount.get(id)?.clusterId,
    input.periodStart,
    sc?.pivot,
  );
  // Account id -> position in `profiles`, for cluster members (last wins, as a map built from the list would).
  const position = new Map<string, number>();
  if (linkage.clusters.length > 0) profiles.forEach((p, i) => position.set(p.accountId, i));
  const contexts = clusterContexts(profiles, features, position, linkage, pivots.clusters, baselines, now, config);
  const accounts: DetectionResult['accounts'] = [];
  for (let i = 0; i < profiles.length; i++) {
    const p = profiles[i];
    const f = features[i];
    const link = linkage.byAccount.get(p.accountId);
    const ctx = link ? contexts.get(link.clusterId) : undefined;
    const pv = pivots.accounts.get(p.accountId);
    // Unchanged, unlinked, no pivot, now and at the last run: the previous decision stands.
    const previous = standing[i];
    if (previous && !link && !pv) {
      accounts.push(previous);
      continue;
    }
    const cached = entries[i];
    const details = accountSignals(f, link, ctx, pv, baselines, config);
    details.push(...externalSignals(p, f, input.external, now, config));
    let { decision, score, reasons } = decide(details, f.requests, config);
    const unshadowed = withExternal(decide(details, f.requests, config, true).decision, details, f.requests, config, true);
    if (!warm && decisionRank(decision) > decisionRank('monitor')) decision = 'monitor';
    const raised = withExternal(decision, details, f.requests, config);
    if (raised !== decision) {
      decision = raised;
      reasons = [...new Set(details.filter((r) => !r.shadow && r.strength >= 0.2).map((r) => r.signal))];
    }
    if (input.allowlist?.has(p.accountId)) {
      decision = 'allow';
      reasons = [];
    }
    // The first 100 other members lie within the first 101 members.
    const related = ctx
      ? ctx.cluster.accountIds
          .slice(0, 101)
          .filter((id) => id !== p.accountId)
          .slice(0, 100)
      : [];
    const out: DetectionResult['accounts'][number] = {
      accountId: p.accountId,
      decision,
      score,
      reasons,
      reasonDetails: details,
      clusterId: link?.clusterId ?? null,
      relatedAccountIds: related,
      unshadowedDecision: unshadowed,
      features: f,
    };
    accounts.push(out);
    if (cached) {
      cached.decision = out;
      cached.decidedVersion = p.version;
      cached.linked = !!link || !!pv;
      cached.warm = warm;
    }
  }
  const clusters: ClusterReport[] = linkage.clusters.map((c) => {
    const ctx = contexts.get(c.clusterId)!;
    const reasons: Signal[] = [];
    for (const fam of ['timing', 'content', 'infra'] as const) if (c.evidence.families[fam]) reasons.push(FAMILY_REASON[fam]);
    if (ctx.fleet) reasons.push('signup-burst');
    if (ctx.intentShare !== null && ctx.intentShare >= config.thresholds.intentShareStart) reasons.push('cot-elicitation');
    if (ctx.pivot) reasons.push('model-pivot');
    let decision: Decision = 'allow';
    let flagged = 0;
    let raised = false;
    for (const id of c.accountIds) {
      const at = position.get(id);
      const a = at === undefined ? undefined : accounts[at];
      const d = a?.decision ?? 'allow';
      if (ORDER[d] > ORDER[decision]) decision = d;
      if (!a || ORDER[d] < ORDER.review) continue;
      flagged++;
      if (!raised && ORDER[ownDecision(a, features[at!].requests, config)] < ORDER[d]) raised = true;
    }
    // One member flagged on its own traffic alone: the cluster is its context, not a campaign.
    const clusterDecision: Decision = raised || flagged >= 2 ? decision : ORDER[decision] > ORDER.monitor ? 'monitor' : decision;
    return {
      clusterId: c.clusterId,
      accountIds: c.accountIds,
      reasons,
      decision,
      clusterDecision,
      evidence: {
        ...c.evidence,
        intentShare: ctx.intentShare,
        meanOutput: ctx.meanOutput,
        fleet: ctx.fleet
          ? { windowMs: ctx.fleet.windowMs, groups: ctx.fleet.groups.map(({ accountIds, ...g }) => ({ ...g, members: accountIds.length })) }
          : null,
        pivot: ctx.pivot ? { ...ctx.pivot, movers: ctx.pivot.movers.length } : null,
      },
    };
  });
  return { accounts, clusters, models: pivots.models, baselines, linkage: linkage.stats, linkageResult: linkage };
}

/**
 * The cached decision if it can stand (unless the account is linked or pivots now): made for this profile version,
 * as warm, without a link or pivot then, not allowlisted, and no external indicator could change it.
 */
function standingDecision(cached: ScoringEntry, p: AccountProfile, warm: boolean, input: DetectionInput): ScoringEntry['decision'] {
  const d = cached.decision;
  if (!d || cached.decidedVersion !== p.version || cached.warm !== warm || cached.linked) return undefined;
  if (input.allowlist?.has(p.accountId) || (input.external && d.reasonDetails.some((r) => r.family === 'external'))) return undefined;
  return d;
}

/** Evidence a cluster lends its members: coordination, and the fleet and pivot measured on the cluster. */
const CLUSTER_FAMILIES: readonly EvidenceFamily[] = [...COORDINATION_FAMILIES, 'fleet', 'pivot'];

/** The decision an account's own traffic would reach without any evidence from its cluster. */
function ownDecision(a: AccountDecision, requests: number, config: DetectionConfig): Decision {
  return decide(
    a.reasonDetails.filter((r) => !CLUSTER_FAMILIES.includes(r.family)),
    requests,
    config,
  ).decision;
}

/** Per cluster: aggregate intent and output, its pivot, and whether its members were created together. */
function clusterContexts(
  profiles: AccountProfile[],
  features: AccountFeatures[],
  position: Map<string, number>,
  linkage: LinkageResult,
  pivots: Map<string, ClusterPivot>,
  base: PopulationBaselines,
  now: number,
  config: DetectionConfig,
): Map<string, ClusterContext> {
  const contexts = new Map<string, ClusterContext>();
  if (linkage.clusters.length === 0) return contexts;
  // The null model's population: accounts linked to nobody (a second fleet created the same week must not make
  // the first look ordinary).
  const created: number[] = [];
  for (const p of profiles) if (p.createdAt !== null && !linkage.byAccount.has(p.accountId)) created.push(p.createdAt);
  const population = sortedNumbers(created);
  for (const c of linkage.clusters) {
    let usage = 0;
    let intent = 0;
    let out = 0;
    let outN = 0;
    const members: { id: string; createdAt: number }[] = [];
    const duty = new Map<string, number>();
    let cot = 0;
    for (const id of c.accountIds) {
      const at = position.get(id);
      if (at === undefined) continue;
      const p = profiles[at];
      const f = features[at];
      if (f) cot += cotPerDay(f, config.thresholds.intentMinDays);
      usage += p.usageN;
      intent += p.promptClasses['cot_elicitation'] ?? 0;
      if (base.outputUnit === 'tokens') {
        out += p.outputTokens;
        outN += p.usageN;
      } else {
        out += p.respBytes;
        outN += p.respBytesN;
      }
      if (p.createdAt !== null) members.push({ id, createdAt: p.createdAt });
      // Hours active since the account's first request, up to now (a finished event's burst is not a duty cycle),
      // for members observed long enough for it to mean something (a cohort's first evening is not a routine).
      const observedMs = f ? now - f.firstTs : 0;
      if (f && observedMs >= config.thresholds.fleetMinHistoryMs) duty.set(id, f.activeHours / Math.ceil(observedMs / 3_600_000));
    }
    const fleet = fleetSignups(members, population, now, config, duty);
    if (fleet) fleet.companions = fleetCompanions(fleet, c.accountIds, duty, linkage.byAccount, config);
    contexts.set(c.clusterId, {
      cluster: c,
      intentShare: usage > 0 ? intent / usage : null,
      usageEvents: usage,
      meanOutput: outN >= config.thresholds.outputMinRequests ? out / outN : null,
      pivot: pivots.get(c.clusterId),
      cotPerAccountDay: c.accountIds.length ? cot / c.accountIds.length : 0,
      fleet,
    });
  }
  return contexts;
}

/** log10 of P(X >= k) for X ~ Binomial(n, p), summed in log space (hand-written: a few lines, no dependency). */
export function binomialTailLog10(n: number, k: number, p: number): number {
  if (k <= 0) return 0;
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return 0;
  const lnP = Math.log(p);
  const lnQ = Math.log1p(-p);
  let lnChoose = 0; // ln C(n, i), built up from i = 0
  const terms: number[] = [];
  for (let i = 1; i <= n; i++) {
    lnChoose += Math.log((n - i + 1) / i);
    if (i >= k) terms.push(lnChoose + i * lnP + (n - i) * lnQ);
  }
  const max = Math.max(...terms);
  let sum = 0;
  for (const x of terms) sum += Math.exp(x - max);
  return (max + Math.log(sum)) / Math.LN10;
}

/** Lower-bound index of x in a sorted array. */
function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Groups of members created within `fleetWindowMs` of each other, against the unlinked population created in the
 * same window (the null model: members drawn from the population would mostly fall outside it). Windows are taken
 * densest first and their members removed, so one cluster can hold several fleets (two sign-up waves, two fleets
 * of one operator). A group counts when it has at least `minClusterSize` members, its binomial tail is at most
 * 10^`fleetMaxLog10P`, its members are young, and they run machine-like: at least `minClusterSize` of them observed
 * for `fleetMinHistoryMs`, their median active in at least `fleetMinDutyCycle` of the hours since its first request
 * (`duty`; a class or bootcamp cohort signs up together too, but is active in class hours). A member whose own
 * duty is below `fleetMemberMinDutyCycle` stays out of the group's account list (a person in the window by chance).
 * `companions` are filled by `fleetCompanions`.
 */
export function fleetSignups(
  members: { id: string; createdAt: number }[],
  population: ArrayLike<number>,
  now: number,
  config: DetectionConfig,
  duty: Map<string, number>,
): FleetSignups | null {
  const t = config.thresholds;
  const min = config.linkage.minClusterSize;
  if (members.length < min) return null;
  let rest = [...members].sort((a, b) => a.createdAt - b.createdAt);
  const groups: FleetSignups['groups'] = [];
  while (rest.length >= min) {
    let best = 0;
    let bestAt = 0;
    for (let i = 0, j = 0; j < rest.length; j++) {
      while (rest[j].createdAt - rest[i].createdAt > t.fleetWindowMs) i++;
      if (j - i + 1 > best) {
        best = j - i + 1;
        bestAt = i;
      }
    }
    if (best < min) break;
    const group = rest.slice(bestAt, bestAt + best);
    rest = [...rest.slice(0, bestAt), ...rest.slice(bestAt + best)];
    const start = group[0].createdAt;
    const inPopulation = lowerBound(population, start + t.fleetWindowMs + 1) - lowerBound(population, start);
    // Laplace-smoothed, so that an empty background does not make any pair of sign-ups look impossible.
    const populationShare = (inPopulation + 1) / (population.length + 2);
    const medianAgeMs = Math.max(0, now - group[group.length >> 1].createdAt);
    // The window was chosen after looking: demand a very small binomial tail, not just a high share.
    const log10P = binomialTailLog10(members.length, best, populationShare);
    if (populationShare > t.fleetMaxPopulationShare || medianAgeMs > t.fleetMaxAgeMs || log10P > t.fleetMaxLog10P) continue;
    const observed = group.map((g) => duty.get(g.id)).filter((x): x is number => x !== undefined);
    const dutyCycle = observed.length >= min ? median(observed)! : 0;
    if (dutyCycle < t.fleetMinDutyCycle) continue;
    const machine = group.filter((g) => (duty.get(g.id) ?? 1) >= t.fleetMemberMinDutyCycle);
    groups.push({ accountIds: machine.map((g) => g.id), windowStart: start, populationShare, log10P, medianAgeMs, dutyCycle });
  }
  return groups.length ? { known: members.length, windowMs: t.fleetWindowMs, groups, companions: [] } : null;
}

/**
 * A fleet's companions: older members of its cluster that draw, strongly, on the prompt library most of a fleet
 * group's members draw on, and run at least `fleetMinDutyCycle` of their hours as the machines do (aged or bought
 * accounts added to a fleet). A team's own library beside a fleet in one cluster is another library: no credit.
 */
export function fleetCompanions(
  fleet: FleetSignups,
  clusterIds: readonly string[],
  duty: Map<string, number>,
  links: Map<string, AccountLink>,
  config: DetectionConfig,
): string[] {
  const libraries = new Set<number>();
  for (const g of fleet.groups) {
    const count = new Map<number, number>();
    for (const id of g.accountIds) {
      const lib = links.get(id)?.libraryGroup;
      if (lib !== undefined) count.set(lib, (count.get(lib) ?? 0) + 1);
    }
    for (const [lib, n] of count) if (2 * n >= g.accountIds.length) libraries.add(lib);
  }
  const inGroup = new Set(fleet.groups.flatMap((g) => g.accountIds));
  return clusterIds.filter((id) => {
    const link = links.get(id);
    if (!link || inGroup.has(id) || link.libraryGroup === undefined || !libraries.has(link.libraryGroup)) return false;
    return link.libraryScore >= config.decisions.strongSignal && (duty.get(id) ?? 0) >= config.thresholds.fleetMinDutyCycle;
  });
}

export function decisionRank(d: Decision): number {
  return ORDER[d];
}
