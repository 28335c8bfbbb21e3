/**
 * The reviewer's side of cluster cases, for the CLI (`distill-guard cluster …`) and the console, with the
 * reviewer's own credentials. `decideCluster` is one operator action for any cluster size: it records the
 * decision once, then answers each member's own review task, so every member still runs its own guardrails,
 * suspension transaction, audit entry and ban event. How a member's review task is completed is behind
 * `completeMemberReviews`, so it can move to the review API without touching the rest.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ClusterCaseHeader, ClusterMemberItem, ClusterProfile, FanOutPlan, clusterProfile, parseClusterDecision, planFanOut } from '../../src/escalate/cluster-case';
import { AuditEntry, assertId } from '../../src/escalate/model';
import type { ClusterDecisionRequest, ClusterDecisionResponse } from './cluster-handler';
import { ClusterStore } from './cluster-store';
import { Operator, OperatorError } from './operator';

/** Parallel SendTaskSuccess calls: well inside the Step Functions SendTask* token bucket (see docs/operations.md). */
const SEND_CONCURRENCY = 16;
/** How long the review messages of the members being decided stay hidden from other reviewers. */
const HOLD_SECONDS = 300;

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
    members: members.map((m) => ({ ...m, caseState: cases.get(m.caseId)?.state ?? 'missing', ...(cases.get(m.caseId)?.outcome ? { outcome: cases.get(m.caseId)!.outcome } : {}) })),
    profile: clusterProfile(members, header.scorerCluster),
    audit,
  };
}

/**
 * One decision for the whole cluster case, minus the excluded members (each with a reason). Deciding again with
 * the same answer resumes: it reaches the members still waiting for review.
 */
export async function decideCluster(op: Operator, id: string, raw: { approved: boolean; reason: string; exclude?: { accountId: string; reason: string }[] }): Promise<ClusterDecisionResult> {
  const t0 = Date.now();
  assertId('clusterCaseId', id);
  const cs = new ClusterStore(op.store);
  const members = await cs.members(id);
  if (!members.length) throw new OperatorError(`cluster case ${id} not found or has no members`);
  let req;
  try {
    req = parseClusterDecision({ ...raw, exclude: raw.exclude ?? [] }, members.map((m) => m.accountId));
  } catch (err) {
    throw new OperatorError((err as Error).message);
  }
  const recorded = await invokeClusterDecision(op, { clusterCaseId: id, approved: req.approved, reason: req.reason, exclude: req.exclude, actor: await op.identity() });
  const plan = planFanOut(members, await cs.memberCases(members.map((m) => m.caseId)), recorded.excluded);
  const d = recorded.decision;
  const output = { approved: d.approved, reviewer: d.reviewer, reason: d.reason, decidedAt: d.decidedAt, clusterCaseId: id };
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
  if (!fn) throw new OperatorError('the cluster decision function is unknown (stack output EscalationClusterDecisionFunctionName); deploy the current stack');
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
 * Answer the review task of each member case with the cluster decision (SendTaskSuccess, as a single review is
 * answered today). The tokens come from the review queue: it is read once, the members' messages are held while
 * they are answered, every other message is released at once.
 */
export async function completeMemberReviews(
  op: Operator,
  targets: { accountId: string; caseId: string }[],
  output: Record<string, unknown>,
): Promise<{ done: string[]; notReached: { accountId: string; caseId: string; why: string }[] }> {
  if (!targets.length) return { done: [], notReached: [] };
  const queueUrl = op.resources.reviewQueueUrl;
  if (!queueUrl) throw new OperatorError('the review queue url is unknown (stack output EscalationReviewQueueUrl)');
  const wanted = new Map(targets.map((t) => [t.caseId, t]));
  const found = await collectTokens(op, queueUrl, new Set(wanted.keys()));
  const done: string[] = [];
  const notReached: { accountId: string; caseId: string; why: string }[] = [];
  for (const t of targets) if (!found.has(t.caseId)) notReached.push({ ...t, why: 'no review message visible (another reviewer may hold it)' });
  const work = [...found.entries()];
  const answered: Message[] = [];
  await pool(work, SEND_CONCURRENCY, async ([caseId, { token, message }]) => {
    const t = wanted.get(caseId)!;
    try {
      await op.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
      done.push(t.accountId);
      answered.push(message);
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'Error';
      if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken') answered.push(message);
      else await release(op, queueUrl, [message]);
      notReached.push({ ...t, why: `${name}: ${String((err as Error).message ?? '').slice(0, 200)}` });
    }
  });
  for (let i = 0; i < answered.length; i += 10) {
    const batch = answered.slice(i, i + 10);
    await op.sqs
      .send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })) }))
      .catch(() => undefined);
  }
  return { done: done.sort(), notReached };
}

async function collectTokens(op: Operator, queueUrl: string, caseIds: Set<string>): Promise<Map<string, { token: string; message: Message }>> {
  const found = new Map<string, { token: string; message: Message }>();
  // Other cases' messages stay hidden only while the queue is read (seconds), then go back at once.
  const others: Message[] = [];
  try {
    for (let empty = 0; found.size < caseIds.size && empty < 2; ) {
      const r = await op.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: empty ? 1 : 0, VisibilityTimeout: HOLD_SECONDS }));
      const msgs = r.Messages ?? [];
      if (!msgs.length) {
        empty++;
        continue;
      }
      empty = 0;
      for (const m of msgs) {
        let body: { caseId?: unknown; taskToken?: unknown } = {};
        try {
          body = JSON.parse(m.Body ?? '{}');
        } catch {
          /* not a review message: leave it */
        }
        if (typeof body.caseId === 'string' && caseIds.has(body.caseId) && typeof body.taskToken === 'string' && !found.has(body.caseId)) {
          found.set(body.caseId, { token: body.taskToken, message: m });
        } else others.push(m);
      }
    }
  } finally {
    await release(op, queueUrl, others);
  }
  return found;
}

async function release(op: Operator, queueUrl: string, msgs: Message[]): Promise<void> {
  await Promise.all(msgs.map((m) => op.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })).catch(() => undefined)));
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}
