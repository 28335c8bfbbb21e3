/**
 * Detection metrics for `npm run eval`: a replay report (docs/contract.md, "Replay command and report") scored against the simulator's ground truth
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
 * The naive baseline: suspend an account when its volume in any rolling 24 h exceeds `limit`.
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
