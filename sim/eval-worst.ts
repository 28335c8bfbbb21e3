/**
 * Worst-world aggregation for `npm run eval`: several independent worlds (seed x variant x input mode) are
 * scored one by one, then summarised by their WORST case per organic kind and per campaign, checked against the
 * detection targets, and rendered as markdown. Pure functions, no I/O; the figures of one world come either from
 * sim/eval.ts (project simulator) or from the foreign validation's own score.mjs.
 *
 * Organic kinds and campaign names are whatever the labels say: nothing here lists them.
 */
import { DEFAULT_DETECTION_CONFIG, SIGNALS } from '../src/detect/config';
import type { ReplayReport } from '../src/shared/contract';
import type { RunMetrics } from './eval';

const HOUR = 3_600_000;

/** What the replay was given: access logs and usage events, access logs alone, or no replay (volume rule). */
export type Mode = 'logs+usage' | 'logs only' | 'volume baseline';
export const MODES: readonly Mode[] = ['logs+usage', 'logs only', 'volume baseline'];

export interface Counts {
  /** Accounts that sent traffic. */
  n: number;
  /** Reached review or suspend. */
  review: number;
  suspend: number;
}

/** Per organic kind: reason combination (sorted, joined with ' + ') -> accounts flagged at review / at suspend. */
export type ReasonCounts = Record<string, Record<string, { review: number; suspend: number; worlds: string[] }>>;

/** The scored figures of one world in one mode. */
export interface WorldScore {
  seed: string;
  variant: string;
  mode: Mode;
  /** Access-log lines of the world (null: unknown). */
  lines: number | null;
  /** Wall time of the replay (null: no replay, e.g. the volume baseline). */
  replaySeconds: number | null;
  /** Set when the replay or scoring failed; the figures are then empty and the world counts as failed. */
  error?: string;
  campaigns: Record<string, Counts & { latencyMedianMs?: number | null }>;
  organic: Record<string, Counts>;
  recall: Counts;
  fp: Counts;
  /** First campaign request -> firstFlaggedAt, flagged campaign accounts. */
  latencyMedianMs: number | null;
  latencyP90Ms: number | null;
  /** Model-pivot accounts: release of the new model -> firstFlaggedAt (negative: flagged before the release). */
  pivotLatencyMedianMs: number | null;
  mixedClusters: number;
  clusters: number;
  reasons: ReasonCounts;
  /** Per organic kind and per campaign: which signals were strong (empty without a replay report). */
  signals: SignalCounts;
}

/** The group of an account that sent traffic: an organic kind or a campaign. */
export interface Group {
  side: 'organic' | 'campaign';
  name: string;
}

/** Accounts of one group that sent traffic, and per signal how many of them had it strong. */
export interface GroupSignals {
  n: number;
  strong: Record<string, number>;
}

export interface SignalCounts {
  organic: Record<string, GroupSignals>;
  campaigns: Record<string, GroupSignals>;
}

const noSignals = (): SignalCounts => ({ organic: {}, campaigns: {} });

export const worldName = (w: Pick<WorldScore, 'seed' | 'variant'>): string => `${w.variant} s${w.seed}`;

const zero = (): Counts => ({ n: 0, review: 0, suspend: 0 });

// ----------------------------------------------------------------------------------------------------------
// Building one world's score
// ----------------------------------------------------------------------------------------------------------

/**
 * Why organic accounts were flagged: for every flagged account whose `kindOf` is an organic kind, count its
 * reason combination. `kindOf` returns null for campaign accounts and accounts that sent no traffic.
 */
export function organicReasons(report: Pick<ReplayReport, 'accounts'>, kindOf: (accountId: string) => string | null, world: string): ReasonCounts {
  const out: ReasonCounts = {};
  for (const a of report.accounts) {
    if (a.decision !== 'review' && a.decision !== 'suspend') continue;
    const kind = kindOf(a.accountId);
    if (kind === null) continue;
    const combo = reasonCombo(a.reasons);
    const c = ((out[kind] ??= {})[combo] ??= { review: 0, suspend: 0, worlds: [] });
    if (a.decision === 'suspend') c.suspend++;
    else c.review++;
    if (!c.worlds.includes(world)) c.worlds.push(world);
  }
  return out;
}

export function reasonCombo(reasons: readonly string[] | undefined): string {
  const set = [...new Set(reasons ?? [])].sort();
  return set.length ? set.join(' + ') : '(no reason given)';
}

/** Sum reason counts over worlds. */
export function mergeReasons(all: ReasonCounts[]): ReasonCounts {
  const out: ReasonCounts = {};
  for (const rc of all) {
    for (const [kind, combos] of Object.entries(rc)) {
      for (const [combo, v] of Object.entries(combos)) {
        const c = ((out[kind] ??= {})[combo] ??= { review: 0, suspend: 0, worlds: [] });
        c.review += v.review;
        c.suspend += v.suspend;
        for (const w of v.worlds) if (!c.worlds.includes(w)) c.worlds.push(w);
      }
    }
  }
  return out;
}

