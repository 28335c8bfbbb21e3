/**
 * Defaults of the ingestion stage (lib/ingest). Every value here is the documented `@default` of a prop;
 * change a default here and nowhere else.
 */
import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

export const INGEST_DEFAULTS = {
  /** Kinesis capacity mode: on-demand scales with the gateway's traffic without shard management. */
  streamMode: 'ON_DEMAND' as 'ON_DEMAND' | 'PROVISIONED',
  /** Shards when `streamMode` is PROVISIONED. */
  shardCount: 2,
  /** Kinesis retention: one day covers a weekend-free outage of the aggregator and a replay of the last day. */
  streamRetention: Duration.hours(24),
  /** Access-log group retention: the log group is a buffer for the subscription, Kinesis is the pipeline. */
  accessLogRetention: logs.RetentionDays.ONE_WEEK,
  /** Demo API stage name. */
  stageName: 'prod',
  /** Demo API authorizer result cache. 0 = every request re-reads the account status, so a suspension bites at once. */
  authorizerCacheTtl: Duration.seconds(0),
  /** Demo API usage plan: steady-state requests per second per API key. */
  throttleRateLimit: 100,
  /** Demo API usage plan: burst per API key. */
  throttleBurstLimit: 200,
  /** Demo API: methods require an API key (so `apiKeyId` is in every access-log record). */
  apiKeyRequired: true,
  /** Demo API: accounts with no STATUS item in the control table are allowed (treated as active). */
  allowUnknownAccounts: true,
  /** Demo model stub: emits CONTRACT §2 usage events on the ingestion stream. */
  emitUsageEvents: true,
} as const;
