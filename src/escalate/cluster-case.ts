/**
 * Cluster cases: one review decision for a whole hydra cluster. Every flagged member still has its own case and
 * its own workflow execution (guardrails, suspension, audit, ban event); the cluster case groups the members'
 * cases under `CLUSTERCASE#<clusterCaseId>` so a reviewer sees the cluster once and decides once. A cluster
 * case is one generation of a cluster: once decided, a member that joins later opens the next generation,
 * which links the decided one. Plain TypeScript, no AWS imports: the store is lambdas/escalate/cluster-store.ts.
 */
import { dataRecord } from '../shared/data-record';
import type { CaseRecord, CaseState } from './model';
import { assertId } from './model';

import { AUDIT_SK_PREFIX, CLUSTER_PK_PREFIX, clusterStateGsiPk } from '../shared/tables';
export { CLUSTER_PK_PREFIX, clusterStateGsiPk };
export type ClusterCaseState = 'open' | 'decided';

/** Longest reason of a decision or an exclusion (everything is bounded: items are at most 400 KB). */
export const CLUSTER_REASON_MAX = 1000;
export const EXCLUSION_REASON_MAX = 300;
/** Hourly points kept per member and in the cluster's timeline. */
export const CLUSTER_TIMELINE_POINTS = 168;

/** Cluster case id: the cluster id and the generation (`c-1a2b3c4d.g2`); fits the case-id charset. */
export function clusterCaseId(clusterId: string, generation: number): string {
  assertId('clusterId', clusterId);
  if (!Number.isInteger(generation) || generation < 1) throw new Error(`generation must be a positive integer, got ${JSON.stringify(generation)}`);
  return assertId('clusterCaseId', `${clusterId}.g${generation}`);
}

export const clusterKeys = {
  /** Which generation of the cluster is current: `CLUSTERCASE#<clusterId>` / `CURRENT`. */
  pointer: (clusterId: string) => ({ pk: `${CLUSTER_PK_PREFIX}${clusterId}`, sk: 'CURRENT' }),
  header: (id: string) => ({ pk: `${CLUSTER_PK_PREFIX}${id}`, sk: 'CASE' }),
  member: (id: string, accountId: string) => ({ pk: `${CLUSTER_PK_PREFIX}${id}`, sk: `MEMBER#${accountId}` }),
  auditPrefix: AUDIT_SK_PREFIX,
};

export interface ClusterDecision {
  approved: boolean;
  reason: string;
  reviewer: string;
  decidedAt: string;
  /** How many members were excluded (each excluded member item carries its reason). */
  excluded: number;
}

/** The cluster case header: small and fixed-size, whatever the number of members. */
export interface ClusterCaseHeader {
  pk: string;
  sk: 'CASE';
  clusterCaseId: string;
  clusterId: string;
  generation: number;
  state: ClusterCaseState;
  createdAt: string;
  updatedAt: string;
  /** The decided cluster case this one follows (members that joined after that decision). */
  linkedCaseId?: string | null;
  /** The scorer's cluster report (size, reasons, fleet, pivot, intent share) when the first member was recorded. */
  scorerCluster?: Record<string, unknown> | null;
  decision?: ClusterDecision;
  gsi1pk: string;
  gsi1sk: string;
  expiresAt?: number;
}

/** One member: its case and a bounded summary of its evidence (its full evidence stays on its own case). */
export interface ClusterMemberItem {
  pk: string;
  sk: string;
  clusterCaseId: string;
  accountId: string;
  caseId: string;
  joinedAt: string;
  score: number;
  decision: 'review' | 'suspend';
  reasons: string[];
  /** What links it to the other members: the case's per-peer links and the coordination signals' own words. */
  links: { with: string; links: string[] }[];
  signals: string[];
  totals: { requests: number; models: Record<string, number>; promptClasses: Record<string, number>; inputTokens: number; outputTokens: number };
  timeline: { t: number; n: number }[];
  /** Set by the decision when the reviewer excluded the member. */
  excludedReason?: string;
  expiresAt?: number;
}