/** A signal counts as strong at this strength: it then makes the account at least `monitor`, so it is in the report. */
export const STRONG_SIGNAL = DEFAULT_DETECTION_CONFIG.decisions.strongSignal;

/** The signals of one report account's `reasonDetails` at or above `strong`, each once. */
export function strongSignalsOf(a: { reasonDetails?: unknown; [extra: string]: unknown }, strong = STRONG_SIGNAL): string[] {
  const details: unknown[] = Array.isArray(a.reasonDetails) ? a.reasonDetails : [];
  const out = new Set<string>();
  for (const d of details) {
    const r = d as { signal?: unknown; strength?: unknown } | null;
    if (r && typeof r.signal === 'string' && typeof r.strength === 'number' && r.strength >= strong) out.add(r.signal);
  }
  return [...out];
}

/** The organic kind of an account (null: a campaign account, or no traffic), for organicReasons. */
export const kindFrom =
  (groupOf: (accountId: string) => Group | null) =>
  (accountId: string): string | null => {
    const g = groupOf(accountId);
    return g?.side === 'organic' ? g.name : null;
  };

/**
 * Per organic kind and per campaign: of the accounts `ids` that `groupOf` places (null: no traffic), how many
 * had each signal strong. An account absent from the report had no strong signal.
 */
export function signalCounts(
  report: Pick<ReplayReport, 'accounts'>,
  ids: Iterable<string>,
  groupOf: (accountId: string) => Group | null,
  strong = STRONG_SIGNAL,
): SignalCounts {
  const byId = new Map(report.accounts.map((a) => [a.accountId, a]));
  const out = noSignals();
  for (const id of ids) {
    const g = groupOf(id);
    if (g === null) continue;
    const c = ((g.side === 'organic' ? out.organic : out.campaigns)[g.name] ??= { n: 0, strong: {} });
    c.n++;
    const a = byId.get(id);
    if (a) for (const sig of strongSignalsOf(a, strong)) c.strong[sig] = (c.strong[sig] ?? 0) + 1;
  }
  return out;
}

/** How a world was run: what both scorers below are given besides the figures. */
export interface WorldRun {
  seed: string;
  variant: string;
  mode: Mode;
  lines: number | null;
  replaySeconds: number | null;
  reasons?: ReasonCounts;
  signals?: SignalCounts;
}

/** The run's fields of a world's score, reasons and signals defaulted to none. */
function runFields(w: WorldRun) {
  return { ...w, reasons: w.reasons ?? {}, signals: w.signals ?? noSignals() };
}

/** A world scored by sim/eval.ts computeMetrics. */
export function worldFromMetrics(m: RunMetrics, w: WorldRun): WorldScore {
  const campaigns: WorldScore['campaigns'] = {};
  for (const [k, r] of Object.entries(m.recall)) if (k !== 'all') campaigns[k] = { ...r, latencyMedianMs: m.latency[k]?.median ?? null };
  const organic: WorldScore['organic'] = {};
  for (const [k, r] of Object.entries(m.fp)) if (k !== 'all') organic[k] = { ...r };
  return {
    ...runFields(w),
    campaigns,
    organic,
    recall: { ...(m.recall.all ?? zero()) },
    fp: { ...(m.fp.all ?? zero()) },
    latencyMedianMs: m.latency.all?.median ?? null,
    latencyP90Ms: m.latency.all?.p90 ?? null,
    pivotLatencyMedianMs: m.pivot.n ? m.pivot.median : null,
    mixedClusters: m.clusters.mixed,
    clusters: m.clusters.count,
  };
}

/** The one JSON line of the foreign validation's score.mjs (the fields used here). */
export interface ForeignScore {
  latencyMedianH: number | null;
  latencyP90H: number | null;
  pivotLatencyMedianH: number | null;
  mixedClusters: number;
  clusters?: number;
  campaigns: Record<string, { accounts: number; review: number; suspend: number }>;
  organic: Record<string, { accounts: number; review: number; suspend: number }>;
}

