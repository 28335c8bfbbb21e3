/**
 * Scoring and decisions. Each signal yields a strength in 0..1 and a reason detail an ops reviewer can read
 * (signal, value, baseline, text). Signals belong to independent evidence families; the decision needs
 * corroboration:
 *
 * - `suspend`: at least `suspendMinFamilies` (2) independent STRONG families (e.g. synchronized cluster + CoT
 *   intent, or cluster + model pivot) and score >= suspendScore;
 * - `review`: at least one strong family and score >= reviewScore;
 * - `monitor`: score >= monitorScore (weak signals only: 24/7, long outputs, 429s, young account);
 * - `allow` otherwise.
 *
 * Families: timing, content (shared templates or a prompt library), infra, intent, pivot, evasion (client
 * rotation: many user agents, or a new /24 every few requests) count as strong; signup and behaviour never do.
 *
 * Volume is deliberately not a signal. Intent alone (an eval harness sending CoT prompts) and an account-level
 * pivot alone (an early adopter) are capped below "strong": they only count together with coordination.
 * Shadowed signals are computed and reported (`shadow: true`) but excluded from the score and the decision.
 */
import type { Decision } from '../shared/contract';
import type { DetectionConfig, Signal } from './config';
import { isShadow } from './config';
import type { AccountFeatures } from './features';
import type { AccountLink, Cluster } from './linkage';
import type { AccountPivot, ClusterPivot } from './pivot';

export type EvidenceFamily = 'timing' | 'content' | 'infra' | 'signup' | 'intent' | 'pivot' | 'evasion' | 'behaviour';

export interface ReasonDetail {
  signal: Signal;
  /** The measured value (share, correlation, count...). */
  value: number;
  /** What the value is compared with (population median, threshold, chance level). */
  baseline: number;
  text: string;
  /** 0..1 contribution before shadowing. */
  strength: number;
  family: EvidenceFamily;
  shadow: boolean;
}

export interface AccountDecision {
  accountId: string;
  decision: Decision;
  score: number;
  reasons: Signal[];
  reasonDetails: ReasonDetail[];
  clusterId: string | null;
  relatedAccountIds: string[];
  /** The decision the signals would have produced if nothing were in shadow (differs only under shadow). */
  unshadowedDecision: Decision;
}

export interface PopulationBaselines {
  medianOutput: number | null;
  /** `tokens` when usage events are present, else response `bytes`. */
  outputUnit: 'tokens' | 'bytes';
}

export interface ClusterContext {
  cluster: Cluster;
  /** Aggregate CoT/rewrite share of the cluster's usage events (null without usage). */
  intentShare: number | null;
  usageEvents: number;
  pivot?: ClusterPivot;
}

