/**
 * Scoring and decisions. Each signal yields a strength in 0..1 and a reason detail an ops reviewer can read
 * (signal, value, baseline, text). The decision separates COORDINATION from ABUSE:
 *
 * - coordination (synchronized activity, shared templates or a prompt library, shared rare infrastructure) says
 *   that accounts are run together. Company teams, classrooms and a popular tool's users coordinate too, so
 *   coordination alone is at most `monitor`;
 * - abuse evidence says what the accounts do: extraction (CoT elicitation, output-heavy traffic), a cluster's
 *   pivot to a new model, client/network rotation, a fleet of fresh accounts created together. Each strong
 *   abuse family is a point; rotation inside a cluster run together (timing, infrastructure or a prompt library,
 *   not templates shared pair by pair, which a tool's users share) counts `evasionClusterPoints` (a coordinated group that
 *   hides its clients is what a hydra cluster is, and no customer kind was seen doing it).
 *
 * - `suspend`: a member of a cluster bound by a strong coordination family, with at least `suspendMinPoints`
 *   abuse points, one of them from a family no customer kind shows (`suspendRequires`: rotation, or a fresh
 *   machine-like fleet). CoT plus a release-day pivot is what an eval company does: that is `review`;
 * - `review`: at least `reviewMinPoints` abuse point, in a cluster or on the account's own traffic (an account
 *   extracting on its own is not exempt);
 * - `monitor`: the score reaches monitorScore (coordination alone, weak signals);
 * - `allow` otherwise.
 *
 * The score is a noisy-OR of the strengths with coordination and behaviour discounted (`coordinationWeight`),
 * so one shared template cannot make an account look certain. Volume is deliberately not a signal.
 * Shadowed signals are computed and reported (`shadow: true`) but excluded from the score and the decision.
 */
import type { Decision } from '../shared/contract';
import type { DetectionConfig, Signal } from './config';
import { isShadow } from './config';
import type { AccountFeatures } from './features';
import type { AccountLink, Cluster } from './linkage';
import type { AccountPivot, ClusterPivot } from './pivot';

/**
 * Evidence families. Coordination (`timing`, `content`, `infra`) says accounts are run together; legitimate
 * teams, classrooms and a tool's users coordinate too, so it never acts alone. Abuse evidence says what the
 * accounts do: `extraction` (chain-of-thought elicitation, output-heavy traffic: one family, since CoT prompts
 * produce long outputs), `pivot` (a cluster abandoning the old model for a new one), `evasion` (rotating clients
 * and networks), `fleet` (a cluster of fresh accounts created together). `behaviour` is weak support only.
 * `external` is a partner's indicator (src/detect/external.ts): never an abuse point, at most `review`.
 */
export type EvidenceFamily = 'timing' | 'content' | 'infra' | 'extraction' | 'pivot' | 'evasion' | 'fleet' | 'behaviour' | 'external';
export const COORDINATION_FAMILIES: readonly EvidenceFamily[] = ['timing', 'content', 'infra'];
export const ABUSE_FAMILIES: readonly EvidenceFamily[] = ['extraction', 'pivot', 'evasion', 'fleet'];

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
  /** Aggregate CoT-elicitation share of the cluster's usage events (null without usage). */
  intentShare: number | null;
  /** The cluster's CoT-elicitation events per member per observed day. */
  cotPerAccountDay: number;
  usageEvents: number;
  /** The cluster's mean output per request, in the population baseline's unit (null when unknown). */
  meanOutput: number | null;
  pivot?: ClusterPivot;
  /** Members created together, far more than the rest of the population (null when not). */
  fleet: FleetSignups | null;
}

/** A cluster whose members were created within a short window, compared with the rest of the population. */
export interface FleetSignups {
  /** Members with a known creation time. */
  known: number;
  windowMs: number;
  /** Groups of members created within `windowMs` of each other, far beyond the unlinked background. */
  groups: {
    accountIds: string[];
    windowStart: number;
    /** Share of the unlinked population created in the same window (the null model). */
    populationShare: number;
    /** log10 of the chance of so many members in the window, drawn from the background. */
    log10P: number;
    /** Median age of the group's accounts at evaluation (ms). */
    medianAgeMs: number;
    /** Median member's share of hours active since its first request (members observed long enough). */
    dutyCycle: number;
  }[];
  /**
   * Members outside every group that draw on the library most of a group's members draw on and run at least
   * `fleetMinDutyCycle` of the hours since their first request, as the fleet's machines do (aged or bought accounts
   * added to a fleet).
   */
  companions: string[];
}

