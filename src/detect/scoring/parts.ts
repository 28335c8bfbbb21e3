/**
 * Scoring in parts. Most of scoring is per account (features, signals, decisions), but four inputs are measured
 * over the whole population: the output baseline (a median), new-model adoption (a median share per model), each
 * cluster's context (sums over its members, wherever they are) and the sign-up null model (the creation times of
 * unlinked accounts). A part of the population (an account shard) reduces its accounts to a `ScoringPart`; the
 * parts, reduced together in population order (`reduceScoring`), give exactly the figures the whole population
 * gives, so every shard can then decide its own accounts (`decideAccounts`).
 *
 * The single path is the same steps on one part. Parts are plain JSON: a sharded run stores them between stages.
 */
import type { DetectionConfig } from '../config';
import type { AccountFeatures } from '../features';
import type { LinkageResult } from '../linkage';
import { modelParts, type ModelPart, type PivotUsage } from '../pivot';
import type { AccountProfile } from '../profile';
import { cotPerDay } from '../score';

/** What a cluster member adds to its cluster's context (context.ts). */
export interface MemberPart {
  id: string;
  usageN: number;
  cotElicitation: number;
  outputTokens: number;
  respBytes: number;
  respBytesN: number;
  createdAt: number | null;
  cotPerDay: number;
  /** Share of the hours since its first request it was active in; absent until observed for `fleetMinHistoryMs`. */
  duty?: number;
}

export interface ScoringPart {
  accounts: number;
  /** Whether an account here has `baselineMinRequests` usage events (the baseline is then in tokens). */
  withUsage: boolean;
  /** Mean output per request of the accounts with `baselineMinRequests` requests, in each unit it is known in. */
  outputTokens: number[];
  responseBytes: number[];
  /** Creation times of the accounts linked to nobody: the sign-up null model's population. */
  unlinkedCreatedAt: number[];
  /** Cluster members, in population order. */
  members: MemberPart[];
  /** Per watched model (`pivotWindows`), this part's adoption. */
  models: ModelPart[];
}

/** Part of `profiles` (with their features, in the same order) for the whole population's reductions. */
export function scoringPart(
  profiles: readonly AccountProfile[],
  features: readonly AccountFeatures[],
  linkage: Pick<LinkageResult, 'byAccount'>,
  usage: PivotUsage,
  now: number,
  config: DetectionConfig,
): ScoringPart {
  const t = config.thresholds;
  const part: ScoringPart = {
    accounts: profiles.length,
    withUsage: false,
    outputTokens: [],
    responseBytes: [],
    unlinkedCreatedAt: [],
    members: [],
    models: modelParts(profiles, usage, config.pivot, (id) => linkage.byAccount.get(id)?.clusterId),
  };
  const linked = linkage.byAccount.size > 0;
  for (let i = 0; i < profiles.length; i++) {
    const p = profiles[i];
    const f = features[i];
    if (f.usageEvents >= t.baselineMinRequests) part.withUsage = true;
    if (f.requests >= t.baselineMinRequests) {
      if (f.avgOutputTokens !== null) part.outputTokens.push(f.avgOutputTokens);
      if (f.avgResponseBytes !== null) part.responseBytes.push(f.avgResponseBytes);
    }
    if (!linked) continue;
    if (!linkage.byAccount.has(p.accountId)) {
      if (p.createdAt !== null) part.unlinkedCreatedAt.push(p.createdAt);
      continue;
    }
    part.members.push(memberPart(p, f, now, config));
  }
  return part;
}

function memberPart(p: AccountProfile, f: AccountFeatures, now: number, config: DetectionConfig): MemberPart {
  const m: MemberPart = {
    id: p.accountId,
    usageN: p.usageN,
    cotElicitation: p.promptClasses['cot_elicitation'] ?? 0,
    outputTokens: p.outputTokens,
    respBytes: p.respBytes,
    respBytesN: p.respBytesN,
    createdAt: p.createdAt,
    cotPerDay: cotPerDay(f, config.thresholds.intentMinDays),
  };
  // Hours active since the account's first request, up to now (a finished event's burst is not a duty cycle),
  // for members observed long enough for it to mean something (a cohort's first evening is not a routine).
  const observedMs = now - f.firstTs;
  if (observedMs >= config.thresholds.fleetMinHistoryMs) m.duty = f.activeHours / Math.ceil(observedMs / 3_600_000);
  return m;
}
