/**
 * Outbox publisher: DynamoDB stream (control table, NEW_IMAGE) -> EventBridge. The event source mapping's
 * FilterCriteria deliver only INSERTs of `OUTBOX#` items, so this sees nothing else.
 *
 * Not Powertools BatchProcessor: it handles records one by one, while PutEvents takes up to 10 entries per call
 * and reports per-entry failures. Partial batch responses are still used: every record whose event is not on the
 * bus is returned as a batch item failure, so Lambda retries from the lowest of them (records before it are done).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { logger, metrics } from '../shared/powertools';
import { OUTBOX_PK_PREFIX } from '../../src/shared/tables';
import { OutboxStore } from './outbox-store';
import { OutboxCandidate, publishOutboxItems } from './publish-core';
import { requireEnv } from '../shared/env';

const eventBridge = new EventBridgeClient({});
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
  if (context) logger.addContext(context);
  const store = new OutboxStore(doc, { tableName: requireEnv('CONTROL_TABLE'), retentionDays: Number(process.env.OUTBOX_RETENTION_DAYS ?? '7') });
  const candidates: OutboxCandidate[] = [];
  try {
    for (const r of event.Records ?? []) {
      const seq = r.dynamodb?.SequenceNumber ?? r.eventID ?? '';
      const image = r.dynamodb?.NewImage;
      if (r.eventName !== 'INSERT' || !image) continue; // belt and braces: the filter already guarantees this
      const item = unmarshall(image as Record<string, AttributeValue>);
      if (!String(item.pk ?? '').startsWith(OUTBOX_PK_PREFIX)) continue;
      candidates.push({ key: seq, item });
    }
    const res = await publishOutboxItems(candidates, {
      eventBridge,
      store,
      eventBusName: requireEnv('EVENT_BUS_NAME'),
      publish: { maxAttempts: Number(process.env.PUBLISH_MAX_ATTEMPTS ?? '4') },
    });
    logger.info('outbox batch published', {
      records: event.Records?.length ?? 0,
      published: res.published,
      poison: res.poison,
      failed: res.failedKeys.length,
    });
    return { batchItemFailures: res.failedKeys.map((itemIdentifier) => ({ itemIdentifier })) };
  } finally {
    metrics.publishStoredMetrics();
  }
};
