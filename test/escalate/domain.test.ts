import { banDurationMs, formatDuration, nextOffence, planSuspension } from '../../src/escalate/ban';
import { decideRoute, evaluateBreaker, evaluateShadow, isAllowlisted, suspensionsLastHour } from '../../src/escalate/guardrails';
import { assertId, auditSk, parseWorkflowInput } from '../../src/escalate/model';
import { buildEvidence, explainLinks, accountSets } from '../../src/escalate/evidence';
import { marshall } from '@aws-sdk/util-dynamodb';

const H = 3_600_000;
const D = 24 * H;
const policy = { baseMs: D, factor: 2, maxMs: 30 * D, forgetAfterMs: 180 * D };

describe('ban durations (fail2ban bantime.increment)', () => {
  test('double per offence and cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((o) => banDurationMs(o, policy) / D)).toEqual([1, 2, 4, 8, 16, 30, 30]);
    expect(banDurationMs(10_000, policy)).toBe(30 * D);
  });
  test('offences are forgotten after a quiet period', () => {
    const now = 1_000 * D;
    expect(nextOffence({ offences: 0 }, policy, now)).toBe(1);
    expect(nextOffence({ offences: 3, lastSuspensionEnd: now - 10 * D }, policy, now)).toBe(4);
    expect(nextOffence({ offences: 3, lastSuspensionEnd: now - 200 * D }, policy, now)).toBe(1);
    expect(planSuspension({ offences: 1 }, policy, now)).toEqual({ offence: 2, durationMs: 2 * D, suspendedUntil: now + 2 * D });
  });
  test('bad input is rejected with the value', () => {
    expect(() => banDurationMs(0, policy)).toThrow('offence must be an integer >= 1, got 0');
    expect(() => banDurationMs(1, { ...policy, maxMs: 1 })).toThrow(/maxMs >= baseMs/);
    expect(formatDuration(2 * D)).toBe('2d');
    expect(formatDuration(90 * 60_000)).toBe('1.5h');
  });
});

