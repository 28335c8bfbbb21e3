/**
 * Manual restriction, the operators' way to choose the `restrict` step by hand: the CLI (`distill-guard restrict`)
 * invokes this function (the OperatorPolicy grants `lambda:InvokeFunction` on it) instead of writing the control
 * table or touching usage plans itself. The allowlist holds here exactly as for a suspension; the breaker counts
 * automatic enforcements only, and shadow mode governs the workflow's decisions, not an operator's.
 *
 * `actor` is the caller's identity as the operator tool reports it (its STS caller ARN); the verified principal
 * of the invocation is in CloudTrail (Lambda data events).
 */
import { assertId } from '../../src/escalate/model';
import { DEFAULT_RESTRICT_HOURS, parseRestrictHours } from '../../src/escalate/restriction';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { parseReinstateRequest } from './reinstate-handler';
import { applyRestriction } from './restriction-store';
import { EscalationStore, OperatorError, storeFromEnv } from './store';
import { answerOperator } from './operator-request';

export interface RestrictRequest {
  accountId: string;
  reason: string;
  actor: string;
  durationHours: number;
}

export type RestrictResponse =
  { ok: true; outcome: 'restricted' | 'allowlisted'; restrictedUntil?: number; keys: string[]; caseId?: string } | { ok: false; error: string };

let store: EscalationStore | undefined;

/** Validate the request (same rules as reinstatement, plus the duration); throws OperatorError with what is wrong. */
export function parseRestrictRequest(e: unknown): RestrictRequest {
  const base = parseReinstateRequest(e);
  const r = (e && typeof e === 'object' ? e : {}) as Record<string, unknown>;
  let durationHours = DEFAULT_RESTRICT_HOURS;
  if (r.durationHours !== undefined) {
    try {
      durationHours = parseRestrictHours(r.durationHours);
    } catch (err) {
      throw new OperatorError((err as Error).message);
    }
  }
  assertId('accountId', base.accountId);
  return { ...base, durationHours };
}

export async function handler(event: unknown): Promise<RestrictResponse> {
  const s = (store ??= storeFromEnv({ apiKeys: true }));
  return answerOperator(async () => {
    const req = parseRestrictRequest(event);
    logger.appendKeys({ accountId: req.accountId, actor: req.actor });
    const r = await applyRestriction(s, {
      accountId: req.accountId,
      decidedBy: req.actor,
      decidedAt: new Date(s.now()).toISOString(),
      reason: req.reason,
      durationMs: req.durationHours * 3_600_000,
      auto: false,
    });
    if (r.outcome !== 'restricted' && r.outcome !== 'allowlisted')
      throw new OperatorError(`account ${req.accountId} could not be restricted (${r.outcome})`);
    if (r.outcome === 'restricted') metrics.addMetric('ManualRestriction', MetricUnit.Count, 1);
    logger.info('restrict', { ...r });
    return {
      ok: true as const,
      outcome: r.outcome,
      keys: r.keys ?? [],
      ...(r.restrictedUntil ? { restrictedUntil: r.restrictedUntil } : {}),
      ...(r.caseId ? { caseId: r.caseId } : {}),
    };
  });
}
