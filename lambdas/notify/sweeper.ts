/**
 * Outbox sweeper (scheduled): re-publishes outbox items still pending `SWEEP_MIN_AGE_SECONDS` after they were
 * written. This is what makes the outbox lossless beyond the stream's limits: a DynamoDB stream keeps records
 * 24 h, and a record that exhausts the mapping's retries goes to the on-failure queue as METADATA only (shard and
 * sequence range, not the item), so without a sweep such an event would need manual re-drive. The sweeper also
 * reports the age of the oldest pending item (`OutboxOldestPendingAgeSeconds`) and the poison count, which the
 * construct alarms on.
 */
import type { Context } from 'aws-lambda';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { OutboxStore } from './outbox-store';
import { publishOutboxItems } from './publish-core';
import { requireEnv } from '../shared/env';

const eventBridge = new EventBridgeClient({});
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export interface SweepResult {
  found: number;
  published: number;
  poison: number;
  stillPending: number;
  oldestPendingAgeSeconds: number;
}

export const handler = async (_event?: unknown, context?: Context): Promise<SweepResult> => {
  if (context) logger.addContext(context);
  const now = Date.now();
  const store = new OutboxStore(doc, { tableName: requireEnv('CONTROL_TABLE'), retentionDays: Number(process.env.OUTBOX_RETENTION_DAYS ?? '7') });
  const minAgeMs = Number(process.env.SWEEP_MIN_AGE_SECONDS ?? '300') * 1000;
  const limit = Number(process.env.SWEEP_MAX_ITEMS ?? '500');
  try {
    const pending = await store.listPending(now - minAgeMs, limit);
    const res = await publishOutboxItems(
      pending.map((item) => ({ key: String(item.pk), item })),
      { eventBridge, store, eventBusName: requireEnv('EVENT_BUS_NAME'), publish: { maxAttempts: Number(process.env.PUBLISH_MAX_ATTEMPTS ?? '4') } },
    );
    const oldest = await store.oldestPendingCreatedAt();
    const oldestAge = oldest === null ? 0 : Math.max(0, Math.round((Date.now() - oldest) / 1000));
    metrics.addMetric('OutboxSweptEvents', MetricUnit.Count, res.published);
    metrics.addMetric('OutboxOldestPendingAgeSeconds', MetricUnit.Seconds, oldestAge);
    metrics.addMetric('OutboxPoisonItems', MetricUnit.Count, await store.countPoison());
    const out = {
      found: pending.length,
      published: res.published,
      poison: res.poison,
      stillPending: res.failedKeys.length,
      oldestPendingAgeSeconds: oldestAge,
    };
    if (pending.length) logger.info('outbox sweep re-published pending events', { ...out });
    return out;
  } finally {
    metrics.publishStoredMetrics();
  }
};