describe('guardrails', () => {
  const cfg = { maxPerHour: 10, maxShare: 0.01, minActiveForShare: 200 };
  const now = 100 * H + 0.25 * H;
  test('allowlist honours expiry', () => {
    expect(isAllowlisted({ accountId: 'a', owner: 'o', reason: 'r', expiresAt: now / 1000 + 60 }, now)).toBe(true);
    expect(isAllowlisted({ accountId: 'a', owner: 'o', reason: 'r', expiresAt: now / 1000 - 1 }, now)).toBe(false);
    expect(isAllowlisted(undefined, now)).toBe(false);
  });
  test('sliding-hour estimate weights the previous hour by what is left of it', () => {
    expect(suspensionsLastHour(2, 8, now)).toBe(2 + 8 * 0.75);
  });
  test('breaker: count limit, share limit, stays tripped', () => {
    expect(evaluateBreaker(cfg, undefined, 8, undefined)).toMatchObject({ allow: true, tripNow: false, limit: 10 });
    expect(evaluateBreaker(cfg, undefined, 9.5, undefined)).toMatchObject({ allow: false, tripNow: true });
    // 1% of 300 active accounts = 3
    const share = evaluateBreaker(cfg, undefined, 3, 300);
    expect(share).toMatchObject({ allow: false, tripNow: true, limit: 3 });
    expect(share.reason).toMatch(/1\.00% of 300 active accounts/);
    // share rule ignored below minActiveForShare
    expect(evaluateBreaker(cfg, undefined, 3, 50)).toMatchObject({ allow: true, limit: 10 });
    expect(evaluateBreaker(cfg, { tripped: true, trippedAt: 't', trippedReason: 'x' }, 0, 1000)).toMatchObject({ allow: false, tripNow: false });
  });
  test('shadow: global, all-reasons, partial', () => {
    expect(evaluateShadow({ global: true, signals: [] }, ['a'])).toMatchObject({ shadow: true });
    expect(evaluateShadow({ global: false, signals: ['a', 'b'] }, ['a', 'b'])).toMatchObject({ shadow: true });
    expect(evaluateShadow({ global: false, signals: ['a'] }, ['a', 'b'])).toMatchObject({ shadow: false, downgrade: true, shadowedReasons: ['a'] });
    expect(evaluateShadow({ global: false, signals: [] }, ['a'])).toMatchObject({ shadow: false, downgrade: false });
  });
  const base = {
    reasons: ['x'],
    allow: undefined,
    breaker: evaluateBreaker(cfg, undefined, 0, undefined),
    shadow: evaluateShadow({ global: false, signals: [] }, ['x']),
    nowMs: now,
  };
  test('routes', () => {
    expect(decideRoute({ ...base, decision: 'suspend' })).toMatchObject({ route: 'suspend', shadow: false });
    expect(decideRoute({ ...base, decision: 'review' })).toMatchObject({ route: 'review' });
    const allow = { accountId: 'a', owner: 'sales', reason: 'trial', expiresAt: now / 1000 + 10 };
    expect(decideRoute({ ...base, decision: 'suspend', allow })).toMatchObject({ route: 'dismiss', allowlisted: true });
    const tripped = decideRoute({ ...base, decision: 'suspend', breaker: evaluateBreaker(cfg, undefined, 10, undefined) });
    expect(tripped).toMatchObject({ route: 'review', tripBreaker: true });
    // a review case does not trip the breaker
    expect(decideRoute({ ...base, decision: 'review', breaker: evaluateBreaker(cfg, undefined, 10, undefined) })).toMatchObject({
      route: 'review',
      tripBreaker: false,
    });
    const shadow = decideRoute({ ...base, decision: 'suspend', shadow: evaluateShadow({ global: true, signals: [] }, ['x']) });
    expect(shadow).toMatchObject({ route: 'dismiss', computedRoute: 'suspend', shadow: true });
    const partial = decideRoute({
      ...base,
      reasons: ['x', 'y'],
      decision: 'suspend',
      shadow: evaluateShadow({ global: false, signals: ['y'] }, ['x', 'y']),
    });
    expect(partial).toMatchObject({ route: 'review', shadow: false });
  });
});

describe('case model', () => {
  test('workflow input validation shows the bad value', () => {
    expect(() => parseWorkflowInput({ caseId: 'c 1', accountId: 'a', decision: 'review', score: 1, reasons: [] })).toThrow(
      /caseId must match .* got "c 1"/,
    );
    expect(() => parseWorkflowInput({ caseId: 'c1', accountId: 'a', decision: 'ban', score: 1, reasons: [] })).toThrow(
      'decision must be review or suspend, got "ban"',
    );
    expect(parseWorkflowInput({ caseId: 'c1', accountId: 'a', decision: 'review', score: 0.9, reasons: ['r'], flaggedAt: 5 })).toMatchObject({
      clusterId: null,
      relatedAccountIds: [],
      flaggedAt: 5,
    });
    expect(() => assertId('caseId', '../etc')).toThrow();
    // Account ids follow the one account-id rule (src/shared/account-id.ts): data, never a path.
    expect(assertId('accountId', '../etc')).toBe('../etc');
    expect(() => assertId('accountId', 'a\u0000b')).toThrow(/accountId must not contain control/);
  });
  test('audit sort keys are time ordered', () => {
    expect(auditSk('2026-01-01T00:00:00.000Z', 7)).toBe('AUDIT#2026-01-01T00:00:00.000Z#007');
    expect(auditSk('2026-01-01T00:00:00.000Z', 7) < auditSk('2026-01-01T00:00:00.001Z', 0)).toBe(true);
  });
});

