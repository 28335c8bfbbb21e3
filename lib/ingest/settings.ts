/**
 * Tunables of the ingest stage: the stream and the access-log group (`IngestionStream`), the Firehose path
 * (`FirehoseAccessLogs`) and the demo API (`DemoApi`): default, range, unit, construct prop and doc of each flat
 * config key (lib/settings.ts). One table per construct, so each maps onto that construct's props.
 */
import type { SettingsTable } from '../settings';

/** The retention values CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999];

export const INGEST_SETTINGS = {
  streamMode: {
    type: 'enum',
    group: 'ingest',
    default: 'ON_DEMAND',
    values: ['ON_DEMAND', 'PROVISIONED'],
    doc: 'Kinesis capacity mode of the ingestion stream.',
  },
  shardCount: {
    type: 'integer',
    group: 'ingest',
    default: 2,
    min: 1,
    max: 500,
    doc: 'Shards of the ingestion stream; only used with `streamMode: "PROVISIONED"`.',
  },
  streamRetentionHours: {
    type: 'integer',
    group: 'ingest',
    default: 24,
    min: 24,
    max: 8760,
    unit: 'hours',
    prop: 'streamRetention',
    doc: 'Hours Kinesis keeps records; longer lets the aggregator catch up after a longer outage.',
  },
  accessLogRetentionDays: {
    type: 'enum',
    group: 'ingest',
    default: 7,
    values: LOG_RETENTION_DAYS,
    prop: 'accessLogRetention',
    doc: 'Days the access-log group keeps records (a CloudWatch Logs retention value).',
  },
  usageProducerAccountIds: {
    type: 'accountIds',
    group: 'ingest',
    default: [] as string[],
    prop: 'usageProducerAccountIds',
    doc: 'Accounts whose serving tier may assume the usage-producer role and put usage events ([contract: usage event](contract.md#2-usage-event-optional-from-the-model-serving-tier)) on the stream.',
  },
  existingRestApiId: {
    type: 'string',
    group: 'ingest',
    default: undefined,
    optional: true,
    pattern: /^[a-z0-9]{10}$/,
    doc: 'Id of your existing REST API whose stage `existingStageName` should log to distill-guard (UpdateStage custom resource).',
  },
  existingStageName: {
    type: 'string',
    group: 'ingest',
    default: undefined,
    optional: true,
    pattern: /^[A-Za-z0-9_-]{1,128}$/,
    doc: 'Stage of `existingRestApiId` to attach.',
  },
  configureApiGatewayAccountRole: {
    type: 'boolean',
    group: 'ingest',
    default: true,
    doc: 'Create the account-level API Gateway CloudWatch Logs role access logging needs; false when the account already has one.',
  },
  ingestPath: {
    type: 'enum',
    group: 'ingest',
    default: 'cloudwatch',
    values: ['cloudwatch', 'firehose'],
    doc: 'How access logs reach the aggregator: CloudWatch Logs subscription -> Kinesis (seconds), or Firehose -> S3 -> SQS (cheaper at scale, latency = the Firehose buffer; docs/cost.md).',
  },
} as const satisfies SettingsTable;

/** The Firehose path (`ingestPath: 'firehose'`). */
export const FIREHOSE_SETTINGS = {
  firehoseBufferSeconds: {
    type: 'integer',
    group: 'ingest',
    default: 60,
    min: 60,
    max: 900,
    unit: 'seconds',
    prop: 'bufferInterval',
    doc: 'Firehose path: buffer interval; an access-log object at least this often (the latency added at low rates).',
  },
  firehoseBufferMiB: {
    type: 'integer',
    group: 'ingest',
    default: 64,
    min: 1,
    max: 128,
    prop: 'bufferSizeMiB',
    doc: 'Firehose path: buffer size in MiB of raw access logs; an object as soon as this much arrived.',
  },
  accessLogObjectRetentionDays: {
    type: 'integer',
    group: 'ingest',
    default: 7,
    min: 1,
    max: 3650,
    unit: 'days',
    prop: 'objectRetention',
    doc: 'Firehose path: days the access-log objects are kept in S3 (lifecycle expiration).',
  },
} as const satisfies SettingsTable;

/** The demo API (`DistillGuardStack`, `demoApi: true`). */
export const DEMO_API_SETTINGS = {
  demoApi: { type: 'boolean', group: 'demo API', default: true, doc: 'Deploy the demo API (Lambda authorizer + stub model endpoint).' },
  demoStageName: {
    type: 'string',
    group: 'demo API',
    default: 'prod',
    pattern: /^[A-Za-z0-9_]{1,128}$/,
    prop: 'stageName',
    doc: 'Stage name of the demo API.',
  },
  demoAuthorizerCacheTtlSeconds: {
    type: 'integer',
    group: 'demo API',
    default: 0,
    min: 0,
    max: 3600,
    unit: 'seconds',
    prop: 'authorizerCacheTtl',
    doc: 'Seconds API Gateway caches the authorizer answer; a suspension takes up to this long to bite.',
  },
  demoThrottleRateLimit: {
    type: 'number',
    group: 'demo API',
    default: 100,
    min: 1,
    max: 100000,
    prop: 'throttleRateLimit',
    doc: 'Usage plan steady-state requests/s per API key.',
  },
  demoThrottleBurstLimit: {
    type: 'integer',
    group: 'demo API',
    default: 200,
    min: 1,
    max: 100000,
    prop: 'throttleBurstLimit',
    doc: 'Usage plan burst per API key.',
  },
  demoRestrictedRateLimit: {
    type: 'number',
    group: 'demo API',
    default: 1,
    min: 0.01,
    max: 100000,
    prop: 'restrictedRateLimit',
    doc: 'Restricted usage plan (the restrict step) steady-state requests/s per API key.',
  },
  demoRestrictedBurstLimit: {
    type: 'integer',
    group: 'demo API',
    default: 2,
    min: 1,
    max: 100000,
    prop: 'restrictedBurstLimit',
    doc: 'Restricted usage plan burst per API key.',
  },
  demoApiKeyRequired: {
    type: 'boolean',
    group: 'demo API',
    default: true,
    prop: 'apiKeyRequired',
    doc: 'Methods require an API key (`x-api-key`), so `apiKeyId` is in every access-log record.',
  },
  demoAllowUnknownAccounts: {
    type: 'boolean',
    group: 'demo API',
    default: true,
    prop: 'allowUnknownAccounts',
    doc: 'The authorizer allows accounts with no status record (treated as active).',
  },
  demoUsageEvents: {
    type: 'boolean',
    group: 'demo API',
    default: true,
    prop: 'emitUsageEvents',
    doc: 'The stub model endpoint emits usage events ([contract: usage event](contract.md#2-usage-event-optional-from-the-model-serving-tier)) on a stream of its own, which the aggregator reads as usage events only.',
  },
} as const satisfies SettingsTable;
