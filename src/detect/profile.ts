/**
 * AccountProfile: an account's hourly windows (src/aggregate/window.ts) merged over the lookback.
 *
 * Every field merges commutatively (sums, unions, min/max), so a profile can be built from full windows read
 * from DynamoDB (the scheduled scorer) or grown from window deltas as replay reads a log, with the same result.
 * The only exception is per-minute dispersion, which needs a window's final per-minute counts: it is added by
 * `closeWindow` once per window (the scorer calls it for every window it reads; replay when an hour closes).
 */
import { emptyWindow, type AccountWindow } from '../aggregate/window';
import { dataRecord } from '../shared/data-record';

export interface HourCell {
  n: number;
  models: Record<string, number>;
}

export interface AccountProfile {
  accountId: string;
  /** Bumped on every update (lets detection cache per-account derived data between runs). */
  version: number;
  n: number;
  s4: number;
  s5: number;
  s429: number;
  respBytes: number;
  respBytesN: number;
  latencyMs: number;
  latencyN: number;
  firstTs: number;
  lastTs: number;
  createdAt: number | null;
  /** Requests per hour of day (UTC), 24 entries. */
  hourOfDay: number[];
  /** Per hour window: requests and model counts (for pivot and active-hours). */
  hours: Map<number, HourCell>;
  models: Record<string, number>;
  /** First hour (windowStart) the account used each model. */
  modelFirstUse: Record<string, number>;
  ips: Set<string>;
  subnets: Set<string>;
  userAgents: Set<string>;
  apiKeys: Set<string>;
  templates: Set<string>;
  /** Sync buckets (floor(ts / syncBucketMs)) with at least one request. */
  syncBuckets: Set<number>;
  /** Per-minute dispersion accumulators over closed windows: minutes observed, sum, sum of squares, max. */
  minObserved: number;
  minSum: number;
  minSumSq: number;
  minMax: number;
  usageN: number;
  inputTokens: number;
  outputTokens: number;
  promptClasses: Record<string, number>;
}

export function emptyProfile(accountId: string): AccountProfile {
  return {
    accountId,
    version: 0,
    n: 0,
    s4: 0,
    s5: 0,
    s429: 0,
    respBytes: 0,
    respBytesN: 0,
    latencyMs: 0,
    latencyN: 0,
    firstTs: Number.POSITIVE_INFINITY,
    lastTs: Number.NEGATIVE_INFINITY,
    createdAt: null,
    hourOfDay: new Array<number>(24).fill(0),
    hours: new Map(),
    models: dataRecord(),
    modelFirstUse: dataRecord(),
    ips: new Set(),
    subnets: new Set(),
    userAgents: new Set(),
    apiKeys: new Set(),
    templates: new Set(),
    syncBuckets: new Set(),
    minObserved: 0,
    minSum: 0,
    minSumSq: 0,
    minMax: 0,
    usageN: 0,
    inputTokens: 0,
    outputTokens: 0,
    promptClasses: dataRecord(),
  };
}

/** Adds items[from..] to the set; returns items.length (what is applied now). */
function addFrom<T>(set: Set<T>, items: readonly T[], from: number): number {
  for (let i = from; i < items.length; i++) set.add(items[i]);
  return items.length;
}

/**
 * The additive part of a window already applied to a profile (replay applies an open window several times as it
 * grows; sets and min/max are idempotent, counters are applied as the difference to the previous snapshot).
 */
export type AppliedWindow = Pick<
  AccountWindow,
  | 'n'
  | 'status4xx'
  | 'status5xx'
  | 'status429'
  | 'respBytes'
  | 'respBytesN'
  | 'latencyMs'
  | 'latencyN'
  | 'usageN'
  | 'inputTokens'
  | 'outputTokens'
  | 'models'
  | 'promptClasses'
> & {
  /**
   * How many members of each set field (ips, subnets, userAgents, apiKeys, templates) were applied: a snapshot's
   * sets list the window's members in insertion order, so a later snapshot of the same window only adds the rest.
   */
  setSizes?: number[];
};

/** Nothing applied yet: an empty window's counters (read only, never written). */
const ZERO: AppliedWindow = emptyWindow('', 0);

/**
 * Apply window `w` to the profile, where `prev` is the snapshot of the same window applied earlier (undefined the
 * first time). Returns what is now applied, to pass as `prev` next time.
 */
