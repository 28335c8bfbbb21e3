/**
 * Guardrails between a score and an enforcement (plain TypeScript, no AWS imports):
 * - the allowlist (CrowdSec allowlists / fail2ban `ignoreip`, with an owner, a reason and an expiry);
 * - the suspension-rate circuit breaker (auto-suspensions in the last hour over a count or a share of active
 *   accounts stop auto-suspend until an operator re-arms it);
 * - shadow mode, global and per signal (CrowdSec simulation mode, Radar/Sift feedback-only): the decision is
 *   computed and recorded, never applied.
 */
import type { Route } from './model';

export interface AllowEntry {
  accountId: string;
  owner: string;
  reason: string;
  /** Epoch SECONDS (the table's TTL attribute); TTL deletion is lazy, so expiry is checked here too. */
  expiresAt: number;
  createdAt?: string;
  createdBy?: string;
}

/** True when the entry exists and has not expired at `nowMs`. */
export function isAllowlisted(entry: AllowEntry | undefined | null, nowMs: number): boolean {
  return !!entry && typeof entry.expiresAt === 'number' && entry.expiresAt * 1000 > nowMs;
}

export interface BreakerConfig {
  /** Trip when more than this many auto-suspensions happened in the last hour. */
  maxPerHour: number;
  /** Trip when auto-suspensions in the last hour exceed this share (0..1) of active accounts. */
  maxShare: number;
  /** The share rule only applies when at least this many accounts are active (a share of 3 accounts means nothing). */
  minActiveForShare: number;
}

export interface BreakerState {
  tripped: boolean;
  trippedAt?: string;
  trippedReason?: string;
  rearmedAt?: string;
  rearmedBy?: string;
}

/**
 * Auto-suspensions in the sliding last hour from two fixed hourly counters, the usual sliding-window estimate
 * (as in rate limiters): current hour + previous hour weighted by the part of it still inside the window.
 */
export function suspensionsLastHour(currentHourCount: number, previousHourCount: number, nowMs: number): number {
  const elapsed = (nowMs % 3_600_000) / 3_600_000;
  return currentHourCount + previousHourCount * (1 - elapsed);
}

export interface BreakerEvaluation {
  /** Would one more auto-suspension be allowed? */
  allow: boolean;
  /** The breaker should be tripped now (it was armed and a limit is reached). */
  tripNow: boolean;
  reason?: string;
  lastHour: number;
  limit: number;
}

/**
 * Evaluate the breaker before an auto-suspension: one more suspension must keep the last-hour count within
 * `maxPerHour` and within `maxShare` of the active accounts. A tripped breaker stays tripped (only an operator
 * re-arms it).
 */
export function evaluateBreaker(
  cfg: BreakerConfig,
  state: BreakerState | undefined,
  lastHour: number,
  activeAccounts: number | undefined,
): BreakerEvaluation {
  const shareLimit =
    activeAccounts !== undefined && activeAccounts >= cfg.minActiveForShare ? Math.max(1, Math.floor(cfg.maxShare * activeAccounts)) : Infinity;
  const limit = Math.min(cfg.maxPerHour, shareLimit);
  if (state?.tripped)
    return {
      allow: false,
      tripNow: false,
      reason: `breaker tripped at ${state.trippedAt ?? '?'}: ${state.trippedReason ?? ''}`.trim(),
      lastHour,
      limit,
    };
  if (lastHour + 1 > limit) {
    const which =
      limit === cfg.maxPerHour
        ? `${lastHour.toFixed(1)} auto-suspensions in the last hour, limit ${cfg.maxPerHour}`
        : `${lastHour.toFixed(1)} auto-suspensions in the last hour, limit ${limit} (${(cfg.maxShare * 100).toFixed(2)}% of ${activeAccounts} active accounts)`;
    return { allow: false, tripNow: true, reason: which, lastHour, limit };
  }
  return { allow: true, tripNow: false, lastHour, limit };
}

