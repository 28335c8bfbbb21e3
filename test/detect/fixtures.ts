/**
 * Small synthetic traffic for detection and replay unit tests (the real simulator lives in sim/). Deterministic
 * (seeded); builds access-log records and usage events (docs/contract.md), or AccountWindows directly.
 */
import { emptyWindow, windowStartOf, type AccountWindow } from '../../src/aggregate/window';
import type { AccessLogRecord, UsageEvent } from '../../src/shared/contract';
import type { AccountLink } from '../../src/detect/linkage';
import type { ReasonDetail } from '../../src/detect/score';

export const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
export const HOUR = 3_600_000;

import { rng } from '../../sim/rng';

export { rng };

/** A member linked to cluster `c1` by timing alone (three synchronized peers), with no template library. */
export function timingLink(meanPhi: number): AccountLink {
  const zero = { content: 0, infra: 0, timing: 0, signup: 0 };
  return {
    clusterId: 'c1',
    families: { ...zero, timing: 0.9 },
    maxFamilies: { ...zero, timing: 0.9 },
    degree: 3,
    sharedTemplates: 0,
    exclusiveTemplates: 0,
    meanPhi,
    syncPeers: 3,
    libraryTemplates: 0,
    libraryScore: 0,
    librarySize: 0,
    libraryAccounts: 0,
  };
}

/** A reason of the given strength (value = strength, baseline 0), as the decision policy sees it. */
export function reasonDetail(signal: ReasonDetail['signal'], family: ReasonDetail['family'], strength: number, shadow = false): ReasonDetail {
  return { signal, family, strength, value: strength, baseline: 0, text: 'x', shadow };
}

export interface Req {
  accountId: string;
  ts: number;
  ip: string;
  ua: string;
  model: string;
  status?: number;
  bytes?: number;
  apiKeyId?: string;
  createdAt?: number;
  promptClass?: UsageEvent['promptClass'];
  templateId?: string;
  outputTokens?: number;
}

let seq = 0;
export function toLog(r: Req): AccessLogRecord {
  seq++;
  return {
    requestId: `req-${r.accountId}-${r.ts}-${seq}`,
    requestTimeEpoch: String(r.ts),
    requestTime: '-',
    accountId: r.accountId,
    apiKeyId: r.apiKeyId ?? '-',
    sourceIp: r.ip,
    userAgent: r.ua,
    httpMethod: 'POST',
    path: `/prod/v1/models/${r.model}/messages`,
    status: String(r.status ?? 200),
    responseLength: String(r.bytes ?? 2000),
    integrationLatency: '800',
    accountCreatedAt: r.createdAt !== undefined ? String(r.createdAt) : '-',
  };
}

export function toUsage(r: Req, log: AccessLogRecord): UsageEvent {
  return {
    type: 'usage',
    requestId: log.requestId,
    accountId: r.accountId,
    timestamp: r.ts,
    model: r.model,
    promptClass: r.promptClass ?? 'chat',
    templateId: r.templateId ?? `t-${r.accountId}-${Math.floor(r.ts / 1000) % 997}`,
    inputTokens: 300,
    outputTokens: r.outputTokens ?? 400,
  };
}