/** A world scored by score.mjs: its figures are taken as they are (totals are the sums of its breakdown). */
export function worldFromForeign(s: ForeignScore, w: WorldRun): WorldScore {
  const conv = (b: { accounts: number; review: number; suspend: number }): Counts => ({ n: b.accounts, review: b.review, suspend: b.suspend });
  const sum = (xs: Counts[]): Counts => xs.reduce((a, b) => ({ n: a.n + b.n, review: a.review + b.review, suspend: a.suspend + b.suspend }), zero());
  const campaigns: WorldScore['campaigns'] = {};
  for (const [k, b] of Object.entries(s.campaigns ?? {})) campaigns[k] = conv(b);
  const organic: WorldScore['organic'] = {};
  for (const [k, b] of Object.entries(s.organic ?? {})) organic[k] = conv(b);
  const ms = (h: number | null | undefined): number | null => (typeof h === 'number' && Number.isFinite(h) ? h * HOUR : null);
  return {
    ...runFields(w),
    campaigns,
    organic,
    recall: sum(Object.values(campaigns)),
    fp: sum(Object.values(organic)),
    latencyMedianMs: ms(s.latencyMedianH),
    latencyP90Ms: ms(s.latencyP90H),
    pivotLatencyMedianMs: ms(s.pivotLatencyMedianH),
    mixedClusters: s.mixedClusters ?? 0,
    clusters: s.clusters ?? 0,
  };
}

/** A world whose replay (or scoring) failed. */
export function failedWorld(
  w: { seed: string; variant: string; mode: Mode; lines: number | null; replaySeconds: number | null },
  error: string,
): WorldScore {
  return {
    ...w,
    error,
    campaigns: {},
    organic: {},
    recall: zero(),
    fp: zero(),
    latencyMedianMs: null,
    latencyP90Ms: null,
    pivotLatencyMedianMs: null,
    mixedClusters: 0,
    clusters: 0,
    reasons: {},
    signals: noSignals(),
  };
}

// ----------------------------------------------------------------------------------------------------------
// Worst case over worlds
// ----------------------------------------------------------------------------------------------------------

/** A worst value and the first world (in input order) where it occurred. */
export interface At {
  value: number;
  world: string;
  /** Numerator / denominator behind a rate. */
  count?: number;
  n?: number;
}

export interface OrganicWorst {
  kind: string;
  worlds: number;
  accountsMin: number;
  accountsMax: number;
  maxReviewRate: At;
  maxSuspend: At;
}

export interface CampaignWorst {
  name: string;
  worlds: number;
  accountsMin: number;
  accountsMax: number;
  minReview: At;
  minSuspend: At;
  /** Null when no world measured a per-campaign latency (the foreign score gives only the overall one). */
  maxLatencyMedian: At | null;
}

export interface OverallWorst {
  worlds: number;
  failed: number;
  minRecallReview: At | null;
  minRecallSuspend: At | null;
  maxOrganicSuspended: At | null;
  maxOrganicReviewRate: At | null;
  maxMixedClusters: At | null;
  maxLatencyMedian: At | null;
  maxPivotLatency: At | null;
}

export interface Worst {
  organic: OrganicWorst[];
  campaigns: CampaignWorst[];
  overall: OverallWorst;
}

/** Keep the first world with the largest (dir 1) or smallest (dir -1) value. */
function pick(cur: At | null, next: At, dir: 1 | -1): At {
  if (cur === null) return next;
  return (next.value - cur.value) * dir > 0 ? next : cur;
}

