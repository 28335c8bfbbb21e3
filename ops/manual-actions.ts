/**
 * Operator actions that start a case rather than answer one: suspending an account no case covers, and re-opening
 * an overdue case. Both start an execution of the escalation workflow (OperatorPolicy: `states:StartExecution` on
 * that state machine only) with decision `review`, so everything a suspension needs happens where it always does:
 * the allowlist and shadow mode are honoured, a reviewer decides (the same person, when they also hold the
 * ReviewerPolicy, through the usual decide path), and the suspension, its keys, its event and its audit entries are
 * the workflow's. The request itself is audited under `OPS` with the operator's identity.
 * (A `restrict` action would start the same kind of case with its own decision.)
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { nextCaseId } from '../lambdas/detect/scorer-core';
import { WorkflowInput, assertId } from '../src/escalate/model';
import type { Operator } from './operator';
import { OperatorError } from '../lambdas/escalate/store';
import { NOT_STORED_YET } from '../lambdas/escalate/task-token-store';

const MAX_REASON = 1000;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkReason(reason: unknown): string {
  const r = typeof reason === 'string' ? reason.trim() : '';
  if (r.length < 3) throw new OperatorError(`a reason is required (at least 3 characters), got ${JSON.stringify(reason ?? '')}`);
  if (r.length > MAX_REASON || CONTROL.test(r))
    throw new OperatorError(`the reason must be at most ${MAX_REASON} printable characters, got ${r.length} characters`);
  return r;
}

async function freeCaseId(op: Operator, accountId: string): Promise<string> {
  const account = await op.store.getAccount(accountId);
  if (account?.openCaseId) throw new OperatorError(`account ${accountId} already has open case ${account.openCaseId}: decide that case`);
  if (account?.status === 'suspended')
    throw new OperatorError(
      `account ${accountId} is already suspended (until ${account.suspendedUntil ? new Date(account.suspendedUntil).toISOString() : '?'})`,
    );
  return nextCaseId(accountId, op.store.now(), account?.lastCaseId);
}

async function start(op: Operator, input: WorkflowInput): Promise<string> {
  const arn = op.resources.stateMachineArn;
  if (!arn) throw new OperatorError('the escalation state machine is unknown (stack output EscalationStateMachineArn)');
  const r = await op.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: input.caseId, input: JSON.stringify(input) }));
  return r.executionArn ?? '';
}

export interface StartedCase {
  caseId: string;
  executionArn: string;
}

/** Open a manual case for an account no case covers; a reviewer's approval then suspends it. */
export async function requestSuspension(op: Operator, accountId: string, reason: string): Promise<StartedCase> {
  assertId('accountId', accountId);
  const why = checkReason(reason);
  const actor = await op.identity();
  const caseId = await freeCaseId(op, accountId);
  const now = op.store.now();
  await op.store.putAudit(
    op.store.audit({ caseId: 'OPS', accountId, actor, action: 'manual-case-requested', reason: why, details: { caseId, decision: 'suspend' } }),
  );
  const executionArn = await start(op, {
    caseId,
    accountId,
    decision: 'review',
    score: 1,
    reasons: ['manual'],
    reasonDetails: [{ signal: 'manual', text: `suspension requested by ${actor}: ${why}` }],
    clusterId: null,
    relatedAccountIds: [],
    flaggedAt: now,
    evidence: { manual: { requestedBy: actor, reason: why } },
  });
  return { caseId, executionArn };
}

/** Re-open an overdue (or errored) case as a new case under review, with the same reasons and cluster. */
export async function reopenCase(op: Operator, caseId: string, reason: string): Promise<StartedCase & { reopened: string }> {
  assertId('caseId', caseId);
  const why = checkReason(reason);
  const c = await op.store.requireCase(caseId);
  if (c.state !== 'overdue')
    throw new OperatorError(
      `case ${caseId} is not overdue (state ${c.state}${c.outcome ? `, outcome ${c.outcome}` : ''}); only overdue cases can be re-opened`,
    );
  const actor = await op.identity();
  const newCaseId = await freeCaseId(op, c.accountId);
  await op.store.putAudit(
    op.store.audit({ caseId: 'OPS', accountId: c.accountId, actor, action: 'case-reopened', reason: why, details: { caseId, newCaseId } }),
  );
  const executionArn = await start(op, {
    caseId: newCaseId,
    accountId: c.accountId,
    decision: 'review',
    score: c.score,
    reasons: c.reasons,
    reasonDetails: c.reasonDetails ?? [],
    clusterId: c.clusterId,
    relatedAccountIds: c.relatedAccountIds ?? [],
    flaggedAt: c.flaggedAt,
    evidence: { reopened: { from: caseId, by: actor, reason: why } },
  });
  return { caseId: newCaseId, executionArn, reopened: caseId };
}

/** Wait (bounded) until a started case is under review, then decide it with the operator's decide path. */
export async function approveWhenReady(
  op: Operator,
  caseId: string,
  reason: string,
  timeoutMs = 60_000,
): Promise<Awaited<ReturnType<Operator['decide']>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await op.store.getCase(caseId);
    if (c && c.state !== 'open' && c.state !== 'review')
      throw new OperatorError(`case ${caseId} did not reach review (state ${c.state}, outcome ${c.outcome ?? '-'}: ${c.decisionReason ?? ''})`);
    if (c?.state === 'review') {
      try {
        return await op.decide(caseId, true, reason);
      } catch (err) {
        // The review task stores its token just after the case enters review (decide retries briefly on that too).
        if (!String((err as Error).message).includes(NOT_STORED_YET) || Date.now() > deadline) throw err;
      }
    }
    if (Date.now() > deadline)
      throw new OperatorError(`case ${caseId} is not under review after ${Math.round(timeoutMs / 1000)} s; approve it from the queue`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