function ramp(x: number, start: number, full: number): number {
  if (x <= start) return 0;
  if (x >= full) return 1;
  return (x - start) / (full - start);
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const hours = (ms: number): string => `${(ms / 3_600_000).toFixed(1)} h`;

export function accountSignals(
  f: AccountFeatures,
  link: AccountLink | undefined,
  cluster: ClusterContext | undefined,
  pivot: AccountPivot | undefined,
  base: PopulationBaselines,
  cfg: DetectionConfig,
): ReasonDetail[] {
  const out: ReasonDetail[] = [];
  const t = cfg.thresholds;
  const push = (signal: Signal, family: EvidenceFamily, strength: number, value: number, baseline: number, text: string): void => {
    if (strength <= 0) return;
    out.push({ signal, family, strength: Math.min(1, strength), value, baseline, text, shadow: isShadow(cfg, signal) });
  };
  const size = cluster ? cluster.cluster.accountIds.length : 0;
  if (link && cluster) {
    // An account's strength per family is its strongest verified link into the cluster (edges are already
    // verified evidence; the mean would punish members that also have weaker second links).
    const fam = link.maxFamilies;
    if (fam.timing >= 0.2) {
      push(
        'synchronized-activity',
        'timing',
        fam.timing,
        Number(link.meanPhi.toFixed(3)),
        0,
        `active in the same ${cfg.linkage.syncBucketMs / 60_000}-min buckets as ${link.syncPeers} other account(s) of cluster ${cluster.cluster.clusterId} (${size} accounts): mean phi correlation ${link.meanPhi.toFixed(2)}, where unrelated accounts score ~0`,
      );
    }
    // Content: the account's strongest template link, or the templates it holds that are exclusive to its
    // (already bound) cluster.
    const exclusive = cluster.cluster.evidence.exclusiveTemplates >= 2 ? Math.min(1, link.exclusiveTemplates / cfg.linkage.contentSaturation) : 0;
    const lib = link.libraryScore ?? 0;
    const content = Math.max(fam.content, exclusive);
    if (lib >= 0.2 && lib >= content) {
      push(
        'prompt-library',
        'content',
        lib,
        link.libraryTemplates,
        cfg.linkage.libraryMinTemplates,
        `draws its prompts from a library of ${link.librarySize} templates that ${link.libraryAccounts} accounts share and (almost) no other account uses: it sent ${link.libraryTemplates} of them (organic accounts mostly write their own prompts; a library shared by a group is one operator's prompt set)`,
      );
    } else if (content >= 0.2) {
      push(
        'shared-templates',
        'content',
        content,
        Math.max(link.sharedTemplates, link.exclusiveTemplates),
        0,
        exclusive > fam.content
          ? `holds ${link.exclusiveTemplates} prompt template(s) that, across the whole population, only members of cluster ${cluster.cluster.clusterId} use (${cluster.cluster.evidence.exclusiveTemplates} such templates in the cluster)`
          : `shares ${link.sharedTemplates} rare prompt template(s) with other accounts (each held by at most ${cfg.linkage.maxAttributeAccounts} accounts; organic accounts share none)`,
      );
    }
    if (fam.infra >= 0.2) {
      // Proxies and NATs mix customers: infrastructure alone stays below "strong" unless timing or content agree.
      const corroborated = fam.timing >= 0.3 || fam.content >= 0.3;
      const shared = cluster.cluster.evidence.sharedAttributes.filter((a) => a.family === 'infra').slice(0, 3);
      push(
        'shared-infrastructure',
        'infra',
        corroborated ? fam.infra : Math.min(fam.infra, 0.55),
        Number(fam.infra.toFixed(3)),
        0,
        `shares rare IPs/subnets/user agents/API keys with cluster ${cluster.cluster.clusterId}` +
          (shared.length ? ` (e.g. ${shared.map((a) => `${a.attribute} held by ${a.members} members, ${a.population} accounts overall`).join('; ')})` : ''),
      );
    }
    if (fam.signup >= 0.2) {
      const spread = cluster.cluster.evidence.signupSpreadMs;
      push(
        'signup-burst',
        'signup',
        fam.signup,
        spread ?? 0,
        cfg.linkage.signupBucketMs,
        `created within the same ${cfg.linkage.signupBucketMs / 60_000}-min sign-up burst as linked accounts` + (spread !== null ? ` (cluster sign-ups spread over ${hours(spread)})` : ''),
      );
    }
  }
  // Extraction intent: the account's own share, or its cluster's when that is higher.
  let intent: number | null = f.usageEvents >= t.intentMinEvents ? f.intentShare : null;
  let intentSource = 'its';
  if (cluster && cluster.intentShare !== null && cluster.usageEvents >= t.intentMinEvents && (intent === null || cluster.intentShare > intent)) {
    intent = cluster.intentShare;
    intentSource = `its cluster's`;
  }
  if (intent !== null) {
    const s = ramp(intent, t.intentShareStart, t.intentShareFull);
    push(
      'cot-elicitation',
      'intent',
      cluster ? s : Math.min(s, 0.55),
      Number(intent.toFixed(3)),
      t.intentShareStart,
      `${pct(intent)} of ${intentSource} prompts are chain-of-thought elicitation or rewrites (threshold ${pct(t.intentShareStart)})` +
        (cluster ? '' : '; alone this is what eval harnesses do, so it only counts with coordination'),
    );
  }
  if (cluster?.pivot) {
    const p = cluster.pivot;
    push(
      'model-pivot',
      'pivot',
      1,
      Number(p.share.toFixed(3)),
      Number(p.baseline.toFixed(3)),
      `cluster ${p.clusterId} moved ${pct(p.share)} of its traffic to ${p.model} (${p.membersMoved}/${p.members} members) within ${cfg.pivot.horizonMs / 3_600_000} h of its first appearance, while the median account was at ${pct(p.baseline)}`,
    );
  } else if (pivot) {
    push(
      'model-pivot',
      'pivot',
      0.5,
      Number(pivot.share.toFixed(3)),
      Number(pivot.baseline.toFixed(3)),
      `moved ${pct(pivot.share)} of its traffic to ${pivot.model} soon after it first appeared, while the median account was at ${pct(pivot.baseline)}; alone this is what early adopters do`,
    );
  }
  // Client rotation: one account presenting many user agents, or hopping across /24 subnets hour after hour, is
  // hiding its client and location (rotating proxies, UA rotation). A relay with a handful of clients over
  // thousands of requests, a VPN user or a NAT does not reach these rates.
  const rot = rotation(f, cfg);
  if (rot.strength > 0) {
    push(
      'client-rotation',
      'evasion',
      rot.strength,
      rot.ua >= rot.ip ? f.distinctUserAgents : Number(rot.subnetsPerHour.toFixed(2)),
      rot.ua >= rot.ip ? t.rotationMinUserAgents : t.rotationSubnetsPerHourStart,
      rot.ua >= rot.ip
        ? `sent ${f.requests} requests with ${f.distinctUserAgents} distinct user agents (rotation starts at ${t.rotationMinUserAgents}; a client keeps one or two)`
        : `came from ${f.distinctSubnets} distinct /24 subnets, ${rot.subnetsPerHour.toFixed(1)} new subnets per active hour (rotation starts at ${t.rotationSubnetsPerHourStart}; home, office, NAT and VPN users stay near 0-1)`,
    );
  }
  // Weak, supporting behaviour (never strong on their own: batch jobs and resellers show them too).
  if (f.hoursOfDayActive >= t.roundTheClockHours) {
    push('round-the-clock', 'behaviour', 0.2, f.hoursOfDayActive, t.roundTheClockHours, `active in ${f.hoursOfDayActive} of 24 hours of the day`);
  }
  const out1 = base.outputUnit === 'tokens' ? f.avgOutputTokens : f.avgResponseBytes;
  if (out1 !== null && base.medianOutput && out1 >= t.longOutputRatio * base.medianOutput) {
    push(
      'long-outputs',
      'behaviour',
      0.2,
      Math.round(out1),
      Math.round(base.medianOutput),
      `average output ${Math.round(out1)} ${base.outputUnit} vs population median ${Math.round(base.medianOutput)}`,
    );
  }
  if (f.rate429 >= t.rateLimitedShare) {
    push('rate-limited', 'behaviour', 0.15, Number(f.rate429.toFixed(3)), t.rateLimitedShare, `${pct(f.rate429)} of requests were throttled (429)`);
  }
  if (f.accountAgeMs !== null && f.accountAgeMs < t.youngAccountMs) {
    push('young-account', 'behaviour', 0.15, f.accountAgeMs, t.youngAccountMs, `account is ${hours(f.accountAgeMs)} old`);
  }
  return out.sort((a, b) => b.strength - a.strength);
}

/** Client rotation strengths (0..1) from user agents and from /24 subnets, and the subnet churn rate. */
export function rotation(f: AccountFeatures, cfg: DetectionConfig): { strength: number; ua: number; ip: number; subnetsPerHour: number } {
  const t = cfg.thresholds;
  const uaRate = f.requests > 1 ? (f.distinctUserAgents - 1) / (f.requests - 1) : 0;
  const ua = f.distinctUserAgents >= t.rotationMinUserAgents && uaRate >= t.rotationMinUaRate ? ramp(f.distinctUserAgents, t.rotationMinUserAgents - 1, t.rotationFullUserAgents) : 0;
  const subnetsPerHour = f.activeHours > 0 ? (f.distinctSubnets - 1) / f.activeHours : 0;
  const subnetRate = f.requests > 1 ? (f.distinctSubnets - 1) / (f.requests - 1) : 0;
  const ip = f.distinctSubnets >= t.rotationMinSubnets && subnetRate >= t.rotationMinSubnetRate ? ramp(subnetsPerHour, t.rotationSubnetsPerHourStart, t.rotationSubnetsPerHourFull) : 0;
  return { strength: Math.max(ua, ip), ua, ip, subnetsPerHour };
}

export function decide(details: ReasonDetail[], requests: number, cfg: DetectionConfig, ignoreShadow = false): { decision: Decision; score: number; reasons: Signal[] } {
  const d = cfg.decisions;
  let rest = 1;
  const strong = new Set<EvidenceFamily>();
  const reasons: Signal[] = [];
  for (const r of details) {
    if (r.shadow && !ignoreShadow) continue;
    rest *= 1 - r.strength;
    if (r.strength >= d.strongSignal && r.family !== 'behaviour' && r.family !== 'signup') strong.add(r.family);
    if (r.strength >= 0.2 && !reasons.includes(r.signal)) reasons.push(r.signal);
  }
  const score = Number((1 - rest).toFixed(4));
  let decision: Decision = 'allow';
  if (requests >= cfg.thresholds.minRequests) {
    if (strong.size >= d.suspendMinFamilies && score >= d.suspendScore) decision = 'suspend';
    else if (strong.size >= d.reviewMinFamilies && score >= d.reviewScore) decision = 'review';
    else if (score >= d.monitorScore) decision = 'monitor';
  }
  if (cfg.globalShadow && !ignoreShadow && decision !== 'allow') decision = 'monitor';
  return { decision, score, reasons: decision === 'allow' ? [] : reasons };
}
