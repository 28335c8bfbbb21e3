/**
 * Cluster cases on the synthesized escalation state machine, run locally: a 1,000-member cluster is decided in
 * one operator action, each member through its own guardrails, audit entry and ban event (all with the
 * clusterId); excluded and allowlisted members are not suspended; a member that joins after the decision
 * opens a new cluster case linked to the decided one. Prints how long the decision took end to end.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { QueryCommand, ScanCommand, ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { Deployment, Harness } from './support/harness';
import { clusterMemberInput, useDeployment } from './support/workflow';
import { decideCluster, listClusterCases, showCluster } from '../../ops/cluster-operator';

const MEMBERS = Number(process.env.CLUSTER_MEMBERS ?? 1000);
jest.setTimeout(1_200_000);

let h: Harness;
let dep: Deployment;

// The breaker counts every member of a cluster decision: the limit must cover the cluster.
useDeployment('cluster', { breakerMaxPerHour: MEMBERS + 100 }, (started) => ({ h, dep } = started));

const acct = (i: number) => `hydra-${String(i).padStart(4, '0')}`;

const input = (accountId: string, clusterId: string) =>
  clusterMemberInput(accountId, clusterId, 40, {
    size: MEMBERS,
    reasons: ['synchronized-activity'],
    evidence: { pivot: { model: 'claude-opus-5', movers: 12 } },
  });

async function scanAll(filter: string, values: Record<string, unknown>): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r: ScanCommandOutput = await h.doc.send(
      new ScanCommand({ TableName: dep.controlTable, FilterExpression: filter, ExpressionAttributeValues: values, ExclusiveStartKey: start }),
    );
    out.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

async function waitFor(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 900_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const reviewsWaiting = () => h.sfn.pendingTasks().filter((t) => t.stateName === 'Review' && t.executionArn.includes(':cluster:')).length;

describe('cluster cases (synthesized ASL, run locally)', () => {
  test(`one decision on a ${MEMBERS}-member cluster: every member through its own guardrails, audit entry and ban event`, async () => {
    const keys = new Map<string, string>();
    for (let i = 0; i < MEMBERS; i++) keys.set(acct(i), h.apigw.createApiKey({ name: `${acct(i)}-k`, customerId: acct(i), enabled: true }).id);
    // Allowlisted after its case opened: the decision reaches it, ApplySuspension's own allowlist check refuses.
    const allowlisted = acct(7);
    const excluded = acct(3);

    const t0 = Date.now();
    const execs = Array.from({ length: MEMBERS }, (_, i) => dep.start(input(acct(i), 'c-hydra')));
    await waitFor(`${MEMBERS} reviews`, () => reviewsWaiting() >= MEMBERS);
    console.log(`cluster cases: ${MEMBERS} member cases recorded, routed and waiting for review in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const op = dep.operator('local:reviewer-bob');
    const open = await listClusterCases(op);
    expect(open.map((c) => c.clusterCaseId)).toEqual(['c-hydra.g1']);
    const view = await showCluster(op, 'c-hydra.g1');
    expect(view.members).toHaveLength(MEMBERS);
    expect(view.members.every((m) => m.caseState === 'review')).toBe(true);
    expect(view.members[0].signals[0]).toMatch(/same minutes as 40 accounts/);
    expect(view.profile.pivot).toEqual({ model: 'claude-opus-5', movers: 12 });
    expect(view.header.linkedCaseId).toBeNull();

    await op.allowlistAdd(allowlisted, 'team-research', 'red-team contract', Date.now() + 86_400_000);
    await expect(decideCluster(op, 'c-hydra.g1', { approved: true, reason: 'ok', exclude: [] })).rejects.toThrow(/reason is required/);
    await expect(
      decideCluster(op, 'c-hydra.g1', { approved: true, reason: 'one hydra', exclude: [{ accountId: 'stranger', reason: 'not ours' }] }),
    ).rejects.toThrow(/"stranger" is not a member/);

    const t1 = Date.now();
    const d = await decideCluster(op, 'c-hydra.g1', {
      approved: true,
      reason: 'one hydra: shared templates, minute-level sync',
      exclude: [{ accountId: excluded, reason: 'our own load-test account' }],
    });
    const decidedIn = Date.now() - t1;
    expect(d.decided).toHaveLength(MEMBERS - 1);
    expect(d.notReached).toEqual([]);
    expect(d.excluded).toEqual([{ accountId: excluded, reason: 'our own load-test account' }]);
    await Promise.all(execs.filter((_, i) => i !== 3).map((e) => h.sfn.waitForExecution(e, 900_000)));
    const total = Date.now() - t1;
    console.log(
      `cluster cases: decision on ${MEMBERS} members (1 excluded): tasks answered in ${(decidedIn / 1000).toFixed(1)} s, ` +
        `all member executions finished (guardrails, keys, suspension transaction, audit, outbox) ${(total / 1000).toFixed(1)} s after the decision`,
    );

    // Every member but the excluded and the allowlisted one is suspended, with its own audit entry and ban event.
    const statuses = await scanAll('begins_with(pk, :a) AND sk = :s', { ':a': 'ACCOUNT#hydra-', ':s': 'STATUS' });
    const suspended = statuses.filter((s) => s.status === 'suspended').map((s) => s.accountId as string);
    expect(suspended).toHaveLength(MEMBERS - 2);
    expect(suspended).not.toContain(excluded);
    expect(suspended).not.toContain(allowlisted);
    expect(h.apigw.apiKeys().find((k) => k.id === keys.get(acct(0)))!.enabled).toBe(false);
    expect(h.apigw.apiKeys().find((k) => k.id === keys.get(excluded))!.enabled).toBe(true);
    expect(h.apigw.apiKeys().find((k) => k.id === keys.get(allowlisted))!.enabled).toBe(true);

    const events = (await scanAll('begins_with(pk, :o) AND detailType = :t', { ':o': 'OUTBOX#', ':t': 'Account Suspended' })).map((e) =>
      JSON.parse(e.detail),
    );
    const clusterEvents = events.filter((e) => String(e.accountId).startsWith('hydra-'));
    expect(new Set(clusterEvents.map((e) => e.accountId)).size).toBe(MEMBERS - 2);
    expect(clusterEvents.every((e) => e.clusterId === 'c-hydra' && e.decidedBy === 'arn:aws:iam::000000000000:user/reviewer-bob')).toBe(true);

    const suspendedAudits = (await scanAll('begins_with(pk, :c) AND begins_with(sk, :a)', { ':c': 'CASE#case-hydra-', ':a': 'AUDIT#' })).filter(
      (a) => a.action === 'suspended',
    );
    expect(suspendedAudits).toHaveLength(MEMBERS - 2);
    expect(suspendedAudits.every((a) => a.details.clusterId === 'c-hydra' && a.details.clusterCaseId === 'c-hydra.g1')).toBe(true);

    // Escalating durations still apply per member: each is a first offence here.
    expect(statuses.filter((s) => s.status === 'suspended').every((s) => s.offences === 1)).toBe(true);
    // The breaker counted each member.
    const breaker = await op.breakerStatus({ withActive: false });
    expect(breaker.counts.current + breaker.counts.previous).toBeGreaterThanOrEqual(MEMBERS - 2);

    // The excluded member is untouched: its case still waits for its own review.
    expect(h.sfn.pendingTasks().filter((t) => t.stateName === 'Review' && t.executionArn === execs[3])).toHaveLength(1);
    const after = await showCluster(op, 'c-hydra.g1');
    expect(after.header).toMatchObject({ state: 'decided', decision: { approved: true, reviewer: 'local:reviewer-bob', excluded: 1 } });
    expect(after.members.find((m) => m.accountId === excluded)).toMatchObject({ excludedReason: 'our own load-test account', caseState: 'review' });
    expect(after.audit.map((a) => `${a.action}:${a.accountId}`)).toEqual(
      expect.arrayContaining([`cluster-member-excluded:${excluded}`, 'cluster-decided:-']),
    );

    // Deciding again resumes (nothing left to reach); a different answer is refused.
    const again = await decideCluster(op, 'c-hydra.g1', { approved: true, reason: 'resume', exclude: [] });
    expect(again).toMatchObject({ resumed: true, decided: [] });
    await expect(decideCluster(op, 'c-hydra.g1', { approved: false, reason: 'changed my mind', exclude: [] })).rejects.toThrow(/already approved/);

    // A member that joins after the decision opens a new cluster case, linked to the decided one.
    const late = dep.start(input('hydra-late', 'c-hydra'));
    await h.sfn.waitForPendingTask('Review', late, 60_000);
    const next = await showCluster(op, 'c-hydra.g2');
    expect(next.header).toMatchObject({ state: 'open', linkedCaseId: 'c-hydra.g1' });
    expect(next.members.map((m) => m.accountId)).toEqual(['hydra-late']);
    const r = await decideCluster(op, 'c-hydra.g2', { approved: false, reason: 'not enough on its own yet', exclude: [] });
    expect(r.decided).toEqual(['hydra-late']);
    expect((await h.sfn.waitForExecution(late, 60_000)).status).toBe('SUCCEEDED');
    const lateStatus = (
      await h.doc.send(
        new QueryCommand({
          TableName: dep.controlTable,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': 'ACCOUNT#hydra-late' },
        }),
      )
    ).Items?.[0];
    expect(lateStatus?.status).toBe('active');
  });

  test('the breaker counts every member of a cluster decision: past its limit the rest go back to their own review', async () => {
    const small = await h.deploy('cluster-breaker', { breakerMaxPerHour: 2 });
    const ids = ['bk-1', 'bk-2', 'bk-3', 'bk-4', 'bk-5'];
    for (const id of ids) h.apigw.createApiKey({ name: `${id}-k`, customerId: id, enabled: true });
    const execs = ids.map((id) => small.start(input(id, 'c-breaker')));
    await waitFor(
      '5 reviews',
      () => h.sfn.pendingTasks().filter((t) => t.stateName === 'Review' && t.executionArn.includes(':cluster-breaker:')).length >= 5,
      120_000,
    );
    const op = small.operator('local:reviewer-carol');
    // The function checks the decision itself, whatever the tool sent: bad input is an answer, not a failure.
    const invoke = async (payload: unknown) => {
      const r = await op.lambda.send(
        new InvokeCommand({ FunctionName: small.clusterDecisionFunction, Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
      );
      return { functionError: r.FunctionError, out: JSON.parse(new TextDecoder().decode(r.Payload)) };
    };
    expect(await invoke({ clusterCaseId: 'c-breaker.g1', approved: true, reason: 'no', actor: 'x' })).toEqual({
      out: { ok: false, error: expect.stringMatching(/reason is required .* got "no"/) },
    });
    expect(
      await invoke({
        clusterCaseId: 'c-breaker.g1',
        approved: true,
        reason: 'one small hydra',
        exclude: [{ accountId: 'bk-9', reason: 'not here' }],
        actor: 'x',
      }),
    ).toEqual({ out: { ok: false, error: expect.stringMatching(/"bk-9" is not a member/) } });
    expect(await invoke({ clusterCaseId: 'c-breaker.g1', approved: true, reason: 'one small hydra', actor: '' })).toEqual({
      out: { ok: false, error: expect.stringMatching(/actor must be/) },
    });
    expect((await showCluster(op, 'c-breaker.g1')).header.state).toBe('open');
    const d = await decideCluster(op, 'c-breaker.g1', { approved: true, reason: 'one small hydra', exclude: [] });
    expect(d.decided).toHaveLength(5);
    // Two suspensions fit the limit; the others are refused by the breaker and wait for review again.
    const settled = (e: string) => h.sfn.describeExecution(e).status !== 'RUNNING' || h.sfn.pendingTasks(e).some((t) => t.stateName === 'Review');
    await waitFor('every member suspended or back in review', () => execs.every(settled), 120_000);
    const statuses = await Promise.all(
      ids.map(
        async (id) =>
          (
            await h.doc.send(
              new QueryCommand({
                TableName: small.controlTable,
                KeyConditionExpression: 'pk = :p',
                ExpressionAttributeValues: { ':p': `ACCOUNT#${id}` },
              }),
            )
          ).Items?.[0]?.status,
      ),
    );
    expect(statuses.filter((s) => s === 'suspended')).toHaveLength(2);
    expect((await op.breakerStatus({ withActive: false })).tripped).toBe(true);
    const view = await showCluster(op, 'c-breaker.g1');
    expect(view.members.filter((m) => m.caseState === 'review')).toHaveLength(3);
    for (const e of execs) expect(h.sfn.describeExecution(e).status).not.toBe('FAILED');
  });
});
