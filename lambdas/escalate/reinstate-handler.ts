/**
 * Manual reinstatement, the one path by which an operator lifts a suspension: the CLI and the console invoke this
 * function (the OperatorPolicy grants `lambda:InvokeFunction` on it) instead of writing the control table
 * themselves. It re-enables the keys the suspension disabled, restores the status, and writes the audit entry and
 * the `Account Reinstated` outbox event (./reinstatement.ts).
 *
 * `actor` is the caller's identity as the operator tool reports it (its STS caller ARN); the verified principal
 * of the invocation is in CloudTrail (Lambda data events).
 */
import { assertId } from '../../src/escalate/model';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { recordFeedback } from './feedback';
import { EscalationStore, OperatorError, storeFromEnv } from './store';
import { reinstate } from './reinstatement';
import { answerOperator } from './operator-request';

export interface ReinstateRequest {
  accountId: string;
  reason: string;
  actor: string;
}

export type ReinstateResponse = { ok: true; reinstated: boolean; keys: string[]; caseId: string } | { ok: false; error: string };

const MAX_REASON = 1000;
const MAX_ACTOR = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

let store: EscalationStore | undefined;

/** Validate the request; throws OperatorError with what is wrong. */
export function parseReinstateRequest(e: unknown): ReinstateRequest {
  const r = (e && typeof e === 'object' ? e : {}) as Record<string, unknown>;
  try {
    assertId('accountId', r.accountId);
  } catch (err) {
    throw new OperatorError((err as Error).message);
  }
  const reason = typeof r.reason === 'string' ? r.reason.trim() : '';
  if (reason.length < 3) throw new OperatorError(`a reason is required (at least 3 characters), got ${JSON.stringify(r.reason ?? '')}`);
  if (reason.length > MAX_REASON) throw new OperatorError(`the reason must be at most ${MAX_REASON} characters, got ${reason.length}`);
  const actor = typeof r.actor === 'string' ? r.actor.trim() : '';
  if (!actor || actor.length > MAX_ACTOR || CONTROL.test(actor))
    throw new OperatorError(`actor must be 1..${MAX_ACTOR} printable characters, got ${JSON.stringify(r.actor ?? '')}`);
  return { accountId: r.accountId as string, reason, actor };
}

export async function handler(event: unknown): Promise<ReinstateResponse> {
  const s = (store ??= storeFromEnv({ apiKeys: true }));
  return answerOperator(async () => {
    const req = parseReinstateRequest(event);
    logger.appendKeys({ accountId: req.accountId, actor: req.actor });
    const r = await reinstate(s, { ...req, kind: 'manual' });
    if (r.reinstated) await recordFeedback(s, { caseId: r.caseId, kind: 'reinstated' });
    metrics.addMetric('ManualReinstatement', MetricUnit.Count, 1);
    logger.info('reinstated', { ...r });
    return { ok: true as const, ...r };
  });
}
