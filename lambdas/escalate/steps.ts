/**
 * The escalation workflow's steps. Each takes the execution state (`$` of the state machine: the workflow input
 * plus the results of earlier steps) and returns the step's result. Every step is idempotent, because Step
 * Functions retries them: conditional writes and transactions make a retry either a no-op or the same write.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { buildBanEvent, toOutboxItem } from '../../src/notify/ban-event';
import { BanPolicy } from '../../src/escalate/ban';
import { buildEvidence } from '../../src/escalate/evidence';
import { BreakerConfig, ShadowConfig, decideRoute, evaluateBreaker, evaluateShadow, suspensionsLastHour } from '../../src/escalate/guardrails';
import { CaseOutcome, CaseRecord, Route, WorkflowInput, caseStateGsiPk, keys, parseWorkflowInput, recordExpiresAt } from '../../src/escalate/model';
import { recordClusterMember } from './cluster-store';
import { EscalationStore } from './store';
import type { SignedDecision } from './task-token-store';
import { getAllow } from './allowlist';
import { breakerCounts, getBreaker, tripBreaker } from './breaker';
import { accountWindows, activeAccounts } from './feature-reads';
import { getShadow } from './shadow';
import { applySuspension as suspendCase } from './suspension';

export interface EscalationConfig {
  reviewTimeoutSeconds: number;
  ban: BanPolicy;
  breaker: BreakerConfig;
  shadow: ShadowConfig;
  /** Cap on cluster members whose windows are read for the evidence snapshot. */
  maxClusterMembers: number;
  /** How long an automatic or reviewed restriction lasts. */
  restrictDurationMs: number;
}

const num = (v: string | undefined, d: number) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);

/** Configuration from the environment the Escalation construct sets (defaults mirror lib/escalate/defaults.ts). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EscalationConfig {
  return {
    reviewTimeoutSeconds: num(env.REVIEW_TIMEOUT_SECONDS, 86_400),
    ban: {
      baseMs: num(env.BAN_BASE_SECONDS, 86_400) * 1000,
      factor: num(env.BAN_FACTOR, 2),
      maxMs: num(env.BAN_MAX_SECONDS, 30 * 86_400) * 1000,
      forgetAfterMs: num(env.BAN_FORGET_SECONDS, 180 * 86_400) * 1000,
    },
    breaker: {
      maxPerHour: num(env.BREAKER_MAX_PER_HOUR, 20),
      maxShare: num(env.BREAKER_MAX_SHARE, 0.01),
      minActiveForShare: num(env.BREAKER_MIN_ACTIVE, 200),
    },
    shadow: {
      global: env.SHADOW_MODE === 'true',
      signals: (env.SHADOW_SIGNALS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
    maxClusterMembers: num(env.MAX_CLUSTER_MEMBERS, 20),
    restrictDurationMs: num(env.RESTRICT_DURATION_SECONDS, 86_400) * 1000,
  };
}

/** The execution state the steps see. */
export interface ExecutionState extends Partial<WorkflowInput> {
  executionId?: string;
  record?: { duplicate: boolean; openCaseId?: string };
  guard?: RouteResult;
  review?: { approved?: unknown; reviewer?: unknown; reason?: unknown; decidedAt?: unknown; action?: unknown; clusterCaseId?: unknown };
  reviewed?: ReviewedResult;
  applied?: { outcome: string };
  /** ApplyRestriction's result (restrict plus review, or a reviewer's restrict). */
  restricted?: { outcome: string };
  error?: { Error?: string; Cause?: string };
  [extra: string]: unknown;
}

// ---------------------------------------------------------------- RecordCase

