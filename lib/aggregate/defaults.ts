/**
 * Defaults of the aggregation stage (lib/aggregate). Every value here is the documented `@default` of an
 * `AggregatorProps` prop; change a default here and nowhere else.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';

export const AGGREGATE_DEFAULTS = {
  /**
   * Records per invocation. Large batches are what make pre-aggregation pay: one write per (account, hour) per
   * batch, however many events the batch holds.
   */
  batchSize: 1000,
  /** How long the mapping waits to fill a batch (latency of features vs. writes saved). */
  maxBatchingWindow: Duration.seconds(5),
  /**
   * Concurrent batches per shard (1..10). Above 1 the aggregator keys its exactly-once watermarks by shard and
   * partition key, because Lambda then keeps order only per partition key.
   */
  parallelizationFactor: 1,
  /** Retries of a failing batch (each retry bisects it) before its range goes to the on-failure queue. */
  retryAttempts: 5,
  /** Records older than this are sent to the on-failure queue instead of being processed. */
  maxRecordAge: Duration.days(1),
  /** Days a feature window is kept after it ends (DynamoDB TTL); also bounds how long IP hashes are held. */
  featureRetentionDays: 30,
  /** Aggregator memory: CPU scales with it, and decode/parse is CPU-bound. */
  memorySize: 1024,
  /** Aggregator timeout. */
  timeout: Duration.seconds(60),
  /** How long the on-failure queue keeps messages (SQS maximum). */
  failureQueueRetention: Duration.days(14),
  /** Removal policy of the features table (and a key created for it). */
  removalPolicy: RemovalPolicy.RETAIN,
} as const;

/** GSI of the features table: `gsi1pk = H#<windowStart>#<bucket>`, `gsi1sk = accountId` (docs/DESIGN.md). */
export const FEATURES_BY_HOUR_INDEX = 'byHour';
