/**
 * Defaults of the aggregation stage (lib/aggregate): the documented `@default` of each `AggregatorProps` and
 * `ObjectAggregatorProps` prop. A prop set by a config key takes its default from that key's entry in
 * lib/aggregate/settings.ts; the others are set here.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AGGREGATE_SETTINGS } from './settings';

const S = AGGREGATE_SETTINGS;

export const AGGREGATE_DEFAULTS = {
  /**
   * Records per invocation. Large batches are what make pre-aggregation pay: one write per (account, hour) per
   * batch, however many events the batch holds.
   */
  batchSize: S.aggregatorBatchSize.default,
  /** How long the mapping waits to fill a batch (latency of features vs. writes saved). */
  maxBatchingWindow: Duration.seconds(S.aggregatorMaxBatchingWindowSeconds.default),
  /**
   * Concurrent batches per shard (1..10). Above 1 the aggregator keys its exactly-once watermarks by shard and
   * partition key, because Lambda then keeps order only per partition key.
   */
  parallelizationFactor: S.aggregatorParallelizationFactor.default,
  /** Retries of a failing batch (each retry bisects it) before its range goes to the on-failure queue. */
  retryAttempts: S.aggregatorRetryAttempts.default,
  /** Records older than this are sent to the on-failure queue instead of being processed. */
  maxRecordAge: Duration.seconds(S.aggregatorMaxRecordAgeSeconds.default),
  /** Days a feature window is kept after it ends (DynamoDB TTL); also bounds how long IP hashes are held. */
  featureRetentionDays: S.featuresRetentionDays.default,
  /** Aggregator memory: CPU scales with it, and decode/parse is CPU-bound. */
  memorySize: S.aggregatorMemoryMb.default,
  /** Aggregator timeout. */
  timeout: Duration.seconds(60),
  /** How long the on-failure queue keeps messages (SQS maximum). */
  failureQueueRetention: Duration.days(14),
  /** Removal policy of the features table (and a key created for it). */
  removalPolicy: RemovalPolicy.RETAIN,
  /**
   * What the features table's `byHour` index projects. 'INCLUDE_CHANGES' (keys + the `upd` change marker) rewrites
   * an index entry at most once per 5 minutes per window instead of on every write, and lets the scorer re-read only
   * the windows that changed since its previous run (docs/cost.md, docs/aggregate.md).
   */
  byHourProjection: S.featuresIndexProjection.default as FeaturesIndexProjection,

  // ---- the object aggregator (Firehose ingestion path, lib/aggregate/object-aggregator.ts) ----
  /** Object aggregator memory: one full vCPU, since decode and parse of a whole object are CPU-bound. */
  objectMemorySize: 1769,
  /** Object aggregator timeout; the object queue's visibility timeout is 6x this (AWS's advice for SQS sources). */
  objectTimeout: Duration.minutes(5),
  /** S3 notifications (objects) per invocation: one, since each object is already a large batch. */
  objectBatchSize: 1,
  /** Deliveries of a notification before SQS moves it to the object dead-letter queue. */
  objectMaxReceiveCount: 5,
  /** Alarm when the oldest object notification waits longer than this (the objects' iterator-age alarm). */
  objectQueueAgeAlarm: Duration.minutes(15),
} as const;

/**
 * Projection of the features table's `byHour` index:
 * - 'INCLUDE_CHANGES': the keys plus `upd`, the 5-minute bucket of the window's last write. The index entry is
 *   written when the window is created and again only when a write falls in a new 5-minute bucket; the scorer lists
 *   the keys and markers and BatchGets only the windows that changed since it last read them.
 * - 'KEYS_ONLY': the keys. The index entry is written once, when the window is created; the scorer cannot tell
 *   which windows changed, so it BatchGets every window of the lookback on every run.
 * - 'ALL': the whole item. Every write is billed twice (table + index, at the item's size), and the scorer reads
 *   whole windows from the index (no BatchGet).
 */
export type FeaturesIndexProjection = 'INCLUDE_CHANGES' | 'KEYS_ONLY' | 'ALL';
export const FEATURES_INDEX_PROJECTIONS: readonly FeaturesIndexProjection[] = S.featuresIndexProjection.values;

/** GSI of the features table: `gsi1pk = H#<windowStart>#<bucket>`, `gsi1sk = accountId` (src/shared/tables.ts). */
export { FEATURES_BY_HOUR_INDEX } from '../../src/shared/tables';