export async function recordCase(
  store: EscalationStore,
  cfg: EscalationConfig,
  state: ExecutionState,
): Promise<{ duplicate: boolean; openCaseId?: string; caseCreatedAt?: string }> {
  const input = parseWorkflowInput(state);
  const existing = await store.getCase(input.caseId);
  if (existing) {
    // A retry of this step, or a second execution for the same case id.
    if (!state.executionId || !existing.executionArn || existing.executionArn === state.executionId) {
      await recordClusterMember(store, existing, input.evidence?.cluster);
      return { duplicate: false, caseCreatedAt: existing.createdAt };
    }
    await store.putAudit(
      store.audit({
        caseId: input.caseId,
        accountId: input.accountId,
        actor: 'auto',
        action: 'case-duplicate',
        reason: `execution ${state.executionId} started for a case already run by ${existing.executionArn}`,
      }),
    );
    return { duplicate: true, openCaseId: input.caseId };
  }
  const account = await store.getAccount(input.accountId);
  if (account?.openCaseId && account.openCaseId !== input.caseId) {
    await store.putAudit(
      store.audit({
        caseId: account.openCaseId,
        accountId: input.accountId,
        actor: 'auto',
        action: 'case-duplicate',
        reason: `case ${input.caseId} not opened: account already has open case ${account.openCaseId}`,
        details: { score: input.score, reasons: input.reasons },
      }),
    );
    return { duplicate: true, openCaseId: account.openCaseId };
  }

  // Evidence snapshot, frozen now: the features may expire (TTL) before the reviewer looks.
  const members = (input.relatedAccountIds ?? []).filter((a) => a !== input.accountId).slice(0, cfg.maxClusterMembers);
  const [windows, memberData] = await Promise.all([
    accountWindows(store, input.accountId),
    Promise.all(
      members.map(async (m) => {
        const [w, st] = await Promise.all([accountWindows(store, m), store.getAccount(m)]);
        return { accountId: m, windows: w, status: st?.status ?? 'active' };
      }),
    ),
  ]);
  const evidence = buildEvidence({ windows, members: memberData, scorer: input.evidence });
  const nowMs = store.now();
  const now = new Date(nowMs).toISOString();
  const record: CaseRecord = {
    ...keys.case(input.caseId),
    sk: 'CASE',
    caseId: input.caseId,
    accountId: input.accountId,
    state: 'open',
    decision: input.decision,
    ...(input.recommendedAction ? { recommendedAction: input.recommendedAction } : {}),
    score: input.score,
    reasons: input.reasons,
    reasonDetails: input.reasonDetails ?? [],
    clusterId: input.clusterId ?? null,
    relatedAccountIds: input.relatedAccountIds ?? [],
    flaggedAt: input.flaggedAt,
    createdAt: now,
    updatedAt: now,
    evidence,
    gsi1pk: caseStateGsiPk('open'),
    gsi1sk: now,
    ...(state.executionId ? { executionArn: state.executionId } : {}),
    // The evidence (subnets, user agents, API keys) is not kept forever: TTL after the deployment's retention.
    expiresAt: recordExpiresAt(nowMs, store.caseRetentionDays),
  };
  const flagged = buildBanEvent('Account Flagged', {
    accountId: input.accountId,
    caseId: input.caseId,
    decidedBy: 'auto',
    reasons: input.reasons,
    score: input.score,
    clusterId: input.clusterId ?? null,
    relatedAccountIds: input.relatedAccountIds ?? [],
    decidedAt: input.flaggedAt,
    decision: input.decision,
    reasonDetails: input.reasonDetails,
  });
  try {
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: store.table,
              Key: keys.accountStatus(input.accountId),
              UpdateExpression: 'SET openCaseId = :c, accountId = :a, #s = if_not_exists(#s, :active), createdAt = if_not_exists(createdAt, :now)',
              ConditionExpression: 'attribute_not_exists(openCaseId) OR openCaseId = :c',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':c': input.caseId, ':a': input.accountId, ':active': 'active', ':now': now },
            },
          },
          { Put: { TableName: store.table, Item: record, ConditionExpression: 'attribute_not_exists(pk)' } },
          store.auditPut(
            store.audit({
              caseId: input.caseId,
              accountId: input.accountId,
              actor: 'auto',
              action: 'case-opened',
              reason: `scorer decided ${input.decision} (score ${input.score.toFixed(3)}): ${input.reasons.join(', ')}`,
              details: { flaggedAt: new Date(input.flaggedAt).toISOString(), clusterId: input.clusterId ?? null, eventId: flagged.eventId },
            }),
          ),
          { Put: { TableName: store.table, Item: toOutboxItem(flagged, nowMs), ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof TransactionCanceledException)) throw err;
    const codes = (err.CancellationReasons ?? []).map((r) => r.Code);
    if (codes[1] === 'ConditionalCheckFailed') return recordCase(store, cfg, state); // raced with a retry: re-read
    if (codes[0] === 'ConditionalCheckFailed') {
      const again = await store.getAccount(input.accountId);
      return { duplicate: true, openCaseId: again?.openCaseId };
    }
    throw err;
  }
  // One review for the whole cluster: the case joins its cluster's current cluster case (cluster-store.ts).
  await recordClusterMember(store, record, input.evidence?.cluster);
  return { duplicate: false, caseCreatedAt: now };
}

