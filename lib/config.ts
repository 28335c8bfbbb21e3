/**
 * Every deploy-time tunable of distill-guard, as one typed, JSON-friendly object. The same keys are
 *  - the props of `DistillGuard` / `DistillGuardStack` (typed, with JSDoc and `@default`), and
 *  - overridable from the `distill-guard` context key (cdk.json, or `cdk deploy -c distill-guard='{...}'`).
 *
 * Precedence: defaults < cdk.json context < props given in code. Every value is validated (unknown keys, wrong
 * types, out-of-range numbers) and a bad one fails synth with a lowercase error that shows the value received.
 *
 * Durations are numbers with the unit in the key (`reviewTimeoutHours`), because cdk.json is JSON; `DistillGuard`
 * converts them to the stage constructs' `Duration` props.
 *
 * Default, range, unit, construct prop and doc of each key live in one entry of its stage's settings table
 * (lib/<stage>/settings.ts, shape in lib/settings.ts); this module joins the tables, validates against them and
 * generates the configuration table of docs/deploy.md (`describeConfig()`). Hand-written validation: the rules are a
 * dozen kinds (integer ranges, enums, account ids); a schema library (ajv is installed) would need a second copy of
 * the types.
 */
import type { Construct } from 'constructs';
import type { DeepPartial, DetectionConfig } from '../src/detect/config';
import { resolveDetectionConfig } from '../src/detect/config';
import { AGGREGATE_SETTINGS } from './aggregate/settings';
import { DETECT_SETTINGS } from './detect/settings';
import { ESCALATE_SETTINGS } from './escalate/settings';
import { DEMO_API_SETTINGS, FIREHOSE_SETTINGS, INGEST_SETTINGS } from './ingest/settings';
import { NOTIFY_SETTINGS } from './notify/settings';
import { OBSERVABILITY_SETTINGS } from './observability/settings';
import { checkSetting, type Setting, type SettingsTable } from './settings';

/** The cdk.json context key holding overrides. */
export const CONTEXT_KEY = 'distill-guard';

export interface DistillGuardConfig {
  // ---- general ----
  /**
   * What happens to the tables (cases, audit trail, features) when the stack is deleted.
   * @default 'retain'
   */
  readonly dataRemovalPolicy: 'retain' | 'destroy';

  // ---- ingest ----
  /**
   * Kinesis capacity mode of the ingestion stream.
   * @default 'ON_DEMAND'
   */
  readonly streamMode: 'ON_DEMAND' | 'PROVISIONED';
  /**
   * Shards of the ingestion stream; only with `streamMode: 'PROVISIONED'`.
   * @default 2
   */
  readonly shardCount: number;
  /**
   * Hours Kinesis keeps records (24..8760). Longer lets the aggregator catch up after a longer outage.
   * @default 24
   */
  readonly streamRetentionHours: number;
  /**
   * Days the access-log group keeps records (a CloudWatch Logs retention value: 1, 3, 5, 7, 14, 30, ...).
   * @default 7
   */
  readonly accessLogRetentionDays: number;
  /**
   * Accounts whose serving tier may assume the usage-producer role to put usage events (docs/contract.md, usage event) on the
   * stream. Same-account producers use `DistillGuard.ingestion.grantUsageWrite(role)`.
   * @default []
   */
  readonly usageProducerAccountIds: string[];
  /**
   * Id of your existing REST API (outside this app) whose stage `existingStageName` should log to distill-guard.
   * @default - none (use the demo API or `DistillGuard.attachStage()`)
   */
  readonly existingRestApiId?: string;
  /**
   * Stage of `existingRestApiId` to attach.
   * @default - none
   */
  readonly existingStageName?: string;
  /**
   * Create the account-level API Gateway CloudWatch Logs role (`AWS::ApiGateway::Account`) access logging needs.
   * Set false when the account already has one configured.
   * @default true
   */
  readonly configureApiGatewayAccountRole: boolean;
  /**
   * How access logs reach the aggregator. `cloudwatch`: stage -> CloudWatch Logs group -> subscription filter ->
   * Kinesis (~2-7 s to a feature write). `firehose`: stage -> Amazon Data Firehose (`amazon-apigateway-...`) ->
   * gzip'd S3 objects -> S3 event -> SQS -> aggregator: cheaper per request and fewer feature writes, at the cost of
   * the Firehose buffer in latency (docs/cost.md). Usage events (docs/contract.md, usage event) stay on the Kinesis stream either way.
   * @default 'cloudwatch'
   */
  readonly ingestPath: 'cloudwatch' | 'firehose';
  /**
   * Firehose path: buffer interval in seconds (60..900): an access-log object at least this often. The latency the
   * path adds at low request rates.
   * @default 60
   */
  readonly firehoseBufferSeconds: number;
  /**
   * Firehose path: buffer size in MiB of raw access logs (1..128): an object as soon as this much arrived.
   * @default 64
   */
  readonly firehoseBufferMiB: number;
  /**
   * Firehose path: days the access-log objects are kept in S3 (lifecycle expiration).
   * @default 7
   */
  readonly accessLogObjectRetentionDays: number;

