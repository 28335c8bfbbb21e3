/**
 * Defaults of the ingestion stage (lib/ingest): the documented `@default` of each prop of its constructs. A prop set
 * by a config key takes its default from that key's entry in lib/ingest/settings.ts; the others are set here.
 */
import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DEMO_API_SETTINGS as DEMO, FIREHOSE_SETTINGS as FIREHOSE, INGEST_SETTINGS as S } from './settings';

export const INGEST_DEFAULTS = {
  /** Kinesis capacity mode: on-demand scales with the gateway's traffic without shard management. */
  streamMode: S.streamMode.default as 'ON_DEMAND' | 'PROVISIONED',
  /** Shards when `streamMode` is PROVISIONED. */
  shardCount: S.shardCount.default,
  /** Kinesis retention: one day covers a weekend-free outage of the aggregator and a replay of the last day. */
  streamRetention: Duration.hours(S.streamRetentionHours.default),
  /** Access-log group retention: the log group is a buffer for the subscription, Kinesis is the pipeline. */
  accessLogRetention: S.accessLogRetentionDays.default as logs.RetentionDays,
  /** Demo API stage name. */
  stageName: DEMO.demoStageName.default,
  /** Demo API authorizer result cache. 0 = every request re-reads the account status, so a suspension bites at once. */
  authorizerCacheTtl: Duration.seconds(DEMO.demoAuthorizerCacheTtlSeconds.default),
  /** Demo API usage plan: steady-state requests per second per API key. */
  throttleRateLimit: DEMO.demoThrottleRateLimit.default,
  /** Demo API usage plan: burst per API key. */
  throttleBurstLimit: DEMO.demoThrottleBurstLimit.default,
  /** Demo API restricted usage plan (the `restrict` step): steady-state requests per second per API key. */
  restrictedRateLimit: DEMO.demoRestrictedRateLimit.default,
  /** Demo API restricted usage plan: burst per API key. */
  restrictedBurstLimit: DEMO.demoRestrictedBurstLimit.default,
  /** Demo API: methods require an API key (so `apiKeyId` is in every access-log record). */
  apiKeyRequired: DEMO.demoApiKeyRequired.default,
  /** Demo API: accounts with no STATUS item in the control table are allowed (treated as active). */
  allowUnknownAccounts: DEMO.demoAllowUnknownAccounts.default,
  /** Demo model stub: emits usage events (docs/contract.md, usage event) on the ingestion stream. */
  emitUsageEvents: DEMO.demoUsageEvents.default,

  // ---- the Firehose ingestion path (`ingestPath: 'firehose'`, lib/ingest/firehose-access-logs.ts) ----
  /**
   * How access logs reach the aggregator. `cloudwatch`: stage -> CloudWatch Logs group -> subscription filter ->
   * Kinesis (the shipped default, ~2-7 s to a feature write). `firehose`: stage -> Amazon Data Firehose -> gzip'd
   * S3 objects -> S3 event -> SQS -> aggregator (cheaper per request, fewer feature writes; latency = the buffer).
   */
  ingestPath: S.ingestPath.default as 'cloudwatch' | 'firehose',
  /**
   * Firehose buffer interval: an object is written at least this often (60..900 s). It is the latency the path
   * adds below ~1k requests/s, where the size limit is never reached first (docs/cost.md).
   */
  firehoseBufferInterval: Duration.seconds(FIREHOSE.firehoseBufferSeconds.default),
  /** Firehose buffer size, MiB of raw access logs per object (1..128): reached first at high request rates. */
  firehoseBufferSizeMiB: FIREHOSE.firehoseBufferMiB.default,
  /** Days the access-log objects are kept in S3 (lifecycle expiration); they are a buffer and a replay source. */
  accessLogObjectRetention: Duration.days(FIREHOSE.accessLogObjectRetentionDays.default),
  /** Key prefix of the access-log objects (the S3 event notification filters on it). */
  accessLogObjectPrefix: 'access-logs/',
  /** Key prefix of records Firehose could not deliver (kept apart from the prefix the aggregator reads). */
  firehoseErrorPrefix: 'firehose-errors/',
  /** Append a newline to every record (Firehose's `AppendDelimiterToRecord` processor): newline-delimited objects. */
  firehoseAppendNewline: true,
} as const;

/** API Gateway only logs to Firehose streams whose name starts with this. */
export const APIGATEWAY_FIREHOSE_PREFIX = 'amazon-apigateway-';
