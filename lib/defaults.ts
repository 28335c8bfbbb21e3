/**
 * Top-level defaults of distill-guard: the `@default` of every key of `DistillGuardConfig` (lib/config.ts).
 * Stage-internal defaults live with each stage (lib/<stage>/defaults.ts); where a key here sets a stage prop,
 * its value is taken from that stage's defaults so the two cannot disagree.
 */
import { INGEST_DEFAULTS } from './ingest/defaults';
import { AGGREGATE_DEFAULTS } from './aggregate/defaults';
import { DETECT_DEFAULTS } from './detect/defaults';
import { ESCALATE_DEFAULTS } from './escalate/defaults';
import { NOTIFY_DEFAULTS } from './notify/defaults';

/** Not `DistillGuardConfig` typed here to avoid an import cycle; lib/config.ts checks the shape. */
export const DEFAULT_CONFIG = {
  dataRemovalPolicy: 'retain',

  streamMode: INGEST_DEFAULTS.streamMode,
  shardCount: INGEST_DEFAULTS.shardCount,
  streamRetentionHours: INGEST_DEFAULTS.streamRetention.toHours(),
  accessLogRetentionDays: INGEST_DEFAULTS.accessLogRetention as number,
  usageProducerAccountIds: [] as string[],
  existingRestApiId: undefined,
  existingStageName: undefined,
  configureApiGatewayAccountRole: true,
  ingestPath: INGEST_DEFAULTS.ingestPath,
  firehoseBufferSeconds: INGEST_DEFAULTS.firehoseBufferInterval.toSeconds(),
  firehoseBufferMiB: INGEST_DEFAULTS.firehoseBufferSizeMiB as number,
  accessLogObjectRetentionDays: INGEST_DEFAULTS.accessLogObjectRetention.toDays(),

  demoApi: true,
  demoStageName: INGEST_DEFAULTS.stageName,
  demoAuthorizerCacheTtlSeconds: INGEST_DEFAULTS.authorizerCacheTtl.toSeconds(),
  demoThrottleRateLimit: INGEST_DEFAULTS.throttleRateLimit,
  demoThrottleBurstLimit: INGEST_DEFAULTS.throttleBurstLimit,
  demoRestrictedRateLimit: INGEST_DEFAULTS.restrictedRateLimit,
  demoRestrictedBurstLimit: INGEST_DEFAULTS.restrictedBurstLimit,
  demoApiKeyRequired: INGEST_DEFAULTS.apiKeyRequired,
  demoAllowUnknownAccounts: INGEST_DEFAULTS.allowUnknownAccounts,
  demoUsageEvents: INGEST_DEFAULTS.emitUsageEvents,

  aggregatorBatchSize: AGGREGATE_DEFAULTS.batchSize as number,
  aggregatorMaxBatchingWindowSeconds: AGGREGATE_DEFAULTS.maxBatchingWindow.toSeconds(),
  aggregatorParallelizationFactor: AGGREGATE_DEFAULTS.parallelizationFactor as number,
  aggregatorRetryAttempts: AGGREGATE_DEFAULTS.retryAttempts as number,
  aggregatorMaxRecordAgeSeconds: AGGREGATE_DEFAULTS.maxRecordAge.toSeconds(),
  featuresRetentionDays: AGGREGATE_DEFAULTS.featureRetentionDays as number,
  aggregatorMemoryMb: AGGREGATE_DEFAULTS.memorySize as number,
  featuresIndexProjection: AGGREGATE_DEFAULTS.byHourProjection,
  publicIpHashKey: false,

  scoreIntervalMinutes: DETECT_DEFAULTS.schedule.toMinutes(),
  scoreLookbackHours: DETECT_DEFAULTS.lookback.toHours(),
  scorerMemoryMb: DETECT_DEFAULTS.memorySize as number,
  detectionConfig: {},

  shadowMode: ESCALATE_DEFAULTS.shadowMode as boolean,
  shadowSignals: [...ESCALATE_DEFAULTS.shadowSignals] as string[],
  reviewTimeoutHours: ESCALATE_DEFAULTS.reviewTimeout.toHours(),
  banBaseHours: ESCALATE_DEFAULTS.banBase.toHours(),
  banFactor: ESCALATE_DEFAULTS.banFactor as number,
  banMaxDays: ESCALATE_DEFAULTS.banMax.toDays(),
  banForgetAfterDays: ESCALATE_DEFAULTS.banForgetAfter.toDays(),
  breakerMaxPerHour: ESCALATE_DEFAULTS.breakerMaxPerHour as number,
  breakerMaxShare: ESCALATE_DEFAULTS.breakerMaxShare as number,
  breakerMinActiveForShare: ESCALATE_DEFAULTS.breakerMinActiveForShare as number,
  manageApiKeys: true,
  restrictDurationHours: ESCALATE_DEFAULTS.restrictDuration.toHours(),
  standardUsagePlanId: undefined,
  restrictedUsagePlanId: undefined,
  caseRetentionDays: ESCALATE_DEFAULTS.caseRetention.toDays(),

  consumerAccountIds: [] as string[],
  organizationId: undefined,
  archiveRetentionDays: NOTIFY_DEFAULTS.archiveRetention.toDays(),

  alarmEmail: undefined,
  iteratorAgeAlarmSeconds: 300,
  reviewQueueAgeAlarmHours: 12,
  dashboard: true,
} as const;
