/**
 * The cluster case model: ids, member summaries, the intent profile and timeline, decision validation and which
 * members a decision reaches.
 */
import { clusterCaseId, clusterKeys, clusterProfile, memberItem, parseClusterDecision, planFanOut } from '../../src/escalate/cluster-case';
import type { CaseRecord } from '../../src/escalate/model';

function caseOf(accountId: string, over: Partial<CaseRecord> = {}): CaseRecord {
  return {
    pk: `CASE#case-${accountId}`,
    sk: 'CASE',
    caseId: `case-${accountId}`,
    accountId,
    state: 'review',
    decision: 'review',
    score: 0.8,
    reasons: ['synchronized-activity'],
    reasonDetails: [
      { signal: 'synchronized-activity', value: 0.9, baseline: 0.1, text: 'active in the same minutes as 3 accounts' },
      { signal: 'cot-elicitation', value: 0.7, baseline: 0.05, text: 'asks for reasoning' },
    ],
    clusterId: 'c-1',
    relatedAccountIds: [],
    flaggedAt: 0,
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
    evidence: {
      timeline: [
        { t: 0, n: 10, models: {}, promptClasses: {}, errors: 0 },
        { t: 3_600_000, n: 20, models: {}, promptClasses: {}, errors: 0 },
      ],
      totals: {
        requests: 30,
        errors: 0,
        models: { 'model-a': 20, 'model-b': 10 },
        promptClasses: { cot_elicitation: 24, coding: 6 },
        inputTokens: 1000,
        outputTokens: 8000,
      },
      apiKeys: [],
      ips: 1,
      subnets: [],
      userAgents: [],
      templates: [],
      accountCreatedAt: null,
      cluster: [
        { accountId: 'peer', links: ['2 shared subnets', '3 shared prompt templates'] },
        { accountId: 'loner', links: [] },
      ],
    },
    gsi1pk: 'CASES#review',
    gsi1sk: '',
    ...over,
  };
}

