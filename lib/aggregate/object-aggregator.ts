/**
 * The aggregation stage's reader for the Firehose ingestion path: S3 ObjectCreated notifications of the
 * access-log objects -> an encrypted SQS queue (with a dead-letter queue) -> the object aggregator Lambda
 * (lambdas/aggregate/object-handler.ts), which reads each object and writes the same per-account hourly windows
 * to the same features table as the Kinesis aggregator, exactly once (docs/aggregate.md, "S3 objects").
 *
 * The SQS event source mapping reports batch item failures (Powertools Batch), so one object that could not be
 * applied completely is redelivered without holding back the others; after `maxReceiveCount` deliveries it moves to
 * the dead-letter queue, where the handler also parks corrupt objects at once.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { buildQueue } from '../shared/build-queue';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { AGGREGATE_DEFAULTS } from './defaults';
import { AGGREGATE_SETTINGS } from './settings';
import { checkIntegerProp, checkIntegerSetting } from '../settings';
import { type IpHashKeyProps, wireIpHashKey } from './ip-hash-key';

export interface ObjectAggregatorProps extends IpHashKeyProps {
  /** The bucket Firehose writes access-log objects to (`FirehoseAccessLogs.bucket`). */
  readonly bucket: s3.IBucket;
  /** Key prefix of the access-log objects; only objects under it are announced and readable. */
  readonly objectPrefix: string;
  /** The features table (`Aggregator.featuresTable`). */
  readonly featuresTable: dynamodb.ITable;
  /**
   * Key for the queues (e.g. `Aggregator.encryptionKey`). Not the bucket's key: S3's permission on the queue key
   * names the bucket, so with one key the key policy and the bucket would depend on each other.
   */
  readonly encryptionKey: kms.IKey;
  /**
   * The key of the features table, when it is not on `featuresTable.encryptionKey` (e.g. `Aggregator.encryptionKey`).
   * @default - featuresTable.encryptionKey
   */
  readonly featuresTableKey?: kms.IKey;
  /**
   * Days feature windows are kept after their hour ends (DynamoDB TTL), as the Kinesis aggregator's.
   * @default 30
   */
  readonly featureRetention?: number;
  /**
   * Memory of the function, MB. Decode and parse of a whole object are CPU-bound; 1769 MB is one full vCPU.
   * @default 1769
   */
  readonly memorySize?: number;
  /**
   * Function timeout. A 128 MiB object takes a few seconds of CPU plus its writes.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * Notifications per invocation (1..10); each names an object of up to ~128 MiB, processed one after the other.
   * @default 1
   */
  readonly batchSize?: number;
  /**
   * Most concurrent invocations the SQS event source mapping starts (2..1000).
   * @default - no limit (SQS scaling)
   */
  readonly maxConcurrency?: number;
  /**
   * Deliveries of a notification before SQS moves it to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Alarm when the oldest notification on the queue is older than this: objects are not being read (the Firehose
   * path's counterpart of the Kinesis iterator-age alarm).
   * @default Duration.minutes(15)
   */
  readonly queueAgeAlarmThreshold?: Duration;
}

export class ObjectAggregator extends Construct {
  /** The function that reads the objects. */
  readonly fn: DistillGuardFunction;
  /** Where S3 announces new access-log objects. */
  readonly queue: sqs.Queue;
  /** Notifications that failed `maxReceiveCount` times, and corrupt objects the handler parked. */
  readonly deadLetterQueue: sqs.Queue;
  /** The object queue's age alarm (the dead-letter queue is alarmed by the pipeline monitoring). */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ObjectAggregatorProps) {
    super(scope, id);
    const d = AGGREGATE_DEFAULTS;
    const timeout = props.timeout ?? d.objectTimeout;
    const batchSize = props.batchSize ?? d.objectBatchSize;
    const maxReceiveCount = props.maxReceiveCount ?? d.objectMaxReceiveCount;
    const retention = props.featureRetention ?? d.featureRetentionDays;
    checkIntegerProp('batchSize', batchSize, 1, 10);
    checkIntegerProp('maxReceiveCount', maxReceiveCount, 1, 1000);
    checkIntegerSetting('featureRetention', retention, AGGREGATE_SETTINGS.featuresRetentionDays);
    if (props.maxConcurrency !== undefined) checkIntegerProp('maxConcurrency', props.maxConcurrency, 2, 1000);
    if (!timeout.isUnresolved() && (timeout.toSeconds() < 10 || timeout.toSeconds() > 900)) {
      throw new Error(`timeout must be between 10 and 900 seconds, got ${timeout.toSeconds()} seconds`);
    }

    const queues = buildQueue(this, 'Queue', {
      encryptionKey: props.encryptionKey,
      retentionPeriod: d.failureQueueRetention,
      // AWS: at least 6x the function timeout, so a message is not redelivered while an invocation still runs
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      deadLetterQueue: { id: 'DeadLetters', maxReceiveCount, retentionPeriod: d.failureQueueRetention },
    });
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue!;
    // S3 -> SQS (CDK adds the queue policy for this bucket and the key-policy statement S3 needs).
    props.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), { prefix: props.objectPrefix });

    this.fn = new DistillGuardFunction(this, 'Function', {
      entry: 'lambdas/aggregate/object-handler.ts',
      serviceName: 'object-aggregator',
      description: 'distill-guard object aggregator: Firehose access-log objects in S3 -> per-account hourly features',
      memorySize: props.memorySize ?? d.objectMemorySize,
      timeout,
      environment: {
        FEATURES_TABLE: props.featuresTable.tableName,
        FEATURE_RETENTION_DAYS: String(retention),
        PARK_QUEUE_URL: this.deadLetterQueue.queueUrl,
      },
    });

    // Least privilege: read the access-log objects (and decrypt them), update window items, park corrupt objects.
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.bucket.arnForObjects(`${props.objectPrefix}*`)] }),
    );
    props.bucket.encryptionKey?.grantDecrypt(this.fn);
    props.featuresTable.grant(this.fn, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    (props.featuresTableKey ?? props.featuresTable.encryptionKey)?.grant(
      this.fn,
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey*',
      'kms:ReEncrypt*',
    );
    this.deadLetterQueue.grantSendMessages(this.fn);
    // The Kinesis aggregator's secret (never a new one: the hashes of both writers of the table must match).
    wireIpHashKey(this, this.fn, { ...props, create: false });

    this.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );

    this.alarms = [
      new cloudwatch.Alarm(this, 'QueueAgeAlarm', {
        alarmDescription: 'access-log objects are waiting to be read: the object aggregator is failing, throttled or too slow (features are late)',
        metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: (props.queueAgeAlarmThreshold ?? d.objectQueueAgeAlarm).toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
