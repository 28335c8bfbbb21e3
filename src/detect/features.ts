/**
 * Per-account features derived from an AccountProfile (the account's windows merged over the lookback).
 * Pure functions; each is unit-tested in test/detect/features.test.ts.
 */
import type { ModelFirstSeen } from '../aggregate/window';
import type { AccountProfile } from './profile';
import { dataRecord } from '../shared/data-record';

export interface AccountFeatures {
  accountId: string;
  requests: number;
  /** Hour windows with traffic. */
  activeHours: number;
  /** Distinct hours of the day (UTC, 0..24) with traffic: 24/7 operation shows 20+. */
  hoursOfDayActive: number;
  spanMs: number;
  firstTs: number;
  lastTs: number;
  errorRate: number;
  rate429: number;
  avgResponseBytes: number | null;
  avgLatencyMs: number | null;
  /** Index of dispersion (variance / mean) of per-minute counts in active hours: ~0 metronome, ~1 Poisson, >1 bursty. */
  dispersion: number | null;
  /** Busiest minute vs the mean minute of active hours. */
  burstRatio: number | null;
  models: Record<string, number>;
  distinctModels: number;
  /** Shannon entropy (bits) of the model mix. */
  modelEntropy: number;
  /** Per model: ms from the model's first appearance in the traffic to this account's first use (hour resolution). */
  adoptionDelayMs: Record<string, number>;
  distinctIps: number;
  distinctSubnets: number;
  /** Distinct /16 networks (IPv4) or /32 prefixes (IPv6) of those subnets. */
  distinctNetworks: number;
  distinctUserAgents: number;
  distinctApiKeys: number;
  createdAt: number | null;
  accountAgeMs: number | null;
  // ---- usage events ----
  usageEvents: number;
  /** Share of usage events per prompt class. */
  promptClassMix: Record<string, number>;
  /**
   * Share of `cot_elicitation`: extraction intent. Rewrites are not counted: rewriting is what support, marketing
   * and legal teams do all day.
   */
  intentShare: number | null;
  avgOutputTokens: number | null;
  avgInputTokens: number | null;
  distinctTemplates: number;
  /** Distinct templates per usage event (1 = every prompt unique; ~0 = one template). */
  templateDiversity: number | null;
}

export function entropyBits(counts: Record<string, number>): number {
  let total = 0;
  for (const c of Object.values(counts)) total += c;
  if (total <= 0) return 0;
  let h = 0;
  for (const c of Object.values(counts)) {
    if (c <= 0) continue;
    const p = c / total;
    h -= p * Math.log2(p);
  }
  return h;
}

export function dispersionIndex(observed: number, sum: number, sumSq: number): number | null {
  if (observed <= 1 || sum <= 0) return null;
  const mean = sum / observed;
  const variance = Math.max(0, sumSq / observed - mean * mean);
  return variance / mean;
}

/** @param networks counts distinct networks incrementally (replay keeps one per account between runs). */
export function computeFeatures(p: AccountProfile, modelFirstSeen: ModelFirstSeen, now: number, networks?: NetworkCounter): AccountFeatures {
  let activeHours = 0;
  for (const cell of p.hours.values()) if (cell.n > 0) activeHours++;
  let hoursOfDayActive = 0;
  for (const c of p.hourOfDay) if (c > 0) hoursOfDayActive++;
  const adoptionDelayMs = dataRecord();
  for (const [m, first] of Object.entries(p.modelFirstUse)) {
    const seen = modelFirstSeen[m];
    if (seen !== undefined) adoptionDelayMs[m] = Math.max(0, first - Math.floor(seen / 3_600_000) * 3_600_000);
  }
  const intent = p.promptClasses['cot_elicitation'] ?? 0;
  const mix = dataRecord();
  if (p.usageN > 0) for (const [k, c] of Object.entries(p.promptClasses)) mix[k] = c / p.usageN;
  const meanMinute = p.minObserved > 0 ? p.minSum / p.minObserved : 0;
  return {
    accountId: p.accountId,
    requests: p.n,
    activeHours,
    hoursOfDayActive,
    spanMs: p.lastTs >= p.firstTs ? p.lastTs - p.firstTs : 0,
    firstTs: p.firstTs,
    lastTs: p.lastTs,
    errorRate: p.n > 0 ? (p.s4 + p.s5) / p.n : 0,
    rate429: p.n > 0 ? p.s429 / p.n : 0,
    avgResponseBytes: p.respBytesN > 0 ? p.respBytes / p.respBytesN : null,
    avgLatencyMs: p.latencyN > 0 ? p.latencyMs / p.latencyN : null,
    dispersion: dispersionIndex(p.minObserved, p.minSum, p.minSumSq),
    burstRatio: meanMinute > 0 ? p.minMax / meanMinute : null,
    models: p.models,
    distinctModels: Object.keys(p.models).length,
    modelEntropy: entropyBits(p.models),
    adoptionDelayMs,
    distinctIps: p.ips.size,
    distinctSubnets: p.subnets.size,
    distinctNetworks: networks ? networks.count(p.subnets) : networkCount(p.subnets),
    distinctUserAgents: p.userAgents.size,
    distinctApiKeys: p.apiKeys.size,
    createdAt: p.createdAt,
    accountAgeMs: p.createdAt !== null ? Math.max(0, now - p.createdAt) : null,
    usageEvents: p.usageN,
    promptClassMix: mix,
    intentShare: p.usageN > 0 ? intent / p.usageN : null,
    avgOutputTokens: p.usageN > 0 ? p.outputTokens / p.usageN : null,
    avgInputTokens: p.usageN > 0 ? p.inputTokens / p.usageN : null,
    distinctTemplates: p.templates.size,
    templateDiversity: p.usageN > 0 ? p.templates.size / p.usageN : null,
  };
}

/** Distinct /16 networks of a set of `a.b.c.0/24` subnets (IPv6 `/48` prefixes count by their first two groups). */
export function networkCount(subnets: Set<string>): number {
  const nets = new Set<string>();
  for (const sn of subnets) nets.add(networkOf(sn));
  return nets.size;
}

function networkOf(sn: string): string {
  const sep = sn.includes(':') ? ':' : '.';
  const first = sn.indexOf(sep);
  return sn.slice(0, sn.indexOf(sep, first + 1));
}

/**
 * networkCount of one account's subnet set as it grows: profile sets only grow and iterate in insertion order, so
 * only the members added since the last call are split. Starts over when handed another set or a smaller one.
 */
export class NetworkCounter {
  private of: Set<string> | undefined;
  private seen = 0;
  private readonly nets = new Set<string>();

  count(subnets: Set<string>): number {
    if (subnets !== this.of || subnets.size < this.seen) {
      this.of = subnets;
      this.seen = 0;
      this.nets.clear();
    }
    if (subnets.size === this.seen) return this.nets.size;
    let i = 0;
    for (const sn of subnets) if (i++ >= this.seen) this.nets.add(networkOf(sn));
    this.seen = subnets.size;
    return this.nets.size;
  }
}

/** Median of a numeric list (null when empty). */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = sortedNumbers(values);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * A sorted copy: what [...values].sort((a, b) => a - b) gives. A typed copy sorts numerically without calling a
 * comparator, several times faster. NaN and -0 keep the comparator sort: it leaves them where they are (NaN compares
 * as equal, -0 equals 0), the typed sort moves them.
 */
export function sortedNumbers(values: number[]): ArrayLike<number> {
  return values.some(unordered) ? [...values].sort((a, b) => a - b) : new Float64Array(values).sort();
}

function unordered(v: number): boolean {
  return v !== v || Object.is(v, -0);
}