// ---------------------------------------------------------------- CheckGuardrails

export interface RouteResult {
  route: Route;
  computedRoute: Route;
  shadow: boolean;
  allowlisted: boolean;
  breakerTripped: boolean;
  why: string[];
  decidedAt: string;
  reviewDeadline?: string;
  /** The breaker's limit (count and share rules) at routing time; ApplySuspension enforces it atomically. */
  breakerLimit?: number;
}

export async function checkGuardrails(store: EscalationStore, cfg: EscalationConfig, state: ExecutionState): Promise<RouteResult> {
  const caseId = String(state.caseId);
  const c = await store.requireCase(caseId);
  if (c.route && c.routedAt && c.state !== 'open') {
    // Retry after the update below committed: return what was decided.
    return {
      route: c.route,
      computedRoute: c.shadowRoute ?? c.route,
      shadow: !!c.shadow,
      allowlisted: c.outcome === 'allowlisted',
      breakerTripped: false,
      why: c.routeReasons ?? [],
      decidedAt: c.routedAt,
      reviewDeadline: c.reviewDeadline,
      ...(typeof c.breakerLimit === 'number' ? { breakerLimit: c.breakerLimit } : {}),
    };
  }
  const nowMs = store.now();
  const [allow, breakerState, counts, active, shadowCfg] = await Promise.all([
    getAllow(store, c.accountId),
    getBreaker(store),
    breakerCounts(store, nowMs),
    c.decision === 'suspend' || c.recommendedAction === 'restrict' ? activeAccounts(store, nowMs) : Promise.resolve(undefined),
    getShadow(store, cfg.shadow),
  ]);
  const breaker = evaluateBreaker(cfg.breaker, breakerState, suspensionsLastHour(counts.current, counts.previous, nowMs), active);
  const shadow = evaluateShadow(shadowCfg, c.reasons);
  const d = decideRoute({ decision: c.decision, recommendedAction: c.recommendedAction, reasons: c.reasons, allow, breaker, shadow, nowMs });
  let breakerTripped = false;
  if (d.tripBreaker) breakerTripped = await tripBreaker(store, breaker.reason ?? 'limit reached', caseId, c.accountId);
  const decidedAt = new Date(nowMs).toISOString();
  // Restrict plus review: the case waits for a reviewer while the restriction is in force.
  const toReview = d.route === 'review' || d.route === 'restrict';
  const reviewDeadline = toReview ? new Date(nowMs + cfg.reviewTimeoutSeconds * 1000).toISOString() : undefined;
  const newState = toReview ? 'review' : 'open';
  await store.transactAudited(
    [
      {
        Update: {
          TableName: store.table,
          Key: keys.case(caseId),
          UpdateExpression:
            'SET #st = :st, route = :r, shadowRoute = :cr, shadow = :sh, routeReasons = :why, routedAt = :at, updatedAt = :at, gsi1pk = :g, breakerLimit = :bl' +
            (reviewDeadline ? ', reviewDeadline = :dl' : ''),
          ConditionExpression: '#st = :open',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: {
            ':st': newState,
            ':open': 'open',
            ':r': d.route,
            ':cr': d.computedRoute,
            ':sh': d.shadow,
            ':why': d.why,
            ':at': decidedAt,
            ':g': caseStateGsiPk(newState),
            ':bl': breaker.limit,
            ...(reviewDeadline ? { ':dl': reviewDeadline } : {}),
          },
        },
      },
    ],
    {
      caseId,
      accountId: c.accountId,
      actor: 'auto',
      action: d.shadow ? 'shadow-recorded' : toReview ? 'review-requested' : 'routed',
      reason: d.why.join('; '),
      details: {
        route: d.route,
        computedRoute: d.computedRoute,
        shadow: d.shadow,
        allowlisted: d.allowlisted,
        breaker: { lastHour: breaker.lastHour, limit: breaker.limit, activeAccounts: active ?? null },
        ...(reviewDeadline ? { reviewDeadline } : {}),
      },
    },
  );
  return {
    route: d.route,
    computedRoute: d.computedRoute,
    shadow: d.shadow,
    allowlisted: d.allowlisted,
    breakerTripped,
    why: d.why,
    decidedAt,
    breakerLimit: breaker.limit,
    ...(reviewDeadline ? { reviewDeadline } : {}),
  };
}

