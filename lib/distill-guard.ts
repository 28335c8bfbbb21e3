/**
 * `DistillGuard`: the product construct. Composes the stages along the data path
 *
 *   API Gateway access logs -> CloudWatch Logs -> Kinesis (IngestionStream)
 *     -> Aggregator (features table) -> Scorer (schedule) -> Escalation (Step Functions, review queue)
 *     -> control-table outbox -> BanEvents (EventBridge bus)
 *
 * plus the dashboard and alarms (PipelineMonitoring). Every tunable is a typed prop of `DistillGuardConfig`
 * (lib/config.ts), overridable from the `distill-guard` cdk.json context key. It brings no API of its own:
 * attach your REST API stage with `existingRestApiId`/`existingStageName`, `attachStage(stage)`, or deploy the
 * included `DemoApi` (DistillGuardStack does, by default).
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { Aggregator, type AggregatorProps } from './aggregate/aggregator';
import { AGGREGATE_SETTINGS } from './aggregate/settings';
import { configFor, DistillGuardConfig } from './config';
import { DETECT_DEFAULTS } from './detect/defaults';
import { DETECT_SETTINGS } from './detect/settings';
import { Scorer, type ScorerProps } from './detect/scorer';
import { Escalation, type EscalationProps } from './escalate/escalation';
import { ESCALATE_SETTINGS } from './escalate/settings';
import { ObjectAggregator } from './aggregate/object-aggregator';
import { AccessLogIngestion } from './ingest/access-log-ingestion';
import { FirehoseAccessLogs, type FirehoseAccessLogsProps } from './ingest/firehose-access-logs';
import { IngestionStream, type IngestionStreamProps } from './ingest/ingestion-stream';
import { FIREHOSE_SETTINGS, INGEST_SETTINGS } from './ingest/settings';
import { BanEvents, type BanEventsProps } from './notify/ban-events';
import { NOTIFY_SETTINGS } from './notify/settings';
import { MonitoredFunction, MonitoredQueue, PipelineMonitoring, type PipelineMonitoringProps } from './observability/monitoring';
import { OBSERVABILITY_SETTINGS } from './observability/settings';
import { durationMinutes, type Setting } from './settings';
import { ControlTable } from './state/control-table';
import { IndicatorSharing } from './share/indicator-sharing';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import type { IndicatorSharingProps } from './share/indicator-sharing';

/**
 * Resources of your account the stages use instead of creating their own, in the `existingXObj | xProps` style.
 * They are objects, so they come from code only (never from the `distill-guard` context).
 */
