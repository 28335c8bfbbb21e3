/**
 * The queue as reviewers work it, on the synthesized workflow run locally (DynamoDB Local, local Step Functions):
 * sort, filter and find; claims (others see a case is taken, `next` skips it); the audit trail across cases;
 * reviewer feedback counted per signal and reason combination (once per case, also when a step is retried);
 * manual suspension of an account no case covers; re-opening an overdue case.
 */
import { Duration } from 'aws-cdk-lib';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Deployment, Harness } from './support/harness';
import { useDeployment } from './support/workflow';
import { claimCase, claimNext, queueView, releaseClaim } from '../../ops/queue-query';
import { auditCsv, csvCell, listAudit } from '../../ops/audit-query';
import { recordFeedback } from '../../lambdas/escalate/feedback';
import { signalFeedback } from '../../ops/feedback-query';
import { approveWhenReady, reopenCase, requestSuspension } from '../../ops/manual-actions';
import { feedbackSignals, summarizeFeedback } from '../../src/escalate/feedback';
import { nextCase, sortQueue } from '../../src/escalate/queue-view';

jest.setTimeout(240_000);

let h: Harness;
let dep: Deployment;
const HOUR = 3_600_000;

function input(
  accountId: string,
  caseId: string,
  o: { score?: number; reasons?: string[]; decision?: 'review' | 'suspend'; cluster?: string; related?: string[] } = {},
) {
  return {
    caseId,
    accountId,
    decision: o.decision ?? 'review',
    score: o.score ?? 0.8,
    reasons: o.reasons ?? ['shared-templates'],
    clusterId: o.cluster ?? null,
    relatedAccountIds: o.related ?? [],
    flaggedAt: Date.now() - HOUR,
    evidence: {},
  };
}

async function seed(accountId: string) {
  await h.doc.send(
    new PutCommand({
      TableName: dep.featuresTable,
      Item: { pk: `A#${accountId}`, sk: `W#${String(Math.floor(Date.now() / HOUR) * HOUR).padStart(13, '0')}`, n: 10, 'm:claude-opus-5': 10 },
    }),
  );
}

async function review(accountId: string, caseId: string, o: Parameters<typeof input>[2] = {}): Promise<string> {
  await seed(accountId);
  const exec = dep.start(input(accountId, caseId, o));
  await h.sfn.waitForPendingTask('Review', exec, 30_000);
  return exec;
}

useDeployment('queueux', undefined, (started) => ({ h, dep } = started));

