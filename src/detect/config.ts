/**
 * Typed detection configuration. Every threshold the detector uses lives here with its default; deployments
 * override any subset with JSON (env `DETECTION_CONFIG`, or cdk.json context `distill-guard.detectionConfig`).
 *
 * Each signal can run in shadow mode: it is computed and reported (in `reasonDetails`, with `shadow: true`),
 * but never contributes to the score or the decision.
 */

/** Reason codes an ops reviewer sees in the report's `reasons` array. */
export const SIGNALS = [
  'synchronized-activity',
  'shared-templates',
  'prompt-library',
  'shared-infrastructure',
  'signup-burst',
  'fleet-companion',
  'cot-elicitation',
  'model-pivot',
  'round-the-clock',
  'long-outputs',
  'rate-limited',
  'young-account',
  'client-rotation',
  'external-indicator',
] as const;
export type Signal = (typeof SIGNALS)[number];

export interface LinkageConfig {
  /** An attribute held by more accounts than this is uninformative (popular SDK UA, big NAT) and skipped. */
  maxAttributeAccounts: number;
  /** Attributes weighing less than this (nearly popular) generate no candidate pairs. */
  minAttributeWeight: number;
  /** A pair sharing less rarity weight than this in one family is not verified (unless timing LSH proposes it). */
  minCandidateWeight: number;
  /**
   * Accounts with more distinct templates than this (platforms, resellers) give no template evidence. High on
   * purpose: a fleet drawing from a large library reaches hundreds of distinct templates within days; a relay is
   * recognised by its throughput (`maxUsagePerActiveHour`), and the cosine damping keeps broad accounts from
   * linking to everyone.
   */
  maxTemplatesPerAccount: number;
  /** ... nor do accounts relaying more usage events than this per active hour (a relay's throughput). */
  maxUsagePerActiveHour: number;
  /** Per account, at most this many (rarest) informative attributes generate candidate pairs. */
  maxAttributesPerAccount: number;
  /** Pairs already connected are not verified again once both accounts have this many edges. */
  maxEdgesPerAccount: number;
  /** Two accounts created within this long of each other (ms) get the sign-up family score. */
  signupCloseMs: number;
  /**
   * An edge of infrastructure and sign-up time alone (access logs only: a fleet on datacenter /24s) needs at least
   * this infrastructure score; 0 turns such edges off.
   */
  minInfraWithSignup: number;
  /** Shared infrastructure weight that makes a pair a candidate (content uses minCandidateWeight). */
  minInfraCandidateWeight: number;
  /**
   * Multiple comparisons: with more accounts, more pairs co-occur by chance. Per tenfold growth of the population
   * beyond this size, synchrony needs one more distinct co-active hour and two more co-active buckets.
   */
  syncPopulationRef: number;
  /** Width of a synchrony time bucket (ms). */
  syncBucketMs: number;
  /** An account needs at least this many active buckets before synchrony is measured. */
  syncMinBuckets: number;
  /** Two accounts need at least this many co-active buckets. */
  syncMinShared: number;
  /** ... spread over at least this many distinct hours (one shared session is not synchrony). */
  syncMinHours: number;
  /** ... over at least this many distinct hours of the day (cron-aligned batch jobs share one or two). */
  syncMinHoursOfDay: number;
  /**
   * ... in separate episodes (co-active buckets more than 30 minutes apart) that start at at least this many
   * distinct hours of the day: one long shared session is one event, and jobs that a scheduler starts at 03:00 every
   * night start their shared episodes at one hour of the day, night after night; a fleet's waves do not.
   */
  syncMinEpisodes: number;
  /**
   * Co-activity must exceed what the two accounts' own time-of-day profiles predict (a shared diurnal rhythm, a
   * cron schedule) by this many standard deviations; 0 turns the time-of-day null model off.
   */
  syncMinTodZ: number;
  /** Weight (in days) of an account's overall activity rate in its time-of-day profile (see syncMinTodZ). */
  syncTodPrior: number;
  /** An account linked by a single timing-only edge is not made a cluster member (one chance edge would merge it). */
  syncPruneLeaves: boolean;
  /**
   * An account linked only by shared infrastructure and sign-up time (content and timing under 0.2 on every edge),
   * observed for `signupLinkMinHistoryMs`, that is active in fewer than this share of the hours since its first
   * request is a person who signed up the same week behind the same VPN exit or proxy, not a member: its edges are
   * dropped. The fleets this kind of edge exists for run machine-like (campaign fleets seen: 75% of hours or more).
   */
  signupLinkMinDuty: number;
  signupLinkMinHistoryMs: number;
  /**
   * Accept weak synchrony between two accounts when a third account is synchronized with both. Off by default:
   * it recovers more of an evasive, logs-only fleet but also raised organic reviews early in a log, when little data
   * makes chance triangles likely (measured on the simulator).
   */
  syncTriangles: boolean;
  /** Timing score multiplier of a triangle-corroborated edge. */
  syncTriangleBoost: number;
  /** Minimum phi correlation of two accounts' bucket activity to count as synchronized. */
  syncMinPhi: number;
  /** Phi and distinct co-active hours at which the timing score saturates. */
  syncFullPhi: number;
  syncFullHours: number;
  /**
   * Sustained synchrony: a pair above syncMinPhi whose co-activity exceeds the time-of-day null model by at least
   * `syncSustainedTodZ` standard deviations over at least `syncSustainedHours` distinct hours scores at least
   * `syncSustainedScore`. Phi is capped by how densely each account fills its buckets (a fleet member sending ten
   * requests an hour misses some), while evidence grows with the hours observed: tens of hours of shared on/off
   * waves that no time-of-day rhythm explains is as sure as a high phi over a few.
   */
  syncSustainedTodZ: number;
  syncSustainedHours: number;
  syncSustainedScore: number;
  /** MinHash LSH: number of bands and rows per band (signature length = bands * rows). */
  lshBands: number;
  lshRows: number;
  /** An LSH bucket bigger than this is not expanded into all pairs; its members are compared to sorted neighbours. */
  lshMaxBucket: number;
  /** Sorted-neighbourhood window used for large LSH buckets. */
  lshNeighbours: number;
  /** Shared rarity weight at which the content (templates) family saturates: several distinct rare templates. */
  contentSaturation: number;
  /** Shared rarity weight at which the infrastructure family saturates. */
  infraSaturation: number;
  /** Minimum content or timing score for an edge that is supported by infrastructure / sign-up evidence. */
  minPrimaryScore: number;
  /** Below this cosine (shared weight vs what the two accounts hold) a family's score is damped proportionally. */
  familyMinCosine: number;
  /** Score of the sign-up family when two candidates were created close together (see signupCloseMs). */
  signupScore: number;
  /** Minimum edge score (sum over evidence families, each 0..1) for a supported edge. */
  minEdgeScore: number;
  /** A single-family edge needs at least this family score (one kind of evidence alone must be strong). */
  minSingleFamilyScore: number;
  /** A template is exclusive to a cluster when at least this share of its holders are members... */
  exclusiveMinShare: number;
  /** ... and at least this fraction of the members (and 3) hold it. */
  exclusiveMinMembers: number;
  /** Clusters smaller than this are not reported. */
  minClusterSize: number;
  /**
   * Prompt libraries (group-level content evidence, needs usage events): an account "draws from a shared library"
   * when at least `libraryMinTemplates` of its distinct templates, and at least `libraryMinShare` of them, are
   * also used by other accounts (templates held by more than `libraryMaxAccounts` accounts are public and ignored).
   * 0 turns prompt libraries off.
   */
  libraryMinTemplates: number;
  libraryMinShare: number;
  libraryMaxAccounts: number;
  /** A template belongs to a library when at least this share of its holders draw from shared libraries. */
  libraryExclusiveShare: number;
  /** Library templates at which an account's prompt-library score saturates. */
  librarySaturation: number;
}

