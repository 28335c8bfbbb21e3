/**
 * Scheduled expirer: reinstates accounts whose suspension has ended (keys re-enabled, status restored,
 * `Account Reinstated` event, audit entry), and lifts restrictions that have ended (keys back on their usage plan,
 * step-up cleared). The demo authorizer already ignores both once their end is past; this makes the status, the
 * keys and the event catch up. It also removes the review queue's notifications of cases no longer waiting
 * (./review-queue-sweeper.ts).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { expiredRestrictions, liftRestriction } from './restriction-store';
import { sweepReviewNotifications } from './review-queue-sweeper';
import { EscalationStore, storeFromEnv } from './store';
import { expiredSuspensions, reinstate } from './reinstatement';

let store: EscalationStore | undefined;
let sqs: SQSClient | undefined;

export async function handler(): Promise<{ expired: number; failed: number; notificationsDeleted?: number }> {
  const queueUrl = process.env.REVIEW_QUEUE_URL;
  store ??= storeFromEnv({ apiKeys: true });
  const r = await expireSuspensions(store);
  if (!queueUrl) return r;
  sqs ??= new SQSClient({});
  const swept = await sweepReviewNotifications(store, sqs, queueUrl).catch((err: Error) => {
    logger.error('review queue sweep failed', { error: err.message }); // retried on the next run
    return { deleted: 0, kept: 0 };
  });
  return { ...r, notificationsDeleted: swept.deleted };
}

export async function expireSuspensions(s: EscalationStore, limit = 100): Promise<{ expired: number; failed: number }> {
  let expired = 0;
  let failed = 0;
  try {
    for (const a of await expiredSuspensions(s, s.now(), limit)) {
      try {
        const r = await reinstate(s, { accountId: a.accountId, actor: 'system:expirer', reason: 'suspension period ended', kind: 'expired' });
        if (r.reinstated) expired++;
      } catch (err) {
        failed++; // one bad account never blocks the others; it is retried on the next run
        logger.error('expiry failed', { accountId: a.accountId, error: (err as Error).message });
      }
    }
    for (const a of await expiredRestrictions(s, s.now(), limit)) {
      try {
        const r = await liftRestriction(s, { accountId: a.accountId, actor: 'system:expirer', reason: 'restriction period ended', kind: 'expired' });
        if (r.lifted) expired++;
      } catch (err) {
        failed++;
        logger.error('restriction expiry failed', { accountId: a.accountId, error: (err as Error).message });
      }
    }
    metrics.addMetric('SuspensionsExpired', MetricUnit.Count, expired);
    if (failed) metrics.addMetric('ExpiryFailures', MetricUnit.Count, failed);
    return { expired, failed };
  } finally {
    metrics.publishStoredMetrics();
  }
}