describe('queue view and claims', () => {
  const execs: string[] = [];
  beforeAll(async () => {
    execs.push(await review('acct-q1', 'case-q1', { score: 0.71, reasons: ['model-pivot'] }));
    execs.push(
      await review('acct-q2', 'case-q2', {
        score: 0.95,
        reasons: ['shared-templates', 'synchronized-activity'],
        cluster: 'c-9',
        related: ['acct-q3', 'acct-x1', 'acct-x2'],
      }),
    );
    execs.push(await review('acct-q3', 'case-q3', { score: 0.83, reasons: ['shared-templates'], cluster: 'c-9', related: ['acct-q2'] }));
  });
  afterAll(async () => {
    const op = dep.operator('local:cleanup');
    for (const c of ['case-q1', 'case-q2', 'case-q3']) await op.decide(c, false, 'test clean-up').catch(() => undefined);
    for (const e of execs) await h.sfn.waitForExecution(e, 30_000);
    op.destroy();
  });

  test('sort by age, score, cluster size; filter by reason, decision, cluster; find by account or case id', async () => {
    const op = dep.operator('local:alice');
    const ids = async (o: Parameters<typeof queueView>[1]) => (await queueView(op, o)).map((e) => e.caseId).filter((c) => c.startsWith('case-q'));
    expect(await ids({})).toEqual(['case-q1', 'case-q2', 'case-q3']); // oldest first
    expect(await ids({ sort: 'score' })).toEqual(['case-q2', 'case-q3', 'case-q1']);
    expect(await ids({ sort: 'cluster' })).toEqual(['case-q2', 'case-q3', 'case-q1']);
    expect(await ids({ reason: 'model-pivot' })).toEqual(['case-q1']);
    expect(await ids({ reason: 'shared-templates', sort: 'score' })).toEqual(['case-q2', 'case-q3']);
    expect(await ids({ cluster: 'c-9' })).toEqual(['case-q2', 'case-q3']);
    expect(await ids({ find: 'ACCT-Q1' })).toEqual(['case-q1']);
    expect(await ids({ find: 'case-q2' })).toEqual(['case-q2']);
    expect(await ids({ decision: 'suspend' })).toEqual([]);
    expect(await ids({ decision: 'review', states: ['overdue'] })).toEqual([]);
    const q2 = (await queueView(op, { find: 'case-q2' }))[0];
    expect(q2).toMatchObject({ clusterId: 'c-9', clusterSize: 4, claim: null });
    op.destroy();
  });

  test('a claimed case shows who holds it; another reviewer cannot claim it and `next` skips it', async () => {
    const alice = dep.operator('local:alice');
    const bob = dep.operator('local:bob');
    const c = await claimCase(alice, 'case-q1');
    expect(c).toMatchObject({ caseId: 'case-q1', by: 'local:alice' });
    expect((await queueView(bob, { find: 'case-q1' }))[0].claim).toMatchObject({ by: 'local:alice' });
    await expect(claimCase(bob, 'case-q1')).rejects.toThrow(/case case-q1 is claimed by local:alice until/);
    // renewing one's own claim is fine
    await expect(claimCase(alice, 'case-q1')).resolves.toMatchObject({ by: 'local:alice' });
    // bob's next case (oldest first) is not alice's
    const n = await claimNext(bob, {});
    expect(n?.entry.caseId).not.toBe('case-q1');
    expect(n?.claim.by).toBe('local:bob');
    // bob's release does not release alice's claim
    await releaseClaim(bob, 'case-q1');
    await expect(claimCase(bob, 'case-q1')).rejects.toThrow(/claimed by local:alice/);
    await releaseClaim(alice, 'case-q1');
    await expect(claimCase(bob, 'case-q1')).resolves.toMatchObject({ by: 'local:bob' });
    // an expired claim no longer holds the case
    await claimCase(bob, 'case-q2', -5000);
    expect((await queueView(alice, { find: 'case-q2' }))[0].claim).toBeNull();
    await expect(claimCase(alice, 'case-q2')).resolves.toMatchObject({ by: 'local:alice' });
    // only cases under review can be claimed
    await expect(claimCase(alice, 'case-nope')).rejects.toThrow(/case case-nope not found/);
    for (const c2 of ['case-q1', 'case-q2', 'case-q3']) {
      await releaseClaim(alice, c2);
      await releaseClaim(bob, c2);
    }
    alice.destroy();
    bob.destroy();
  });
});

test("queue view helpers: sort by deadline, next wraps around and skips others' live claims", () => {
  const e = (caseId: string, createdAt: string, o: Partial<Parameters<typeof sortQueue>[0][number]> = {}) => ({
    caseId,
    accountId: caseId,
    state: 'review',
    decision: 'review',
    score: 0.5,
    reasons: [],
    createdAt,
    clusterId: null,
    clusterSize: 1,
    ...o,
  });
  const now = Date.parse('2026-01-01T12:00:00Z');
  const entries = [
    e('a', '2026-01-01T01:00:00Z', { reviewDeadline: '2026-01-02T05:00:00Z' }),
    e('b', '2026-01-01T02:00:00Z', { reviewDeadline: '2026-01-02T01:00:00Z', claim: { by: 'bob', until: '2026-01-01T12:10:00Z' } }),
    e('c', '2026-01-01T03:00:00Z', { reviewDeadline: '2026-01-02T03:00:00Z', claim: { by: 'bob', until: '2026-01-01T11:00:00Z' } }),
  ];
  expect(sortQueue(entries, 'deadline').map((x) => x.caseId)).toEqual(['b', 'c', 'a']);
  expect(nextCase(entries, 'alice', now)?.caseId).toBe('a');
  expect(nextCase(entries, 'alice', now, 'a')?.caseId).toBe('c'); // b is bob's, c's claim expired
  expect(nextCase(entries, 'alice', now, 'c')?.caseId).toBe('a'); // wraps around
  expect(nextCase(entries, 'bob', now, 'a')?.caseId).toBe('b');
  expect(nextCase([entries[0]], 'alice', now, 'a')).toBeUndefined();
});