/** Worst case over the given worlds (one mode); failed worlds are counted, not aggregated. */
export function worstCase(worlds: readonly WorldScore[]): Worst {
  const ok = worlds.filter((w) => !w.error);
  const org = new Map<string, OrganicWorst>();
  const camp = new Map<string, CampaignWorst>();
  const overall: OverallWorst = {
    worlds: worlds.length,
    failed: worlds.length - ok.length,
    minRecallReview: null,
    minRecallSuspend: null,
    maxOrganicSuspended: null,
    maxOrganicReviewRate: null,
    maxMixedClusters: null,
    maxLatencyMedian: null,
    maxPivotLatency: null,
  };
  for (const w of ok) {
    const world = worldName(w);
    for (const [kind, c] of Object.entries(w.organic)) {
      if (c.n === 0) continue;
      const rate: At = { value: c.review / c.n, world, count: c.review, n: c.n };
      const susp: At = { value: c.suspend, world, count: c.suspend, n: c.n };
      const cur = org.get(kind);
      if (!cur) org.set(kind, { kind, worlds: 1, accountsMin: c.n, accountsMax: c.n, maxReviewRate: rate, maxSuspend: susp });
      else {
        cur.worlds++;
        cur.accountsMin = Math.min(cur.accountsMin, c.n);
        cur.accountsMax = Math.max(cur.accountsMax, c.n);
        cur.maxReviewRate = pick(cur.maxReviewRate, rate, 1);
        cur.maxSuspend = pick(cur.maxSuspend, susp, 1);
      }
    }
    for (const [name, c] of Object.entries(w.campaigns)) {
      if (c.n === 0) continue;
      const rev: At = { value: c.review / c.n, world, count: c.review, n: c.n };
      const sus: At = { value: c.suspend / c.n, world, count: c.suspend, n: c.n };
      const lat: At | null = typeof c.latencyMedianMs === 'number' ? { value: c.latencyMedianMs, world } : null;
      const cur = camp.get(name);
      if (!cur) camp.set(name, { name, worlds: 1, accountsMin: c.n, accountsMax: c.n, minReview: rev, minSuspend: sus, maxLatencyMedian: lat });
      else {
        cur.worlds++;
        cur.accountsMin = Math.min(cur.accountsMin, c.n);
        cur.accountsMax = Math.max(cur.accountsMax, c.n);
        cur.minReview = pick(cur.minReview, rev, -1);
        cur.minSuspend = pick(cur.minSuspend, sus, -1);
        if (lat) cur.maxLatencyMedian = pick(cur.maxLatencyMedian, lat, 1);
      }
    }
    if (w.recall.n > 0) {
      overall.minRecallReview = pick(
        overall.minRecallReview,
        { value: w.recall.review / w.recall.n, world, count: w.recall.review, n: w.recall.n },
        -1,
      );
      overall.minRecallSuspend = pick(
        overall.minRecallSuspend,
        { value: w.recall.suspend / w.recall.n, world, count: w.recall.suspend, n: w.recall.n },
        -1,
      );
    }
    if (w.fp.n > 0) {
      overall.maxOrganicSuspended = pick(overall.maxOrganicSuspended, { value: w.fp.suspend, world, count: w.fp.suspend, n: w.fp.n }, 1);
      overall.maxOrganicReviewRate = pick(overall.maxOrganicReviewRate, { value: w.fp.review / w.fp.n, world, count: w.fp.review, n: w.fp.n }, 1);
    }
    overall.maxMixedClusters = pick(overall.maxMixedClusters, { value: w.mixedClusters, world, count: w.mixedClusters, n: w.clusters }, 1);
    if (w.latencyMedianMs !== null) overall.maxLatencyMedian = pick(overall.maxLatencyMedian, { value: w.latencyMedianMs, world }, 1);
    if (w.pivotLatencyMedianMs !== null) overall.maxPivotLatency = pick(overall.maxPivotLatency, { value: w.pivotLatencyMedianMs, world }, 1);
  }
  const byName = <T>(m: Map<string, T>): T[] => [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
  return { organic: byName(org), campaigns: byName(camp), overall };
}

// ----------------------------------------------------------------------------------------------------------
// Targets
// ----------------------------------------------------------------------------------------------------------

export interface TargetCheck {
  target: string;
  value: string;
  /** null: not measurable in this run (no world of that kind, or files too small to time). */
  pass: boolean | null;
}

export const TARGETS = {
  recallReview: 0.99,
  recallSuspend: 0.9,
  organicSuspended: 0,
  organicReviewRate: 0.01,
  kindMinAccounts: 20,
  kindReviewRate: 0.05,
  latencyBaseMs: 1 * HOUR,
  latencyEvasiveMs: 2 * HOUR,
  pivotMs: 6 * HOUR,
  logsOnlyRecallReview: 0.95,
  adaptiveRecallReview: 0.9,
  replaySecondsPer1M: 120,
  /** Replay timings of smaller files are dominated by start-up and not judged. */
  replayMinLines: 500_000,
} as const;

export const pct = (a: number, n: number): string => (n === 0 ? 'n/a' : `${((100 * a) / n).toFixed(n >= 1000 ? 2 : 1)}%`);

export const fmtDuration = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined) return 'n/a';
  if (ms < 0) return `-${fmtDuration(-ms)}`;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < HOUR) return `${(ms / 60_000).toFixed(0)}m`;
  return `${(ms / HOUR).toFixed(1)}h`;
};

/** A rate and, unless it is the ideal value (then every world ties), the world where it occurred. */
const rateAt = (a: At | null, ideal: number): string =>
  a ? `${pct(a.count ?? 0, a.n ?? 0)} (${a.count}/${a.n}${a.value === ideal ? '' : `, ${a.world}`})` : 'n/a';

/**
 * Check every target on the worst world. Recall targets apply to base and evasive worlds (adaptive worlds have
 * their own); false-positive bounds to every world.
 */
