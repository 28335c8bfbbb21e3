/**
 * Detection metrics for `npm run eval`: a replay report (CONTRACT §3) scored against the simulator's ground truth
 * (labels.json). This is the ONLY code that reads labels; nothing under src/ may import it.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import * as zlib from 'node:zlib';
import type { ReplayReport } from '../src/shared/contract';
import type { Labels } from './types';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** What eval needs from the access logs themselves (also makes it work on traffic it did not generate). */
export interface LogScan {
  lines: number;
  /** First request time per account, ms. */
  firstSeen: Map<string, number>;
  /** First time each model appeared anywhere, ms. */
  modelFirstSeen: Map<string, number>;
  /** Per account, time stamps (for the volume baseline). */
  times: Map<string, number[]>;
}

export async function scanLogs(file: string): Promise<LogScan> {
  const input = fs.createReadStream(file);
  const stream = file.endsWith('.gz') ? input.pipe(zlib.createGunzip()) : input;
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  const scan: LogScan = { lines: 0, firstSeen: new Map(), modelFirstSeen: new Map(), times: new Map() };
  for await (const line of rl) {
    if (!line) continue;
    let rec: Record<string, string>;
    try {
      rec = JSON.parse(line) as Record<string, string>;
    } catch {
      continue;
    }
    scan.lines++;
    addRecord(scan, rec.accountId, Number(rec.requestTimeEpoch), rec.path);
  }
  return scan;
}

export function addRecord(scan: LogScan, accountId: string, t: number, path: string | undefined): void {
  if (!accountId || !Number.isFinite(t)) return;
  const f = scan.firstSeen.get(accountId);
  if (f === undefined || t < f) scan.firstSeen.set(accountId, t);
  let arr = scan.times.get(accountId);
  if (!arr) scan.times.set(accountId, (arr = []));
  arr.push(t);
  const i = path ? path.indexOf('/models/') : -1;
  if (i >= 0) {
    const model = path!.slice(i + 8).split('/')[0];
    const m = scan.modelFirstSeen.get(model);
    if (m === undefined || t < m) scan.modelFirstSeen.set(model, t);
  }
}

/**
 * Without meta.json: the model that appeared last, if it appeared well after the traffic began (a release
 * mid-run), else null.
 */
export function inferNewModel(scan: LogScan): string | null {
  let start = Infinity;
  for (const t of scan.modelFirstSeen.values()) start = Math.min(start, t);
  let best: string | null = null;
  let bestT = -Infinity;
  for (const [m, t] of scan.modelFirstSeen) if (t > bestT) [best, bestT] = [m, t];
  return best !== null && bestT - start > 6 * HOUR ? best : null;
}

export function emptyScan(): LogScan {
  return { lines: 0, firstSeen: new Map(), modelFirstSeen: new Map(), times: new Map() };
}

/**
 * The baseline the issue argues against: suspend an account when its volume in any rolling 24 h exceeds `limit`.
 * Returns a report in the replay shape so that it is scored exactly like detection.
 */
export function volumeBaseline(scan: LogScan, limit: number): ReplayReport {
  const accounts: ReplayReport['accounts'] = [];
  for (const [accountId, ts] of scan.times) {
    if (ts.length <= limit) continue;
    const sorted = ts.slice().sort((a, b) => a - b);
    let lo = 0;
    for (let hi = 0; hi < sorted.length; hi++) {
      while (sorted[hi] - sorted[lo] >= DAY) lo++;
      if (hi - lo + 1 > limit) {
        accounts.push({ accountId, decision: 'suspend', score: 1, reasons: ['daily-volume'], clusterId: null, firstFlaggedAt: sorted[hi] });
        break;
      }
    }
  }
  return { accounts, clusters: [] };
}

export interface Rate {
  n: number;
  review: number;
  suspend: number;
}

export interface RunMetrics {
  /** Per campaign and `all`: accounts (that sent traffic), reaching review-or-suspend, reaching suspend. */
  recall: Record<string, Rate>;
  /** Per organic type and `all`. */
  fp: Record<string, Rate>;
  /** Campaign accounts: median / p90 ms from the account's first request to firstFlaggedAt (flagged ones only). */
  latency: Record<string, { n: number; median: number | null; p90: number | null }>;
  /** Model-pivot accounts: ms from the new model's first appearance to firstFlaggedAt (0 when flagged before). */
  pivot: { newModel: string | null; firstSeen: number | null; n: number; flaggedBefore: number; median: number | null; p90: number | null };
  clusters: { count: number; members: number; purity: number | null; mixed: number; crossCampaign: number; organicInClusters: number };
  /** Report accounts not in the labels (not in the traffic). */
  unknownAccounts: number;
}