  // ---- demo API ----
  /**
   * Deploy the demo API (Lambda authorizer + stub model endpoint) with `DistillGuardStack`.
   * @default true
   */
  readonly demoApi: boolean;
  /**
   * Stage name of the demo API.
   * @default 'prod'
   */
  readonly demoStageName: string;
  /**
   * Seconds API Gateway caches the demo authorizer's answer (0..3600). A suspension takes up to this long to bite.
   * @default 0
   */
  readonly demoAuthorizerCacheTtlSeconds: number;
  /**
   * Demo usage plan: steady-state requests/s per API key.
   * @default 100
   */
  readonly demoThrottleRateLimit: number;
  /**
   * Demo usage plan: burst per API key.
   * @default 200
   */
  readonly demoThrottleBurstLimit: number;
  /**
   * Demo restricted usage plan (the `restrict` step moves an account's keys onto it): requests/s per API key.
   * @default 1
   */
  readonly demoRestrictedRateLimit: number;
  /**
   * Demo restricted usage plan: burst per API key.
   * @default 2
   */
  readonly demoRestrictedBurstLimit: number;
  /**
   * Demo API methods require an API key (`x-api-key`).
   * @default true
   */
  readonly demoApiKeyRequired: boolean;
  /**
   * The demo authorizer allows accounts with no status record (treated as active).
   * @default true
   */
  readonly demoAllowUnknownAccounts: boolean;
  /**
   * The demo model stub emits usage events (docs/contract.md, usage event) on a stream of its own (1 provisioned shard), which the
   * aggregator reads as usage events only: the stub has no write access to the access-log stream.
   * @default true
   */
  readonly demoUsageEvents: boolean;

  // ---- aggregate ----
  /**
   * Records per aggregator invocation (Kinesis event source mapping BatchSize, 1..10000).
   * @default 1000
   */
  readonly aggregatorBatchSize: number;
  /**
   * Seconds the mapping waits to fill a batch (0..300).
   * @default 5
   */
  readonly aggregatorMaxBatchingWindowSeconds: number;
  /**
   * Concurrent aggregator batches per shard (1..10). Above 1 the access-log subscription filter distributes by log
   * stream instead of randomly (the per-partition-key watermarks need a bounded set of keys), and usage producers
   * must key their records by account id.
   * @default 1
   */
  readonly aggregatorParallelizationFactor: number;
  /**
   * Retries of a failing batch (each retry bisects it) before its records go to the on-failure queue (0..10000).
   * @default 5
   */
  readonly aggregatorRetryAttempts: number;
  /**
   * Records older than this many seconds are sent to the on-failure destination instead of processed
   * (60..604800).
   * @default 86400
   */
  readonly aggregatorMaxRecordAgeSeconds: number;
  /**
   * Days per-account feature windows are kept (DynamoDB TTL). Bounds how long pseudonymised IP data is held.
   * @default 30
   */
  readonly featuresRetentionDays: number;
  /**
   * Memory of the aggregator function in MB (CPU scales with it; decode and parse are CPU-bound).
   * @default 1024
   */
  readonly aggregatorMemoryMb: number;
  /**
   * Projection of the features table's `byHour` index: `INCLUDE_CHANGES` (keys + the `upd` change marker; the index
   * entry is rewritten at most every 5 minutes per window and the scorer re-reads only changed windows),
   * `KEYS_ONLY` (the scorer re-reads every window each run) or `ALL` (every window write billed twice). DynamoDB
   * cannot change the projection of an existing index (docs/aggregate.md).
   * @default "INCLUDE_CHANGES"
   */
  readonly featuresIndexProjection: 'INCLUDE_CHANGES' | 'KEYS_ONLY' | 'ALL';
  /**
   * Demo only: hash source IPs with the public default key instead of the per-deployment secret (Secrets Manager)
   * the aggregators read. Hashes made with a public key are reversible (the /24 is stored beside them), so a synth
   * with this set fails unless the context flag `distill-guard:demo` is true.
   * @default false
   */
  readonly publicIpHashKey: boolean;

