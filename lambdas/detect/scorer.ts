/**
 * Scheduled scorer (EventBridge schedule -> this function), and the last step of a distributed detection run (the run's
 * state machine -> this function with `{ time, sharded: { plan } }`). Thin adapter around scorer-core.ts: wiring
 * from the environment the Scorer construct sets (FEATURES_TABLE, CONTROL_TABLE, STATE_MACHINE_ARN,
 * DETECTION_CONFIG, LOOKBACK_HOURS, LINKAGE_*, SHARDED_LINKAGE_MIN_ACCOUNTS, ACCOUNTS_PER_SHARD), EMF metrics, logs. SDK
 * clients take their endpoint from the environment (AWS_ENDPOINT_URL_<SERVICE> locally).
 *
 * Every run publishes its population and its use of memory and time (percent of the function's limits), so the
 * alarms fire well before a growing population stops detection; a run whose peak memory passed
 * SHARDED_MEMORY_SHARE sends the next run of this execution environment down the sharded path.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { detectionConfigFromEnv } from '../../src/detect/config';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { runScorer, type ScorerSummary } from './scorer-core';
import { WindowCache } from './window-reader';
import { S3Client } from '@aws-sdk/client-s3';
import { partnerIndicators } from './partner-indicators';
import { DETECT_SETTINGS } from '../../lib/detect/settings';
import { envNumber, requireEnv } from '../shared/env';
import type { RunPlan } from '../../src/detect/sharded-run/stages';
import { S3ShardStore } from './shard-store';
import { SHARDED_MEMORY_SHARE, type ShardedLinkageDeps } from './sharded-run';

let ddb: DynamoDBClient | undefined;
let sfn: SFNClient | undefined;
let s3: S3Client | undefined;
/** Peak memory of this execution environment's last in-process run, as a share of its limit. */
let lastSingleMemoryShare = 0;

export interface ScorerEvent {
  time?: string;
  /** Set by the linkage state machine's last step. */
  sharded?: { plan: RunPlan };
}

/** The sharded path's wiring (the Scorer construct sets it; without LINKAGE_BUCKET every run links in process). */
function shardedDeps(): ShardedLinkageDeps | undefined {
  const bucket = process.env.LINKAGE_BUCKET;
  if (!bucket) return undefined;
  const { min, max, default: fallback } = DETECT_SETTINGS.shardedLinkageMinAccounts;
  const shard = DETECT_SETTINGS.detectionShardAccounts;
  s3 ??= new S3Client({});
  return {
    store: new S3ShardStore(s3, bucket, { kmsKeyId: process.env.LINKAGE_KEY_ARN }),
    sfn: sfn!,
    stateMachineArn: requireEnv('LINKAGE_STATE_MACHINE_ARN'),
    minAccounts: envNumber('SHARDED_LINKAGE_MIN_ACCOUNTS', min, max, fallback),
    accountsPerShard: envNumber('ACCOUNTS_PER_SHARD', shard.min, shard.max, shard.default),
    force: lastSingleMemoryShare >= SHARDED_MEMORY_SHARE,
  };
}

/** Use of the function's memory (peak RSS) and time, for the metrics and the next run's path. */
export function utilization(startedAt: number, context?: Pick<Context, 'memoryLimitInMB' | 'getRemainingTimeInMillis'>) {
  const mem = process.memoryUsage();
  const rssMB = process.resourceUsage().maxRSS / 1024;
  const elapsed = Date.now() - startedAt;
  const limitMB = Number(context?.memoryLimitInMB);
  const remaining = context?.getRemainingTimeInMillis?.();
  return {
    heapUsedMB: mem.heapUsed / 2 ** 20,
    rssMB,
    memoryShare: limitMB > 0 ? rssMB / limitMB : undefined,
    durationShare: remaining !== undefined && elapsed + remaining > 0 ? elapsed / (elapsed + remaining) : undefined,
  };
}

const LINKAGE_PATH_METRIC: Record<ScorerSummary['path'], number> = { single: 0, sharded: 1, 'sharded-finish': 1, 'sharded-in-flight': 1 };