function ramp(x: number, start: number, full: number): number {
  if (x <= start) return 0;
  if (x >= full) return 1;
  return (x - start) / (full - start);
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const hours = (ms: number): string => `${(ms / 3_600_000).toFixed(1)} h`;
const days = (ms: number): string => `${(ms / 86_400_000).toFixed(ms < 10 * 86_400_000 ? 1 : 0)} days`;

type Push = (signal: Signal, family: EvidenceFamily, strength: number, value: number, baseline: number, text: string) => void;

export function accountSignals(
  f: AccountFeatures,
  link: AccountLink | undefined,
  cluster: ClusterContext | undefined,
  pivot: AccountPivot | undefined,
  base: PopulationBaselines,
  cfg: DetectionConfig,
): ReasonDetail[] {
  const out: ReasonDetail[] = [];
  const push: Push = (signal, family, strength, value, baseline, text) => {
    if (strength <= 0) return;
    out.push({ signal, family, strength: Math.min(1, strength), value, baseline, text, shadow: isShadow(cfg, signal) });
  };
  if (link && cluster) coordinationSignals(link, cluster, cfg, push);
  // What the cluster does counts for a member only when the member is firmly in it (a strong coordination link,
  // or several edges): one chance edge must not hand a customer a campaign's evidence.
  const member = link && cluster && isFirmMember(link, cfg) ? cluster : undefined;
  extractionSignals(f, member, base, cfg, push);
  pivotSignal(f, member, pivot, cfg, push);
  const group = member?.fleet?.groups.find((g) => g.accountIds.includes(f.accountId));
  if (group) fleetSignal(member!, group, cfg, push);
  else if (member?.fleet && member.fleet.companions.includes(f.accountId)) companionSignal(link!, member, cfg, push);
  // Client rotation: one account presenting many user agents, or hopping across networks request after request,
  // is hiding its client and location (rotating proxies, UA rotation). A relay with a handful of clients over
  // thousands of requests, a VPN user, a phone behind a carrier NAT (one /16) does not reach these rates.
  const rot = rotation(f, cfg);
  const t = cfg.thresholds;
  if (rot.strength > 0) {
    // In a cluster, only where the group shares no more than an app's few system prompts (sibling accounts of one
    // company: production, staging); a campaign's members draw from a library of many.
    const fewShared = !member || Math.max(link!.sharedTemplates, link!.librarySize, link!.exclusiveTemplates) <= t.appTemplateSlack;
    const app = fewShared && appEgress(f, rot, t, base.outputUnit === 'tokens');
    push(
      'client-rotation',
      'evasion',
      app ? Math.min(rot.strength, t.appRotationCap) : rot.strength,
      rot.ua >= rot.ip ? f.distinctUserAgents : Number(rot.subnetsPerHour.toFixed(2)),
      rot.ua >= rot.ip ? t.rotationMinUserAgents : t.rotationSubnetsPerHourStart,
      rot.ua >= rot.ip
        ? `sent ${f.requests} requests with ${f.distinctUserAgents} distinct user agents (rotation starts at ${t.rotationMinUserAgents}; a client keeps one or two)`
        : `came from ${f.distinctSubnets} distinct /24 subnets in ${f.distinctNetworks} distinct /16 networks, ${rot.subnetsPerHour.toFixed(1)} new subnets per active hour (rotation starts at ${t.rotationSubnetsPerHourStart}; home, office, NAT, VPN and mobile users stay near 0-1)${app ? (f.usageEvents < t.appMinUsageEvents ? `; held as support until its usage events show what it sends (${f.usageEvents} so far)` : `; but its ${f.usageEvents} prompts are its own few templates (${f.templateDiversity?.toFixed(2)} distinct per prompt) repeated by one client, as an app backend on a function platform's egress pool sends (support only)`) : ''}`,
    );
  }
  behaviourSignals(f, t, push);
  return out.sort((a, b) => b.strength - a.strength);
}

/**
 * Network rotation that looks like a function platform's egress pool rather than rotating proxies: networks only
 * (one or two user agents), and usage events that are the account's own few prompts repeated (see
 * `appMaxTemplateDiversity`). In a cluster, only when the members share at most a few templates (the caller checks).
 * Where the population sends usage events, an account's first requests are held until its own usage events show
 * what it sends (they can arrive after its access logs); an account with many requests and no usage is judged
 * without them.
 */
function appEgress(f: AccountFeatures, rot: ReturnType<typeof rotation>, t: DetectionConfig['thresholds'], usageSeen: boolean): boolean {
  if (rot.ua > 0 || f.distinctUserAgents > 2) return false;
  if (f.usageEvents < t.appMinUsageEvents) return usageSeen && f.requests < 3 * t.appMinUsageEvents;
  if (f.templateDiversity === null) return false;
  const distinct = Math.round(f.templateDiversity * f.usageEvents);
  return distinct <= t.appTemplateSlack + t.appMaxTemplateDiversity * f.usageEvents;
}

/** Cluster membership: the account's strongest verified link into its cluster, per coordination family. */
function coordinationSignals(link: AccountLink, cluster: ClusterContext, cfg: DetectionConfig, push: Push): void {
  const size = cluster.cluster.accountIds.length;
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
      `draws its prompts from a library of ${link.librarySize} templates that ${link.libraryAccounts} accounts share and (almost) no other account uses: it sent ${link.libraryTemplates} of them (a team's internal library looks the same: this is coordination, not abuse)`,
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
        : `shares ${link.sharedTemplates} rare prompt template(s) with other accounts (each held by at most ${cfg.linkage.maxAttributeAccounts} accounts; a tool's users share a few too)`,
    );
  }
  if (fam.infra >= 0.2) {
    // Proxies and NATs mix customers: infrastructure alone stays below "strong" unless timing, content or
    // sign-up time agree.
    const corroborated = fam.timing >= 0.3 || fam.content >= 0.3 || fam.signup >= 0.2;
    const shared = cluster.cluster.evidence.sharedAttributes.filter((a) => a.family === 'infra').slice(0, 3);
    push(
      'shared-infrastructure',
      'infra',
      corroborated ? fam.infra : Math.min(fam.infra, 0.55),
      Number(fam.infra.toFixed(3)),
      0,
      `shares rare IPs/subnets/user agents/API keys with cluster ${cluster.cluster.clusterId}` +
        (shared.length
          ? ` (e.g. ${shared.map((a) => `${a.attribute} held by ${a.members} members, ${a.population} accounts overall`).join('; ')})`
          : ''),
    );
  }
}