export function updateWindow(p: AccountProfile, w: AccountWindow, syncBucketMs: number, prev: AppliedWindow = ZERO): AppliedWindow {
  const dn = w.n - prev.n;
  p.version++;
  p.n += dn;
  p.s4 += w.status4xx - prev.status4xx;
  p.s5 += w.status5xx - prev.status5xx;
  p.s429 += w.status429 - prev.status429;
  p.respBytes += w.respBytes - prev.respBytes;
  p.respBytesN += w.respBytesN - prev.respBytesN;
  p.latencyMs += w.latencyMs - prev.latencyMs;
  p.latencyN += w.latencyN - prev.latencyN;
  if (w.n > 0 || w.usageN > 0) {
    if (w.firstTs < p.firstTs) p.firstTs = w.firstTs;
    if (w.lastTs > p.lastTs) p.lastTs = w.lastTs;
  }
  if (w.accountCreatedAt !== null && w.accountCreatedAt !== undefined && (p.createdAt === null || w.accountCreatedAt < p.createdAt)) {
    p.createdAt = w.accountCreatedAt;
  }
  const hod = Math.floor((((w.windowStart % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000);
  p.hourOfDay[hod] += dn;
  let cell = p.hours.get(w.windowStart);
  if (!cell) {
    cell = { n: 0, models: dataRecord() };
    p.hours.set(w.windowStart, cell);
  }
  cell.n += dn;
  for (const [m, c] of Object.entries(w.models)) {
    const d = c - (prev.models[m] ?? 0);
    if (d) {
      cell.models[m] = (cell.models[m] ?? 0) + d;
      p.models[m] = (p.models[m] ?? 0) + d;
    }
    if (c > 0) {
      const f = p.modelFirstUse[m];
      if (f === undefined || w.windowStart < f) p.modelFirstUse[m] = w.windowStart;
    }
  }
  for (const [minute, c] of Object.entries(w.minutes)) {
    if (!c) continue;
    p.syncBuckets.add(Math.floor((w.windowStart + Number(minute) * 60_000) / syncBucketMs));
  }
  const applied = prev.setSizes ?? NONE_APPLIED;
  const setSizes = [
    addFrom(p.ips, w.ips, applied[0]),
    addFrom(p.subnets, w.subnets, applied[1]),
    addFrom(p.userAgents, w.userAgents, applied[2]),
    addFrom(p.apiKeys, w.apiKeys, applied[3]),
    addFrom(p.templates, w.templates, applied[4]),
  ];
  p.usageN += w.usageN - prev.usageN;
  p.inputTokens += w.inputTokens - prev.inputTokens;
  p.outputTokens += w.outputTokens - prev.outputTokens;
  for (const [k, c] of Object.entries(w.promptClasses)) {
    const d = c - (prev.promptClasses[k] ?? 0);
    if (d) p.promptClasses[k] = (p.promptClasses[k] ?? 0) + d;
  }
  return {
    n: w.n,
    status4xx: w.status4xx,
    status5xx: w.status5xx,
    status429: w.status429,
    respBytes: w.respBytes,
    respBytesN: w.respBytesN,
    latencyMs: w.latencyMs,
    latencyN: w.latencyN,
    usageN: w.usageN,
    inputTokens: w.inputTokens,
    outputTokens: w.outputTokens,
    models: dataRecord(Object.entries(w.models)),
    promptClasses: dataRecord(Object.entries(w.promptClasses)),
    setSizes,
  };
}

const NONE_APPLIED: readonly number[] = [0, 0, 0, 0, 0];

/** Merge a window (or a delta of one) into the profile. */
export function addWindow(p: AccountProfile, w: AccountWindow, syncBucketMs: number): void {
  updateWindow(p, w, syncBucketMs);
}

/** Add a complete window's per-minute counts to the dispersion accumulators (once per window). */
export function closeWindow(p: AccountProfile, w: AccountWindow): void {
  if (w.n <= 0) return;
  p.version++;
  let sum = 0;
  let sumSq = 0;
  let max = 0;
  for (const c of Object.values(w.minutes)) {
    sum += c;
    sumSq += c * c;
    if (c > max) max = c;
  }
  p.minObserved += 60;
  p.minSum += sum;
  p.minSumSq += sumSq;
  if (max > p.minMax) p.minMax = max;
}

/** Build profiles from complete windows (the scorer's path). */
export function profilesFromWindows(windows: Iterable<AccountWindow>, syncBucketMs: number): Map<string, AccountProfile> {
  const out = new Map<string, AccountProfile>();
  for (const w of windows) {
    let p = out.get(w.accountId);
    if (!p) {
      p = emptyProfile(w.accountId);
      out.set(w.accountId, p);
    }
    addWindow(p, w, syncBucketMs);
    closeWindow(p, w);
  }
  return out;
}