  // ---- detect ----
  /**
   * Minutes between scorer runs (EventBridge schedule, 1..1440). The scorer's timeout is capped to it.
   * @default 5
   */
  readonly scoreIntervalMinutes: number;
  /**
   * Hours of feature history each scorer run reads (1..720): synchrony needs days of co-activity.
   * @default 72
   */
  readonly scoreLookbackHours: number;
  /**
   * Memory of the scorer function in MB (1769 MB = one full vCPU; linkage is CPU-bound).
   * @default 1769
   */
  readonly scorerMemoryMb: number;
  /**
   * Active accounts (1..1000000000) from which detection does not run in the scorer's process but as a distributed
   * run over account shards (Step Functions Distributed Maps; docs/detection.md, "Past one process").
   * @default 1000000
   */
  readonly shardedLinkageMinAccounts: number;
  /**
   * Accounts (1..10000000) per account shard of a distributed detection run: each child's memory grows with it.
   * @default 250000
   */
  readonly detectionShardAccounts: number;
  /**
   * Detection thresholds, signal weights and per-signal shadow mode: a partial `DetectionConfig`
   * (src/detect/config.ts), validated against it and passed to the scorer as DETECTION_CONFIG.
   * @default {} (the defaults of src/detect/config.ts)
   */
  readonly detectionConfig: DeepPartial<DetectionConfig>;

  // ---- escalate ----
  /**
   * Global shadow mode: everything is scored, cased and recorded, nobody is suspended. Start here in a new
   * deployment.
   * @default false
   */
  readonly shadowMode: boolean;
  /**
   * Signals in shadow mode: they never cause an enforcement on their own, and never an auto-suspension.
   * @default []
   */
  readonly shadowSignals: string[];
  /**
   * Hours a review case waits for a reviewer before the safe default applies (no suspension; case overdue).
   * @default 24
   */
  readonly reviewTimeoutHours: number;
  /**
   * First suspension, in hours; repeat offences multiply it by `banFactor`, capped at `banMaxDays`.
   * @default 24
   */
  readonly banBaseHours: number;
  /**
   * Multiplier of the suspension per repeat offence (>= 1).
   * @default 2
   */
  readonly banFactor: number;
  /**
   * Longest suspension, in days.
   * @default 30
   */
  readonly banMaxDays: number;
  /**
   * Offences are forgotten this many days after the last suspension ended.
   * @default 180
   */
  readonly banForgetAfterDays: number;
  /**
   * Auto-suspensions in the last hour above which the breaker trips and everything goes to review.
   * @default 20
   */
  readonly breakerMaxPerHour: number;
  /**
   * Share (0..1) of active accounts auto-suspended in the last hour above which the breaker trips.
   * @default 0.01
   */
  readonly breakerMaxShare: number;
  /**
   * The share rule of the breaker only applies from this many active accounts on.
   * @default 200
   */
  readonly breakerMinActiveForShare: number;
  /**
   * Disable the account's API Gateway API keys on suspension (re-enable on reinstatement).
   * @default true
   */
  readonly manageApiKeys: boolean;
  /**
   * Hours an automatic (restrict plus review) or a reviewer's restriction lasts.
   * @default 24
   */
  readonly restrictDurationHours: number;
  /**
   * Your API's usage plan, that the restrict step moves an account's keys off (with `restrictedUsagePlanId`). The
   * demo API's plans are used when this is not set.
   * @default none
   */
  readonly standardUsagePlanId?: string;
  /**
   * The throttled usage plan the restrict step moves an account's keys to (with `standardUsagePlanId`).
   * @default none
   */
  readonly restrictedUsagePlanId?: string;
  /**
   * Days cases (with their evidence snapshot: subnets, user agents, API key ids, cluster members) and audit
   * entries are kept before DynamoDB TTL deletes them. Must cover the longest suspension plus the review timeout.
   * @default 365
   */
  readonly caseRetentionDays: number;