/**
 * Extraction: what the account (or its cluster, when that is stronger) asks for and takes. CoT elicitation and
 * output-heavy traffic are one family: CoT prompts produce long outputs, so the two are not independent.
 */
function extractionSignals(
  f: AccountFeatures,
  cluster: ClusterContext | undefined,
  base: PopulationBaselines,
  cfg: DetectionConfig,
  push: Push,
): void {
  const t = cfg.thresholds;
  // The share is judged by its lower confidence bound: 8 CoT prompts of 20 is chance, 2,000 of 5,000 is not.
  const own = f.usageEvents >= t.intentMinEvents && f.intentShare !== null ? wilsonLower(f.intentShare, f.usageEvents) : null;
  const ofCluster =
    cluster && cluster.intentShare !== null && cluster.usageEvents >= t.intentMinEvents
      ? wilsonLower(cluster.intentShare, cluster.usageEvents)
      : null;
  // The cluster's share stands for a member whose own traffic is too thin to judge, not for one whose own prompts
  // are plainly ordinary (upper bound below the start): a colleague of taken-over accounts asks what it always did.
  const ownOrdinary = own !== null && 1 - wilsonLower(1 - f.intentShare!, f.usageEvents) < t.intentShareStart;
  const useCluster = ofCluster !== null && !ownOrdinary && (own === null || ofCluster > own);
  const bound = useCluster ? ofCluster : own;
  if (bound !== null) {
    const share = useCluster ? cluster!.intentShare! : f.intentShare!;
    const events = useCluster ? cluster!.usageEvents : f.usageEvents;
    // A distiller takes reasoning traces by the hundred a day per account; a user whose tool asks for
    // step-by-step answers sends a few dozen. Below that rate the share is support only.
    const perDay = useCluster ? cluster!.cotPerAccountDay : cotPerDay(f, t.intentMinDays);
    const strength = Math.min(ramp(bound, t.intentShareStart, t.intentShareFull), perDay >= t.intentMinCotPerDay ? 1 : t.outputCap);
    push(
      'cot-elicitation',
      'extraction',
      strength,
      Number(share.toFixed(3)),
      t.intentShareStart,
      `${pct(share)} of ${useCluster ? "its cluster's" : 'its'} ${events} prompts are chain-of-thought elicitation, ${Math.round(perDay)} a day per account (at least ${pct(bound)} at 95% confidence; the signal starts at ${pct(t.intentShareStart)}, ordinary use stays near 10%)`,
    );
  }
  const ownOutput = base.outputUnit === 'tokens' ? f.avgOutputTokens : f.avgResponseBytes;
  let output = ownOutput !== null && f.requests >= t.outputMinRequests ? ownOutput : null;
  let outputSource = 'its';
  if (cluster?.meanOutput != null && (output === null || cluster.meanOutput > output)) {
    output = cluster.meanOutput;
    outputSource = `its cluster's`;
  }
  if (output !== null && base.medianOutput) {
    const ratio = output / base.medianOutput;
    // Long outputs are what batch summarisation and code generation produce too, alone or as a team's jobs:
    // support for the score, never an abuse point of their own (capped below strong).
    const s = Math.min(ramp(ratio, t.longOutputRatio, t.longOutputRatioFull), t.outputCap);
    const ratioText = `${outputSource} average output is ${Math.round(output)} ${base.outputUnit}, ${ratio.toFixed(1)}x the population median of ${Math.round(base.medianOutput)}`;
    if (s > 0) push('long-outputs', 'extraction', s, Math.round(output), Math.round(base.medianOutput), ratioText);
  }
}

