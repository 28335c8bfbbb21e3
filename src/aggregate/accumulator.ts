/**
 * Mutable, allocation-light accumulator for one AccountWindow. The batch aggregator (Lambda), the in-memory
 * FeatureStore (replay) and the merge of stored windows all go through this class so they agree exactly.
 *
 * Merge semantics (commutative; idempotent for sets and min/max): counters add, sets union (bounded by
 * WINDOW_LIMITS), firstTs = min, lastTs = max, accountCreatedAt = min of known values.
 */
import type { RequestEvent, UsageRecord } from '../ingest/parse';
import {
  dataRecord,
  OTHER_MODEL,
  SET_FIELDS,
  WINDOW_LIMITS,
  type AccountWindow,
  type AccountWindowExtras,
  type SetField,
  type WindowOverflow,
} from './window';

export type Window = AccountWindow & AccountWindowExtras;

export class WindowAcc {
  n = 0;
  status4xx = 0;
  status5xx = 0;
  status429 = 0;
  respBytes = 0;
  respBytesN = 0;
  latencyMs = 0;
  latencyN = 0;
  readonly minutes = new Float64Array(60);
  readonly models = new Map<string, number>();
  readonly ips = new Set<string>();
  readonly subnets = new Set<string>();
  readonly userAgents = new Set<string>();
  readonly apiKeys = new Set<string>();
  readonly templates = new Set<string>();
  readonly promptClasses = new Map<string, number>();
  accountCreatedAt: number | null = null;
  firstTs = Infinity;
  lastTs = -Infinity;
  usageN = 0;
  inputTokens = 0;
  outputTokens = 0;
  readonly overflow: Record<SetField, number> = { ips: 0, subnets: 0, userAgents: 0, apiKeys: 0, templates: 0 };

  constructor(
    readonly accountId: string,
    readonly windowStart: number,
  ) {}

  private addToSet(field: SetField, v: string): void {
    const s = this[field];
    if (s.has(v)) return;
    if (s.size >= WINDOW_LIMITS[field]) {
      this.overflow[field]++;
      return;
    }
    s.add(v);
  }

  private addModel(m: string, k: number): void {
    const cur = this.models.get(m);
    if (cur !== undefined) this.models.set(m, cur + k);
    else if (this.models.size < WINDOW_LIMITS.models || m === OTHER_MODEL) this.models.set(m, k);
    else this.models.set(OTHER_MODEL, (this.models.get(OTHER_MODEL) ?? 0) + k);
  }

  private touch(ts: number): void {
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;
  }

  addRequest(e: RequestEvent): void {
    this.n++;
    const st = e.status;
    if (st >= 400) {
      if (st < 500) {
        this.status4xx++;
        if (st === 429) this.status429++;
      } else this.status5xx++;
    }
    if (e.responseBytes !== null) {
      this.respBytes += e.responseBytes;
      this.respBytesN++;
    }
    if (e.latencyMs !== null) {
      this.latencyMs += e.latencyMs;
      this.latencyN++;
    }
    this.minutes[Math.floor((e.ts - this.windowStart) / 60_000)]++;
    if (e.model !== null) this.addModel(e.model, 1);
    if (e.ipHash !== null) this.addToSet('ips', e.ipHash);
    if (e.subnet !== null) this.addToSet('subnets', e.subnet);
    if (e.userAgent !== null) this.addToSet('userAgents', e.userAgent);
    if (e.apiKeyId !== null) this.addToSet('apiKeys', e.apiKeyId);
    if (e.accountCreatedAt !== null && (this.accountCreatedAt === null || e.accountCreatedAt < this.accountCreatedAt)) {
      this.accountCreatedAt = e.accountCreatedAt;
    }
    this.touch(e.ts);
  }

  addUsage(u: UsageRecord): void {
    this.usageN++;
    this.inputTokens += u.inputTokens;
    this.outputTokens += u.outputTokens;
    this.promptClasses.set(u.promptClass, (this.promptClasses.get(u.promptClass) ?? 0) + 1);
    if (u.templateId !== null) this.addToSet('templates', u.templateId);
    this.touch(u.ts);
  }

