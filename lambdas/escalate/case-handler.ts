/**
 * Workflow steps that touch only the control and features tables: RecordCase, CheckGuardrails, RecordReview,
 * Dismiss, MarkOverdue, MarkError. Thin adapter over ./steps.ts; the state machine passes `{step, state: $}`.
 */
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { recordFeedback } from './feedback';
import { EscalationStore, storeFromEnv } from './store';
import { ExecutionState, checkGuardrails, closeCase, configFromEnv, markError, markOverdue, recordCase, recordReview } from './steps';

const config = configFromEnv();
let store: EscalationStore | undefined;
function getStore(): EscalationStore {
  store ??= storeFromEnv({ featuresTable: true });
  return store;
}

export interface StepEvent {
  step: 'record' | 'route' | 'reviewed' | 'dismiss' | 'overdue' | 'error';
  state: ExecutionState;
}

export async function handler(event: StepEvent): Promise<unknown> {
  const s = getStore();
  const state = event?.state ?? ({} as ExecutionState);
  logger.appendKeys({ caseId: state.caseId, accountId: state.accountId, step: event?.step });
  try {
    switch (event?.step) {
      case 'record': {
        const r = await recordCase(s, config, state);
        if (r.duplicate) metrics.addMetric('DuplicateCase', MetricUnit.Count, 1);
        else metrics.addMetric('CaseOpened', MetricUnit.Count, 1);
        return r;
      }
      case 'route': {
        const r = await checkGuardrails(s, config, state);
        metrics.addMetric(`Routed_${r.route}`, MetricUnit.Count, 1);
        if (r.shadow) metrics.addMetric('ShadowDecision', MetricUnit.Count, 1);
        // The alarm on BreakerTripped (lib/escalate/escalation.ts) pages the operator who re-arms it.
        if (r.breakerTripped) metrics.addMetric('BreakerTripped', MetricUnit.Count, 1);
        logger.info('routed', { route: r.route, why: r.why });
        return r;
      }
      case 'reviewed': {
        const r = await recordReview(s, state);
        await recordFeedback(s, { caseId: state.caseId, kind: r.approved ? 'approved' : 'rejected' });
        logger.info('review decision', { approved: r.approved, reviewer: r.reviewer });
        return r;
      }
      case 'dismiss':
        return await closeCase(s, state);
      case 'overdue':
        metrics.addMetric('ReviewOverdue', MetricUnit.Count, 1);
        return await markOverdue(s, state);
      case 'error':
        metrics.addMetric('CaseError', MetricUnit.Count, 1);
        logger.error('workflow error', { error: state.error });
        return await markError(s, state);
      default:
        throw new Error(`unknown step ${JSON.stringify(event?.step)}`);
    }
  } finally {
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}
