/**
 * The workflow's restriction steps: ApplyRestriction (restrict plus review, automatic; or the milder step a
 * reviewer chose), its compensation, and LiftRestriction when a reviewer rejects a case whose restriction is in
 * force. Each is idempotent (Step Functions retries them).
 */
import { applyRestriction, compensateRestriction, liftRestriction, RestrictResult } from './restriction-store';
import { EscalationConfig, ExecutionState } from './steps';
import { EscalationStore } from './store';

/** Restrict the case's account: automatically before the review, or as the reviewer's decision (closes the case). */
export async function applyRestrictionStep(
  store: EscalationStore,
  cfg: EscalationConfig,
  state: ExecutionState,
): Promise<RestrictResult & { closed: boolean }> {
  const caseId = String(state.caseId);
  const c = await store.requireCase(caseId);
  const reviewed = state.reviewed?.approved === true ? state.reviewed : undefined;
  const auto = !reviewed;
  const guardLimit = typeof state.guard?.breakerLimit === 'number' ? state.guard.breakerLimit : Infinity;
  const r = await applyRestriction(store, {
    accountId: c.accountId,
    caseId,
    decidedBy: reviewed ? reviewed.reviewer : 'auto',
    decidedAt: reviewed ? reviewed.decidedAt : (state.guard?.decidedAt ?? new Date(store.now()).toISOString()),
    reason: reviewed?.reason,
    durationMs: cfg.restrictDurationMs,
    auto,
    breakerLimit: Math.min(cfg.breaker.maxPerHour, guardLimit),
    closeCase: !auto,
  });
  return { ...r, closed: !auto && r.outcome === 'restricted' };
}

/** Move the keys back after a failed ApplyRestriction (nothing else was written). */
export function compensateRestrictionStep(store: EscalationStore, state: ExecutionState) {
  const why = `${state.error?.Error ?? 'error'}: ${String(state.error?.Cause ?? '').slice(0, 500)}`;
  return compensateRestriction(store, { caseId: String(state.caseId), accountId: String(state.accountId), why });
}

/** A reviewer rejected the case: lift the restriction this case applied (not one applied by anyone else). */
export async function liftOnRejection(store: EscalationStore, state: ExecutionState): Promise<{ lifted: boolean; keys: string[] }> {
  const caseId = String(state.caseId);
  const c = await store.requireCase(caseId);
  if (!c.restriction) return { lifted: false, keys: [] };
  const reviewer = state.reviewed?.reviewer ?? 'unknown';
  const r = await liftRestriction(store, {
    accountId: c.accountId,
    actor: reviewer,
    reason: `review rejected: ${state.reviewed?.reason ?? ''}`.trim(),
    kind: 'rejected',
    onlyCase: caseId,
  });
  return { lifted: r.lifted, keys: r.keys };
}
