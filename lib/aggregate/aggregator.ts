/**
 * The aggregation stage: the features table, the aggregator Lambda, and its Kinesis event source mapping
 * configured so that a bad record can never block a shard (bisect on error, bounded retries and record age,
 * partial batch responses, an encrypted on-failure queue).
 */
import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { buildQueue } from '../shared/build-queue';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { type IpHashKeyProps, wireIpHashKey } from './ip-hash-key';
import { AGGREGATE_DEFAULTS, FEATURES_BY_HOUR_INDEX, FEATURES_INDEX_PROJECTIONS, type FeaturesIndexProjection } from './defaults';
import { AGGREGATE_SETTINGS } from './settings';
import { checkIntegerSetting } from '../settings';
import { CHANGE_MARKER_ATTR } from '../../src/aggregate/item';
import { GSI_PK, GSI_SK } from '../../src/shared/tables';

export interface AggregatorProps extends IpHashKeyProps {
  /**
   * The stream carrying CloudWatch Logs envelopes of the access logs and usage events (docs/contract.md, access-log
   * record and usage event).
   */
  readonly stream: kinesis.IStream;
  /**
   * Use an existing features table instead of creating one. It must have the keys and the `byHour` index of
   * docs/DESIGN.md. Mutually exclusive with `featuresTableProps`.
   * @default - a new table is created
   */
  readonly existingFeaturesTableObj?: dynamodb.ITable;
  /**
   * Overrides for the features table created here (keys, index, billing and encryption are fixed).
   * Mutually exclusive with `existingFeaturesTableObj`.
   * @default - on-demand, customer-managed KMS key, PITR, TTL on `expiresAt`
   */
  readonly featuresTableProps?: Partial<Omit<dynamodb.TableProps, 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'>>;
  /**
   * Customer-managed key for the table and the on-failure queue.
   * @default - a new key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Kinesis records per invocation (1..10000).
   * @default 1000
   */
  readonly batchSize?: number;
  /**
   * How long the event source mapping gathers records before invoking (0..300 s).
   * @default Duration.seconds(5)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Concurrent batches per shard (1..10). Above 1, exactly-once watermarks are kept per shard and partition key
   * (Lambda then keeps order only per partition key), so the number of watermarks per item grows with the number
   * of distinct partition keys: with random partition keys (a subscription filter with `Distribution.RANDOM`, the
   * ingestion stream's default) every record adds one to every window item it touches, and a busy account's item
   * reaches DynamoDB's 400 KB limit and stops updating. So a value above 1 is refused unless
   * `boundedPartitionKeys` is set. To scale out, prefer more shards (an on-demand stream adds them by itself).
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Every producer of the stream uses a small, fixed set of partition keys: a subscription filter with
   * `Distribution.BY_LOG_STREAM` (keys = log stream names) and usage producers keyed by account id (as the demo
   * model stub is). Required for `parallelizationFactor` above 1; it is the caller's promise, not checked.
   * @default false
   */
  readonly boundedPartitionKeys?: boolean;
  /**
   * The CloudWatch Logs groups whose subscription envelopes carry access logs (docs/contract.md, access-log
   * record), e.g. `IngestionStream.accessLogGroup`; more with `addAccessLogGroup`. The aggregator skips (and counts, metric
   * `RecordsSkipped`, reason `unknown-log-group`) envelopes from any other group, and reads records put on the
   * stream directly (not a CloudWatch Logs envelope) as usage events only: a producer with write access to the
   * stream cannot pass raw access-log records off as the gateway's.
   * @default - none: until a group is added, only usage events are aggregated
   */
  readonly accessLogGroups?: logs.ILogGroup[];
  /**
   * Retries of a failing batch (0..10000); each retry is bisected.
   * @default 5
   */
  readonly retryAttempts?: number;
  /**
   * Maximum age of a record the function is given (60 s .. 7 days).
   * @default Duration.days(1)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Days feature windows are kept after their hour ends (DynamoDB TTL `expiresAt`).
   * @default 30
   */
  readonly featureRetention?: number;
  /**
   * Memory of the aggregator function, MB.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Removal policy of the features table.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Projection of the features table's `byHour` index (ignored with `existingFeaturesTableObj`). 'ALL' bills every
   * window write twice; 'KEYS_ONLY' writes the index entry once but makes the scorer re-read every window on every
   * run; 'INCLUDE_CHANGES' projects the keys and the `upd` change marker so the scorer re-reads only what changed.
   * DynamoDB cannot change an existing index's projection in place: a table deployed with 'ALL' keeps 'ALL'
   * (everything works with it; docs/aggregate.md).
   * @default 'INCLUDE_CHANGES'
   */
  readonly byHourProjection?: FeaturesIndexProjection;
}

