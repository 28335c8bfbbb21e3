/**
 * Object aggregator Lambda (the Firehose ingestion path): SQS messages carrying S3 ObjectCreated notifications for
 * the access-log objects Firehose writes -> per-account hourly features in the features table. A thin adapter
 * around object-core.ts, with Powertools Batch for the SQS partial batch response: a message whose object could
 * not be applied completely is reported as a batch item failure and redelivered (the exactly-once markers make the
 * replay exact); the others are deleted. Wiring from the environment the ObjectAggregator construct sets:
 * FEATURES_TABLE, FEATURE_RETENTION_DAYS, PARK_QUEUE_URL.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseS3Notification } from '../../src/ingest';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { ItemStateCache } from './core';
import { processObject, type ObjectOutcome } from './object-core';
import { ensureIpHashKey } from './ip-hash-key';
import { requireEnv } from '../shared/env';

let ddb: DynamoDBClient | undefined;
let s3: S3Client | undefined;
let sqs: SQSClient | undefined;
const cache = new ItemStateCache();
const processor = new BatchProcessor(EventType.SQS);

/** Totals over the objects of one invocation, published as EMF metrics at the end. */
class Totals {
  objects = 0;
  parked = 0;
  retried = 0;
  bytesIn = 0;
  lines = 0;
  skipped = 0;
  events = 0;
  windows = 0;
  writes = 0;
  duplicates = 0;
  duplicateRequests = 0;
  conditionalRetries = 0;
  failedWrites = 0;
  usageMismatches = 0;
  readonly byReason: Record<string, number> = {};
  /** Seconds from the oldest request in an object to its processing (buffering + delivery + queueing). */
  readonly requestLag: number[] = [];
  /** Seconds from the object's creation to its processing (S3 event + SQS). */
  readonly objectLag: number[] = [];

  add(o: ObjectOutcome, now: number): void {
    this.objects++;
    if (o.status === 'parked') this.parked++;
    if (o.status === 'retry') this.retried++;
    this.bytesIn += o.bytesIn;
    this.lines += o.stats.lines;
    this.skipped += o.stats.skipped;
    this.events += o.events;
    this.windows += o.deltas;
    this.writes += o.writes;
    this.duplicates += o.duplicatesSuppressed;
    this.duplicateRequests += o.stats.duplicates;
    this.conditionalRetries += o.conditionalRetries;
    this.failedWrites += o.failedWrites;
    this.usageMismatches += o.usageMismatches;
    for (const [r, n] of Object.entries(o.stats.byReason)) this.byReason[r] = (this.byReason[r] ?? 0) + (n ?? 0);
    if (o.oldestTs !== undefined) this.requestLag.push((now - o.oldestTs) / 1000);
    if (o.createdAt !== undefined) this.objectLag.push((now - o.createdAt) / 1000);
  }
}

let totals = new Totals();

async function recordHandler(record: SQSRecord): Promise<void> {
  const n = parseS3Notification(record.body);
  if (n.kind === 'test') return; // S3 sends s3:TestEvent when the notification is configured
  if (n.kind === 'invalid') {
    // Not an S3 notification: fail it; SQS redrives it to the dead-letter queue after maxReceiveCount.
    totals.byReason['not-s3-event'] = (totals.byReason['not-s3-event'] ?? 0) + 1;
    throw new Error(`message ${record.messageId} is not an s3 event notification (${n.reason})`);
  }
  for (const ref of n.objects) {
    const out = await processObject(ref, {
      ddb: ddb!,
      s3: s3!,
      sqs,
      tableName: requireEnv('FEATURES_TABLE'),
      parkQueueUrl: process.env.PARK_QUEUE_URL,
      retentionDays: Number(process.env.FEATURE_RETENTION_DAYS ?? '30'),
      log: logger,
      cache,
    });
    totals.add(out, Date.now());
    logger.info('object aggregated', {
      bucket: ref.bucket,
      key: ref.key,
      status: out.status,
      reason: out.reason,
      bytesIn: out.bytesIn,
      bytesOut: out.bytesOut,
      chunks: out.chunks,
      ...out.stats.toJSON(),
      windows: out.deltas,
      writes: out.writes,
      duplicatesSuppressed: out.duplicatesSuppressed,
      conditionalRetries: out.conditionalRetries,
      failedWrites: out.failedWrites,
      usageAccountMismatch: out.usageMismatches,
    });
    if (out.usageMismatches > 0) {
      logger.warn('usage events disagree with the access logs (aggregated anyway)', {
        usageAccountMismatch: out.usageMismatches,
        samples: out.usageMismatchSamples,
      });
    }
    if (out.status === 'retry')
      throw new Error(
        `s3://${ref.bucket}/${ref.key} not completely applied (${out.failedWrites} failed writes${out.reason ? `, ${out.reason}` : ''}); left for redelivery`,
      );
  }
}

export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  if (context) logger.addContext(context);
  // The per-deployment IP hash key, before any address is hashed (cold start only).
  await ensureIpHashKey();
  ddb ??= new DynamoDBClient({});
  s3 ??= new S3Client({});
  // The SDK's endpoint (AWS_ENDPOINT_URL_SQS locally), not the queue URL's host: identical in AWS.
  if (process.env.PARK_QUEUE_URL) sqs ??= new SQSClient({ useQueueUrlAsEndpoint: false });
  totals = new Totals();
  try {
    // One object at a time: objects are large (up to ~128 MiB raw), and each is already one big batch of writes.
    return await processPartialResponse(event, recordHandler, processor, { context, processInParallel: false, throwOnFullBatchFailure: false });
  } finally {
    const t = totals;
    metrics.addMetric('ObjectsIn', MetricUnit.Count, t.objects);
    metrics.addMetric('ObjectBytes', MetricUnit.Bytes, t.bytesIn);
    metrics.addMetric('ObjectsParked', MetricUnit.Count, t.parked);
    metrics.addMetric('ObjectsRetried', MetricUnit.Count, t.retried);
    metrics.addMetric('LinesIn', MetricUnit.Count, t.lines);
    metrics.addMetric('RecordsSkipped', MetricUnit.Count, t.skipped);
    metrics.addMetric('EventsAggregated', MetricUnit.Count, t.events);
    metrics.addMetric('WindowsWritten', MetricUnit.Count, t.windows);
    metrics.addMetric('WritesIssued', MetricUnit.Count, t.writes);
    metrics.addMetric('DuplicatesSuppressed', MetricUnit.Count, t.duplicates);
    // Producer duplicates (the same requestId in two lines) dropped before aggregation (src/aggregate/dedupe.ts).
    metrics.addMetric('DuplicateRequestsSkipped', MetricUnit.Count, t.duplicateRequests);
    metrics.addMetric('ConditionalRetries', MetricUnit.Count, t.conditionalRetries);
    metrics.addMetric('FailedWrites', MetricUnit.Count, t.failedWrites);
    metrics.addMetric('UsageAccountMismatch', MetricUnit.Count, t.usageMismatches);
    // The latency the Firehose buffering costs, as seen in production (docs/cost.md).
    for (const s of t.requestLag) metrics.addMetric('IngestLagSeconds', MetricUnit.Seconds, s);
    for (const s of t.objectLag) metrics.addMetric('ObjectLagSeconds', MetricUnit.Seconds, s);
    for (const [reason, n] of Object.entries(t.byReason)) {
      const single = metrics.singleMetric();
      single.addDimension('reason', reason);
      single.addMetric('RecordsSkipped', MetricUnit.Count, n);
    }
    metrics.publishStoredMetrics();
  }
};