export interface DistillGuardResourceProps {
  /**
   * Existing customer-managed key of the ingestion stream and the access-log group. Its key policy must let
   * `logs.<region>.amazonaws.com` use it.
   * @default - a new key with yearly rotation
   */
  readonly existingIngestionKeyObj?: kms.IKey;
  /**
   * Use an existing features table instead of creating one. It must have the keys and the `byHour` index of
   * docs/DESIGN.md; import it with its key (`Table.fromTableAttributes({ tableArn, encryptionKey })`) so every
   * stage that reads or writes it is granted that key. Mutually exclusive with `featuresTableProps`.
   * @default - a new table is created
   */
  readonly existingFeaturesTableObj?: dynamodb.ITable;
  /**
   * Overrides for the features table created here (keys, index, billing and encryption are fixed). Mutually
   * exclusive with `existingFeaturesTableObj`.
   * @default - on-demand, customer-managed KMS key, PITR, TTL on `expiresAt`
   */
  readonly featuresTableProps?: Partial<Omit<dynamodb.TableProps, 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'>>;
  /**
   * Customer-managed key of the features table created here and of the aggregate stage's queues.
   * @default - a new key with rotation enabled
   */
  readonly featuresEncryptionKey?: kms.IKey;
  /**
   * Customer-managed key of the control table (cases, suspensions, the outbox).
   * @default - a new key with rotation enabled
   */
  readonly controlTableEncryptionKey?: kms.IKey;
  /**
   * Customer-managed key of the review queue and its dead-letter queue.
   * @default - a new key with rotation enabled
   */
  readonly reviewQueueEncryptionKey?: kms.IKey;
  /**
   * Customer-managed key of the state machine (case inputs, reviewer decisions) and of the workflow's log groups.
   * @default - the stack's key (one per stack)
   */
  readonly workflowEncryptionKey?: kms.IKey;
  /**
   * Put ban events on this bus instead of creating one. Mutually exclusive with `eventBusProps`.
   * @default - a new bus is created
   */
  readonly existingEventBusObj?: events.IEventBus;
  /**
   * Props of the ban-event bus created here. Mutually exclusive with `existingEventBusObj`.
   * @default - an auto-named bus encrypted with `banEventsEncryptionKey`
   */
  readonly eventBusProps?: events.EventBusProps;
  /**
   * Customer-managed key of the ban-event bus and the publisher's queues (the archive gets a key of its own).
   * @default - a new key with rotation enabled
   */
  readonly banEventsEncryptionKey?: kms.IKey;
  /**
   * Event buses (ARNs, typically in consumer accounts) every ban event is forwarded to, through rules this
   * construct owns. Each target bus must allow `events:PutEvents` from this account.
   * @default - no forwarding
   */
  readonly forwardToEventBusArns?: string[];
  /**
   * Send every alarm to this topic instead of one created here. Its policy, and its key's, must let CloudWatch
   * alarms of this account publish.
   * @default - a new topic encrypted with a new key (`alarmEmail` subscribes to it)
   */
  readonly existingAlarmTopicObj?: sns.ITopic;
}

/** The keys of {@link DistillGuardResourceProps} (everything else of the props is configuration). */
const RESOURCE_PROP_KEYS: ReadonlyArray<keyof DistillGuardResourceProps> = [
  'existingIngestionKeyObj',
  'existingFeaturesTableObj',
  'featuresTableProps',
  'featuresEncryptionKey',
  'controlTableEncryptionKey',
  'reviewQueueEncryptionKey',
  'workflowEncryptionKey',
  'existingEventBusObj',
  'eventBusProps',
  'banEventsEncryptionKey',
  'forwardToEventBusArns',
  'existingAlarmTopicObj',
];

/** The resource props of `props` (anything else, e.g. configuration or StackProps, dropped). */
export function pickResourceProps(props: object | undefined): DistillGuardResourceProps {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props ?? {})) if ((RESOURCE_PROP_KEYS as string[]).includes(k)) out[k] = v;
  return out;
}

/**
 * Props of {@link DistillGuard}: every key of `DistillGuardConfig` (each documented there with its `@default`),
 * all optional, a key given here winning over the `distill-guard` context value; and the existing resources of
 * {@link DistillGuardResourceProps}.
 */
export interface DistillGuardProps extends Partial<DistillGuardConfig>, DistillGuardResourceProps {}

export class DistillGuard extends Construct {
  /** The resolved configuration (defaults < context < props). */
  public readonly config: DistillGuardConfig;
  public readonly controlTable: ControlTable;
  public readonly ingestion: IngestionStream;
  public readonly aggregator: Aggregator;
  /** The Firehose ingestion path (`ingestPath: 'firehose'`): delivery stream + bucket of access-log objects. */
  public readonly firehose?: FirehoseAccessLogs;
  /** Its reader (`ingestPath: 'firehose'`): S3 event -> SQS -> object aggregator -> the same features table. */
  public readonly objectAggregator?: ObjectAggregator;
  public readonly escalation: Escalation;
  public readonly scorer: Scorer;
  public readonly banEvents: BanEvents;
  public readonly monitoring: PipelineMonitoring;
  /** Set when `existingRestApiId` + `existingStageName` are configured. */
  public readonly existingStageIngestion?: AccessLogIngestion;
  private attachedStages = 0;

