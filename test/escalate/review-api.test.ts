/**
 * A forged reviewer identity is impossible. In the synthesized stack, evaluated with test/lib/policy-eval.ts: no
 * principal but the review API's role may complete a review task, reviewers may only call the IAM-authenticated
 * function URL, and only that role may decrypt a stored task token. Run locally (the SigV4-verifying function URL,
 * the local KMS, the synthesized state machine): the recorded reviewer is the signed caller whatever the body says,
 * unsigned or badly signed calls never reach the function, and a raw SendTaskSuccess naming a reviewer is no approval.
 */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { synthStack } from '../lib/support';
import { evaluate } from '../lib/policy-eval';
import { Deployment, Harness } from './support/harness';
import { controlTableReads, useDeployment } from './support/workflow';
import { ReviewApiClient } from '../../lambdas/escalate/review-api-client';
import { localPrincipal } from '../../local/services/function-url';
import { LOCAL_CREDENTIALS } from '../../local/services/clients';
import { sweepReviewNotifications } from '../../lambdas/escalate/review-queue-sweeper';

jest.setTimeout(180_000);

// ---------------------------------------------------------------- IAM, on the whole synthesized stack

const { stack, template } = synthStack();
const json = template.toJSON() as { Resources: Record<string, any> };
const R = json.Resources;
const idOf = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as any);
const esc = stack.guard.escalation;
const stateMachineId = idOf(esc.stateMachine);
const apiFnId = idOf(esc.reviewApi.apiFunction);
const apiRoleId = R[apiFnId].Properties.Role['Fn::GetAtt'][0];
const stackKeyId = Object.keys(R).find((id) => R[id].Type === 'AWS::KMS::Key' && /DistillGuardKey/.test(id))!;

/** Every principal's statements: each role (its inline and attached policies), and each managed policy for people. */
function principals(): Map<string, any[]> {
  const out = new Map<string, any[]>();
  const add = (who: string, st: any[]) => out.set(who, [...(out.get(who) ?? []), ...st]);
  for (const [id, r] of Object.entries<any>(R)) {
    if (r.Type === 'AWS::IAM::Role')
      add(
        id,
        (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement),
      );
    if (r.Type === 'AWS::IAM::Policy') for (const role of r.Properties.Roles ?? []) add(role.Ref, r.Properties.PolicyDocument.Statement);
    if (r.Type === 'AWS::IAM::ManagedPolicy') {
      add(`people:${id}`, r.Properties.PolicyDocument.Statement);
      for (const role of r.Properties.Roles ?? []) add(role.Ref, r.Properties.PolicyDocument.Statement);
    }
  }
  const reviewer = [...out.keys()].find((k) => /^people:.*ReviewerPolicy/.test(k))!;
  const operator = [...out.keys()].find((k) => /^people:.*OperatorPolicy/.test(k))!;
  add('people:reviewer+operator', [...out.get(reviewer)!, ...out.get(operator)!]);
  return out;
}

