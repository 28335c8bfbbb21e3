/**
 * The reviewer's side of cluster cases, for the CLI (`distill-guard cluster …`) and the console, with the
 * reviewer's own credentials. `decideCluster` is one operator action for any cluster size: it records the
 * decision once, then answers each member's own review task, so every member still runs its own guardrails,
 * suspension transaction, audit entry and ban event. Each member's review is answered through the signed review
 * API (`completeMemberReviews`), as a single review is.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import {
  ClusterCaseHeader,
  ClusterMemberItem,
  ClusterProfile,
  FanOutPlan,
  clusterProfile,
  parseClusterDecision,
  planFanOut,
} from '../src/escalate/cluster-case';
import { AuditEntry, assertId } from '../src/escalate/model';
import type { ClusterDecisionRequest, ClusterDecisionResponse } from '../lambdas/escalate/cluster-handler';
import { ClusterStore } from '../lambdas/escalate/cluster-store';
import { Operator, OperatorError } from './operator';

/** Parallel review-API calls (each one SendTaskSuccess): well inside the Step Functions SendTask* token bucket (see docs/operations.md). */
const SEND_CONCURRENCY = 16;
/** Rounds and first pause for members the first pass did not reach (the pause doubles each round). */
const MEMBER_RETRY = { rounds: 2, pauseMs: 2_000 };

export interface ClusterCaseView {
  header: ClusterCaseHeader;
  members: (ClusterMemberItem & { caseState: string; outcome?: string })[];
  profile: ClusterProfile;
  audit: AuditEntry[];
}

export interface ClusterDecisionResult {
  clusterCaseId: string;
  approved: boolean;
  reviewer: string;
  resumed: boolean;
  decided: string[];
  excluded: { accountId: string; reason: string }[];
  skipped: FanOutPlan['skipped'];
  /** Members waiting for review whose task could not be answered now (decide again to resume). */
  notReached: { accountId: string; caseId: string; why: string }[];
  elapsedMs: number;
}

export async function listClusterCases(op: Operator, state: 'open' | 'decided' = 'open'): Promise<ClusterCaseHeader[]> {
  return new ClusterStore(op.store).list(state);
}

/** A cluster case: members with what links them and their case state, the intent profile, timeline and audit. */
export async function showCluster(op: Operator, id: string): Promise<ClusterCaseView> {
  const cs = new ClusterStore(op.store);
  const header = await cs.requireHeader(id);
  const [members, audit] = await Promise.all([cs.members(id), cs.auditTrail(id)]);
  const cases = await cs.memberCases(members.map((m) => m.caseId));
  return {
    header,
    members: members.map((m) => ({
      ...m,
      caseState: cases.get(m.caseId)?.state ?? 'missing',
      ...(cases.get(m.caseId)?.outcome ? { outcome: cases.get(m.caseId)!.outcome } : {}),
    })),
    profile: clusterProfile(members, header.scorerCluster),
    audit,
  };
}

/**
 * One decision for the whole cluster case, minus the excluded members (each with a reason). Deciding again with
 * the same answer resumes: it reaches the members still waiting for review.
 */
export async function decideCluster(
  op: Operator,
  id: string,
  raw: { approved: boolean; reason: string; exclude?: { accountId: string; reason: string }[] },
): Promise<ClusterDecisionResult> {
  const t0 = Date.now();
  assertId('clusterCaseId', id);
  const cs = new ClusterStore(op.store);
  const members = await cs.members(id);
  if (!members.length) throw new OperatorError(`cluster case ${id} not found or has no members`);
  let req;
  try {
    req = parseClusterDecision(
      { ...raw, exclude: raw.exclude ?? [] },
      members.map((m) => m.accountId),
    );
  } catch (err) {
    throw new OperatorError((err as Error).message);
  }
  const recorded = await invokeClusterDecision(op, {
    clusterCaseId: id,
    approved: req.approved,
    reason: req.reason,
    exclude: req.exclude,
    actor: await op.identity(),
  });
  const plan = planFanOut(members, await cs.memberCases(members.map((m) => m.caseId)), recorded.excluded);
  const d = recorded.decision;
  const output = { approved: d.approved, reason: d.reason, clusterCaseId: id };
  const { done, notReached } = await completeMemberReviews(op, plan.decide, output);
  return {
    clusterCaseId: id,
    approved: d.approved,
    reviewer: d.reviewer,
    resumed: recorded.resumed,
    decided: done,
    excluded: plan.excluded.map(({ accountId, reason }) => ({ accountId, reason })),
    skipped: plan.skipped,
    notReached,
    elapsedMs: Date.now() - t0,
  };
}

/** Record the decision through the stack's cluster decision function (reviewers do not write the table). */
async function invokeClusterDecision(op: Operator, req: ClusterDecisionRequest): Promise<Extract<ClusterDecisionResponse, { ok: true }>> {
  const fn = op.resources.clusterDecisionFunction;
  if (!fn)
    throw new OperatorError(
      'the cluster decision function is unknown (stack output EscalationClusterDecisionFunctionName); deploy the current stack',
    );
  const r = await op.lambda.send(new InvokeCommand({ FunctionName: fn, Payload: new TextEncoder().encode(JSON.stringify(req)) }));
  const text = r.Payload ? new TextDecoder().decode(r.Payload) : 'null';
  let out: ClusterDecisionResponse | { errorType?: string; errorMessage?: string } | null = null;
  try {
    out = JSON.parse(text);
  } catch {
    /* reported below */
  }
  if (r.FunctionError || !out || !('ok' in out)) {
    const e = (out ?? {}) as { errorType?: string; errorMessage?: string };
    throw new Error(`cluster decision function ${fn} failed: ${e.errorType ?? r.FunctionError ?? 'Error'}: ${e.errorMessage ?? text.slice(0, 300)}`);
  }
  if (!out.ok) throw new OperatorError(out.error);
  return out;
}

/**
 * Answer each member case's review through the review API, as a single review is answered: the API records the
 * signed caller as the reviewer and completes the member's task, with the cluster case named in the decision.
 * Members not reached are tried again `retryRounds` times, fewer at a time after a growing pause (a throttled or
 * overloaded API recovers); a member whose task was answered meanwhile is refused by the API and stays listed.
 */
export async function completeMemberReviews(
  op: Pick<Operator, 'decide'>,
  targets: { accountId: string; caseId: string }[],
  output: { approved: boolean; reason: string; clusterCaseId: string },
  retry: { rounds: number; pauseMs: number } = MEMBER_RETRY,
): Promise<{ done: string[]; notReached: { accountId: string; caseId: string; why: string }[] }> {
  const done: string[] = [];
  let todo = targets;
  let notReached: { accountId: string; caseId: string; why: string }[] = [];
  for (let round = 0; round <= retry.rounds && todo.length; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, retry.pauseMs * 2 ** (round - 1)));
    notReached = [];
    await pool(todo, Math.max(1, SEND_CONCURRENCY >> round), async (t) => {
      try {
        await op.decide(t.caseId, output.approved, output.reason, { clusterCaseId: output.clusterCaseId });
        done.push(t.accountId);
      } catch (err) {
        notReached.push({ ...t, why: `${(err as { name?: string }).name ?? 'Error'}: ${String((err as Error).message ?? '').slice(0, 200)}` });
      }
    });
    todo = notReached.map(({ accountId, caseId }) => ({ accountId, caseId }));
  }
  return { done: done.sort(), notReached };
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