/** Build windows directly from requests (what the aggregator would produce, minus hashing). */
export function windowsOf(reqs: Req[]): AccountWindow[] {
  const map = new Map<string, AccountWindow>();
  for (const r of reqs) {
    const ws = windowStartOf(r.ts);
    const key = r.accountId + '|' + ws;
    let w = map.get(key);
    if (!w) {
      w = emptyWindow(r.accountId, ws);
      map.set(key, w);
    }
    w.n++;
    const st = r.status ?? 200;
    if (st >= 400 && st < 500) w.status4xx++;
    if (st === 429) w.status429++;
    if (st >= 500) w.status5xx++;
    w.respBytes += r.bytes ?? 2000;
    w.respBytesN++;
    const minute = Math.floor((r.ts - ws) / 60_000);
    w.minutes[minute] = (w.minutes[minute] ?? 0) + 1;
    w.models[r.model] = (w.models[r.model] ?? 0) + 1;
    const add = (arr: string[], v: string): void => {
      if (!arr.includes(v)) arr.push(v);
    };
    add(w.ips, 'h' + r.ip);
    add(w.subnets, r.ip.split('.').slice(0, 3).join('.') + '.0/24');
    add(w.userAgents, r.ua);
    if (r.apiKeyId) add(w.apiKeys, r.apiKeyId);
    if (r.createdAt !== undefined) w.accountCreatedAt = w.accountCreatedAt === null ? r.createdAt : Math.min(w.accountCreatedAt, r.createdAt);
    w.firstTs = w.firstTs ? Math.min(w.firstTs, r.ts) : r.ts;
    w.lastTs = Math.max(w.lastTs, r.ts);
    if (r.promptClass) {
      w.usageN++;
      w.inputTokens += 300;
      w.outputTokens += r.outputTokens ?? 400;
      w.promptClasses[r.promptClass] = (w.promptClasses[r.promptClass] ?? 0) + 1;
      add(w.templates, r.templateId ?? `t-${r.accountId}`);
    }
  }
  return [...map.values()];
}

const POPULAR_UAS = ['python-requests/2.31', 'anthropic-sdk-python/1.2', 'node-fetch/3', 'Mozilla/5.0 Chrome/130'];

export interface Population {
  reqs: Req[];
  organic: string[];
  campaign: string[];
  nat: string[];
  batch: string[];
  evalHarness: string[];
  earlyAdopters: string[];
  pivotCampaign: string[];
}

/**
 * A small population over `days` days: diurnal organic users (random sessions, own IPs, popular UAs), a campus
 * NAT (many unrelated accounts, one IP), enterprise batch (24/7 metronome, one template), an eval harness (CoT,
 * one day), early adopters of a new model, a synchronized CoT-harvest cluster (shared proxy pool, shared
 * templates) and a model-pivot cluster. `usage` controls prompt classes/templates on requests.
 */