/** CoT-elicitation events per day of the account's observed traffic (at least `minDays` days, so one busy hour is not a rate). */
export function cotPerDay(f: AccountFeatures, minDays: number): number {
  if (f.intentShare === null) return 0;
  const days = Math.max(minDays, (f.lastTs - f.firstTs) / 86_400_000);
  return (f.intentShare * f.usageEvents) / days;
}

/** Lower bound of the Wilson score interval for a proportion p observed over n trials (z = 1.96). */
export function wilsonLower(p: number, n: number, z = 1.96): number {
  if (n <= 0) return 0;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - margin) / (1 + z2 / n));
}

function pivotSignal(
  f: AccountFeatures,
  cluster: ClusterContext | undefined,
  pivot: AccountPivot | undefined,
  cfg: DetectionConfig,
  push: Push,
): void {
  if (cluster?.pivot && cluster.pivot.movers.includes(f.accountId)) {
    const p = cluster.pivot;
    // A cluster that keeps part of its traffic on the old models (an evaluator comparing them) is weaker
    // evidence than one that abandoned them (a distiller wants only the new model's outputs).
    // Unless most movers belong to a fleet created together: then the switch is one operator's, whatever it kept.
    const fleetBacked = fleetShare(p.movers, cluster) >= 0.5;
    const byShare = ramp(p.share, cfg.pivot.minShare, cfg.pivot.fullShare);
    // A handful of a cluster's members switching while the rest stayed is a team's early adopters (support only).
    const fewMovers = !p.whole && p.membersMoved < cfg.pivot.groupMinMovers;
    const s = fleetBacked ? Math.max(byShare, cfg.pivot.fleetBackedStrength) : fewMovers ? Math.min(byShare, 0.3) : byShare;
    push(
      'model-pivot',
      'pivot',
      Math.max(s, 0.3),
      Number(p.share.toFixed(3)),
      Number(p.baseline.toFixed(3)),
      `${p.whole ? `cluster ${p.clusterId}` : `a group of ${p.membersMoved} of the ${p.members} members of cluster ${p.clusterId} that switched together`} moved ${pct(p.share)} of its traffic to ${p.model} (${p.membersMoved}/${p.members} members) within ${cfg.pivot.horizonMs / 3_600_000} h of its first appearance, while the median account was at ${pct(p.baseline)}${fleetBacked ? '; most of the movers belong to a fleet created together' : ''}`,
    );
  } else if (pivot) {
    push(
      'model-pivot',
      'pivot',
      0.3,
      Number(pivot.share.toFixed(3)),
      Number(pivot.baseline.toFixed(3)),
      `moved ${pct(pivot.share)} of its traffic to ${pivot.model} soon after it first appeared, while the median account was at ${pct(pivot.baseline)}; alone this is what early adopters do`,
    );
  }
}

/** Share of the movers that belong to one of the cluster's fleet groups. */
function fleetShare(movers: readonly string[], cluster: ClusterContext): number {
  if (!cluster.fleet || movers.length === 0) return 0;
  const fleet = new Set(cluster.fleet.groups.flatMap((g) => g.accountIds));
  let n = 0;
  for (const id of movers) if (fleet.has(id)) n++;
  return n / movers.length;
}