  constructor(scope: Construct, id: string, props: DistillGuardProps = {}) {
    super(scope, id);
    const res = pickResourceProps(props);
    const config: Record<string, unknown> = { ...props };
    for (const key of RESOURCE_PROP_KEYS) delete config[key];
    const cfg = configFor(this, config);
    this.config = cfg;
    const removalPolicy = cfg.dataRemovalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.controlTable = new ControlTable(this, 'Control', { removalPolicy, encryptionKey: res.controlTableEncryptionKey });
    this.banEvents = new BanEvents(this, 'BanEvents', {
      ...stageProps<BanEventsProps>(NOTIFY_SETTINGS, cfg),
      controlTable: this.controlTable.table,
      consumerAccountIds: cfg.consumerAccountIds.length > 0 ? cfg.consumerAccountIds : undefined,
      encryptionKey: res.banEventsEncryptionKey,
      existingEventBusObj: res.existingEventBusObj,
      eventBusProps: res.eventBusProps,
      forwardToEventBusArns: res.forwardToEventBusArns,
    });
    this.ingestion = this.ingestStage(cfg, res);
    this.aggregator = this.aggregateStage(cfg, res, removalPolicy);
    if (cfg.ingestPath === 'firehose') [this.firehose, this.objectAggregator] = this.firehosePath(cfg, removalPolicy);
    this.escalation = new Escalation(this, 'Escalation', {
      ...stageProps<EscalationProps>(ESCALATE_SETTINGS, cfg),
      controlTable: this.controlTable.table,
      featuresTable: this.aggregator.featuresTable,
      queueEncryptionKey: res.reviewQueueEncryptionKey,
      encryptionKey: res.workflowEncryptionKey,
    });
    this.scorer = this.detectStage(cfg);
    if (cfg.existingRestApiId && cfg.existingStageName) {
      this.existingStageIngestion = new AccessLogIngestion(this, 'ExistingStage', {
        ...this.accessLogDestination(),
        restApiId: cfg.existingRestApiId,
        stageName: cfg.existingStageName,
        // The one AWS::ApiGateway::Account of the app (DistillGuardStack's demo API then leaves it alone).
        configureAccountCloudWatchRole: cfg.configureApiGatewayAccountRole,
      });
    }
    this.monitoring = this.observe(cfg, res);
  }

  private ingestStage(cfg: DistillGuardConfig, res: DistillGuardResourceProps): IngestionStream {
    const provisioned = cfg.streamMode === 'PROVISIONED';
    return new IngestionStream(this, 'Ingestion', {
      ...stageProps<IngestionStreamProps>(INGEST_SETTINGS, cfg),
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: provisioned ? cfg.shardCount : undefined,
      // More than one concurrent batch per shard needs a bounded set of partition keys: the log stream names.
      subscriptionDistribution: cfg.aggregatorParallelizationFactor > 1 ? logs.Distribution.BY_LOG_STREAM : logs.Distribution.RANDOM,
      existingEncryptionKeyObj: res.existingIngestionKeyObj,
    });
  }

  private aggregateStage(cfg: DistillGuardConfig, res: DistillGuardResourceProps, removalPolicy: RemovalPolicy): Aggregator {
    return new Aggregator(this, 'Aggregator', {
      ...stageProps<AggregatorProps>(AGGREGATE_SETTINGS, cfg),
      stream: this.ingestion.stream,
      // BY_LOG_STREAM above (log stream names) and usage producers keyed by account id (grantUsageWrite's contract).
      boundedPartitionKeys: cfg.aggregatorParallelizationFactor > 1,
      // Access logs only from the ingestion log group's envelopes; anything else producers put on the stream is read
      // as usage events only.
      accessLogGroups: [this.ingestion.accessLogGroup],
      removalPolicy,
      existingFeaturesTableObj: res.existingFeaturesTableObj,
      featuresTableProps: res.featuresTableProps,
      encryptionKey: res.featuresEncryptionKey,
    });
  }

