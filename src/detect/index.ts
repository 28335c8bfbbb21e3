/**
 * Detection entry point, shared by the scheduled scorer (lambdas/detect) and replay (src/replay):
 * profiles (merged AccountWindows) -> features -> linkage -> pivot -> per-account decisions with reasons.
 * Plain TypeScript, no AWS imports.
 */
import type { ModelFirstSeen } from '../aggregate/window';
import type { Decision } from '../shared/contract';
import type { DetectionConfig, Signal } from './config';
import { NetworkCounter, computeFeatures } from './features';
import type { AccountFeatures } from './features';
import { linkAccounts } from './linkage';
import type { Cluster, LinkageCache, LinkageResult } from './linkage';
import { PivotCache, accountPivots, pivotUsage, pivotWindows } from './pivot';
import type { ClusterPivot, ModelAdoption } from './pivot';
import type { AccountProfile } from './profile';
import type { ExternalIndicatorSet } from './external';
import type { AccountDecision, FleetSignups, PopulationBaselines } from './score';
import { reduceScoring, type ScoringContext } from './scoring/context';
import { DECISION_ORDER, clusterReasons, clusterVerdict, decideAccount, memberVerdicts, type MemberVerdict } from './scoring/decide';
import type { ClusterContext } from './score';
import { scoringPart } from './scoring/parts';

export * from './config';
export * from './external';
export * from './features';
export * from './linkage';
export * from './pivot';
export * from './profile';
export * from './score';
export * from './scoring/context';
export * from './scoring/decide';
export * from './scoring/fleet';
export * from './scoring/parts';
export * from './scoring/sharded';

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

export function runDetection(input: DetectionInput): DetectionResult {
  const { profiles, config, now } = input;
  const sc = input.scoringCache;
  const warm = now - input.periodStart >= config.warmupMs;
  const { features, entries, standing } = accountFeatures(input, warm);
  const periodEnd = Math.max(now, input.periodStart);
  const linkage =
    input.linkage ??
    linkAccounts(profiles, config.linkage, { periodStart: input.periodStart, periodEnd, previous: input.previousClusters }, input.cache);
  const windows = pivotWindows(input.modelFirstSeen, now, config.pivot, input.periodStart);
  const usage = pivotUsage(profiles, windows, sc?.pivot);
  const part = scoringPart(profiles, features, linkage, usage, now, config);
  const ctx = reduceScoring([part], linkage, windows, now, config);
  const pivots = accountPivots(profiles, windows, usage, ctx.models, config.pivot);
  const opts = { now, warm, config, allowlist: input.allowlist, external: input.external };
  const accounts: DetectionResult['accounts'] = [];
  for (let i = 0; i < profiles.length; i++) {
    const p = profiles[i];
    const link = linkage.byAccount.get(p.accountId);
    const pv = pivots.get(p.accountId);
    // Unchanged, unlinked, no pivot, now and at the last run: the previous decision stands.
    const previous = standing[i];
    if (previous && !link && !pv) {
      accounts.push(previous);
      continue;
    }
    const out = decideAccount(p, features[i], link, pv, ctx, opts);
    accounts.push(out);
    const cached = entries[i];
    if (cached) {
      cached.decision = out;
      cached.decidedVersion = p.version;
      cached.linked = !!link || !!pv;
      cached.warm = warm;
    }
  }
  const clusters = clusterReports(linkage.clusters, ctx, memberVerdicts(accounts, linkage, config), config);
  return { accounts, clusters, models: ctx.models, baselines: ctx.baselines, linkage: linkage.stats, linkageResult: linkage };
}

/**
 * Every profile's features (recomputed only for profiles that changed, with a scoring cache), and, with a cache,
 * its entry and the previous decision where it can stand: checked while the entry is at hand (by the decision loop,
 * linkage has evicted the entries from the CPU caches).
 */
function accountFeatures(input: DetectionInput, warm: boolean) {
  const { profiles } = input;
  const sc = input.scoringCache;
  const features: AccountFeatures[] = new Array(profiles.length);
  const entries: (ScoringEntry | undefined)[] = new Array(profiles.length);
  const standing: ScoringEntry['decision'][] = new Array(profiles.length);
  profiles.forEach((p, i) => {
    let cached = sc?.entries.get(p.accountId);
    if (!cached || cached.version !== p.version) {
      let networks = sc?.networks.get(p.accountId);
      if (sc && !networks) sc.networks.set(p.accountId, (networks = new NetworkCounter()));
      const f = computeFeatures(p, input.modelFirstSeen, input.now, networks);
      cached = { version: p.version, features: f };
      sc?.entries.set(p.accountId, cached);
    }
    features[i] = cached.features;
    entries[i] = sc ? cached : undefined;
    standing[i] = sc ? standingDecision(cached, p, warm, input) : undefined;
  });
  return { features, entries, standing };
}

/** The clusters' reports: their reasons and decisions, their evidence in counts (it travels in workflow inputs). */
export function clusterReports(
  clusters: readonly Cluster[],
  ctx: ScoringContext,
  verdicts: Map<string, MemberVerdict>,
  config: DetectionConfig,
): ClusterReport[] {
  return clusters.map((c) => {
    const cc = ctx.contexts.get(c.clusterId)!;
    const { clusterId, accountIds, reasons, evidence } = clusterSummary(c, cc, config);
    const { decision, clusterDecision } = clusterVerdict(c, cc, verdicts, config);
    return { clusterId, accountIds, reasons, decision, clusterDecision, evidence };
  });
}

/** What a cluster's report says without its members' decisions: members, reasons, evidence in counts. */
export function clusterSummary(c: Cluster, cc: ClusterContext, config: DetectionConfig): Omit<ClusterReport, 'decision' | 'clusterDecision'> {
  return {
    clusterId: c.clusterId,
    accountIds: c.accountIds,
    reasons: clusterReasons(c, cc, config),
    evidence: {
      ...c.evidence,
      intentShare: cc.intentShare,
      meanOutput: cc.meanOutput,
      fleet: cc.fleet
        ? { windowMs: cc.fleet.windowMs, groups: cc.fleet.groups.map(({ accountIds, ...g }) => ({ ...g, members: accountIds.length })) }
        : null,
      pivot: cc.pivot ? { ...cc.pivot, movers: cc.pivot.movers.length } : null,
    },
  };
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

export function decisionRank(d: Decision): number {
  return DECISION_ORDER[d];
}