/** Strength of a fleet group's evidence: how far its sign-up window's chance lies below `fleetMaxLog10P`. */
function fleetStrength(group: FleetSignups['groups'][number], cfg: DetectionConfig): number {
  return ramp(-group.log10P, -cfg.thresholds.fleetMaxLog10P - 1, -cfg.thresholds.fleetMaxLog10P + 3);
}

function fleetSignal(cluster: ClusterContext, group: FleetSignups['groups'][number], cfg: DetectionConfig, push: Push): void {
  const fl = cluster.fleet!;
  push(
    'signup-burst',
    'fleet',
    fleetStrength(group, cfg),
    group.accountIds.length,
    Number(group.populationShare.toFixed(4)),
    `${group.accountIds.length} of the ${fl.known} members of cluster ${cluster.cluster.clusterId} were created within ${days(fl.windowMs)} of each other (median age ${days(group.medianAgeMs)}) and run in ${pct(group.dutyCycle)} of the hours since they started, while ${pct(group.populationShare)} of the unlinked accounts were created in that window (chance 1e${Math.round(group.log10P)})`,
  );
}

/**
 * An older account that runs with a fleet (see `fleetCompanions`): it draws on the fleet's own exclusive prompt
 * library and is active in as many of its hours as the fleet's machines. Aged and bought accounts join fleets to
 * look established; a team's members draw on their own library. Carries the strongest group's strength.
 */
function companionSignal(link: AccountLink, cluster: ClusterContext, cfg: DetectionConfig, push: Push): void {
  const fl = cluster.fleet!;
  const group = fl.groups.reduce((a, b) => (b.log10P < a.log10P ? b : a));
  push(
    'fleet-companion',
    'fleet',
    fleetStrength(group, cfg),
    group.accountIds.length,
    cfg.thresholds.fleetMinDutyCycle,
    `runs with a fleet of ${group.accountIds.length} members of cluster ${cluster.cluster.clusterId} created within ${days(fl.windowMs)} of each other (chance 1e${Math.round(group.log10P)}): it draws on the fleet's exclusive library of ${link.librarySize} templates and is active in at least ${pct(cfg.thresholds.fleetMinDutyCycle)} of its hours since its first request, as the fleet's machines are, though the account is older (aged or bought accounts are added to fleets)`,
  );
}

/** Weak, supporting behaviour (never strong on their own: batch jobs and resellers show them too). */
function behaviourSignals(f: AccountFeatures, t: DetectionConfig['thresholds'], push: Push): void {
  if (f.hoursOfDayActive >= t.roundTheClockHours) {
    push('round-the-clock', 'behaviour', 0.2, f.hoursOfDayActive, t.roundTheClockHours, `active in ${f.hoursOfDayActive} of 24 hours of the day`);
  }
  if (f.rate429 >= t.rateLimitedShare) {
    push('rate-limited', 'behaviour', 0.15, Number(f.rate429.toFixed(3)), t.rateLimitedShare, `${pct(f.rate429)} of requests were throttled (429)`);
  }
  if (f.accountAgeMs !== null && f.accountAgeMs < t.youngAccountMs) {
    push('young-account', 'behaviour', 0.15, f.accountAgeMs, t.youngAccountMs, `account is ${hours(f.accountAgeMs)} old`);
  }
}

/**
 * Client rotation strengths (0..1) from user agents and from networks, and the subnet churn rate. Network churn
 * counts /24 subnets but needs them spread over several /16 networks: a phone behind a carrier-grade NAT changes
 * /24 within one carrier's /16, a residential proxy network lands in a different ISP each time.
 */
