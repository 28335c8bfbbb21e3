/**
 * Defaults of the detection stage (lib/detect): the documented `@default` of each `ScorerProps` prop. A prop set by a
 * config key takes its default from that key's entry in lib/detect/settings.ts; the others are set here.
 */
import { Duration } from 'aws-cdk-lib';
import { DETECT_SETTINGS } from './settings';

const S = DETECT_SETTINGS;

export const DETECT_DEFAULTS = {
  /** How often the scorer runs (EventBridge schedule). */
  schedule: Duration.minutes(S.scoreIntervalMinutes.default),
  /** How much history each run reads: synchrony needs days of co-activity, pivots a day around a release. */
  lookback: Duration.hours(S.scoreLookbackHours.default),
  /** Memory (and so CPU: 1769 MB = one full vCPU) of the scorer; linkage is CPU-bound. */
  memorySize: S.scorerMemoryMb.default,
  /** Scorer timeout: a run must finish well before the next one starts. */
  timeout: Duration.minutes(4),
  /**
   * How long a warm scorer reuses a window it read in an earlier run while the `byHour` index's change marker shows
   * it unchanged (lambdas/detect/window-reader.ts). Longer reads less; the bound only guards against anything the
   * marker could miss. Duration.minutes(0) reads every window on every run.
   */
  windowCacheMaxAge: Duration.hours(6),
  /** From this many active accounts the scorer shards the linkage (lib/detect/sharded-linkage.ts). */
  shardedLinkageMinAccounts: S.shardedLinkageMinAccounts.default,
  /** Stage children of one Distributed Map at once: enough to finish a run in minutes, few enough for S3 and KMS. */
  linkageMaxConcurrency: 40,
  /**
   * Memory of a run's children (stage and score-shard functions): the largest, a `partition` child of 250,000
   * accounts, peaked at 2.1 GB (docs/detection.md §7); 3008 MB leaves it a third of headroom.
   */
  linkageStageMemorySize: 3008,
  /** A stage child's timeout: inside the 5 minutes an Express child may run. */
  linkageStageTimeout: Duration.minutes(4),
  /** A run's records are needed for minutes; expired after a day. */
  linkageRecordExpiration: Duration.days(1),
  /** Longest distributed detection run (its stages and the scorer's finish). */
  linkageRunTimeout: Duration.hours(1),
  /** Alarm thresholds of the scorer's own utilization metrics (percent): well before the limits stop a run. */
  memoryAlarmPercent: 70,
  durationAlarmPercent: 60,
} as const;