export interface PivotConfig {
  /** Look at how accounts moved to a model within this long after it first appeared. */
  horizonMs: number;
  /** An account (or cluster) moving at least this share of its traffic to the new model is a candidate. */
  minShare: number;
  /**
   * Share at which a cluster pivot is full-strength evidence: a cluster that still sends part of its traffic to
   * the old models (an evaluator comparing them) stays weaker than one that abandoned them.
   */
  fullShare: number;
  /**
   * Strength of a cluster pivot whose movers are mostly members of a fleet created together (see `fleetWindowMs`):
   * the switch is then one operator's, whatever share of traffic it moved (a team that keeps part of its work on
   * the old model is still a team; a fleet that does is still a fleet).
   */
  fleetBackedStrength: number;
  /** ... when the population's share at the same age of the model is at most this. */
  maxPopulationShare: number;
  /** And its share is at least this multiple of the population's share. */
  minLift: number;
  /** Minimum requests of the account/cluster in the horizon, and before the model appeared (established traffic). */
  minRequests: number;
  minPriorRequests: number;
  /** Minimum cluster size for a cluster-level pivot (and of a group of movers inside a cluster). */
  minClusterSize: number;
  /** Movers inside a cluster form a group when their first use of the model is within this long of each other (ms). */
  groupWindowMs: number;
  /**
   * A group of movers inside a cluster (the rest of the cluster stayed) is strong evidence only with at least this
   * many movers, or when most of them belong to a fleet created together: a handful of a team's members switching
   * on release day is what a team's early adopters do; an operator's switch moves dozens of accounts. A whole
   * cluster moving together is judged by its share alone.
   */
  groupMinMovers: number;
  /** A model first seen within this long of the start of observation may predate it: not treated as new. */
  minHistoryMs: number;
  /** How long after the horizon a pivot stays reported (ms). */
  reportForMs: number;
  /** Accounts with at least this many requests in the interval make up the population baseline. */
  minActiveRequests: number;
}

