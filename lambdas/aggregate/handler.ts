/**
 * Aggregator Lambda: Kinesis (CloudWatch Logs envelopes and usage events) -> per-account hourly features in the
 * features table. A thin adapter around core.ts: reads its wiring from the environment the Aggregator construct
 * sets (FEATURES_TABLE, FAILURE_QUEUE_URL, FEATURE_RETENTION_DAYS, WATERMARK_SCOPE, ACCESS_LOG_GROUPS,
 * USAGE_STREAM_ARNS) and emits EMF metrics.
 */
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { DuplicateMemory } from '../../src/aggregate/dedupe';
import { ItemStateCache, processBatch, type WatermarkScope } from './core';
import { ensureIpHashKey } from './ip-hash-key';
import { requireEnv } from '../shared/env';

let ddb: DynamoDBClient | undefined;
let sqs: SQSClient | undefined;
const cache = new ItemStateCache();
/** Producer duplicates seen by this execution environment (bounded, src/aggregate/dedupe.ts). */
const duplicateMemory = new DuplicateMemory();

/**
 * ACCESS_LOG_GROUPS: the log groups access logs may come from, comma-separated (the construct sets it; log group
 * names cannot contain a comma). Unset or empty means none: every envelope is skipped as `unknown-log-group` and
 * only usage events are aggregated (fail closed, visible in the RecordsSkipped metric).
 */
function list(name: string): string[] {
  return (process.env[name] ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
}

export const handler = async (event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> => {
  if (context) logger.addContext(context);
  // The per-deployment IP hash key, before any address is hashed (cold start only).
  await ensureIpHashKey();
  ddb ??= new DynamoDBClient({});
  const queueUrl = process.env.FAILURE_QUEUE_URL;
  // The SDK's endpoint (AWS_ENDPOINT_URL_SQS locally, the regional endpoint in AWS), not the queue URL's host:
  // identical in AWS, and local queue URLs name a host that does not resolve.
  if (queueUrl) sqs ??= new SQSClient({ useQueueUrlAsEndpoint: false });
  const scope = (process.env.WATERMARK_SCOPE ?? 'shard') as WatermarkScope;
  if (scope !== 'shard' && scope !== 'partition-key')
    throw new Error(`watermark scope must be 'shard' or 'partition-key', got ${JSON.stringify(scope)}`);
  const records = event.Records ?? [];
  try {
    const out = await processBatch(records, {
      ddb,
      sqs,
      tableName: requireEnv('FEATURES_TABLE'),
      failureQueueUrl: queueUrl,
      retentionDays: Number(process.env.FEATURE_RETENTION_DAYS ?? '30'),
      watermarkScope: scope,
      log: logger,
      cache,
      accessLogGroups: list('ACCESS_LOG_GROUPS'),
      // USAGE_STREAM_ARNS: streams that carry usage events only (Aggregator.addUsageStream, e.g. the demo stub's).
      usageOnlyStreams: list('USAGE_STREAM_ARNS'),
      duplicateMemory,
    });
    const s = out.stats;
    metrics.addMetric('RecordsIn', MetricUnit.Count, records.length);
    metrics.addMetric('LinesIn', MetricUnit.Count, s.lines);
    metrics.addMetric('RecordsSkipped', MetricUnit.Count, s.skipped);
    metrics.addMetric('EventsAggregated', MetricUnit.Count, out.events);
    metrics.addMetric('WindowsWritten', MetricUnit.Count, out.deltas);
    metrics.addMetric('WritesIssued', MetricUnit.Count, out.writes);
    metrics.addMetric('DuplicatesSuppressed', MetricUnit.Count, out.duplicatesSuppressed);
    // Producer duplicates (the same requestId in two records) dropped before aggregation (src/aggregate/dedupe.ts).
    metrics.addMetric('DuplicateRequestsSkipped', MetricUnit.Count, s.duplicates);
    metrics.addMetric('ConditionalRetries', MetricUnit.Count, out.conditionalRetries);
    metrics.addMetric('PoisonRecordsParked', MetricUnit.Count, out.parked);
    metrics.addMetric('FailedWrites', MetricUnit.Count, out.failedWrites);
    // Counted, not skipped (core.ts): usage events attributed to another account than their access log.
    metrics.addMetric('UsageAccountMismatch', MetricUnit.Count, out.usageMismatches);
    if (out.usageMismatches > 0) {
      logger.warn('usage events disagree with the access logs (aggregated anyway)', {
        usageAccountMismatch: out.usageMismatches,
        samples: out.usageMismatchSamples,
      });
    }
    for (const [reason, n] of Object.entries(s.byReason)) {
      // One EMF document per reason (a small fixed set), so skips can be graphed by reason.
      const single = metrics.singleMetric();
      single.addDimension('reason', reason);
      single.addMetric('RecordsSkipped', MetricUnit.Count, n ?? 0);
    }
    logger.info('batch aggregated', {
      records: records.length,
      ...s.toJSON(),
      windows: out.deltas,
      writes: out.writes,
      duplicatesSuppressed: out.duplicatesSuppressed,
      conditionalRetries: out.conditionalRetries,
      usageAccountMismatch: out.usageMismatches,
      failures: out.response.batchItemFailures.length,
    });
    return out.response;
  } finally {
    metrics.publishStoredMetrics();
  }
};