  /** The Firehose ingestion path (access logs only; usage events stay on the stream) and its reader. */
  private firehosePath(cfg: DistillGuardConfig, removalPolicy: RemovalPolicy): [FirehoseAccessLogs, ObjectAggregator] {
    const firehose = new FirehoseAccessLogs(this, 'AccessLogObjects', {
      ...stageProps<FirehoseAccessLogsProps>(FIREHOSE_SETTINGS, cfg),
      encryptionKey: this.ingestion.encryptionKey,
      removalPolicy,
    });
    const objectAggregator = new ObjectAggregator(this, 'ObjectAggregator', {
      bucket: firehose.bucket,
      objectPrefix: firehose.objectPrefix,
      featuresTable: this.aggregator.featuresTable,
      featuresTableKey: this.aggregator.encryptionKey,
      // the aggregate stage's key (not the bucket's): S3's grant on the queue key names the bucket, so a shared
      // key would make the key policy and the bucket depend on each other
      encryptionKey: this.aggregator.encryptionKey,
      featureRetention: cfg.featuresRetentionDays,
      ipHashKeySecret: this.aggregator.ipHashKeySecret,
      publicIpHashKey: cfg.publicIpHashKey,
    });
    return [firehose, objectAggregator];
  }

  private detectStage(cfg: DistillGuardConfig): Scorer {
    const interval = Duration.minutes(cfg.scoreIntervalMinutes);
    const scorer = new Scorer(this, 'Scorer', {
      ...stageProps<ScorerProps>(DETECT_SETTINGS, cfg),
      featuresTable: this.aggregator.featuresTable,
      controlTable: this.controlTable.table,
      stateMachine: this.escalation.stateMachine,
      // a run must end before the next starts: the stage default, capped to the interval
      timeout: Duration.seconds(Math.min(DETECT_DEFAULTS.timeout.toSeconds(), interval.toSeconds())),
    });
    // The scorer (and a distributed run's decide children) start executions of the encrypted state machine: they need
    // the workflow key for that data only.
    this.escalation.grantWorkflowData(scorer.function);
    this.escalation.grantWorkflowData(scorer.shardFunction);
    return scorer;
  }

  /** The dashboard and alarms; the stages' own alarms notify the same topic. */
  private observe(cfg: DistillGuardConfig, res: DistillGuardResourceProps): PipelineMonitoring {
    const monitoring = new PipelineMonitoring(this, 'Monitoring', {
      ...stageProps<PipelineMonitoringProps>(OBSERVABILITY_SETTINGS, cfg),
      stream: this.ingestion.stream,
      functions: this.monitoredFunctions(),
      failureQueues: this.failureQueues(),
      stateMachine: this.escalation.stateMachine,
      reviewQueue: this.escalation.reviewQueue,
      breakerMetricDimensions: { service: 'escalate' },
      existingAlarmTopicObj: res.existingAlarmTopicObj,
    });
    // Except those watching a metric the pipeline monitoring already alarms on (one incident, one page).
    const notify = new cw_actions.SnsAction(monitoring.alarmTopic);
    const stageAlarms = [...this.escalation.alarms, ...this.scorer.alarms, ...this.banEvents.alarms, ...(this.objectAggregator?.alarms ?? [])];
    for (const alarm of stageAlarms as cloudwatch.Alarm[]) {
      if (!monitoring.watches(alarm.metric)) alarm.addAlarmAction(notify);
    }
    return monitoring;
  }

  private monitoredFunctions(): MonitoredFunction[] {
    return [
      { fn: this.aggregator.fn, name: 'Aggregator', streamConsumer: true },
      { fn: this.scorer.function, name: 'Scorer' },
      { fn: this.scorer.shardFunction, name: 'ScoreShard' },
      { fn: this.scorer.linkage.stageFunction, name: 'LinkageStage' },
      { fn: this.escalation.caseFunction, name: 'EscalationCase' },
      { fn: this.escalation.suspensionFunction, name: 'EscalationSuspension' },
      { fn: this.escalation.expirerFunction, name: 'SuspensionExpirer' },
      { fn: this.escalation.reinstateFunction, name: 'Reinstatement' },
      { fn: this.banEvents.publisher, name: 'BanEventPublisher', streamConsumer: true },
      { fn: this.banEvents.sweeper, name: 'OutboxSweeper' },
      ...(this.objectAggregator ? [{ fn: this.objectAggregator.fn, name: 'ObjectAggregator' }] : []),
    ];
  }