export class Aggregator extends Construct {
  /** The per-account feature windows (and MODEL#<m>/FIRST items). */
  readonly featuresTable: dynamodb.ITable;
  /** The aggregator function. */
  readonly fn: DistillGuardFunction;
  /** The on-failure destination: ESM failure records and poison records parked by the handler. */
  readonly failureQueue: sqs.Queue;
  /** The key encrypting the table (when created here) and the failure queue. */
  readonly encryptionKey: kms.IKey;
  /** The event source mapping's id. */
  readonly eventSourceMappingId: string;
  /** The secret the source IPs are hashed with (give it to every other writer of the features table); undefined in demo mode. */
  readonly ipHashKeySecret?: secretsmanager.ISecret;
  private readonly accessLogGroupNames: string[] = [];
  private readonly usageStreamArns: string[] = [];
  private readonly sourceSettings: {
    batchSize: number;
    window: Duration;
    parallelizationFactor: number;
    retryAttempts: number;
    maxRecordAge: Duration;
  };

  constructor(scope: Construct, id: string, props: AggregatorProps) {
    super(scope, id);
    if (props.existingFeaturesTableObj && props.featuresTableProps) {
      throw new Error('existingFeaturesTableObj and featuresTableProps are mutually exclusive, got both');
    }
    const d = AGGREGATE_DEFAULTS;
    const batchSize = props.batchSize ?? d.batchSize;
    const parallelizationFactor = props.parallelizationFactor ?? d.parallelizationFactor;
    const retryAttempts = props.retryAttempts ?? d.retryAttempts;
    const retention = props.featureRetention ?? d.featureRetentionDays;
    const maxRecordAge = props.maxRecordAge ?? d.maxRecordAge;
    const window = props.maxBatchingWindow ?? d.maxBatchingWindow;
    const S = AGGREGATE_SETTINGS;
    checkIntegerSetting('batchSize', batchSize, S.aggregatorBatchSize);
    checkIntegerSetting('parallelizationFactor', parallelizationFactor, S.aggregatorParallelizationFactor);
    if (parallelizationFactor > 1 && !props.boundedPartitionKeys) {
      throw new Error(
        `parallelizationFactor ${parallelizationFactor} needs boundedPartitionKeys: true. Above 1 the aggregator keeps an exactly-once ` +
          "watermark per shard and partition key on every window item; with random partition keys (the ingestion stream's " +
          "subscription filter uses Distribution.RANDOM) that is one more per record, and a busy account's item reaches the " +
          '400 KB DynamoDB item limit and stops updating. Add shards instead (an on-demand stream adds them itself), or ' +
          'subscribe with Distribution.BY_LOG_STREAM, key usage events by account id and set boundedPartitionKeys.',
      );
    }
    checkIntegerSetting('retryAttempts', retryAttempts, S.aggregatorRetryAttempts);
    checkIntegerSetting('featureRetention', retention, S.featuresRetentionDays);
    const age = S.aggregatorMaxRecordAgeSeconds;
    if (!maxRecordAge.isUnresolved() && (maxRecordAge.toSeconds() < age.min || maxRecordAge.toSeconds() > age.max)) {
      throw new Error(`maxRecordAge must be between ${age.min} seconds and ${age.max / 86_400} days, got ${maxRecordAge.toSeconds()} seconds`);
    }
    if (!window.isUnresolved() && window.toSeconds() > S.aggregatorMaxBatchingWindowSeconds.max) {
      throw new Error(`maxBatchingWindow must be at most ${S.aggregatorMaxBatchingWindowSeconds.max} seconds, got ${window.toSeconds()} seconds`);
    }

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        enableKeyRotation: true,
        description: 'distill-guard features table and aggregator failure queue',
        removalPolicy: props.removalPolicy ?? d.removalPolicy,
      });

    if (props.existingFeaturesTableObj) {
      this.featuresTable = props.existingFeaturesTableObj;
    } else {
      const table = new dynamodb.Table(this, 'FeaturesTable', {
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.encryptionKey,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: props.removalPolicy ?? d.removalPolicy,
        ...props.featuresTableProps,
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        timeToLiveAttribute: 'expiresAt',
      });
      const projection = props.byHourProjection ?? d.byHourProjection;
      if (!FEATURES_INDEX_PROJECTIONS.includes(projection)) {
        throw new Error(`byHourProjection must be one of ${FEATURES_INDEX_PROJECTIONS.join(', ')}, got ${JSON.stringify(projection)}`);
      }
      table.addGlobalSecondaryIndex({
        indexName: FEATURES_BY_HOUR_INDEX,
        partitionKey: { name: GSI_PK, type: dynamodb.AttributeType.STRING },
        sortKey: { name: GSI_SK, type: dynamodb.AttributeType.STRING },
        ...(projection === 'INCLUDE_CHANGES'
          ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [CHANGE_MARKER_ATTR] }
          : { projectionType: projection === 'KEYS_ONLY' ? dynamodb.ProjectionType.KEYS_ONLY : dynamodb.ProjectionType.ALL }),
      });
      this.featuresTable = table;
    }

    this.failureQueue = buildQueue(this, 'FailureQueue', { encryptionKey: this.encryptionKey, retentionPeriod: d.failureQueueRetention }).queue;

    this.fn = new DistillGuardFunction(this, 'Function', {
      entry: 'lambdas/aggregate/handler.ts',
      serviceName: 'aggregator',
      description: 'distill-guard aggregator: Kinesis access logs and usage events -> per-account hourly features',
      memorySize: props.memorySize ?? d.memorySize,
      timeout: d.timeout,
      environment: {
        FEATURES_TABLE: this.featuresTable.tableName,
        FAILURE_QUEUE_URL: this.failureQueue.queueUrl,
        FEATURE_RETENTION_DAYS: String(retention),
        WATERMARK_SCOPE: parallelizationFactor > 1 ? 'partition-key' : 'shard',
        // Comma-separated (names and ARNs have no comma); resolved at synth, after every add* call.
        ACCESS_LOG_GROUPS: Lazy.string({ produce: () => this.accessLogGroupNames.join(',') }),
        USAGE_STREAM_ARNS: Lazy.string({ produce: () => this.usageStreamArns.join(',') }),
      },
    });
    for (const g of props.accessLogGroups ?? []) this.addAccessLogGroup(g);

    // Least privilege: the handler only ever UpdateItems (and reads an item back after a failed condition).
    this.featuresTable.grant(this.fn, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    const tableKey = this.featuresTable.encryptionKey ?? (props.existingFeaturesTableObj ? undefined : this.encryptionKey);
    tableKey?.grant(this.fn, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*');
    this.failureQueue.grantSendMessages(this.fn);
    this.ipHashKeySecret = wireIpHashKey(this, this.fn, { ...props, create: true, removalPolicy: props.removalPolicy ?? d.removalPolicy });

    this.sourceSettings = { batchSize, window, parallelizationFactor, retryAttempts, maxRecordAge };
    this.eventSourceMappingId = this.addSource(props.stream);
  }

  /** Accept access logs from this CloudWatch Logs group's subscription envelopes (see `accessLogGroups`). */
  public addAccessLogGroup(group: logs.ILogGroup): void {
    this.accessLogGroupNames.push(group.logGroupName);
  }

  /**
   * Also read a stream that carries usage events only (docs/contract.md, usage event; e.g. the demo model stub's): its records are
   * never read as access logs, envelopes included, so whoever may write to it cannot forge access logs. Returns the
   * new event source mapping's id.
   */
  public addUsageStream(stream: kinesis.IStream): string {
    this.usageStreamArns.push(stream.streamArn);
    return this.addSource(stream);
  }

  private addSource(stream: kinesis.IStream): string {
    const o = this.sourceSettings;
    const source = new KinesisEventSource(stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: o.batchSize,
      maxBatchingWindow: o.window,
      parallelizationFactor: o.parallelizationFactor,
      retryAttempts: o.retryAttempts,
      maxRecordAge: o.maxRecordAge,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(this.failureQueue),
    });
    this.fn.addEventSource(source);
    return source.eventSourceMappingId;
  }
}