export interface ThresholdConfig {
  /**
   * Share of usage events classified `cot_elicitation` (its 95% lower confidence bound) at which the
   * intent signal starts / saturates.
   */
  intentShareStart: number;
  intentShareFull: number;
  /** Minimum usage events before intent is judged. */
  intentMinEvents: number;
  /**
   * CoT-elicitation events per account per day (over at least `intentMinDays` of its traffic) below which the
   * intent signal is support only (capped at `outputCap`).
   */
  intentMinCotPerDay: number;
  intentMinDays: number;
  /** Hours of the day (0..24) active for round-the-clock operation. */
  roundTheClockHours: number;
  /**
   * Mean output (output tokens with usage events, else response bytes) vs the population median at which
   * output-heavy traffic starts / is full-strength extraction evidence.
   */
  longOutputRatio: number;
  longOutputRatioFull: number;
  /** Minimum requests before an account's own mean output is judged. */
  outputMinRequests: number;
  /** Strength cap of long outputs (below `strongSignal`: support, never an abuse point). */
  outputCap: number;
  /**
   * Fleet sign-ups: groups of a cluster's members created within `fleetWindowMs` of each other, provided the
   * unlinked population created in that window is at most `fleetMaxPopulationShare` and the group's median age is
   * at most `fleetMaxAgeMs` (a team onboarded together years ago is not a fresh fleet). Measured on 7-day worlds:
   * every campaign fleet seen (simulator and foreign generator, tuning worlds) had a median age of 10-24 days at
   * its flag; a SaaS platform's tenants provisioned in one week, and a corporate NAT's sign-up week, 38-55 days.
   */
  fleetWindowMs: number;
  fleetMaxPopulationShare: number;
  fleetMaxAgeMs: number;
  /**
   * ... and the median member is active in at least this share of the hours since its first request, over members
   * observed for at least `fleetMinHistoryMs` (at least `minClusterSize` of them).
   */
  fleetMinDutyCycle: number;
  fleetMinHistoryMs: number;
  /**
   * A member of a fleet group observed for `fleetMinHistoryMs` carries the group's evidence only when it runs at
   * least this share of its own hours: a person who signed up the same week and shares a VPN exit with the fleet
   * is in the window by chance, not part of the machine.
   */
  fleetMemberMinDutyCycle: number;
  /**
   * ... and the chance of so many members in one window, drawn from the background, is at most 10^this (the
   * signal is full strength 4 orders of magnitude below).
   */
  fleetMaxLog10P: number;
  /** 429 share for the rate-limited signal. */
  rateLimitedShare: number;
  /** Account age below which an account is young (ms). */
  youngAccountMs: number;
  /**
   * Minimum requests for an account to be decided beyond `allow`. Low on purpose: the evidence that acts on a
   * handful of requests is a cluster's (a fleet, a pivot) or needs many requests by itself (rotation, CoT volume),
   * and a fleet account sending one request an hour would otherwise wait hours for its fifth.
   */
  minRequests: number;
  /** Minimum requests for an account to count in population baselines (median output size). */
  baselineMinRequests: number;
  /**
   * Client rotation (evasion): distinct user agents at which the signal starts / saturates, and the minimum new
   * user agents per request ((distinct - 1) / (requests - 1)), so that a relay with a handful of clients over
   * thousands of requests does not count.
   */
  rotationMinUserAgents: number;
  rotationFullUserAgents: number;
  rotationMinUaRate: number;
  /**
   * Proxy rotation: minimum distinct /24 subnets, minimum new subnets per request (a relay's servers carry
   * hundreds of requests each), and new subnets per active hour where the signal starts / saturates.
   */
  rotationMinSubnets: number;
  /** ... spread over at least this many /16 networks (a carrier-grade NAT hands out /24s of one /16). */
  rotationMinNetworks: number;
  rotationMinSubnetRate: number;
  rotationSubnetsPerHourStart: number;
  rotationSubnetsPerHourFull: number;
  /**
   * Early rotation: at least `rotationFastUserAgents` user agents, or `rotationFastNetworks` /16 networks, with a new
   * one on at least `rotationFastRate` of requests, is rotation of this strength.
   */
  rotationFastUserAgents: number;
  rotationFastNetworks: number;
  rotationFastRate: number;
  rotationFastStrength: number;
  /**
   * Burst rotation: at least `rotationBurstNetworks` /16 networks, a new one on at least `rotationFastRate` of
   * requests, and at least `rotationBurstNetworksPerHour` new networks per active hour. A proxy pool changes network
   * on every request; a person on the move changes a few times a day.
   */
  rotationBurstNetworks: number;
  rotationBurstNetworksPerHour: number;
  /**
   * Network rotation by an app backend on a function platform (no NAT gateway: each warm container calls from a
   * new address of the region's egress pool, across dozens of cloud /16 networks). Outside a cluster, or in one whose
   * members share at most `appTemplateSlack` templates (one company's sibling accounts), an account
   * that rotates networks with one or two user agents while its usage events are its own few prompts repeated
   * (at most `appTemplateSlack` + `appMaxTemplateDiversity` x events distinct templates, over at least
   * `appMinUsageEvents` events) has its rotation capped at `appRotationCap`: support for the score, not an abuse
   * point. A person or a harvester behind rotating proxies types or paraphrases new prompts; an app sends its
   * system prompt on every request.
   */
  appMaxTemplateDiversity: number;
  appTemplateSlack: number;
  appMinUsageEvents: number;
  appRotationCap: number;
}