const COORDINATION = /sync|shared|template|infra|fleet|cluster|link|subnet|pivot/i;

/** The member item for a recorded case (idempotent: the same case gives the same item). */
export function memberItem(id: string, c: CaseRecord, expiresAt?: number): ClusterMemberItem {
  const e = c.evidence;
  return {
    ...clusterKeys.member(id, c.accountId),
    clusterCaseId: id,
    accountId: c.accountId,
    caseId: c.caseId,
    joinedAt: c.createdAt,
    score: c.score,
    decision: c.decision,
    reasons: c.reasons.slice(0, 20),
    links: (e?.cluster ?? [])
      .filter((m) => m.links.length)
      .slice(0, 5)
      .map((m) => ({ with: m.accountId, links: m.links.slice(0, 6) })),
    signals: (c.reasonDetails ?? [])
      .filter((d) => COORDINATION.test(d.signal))
      .map((d) => `${d.signal}: ${d.text ?? ''}`.slice(0, 300))
      .slice(0, 6),
    totals: {
      requests: e?.totals.requests ?? 0,
      models: { ...(e?.totals.models ?? {}) },
      promptClasses: { ...(e?.totals.promptClasses ?? {}) },
      inputTokens: e?.totals.inputTokens ?? 0,
      outputTokens: e?.totals.outputTokens ?? 0,
    },
    timeline: (e?.timeline ?? []).slice(-CLUSTER_TIMELINE_POINTS).map((p) => ({ t: p.t, n: p.n })),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

export interface ClusterProfile {
  members: number;
  requests: number;
  /** Share of requests per prompt class (usage events only), highest first. */
  promptClasses: [string, number][];
  /** Share of requests per model, highest first. */
  models: [string, number][];
  inputTokens: number;
  outputTokens: number;
  /** Output tokens per input token (distillation pulls long outputs from short prompts); null without usage events. */
  outputPerInput: number | null;
  /** The scorer's pivot summary for the cluster (new-model adoption), when it reported one. */
  pivot: unknown;
  /** Requests of all members per hour (oldest first). */
  timeline: { t: number; n: number; members: number }[];
  /** When members joined the cluster case (their case's creation), oldest first. */
  joins: { at: string; accountId: string }[];
}

const shares = (counts: Record<string, number>, total: number): [string, number][] =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => [k, total > 0 ? Math.round((n / total) * 1000) / 1000 : 0]);

/** The cluster's intent profile and timeline, summed over its members. */
export function clusterProfile(members: ClusterMemberItem[], scorerCluster?: Record<string, unknown> | null): ClusterProfile {
  const models = dataRecord();
  const classes = dataRecord();
  const hours = new Map<number, { n: number; members: number }>();
  let requests = 0;
  let inTok = 0;
  let outTok = 0;
  for (const m of members) {
    requests += m.totals.requests;
    inTok += m.totals.inputTokens;
    outTok += m.totals.outputTokens;
    for (const [k, n] of Object.entries(m.totals.models)) models[k] = (models[k] ?? 0) + n;
    for (const [k, n] of Object.entries(m.totals.promptClasses)) classes[k] = (classes[k] ?? 0) + n;
    for (const p of m.timeline) {
      const h = hours.get(p.t) ?? { n: 0, members: 0 };
      h.n += p.n;
      h.members += 1;
      hours.set(p.t, h);
    }
  }
  const classTotal = Object.values(classes).reduce((a, b) => a + b, 0);
  const evidence = (scorerCluster?.evidence ?? {}) as Record<string, unknown>;
  return {
    members: members.length,
    requests,
    promptClasses: shares(classes, classTotal),
    models: shares(models, requests),
    inputTokens: inTok,
    outputTokens: outTok,
    outputPerInput: inTok > 0 ? Math.round((outTok / inTok) * 100) / 100 : null,
    pivot: evidence.pivot ?? null,
    timeline: [...hours.entries()]
      .sort((a, b) => a[0] - b[0])
      .slice(-CLUSTER_TIMELINE_POINTS)
      .map(([t, v]) => ({ t, ...v })),
    joins: members
      .map((m) => ({ at: m.joinedAt, accountId: m.accountId }))
      .sort((a, b) => a.at.localeCompare(b.at) || a.accountId.localeCompare(b.accountId)),
  };
}

export interface ClusterDecisionRequest {
  approved: boolean;
  reason: string;
  exclude: { accountId: string; reason: string }[];
}

/** Validate a reviewer's cluster decision against the cluster's members. Throws with the offending value. */
export function parseClusterDecision(raw: unknown, memberIds: Iterable<string>): ClusterDecisionRequest {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`cluster decision must be an object, got ${JSON.stringify(raw)}`);
  const r = raw as Record<string, unknown>;
  if (typeof r.approved !== 'boolean') throw new Error(`approved must be true or false, got ${JSON.stringify(r.approved)}`);
  const reason = text('reason', r.reason, CLUSTER_REASON_MAX);
  const members = new Set(memberIds);
  const list = r.exclude ?? [];
  if (!Array.isArray(list)) throw new Error(`exclude must be a list of {accountId, reason}, got ${JSON.stringify(list)}`);
  const seen = new Set<string>();
  const exclude = list.map((x) => {
    const e = (x ?? {}) as Record<string, unknown>;
    const accountId = assertId('accountId', e.accountId);
    if (!members.has(accountId)) throw new Error(`excluded account ${JSON.stringify(accountId)} is not a member of this cluster case`);
    if (seen.has(accountId)) throw new Error(`account ${JSON.stringify(accountId)} is excluded twice`);
    seen.add(accountId);
    return { accountId, reason: text(`exclusion reason for ${accountId}`, e.reason, EXCLUSION_REASON_MAX) };
  });
  return { approved: r.approved, reason, exclude };
}

