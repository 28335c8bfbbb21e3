/**
 * Records a reviewer's one decision on a cluster case: the review tools invoke this function (the ReviewerPolicy
 * grants `lambda:InvokeFunction` on it) instead of writing the control table, so reviewers keep read-only table
 * access. It validates the decision against the cluster's members, records the exclusions and the decision
 * (cluster-store.ts) and returns it; the tool then answers each member's own review task.
 *
 * `actor` is the caller's identity as the review tool reports it (its STS caller ARN); the verified principal of
 * the invocation is in CloudTrail (Lambda data events), as for reinstatement.
 */
import { ClusterDecision, parseClusterDecision } from '../../src/escalate/cluster-case';
import { assertId } from '../../src/escalate/model';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { ClusterStore } from './cluster-store';
import { OperatorError, storeFromEnv } from './store';

export interface ClusterDecisionRequest {
  clusterCaseId: string;
  approved: boolean;
  reason: string;
  exclude?: { accountId: string; reason: string }[];
  actor: string;
}

export type ClusterDecisionResponse =
  { ok: true; decision: ClusterDecision; resumed: boolean; excluded: { accountId: string; reason: string }[] } | { ok: false; error: string };

const MAX_ACTOR = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

let store: ClusterStore | undefined;

/** Validation errors are the caller's: reported as an answer, never as a function failure. */
function invalidInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new OperatorError((err as Error).message);
  }
}

export async function recordClusterDecision(cs: ClusterStore, event: unknown): Promise<ClusterDecisionResponse> {
  const r = (event && typeof event === 'object' ? event : {}) as Record<string, unknown>;
  try {
    const id = invalidInput(() => assertId('clusterCaseId', r.clusterCaseId));
    const actor = typeof r.actor === 'string' ? r.actor.trim() : '';
    if (!actor || actor.length > MAX_ACTOR || CONTROL.test(actor))
      throw new OperatorError(`actor must be 1..${MAX_ACTOR} printable characters, got ${JSON.stringify(r.actor ?? '')}`);
    const members = await cs.members(id);
    if (!members.length) throw new OperatorError(`cluster case ${id} not found or has no members`);
    const req = invalidInput(() =>
      parseClusterDecision(
        { approved: r.approved, reason: r.reason, exclude: r.exclude ?? [] },
        members.map((m) => m.accountId),
      ),
    );
    const recorded = await cs.recordDecision(id, { ...req, reviewer: actor });
    // On a resume the exclusions on record stand: a member excluded once is never decided by this cluster case.
    const excluded = recorded.resumed
      ? members.filter((m) => m.excludedReason).map((m) => ({ accountId: m.accountId, reason: m.excludedReason! }))
      : req.exclude;
    return { ok: true, ...recorded, excluded };
  } catch (err) {
    // Bad input or a conflicting earlier decision is an answer, not a function failure.
    if (err instanceof OperatorError) return { ok: false, error: err.message };
    throw err;
  }
}

export async function handler(event: unknown): Promise<ClusterDecisionResponse> {
  store ??= new ClusterStore(storeFromEnv());
  try {
    const r = await recordClusterDecision(store, event);
    if (r.ok) {
      metrics.addMetric('ClusterDecision', MetricUnit.Count, 1);
      logger.info('cluster decision recorded', {
        clusterCaseId: (event as { clusterCaseId?: string }).clusterCaseId,
        approved: r.decision.approved,
        excluded: r.excluded.length,
        resumed: r.resumed,
      });
    }
    return r;
  } finally {
    metrics.publishStoredMetrics();
  }
}