export function checkTargets(worlds: readonly WorldScore[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const ok = worlds.filter((w) => !w.error);
  const full = ok.filter((w) => w.mode === 'logs+usage');
  const logs = ok.filter((w) => w.mode === 'logs only');
  const notAdaptive = (w: WorldScore): boolean => w.variant !== 'adaptive';

  const minRate = (ws: WorldScore[], key: 'review' | 'suspend'): At | null =>
    worstCase(ws).overall[key === 'review' ? 'minRecallReview' : 'minRecallSuspend'];
  const recallCheck = (label: string, ws: WorldScore[], key: 'review' | 'suspend', min: number, none = 'no such world in this run'): void => {
    const a = minRate(ws, key);
    out.push({ target: `${label} >= ${min * 100}%`, value: a ? rateAt(a, 1) : none, pass: a ? a.value >= min : null });
  };
  const fpChecks = (prefix: string, ws: WorldScore[]): void => {
    const w = worstCase(ws).overall;
    const s = w.maxOrganicSuspended;
    out.push({
      target: `${prefix}organic accounts auto-suspended: ${TARGETS.organicSuspended}`,
      value: s ? `${s.value}${s.value > 0 ? ` (${s.world})` : ''}` : 'n/a',
      pass: s ? s.value <= TARGETS.organicSuspended : null,
    });
    const r = w.maxOrganicReviewRate;
    out.push({
      target: `${prefix}organic accounts at review+ <= ${TARGETS.organicReviewRate * 100}%`,
      value: rateAt(r, 0),
      pass: r ? r.value <= TARGETS.organicReviewRate : null,
    });
    const bad = kindsOverRate(ws);
    out.push({
      target: `${prefix}no organic kind with >= ${TARGETS.kindMinAccounts} accounts above ${TARGETS.kindReviewRate * 100}% review+`,
      value:
        ws.length === 0
          ? 'n/a'
          : bad.length === 0
            ? 'none'
            : bad
                .map((b) => `${b.kind} ${b.review}/${b.n} (${pct(b.review, b.n)}, ${b.world}${b.worlds > 1 ? `; over in ${b.worlds} worlds` : ''})`)
                .join('; '),
      pass: ws.length === 0 ? null : bad.length === 0,
    });
    const m = w.maxMixedClusters;
    out.push({
      target: `${prefix}no cluster mixes organic and campaign accounts`,
      value: m ? `${m.value}${m.value > 0 ? ` of ${m.n} (${m.world})` : ''}` : 'n/a',
      pass: m ? m.value === 0 : null,
    });
  };

  recallCheck('campaign accounts at review+ (logs + usage, base/evasive)', full.filter(notAdaptive), 'review', TARGETS.recallReview);
  recallCheck('campaign accounts at suspend (logs + usage, base/evasive)', full.filter(notAdaptive), 'suspend', TARGETS.recallSuspend);
  fpChecks('', full);
  for (const [variant, limit] of [
    ['base', TARGETS.latencyBaseMs],
    ['evasive', TARGETS.latencyEvasiveMs],
  ] as const) {
    const a = worstCase(full.filter((w) => w.variant === variant)).overall.maxLatencyMedian;
    out.push({
      target: `median latency first campaign request -> flag <= ${fmtDuration(limit)} (${variant})`,
      value: a ? `${fmtDuration(a.value)} (${a.world})` : 'n/a',
      pass: a ? a.value <= limit : null,
    });
  }
  const piv = worstCase(full).overall.maxPivotLatency;
  out.push({
    target: `model pivot flagged <= ${fmtDuration(TARGETS.pivotMs)} after the release (median)`,
    value: piv ? `${fmtDuration(piv.value)} (${piv.world})` : 'n/a',
    pass: piv ? piv.value <= TARGETS.pivotMs : null,
  });
  recallCheck('logs only: campaign accounts at review+ (base/evasive)', logs.filter(notAdaptive), 'review', TARGETS.logsOnlyRecallReview);
  fpChecks('logs only: ', logs);
  recallCheck(
    'adaptive campaigns at review+ (logs + usage)',
    full.filter((w) => !notAdaptive(w)),
    'review',
    TARGETS.adaptiveRecallReview,
    'no adaptive world in this run',
  );

  let worstPer1M: At | null = null;
  let timed = 0;
  for (const w of ok) {
    if (w.replaySeconds === null || !w.lines) continue;
    timed++;
    if (w.lines < TARGETS.replayMinLines) continue;
    worstPer1M = pick(
      worstPer1M,
      { value: (w.replaySeconds * 1_000_000) / w.lines, world: `${worldName(w)} ${w.mode}`, count: w.lines, n: Math.round(w.replaySeconds) },
      1,
    );
  }
  out.push({
    target: `replay of 1M lines <= ${TARGETS.replaySecondsPer1M / 60} min`,
    value: worstPer1M
      ? `${worstPer1M.value.toFixed(0)}s per 1M (${worstPer1M.n}s for ${worstPer1M.count!.toLocaleString('en-US')} lines, ${worstPer1M.world})`
      : timed
        ? `not judged: every file < ${TARGETS.replayMinLines.toLocaleString('en-US')} lines`
        : 'n/a',
    pass: worstPer1M ? worstPer1M.value <= TARGETS.replaySecondsPer1M : null,
  });
  const failed = worlds.filter((w) => w.error && w.mode !== 'volume baseline');
  out.push({
    target: 'every replay produced a report',
    value: failed.length
      ? failed.map((w) => `${worldName(w)} ${w.mode}: ${w.error}`).join('; ')
      : `${worlds.filter((w) => w.mode !== 'volume baseline').length} of ${worlds.filter((w) => w.mode !== 'volume baseline').length}`,
    pass: failed.length === 0,
  });
  return out;
}

/**
 * Organic kinds with at least kindMinAccounts accounts and a review+ rate above kindReviewRate in some world: one
 * entry per kind, its worst world, and in how many worlds it was over.
 */
export function kindsOverRate(worlds: readonly WorldScore[]): Array<{ kind: string; world: string; n: number; review: number; worlds: number }> {
  const byKind = new Map<string, { kind: string; world: string; n: number; review: number; worlds: number }>();
  for (const w of worlds) {
    if (w.error) continue;
    for (const [kind, c] of Object.entries(w.organic)) {
      if (!(c.n >= TARGETS.kindMinAccounts && c.review / c.n > TARGETS.kindReviewRate)) continue;
      const cur = byKind.get(kind);
      if (!cur) byKind.set(kind, { kind, world: worldName(w), n: c.n, review: c.review, worlds: 1 });
      else {
        cur.worlds++;
        if (c.review / c.n > cur.review / cur.n) Object.assign(cur, { world: worldName(w), n: c.n, review: c.review });
      }
    }
  }
  return [...byKind.values()].sort((a, b) => b.review / b.n - a.review / a.n || a.kind.localeCompare(b.kind));
}

// ----------------------------------------------------------------------------------------------------------
// Rendering
// ----------------------------------------------------------------------------------------------------------

const table = (head: string[], rows: string[][]): string =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const range = (a: number, b: number): string => (a === b ? String(a) : `${a}-${b}`);
/** The world is named only when the value is not the ideal one (else every world ties). */
const where = (a: At | null, ideal: boolean): string => (!a || ideal ? '' : a.world);

export function renderWorstOrganic(w: Worst): string {
  if (w.organic.length === 0) return '_no organic accounts_';
  return table(
    ['organic kind', 'accounts (min-max)', 'worst review+', 'world', 'worst suspended', 'world'],
    w.organic.map((o) => {
      const r = o.maxReviewRate;
      const s = o.maxSuspend;
      const rv = `${pct(r.count ?? 0, r.n ?? 0)} (${r.count}/${r.n})`;
      return [
        o.kind,
        range(o.accountsMin, o.accountsMax),
        r.value > 0 ? `**${rv}**` : rv,
        where(r, r.value === 0),
        s.value > 0 ? `**${s.value}/${s.n}**` : `0`,
        where(s, s.value === 0),
      ];
    }),
  );
}

export function renderWorstCampaigns(w: Worst): string {
  if (w.campaigns.length === 0) return '_no campaign accounts_';
  return table(
    ['campaign', 'accounts (min-max)', 'min recall review+', 'world', 'min recall suspend', 'world', 'worst median latency', 'world'],
    w.campaigns.map((c) => [
      c.name,
      range(c.accountsMin, c.accountsMax),
      `${pct(c.minReview.count ?? 0, c.minReview.n ?? 0)} (${c.minReview.count}/${c.minReview.n})`,
      where(c.minReview, c.minReview.value === 1),
      `${pct(c.minSuspend.count ?? 0, c.minSuspend.n ?? 0)} (${c.minSuspend.count}/${c.minSuspend.n})`,
      where(c.minSuspend, c.minSuspend.value === 1),
      c.maxLatencyMedian ? fmtDuration(c.maxLatencyMedian.value) : 'n/a',
      c.maxLatencyMedian?.world ?? '',
    ]),
  );
}

export function renderWorstOverall(w: Worst): string {
  const o = w.overall;
  const r = (a: At | null): string => (a ? `${pct(a.count ?? 0, a.n ?? 0)} (${a.count}/${a.n})` : 'n/a');
  return table(
    ['figure (worst world)', 'value', 'world'],
    [
      ['campaign recall review+ (min)', r(o.minRecallReview), where(o.minRecallReview, o.minRecallReview?.value === 1)],
      ['campaign recall suspend (min)', r(o.minRecallSuspend), where(o.minRecallSuspend, o.minRecallSuspend?.value === 1)],
      [
        'organic suspended (max)',
        o.maxOrganicSuspended ? `${o.maxOrganicSuspended.value} of ${o.maxOrganicSuspended.n}` : 'n/a',
        where(o.maxOrganicSuspended, o.maxOrganicSuspended?.value === 0),
      ],
      ['organic review+ rate (max)', r(o.maxOrganicReviewRate), where(o.maxOrganicReviewRate, o.maxOrganicReviewRate?.value === 0)],
      [
        'mixed clusters (max)',
        o.maxMixedClusters ? `${o.maxMixedClusters.value} of ${o.maxMixedClusters.n}` : 'n/a',
        where(o.maxMixedClusters, o.maxMixedClusters?.value === 0),
      ],
      ['median latency, all campaigns (max)', fmtDuration(o.maxLatencyMedian?.value), o.maxLatencyMedian?.world ?? ''],
      [
        'model pivot: release -> flag, median (max; negative: flagged before the release)',
        fmtDuration(o.maxPivotLatency?.value),
        o.maxPivotLatency?.world ?? '',
      ],
      ['worlds (failed)', `${o.worlds}${o.failed ? ` (**${o.failed} failed**)` : ''}`, ''],
    ],
  );
}

/** The three worst-world tables of one mode. */
export function renderWorst(worlds: readonly WorldScore[]): string {
  const w = worstCase(worlds);
  return [renderWorstOverall(w), '', renderWorstOrganic(w), '', renderWorstCampaigns(w)].join('\n');
}

export function renderTargets(checks: readonly TargetCheck[]): string {
  return table(
    ['target', 'worst world', 'result'],
    checks.map((c) => [c.target, c.value, c.pass === null ? 'n/a' : c.pass ? 'PASS' : '**FAIL**']),
  );
}

/** One compact row per world and mode. */
export function renderWorlds(worlds: readonly WorldScore[]): string {
  const rows = worlds.map((w) => {
    if (w.error) return [worldName(w), w.mode, w.lines?.toLocaleString('en-US') ?? '', `**failed**: ${w.error}`, '', '', '', '', ''];
    return [
      worldName(w),
      w.mode,
      w.lines?.toLocaleString('en-US') ?? '',
      `${pct(w.recall.review, w.recall.n)} / ${pct(w.recall.suspend, w.recall.n)} (n=${w.recall.n})`,
      `${w.fp.review} / ${w.fp.suspend} of ${w.fp.n} (${pct(w.fp.review, w.fp.n)})`,
      `${fmtDuration(w.latencyMedianMs)} / ${fmtDuration(w.latencyP90Ms)}`,
      fmtDuration(w.pivotLatencyMedianMs),
      `${w.mixedClusters} / ${w.clusters}`,
      w.replaySeconds === null ? '' : `${w.replaySeconds.toFixed(1)}s`,
    ];
  });
  return table(
    [
      'world',
      'mode',
      'log lines',
      'campaign review+ / suspend',
      'organic review+ / suspended',
      'latency median / p90',
      'pivot after release',
      'mixed / clusters',
      'replay',
    ],
    rows,
  );
}

/** Per organic kind that had flagged accounts: the most common reason combinations, summed over worlds. */
export function renderReasons(rc: ReasonCounts, top = 5): string {
  const kinds = Object.entries(rc)
    .map(([kind, combos]) => {
      const list = Object.entries(combos).map(([combo, v]) => ({ combo, ...v, total: v.review + v.suspend }));
      list.sort((a, b) => b.total - a.total || b.suspend - a.suspend || a.combo.localeCompare(b.combo));
      return { kind, list, total: list.reduce((s, x) => s + x.total, 0) };
    })
    .filter((k) => k.total > 0)
    .sort((a, b) => b.total - a.total || a.kind.localeCompare(b.kind));
  if (kinds.length === 0) return '_no organic account was flagged_';
  const rows: string[][] = [];
  for (const k of kinds) {
    k.list.slice(0, top).forEach((c, i) => {
      const worlds = c.worlds.length > 3 ? `${c.worlds.slice(0, 3).join(', ')} +${c.worlds.length - 3}` : c.worlds.join(', ');
      rows.push([i === 0 ? `${k.kind} (${k.total})` : '', c.combo, String(c.review), String(c.suspend), worlds]);
    });
    if (k.list.length > top) {
      const rest = k.list.slice(top);
      rows.push([
        '',
        `(${rest.length} other combinations)`,
        String(rest.reduce((s, x) => s + x.review, 0)),
        String(rest.reduce((s, x) => s + x.suspend, 0)),
        '',
      ]);
    }
  }
  return table(['organic kind (flagged, summed over worlds)', 'reasons', 'review', 'suspend', 'worlds'], rows);
}

// ----------------------------------------------------------------------------------------------------------
// Per-signal false positives
// ----------------------------------------------------------------------------------------------------------

/** A rate of one named group (organic kind or campaign). */
export type NamedAt = At & { name: string };

export interface SignalWorst {
  signal: string;
  /** All organic accounts: the world with the highest share with the signal strong. */
  organic: At | null;
  /** The organic kind and world with the highest share (see `worseKind`). */
  kind: NamedAt | null;
  /** All campaign accounts: the world with the lowest share with the signal strong. */
  campaigns: At | null;
  /** The campaign whose lowest share over worlds is the highest. */
  bestCampaign: NamedAt | null;
}

/** Accounts of the groups, and those with `signal` strong. */
function groupTotal(groups: Record<string, GroupSignals>, signal: string): { count: number; n: number } {
  let count = 0;
  let n = 0;
  for (const g of Object.values(groups)) {
    count += g.strong[signal] ?? 0;
    n += g.n;
  }
  return { count, n };
}

const rate = (count: number, n: number, world: string): At => ({ value: count / n, world, count, n });

/**
 * Is `a` a worse organic kind than `b`? Any account with the signal beats none; then kinds of at least
 * kindMinAccounts accounts beat smaller ones (a share of 1/2 says little); then the higher share.
 */
export function worseKind(a: NamedAt, b: NamedAt | null): boolean {
  if (b === null) return true;
  const key = (x: NamedAt): number[] => [(x.count ?? 0) > 0 ? 1 : 0, (x.n ?? 0) >= TARGETS.kindMinAccounts ? 1 : 0, x.value];
  const [ka, kb] = [key(a), key(b)];
  const i = ka.findIndex((v, j) => v !== kb[j]);
  return i !== -1 && ka[i] > kb[i];
}

/** Every signal the detector knows, then any other signal the worlds saw. */
export function signalsSeen(worlds: readonly WorldScore[]): string[] {
  const extra = new Set<string>();
  for (const w of worlds) {
    for (const g of [...Object.values(w.signals.organic), ...Object.values(w.signals.campaigns)]) {
      for (const sig of Object.keys(g.strong)) if (!(SIGNALS as readonly string[]).includes(sig)) extra.add(sig);
    }
  }
  return [...SIGNALS, ...[...extra].sort()];
}

/** Worst case of one signal over the worlds (failed worlds and worlds without accounts of a side are skipped). */
export function signalWorst(worlds: readonly WorldScore[], signal: string): SignalWorst {
  const out: SignalWorst = { signal, organic: null, kind: null, campaigns: null, bestCampaign: null };
  const campaignMin = new Map<string, NamedAt>();
  for (const w of worlds) {
    if (w.error) continue;
    const world = worldName(w);
    const org = groupTotal(w.signals.organic, signal);
    if (org.n > 0) out.organic = pick(out.organic, rate(org.count, org.n, world), 1);
    const camp = groupTotal(w.signals.campaigns, signal);
    if (camp.n > 0) out.campaigns = pick(out.campaigns, rate(camp.count, camp.n, world), -1);
    for (const [name, g] of Object.entries(w.signals.organic).sort(([a], [b]) => a.localeCompare(b))) {
      const k: NamedAt = { ...rate(g.strong[signal] ?? 0, g.n, world), name };
      if (g.n > 0 && worseKind(k, out.kind)) out.kind = k;
    }
    for (const [name, g] of Object.entries(w.signals.campaigns)) {
      if (g.n > 0) campaignMin.set(name, { ...pick(campaignMin.get(name) ?? null, rate(g.strong[signal] ?? 0, g.n, world), -1), name });
    }
  }
  for (const c of [...campaignMin.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (out.bestCampaign === null || c.value > out.bestCampaign.value) out.bestCampaign = c;
  }
  return out;
}

/** A share, its counts and (unless it is the ideal value, where every world ties) its world. */
const shareAt = (a: At, ideal: number): string => `${pct(a.count ?? 0, a.n ?? 0)} (${a.count}/${a.n}${a.value === ideal ? '' : `, ${a.world}`})`;
const bold = (s: string, on: boolean): string => (on ? `**${s}**` : s);

/** One row per signal, the worst organic share first; shares over the review budgets in bold. */
export function renderSignals(worlds: readonly WorldScore[]): string {
  const rows = signalsSeen(worlds).map((sig) => signalWorst(worlds, sig));
  if (rows.every((r) => r.organic === null && r.campaigns === null)) return '_no replayed world_';
  rows.sort((a, b) => (b.organic?.value ?? 0) - (a.organic?.value ?? 0));
  return table(
    [
      'signal',
      'organic accounts with it strong (worst world)',
      'worst organic kind',
      'campaign accounts with it strong (min over worlds)',
      'best-covered campaign (min over worlds)',
    ],
    rows.map((r) => [
      r.signal,
      r.organic ? bold(shareAt(r.organic, 0), r.organic.value > TARGETS.organicReviewRate) : 'n/a',
      r.kind && r.kind.value > 0
        ? bold(`${r.kind.name} ${shareAt(r.kind, 0)}`, r.kind.value > TARGETS.kindReviewRate && (r.kind.n ?? 0) >= TARGETS.kindMinAccounts)
        : 'none',
      r.campaigns ? shareAt(r.campaigns, 1) : 'n/a',
      r.bestCampaign && r.bestCampaign.value > 0 ? `${r.bestCampaign.name} ${shareAt(r.bestCampaign, 1)}` : 'none',
    ]),
  );
}