export function rotation(f: AccountFeatures, cfg: DetectionConfig): { strength: number; ua: number; ip: number; subnetsPerHour: number } {
  const t = cfg.thresholds;
  const uaRate = f.requests > 1 ? (f.distinctUserAgents - 1) / (f.requests - 1) : 0;
  let ua =
    f.distinctUserAgents >= t.rotationMinUserAgents && uaRate >= t.rotationMinUaRate
      ? ramp(f.distinctUserAgents, t.rotationMinUserAgents - 1, t.rotationFullUserAgents)
      : 0;
  // Early: a new user agent on most requests. People keep one or two clients; four in a dozen requests is a pool.
  if (f.distinctUserAgents >= t.rotationFastUserAgents && uaRate >= t.rotationFastRate) ua = Math.max(ua, t.rotationFastStrength);
  const subnetsPerHour = f.activeHours > 0 ? (f.distinctSubnets - 1) / f.activeHours : 0;
  const subnetRate = f.requests > 1 ? (f.distinctSubnets - 1) / (f.requests - 1) : 0;
  const spread = f.distinctNetworks >= t.rotationMinNetworks;
  let ip =
    spread && f.distinctSubnets >= t.rotationMinSubnets && subnetRate >= t.rotationMinSubnetRate
      ? ramp(subnetsPerHour, t.rotationSubnetsPerHourStart, t.rotationSubnetsPerHourFull)
      : 0;
  // Early: a new /16 network on nearly every other request, across ten or more ISPs (a proxy pool; a traveller or a
  // phone changes network a few times a day, and a carrier's NAT stays inside one /16).
  const networkRate = f.requests > 1 ? (f.distinctNetworks - 1) / (f.requests - 1) : 0;
  if (f.distinctNetworks >= t.rotationFastNetworks && networkRate >= t.rotationFastRate) ip = Math.max(ip, t.rotationFastStrength);
  // Burst: fewer networks, but packed into one or two hours of activity.
  const networksPerHour = f.activeHours > 0 ? (f.distinctNetworks - 1) / f.activeHours : 0;
  if (f.distinctNetworks >= t.rotationBurstNetworks && networkRate >= t.rotationFastRate && networksPerHour >= t.rotationBurstNetworksPerHour) {
    ip = Math.max(ip, t.rotationFastStrength);
  }
  return { strength: Math.max(ua, ip), ua, ip, subnetsPerHour };
}

/** A member firmly in its cluster: a strong coordination link, or at least two edges into it. */
export function isFirmMember(link: AccountLink, cfg: DetectionConfig): boolean {
  const f = link.maxFamilies;
  return Math.max(f.content, f.timing, f.infra, link.libraryScore ?? 0) >= cfg.decisions.strongSignal || link.degree >= 2;
}

/** Abuse points of a set of reason details (see the module comment). */
export function abusePoints(
  details: ReasonDetail[],
  cfg: DetectionConfig,
  ignoreShadow = false,
): { points: number; coordinated: boolean; operated: boolean; families: EvidenceFamily[] } {
  const d = cfg.decisions;
  const strong = new Set<EvidenceFamily>();
  // Rotation earns its cluster bonus only in a group run together: shared timing, shared infrastructure or an
  // exclusive prompt library. Templates shared pair by pair are what a popular tool's users have in common, and a
  // tool user on a VPN must not be suspended for it.
  let operatedTogether = false;
  for (const r of details) {
    if (r.shadow && !ignoreShadow) continue;
    if (r.strength < d.strongSignal) continue;
    strong.add(r.family);
    if (r.family === 'timing' || r.family === 'infra' || r.signal === 'prompt-library') operatedTogether = true;
  }
  const coordinated = COORDINATION_FAMILIES.some((f) => strong.has(f));
  let points = 0;
  for (const f of ABUSE_FAMILIES) {
    if (!strong.has(f)) continue;
    points += f === 'evasion' && operatedTogether ? d.evasionClusterPoints : 1;
  }
  const operated = cfg.decisions.suspendRequires.some((f) => strong.has(f as EvidenceFamily));
  return { points, coordinated, operated, families: [...strong] };
}

export function decide(
  details: ReasonDetail[],
  requests: number,
  cfg: DetectionConfig,
  ignoreShadow = false,
): { decision: Decision; score: number; reasons: Signal[] } {
  const d = cfg.decisions;
  let rest = 1;
  const reasons: Signal[] = [];
  for (const r of details) {
    if (r.shadow && !ignoreShadow) continue;
    const weight = r.family === 'behaviour' || COORDINATION_FAMILIES.includes(r.family) ? d.coordinationWeight : 1;
    rest *= 1 - r.strength * weight;
    if (r.strength >= 0.2 && !reasons.includes(r.signal)) reasons.push(r.signal);
  }
  const score = Number((1 - rest).toFixed(4));
  const { points, coordinated, operated } = abusePoints(details, cfg, ignoreShadow);
  let decision: Decision = 'allow';
  if (requests >= cfg.thresholds.minRequests) {
    if (coordinated && operated && points >= d.suspendMinPoints && score >= d.suspendScore) decision = 'suspend';
    else if (points >= d.reviewMinPoints && score >= d.reviewScore) decision = 'review';
    else if (score >= d.monitorScore) decision = 'monitor';
  }
  if (cfg.globalShadow && !ignoreShadow && decision !== 'allow') decision = 'monitor';
  return { decision, score, reasons: decision === 'allow' ? [] : reasons };
}
