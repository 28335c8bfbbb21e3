/**
 * Scheduled scorer (EventBridge schedule -> this function). Thin adapter around scorer-core.ts: wiring from the
 * environment the Scorer construct sets (FEATURES_TABLE, CONTROL_TABLE, STATE_MACHINE_ARN, DETECTION_CONFIG,
 * LOOKBACK_HOURS), EMF metrics, structured logs. SDK clients take their endpoint from the environment
 * (AWS_ENDPOINT_URL_<SERVICE> locally).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { detectionConfigFromEnv } from '../../src/detect/config';
import { logger, metrics, MetricUnit } from '../shared/powertools';
import { runScorer, type ScorerSummary } from './scorer-core';
import { WindowCache } from './window-reader';
import { S3Client } from '@aws-sdk/client-s3';
import type { ExternalIndicatorSet } from '../../src/detect/external';
import { cachedInbound, loadInbound } from '../share/inbound';
import { getSecretString } from '../shared/secrets-manager';
import { DETECT_SETTINGS } from '../../lib/detect/settings';
import { envNumber, requireEnv } from '../shared/env';

/** Partners' bundles (indicator sharing on: SHARING_BUCKET and SHARING_PARTNERS set), re-read every 15 minutes. */
async function partnerIndicators(now: number): Promise<ExternalIndicatorSet | undefined> {
  const bucket = process.env.SHARING_BUCKET;
  const partners = process.env.SHARING_PARTNERS;
  if (!bucket || !partners) return undefined;
  const s3 = new S3Client({});
  return cachedInbound(now, 15 * 60_000, () =>
    loadInbound(
      s3,
      bucket,
      JSON.parse(partners),
      (arn) => getSecretString(arn),
      (msg, extra) => logger.warn(msg, extra as Record<string, never>),
    ),
  );
}

let ddb: DynamoDBClient | undefined;
let sfn: SFNClient | undefined;
/** Windows and profiles of earlier runs in this execution environment (reserved concurrency 1: one at a time). */
const cache = new WindowCache();

export const handler = async (event: { time?: string } = {}, context?: Context): Promise<ScorerSummary> => {
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
    return summary;
  } finally {
    metrics.publishStoredMetrics();
  }
};