// ---------------------------------------------------------------- RecordReview

export interface ReviewedResult {
  approved: boolean;
  /** What an approval applies: `suspend` (the default) or `restrict` (the reviewer chose the milder step). */
  action: 'suspend' | 'restrict';
  reviewer: string;
  reason: string;
  decidedAt: string;
  /** Set when the answer is one cluster decision applied to this member (its suspension then counts on the breaker). */
  clusterCaseId?: string;
}

/**
 * Audit the reviewer's decision. The decision and the reviewer come from the case item, where the review API wrote
 * them with the identity of the signed caller; the task output is never trusted (a raw SendTaskSuccess naming a
 * reviewer proves nothing). No signed decision, or anything malformed, is not an approval.
 */
export async function recordReview(store: EscalationStore, state: ExecutionState): Promise<ReviewedResult> {
  const caseId = String(state.caseId);
  const c = (await store.requireCase(caseId)) as CaseRecord & { reviewDecision?: Partial<SignedDecision> };
  const d = c.reviewDecision ?? {};
  const signed = typeof d.reviewer === 'string' && d.reviewer.trim() !== '';
  const reviewer = signed ? d.reviewer!.trim().slice(0, 512) : 'unknown';
  const reason = typeof d.reason === 'string' && d.reason.trim() ? d.reason.trim().slice(0, 2000) : '';
  const decidedAt =
    typeof d.decidedAt === 'string' && Number.isFinite(Date.parse(d.decidedAt))
      ? new Date(d.decidedAt).toISOString()
      : new Date(store.now()).toISOString();
  const valid = d.approved === true && signed && reason !== '';
  const action = d.action === 'restrict' ? 'restrict' : 'suspend';
  const clusterCaseId = typeof d.clusterCaseId === 'string' && /^[A-Za-z0-9._:@-]{1,128}$/.test(d.clusterCaseId) ? d.clusterCaseId : undefined;
  const result: ReviewedResult = {
    approved: valid,
    action,
    reviewer,
    reason: reason || 'no reason given',
    decidedAt,
    ...(clusterCaseId ? { clusterCaseId } : {}),
  };
  const audits = await store.auditTrail(caseId);
  if (!audits.some((a) => a.action === 'review-approved' || a.action === 'review-rejected')) {
    const note = !signed
      ? {
          note: 'the task was completed without a decision signed through the review api: treated as rejection',
          taskOutputClaimed: claimed(state.review),
        }
      : d.approved === true && !valid
        ? { note: 'approval without reason treated as rejection' }
        : { decidedAt, ...(valid ? { action } : {}) };
    const cluster = clusterCaseId ? { clusterCaseId, clusterId: c.clusterId } : {};
    await store.putAudit(
      store.audit({
        caseId,
        accountId: c.accountId,
        actor: reviewer,
        action: valid ? 'review-approved' : 'review-rejected',
        reason: result.reason,
        details: { ...note, ...cluster },
      }),
    );
  }
  // The task is complete: its (encrypted) token is of no further use.
  await store.ddb.send(
    new UpdateCommand({
      TableName: store.table,
      Key: keys.case(caseId),
      UpdateExpression: 'REMOVE reviewTask',
      ConditionExpression: 'attribute_exists(pk)',
    }),
  );
  return result;
}