export interface DecisionConfig {
  monitorScore: number;
  reviewScore: number;
  suspendScore: number;
  /** Abuse points (strong extraction, pivot, evasion, fleet families) required for suspend, in a cluster. */
  suspendMinPoints: number;
  /** Abuse points required for review (in a cluster or on the account's own traffic). */
  reviewMinPoints: number;
  /**
   * Suspension needs one of these families strong (operation no customer kind shows: rotating clients, a fresh
   * machine-like fleet); CoT benchmarks plus a release-day pivot are what an evaluation company does.
   */
  suspendRequires: string[];
  /** Points that strong client rotation earns inside a coordinated cluster (outside one it earns 1). */
  evasionClusterPoints: number;
  /** A signal counts as strong at or above this strength. */
  strongSignal: number;
  /** Weight of coordination and behaviour signals in the score (abuse signals weigh 1). */
  coordinationWeight: number;
}

export interface DetectionConfig {
  linkage: LinkageConfig;
  pivot: PivotConfig;
  thresholds: ThresholdConfig;
  decisions: DecisionConfig;
  /** Signals computed and reported but never acted on. */
  shadow: Partial<Record<Signal, boolean>>;
  /** Everything in shadow: report scores, decide nothing beyond `allow`/`monitor`. */
  globalShadow: boolean;
  /** How far back detection looks (ms). */
  lookbackMs: number;
  /**
   * Observation needed before anything is decided above `monitor` (ms): rarity, population baselines and synchrony
   * mean nothing on a few minutes of traffic (the first runs of a replay, a fresh deployment).
   */
  warmupMs: number;
}

