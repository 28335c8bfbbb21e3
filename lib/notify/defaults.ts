/**
 * Defaults of the notify stage (lib/notify): the documented `@default` of each BanEvents prop. A prop set by a config
 * key takes its default from that key's entry in lib/notify/settings.ts; the others are set here.
 */
import { Duration } from 'aws-cdk-lib';
import { NOTIFY_SETTINGS } from './settings';

export const NOTIFY_DEFAULTS = {
  /** Archive retention: a year lets a consumer rebuild its state after any realistic outage or a bug in its own code. */
  archiveRetention: Duration.days(NOTIFY_SETTINGS.archiveRetentionDays.default),
  /** Stream -> publisher batch size (PutEvents takes 10 per call; the handler chunks). */
  publisherBatchSize: 25,
  /** Batching window: ban events are rare and latency matters more than invocations. */
  publisherMaxBatchingWindow: Duration.seconds(0),
  /** Stream retries of a failing batch (after the handler's own per-entry retries). Bounded: the sweeper is the backstop. */
  publisherRetryAttempts: 8,
  /** Give up on a stream record after this long (the sweeper republishes it from the table). */
  publisherMaxRecordAge: Duration.hours(1),
  /** PutEvents attempts per entry inside one invocation (first try included). */
  publishMaxAttempts: 4,
  /** How often the sweeper runs. */
  sweeperInterval: Duration.minutes(5),
  /** An outbox item still unpublished this long after it was written is re-published by the sweeper. */
  sweeperMinAge: Duration.minutes(5),
  /** Most items one sweep republishes. */
  sweeperMaxItems: 500,
  /** Days a published outbox item is kept (TTL) in the control table. */
  outboxRetentionDays: 7,
  /** Alarm when the oldest unpublished outbox item is older than this. */
  maxPendingAge: Duration.minutes(15),
  /** Schema registry name suffix (the registry is `<stack name>-<suffix>`, unique per account and region). */
  registryNameSuffix: 'ban-events',
  /** Event source of every ban event (docs/contract.md, ban events). */
  source: 'distill-guard',
} as const;

/** Actions a consumer account may call on rules it creates on the bus (AWS's cross-account rule-management example). */
export const CONSUMER_RULE_ACTIONS = [
  'events:PutRule',
  'events:DeleteRule',
  'events:DescribeRule',
  'events:EnableRule',
  'events:DisableRule',
  'events:PutTargets',
  'events:RemoveTargets',
  'events:ListTargetsByRule',
  'events:TagResource',
  'events:UntagResource',
  'events:ListTagsForResource',
];

/** Read-only schema registry actions granted to consumers (find the schema, download code bindings). */
export const CONSUMER_SCHEMA_ACTIONS = [
  'schemas:DescribeRegistry',
  'schemas:ListSchemas',
  'schemas:ListSchemaVersions',
  'schemas:DescribeSchema',
  'schemas:ExportSchema',
  'schemas:SearchSchemas',
  'schemas:DescribeCodeBinding',
  'schemas:GetCodeBindingSource',
];