  /** Merge a (stored or delta) window into this one. */
  addWindow(w: Window): void {
    this.n += w.n;
    this.status4xx += w.status4xx;
    this.status5xx += w.status5xx;
    this.status429 += w.status429;
    this.respBytes += w.respBytes;
    this.respBytesN += w.respBytesN;
    this.latencyMs += w.latencyMs;
    this.latencyN += w.latencyN;
    for (const k in w.minutes) this.minutes[Number(k)] += w.minutes[k];
    for (const k in w.models) this.addModel(k, w.models[k]);
    for (const k in w.promptClasses) this.promptClasses.set(k, (this.promptClasses.get(k) ?? 0) + w.promptClasses[k]);
    for (const f of SET_FIELDS) {
      for (const v of w[f]) this.addToSet(f, v);
      const o = w.overflow?.[f];
      if (o) this.overflow[f] += o;
    }
    if (w.accountCreatedAt !== null && (this.accountCreatedAt === null || w.accountCreatedAt < this.accountCreatedAt)) {
      this.accountCreatedAt = w.accountCreatedAt;
    }
    if (w.n > 0 || w.usageN > 0) {
      this.touch(w.firstTs);
      this.touch(w.lastTs);
    }
    this.usageN += w.usageN;
    this.inputTokens += w.inputTokens;
    this.outputTokens += w.outputTokens;
  }

  isEmpty(): boolean {
    return this.n === 0 && this.usageN === 0;
  }

  /** Snapshot as a plain AccountWindow (sets in insertion order; `overflow` only when something was dropped). */
  toWindow(): Window {
    const minutes: Record<number, number> = dataRecord();
    for (let i = 0; i < 60; i++) if (this.minutes[i] !== 0) minutes[i] = this.minutes[i];
    const w: Window = {
      accountId: this.accountId,
      windowStart: this.windowStart,
      n: this.n,
      status4xx: this.status4xx,
      status5xx: this.status5xx,
      status429: this.status429,
      respBytes: this.respBytes,
      respBytesN: this.respBytesN,
      latencyMs: this.latencyMs,
      latencyN: this.latencyN,
      minutes,
      models: dataRecord(this.models),
      ips: [...this.ips],
      subnets: [...this.subnets],
      userAgents: [...this.userAgents],
      apiKeys: [...this.apiKeys],
      accountCreatedAt: this.accountCreatedAt,
      firstTs: this.isEmpty() ? 0 : this.firstTs,
      lastTs: this.isEmpty() ? 0 : this.lastTs,
      usageN: this.usageN,
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      promptClasses: dataRecord(this.promptClasses),
      templates: [...this.templates],
    };
    let of: WindowOverflow | undefined;
    for (const f of SET_FIELDS) {
      if (this.overflow[f] > 0) (of ??= {})[f] = this.overflow[f];
    }
    if (of) w.overflow = of;
    return w;
  }
}

/** Merge windows of the same (account, windowStart). Commutative; sets and min/max idempotent. */
export function mergeWindows(a: Window, b: Window): Window {
  if (a.accountId !== b.accountId || a.windowStart !== b.windowStart) {
    throw new Error(`cannot merge windows of different keys: ${a.accountId}@${a.windowStart} and ${b.accountId}@${b.windowStart}`);
  }
  const acc = new WindowAcc(a.accountId, a.windowStart);
  acc.addWindow(a);
  acc.addWindow(b);
  return acc.toWindow();
}

/**
 * Canonical form for comparisons (sets sorted, keys ordered): two windows are equal as features iff their
 * canonical JSON is equal.
 */
export function canonicalWindow(w: Window): Window {
  const sortObj = <T>(o: Record<string, T>): Record<string, T> => dataRecord(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  const out: Window = {
    ...w,
    minutes: sortObj(w.minutes as Record<string, number>) as Record<number, number>,
    models: sortObj(w.models),
    promptClasses: sortObj(w.promptClasses),
    ips: [...w.ips].sort(),
    subnets: [...w.subnets].sort(),
    userAgents: [...w.userAgents].sort(),
    apiKeys: [...w.apiKeys].sort(),
    templates: [...w.templates].sort(),
  };
  if (!w.overflow || Object.values(w.overflow).every((v) => !v)) delete out.overflow;
  return out;
}