describe('cluster case model', () => {
  test('ids carry the cluster and the generation and stay valid case ids', () => {
    expect(clusterCaseId('c-1a2b3c4d', 1)).toBe('c-1a2b3c4d.g1');
    expect(clusterCaseId('c-1a2b3c4d', 12)).toBe('c-1a2b3c4d.g12');
    expect(() => clusterCaseId('c-1', 0)).toThrow(/generation must be a positive integer, got 0/);
    expect(() => clusterCaseId('c 1', 1)).toThrow(/clusterId must match .* got "c 1"/);
    expect(clusterKeys.member('c-1.g1', 'acct-1')).toEqual({ pk: 'CLUSTERCASE#c-1.g1', sk: 'MEMBER#acct-1' });
    expect(clusterKeys.pointer('c-1').pk).not.toBe(clusterKeys.header('c-1.g1').pk);
  });

  test('a member item keeps what links it and a bounded summary, not the whole evidence', () => {
    const m = memberItem('c-1.g1', caseOf('a1'));
    expect(m).toMatchObject({ pk: 'CLUSTERCASE#c-1.g1', sk: 'MEMBER#a1', caseId: 'case-a1', accountId: 'a1' });
    expect(m.links).toEqual([{ with: 'peer', links: ['2 shared subnets', '3 shared prompt templates'] }]);
    expect(m.signals).toEqual(['synchronized-activity: active in the same minutes as 3 accounts']);
    expect(m.timeline).toEqual([
      { t: 0, n: 10 },
      { t: 3_600_000, n: 20 },
    ]);
    const long = caseOf('a2');
    long.evidence.timeline = Array.from({ length: 500 }, (_, i) => ({ t: i * 3_600_000, n: 1, models: {}, promptClasses: {}, errors: 0 }));
    expect(memberItem('c-1.g1', long).timeline).toHaveLength(168);
  });

  test('the profile sums the members: prompt-class and model shares, token ratio, timeline, joins', () => {
    const a = memberItem('c-1.g1', caseOf('a1'));
    const b = memberItem('c-1.g1', caseOf('b1', { createdAt: '2026-11-30T00:00:00.000Z' }));
    const p = clusterProfile([a, b], { evidence: { pivot: { model: 'model-b', movers: 2 } } });
    expect(p.members).toBe(2);
    expect(p.requests).toBe(60);
    expect(p.promptClasses[0]).toEqual(['cot_elicitation', 0.8]);
    expect(p.models).toEqual([
      ['model-a', 0.667],
      ['model-b', 0.333],
    ]);
    expect(p.outputPerInput).toBe(8);
    expect(p.pivot).toEqual({ model: 'model-b', movers: 2 });
    expect(p.timeline).toEqual([
      { t: 0, n: 20, members: 2 },
      { t: 3_600_000, n: 40, members: 2 },
    ]);
    expect(p.joins.map((j) => j.accountId)).toEqual(['b1', 'a1']);
    expect(clusterProfile([]).outputPerInput).toBeNull();
  });

  test('a decision needs a reason; exclusions name members, once each, with a reason', () => {
    const members = ['a1', 'b1'];
    expect(
      parseClusterDecision({ approved: true, reason: ' same templates ', exclude: [{ accountId: 'b1', reason: 'our own test account' }] }, members),
    ).toEqual({
      approved: true,
      reason: 'same templates',
      exclude: [{ accountId: 'b1', reason: 'our own test account' }],
    });
    expect(() => parseClusterDecision({ approved: 'yes', reason: 'x y z' }, members)).toThrow(/approved must be true or false, got "yes"/);
    expect(() => parseClusterDecision({ approved: true, reason: '' }, members)).toThrow(/reason is required .* got ""/);
    expect(() => parseClusterDecision({ approved: true, reason: 'fine', exclude: [{ accountId: 'zz', reason: 'not here' }] }, members)).toThrow(
      /excluded account "zz" is not a member/,
    );
    expect(() => parseClusterDecision({ approved: true, reason: 'fine', exclude: [{ accountId: 'a1', reason: 'no' }] }, members)).toThrow(
      /exclusion reason for a1 is required .* got "no"/,
    );
    expect(() =>
      parseClusterDecision(
        {
          approved: true,
          reason: 'fine',
          exclude: [
            { accountId: 'a1', reason: 'one two' },
            { accountId: 'a1', reason: 'three four' },
          ],
        },
        members,
      ),
    ).toThrow(/account "a1" is excluded twice/);
    expect(() => parseClusterDecision({ approved: true, reason: 'bad\u0007bell' }, members)).toThrow(/control characters/);
  });

  test('the decision reaches members waiting for review, never excluded ones; the rest are reported', () => {
    const items = ['a1', 'b1', 'c1', 'd1', 'e1'].map((x) => memberItem('c-1.g1', caseOf(x)));
    const cases = new Map<string, { state: CaseRecord['state']; outcome?: CaseRecord['outcome'] }>([
      ['case-a1', { state: 'review' }],
      ['case-b1', { state: 'review' }],
      ['case-c1', { state: 'closed', outcome: 'suspended' }],
      ['case-d1', { state: 'open' }],
    ]);
    const plan = planFanOut(items, cases, [{ accountId: 'b1', reason: 'partner' }]);
    expect(plan.decide.map((d) => d.accountId)).toEqual(['a1']);
    expect(plan.excluded).toEqual([{ accountId: 'b1', caseId: 'case-b1', reason: 'partner' }]);
    expect(plan.skipped.map((s) => `${s.accountId}:${s.why}`)).toEqual([
      'c1:case closed (suspended)',
      'd1:case open',
      'e1:case not found (expired?)',
    ]);
  });
});

describe('cluster decision function (IAM)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { synthEscalation } = require('./support/synth') as typeof import('./support/synth');
  const syn = synthEscalation();
  const docs = Object.entries(syn.json.Resources as Record<string, any>)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
    .map(([id, r]) => [id, r.Properties.PolicyDocument.Statement as any[]] as const);

  test('its role reads and writes only CLUSTERCASE# items: no delete, no case, account or outbox item', () => {
    const mine = docs.filter(([id]) => /ClusterDecisionFn/.test(id)).flatMap(([, st]) => st);
    const ddb = mine.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect(ddb).toHaveLength(1);
    expect([ddb[0].Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(ddb[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CLUSTERCASE#*'] } });
  });

  test('reviewers may invoke it (and no other function); they write nothing in the tables but their claims', () => {
    const [, st] = docs.find(([id]) => /ReviewerPolicy/.test(id))!;
    const invoke = st.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0].Resource)).toMatch(/ClusterDecisionFn/);
    const writes = st.filter((s) => [s.Action].flat().some((a: string) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)));
    expect(writes.map((s) => JSON.stringify(s.Condition))).toEqual([expect.stringContaining('"CLAIM#*"')]);
    expect(writes.flatMap((s) => [s.Action].flat()).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:PutItem']);
  });
});
