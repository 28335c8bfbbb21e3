/**
 * ApplySuspension, ApplyRestriction, their compensations and LiftRestriction: the only workflow function allowed to
 * touch API Gateway keys and usage plans. Thin adapter over ./steps.ts, ./restriction-steps.ts and ./suspension.ts; the
 * state machine passes `{step, state: $}`.
 */
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { EscalationStore, storeFromEnv } from './store';
import { applyRestrictionStep, compensateRestrictionStep, liftOnRejection } from './restriction-steps';
import { ExecutionState, applySuspension, configFromEnv } from './steps';
import { compensateSuspension } from './suspension';

const config = configFromEnv();
let store: EscalationStore | undefined;
function getStore(): EscalationStore {
  store ??= storeFromEnv({ apiKeys: true });
  return store;
}

/** Metrics of an enforcement step: the enforcement (by review or automatic) and a breaker it tripped. */
function countEnforcement(
  r: { outcome: string; breakerTripped?: boolean },
  applied: string,
  state: ExecutionState,
  byReview: string,
  automatic: string,
): void {
  if (r.outcome === applied) metrics.addMetric(state.reviewed ? byReview : automatic, MetricUnit.Count, 1);
  // Refused by the breaker's hourly limit inside the transaction: the alarm on BreakerTripped pages the operator.
  if (r.outcome === 'breaker' && r.breakerTripped) metrics.addMetric('BreakerTripped', MetricUnit.Count, 1);
}

export async function handler(event: {
  step: 'apply' | 'compensate' | 'restrict' | 'compensate-restriction' | 'lift';
  state: ExecutionState;
}): Promise<unknown> {
  const s = getStore();
  const state = event?.state ?? ({} as ExecutionState);
  logger.appendKeys({ caseId: state.caseId, accountId: state.accountId, step: event?.step });
  try {
    if (event?.step === 'apply') {
      const r = await applySuspension(s, config, state);
      logger.info('apply suspension', { ...r });
      countEnforcement(r, 'suspended', state, 'SuspendedByReview', 'AutoSuspended');
      return r;
    }
    if (event?.step === 'compensate') {
      const why = `${state.error?.Error ?? 'error'}: ${String(state.error?.Cause ?? '').slice(0, 500)}`;
      const r = await compensateSuspension(s, String(state.caseId), why);
      metrics.addMetric('SuspensionCompensated', MetricUnit.Count, 1);
      logger.warn('suspension compensated', { ...r, why });
      return r;
    }
    if (event?.step === 'restrict') {
      const r = await applyRestrictionStep(s, config, state);
      logger.info('apply restriction', { ...r });
      countEnforcement(r, 'restricted', state, 'RestrictedByReview', 'AutoRestricted');
      return r;
    }
    if (event?.step === 'compensate-restriction') {
      const r = await compensateRestrictionStep(s, state);
      metrics.addMetric('RestrictionCompensated', MetricUnit.Count, 1);
      logger.warn('restriction compensated', { ...r });
      return r;
    }
    if (event?.step === 'lift') {
      const r = await liftOnRejection(s, state);
      if (r.lifted) metrics.addMetric('RestrictionLifted', MetricUnit.Count, 1);
      return r;
    }
    throw new Error(`unknown step ${JSON.stringify(event?.step)}`);
  } finally {
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}