export function population(opts: { seed?: number; organic?: number; days?: number; newModelAt?: number } = {}): Population {
  const rand = rng(opts.seed ?? 7);
  const days = opts.days ?? 3;
  const nOrganic = opts.organic ?? 120;
  const newModelAt = opts.newModelAt ?? T0 + 2 * 24 * HOUR;
  const reqs: Req[] = [];
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const models = (ts: number, adopter: boolean): string => {
    if (ts >= newModelAt && adopter && rand() < 0.9) return 'model-new';
    return pick(['model-a', 'model-a', 'model-b']);
  };
  const pop: Population = { reqs, organic: [], campaign: [], nat: [], batch: [], evalHarness: [], earlyAdopters: [], pivotCampaign: [] };
  // Organic diurnal users (some behind a campus NAT; a few early adopters).
  for (let i = 0; i < nOrganic; i++) {
    const id = `org_${i}`;
    pop.organic.push(id);
    const nat = i < 15;
    if (nat) pop.nat.push(id);
    const early = i >= 15 && i < 20;
    if (early) pop.earlyAdopters.push(id);
    const ip = nat ? '10.20.30.40' : `${11 + (i % 200)}.${i % 250}.${(i * 7) % 250}.${(i * 13) % 250}`;
    const ua = pick(POPULAR_UAS);
    const createdAt = T0 - Math.floor(rand() * 300) * 24 * HOUR;
    for (let d = 0; d < days; d++) {
      const sessions = 1 + Math.floor(rand() * 3);
      for (let s = 0; s < sessions; s++) {
        const start = T0 + d * 24 * HOUR + (8 + rand() * 12) * HOUR;
        const len = 5 + Math.floor(rand() * 30);
        for (let k = 0; k < len; k++) {
          const ts = Math.floor(start + k * (30_000 + rand() * 90_000));
          reqs.push({
            accountId: id,
            ts,
            ip,
            ua,
            model: models(ts, early),
            createdAt,
            promptClass: pick(['chat', 'coding', 'chat', 'agentic']),
            templateId: `t-${id}-${Math.floor(rand() * 20)}`,
          });
        }
      }
    }
  }
  // Enterprise batch: 24/7 metronome, one template.
  for (let i = 0; i < 3; i++) {
    const id = `batch_${i}`;
    pop.batch.push(id);
    pop.organic.push(id);
    for (let ts = T0 + i * 7_000; ts < T0 + days * 24 * HOUR; ts += 60_000) {
      reqs.push({
        accountId: id,
        ts,
        ip: `52.1.${i}.9`,
        ua: 'corp-batch/1.0',
        model: 'model-a',
        createdAt: T0 - 400 * 24 * HOUR,
        promptClass: 'other',
        templateId: `t-batch-${i}`,
        outputTokens: 1500,
      });
    }
  }
  // Eval harness: CoT prompts over one day.
  {
    const id = 'eval_0';
    pop.evalHarness.push(id);
    pop.organic.push(id);
    for (let ts = T0 + 24 * HOUR + 9 * HOUR; ts < T0 + 24 * HOUR + 21 * HOUR; ts += 20_000) {
      reqs.push({
        accountId: id,
        ts,
        ip: '34.5.6.7',
        ua: 'evals/0.3',
        model: 'model-a',
        createdAt: T0 - 90 * 24 * HOUR,
        promptClass: 'cot_elicitation',
        templateId: `t-eval-${ts % 50}`,
        outputTokens: 2500,
      });
    }
  }
  // A campaign account's synchronized sessions: `requests` requests per session start, through the shared proxies
  // with popular user agents (the draws happen in the same order as the fields are listed).
  const campaign = (
    id: string,
    sessions: number[],
    pace: { requests: number; stepMs: number; jitterMs: number },
    proxyPool: string[],
    rest: (ts: number) => Omit<Req, 'accountId' | 'ts' | 'ip' | 'ua'>,
  ) => {
    for (const start of sessions) {
      for (let k = 0; k < pace.requests; k++) {
        const ts = Math.floor(start + k * pace.stepMs + rand() * pace.jitterMs);
        reqs.push({ accountId: id, ts, ip: pick(proxyPool), ua: pick(POPULAR_UAS), ...rest(ts) });
      }
    }
  };
  // CoT-harvest cluster: 8 accounts, synchronized sessions, shared proxy pool and templates.
  const proxies = Array.from({ length: 12 }, (_, k) => `185.77.${k % 4}.${20 + k}`);
  const campaignSessions: number[] = [];
  for (let d = 0; d < days; d++) for (let s = 0; s < 4; s++) campaignSessions.push(T0 + d * 24 * HOUR + rand() * 22 * HOUR);
  for (let i = 0; i < 8; i++) {
    const id = `cot_${i}`;
    pop.campaign.push(id);
    const createdAt = T0 - 2 * 24 * HOUR + i * 60_000;
    campaign(id, campaignSessions, { requests: 20, stepMs: 90_000, jitterMs: 30_000 }, proxies, () => ({
      model: 'model-a',
      createdAt,
      promptClass: rand() < 0.7 ? 'cot_elicitation' : 'rewrite',
      templateId: `t-cot-${Math.floor(rand() * 6)}`,
      outputTokens: 3000,
    }));
  }
  // Model-pivot cluster: 6 accounts, synchronized, move to the new model right after it appears.
  const pivotSessions: number[] = [];
  for (let d = 0; d < days; d++) for (let s = 0; s < 5; s++) pivotSessions.push(T0 + d * 24 * HOUR + rand() * 22 * HOUR);
  pivotSessions.push(newModelAt + 30 * 60_000, newModelAt + 2 * HOUR, newModelAt + 4 * HOUR);
  const pivotProxies = Array.from({ length: 10 }, (_, k) => `91.12.${k % 3}.${40 + k}`);
  for (let i = 0; i < 6; i++) {
    const id = `pivot_${i}`;
    pop.pivotCampaign.push(id);
    pop.campaign.push(id);
    campaign(id, pivotSessions, { requests: 15, stepMs: 80_000, jitterMs: 20_000 }, pivotProxies, (ts) => ({
      model: ts >= newModelAt ? 'model-new' : pick(['model-a', 'model-b']),
      createdAt: T0 - 30 * 24 * HOUR - i * 86_400_000,
    }));
  }
  reqs.sort((a, b) => a.ts - b.ts);
  return pop;
}