describe('reviewer feedback', () => {
  test('approvals confirm, rejections and reinstatements overturn, per signal and per combination; counted once', async () => {
    const op = dep.operator('local:alice');
    // signal names of their own: other tests' decisions count too
    const e1 = await review('acct-f1', 'case-f1', { reasons: ['fb-cot', 'fb-templates'] });
    const e2 = await review('acct-f2', 'case-f2', { reasons: ['fb-cot'] });
    const e3 = await review('acct-f3', 'case-f3', { reasons: ['fb-pivot', 'fb-cot'] });
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      await op.decide('case-f1', true, 'confirmed: templates');
      await op.decide('case-f2', false, 'organic launch traffic');
      await op.decide('case-f3', true, 'confirmed: pivot');
      for (const e of [e1, e2, e3]) expect((await h.sfn.waitForExecution(e, 30_000)).status).toBe('SUCCEEDED');
      await op.reinstate('acct-f3', 'appeal granted');
    } finally {
      spy.mockRestore();
    }
    const r = await signalFeedback(op.store);
    const by = (name: string) => r.signals.find((s) => s.name === name);
    expect(by('fb-cot')).toMatchObject({ approved: 2, rejected: 1, reinstatedReviewed: 1, confirmed: 1, overturned: 2 });
    expect(by('fb-cot')!.overturnRate).toBeCloseTo(2 / 3);
    expect(by('fb-templates')).toMatchObject({ approved: 1, rejected: 0, confirmed: 1, overturned: 0, overturnRate: 0 });
    expect(by('fb-pivot')).toMatchObject({ approved: 1, reinstatedReviewed: 1, confirmed: 0, overturned: 1, overturnRate: 1 });
    expect(
      r.combinations
        .map((c) => c.name)
        .filter((n) => n.startsWith('fb-'))
        .sort(),
    ).toEqual(['fb-cot+fb-pivot', 'fb-cot+fb-templates']);
    // highest overturn rate first
    expect(r.signals.map((x) => x.name).indexOf('fb-pivot')).toBeLessThan(r.signals.map((x) => x.name).indexOf('fb-cot'));
    expect(r.signals.map((x) => x.name).indexOf('fb-cot')).toBeLessThan(r.signals.map((x) => x.name).indexOf('fb-templates'));

    // the same decision again (a retried step) is not counted twice
    const again = await recordFeedback(dep.store(), { caseId: 'case-f1', kind: 'approved' });
    expect(again).toMatchObject({ duplicate: true, signals: [] });
    expect((await signalFeedback(op.store)).signals.find((s) => s.name === 'fb-templates')).toMatchObject({ approved: 1 });

    // published as metrics with the signal as a dimension (EMF on stdout)
    const emf = out
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    const metric = (name: string, signal: string) =>
      emf.filter((m) => m.signal === signal && m[name] === 1 && m._aws.CloudWatchMetrics[0].Dimensions[0].includes('signal'));
    expect(metric('ReviewerConfirmed', 'fb-templates')).toHaveLength(1);
    expect(metric('ReviewerConfirmed', 'fb-cot')).toHaveLength(2);
    expect(metric('ReviewerOverturned', 'fb-cot')).toHaveLength(2);
    expect(metric('ReviewerOverturned', 'fb-pivot')).toHaveLength(1);
    op.destroy();
  });

  test('what is counted: distinct, well-formed signals; manual cases are not a signal', () => {
    expect(feedbackSignals(['b', 'a', 'b', 'manual', 'x y', 42])).toEqual(['a', 'b']);
    expect(summarizeFeedback({ gsi1sk: 'combo#a+b', approved: 3, reinstatedReviewed: 1, reinstatedAuto: 2, rejected: 1 })).toMatchObject({
      scope: 'combo',
      name: 'a+b',
      confirmed: 2,
      overturned: 4,
    });
  });
});

describe('audit list', () => {
  test('entries across cases, newest first, filtered by actor, account, action and time', async () => {
    const op = dep.operator('local:carol');
    await op.allowlistAdd('acct-al1', 'team-x', 'partner contract', Date.now() + 86_400_000);
    await op.allowlistRemove('acct-al1', 'contract ended');
    const store = op.store;
    const mine = await listAudit(store, { actor: 'carol' });
    expect(mine.map((e) => e.action)).toEqual(['allowlist-removed', 'allowlist-added']);
    expect(mine[0]).toMatchObject({ caseId: 'OPS', accountId: 'acct-al1', actor: 'local:carol', reason: 'contract ended' });
    expect(mine[0]).not.toHaveProperty('gsi1pk');
    const account = await listAudit(store, { accountId: 'acct-al1', action: 'allowlist-added' });
    expect(account).toHaveLength(1);
    // the workflow's entries are there too, across cases
    const all = await listAudit(store, {});
    expect(new Set(all.map((e) => e.caseId)).size).toBeGreaterThan(2);
    expect(all.map((e) => e.at)).toEqual([...all.map((e) => e.at)].sort().reverse());
    expect(await listAudit(store, { sinceMs: Date.now() + HOUR, untilMs: Date.now() + 2 * HOUR })).toEqual([]);
    await expect(listAudit(store, { sinceMs: Date.now() - 400 * 86_400_000 })).rejects.toThrow(/at most 366 days, got 400/);
    op.destroy();
  });

  test('CSV export: quoted, and text a spreadsheet would run as a formula is neutralised', () => {
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    for (const v of ['+1', '-2+3', '@SUM(A1)', '\t=1']) expect(csvCell(v).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell({ k: 1 })).toBe('"{""k"":1}"');
    const csv = auditCsv([
      {
        pk: 'CASE#c',
        sk: 'AUDIT#x',
        caseId: 'c',
        accountId: 'a',
        at: '2026-01-01T00:00:00.000Z',
        actor: 'local:x',
        action: 'reinstated',
        reason: 'line1\nline2',
      },
    ]);
    expect(csv).toBe('at,actor,action,caseId,accountId,reason,details\r\n2026-01-01T00:00:00.000Z,local:x,reinstated,c,a,"line1\nline2",\r\n');
  });
});

