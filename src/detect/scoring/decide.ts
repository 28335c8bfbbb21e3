/**
 * Decisions, once the population's figures are known (context.ts): each account's signals and decision, from its
 * own features, its link and its cluster's context; then each cluster's report, from its members' decisions. A
 * part decides its own accounts; the cluster reports need only the decisions of cluster members (`MemberVerdict`),
 * wherever they were decided.
 */
import type { Decision } from '../../shared/contract';
import type { DetectionConfig, Signal } from '../config';
import { externalSignals, withExternal, type ExternalIndicatorSet } from '../external';
import type { AccountFeatures } from '../features';
import type { AccountLink, Cluster, LinkageResult } from '../linkage';
import type { AccountPivot } from '../pivot';
import type { AccountProfile } from '../profile';
import { COORDINATION_FAMILIES, accountSignals, decide, type AccountDecision, type ClusterContext, type EvidenceFamily } from '../score';
import type { ScoringContext } from './context';

export const DECISION_ORDER: Record<Decision, number> = { allow: 0, monitor: 1, review: 2, suspend: 3 };

export type ScoredAccount = AccountDecision & { features: AccountFeatures };

export interface DecideOptions {
  now: number;
  /** The lookback is long enough for review and suspend (`warmupMs`); before it, monitor at most. */
  warm: boolean;
  config: DetectionConfig;
  allowlist?: Set<string>;
  external?: ExternalIndicatorSet;
}

/** One account's decision (standing: its previous decision, when it can stand and nothing links it now). */
export function decideAccount(
  p: AccountProfile,
  f: AccountFeatures,
  link: AccountLink | undefined,
  pv: AccountPivot | undefined,
  ctx: ScoringContext,
  opts: DecideOptions,
): ScoredAccount {
  const { config, now } = opts;
  const cluster = link ? ctx.contexts.get(link.clusterId) : undefined;
  const details = accountSignals(f, link, cluster, pv, ctx.baselines, config);
  details.push(...externalSignals(p, f, opts.external, now, config));
  let { decision, score, reasons } = decide(details, f.requests, config);
  const unshadowed = withExternal(decide(details, f.requests, config, true).decision, details, f.requests, config, true);
  if (!opts.warm && DECISION_ORDER[decision] > DECISION_ORDER.monitor) decision = 'monitor';
  const raised = withExternal(decision, details, f.requests, config);
  if (raised !== decision) {
    decision = raised;
    reasons = [...new Set(details.filter((r) => !r.shadow && r.strength >= 0.2).map((r) => r.signal))];
  }
  if (opts.allowlist?.has(p.accountId)) {
    decision = 'allow';
    reasons = [];
  }
  // The first 100 other members lie within the first 101 members.
  const related = cluster
    ? cluster.cluster.accountIds
        .slice(0, 101)
        .filter((id) => id !== p.accountId)
        .slice(0, 100)
    : [];
  return {
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

/** What a cluster's report needs of a member: its decision and, when flagged, what its own traffic alone reaches. */
export interface MemberVerdict {
  decision: Decision;
  own?: Decision;
}

/** The verdicts of the cluster members among `accounts`. */
export function memberVerdicts(
  accounts: readonly ScoredAccount[],
  linkage: Pick<LinkageResult, 'byAccount'>,
  config: DetectionConfig,
): Map<string, MemberVerdict> {
  const out = new Map<string, MemberVerdict>();
  if (linkage.byAccount.size === 0) return out;
  for (const a of accounts) {
    if (!linkage.byAccount.has(a.accountId)) continue;
    const flagged = DECISION_ORDER[a.decision] >= DECISION_ORDER.review;
    out.set(a.accountId, flagged ? { decision: a.decision, own: ownDecision(a, a.features.requests, config) } : { decision: a.decision });
  }
  return out;
}

const FAMILY_REASON: Record<string, Signal> = {
  timing: 'synchronized-activity',
  content: 'shared-templates',
  infra: 'shared-infrastructure',
};

export interface ClusterVerdict {
  reasons: Signal[];
  /** Highest member decision. */
  decision: Decision;
  /** See `ClusterReport.clusterDecision`. */
  clusterDecision: Decision;
}

/** A cluster's reasons: its families of evidence, and what its context shows. */
export function clusterReasons(c: Cluster, ctx: ClusterContext, config: DetectionConfig): Signal[] {
  const reasons: Signal[] = [];
  for (const fam of ['timing', 'content', 'infra'] as const) if (c.evidence.families[fam]) reasons.push(FAMILY_REASON[fam]);
  if (ctx.fleet) reasons.push('signup-burst');
  if (ctx.intentShare !== null && ctx.intentShare >= config.thresholds.intentShareStart) reasons.push('cot-elicitation');
  if (ctx.pivot) reasons.push('model-pivot');
  return reasons;
}

/** A cluster's reasons and decisions, from its context and its members' verdicts. */
export function clusterVerdict(c: Cluster, ctx: ClusterContext, verdicts: Map<string, MemberVerdict>, config: DetectionConfig): ClusterVerdict {
  const reasons = clusterReasons(c, ctx, config);
  let decision: Decision = 'allow';
  let flagged = 0;
  let raised = false;
  for (const id of c.accountIds) {
    const v = verdicts.get(id);
    const d = v?.decision ?? 'allow';
    if (DECISION_ORDER[d] > DECISION_ORDER[decision]) decision = d;
    if (!v || DECISION_ORDER[d] < DECISION_ORDER.review) continue;
    flagged++;
    if (DECISION_ORDER[v.own!] < DECISION_ORDER[d]) raised = true;
  }
  // One member flagged on its own traffic alone: the cluster is its context, not a campaign.
  const clusterDecision: Decision = raised || flagged >= 2 ? decision : DECISION_ORDER[decision] > DECISION_ORDER.monitor ? 'monitor' : decision;
  return { reasons, decision, clusterDecision };
}