export interface ShadowConfig {
  /** Global shadow mode: nothing is applied. */
  global: boolean;
  /** Signals in shadow mode: they may be computed and shown, but cannot cause an enforcement on their own. */
  signals: string[];
}

export interface ShadowEvaluation {
  shadow: boolean;
  /** Suspend decisions partly resting on shadowed signals are downgraded to review. */
  downgrade: boolean;
  shadowedReasons: string[];
  why?: string;
}

/**
 * Shadow rules: global shadow -> shadow. Every reason of the case is a shadowed signal -> shadow. Some reasons
 * shadowed -> the case may still go to a human, but is never auto-suspended.
 */
export function evaluateShadow(cfg: ShadowConfig, reasons: string[]): ShadowEvaluation {
  const shadowedReasons = reasons.filter((r) => cfg.signals.includes(r));
  if (cfg.global) return { shadow: true, downgrade: false, shadowedReasons, why: 'global shadow mode' };
  if (reasons.length > 0 && shadowedReasons.length === reasons.length) {
    return { shadow: true, downgrade: false, shadowedReasons, why: `every reason is a shadowed signal (${shadowedReasons.join(', ')})` };
  }
  if (shadowedReasons.length > 0)
    return { shadow: false, downgrade: true, shadowedReasons, why: `rests partly on shadowed signals (${shadowedReasons.join(', ')})` };
  return { shadow: false, downgrade: false, shadowedReasons };
}

export interface GuardrailInput {
  decision: 'review' | 'suspend';
  /** `restrict`: the policy recommends restrict plus review (an enforcement, guarded exactly as a suspension). */
  recommendedAction?: 'restrict';
  reasons: string[];
  allow: AllowEntry | undefined | null;
  breaker: BreakerEvaluation;
  shadow: ShadowEvaluation;
  nowMs: number;
}

export interface GuardrailDecision {
  /** What the workflow does. `dismiss` also covers shadow (recorded, not applied). */
  route: Route;
  /** What it would have done without shadow mode (equals `route` when not in shadow). */
  computedRoute: Route;
  shadow: boolean;
  allowlisted: boolean;
  /** The breaker should be tripped now. */
  tripBreaker: boolean;
  /** Human-readable reasons for the route, in order of application. */
  why: string[];
}

/**
 * The routing rule. Order matters: allowlist first (never touch a protected account), then the breaker and
 * per-signal shadow (which can only make the outcome milder), then global/all-signal shadow (record only).
 * An automatic restriction is an enforcement: the same three guardrails hold it back exactly as a suspension.
 */
export function decideRoute(g: GuardrailInput): GuardrailDecision {
  const why: string[] = [];
  const allowlisted = isAllowlisted(g.allow, g.nowMs);
  let computed: Route = g.decision === 'suspend' ? 'suspend' : g.recommendedAction === 'restrict' ? 'restrict' : 'review';
  why.push(`scorer decided ${g.decision}${computed === 'restrict' ? ' (restrict plus review recommended)' : ''}`);
  let tripBreaker = false;
  if (allowlisted) {
    computed = 'dismiss';
    why.push(`allowlisted by ${g.allow!.owner} until ${new Date(g.allow!.expiresAt * 1000).toISOString()}: ${g.allow!.reason}`);
  } else if (computed === 'suspend' || computed === 'restrict') {
    const what = computed === 'suspend' ? 'auto-suspend' : 'auto-restrict';
    if (g.shadow.downgrade) {
      computed = 'review';
      why.push(`${what} withheld: ${g.shadow.why}`);
    } else if (!g.breaker.allow) {
      computed = 'review';
      tripBreaker = g.breaker.tripNow;
      why.push(`${what} withheld by the circuit breaker: ${g.breaker.reason}`);
    }
  }
  if (g.shadow.shadow && !allowlisted) {
    why.push(`shadow: ${g.shadow.why}; would ${computed}, nothing applied`);
    return { route: 'dismiss', computedRoute: computed, shadow: true, allowlisted, tripBreaker, why };
  }
  return { route: computed, computedRoute: computed, shadow: false, allowlisted, tripBreaker, why };
}