  // ---- notify ----
  /**
   * AWS accounts allowed to create rules on the ban-event bus (written into the bus resource policy).
   * @default []
   */
  readonly consumerAccountIds: string[];
  /**
   * AWS Organization (`o-...`) whose accounts may create rules on the bus.
   * @default - none
   */
  readonly organizationId?: string;
  /**
   * Days the ban-event archive keeps events for replay (0 = forever).
   * @default 365
   */
  readonly archiveRetentionDays: number;

  // ---- observability ----
  /**
   * E-mail address subscribed to the alarm topic (SNS, KMS-encrypted).
   * @default - alarms are created without a notification target
   */
  readonly alarmEmail?: string;
  /**
   * Alarm when the aggregator's Kinesis iterator age exceeds this many seconds.
   * @default 300
   */
  readonly iteratorAgeAlarmSeconds: number;
  /**
   * Alarm when the oldest review-queue message is older than this many hours.
   * @default 12
   */
  readonly reviewQueueAgeAlarmHours: number;
  /**
   * Create the CloudWatch dashboard.
   * @default true
   */
  readonly dashboard: boolean;
}

/** The keys that concern the whole app rather than one stage. */
const GENERAL_SETTINGS = {
  dataRemovalPolicy: {
    type: 'enum',
    group: 'general',
    default: 'retain',
    values: ['retain', 'destroy'],
    doc: 'What happens to the tables (cases, audit trail, features) when the stack is deleted.',
  },
} as const satisfies SettingsTable;

/**
 * Every key, in the order of docs/deploy.md's configuration table: the stages' settings tables joined. A key missing
 * here, or typed unlike its `DistillGuardConfig` key, fails the type check.
 */
export const CONFIG_SPEC: { readonly [K in keyof DistillGuardConfig]-?: Setting<DistillGuardConfig[K]> } = {
  ...GENERAL_SETTINGS,
  ...INGEST_SETTINGS,
  ...FIREHOSE_SETTINGS,
  ...DEMO_API_SETTINGS,
  ...AGGREGATE_SETTINGS,
  ...DETECT_SETTINGS,
  ...ESCALATE_SETTINGS,
  ...NOTIFY_SETTINGS,
  ...OBSERVABILITY_SETTINGS,
};

/** The default of every key (`undefined` for the optional ones), read from the settings tables. */
export const DEFAULT_CONFIG: DistillGuardConfig = Object.fromEntries(
  Object.entries(CONFIG_SPEC).map(([key, setting]) => [key, (setting as Setting).default]),
) as unknown as DistillGuardConfig;

/**
 * Defaults, then each override layer in order (later wins), validated. `undefined` in a layer means "not set".
 * Throws a lowercase error naming the key and showing the value received.
 */
