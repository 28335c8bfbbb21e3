/**
 * The `restrict` step's domain rules (src/escalate/restriction.ts, src/escalate/guardrails.ts): which review cases
 * the policy restricts, how the guardrails hold an automatic restriction back exactly as a suspension, durations,
 * and when the authorizer's step-up flag is in force.
 */
import { decideRoute, evaluateBreaker, evaluateShadow } from '../../src/escalate/guardrails';
import { parseWorkflowInput } from '../../src/escalate/model';
import {
  ESTABLISHED_ACCOUNT_MS,
  MAX_RESTRICT_HOURS,
  parseRestrictHours,
  planRestriction,
  recommendStep,
  stepUpRequired,
} from '../../src/escalate/restriction';

const NOW = Date.UTC(2026, 11, 6, 3, 0, 0);
const cfg = { maxPerHour: 20, maxShare: 0.01, minActiveForShare: 200 };
const armed = evaluateBreaker(cfg, { tripped: false }, 0, undefined);
const noShadow = evaluateShadow({ global: false, signals: [] }, ['shared-templates']);

describe('the policy recommends restrict plus review', () => {
  const review = { decision: 'review' as const, coordinated: true, families: ['content', 'extraction'], accountAgeMs: 3 * 86_400_000 };
  test('coordinated, with extraction intent, a young account: restrict', () => {
    expect(recommendStep(review)).toBe('restrict');
    expect(recommendStep({ ...review, accountAgeMs: null })).toBe('restrict');
  });
  test('coordination without extraction intent, or an established account: review only', () => {
    expect(recommendStep({ ...review, families: ['content', 'timing'] })).toBeUndefined();
    expect(recommendStep({ ...review, coordinated: false })).toBeUndefined();
    expect(recommendStep({ ...review, accountAgeMs: ESTABLISHED_ACCOUNT_MS })).toBeUndefined();
  });
  test('never changes a suspend, monitor or allow decision', () => {
    for (const decision of ['suspend', 'monitor', 'allow'] as const) expect(recommendStep({ ...review, decision })).toBeUndefined();
  });
});

describe('the guardrails hold an automatic restriction exactly as a suspension', () => {
  const base = {
    decision: 'review' as const,
    recommendedAction: 'restrict' as const,
    reasons: ['shared-templates'],
    allow: null,
    breaker: armed,
    shadow: noShadow,
    nowMs: NOW,
  };
  test('routes restrict when nothing holds it back', () => {
    expect(decideRoute(base)).toMatchObject({ route: 'restrict', computedRoute: 'restrict', shadow: false });
    expect(decideRoute({ ...base, recommendedAction: undefined }).route).toBe('review');
  });
  test('an allowlisted account is dismissed, never restricted', () => {
    const allow = { accountId: 'a', owner: 'team', reason: 'partner', expiresAt: NOW / 1000 + 3600 };
    expect(decideRoute({ ...base, allow })).toMatchObject({ route: 'dismiss', allowlisted: true });
  });
  test('a breaker at its limit sends it to review and trips', () => {
    const full = evaluateBreaker(cfg, { tripped: false }, 20, undefined);
    expect(decideRoute({ ...base, breaker: full })).toMatchObject({ route: 'review', tripBreaker: true });
    const tripped = evaluateBreaker(cfg, { tripped: true, trippedAt: 'x', trippedReason: 'y' }, 0, undefined);
    expect(decideRoute({ ...base, breaker: tripped }).route).toBe('review');
  });
  test('shadow mode records restrict but applies nothing; a partly shadowed case goes to review', () => {
    const global = evaluateShadow({ global: true, signals: [] }, base.reasons);
    expect(decideRoute({ ...base, shadow: global })).toMatchObject({ route: 'dismiss', computedRoute: 'restrict', shadow: true });
    const partly = evaluateShadow({ global: false, signals: ['shared-templates'] }, ['shared-templates', 'cot-elicitation']);
    expect(decideRoute({ ...base, reasons: ['shared-templates', 'cot-elicitation'], shadow: partly }).route).toBe('review');
  });
});

describe('durations and the step-up flag', () => {
  test('a restriction ends after its duration, capped', () => {
    expect(planRestriction(NOW, 3_600_000)).toEqual({ restrictedUntil: NOW + 3_600_000, durationMs: 3_600_000 });
    expect(planRestriction(NOW, 1e12).durationMs).toBe(MAX_RESTRICT_HOURS * 3_600_000);
    expect(() => planRestriction(NOW, 0)).toThrow(/got 0/);
    expect(parseRestrictHours('12')).toBe(12);
    expect(() => parseRestrictHours('-1')).toThrow(/got "-1"/);
    expect(() => parseRestrictHours(String(MAX_RESTRICT_HOURS + 1))).toThrow(/duration hours/);
  });
  test('step-up while the restriction lasts, not after, not without the flag', () => {
    expect(stepUpRequired({ status: 'restricted', stepUp: true, restrictedUntil: NOW + 1 }, NOW)).toBe(true);
    expect(stepUpRequired({ status: 'restricted', stepUp: true, restrictedUntil: NOW }, NOW)).toBe(false);
    expect(stepUpRequired({ status: 'active' }, NOW)).toBe(false);
    expect(stepUpRequired(undefined, NOW)).toBe(false);
  });
  test('workflow input: recommendedAction restrict is kept on review decisions only, anything else is refused', () => {
    const raw = { caseId: 'c-1', accountId: 'a-1', decision: 'review', score: 0.8, reasons: [], flaggedAt: NOW };
    expect(parseWorkflowInput({ ...raw, recommendedAction: 'restrict' }).recommendedAction).toBe('restrict');
    expect(parseWorkflowInput({ ...raw, decision: 'suspend', recommendedAction: 'restrict' }).recommendedAction).toBeUndefined();
    expect(() => parseWorkflowInput({ ...raw, recommendedAction: 'ban' })).toThrow(/got "ban"/);
  });
});