const FLAGGED = new Set(['review', 'suspend']);

function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Score a report. Only accounts that sent at least one request (present in `scan.firstSeen`) count; labels of
 * accounts that never showed up cannot be detected and are left out of every denominator.
 */
export function computeMetrics(labels: Labels, report: ReplayReport, scan: LogScan, newModel: string | null): RunMetrics {
  const byId = new Map(report.accounts.map((a) => [a.accountId, a]));
  const recall: Record<string, Rate> = { all: { n: 0, review: 0, suspend: 0 } };
  const fp: Record<string, Rate> = { all: { n: 0, review: 0, suspend: 0 } };
  const lat: Record<string, number[]> = { all: [] };
  const pivotLat: number[] = [];
  let flaggedBefore = 0;
  const newFirst = newModel ? (scan.modelFirstSeen.get(newModel) ?? null) : null;
  for (const [id, label] of Object.entries(labels)) {
    const first = scan.firstSeen.get(id);
    if (first === undefined) continue;
    const acc = byId.get(id);
    const decision = acc?.decision ?? 'allow';
    const flagged = FLAGGED.has(decision);
    const group = label.kind === 'campaign' ? (label.campaign ?? label.type) : label.type;
    const table = label.kind === 'campaign' ? recall : fp;
    for (const key of [group, 'all']) {
      const r = (table[key] ??= { n: 0, review: 0, suspend: 0 });
      r.n++;
      if (flagged) r.review++;
      if (decision === 'suspend') r.suspend++;
    }
    if (label.kind === 'campaign' && flagged && typeof acc?.firstFlaggedAt === 'number') {
      const d = Math.max(0, acc.firstFlaggedAt - first);
      (lat[group] ??= []).push(d);
      lat.all.push(d);
      if (group === 'model_pivot' && newFirst !== null) {
        if (acc.firstFlaggedAt < newFirst) flaggedBefore++;
        pivotLat.push(Math.max(0, acc.firstFlaggedAt - newFirst));
      }
    }
  }
  const latency: RunMetrics['latency'] = {};
  for (const [k, xs] of Object.entries(lat)) latency[k] = { n: xs.length, median: quantile(xs, 0.5), p90: quantile(xs, 0.9) };

  let members = 0;
  let pureWeighted = 0;
  let mixed = 0;
  let crossCampaign = 0;
  let organicInClusters = 0;
  for (const c of report.clusters) {
    const groups = new Map<string, number>();
    for (const id of c.accountIds) {
      const l = labels[id];
      const g = !l ? 'unknown' : l.kind === 'organic' ? 'organic' : (l.campaign ?? l.type);
      groups.set(g, (groups.get(g) ?? 0) + 1);
    }
    const size = c.accountIds.length;
    if (size === 0) continue;
    members += size;
    pureWeighted += Math.max(...groups.values());
    const org = (groups.get('organic') ?? 0) + (groups.get('unknown') ?? 0);
    const camps = [...groups.keys()].filter((g) => g !== 'organic' && g !== 'unknown');
    if (org > 0 && camps.length > 0) mixed++;
    if (camps.length > 1) crossCampaign++;
    organicInClusters += org;
  }
  return {
    recall,
    fp,
    latency,
    pivot: {
      newModel,
      firstSeen: newFirst,
      n: pivotLat.length,
      flaggedBefore,
      median: quantile(pivotLat, 0.5),
      p90: quantile(pivotLat, 0.9),
    },
    clusters: { count: report.clusters.length, members, purity: members ? pureWeighted / members : null, mixed, crossCampaign, organicInClusters },
    unknownAccounts: report.accounts.filter((a) => !labels[a.accountId]).length,
  };
}

// ----------------------------------------------------------------------------------------------------------
// Targets (issue 3) and rendering
// ----------------------------------------------------------------------------------------------------------

export interface TargetCheck {
  target: string;
  value: string;
  /** null: not measurable on this run (e.g. replay speed on a small file). */
  pass: boolean | null;
}