  private failureQueues(): MonitoredQueue[] {
    return [
      { queue: this.aggregator.failureQueue, name: 'AggregatorFailures' },
      { queue: this.banEvents.publisherDlq, name: 'BanEventPublisherFailures' },
      { queue: this.escalation.reviewDlq, name: 'ReviewDeadLetters' },
      ...(this.objectAggregator ? [{ queue: this.objectAggregator.deadLetterQueue, name: 'ObjectDeadLetters' }] : []),
    ];
  }

  /**
   * Share confirmed campaigns with partner providers (docs/indicators.md): a scheduled STIX 2.1 export into a
   * sharing bucket, one prefix per partner, and an `Indicators Exported` event on the bus. Off unless called.
   */
  addIndicatorSharing(
    props: Omit<IndicatorSharingProps, 'featuresTable' | 'controlTable' | 'eventBus' | 'scorer' | 'scoringFunctions'>,
  ): IndicatorSharing {
    const sharing = new IndicatorSharing(this, 'IndicatorSharing', {
      ...props,
      scorer: this.scorer.function,
      scoringFunctions: [this.scorer.shardFunction],
      featuresTable: this.aggregator.featuresTable,
      controlTable: this.controlTable.table,
      eventBus: this.banEvents.eventBus,
    });
    // Added after the stack acknowledged its findings: acknowledge the new constructs' the same way.
    acknowledgeNagFindings(Stack.of(this), sharing);
    return sharing;
  }

  /**
   * Send a REST API stage's access logs (docs/contract.md, access-log record format) into distill-guard. A `Stage` of this app is
   * configured in the template; an imported one (`Stage.fromStageAttributes`) through UpdateStage.
   */
  public attachStage(stage: apigateway.IStage, options: { configureAccountCloudWatchRole?: boolean } = {}): AccessLogIngestion {
    this.attachedStages += 1;
    return new AccessLogIngestion(this, `AttachedStage${this.attachedStages}`, {
      ...this.accessLogDestination(),
      stage,
      configureAccountCloudWatchRole: options.configureAccountCloudWatchRole ?? false,
    });
  }

  /** Where stages write their access logs: the Firehose delivery stream on the Firehose path, else the log group. */
  public accessLogDestination(): { logGroup: logs.ILogGroup } | { deliveryStreamArn: string } {
    return this.firehose ? { deliveryStreamArn: this.firehose.deliveryStreamArn } : { logGroup: this.ingestion.accessLogGroup };
  }

  /** Let the model-serving tier put usage events (docs/contract.md, usage event) on the ingestion stream. */
  public grantUsageWrite(grantee: iam.IGrantable): iam.Grant {
    return this.ingestion.grantUsageWrite(grantee);
  }
}

/**
 * The props a settings table sets one to one (entries with a `prop`), from the resolved config: a duration key becomes
 * a `Duration` in the key's unit (a fractional one in whole minutes), any other value is passed as it is. Typed so a
 * `prop` that is not a key of `P` fails the type check.
 */
export function stageProps<P extends object>(
  table: { readonly [key: string]: Setting & { readonly prop?: keyof P } },
  cfg: DistillGuardConfig,
): Partial<P> {
  const props: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(table)) {
    if (setting.prop === undefined) continue;
    const value = (cfg as unknown as Record<string, unknown>)[key];
    props[setting.prop as string] = setting.unit && typeof value === 'number' ? toDuration(setting, value) : value;
  }
  return props as Partial<P>;
}

function toDuration(setting: Setting, value: number): Duration {
  if (setting.type === 'integer') return Duration[setting.unit!](value);
  return Duration.minutes(durationMinutes(setting.unit!, value));
}
