/**
 * The evidence snapshot of a case, built from the account's feature windows (features table items, flattened as
 * in docs/DESIGN.md) and its cluster members' windows. Plain TypeScript: the handler reads, this summarises.
 */
import { dataRecord } from '../shared/data-record';
import { WINDOW_PREFIX } from '../shared/tables';
import type { ClusterMember, Evidence, TimelinePoint } from './model';

/** A features-table window item after unmarshalling (sets may arrive as Set or array). */
export type WindowItem = Record<string, unknown>;

function toList(v: unknown): string[] {
  if (v instanceof Set) return [...v].map(String);
  if (Array.isArray(v)) return v.map(String);
  return [];
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/** Window start (ms) of an item: `sk = W#<13 digits>`. Returns NaN when the item is not a window. */
export function windowStartOf(item: WindowItem): number {
  const sk = item.sk;
  if (typeof sk !== 'string' || !sk.startsWith(WINDOW_PREFIX)) return NaN;
  return Number(sk.slice(WINDOW_PREFIX.length));
}

// Model names and prompt classes are data: every record keyed by them has no prototype (dataRecord), so a model
// named `constructor` or `toString` is counted like any other instead of adding to Object's own properties.
function prefixed(item: WindowItem, prefix: string): Record<string, number> {
  const out = dataRecord();
  for (const [k, v] of Object.entries(item)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = num(v);
  return out;
}

function addInto(target: Record<string, number>, src: Record<string, number>): void {
  for (const [k, v] of Object.entries(src)) target[k] = (target[k] ?? 0) + v;
}

export interface AccountSets {
  ips: Set<string>;
  subnets: Set<string>;
  userAgents: Set<string>;
  templates: Set<string>;
  apiKeys: Set<string>;
  activeMinutes: Set<number>;
}

/** The identifying sets of an account over its windows (for linkage explanations). */
export function accountSets(windows: WindowItem[]): AccountSets {
  const s: AccountSets = {
    ips: new Set(),
    subnets: new Set(),
    userAgents: new Set(),
    templates: new Set(),
    apiKeys: new Set(),
    activeMinutes: new Set(),
  };
  for (const w of windows) {
    toList(w.ip).forEach((x) => s.ips.add(x));
    toList(w.sn).forEach((x) => s.subnets.add(x));
    toList(w.ua).forEach((x) => s.userAgents.add(x));
    toList(w.tpl).forEach((x) => s.templates.add(x));
    toList(w.key).forEach((x) => s.apiKeys.add(x));
    const ws = windowStartOf(w);
    for (const [m, v] of Object.entries(prefixed(w, 'mm:'))) if (v > 0 && Number.isFinite(ws)) s.activeMinutes.add(ws + Number(m) * 60_000);
  }
  return s;
}

const overlap = <T>(a: Set<T>, b: Set<T>) => [...a].filter((x) => b.has(x)).length;

/** Why `other` is linked to `base`, in words ("3 shared source IPs", "2 shared prompt templates", ...). */
export function explainLinks(base: AccountSets, other: AccountSets): string[] {
  const links: string[] = [];
  const ip = overlap(base.ips, other.ips);
  if (ip) links.push(`${ip} shared source IP${ip > 1 ? 's' : ''}`);
  const sn = overlap(base.subnets, other.subnets);
  if (sn) links.push(`${sn} shared subnet${sn > 1 ? 's' : ''}`);
  const ua = overlap(base.userAgents, other.userAgents);
  if (ua) links.push(`${ua} shared user agent${ua > 1 ? 's' : ''}`);
  const tpl = overlap(base.templates, other.templates);
  if (tpl) links.push(`${tpl} shared prompt template${tpl > 1 ? 's' : ''}`);
  const key = overlap(base.apiKeys, other.apiKeys);
  if (key) links.push(`${key} shared API key${key > 1 ? 's' : ''}`);
  if (base.activeMinutes.size && other.activeMinutes.size) {
    const both = overlap(base.activeMinutes, other.activeMinutes);
    const jac = both / (base.activeMinutes.size + other.activeMinutes.size - both);
    if (both >= 5 && jac >= 0.3) links.push(`active in the same minutes (${both}, Jaccard ${jac.toFixed(2)})`);
  }
  return links;
}

export interface BuildEvidenceInput {
  windows: WindowItem[];
  /** Cluster members and their windows (may be empty). */
  members?: { accountId: string; windows: WindowItem[]; status?: string; score?: number }[];
  scorer?: Record<string, unknown>;
  /** Keep at most this many hourly points (most recent). @default 168 (a week) */
  maxPoints?: number;
  /** Models named per timeline point; the rest are summed as `other`. @default 8 */
  maxModels?: number;
  /** Largest scorer evidence (JSON bytes) kept on the case; larger is replaced by a note. @default 50000 */
  maxScorerBytes?: number;
}

/** A DynamoDB item is at most 400 KB: everything in the snapshot is bounded. */
function capModels(models: Record<string, number>, keep: Set<string>): Record<string, number> {
  const out = dataRecord();
  for (const [m, n] of Object.entries(models)) {
    const k = keep.has(m) ? m : 'other';
    out[k] = (out[k] ?? 0) + n;
  }
  return out;
}

export function buildEvidence(input: BuildEvidenceInput): Evidence {
  const windows = input.windows.filter((w) => Number.isFinite(windowStartOf(w))).sort((a, b) => windowStartOf(a) - windowStartOf(b));
  const kept = new Set(windows.slice(-(input.maxPoints ?? 24 * 7)));
  const totals = { requests: 0, errors: 0, models: dataRecord(), promptClasses: dataRecord(), inputTokens: 0, outputTokens: 0 };
  const timeline: TimelinePoint[] = [];
  let createdAt: number | null = null;
  for (const w of windows) {
    const models = prefixed(w, 'm:');
    const pcs = prefixed(w, 'pc:');
    const errors = num(w.s4) + num(w.s5);
    totals.requests += num(w.n);
    totals.errors += errors;
    totals.inputTokens += num(w.inTok);
    totals.outputTokens += num(w.outTok);
    addInto(totals.models, models);
    addInto(totals.promptClasses, pcs);
    const ac = num(w.accountCreatedAt ?? w.createdAt);
    if (ac > 0) createdAt = createdAt === null ? ac : Math.min(createdAt, ac);
    if (kept.has(w)) timeline.push({ t: windowStartOf(w), n: num(w.n), models, promptClasses: pcs, errors });
  }
  const topModels = new Set(
    Object.entries(totals.models)
      .sort((a, b) => b[1] - a[1])
      .slice(0, input.maxModels ?? 8)
      .map(([m]) => m),
  );
  for (const p of timeline) p.models = capModels(p.models, topModels);
  totals.models = capModels(totals.models, topModels);
  let scorer = input.scorer && Object.keys(input.scorer).length ? input.scorer : undefined;
  if (scorer) {
    const size = JSON.stringify(scorer).length;
    if (size > (input.maxScorerBytes ?? 50_000)) scorer = { omitted: `scorer evidence of ${size} bytes exceeds the snapshot limit` };
  }
  const sets = accountSets(windows);
  const cluster: ClusterMember[] = (input.members ?? []).map((m) => ({
    accountId: m.accountId,
    links: explainLinks(sets, accountSets(m.windows)),
    ...(m.status ? { status: m.status } : {}),
    ...(m.score !== undefined ? { score: m.score } : {}),
  }));
  return {
    timeline,
    totals,
    apiKeys: [...sets.apiKeys].sort(),
    ips: sets.ips.size,
    subnets: [...sets.subnets].sort().slice(0, 50),
    userAgents: [...sets.userAgents].sort().slice(0, 20),
    templates: [...sets.templates].sort().slice(0, 50),
    accountCreatedAt: createdAt,
    cluster,
    ...(scorer ? { scorer } : {}),
  };
}