const pct = (a: number, n: number): string => (n === 0 ? 'n/a' : `${((100 * a) / n).toFixed(n >= 1000 ? 2 : 1)}%`);
export const fmtDuration = (ms: number | null): string => {
  if (ms === null) return 'n/a';
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < HOUR) return `${(ms / 60_000).toFixed(0)}m`;
  return `${(ms / HOUR).toFixed(1)}h`;
};

/** Check one variant's figures (with usage, logs only, and the replay time) against the issue's targets. */
export function checkTargets(full: RunMetrics, logsOnly: RunMetrics | null, replay: { lines: number; seconds: number } | null): TargetCheck[] {
  const out: TargetCheck[] = [];
  const r = full.recall.all;
  const f = full.fp.all;
  out.push({ target: 'campaign accounts reaching review or suspend >= 99%', value: pct(r.review, r.n), pass: r.n > 0 && r.review / r.n >= 0.99 });
  out.push({ target: 'campaign accounts reaching suspend >= 90%', value: pct(r.suspend, r.n), pass: r.n > 0 && r.suspend / r.n >= 0.9 });
  out.push({ target: 'organic accounts auto-suspended <= 0.1%', value: `${f.suspend} (${pct(f.suspend, f.n)})`, pass: f.suspend / Math.max(1, f.n) <= 0.001 });
  out.push({ target: 'organic accounts sent to review (or suspend) <= 1%', value: `${f.review} (${pct(f.review, f.n)})`, pass: f.review / Math.max(1, f.n) <= 0.01 });
  const allLat = full.latency.all;
  out.push({ target: 'median latency first campaign request -> flag <= 2h (all campaigns)', value: fmtDuration(allLat?.median ?? null), pass: allLat?.median != null && allLat.median <= 2 * HOUR });
  for (const c of ['cot_harvest', 'agentic_sweep']) {
    const l = full.latency[c];
    if (!full.recall[c]) continue;
    out.push({ target: `median latency <= 2h (${c})`, value: fmtDuration(l?.median ?? null), pass: l?.median != null && l.median <= 2 * HOUR });
  }
  if (full.recall.model_pivot) {
    const p = full.pivot;
    out.push({
      target: 'model pivot flagged <= 6h after the new model first appears (median)',
      value: p.median === null ? 'n/a' : `${fmtDuration(p.median)}${p.flaggedBefore ? ` (${p.flaggedBefore}/${p.n} flagged before release)` : ''}`,
      pass: p.median !== null && p.median <= 6 * HOUR,
    });
  }
  out.push({ target: 'no cluster mixes organic and campaign accounts', value: `${full.clusters.mixed} mixed of ${full.clusters.count}`, pass: full.clusters.mixed === 0 });
  if (logsOnly) {
    const lr = logsOnly.recall.all;
    const lf = logsOnly.fp.all;
    out.push({ target: 'logs only: campaign recall (review or suspend) >= 95%', value: pct(lr.review, lr.n), pass: lr.n > 0 && lr.review / lr.n >= 0.95 });
    out.push({
      target: 'logs only: organic suspended <= 0.1% and reviewed <= 1%',
      value: `${lf.suspend} / ${lf.review} (${pct(lf.suspend, lf.n)} / ${pct(lf.review, lf.n)})`,
      pass: lf.suspend / Math.max(1, lf.n) <= 0.001 && lf.review / Math.max(1, lf.n) <= 0.01,
    });
    out.push({ target: 'logs only: no mixed cluster', value: `${logsOnly.clusters.mixed} mixed of ${logsOnly.clusters.count}`, pass: logsOnly.clusters.mixed === 0 });
  }
  if (replay && replay.lines > 0) {
    const per1M = (replay.seconds * 1_000_000) / replay.lines;
    out.push({
      target: 'replay of 1M lines <= 2 min on this machine',
      value: `${replay.seconds.toFixed(1)}s for ${replay.lines.toLocaleString('en-US')} lines (${per1M.toFixed(0)}s per 1M${replay.lines < 1_000_000 ? ', extrapolated' : ''})`,
      // process start-up dominates small files: only judge runs of at least half a million lines
      pass: replay.lines >= 500_000 ? per1M <= 120 : null,
    });
  }
  return out;
}