export const DEFAULT_DETECTION_CONFIG: DetectionConfig = {
  linkage: {
    maxAttributeAccounts: 200,
    minAttributeWeight: 0.1,
    minCandidateWeight: 0.5,
    maxTemplatesPerAccount: 3000,
    maxUsagePerActiveHour: 100,
    maxAttributesPerAccount: 64,
    maxEdgesPerAccount: 4,
    signupCloseMs: 5 * 24 * 3_600_000,
    minInfraWithSignup: 0.05,
    minInfraCandidateWeight: 0.2,
    syncPopulationRef: 1000,
    syncBucketMs: 10 * 60_000,
    syncMinBuckets: 4,
    syncMinShared: 6,
    syncMinHours: 2,
    syncMinHoursOfDay: 3,
    syncMinEpisodes: 2,
    syncPruneLeaves: true,
    signupLinkMinDuty: 0.4,
    signupLinkMinHistoryMs: 6 * 3_600_000,
    syncMinTodZ: 4,
    syncTodPrior: 0.02,
    syncMinPhi: 0.4,
    syncTriangles: false,
    syncTriangleBoost: 1.5,
    syncFullPhi: 0.8,
    syncSustainedTodZ: 8,
    syncSustainedHours: 24,
    syncSustainedScore: 0.9,
    syncFullHours: 4,
    lshBands: 12,
    lshRows: 3,
    lshMaxBucket: 24,
    lshNeighbours: 8,
    contentSaturation: 3,
    infraSaturation: 2,
    minPrimaryScore: 0.5,
    familyMinCosine: 0.1,
    signupScore: 0.4,
    minEdgeScore: 1.2,
    minSingleFamilyScore: 0.9,
    minClusterSize: 3,
    exclusiveMinShare: 0.9,
    exclusiveMinMembers: 0.2,
    libraryMinTemplates: 4,
    libraryMinShare: 0.5,
    libraryMaxAccounts: 10_000,
    libraryExclusiveShare: 0.8,
    librarySaturation: 6,
  },
  pivot: {
    horizonMs: 24 * 3_600_000,
    minShare: 0.5,
    fullShare: 0.85,
    fleetBackedStrength: 0.8,
    maxPopulationShare: 0.15,
    minLift: 3,
    minRequests: 10,
    minPriorRequests: 10,
    minClusterSize: 3,
    groupWindowMs: 2 * 3_600_000,
    groupMinMovers: 10,
    minHistoryMs: 6 * 3_600_000,
    reportForMs: 7 * 24 * 3_600_000,
    minActiveRequests: 5,
  },
  thresholds: {
    intentShareStart: 0.2,
    intentShareFull: 0.45,
    intentMinEvents: 20,
    intentMinCotPerDay: 50,
    intentMinDays: 1,
    roundTheClockHours: 20,
    longOutputRatio: 1.8,
    longOutputRatioFull: 2.8,
    outputMinRequests: 20,
    outputCap: 0.4,
    fleetWindowMs: 7 * 24 * 3_600_000,
    fleetMaxPopulationShare: 0.2,
    fleetMaxAgeMs: 30 * 24 * 3_600_000,
    fleetMaxLog10P: -6,
    // Measured on 7-day worlds: bulk-created platform tenants and a corporate NAT's sign-up week end at 0.75-0.77
    // (median member; a fresh import reads higher in its first day); every campaign fleet seen (simulator and
    // foreign generator, tuning worlds) ran 0.86 or more.
    fleetMinDutyCycle: 0.8,
    fleetMinHistoryMs: 6 * 3_600_000,
    fleetMemberMinDutyCycle: 0.4,
    rateLimitedShare: 0.1,
    youngAccountMs: 7 * 24 * 3_600_000,
    minRequests: 2,
    baselineMinRequests: 5,
    rotationMinUserAgents: 6,
    rotationFullUserAgents: 10,
    rotationMinUaRate: 0.01,
    rotationMinSubnets: 20,
    rotationMinNetworks: 10,
    rotationMinSubnetRate: 0.05,
    rotationSubnetsPerHourStart: 2,
    rotationSubnetsPerHourFull: 5,
    rotationFastUserAgents: 4,
    rotationFastNetworks: 10,
    rotationFastRate: 0.4,
    rotationFastStrength: 0.7,
    rotationBurstNetworks: 6,
    rotationBurstNetworksPerHour: 2,
    appMaxTemplateDiversity: 0.25,
    appTemplateSlack: 4,
    appMinUsageEvents: 10,
    appRotationCap: 0.45,
  },
  decisions: {
    monitorScore: 0.3,
    reviewScore: 0.5,
    suspendScore: 0.8,
    suspendMinPoints: 2,
    reviewMinPoints: 1,
    suspendRequires: ['evasion', 'fleet'],
    evasionClusterPoints: 2,
    strongSignal: 0.6,
    coordinationWeight: 0.5,
  },
  shadow: {},
  globalShadow: false,
  lookbackMs: 7 * 24 * 3_600_000,
  warmupMs: 3_600_000,
};

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeInto(base: Record<string, unknown>, over: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (!(k in base)) throw new Error(`unknown detection config key '${path}${k}'`);
    const b = base[k];
    if (isObject(b) && k !== 'shadow') {
      if (!isObject(v)) throw new Error(`detection config '${path}${k}' must be an object, got ${JSON.stringify(v)}`);
      out[k] = mergeInto(b, v, `${path}${k}.`);
    } else if (k === 'shadow') {
      if (!isObject(v)) throw new Error(`detection config 'shadow' must be an object, got ${JSON.stringify(v)}`);
      for (const [s, on] of Object.entries(v)) {
        if (!(SIGNALS as readonly string[]).includes(s)) throw new Error(`unknown signal '${s}' in detection config shadow`);
        if (typeof on !== 'boolean') throw new Error(`shadow.${s} must be a boolean, got ${JSON.stringify(on)}`);
      }
      out[k] = { ...(b as object), ...v };
    } else {
      if (typeof v !== typeof b) throw new Error(`detection config '${path}${k}' must be a ${typeof b}, got ${JSON.stringify(v)}`);
      out[k] = v;
    }
  }
  return out;
}

/** Defaults overridden by a partial config (validated: unknown keys and wrong types are errors). */
export function resolveDetectionConfig(overrides?: DeepPartial<DetectionConfig> | string | null): DetectionConfig {
  if (overrides === undefined || overrides === null || overrides === '') return DEFAULT_DETECTION_CONFIG;
  let parsed: unknown = overrides;
  if (typeof overrides === 'string') {
    try {
      parsed = JSON.parse(overrides);
    } catch (err) {
      throw new Error(`detection config is not valid json: ${(err as Error).message}`);
    }
  }
  if (!isObject(parsed)) throw new Error(`detection config must be a json object, got ${JSON.stringify(parsed)}`);
  return mergeInto(DEFAULT_DETECTION_CONFIG as unknown as Record<string, unknown>, parsed, '') as unknown as DetectionConfig;
}

/** Config from the `DETECTION_CONFIG` environment variable (JSON), else the defaults. */
export function detectionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DetectionConfig {
  return resolveDetectionConfig(env.DETECTION_CONFIG);
}

export function isShadow(config: DetectionConfig, signal: Signal): boolean {
  return config.shadow[signal] === true;
}
