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
  /** Demo API restricted usage plan (the `restrict` step): steady-state requests per second per API key. */
  restrictedRateLimit: 1,
  /** Demo API restricted usage plan: burst per API key. */
  restrictedBurstLimit: 2,
  /** Demo API: methods require an API key (so `apiKeyId` is in every access-log record). */
  apiKeyRequired: true,
  /** Demo API: accounts with no STATUS item in the control table are allowed (treated as active). */
  allowUnknownAccounts: true,
  /** Demo model stub: emits docs/contract.md §2 usage events on the ingestion stream. */
  emitUsageEvents: true,

  // ---- the Firehose ingestion path (`ingestPath: 'firehose'`, lib/ingest/firehose-access-logs.ts) ----
  /**
   * How access logs reach the aggregator. `cloudwatch`: stage -> CloudWatch Logs group -> subscription filter ->
   * Kinesis (the shipped default, ~2-7 s to a feature write). `firehose`: stage -> Amazon Data Firehose -> gzip'd
   * S3 objects -> S3 event -> SQS -> aggregator (cheaper per request, fewer feature writes; latency = the buffer).
   */
  ingestPath: 'cloudwatch' as 'cloudwatch' | 'firehose',
  /**
   * Firehose buffer interval: an object is written at least this often (60..900 s). It is the latency the path
   * adds below ~1k requests/s, where the size limit is never reached first (docs/cost.md).
   */
  firehoseBufferInterval: Duration.seconds(60),
  /** Firehose buffer size, MiB of raw access logs per object (1..128): reached first at high request rates. */
  firehoseBufferSizeMiB: 64,
  /** Days the access-log objects are kept in S3 (lifecycle expiration); they are a buffer and a replay source. */
  accessLogObjectRetention: Duration.days(7),
  /** Key prefix of the access-log objects (the S3 event notification filters on it). */
  accessLogObjectPrefix: 'access-logs/',
  /** Key prefix of records Firehose could not deliver (kept apart from the prefix the aggregator reads). */
  firehoseErrorPrefix: 'firehose-errors/',
  /** Append a newline to every record (Firehose's `AppendDelimiterToRecord` processor): newline-delimited objects. */
  firehoseAppendNewline: true,
} as const;

/** API Gateway only logs to Firehose streams whose name starts with this. */
export const APIGATEWAY_FIREHOSE_PREFIX = 'amazon-apigateway-';