export interface Column {
  title: string;
  metrics: RunMetrics | null;
  note?: string;
}

/** One markdown table: rows are figures, columns are runs (with usage, logs only, volume baseline). */
export function renderTable(columns: Column[]): string {
  const rows: string[][] = [];
  const campaigns = new Set<string>();
  const organics = new Set<string>();
  for (const c of columns) {
    if (!c.metrics) continue;
    Object.keys(c.metrics.recall).forEach((k) => k !== 'all' && campaigns.add(k));
    Object.keys(c.metrics.fp).forEach((k) => k !== 'all' && organics.add(k));
  }
  const cell = (m: RunMetrics | null, f: (m: RunMetrics) => string): string => (m ? f(m) : 'n/a');
  const rate = (r: Rate | undefined, k: 'review' | 'suspend'): string => (r ? `${pct(r[k], r.n)} (${r[k]}/${r.n})` : 'n/a');
  const fpRate = (r: Rate | undefined, k: 'review' | 'suspend'): string => (r ? (r[k] === 0 ? `0/${r.n}` : `**${r[k]}/${r.n}** (${pct(r[k], r.n)})`) : 'n/a');
  for (const c of [...campaigns].sort()) {
    rows.push([`recall ${c}: review+ / suspend`, ...columns.map((col) => cell(col.metrics, (m) => `${rate(m.recall[c], 'review')} / ${pct(m.recall[c]?.suspend ?? 0, m.recall[c]?.n ?? 0)}`))]);
  }
  rows.push([`**recall all campaigns**: review+ / suspend`, ...columns.map((col) => cell(col.metrics, (m) => `**${pct(m.recall.all.review, m.recall.all.n)}** / **${pct(m.recall.all.suspend, m.recall.all.n)}** (n=${m.recall.all.n})`))]);
  for (const o of [...organics].sort()) {
    rows.push([`false positives ${o}: review+ / suspend`, ...columns.map((col) => cell(col.metrics, (m) => `${fpRate(m.fp[o], 'review')} / ${fpRate(m.fp[o], 'suspend')}`))]);
  }
  rows.push([`**false positives all organic**: review+ / suspend`, ...columns.map((col) => cell(col.metrics, (m) => `**${pct(m.fp.all.review, m.fp.all.n)}** / **${pct(m.fp.all.suspend, m.fp.all.n)}** (${m.fp.all.review} / ${m.fp.all.suspend} of ${m.fp.all.n})`))]);
  for (const c of ['all', ...[...campaigns].sort()]) {
    rows.push([`latency ${c}: median / p90`, ...columns.map((col) => cell(col.metrics, (m) => (m.latency[c] ? `${fmtDuration(m.latency[c].median)} / ${fmtDuration(m.latency[c].p90)}` : 'n/a')))]);
  }
  rows.push([
    'model pivot: new model first seen -> flag, median / p90',
    ...columns.map((col) =>
      cell(col.metrics, (m) => (m.pivot.n ? `${fmtDuration(m.pivot.median)} / ${fmtDuration(m.pivot.p90)}${m.pivot.flaggedBefore ? ` (${m.pivot.flaggedBefore} of ${m.pivot.n} before)` : ''}` : 'n/a')),
    ),
  ]);
  rows.push([
    'clusters: count / purity / mixed organic+campaign',
    ...columns.map((col) =>
      cell(col.metrics, (m) => `${m.clusters.count} / ${m.clusters.purity === null ? 'n/a' : `${(100 * m.clusters.purity).toFixed(1)}%`} / ${m.clusters.mixed}${m.clusters.crossCampaign ? ` (+${m.clusters.crossCampaign} cross-campaign)` : ''}`),
    ),
  ]);
  if (columns.some((c) => c.note)) rows.push(['notes', ...columns.map((c) => c.note ?? '')]);
  const head = `| figure | ${columns.map((c) => c.title).join(' | ')} |`;
  const sep = `|---|${columns.map(() => '---').join('|')}|`;
  return [head, sep, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderTargets(checks: TargetCheck[]): string {
  return ['| target | measured | result |', '|---|---|---|', ...checks.map((c) => `| ${c.target} | ${c.value} | ${c.pass === null ? 'n/a (needs >= 500k lines: --scale medium)' : c.pass ? 'PASS' : '**FAIL**'} |`)].join('\n');
}