function publishRunMetrics(summary: ScorerSummary, use: ReturnType<typeof utilization>): void {
  if (summary.path !== 'sharded-in-flight') metrics.addMetric('ActiveAccounts', MetricUnit.Count, summary.accounts);
  metrics.addMetric('LinkagePath', MetricUnit.Count, LINKAGE_PATH_METRIC[summary.path]);
  metrics.addMetric('TotalMs', MetricUnit.Milliseconds, summary.timings.totalMs);
  metrics.addMetric('HeapUsedMB', MetricUnit.Megabytes, use.heapUsedMB);
  metrics.addMetric('RssMB', MetricUnit.Megabytes, use.rssMB);
  if (use.memoryShare !== undefined) metrics.addMetric('MemoryUtilizationPercent', MetricUnit.Percent, 100 * use.memoryShare);
  if (use.durationShare !== undefined) metrics.addMetric('DurationUtilizationPercent', MetricUnit.Percent, 100 * use.durationShare);
}
/** Windows and profiles of earlier runs in this execution environment (reserved concurrency 1: one at a time). */
const cache = new WindowCache();

export const handler = async (event: ScorerEvent = {}, context?: Context): Promise<ScorerSummary> => {
  const startedAt = Date.now();
  if (context) logger.addContext(context);
  ddb ??= new DynamoDBClient({});
  sfn ??= new SFNClient({});
  const { min, max, default: fallback } = DETECT_SETTINGS.scoreLookbackHours;
  const lookbackHours = envNumber('LOOKBACK_HOURS', min, max, fallback);
  // The scheduled event's time is the run's clock (a retried invocation scores the same instant).
  const t = event.time ? Date.parse(event.time) : NaN;
  const now = Number.isFinite(t) ? t : Date.now();
  // WINDOW_CACHE_MAX_AGE_MINUTES = 0 turns reuse across runs off.
  const maxAgeMin = envNumber('WINDOW_CACHE_MAX_AGE_MINUTES', 0, Infinity, 360);
  if (maxAgeMin === 0) cache.clear();
  try {
    const summary = await runScorer({
      ddb,
      sfn,
      featuresTable: requireEnv('FEATURES_TABLE'),
      controlTable: requireEnv('CONTROL_TABLE'),
      stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
      config: detectionConfigFromEnv(),
      external: await partnerIndicators(Date.now()),
      lookbackHours,
      now,
      byHourIndex: process.env.BY_HOUR_INDEX,
      byStateIndex: process.env.BY_STATE_INDEX,
      cache: maxAgeMin > 0 ? cache : undefined,
      cacheMaxAgeMs: maxAgeMin * 60_000,
      sharded: shardedDeps(),
      finish: event.sharded?.plan,
      log: {
        info: (msg, extra) => logger.info(msg, extra as Record<string, never>),
        error: (msg, extra) => logger.error(msg, extra as Record<string, never>),
      },
    });
    metrics.addMetric('WindowsRead', MetricUnit.Count, summary.windows);
    metrics.addMetric('AccountsScored', MetricUnit.Count, summary.accounts);
    metrics.addMetric('Clusters', MetricUnit.Count, summary.clusters);
    metrics.addMetric('AccountsReview', MetricUnit.Count, summary.decisions.review ?? 0);
    metrics.addMetric('AccountsSuspend', MetricUnit.Count, summary.decisions.suspend ?? 0);
    metrics.addMetric('CasesStarted', MetricUnit.Count, summary.casesStarted);
    // Flagged accounts left without a running case (refused start, or today's execution failed): retried next run.
    metrics.addMetric('CaseStartFailed', MetricUnit.Count, summary.casesStartFailed);
    metrics.addMetric('DetectMs', MetricUnit.Milliseconds, summary.detectMs);
    metrics.addMetric('ReadMs', MetricUnit.Milliseconds, summary.timings.readMs);
    metrics.addMetric('WindowsFetched', MetricUnit.Count, summary.read.fetched);
    metrics.addMetric('WindowsReused', MetricUnit.Count, summary.read.reused);
    const use = utilization(startedAt, context);
    publishRunMetrics(summary, use);
    if (summary.path === 'single' && use.memoryShare !== undefined) lastSingleMemoryShare = use.memoryShare;
    return summary;
  } finally {
    metrics.publishStoredMetrics();
  }
};