/** What an unsigned task output claimed, kept as evidence (bounded), never as the actor. */
function claimed(r: ExecutionState['review']): Record<string, string> {
  const s = (v: unknown) => (typeof v === 'string' ? v.slice(0, 256) : JSON.stringify(v ?? null).slice(0, 256));
  return { approved: s(r?.approved), reviewer: s(r?.reviewer) };
}

// ---------------------------------------------------------------- Dismiss / Overdue / Error

function outcomeOf(state: ExecutionState): CaseOutcome {
  if (state.applied?.outcome === 'allowlisted' || state.restricted?.outcome === 'allowlisted') return 'allowlisted';
  if (state.reviewed && !state.reviewed.approved) return 'rejected';
  if (state.guard?.shadow) return 'shadow';
  if (state.guard?.allowlisted) return 'allowlisted';
  return 'dismissed';
}

/** Close a case without enforcement and release the account's open-case slot. */
export async function closeCase(
  store: EscalationStore,
  state: ExecutionState,
  opts: {
    outcome?: CaseOutcome;
    caseState?: 'closed' | 'overdue';
    action?: 'dismissed' | 'review-overdue' | 'case-error';
    reason?: string;
    actor?: string;
  } = {},
): Promise<{ outcome: CaseOutcome }> {
  const caseId = String(state.caseId);
  const c = await store.requireCase(caseId);
  const outcome = opts.outcome ?? outcomeOf(state);
  const target = opts.caseState ?? 'closed';
  if (c.state === 'closed' || (c.state === target && c.outcome === outcome)) return { outcome: c.outcome ?? outcome };
  const at = new Date(store.now()).toISOString();
  const reason =
    opts.reason ??
    (outcome === 'rejected'
      ? `rejected by ${state.reviewed?.reviewer}: ${state.reviewed?.reason}`
      : outcome === 'shadow'
        ? `shadow mode: would ${state.guard?.computedRoute}; nothing applied`
        : outcome === 'allowlisted'
          ? 'account is allowlisted; nothing applied'
          : (state.guard?.why ?? []).join('; ') || 'dismissed');
  await store.transactAudited(
    [
      {
        Update: {
          TableName: store.table,
          Key: keys.case(caseId),
          // The stored task token is of no further use: dropped with the close.
          UpdateExpression:
            'SET #st = :st, outcome = :o, updatedAt = :at, decidedAt = :at, decidedBy = :by, decisionReason = :why, gsi1pk = :g' +
            (state.error ? ', #err = :err' : '') +
            ' REMOVE reviewTask',
          ConditionExpression: '#st <> :closed',
          ExpressionAttributeNames: { '#st': 'state', ...(state.error ? { '#err': 'error' } : {}) },
          ExpressionAttributeValues: {
            ':st': target,
            ':closed': 'closed',
            ':o': outcome,
            ':at': at,
            ':by': opts.actor ?? (outcome === 'rejected' ? String(state.reviewed?.reviewer) : 'auto'),
            ':why': reason,
            ':g': caseStateGsiPk(target),
            ...(state.error ? { ':err': `${state.error.Error ?? 'Error'}: ${String(state.error.Cause ?? '').slice(0, 1000)}` } : {}),
          },
        },
      },
    ],
    {
      caseId,
      accountId: c.accountId,
      actor: opts.actor ?? (outcome === 'rejected' ? String(state.reviewed?.reviewer) : 'auto'),
      action: opts.action ?? 'dismissed',
      reason,
      details: { outcome },
    },
  );
  // Release the account's open-case slot (only if it is still this case's).
  try {
    await store.ddb.send(
      new UpdateCommand({
        TableName: store.table,
        Key: keys.accountStatus(c.accountId),
        UpdateExpression: 'REMOVE openCaseId SET lastCaseId = :c',
        ConditionExpression: 'openCaseId = :c',
        ExpressionAttributeValues: { ':c': caseId },
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
  }
  return { outcome };
}

/** Review deadline passed: the safe default. No suspension; the case is marked overdue (escalated) and alarmed on. */
export function markOverdue(store: EscalationStore, state: ExecutionState) {
  const kind = state.error?.Error === 'States.HeartbeatTimeout' ? 'missed heartbeat' : 'deadline';
  return closeCase(store, state, {
    outcome: 'overdue',
    caseState: 'overdue',
    action: 'review-overdue',
    actor: 'timeout',
    reason: `timeout (${kind}): no review decision before ${state.guard?.reviewDeadline ?? '?'}; no suspension applied, case escalated`,
  });
}

/**
 * Who or what ended the workflow with an error: `error: <name>` (a step failed after retries, or the review task
 * failed). The review API never sends SendTaskFailure, and no other principal may, so a task failure is the
 * platform's (e.g. the review task's function failing) and is named by its error.
 */
export function errorCause(state: ExecutionState): string {
  const name = typeof state.error?.Error === 'string' && state.error.Error ? state.error.Error.slice(0, 128) : 'unknown';
  return `error: ${name}`;
}

/** The execution failed after the case was recorded: mark it for attention and release the account. */
export function markError(store: EscalationStore, state: ExecutionState) {
  const cause = errorCause(state);
  return closeCase(store, state, {
    outcome: 'error',
    caseState: 'overdue',
    action: 'case-error',
    actor: cause,
    reason: `workflow ${cause}, nothing applied`,
  });
}

// ---------------------------------------------------------------- ApplySuspension

export async function applySuspension(store: EscalationStore, cfg: EscalationConfig, state: ExecutionState) {
  const caseId = String(state.caseId);
  const auto = !state.reviewed;
  const decidedBy = auto ? 'auto' : state.reviewed!.reviewer;
  const decidedAt = auto ? (state.guard?.decidedAt ?? new Date(store.now()).toISOString()) : state.reviewed!.decidedAt;
  // The breaker limit the guardrails computed (count and share rules), never above the configured count.
  const guardLimit = typeof state.guard?.breakerLimit === 'number' ? state.guard.breakerLimit : Infinity;
  const breakerLimit = Math.min(cfg.breaker.maxPerHour, guardLimit);
  // A cluster decision suspends many accounts at once: each member counts on the breaker like an auto-suspension.
  const clusterCaseId = state.reviewed?.clusterCaseId;
  const r = await suspendCase(store, {
    caseId,
    decidedBy,
    decidedAt,
    reason: auto ? undefined : state.reviewed!.reason,
    policy: cfg.ban,
    auto,
    breakerLimit,
    countBreaker: auto || !!clusterCaseId,
    clusterCaseId,
  });
  if (r.outcome === 'breaker') {
    // The breaker tripped between the check and now: hand the case to a human instead.
    const c = await store.requireCase(caseId);
    const nowMs = store.now();
    const reviewDeadline = new Date(nowMs + cfg.reviewTimeoutSeconds * 1000).toISOString();
    await store.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: store.table,
              Key: keys.case(caseId),
              UpdateExpression: 'SET #st = :st, route = :r, reviewDeadline = :dl, updatedAt = :at, gsi1pk = :g',
              ExpressionAttributeNames: { '#st': 'state' },
              ExpressionAttributeValues: {
                ':st': 'review',
                ':r': 'review',
                ':dl': reviewDeadline,
                ':at': new Date(nowMs).toISOString(),
                ':g': caseStateGsiPk('review'),
              },
            },
          },
          store.auditPut(
            store.audit({
              caseId,
              accountId: c.accountId,
              actor: 'auto',
              action: 'review-requested',
              reason: 'auto-suspend refused by the circuit breaker at apply time',
              details: { reviewDeadline },
            }),
          ),
        ],
      }),
    );
    return { ...r, reviewDeadline };
  }
  return r;
}