describe('evidence', () => {
  const w = (acct: string, hour: number, extra: Record<string, unknown> = {}) => ({
    pk: `A#${acct}`,
    sk: `W#${String(hour * H).padStart(13, '0')}`,
    n: 10,
    s4: 1,
    s5: 1,
    'm:opus': 6,
    'm:sonnet': 4,
    'pc:coding': 3,
    ip: new Set(['i1', 'i2']),
    tpl: ['t1'],
    key: new Set(['k1']),
    ...extra,
  });
  test('timeline, totals and cluster links', () => {
    const mins = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`mm:${i}`, 1]));
    const e = buildEvidence({
      windows: [w('a', 2, mins), w('a', 1, mins), { pk: 'A#a', sk: 'X' }],
      members: [
        { accountId: 'b', windows: [w('b', 1, { ip: new Set(['i2']), ...mins })] },
        { accountId: 'c', windows: [{ pk: 'A#c', sk: `W#${String(H).padStart(13, '0')}`, ip: ['zz'] }] },
      ],
    });
    expect(e.timeline.map((p) => p.t)).toEqual([H, 2 * H]);
    expect(e.totals).toMatchObject({ requests: 20, errors: 4, models: { opus: 12, sonnet: 8 }, promptClasses: { coding: 6 } });
    expect(e.apiKeys).toEqual(['k1']);
    expect(e.cluster[0].links).toEqual(
      expect.arrayContaining(['1 shared source IP', '1 shared prompt template', '1 shared API key', expect.stringMatching(/same minutes/)]),
    );
    expect(e.cluster[1].links).toEqual([]);
  });
  test('the snapshot is bounded (models per point, points, scorer evidence)', () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`m:model-${String(i).padStart(2, '0')}`, 12 - i]));
    const windows = Array.from({ length: 400 }, (_, i) => ({ pk: 'A#a', sk: `W#${String(i * H).padStart(13, '0')}`, n: 78, ...many }));
    const e = buildEvidence({ windows, scorer: { blob: 'x'.repeat(60_000) } });
    expect(e.timeline).toHaveLength(168);
    expect(Object.keys(e.timeline[0].models)).toHaveLength(9);
    expect(e.totals.models.other).toBe((4 + 3 + 2 + 1) * 400);
    expect(e.scorer).toEqual({ omitted: expect.stringMatching(/exceeds the snapshot limit/) });
    expect(JSON.stringify(e).length).toBeLessThan(100_000);
  });
  test('explainLinks with nothing in common', () => {
    expect(explainLinks(accountSets([]), accountSets([]))).toEqual([]);
  });
});

describe('a model named `constructor` corrupts evidence totals: evidence records are keyed by data', () => {
  test('models and prompt classes named like Object properties are summed as numbers, and marshal for the case item', () => {
    const w = (h: number) => ({
      sk: `W#${String(h * H).padStart(13, '0')}`,
      n: 10,
      'm:constructor': 4,
      'm:toString': 3,
      'm:__proto__': 2,
      'm:model-a': 1,
      'pc:constructor': 5,
      'mm:1': 1,
    });
    const e = buildEvidence({ windows: [w(1), w(2)] });
    const desc = (o: object, k: string) => Object.getOwnPropertyDescriptor(o, k)?.value;
    expect(desc(e.totals.models, 'constructor')).toBe(8);
    expect(desc(e.totals.models, 'toString')).toBe(6);
    expect(desc(e.totals.models, '__proto__')).toBe(4);
    expect(desc(e.totals.models, 'model-a')).toBe(2);
    expect(desc(e.totals.promptClasses, 'constructor')).toBe(10);
    for (const p of e.timeline) expect(desc(p.models, 'constructor')).toBe(4);
    // The control-table client marshals with convertClassInstanceToMap (lambdas/escalate/store.ts): an object
    // whose own `constructor` is a number is otherwise refused ("Unsupported type passed").
    const m = marshall({ totals: e.totals }, { removeUndefinedValues: true, convertClassInstanceToMap: true });
    expect(m.totals.M!.models.M!.constructor).toEqual({ N: '8' });
    expect(JSON.parse(JSON.stringify(e.totals.models))).toEqual(JSON.parse('{"constructor":8,"toString":6,"__proto__":4,"model-a":2}'));
  });
});
