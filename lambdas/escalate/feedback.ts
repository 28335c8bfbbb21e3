/**
 * Records reviewer feedback (src/escalate/feedback.ts) when a review ends approved or rejected (case-handler's
 * RecordReview step) and when an operator reinstates an account (reinstate-handler): atomic ADD on one counter item
 * per signal and one per reason combination, in one transaction with a marker per case and kind, so a retried
 * step counts once. Publishes the same as metrics with a `signal` dimension. Statistics never fail a review:
 * an error is logged and counted, not thrown.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { FeedbackCounter, FeedbackKind, feedbackKeys, feedbackSignals } from '../../src/escalate/feedback';
import { recordExpiresAt } from '../../src/escalate/model';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { EscalationStore } from './store';

export interface FeedbackResult {
  /** The signals counted (empty when already counted, or nothing to count). */
  signals: string[];
  counter?: FeedbackCounter;
  duplicate?: boolean;
}

/** Count a review decision or a reinstatement against the signals of `caseId`. Never throws. */
export async function recordFeedback(store: EscalationStore, p: { caseId: string | undefined; kind: FeedbackKind }): Promise<FeedbackResult> {
  try {
    return await countFeedback(store, p.caseId, p.kind);
  } catch (err) {
    logger.error('reviewer feedback not recorded', { caseId: p.caseId, kind: p.kind, error: (err as Error).message });
    metrics.addMetric('FeedbackNotRecorded', MetricUnit.Count, 1);
    return { signals: [] };
  }
}

async function countFeedback(store: EscalationStore, caseId: string | undefined, kind: FeedbackKind): Promise<FeedbackResult> {
  if (!caseId || caseId === 'OPS') return { signals: [] };
  const c = await store.getCase(caseId);
  const signals = feedbackSignals(c?.reasons);
  if (!c || signals.length === 0) return { signals: [] };
  // A reinstatement undoes a reviewer's approval, or an automatic suspension nobody reviewed.
  const counter: FeedbackCounter = kind === 'reinstated' ? (c.decidedBy && c.decidedBy !== 'auto' ? 'reinstatedReviewed' : 'reinstatedAuto') : kind;
  const nowMs = store.now();
  const at = new Date(nowMs).toISOString();
  const bump = (key: { pk: string; sk: string }, scope: 'signal' | 'combo', name: string) => ({
    Update: {
      TableName: store.table,
      Key: key,
      UpdateExpression: 'ADD #c :one SET gsi1pk = :g, gsi1sk = :gs, updatedAt = :at',
      ExpressionAttributeNames: { '#c': counter },
      ExpressionAttributeValues: { ':one': 1, ':g': feedbackKeys.gsi(scope, name).gsi1pk, ':gs': feedbackKeys.gsi(scope, name).gsi1sk, ':at': at },
    },
  });
  const items = [
    {
      Put: {
        TableName: store.table,
        Item: { ...feedbackKeys.marker(caseId, kind), counter, signals, at, expiresAt: recordExpiresAt(nowMs, store.caseRetentionDays) },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    ...signals.map((s) => bump(feedbackKeys.signal(s), 'signal', s)),
    ...(signals.length > 1 ? [bump(feedbackKeys.combo(signals), 'combo', signals.join('+'))] : []),
  ];
  try {
    await store.ddb.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (err) {
    if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')
      return { signals: [], counter, duplicate: true };
    throw err;
  }
  const name = counter === 'approved' ? 'ReviewerConfirmed' : 'ReviewerOverturned';
  for (const s of signals) {
    const m = metrics.singleMetric();
    m.addDimension('signal', s);
    m.addMetadata('caseId', caseId);
    m.addMetadata('feedback', counter);
    m.addMetric(name, MetricUnit.Count, 1);
  }
  return { signals, counter };
}