/** Whether a statement's Resource entry covers the CloudFormation resource `logicalId` (or is a matching wildcard). */
const covers = (logicalId: string, arnLike: string) => (r: unknown) =>
  typeof r === 'string'
    ? new RegExp(`^${r.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(arnLike)
    : JSON.stringify(r).includes(`"${logicalId}"`);

describe('IAM: only the review API can complete a review task', () => {
  const all = principals();

  test('SendTaskSuccess, SendTaskHeartbeat: allowed to the review API role and to no other principal (people included); SendTaskFailure to none', () => {
    const sm = covers(stateMachineId, 'arn:aws:states:us-east-1:123456789012:stateMachine:Escalation');
    for (const action of ['states:SendTaskSuccess', 'states:SendTaskHeartbeat', 'states:SendTaskFailure']) {
      const allowed = [...all].filter(([, st]) => evaluate(st, { action, resource: sm }) === 'allow').map(([who]) => who);
      expect({ action, allowed }).toEqual({ action, allowed: action === 'states:SendTaskFailure' ? [] : [apiRoleId] });
    }
    expect(all.size).toBeGreaterThan(10); // the evaluation covered the stack's roles, not an empty set
  });

  test('reviewers call the function URL only with IAM auth, and cannot invoke the function around it', () => {
    const reviewer = [...all].find(([who]) => /^people:.*ReviewerPolicy/.test(who))![1];
    const fn = covers(apiFnId, 'arn:aws:lambda:us-east-1:123456789012:function:review-api');
    expect(evaluate(reviewer, { action: 'lambda:InvokeFunctionUrl', resource: fn, context: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } })).toBe(
      'allow',
    );
    expect(evaluate(reviewer, { action: 'lambda:InvokeFunctionUrl', resource: fn, context: { 'lambda:FunctionUrlAuthType': 'NONE' } })).toBe(
      'implicit-deny',
    );
    expect(evaluate(reviewer, { action: 'lambda:InvokeFunction', resource: fn })).toBe('implicit-deny');
    // The tools no longer touch the review queue.
    const queue = covers('x', 'arn:aws:sqs:us-east-1:123456789012:review');
    expect(evaluate(reviewer, { action: 'sqs:ReceiveMessage', resource: () => true })).toBe('implicit-deny');
    expect(evaluate(reviewer, { action: 'sqs:ReceiveMessage', resource: queue })).toBe('implicit-deny');
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [apiFnId, 'Arn'] } });
    template.hasOutput('EscalationReviewApiUrl', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReviewApi'), 'FunctionUrl'] } });
  });

  test('a stored task token can be decrypted by the review API role only, and encrypted by the review task role only', () => {
    const key = covers(stackKeyId, 'arn:aws:kms:us-east-1:123456789012:key/k');
    const ctx = { 'kms:EncryptionContext:purpose': 'review-task-token', 'kms:EncryptionContext:caseId': 'case-1' };
    const taskRoleId = R[idOf(esc.reviewApi.taskFunction)].Properties.Role['Fn::GetAtt'][0];
    const who = (action: string) => [...all].filter(([, st]) => evaluate(st, { action, resource: key, context: ctx }) === 'allow').map(([p]) => p);
    expect(who('kms:Decrypt')).toEqual([apiRoleId]);
    expect(who('kms:Encrypt')).toEqual([taskRoleId]);
  });
});

// ---------------------------------------------------------------- run locally

let h: Harness;
let dep: Deployment;

useDeployment('reviewapi', { breakerMaxPerHour: 100, reviewTimeout: Duration.hours(1) }, (started) => ({ h, dep } = started));

const CEO = 'arn:aws:sts::123456789012:assumed-role/Security/ceo';

function input(accountId: string, caseId: string) {
  return {
    caseId,
    accountId,
    decision: 'review',
    score: 0.81,
    reasons: ['synchronized-activity'],
    reasonDetails: [],
    clusterId: null,
    relatedAccountIds: [],
    flaggedAt: Date.now() - 60_000,
    evidence: {},
  };
}
const reads = controlTableReads(() => h);
const caseItem = (caseId: string) => reads.caseItem(dep, caseId);
const audit = async (caseId: string) => (await reads.audit(dep, caseId)) as Array<{ action: string; actor: string; details?: any }>;
async function openReview(accountId: string, caseId: string) {
  const exec = dep.start(input(accountId, caseId));
  const task = await h.sfn.waitForPendingTask('Review', exec, 30_000);
  // The task is pending as soon as the token exists; the review task function stores it a moment later.
  for (let i = 0; i < 200 && !(await caseItem(caseId)).reviewTask; i++) await new Promise((r) => setTimeout(r, 50));
  return { exec, task };
}

describe('the review API, run locally', () => {
  test('the recorded reviewer is the signed caller, even when the body claims another name', async () => {
    const { exec } = await openReview('acct-forge-body', 'case-forge-body');
    const alice = localPrincipal('alice');
    const api = new ReviewApiClient(dep.reviewApiUrl, 'us-east-1', alice);
    const r = await api.call<{ reviewer: string }>('decide', {
      caseId: 'case-forge-body',
      approved: true,
      reason: 'cluster with shared templates',
      reviewer: CEO,
      actor: CEO,
    });
    expect(r.reviewer).toBe(alice.arn);
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    const c = await caseItem('case-forge-body');
    expect(c).toMatchObject({ state: 'closed', outcome: 'suspended', decidedBy: alice.arn });
    const trail = await audit('case-forge-body');
    expect(trail.map((e) => `${e.action}:${e.actor}`)).toEqual(expect.arrayContaining([`review-approved:${alice.arn}`, `suspended:${alice.arn}`]));
    expect(JSON.stringify([c, trail])).not.toContain('ceo');
  });

  test('a raw SendTaskSuccess claiming a reviewer is not an approval, and the claimed name is never the actor', async () => {
    const { exec, task } = await openReview('acct-forge-raw', 'case-forge-raw');
    await h.sfn.sendTaskSuccess(
      task.taskToken,
      JSON.stringify({ approved: true, reviewer: CEO, reason: 'approved by the ceo', decidedAt: new Date().toISOString() }),
    );
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await caseItem('case-forge-raw')).toMatchObject({ state: 'closed', outcome: 'rejected' });
    const account = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: 'ACCOUNT#acct-forge-raw', sk: 'STATUS' } }))).Item!;
    expect(account.status).toBe('active');
    const trail = await audit('case-forge-raw');
    expect(trail.map((e) => e.actor)).not.toContain(CEO);
    expect(trail.map((e) => e.action)).not.toContain('suspended');
    const rejected = trail.find((e) => e.action === 'review-rejected')!;
    expect(rejected.actor).toBe('unknown');
    expect(rejected.details.note).toMatch(/without a decision signed through the review api/);
  });

  test('unsigned, unknown-key and badly signed requests get 403 and never reach the function; the case still waits', async () => {
    const { task } = await openReview('acct-unsigned', 'case-unsigned');
    const body = JSON.stringify({ caseId: 'case-unsigned', approved: true, reason: 'no signature' });
    const unsigned = await fetch(new URL('decide', dep.reviewApiUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(403);
    const unknown = new ReviewApiClient(dep.reviewApiUrl, 'us-east-1', { accessKeyId: 'AKIAUNKNOWNPRINCIPAL', secretAccessKey: 'x' });
    await expect(unknown.call('decide', { caseId: 'case-unsigned', approved: true, reason: 'unknown key' })).rejects.toThrow(
      /403.*security token included in the request is invalid/,
    );
    const wrongSecret = new ReviewApiClient(dep.reviewApiUrl, 'us-east-1', { ...localPrincipal('alice'), secretAccessKey: 'guessed' });
    await expect(wrongSecret.call('decide', { caseId: 'case-unsigned', approved: true, reason: 'forged signature' })).rejects.toThrow(
      /403.*signature we calculated does not match/,
    );
    const c = await caseItem('case-unsigned');
    expect(c.state).toBe('review');
    expect(c.reviewDecision).toBeUndefined();
    expect(h.sfn.pendingTasks().map((t) => t.taskToken)).toContain(task.taskToken);
    // Signed with the shared local credentials: the local operator principal decides.
    const r = await new ReviewApiClient(dep.reviewApiUrl, 'us-east-1', LOCAL_CREDENTIALS).call<{ reviewer: string }>('decide', {
      caseId: 'case-unsigned',
      approved: false,
      reason: 'clean up',
    });
    expect(r.reviewer).toBe('arn:aws:iam::000000000000:user/local-operator');
  });

  test('an event without a signed identity in its request context is refused by the function itself', async () => {
    await openReview('acct-noctx', 'case-noctx');
    const out = (await dep.invoke('reviewApiFn', {
      rawPath: '/decide',
      requestContext: { http: { method: 'POST' } },
      body: JSON.stringify({ caseId: 'case-noctx', approved: true, reason: 'no identity', reviewer: CEO }),
    })) as { statusCode: number; body: string };
    expect(out.statusCode).toBe(403);
    expect(out.body).toMatch(/no signed caller identity in the request context, got null/);
    expect((await caseItem('case-noctx')).reviewDecision).toBeUndefined();
    await dep.operator('local:cleanup').decide('case-noctx', false, 'clean up');
  });

  test('the token is stored encrypted with its case, the queue message carries none, and a second decision is refused', async () => {
    const { exec, task } = await openReview('acct-token', 'case-token');
    const c = await caseItem('case-token');
    expect(c.reviewTask.ciphertext).toEqual(expect.any(String));
    expect(JSON.stringify(c)).not.toContain(task.taskToken);
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: h.sqs.endpoint, credentials: LOCAL_CREDENTIALS });
    const msgs: Message[] = [];
    for (let i = 0; i < 10 && !msgs.some((m) => JSON.parse(m.Body!).caseId === 'case-token'); i++) {
      msgs.push(
        ...((await sqs.send(new ReceiveMessageCommand({ QueueUrl: dep.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))).Messages ?? []),
      );
    }
    sqs.destroy();
    expect(msgs.map((m) => JSON.parse(m.Body!).caseId)).toContain('case-token');
    for (const m of msgs) {
      expect(m.Body).not.toContain(task.taskToken);
      expect(JSON.parse(m.Body!).taskToken).toBeUndefined();
    }
    expect(h.kms.calls().Encrypt).toBeGreaterThan(0);
    await dep.operator('local:bob').decide('case-token', false, 'organic growth');
    await expect(dep.operator('local:mallory').decide('case-token', true, 'overrule bob')).rejects.toThrow(
      /already decided by arn:aws:iam::000000000000:user\/bob|not waiting for review \(state closed, outcome rejected\)/,
    );
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    expect(await caseItem('case-token')).toMatchObject({ outcome: 'rejected', decidedBy: 'arn:aws:iam::000000000000:user/bob' });
  });

  test('a failed review task ends the case as an error that names its cause, never as the anonymous auto', async () => {
    const { exec, task } = await openReview('acct-taskfail', 'case-taskfail');
    h.sfn.sendTaskFailure(task.taskToken, 'Forged.Failure', 'a probe ended the task');
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('FAILED');
    expect(await caseItem('case-taskfail')).toMatchObject({ outcome: 'error', decidedBy: 'error: Forged.Failure' });
    expect((await audit('case-taskfail')).find((e) => e.action === 'case-error')).toMatchObject({ actor: 'error: Forged.Failure' });
  });

  test("the expirer deletes the review notifications of cases no longer waiting, and hides a waiting case's until its deadline", async () => {
    await openReview('acct-sweep', 'case-sweep-open');
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: h.sqs.endpoint, credentials: LOCAL_CREDENTIALS });
    try {
      const r = await sweepReviewNotifications(dep.store(), sqs, dep.queueUrl);
      expect(r.deleted).toBeGreaterThan(0); // the closed cases of the tests above
      expect(r.kept).toBeGreaterThanOrEqual(1);
      const left = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: dep.queueUrl, MaxNumberOfMessages: 10 }))).Messages ?? [];
      expect(left.map((m) => JSON.parse(m.Body!).caseId)).not.toContain('case-sweep-open');
      // The expirer's role may consume the queue (and only it, besides nothing else reading it).
      const expirerRole = R[idOf(esc.expirerFunction)].Properties.Role['Fn::GetAtt'][0];
      const queueId = idOf(esc.reviewQueue);
      const receivers = [...principals()]
        .filter(
          ([, st]) =>
            evaluate(st, { action: 'sqs:ReceiveMessage', resource: covers(queueId, 'arn:aws:sqs:us-east-1:123456789012:review') }) === 'allow',
        )
        .map(([p]) => p);
      expect(receivers).toEqual([expirerRole]);
    } finally {
      sqs.destroy();
      await dep.operator('local:cleanup').decide('case-sweep-open', false, 'clean up');
    }
  });
});