export function resolveConfig(...layers: Array<Record<string, unknown> | undefined | null>): DistillGuardConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const layer of layers) {
    if (layer === undefined || layer === null) continue;
    if (typeof layer !== 'object' || Array.isArray(layer)) {
      throw new Error(`distill-guard config must be a json object, got ${JSON.stringify(layer)}`);
    }
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (!(key in CONFIG_SPEC)) {
        throw new Error(
          `unknown distill-guard config key '${key}' (got ${JSON.stringify(value)}); known keys: ${Object.keys(CONFIG_SPEC).join(', ')}`,
        );
      }
      const spec = CONFIG_SPEC[key as keyof DistillGuardConfig];
      if (value === null && spec.optional) {
        delete merged[key];
        continue;
      }
      checkSetting(key, spec, value);
      merged[key] = value;
    }
  }
  const cfg = merged as unknown as DistillGuardConfig;
  // Cross-key rules.
  if ((cfg.standardUsagePlanId === undefined) !== (cfg.restrictedUsagePlanId === undefined)) {
    throw new Error(
      `distill-guard config 'standardUsagePlanId' and 'restrictedUsagePlanId' go together, got standardUsagePlanId ${JSON.stringify(cfg.standardUsagePlanId)} and restrictedUsagePlanId ${JSON.stringify(cfg.restrictedUsagePlanId)}`,
    );
  }
  if ((cfg.existingRestApiId === undefined) !== (cfg.existingStageName === undefined)) {
    throw new Error(
      `distill-guard config 'existingRestApiId' and 'existingStageName' go together, got existingRestApiId ${JSON.stringify(cfg.existingRestApiId)} and existingStageName ${JSON.stringify(cfg.existingStageName)}`,
    );
  }
  if (cfg.banBaseHours > cfg.banMaxDays * 24) {
    throw new Error(
      `distill-guard config 'banMaxDays' must cover 'banBaseHours', got banBaseHours ${cfg.banBaseHours} and banMaxDays ${cfg.banMaxDays}`,
    );
  }
  if (cfg.caseRetentionDays < cfg.banMaxDays + cfg.reviewTimeoutHours / 24) {
    throw new Error(
      `distill-guard config 'caseRetentionDays' must cover 'banMaxDays' plus the review timeout (a case must outlive its suspension), got caseRetentionDays ${cfg.caseRetentionDays}, banMaxDays ${cfg.banMaxDays} and reviewTimeoutHours ${cfg.reviewTimeoutHours}`,
    );
  }
  if (cfg.demoThrottleBurstLimit < cfg.demoThrottleRateLimit) {
    throw new Error(
      `distill-guard config 'demoThrottleBurstLimit' must be at least 'demoThrottleRateLimit', got ${cfg.demoThrottleBurstLimit} < ${cfg.demoThrottleRateLimit}`,
    );
  }
  // The detection overrides are validated against the detector's own schema (unknown keys, wrong types).
  try {
    resolveDetectionConfig(cfg.detectionConfig);
  } catch (err) {
    throw new Error(`distill-guard config 'detectionConfig' is invalid: ${(err as Error).message}`);
  }
  return cfg;
}

/** The `distill-guard` context value (cdk.json or `-c`), parsed when given as a JSON string on the command line. */
export function contextOverrides(scope: Construct): Record<string, unknown> | undefined {
  const raw: unknown = scope.node.tryGetContext(CONTEXT_KEY);
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`distill-guard context must be a json object, got ${JSON.stringify(raw)} (${(err as Error).message})`);
    }
  }
  return raw as Record<string, unknown>;
}

/** Config for `scope`: defaults < context < `props`. */
export function configFor(scope: Construct, props?: Partial<DistillGuardConfig>): DistillGuardConfig {
  return resolveConfig(contextOverrides(scope), props as Record<string, unknown> | undefined);
}

/** One row per key, in spec order: the configuration table of docs/deploy.md. */
export function describeConfig(): Array<{ key: string; group: string; type: string; default: string; meaning: string }> {
  return Object.entries(CONFIG_SPEC).map(([key, spec]) => {
    const def = spec.default;
    let type: string = spec.type;
    if (spec.type === 'enum') type = spec.values!.length > 6 ? 'number (retention days)' : spec.values!.map((v) => JSON.stringify(v)).join(' \\| ');
    if (spec.type === 'accountIds') type = 'string[] (account ids)';
    if (spec.type === 'stringArray') type = 'string[]';
    if ((spec.type === 'integer' || spec.type === 'number') && spec.min !== undefined) type = `${spec.type} ${spec.min}..${spec.max}`;
    return { key, group: spec.group, type, default: def === undefined ? '(none)' : JSON.stringify(def), meaning: spec.doc };
  });
}

/**
 * The configuration tables of docs/deploy.md, grouped by stage. Regenerate after changing a key:
 * `npx tsx -e "console.log(require('./lib/config').configMarkdown())"`.
 */
export function configMarkdown(): string {
  let group = '';
  const lines: string[] = [];
  for (const r of describeConfig()) {
    if (r.group !== group) {
      group = r.group;
      lines.push('', `**${group}**`, '', '| key | type | default | meaning |', '| --- | --- | --- | --- |');
    }
    lines.push(`| \`${r.key}\` | ${r.type} | ${r.default === '(none)' ? '(none)' : '`' + r.default + '`'} | ${r.meaning} |`);
  }
  return lines.join('\n').trim();
}

/** The config keys of `props` (anything else, e.g. StackProps, dropped). */
export function pickConfig(props: object | undefined): Partial<DistillGuardConfig> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props ?? {})) if (k in CONFIG_SPEC) out[k] = v;
  return out as Partial<DistillGuardConfig>;
}