function text(what: string, v: unknown, max: number): string {
  if (typeof v !== 'string' || v.trim().length < 3) throw new Error(`${what} is required (at least 3 characters), got ${JSON.stringify(v ?? '')}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new Error(`${what} must not contain control characters, got ${JSON.stringify(v)}`);
  if (v.trim().length > max) throw new Error(`${what} must be at most ${max} characters, got ${v.trim().length}`);
  return v.trim();
}

export interface FanOutPlan {
  /** Members whose case waits for review: the decision goes to each one's own workflow. */
  decide: { accountId: string; caseId: string }[];
  excluded: { accountId: string; caseId: string; reason: string }[];
  /** Members the decision cannot reach now (already decided, auto-suspended, still being routed, overdue). */
  skipped: { accountId: string; caseId: string; why: string }[];
}

/**
 * Which members the decision reaches: every member whose own case waits for review, minus the excluded ones.
 * Re-running the same decision reaches only those still waiting, so a decision interrupted half-way (or members
 * the breaker sent back to review) is resumed by deciding again.
 */
export function planFanOut(
  members: ClusterMemberItem[],
  cases: Map<string, Pick<CaseRecord, 'state' | 'outcome'>>,
  exclude: { accountId: string; reason: string }[],
): FanOutPlan {
  const ex = new Map(exclude.map((e) => [e.accountId, e.reason]));
  const plan: FanOutPlan = { decide: [], excluded: [], skipped: [] };
  for (const m of [...members].sort((a, b) => a.accountId.localeCompare(b.accountId))) {
    const why = ex.get(m.accountId);
    if (why !== undefined) {
      plan.excluded.push({ accountId: m.accountId, caseId: m.caseId, reason: why });
      continue;
    }
    const c = cases.get(m.caseId);
    const state: CaseState | 'missing' = c?.state ?? 'missing';
    if (state === 'review') plan.decide.push({ accountId: m.accountId, caseId: m.caseId });
    else
      plan.skipped.push({
        accountId: m.accountId,
        caseId: m.caseId,
        why: c ? `case ${state}${c.outcome ? ` (${c.outcome})` : ''}` : 'case not found (expired?)',
      });
  }
  return plan;
}