describe('manual actions', () => {
  test('suspend an account no case covers: a manual case, approved, applied by the workflow; audited', async () => {
    const key = h.apigw.createApiKey({ name: 'k-man', customerId: 'acct-man', enabled: true });
    const op = dep.operator('local:dave');
    const started = await requestSuspension(op, 'acct-man', 'abuse report T-991 confirmed by trust and safety');
    const r = await approveWhenReady(op, started.caseId, 'abuse report T-991 confirmed by trust and safety');
    expect(r).toMatchObject({ approved: true, reviewer: 'arn:aws:iam::000000000000:user/dave' });
    expect((await h.sfn.waitForExecution(started.executionArn, 30_000)).status).toBe('SUCCEEDED');
    const acct = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: 'ACCOUNT#acct-man', sk: 'STATUS' } }))).Item!;
    expect(acct).toMatchObject({ status: 'suspended', suspendedBy: 'arn:aws:iam::000000000000:user/dave', lastCaseId: started.caseId });
    expect(h.apigw.apiKeys().find((k) => k.id === key.id)!.enabled).toBe(false);
    const c = (await op.show(started.caseId)).case;
    expect(c).toMatchObject({ reasons: ['manual'], outcome: 'suspended' });
    expect((await listAudit(op.store, { accountId: 'acct-man', action: 'manual-case-requested' }))[0]).toMatchObject({
      actor: 'local:dave',
      details: { caseId: started.caseId },
    });
    // a suspended account, or one with a case open, is refused
    await expect(requestSuspension(op, 'acct-man', 'again please')).rejects.toThrow(/account acct-man is already suspended/);
    await review('acct-open', 'case-open');
    await expect(requestSuspension(op, 'acct-open', 'double')).rejects.toThrow(/account acct-open already has open case case-open: decide that case/);
    await expect(requestSuspension(op, 'acct-x', '')).rejects.toThrow(/a reason is required/);
    await op.decide('case-open', false, 'test clean-up');
    // a manual case is not a detection signal: no feedback counted for it
    expect((await signalFeedback(op.store)).signals.map((s) => s.name)).not.toContain('manual');
    op.destroy();
  });

  test('re-open an overdue case as a new case under review, with the same reasons and cluster', async () => {
    const short = await h.deploy('queueux-short', { reviewTimeout: Duration.seconds(2) });
    const op = short.operator('local:erin');
    const exec = short.start(input('acct-od', 'case-od', { reasons: ['model-pivot'], cluster: 'c-3', related: ['acct-od2'] }));
    expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');
    await expect(reopenCase(op, 'case-od', 'x')).rejects.toThrow(/a reason is required/);
    const r = await reopenCase(op, 'case-od', 'staffed now; the pivot needs a look');
    expect(r.reopened).toBe('case-od');
    expect(r.caseId).not.toBe('case-od');
    expect((await h.sfn.waitForExecution(r.executionArn, 30_000)).status).toBe('SUCCEEDED'); // it times out again (2 s deadline)
    const c = (await op.show(r.caseId)).case;
    expect(c).toMatchObject({ accountId: 'acct-od', reasons: ['model-pivot'], clusterId: 'c-3', relatedAccountIds: ['acct-od2'], route: 'review' });
    expect(c.evidence.scorer).toMatchObject({ reopened: { from: 'case-od', by: 'local:erin' } });
    expect((await listAudit(op.store, { action: 'case-reopened' }))[0]).toMatchObject({
      actor: 'local:erin',
      details: { caseId: 'case-od', newCaseId: r.caseId },
    });
    op.destroy();
    const main = dep.operator('local:erin');
    await expect(reopenCase(main, 'case-f1', 'not overdue')).rejects.toThrow(/case case-f1 is not overdue \(state closed, outcome suspended\)/);
    main.destroy();
  });
});
