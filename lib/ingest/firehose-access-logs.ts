/**
 * The Firehose ingestion path (`ingestPath: 'firehose'`): REST API stages write their access logs (docs/contract.md,
 * access-log record; one Firehose record per request) to an Amazon Data Firehose stream named `amazon-apigateway-...`
 * (API Gateway's rule for access-log destinations), which buffers them and writes gzip'd objects to an S3 bucket.
 * The aggregate stage reads the objects (lib/aggregate/object-aggregator.ts: S3 event -> SQS -> Lambda).
 *
 * What it creates:
 * - the bucket: SSE-KMS with the ingestion key (S3 Bucket Key on, so KMS is called per object, not per request),
 *   public access blocked, TLS enforced, objects expire after `objectRetention` (they are a buffer and a replay
 *   source, and they hold raw source IPs);
 * - the delivery stream: Direct PUT, server-side encrypted with the same key, GZIP objects under
 *   `access-logs/YYYY/MM/DD/HH/`, failed records under `firehose-errors/`, a newline appended to every record,
 *   delivery errors logged to an encrypted log group;
 * - the role Firehose assumes (this account only): write objects under the bucket, that key via S3 only, that log
 *   stream.
 *
 * Latency: an object is written when `bufferInterval` has passed or `bufferSizeMiB` of records have arrived,
 * whichever comes first, so a request waits up to the interval (at low rates) or the time to fill the buffer (at
 * high rates) before the aggregator can see it (docs/cost.md, "Latency of the Firehose path").
 */
import { ArnFormat, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { APIGATEWAY_FIREHOSE_PREFIX, INGEST_DEFAULTS } from './defaults';
import { FIREHOSE_SETTINGS } from './settings';
import { checkIntegerSetting, outOfRange } from '../settings';

export interface FirehoseAccessLogsProps {
  /**
   * Customer-managed key for the bucket, the delivery stream and its error log group (the ingestion key; its
   * policy must let CloudWatch Logs use it, as `IngestionStream`'s key does).
   */
  readonly encryptionKey: kms.IKey;
  /**
   * Firehose buffer interval (60..900 s): an object at least this often.
   * @default Duration.seconds(60)
   */
  readonly bufferInterval?: Duration;
  /**
   * Firehose buffer size in MiB of raw records (1..128): an object as soon as this much has arrived.
   * @default 64
   */
  readonly bufferSizeMiB?: number;
  /**
   * How long access-log objects are kept (S3 lifecycle expiration, whole days, 1..3650).
   * @default Duration.days(7)
   */
  readonly objectRetention?: Duration;
  /**
   * Name of the delivery stream; must start with `amazon-apigateway-` (API Gateway refuses other names).
   * @default - `amazon-apigateway-distill-guard-<unique suffix>`
   */
  readonly deliveryStreamName?: string;
  /**
   * Append a newline to every record (`AppendDelimiterToRecord`), so objects are newline-delimited JSON. The
   * aggregator also reads objects without it (concatenated JSON).
   * @default true
   */
  readonly appendNewline?: boolean;
  /**
   * What happens to the bucket when the stack is deleted (a non-empty bucket cannot be deleted).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class FirehoseAccessLogs extends Construct {
  /** The bucket Firehose writes the gzip'd access-log objects to. */
  public readonly bucket: s3.Bucket;
  /** The Direct PUT delivery stream API Gateway stages log to. */
  public readonly deliveryStream: firehose.CfnDeliveryStream;
  /** Its name (`amazon-apigateway-...`). */
  public readonly deliveryStreamName: string;
  /** Its ARN: the `AccessLogSetting.DestinationArn` of every attached stage. */
  public readonly deliveryStreamArn: string;
  /** Key prefix of the access-log objects (what the aggregator's S3 event notification filters on). */
  public readonly objectPrefix: string;
  /** The role Firehose assumes to write the objects. */
  public readonly deliveryRole: iam.Role;
  /** Where Firehose logs delivery errors. */
  public readonly errorLogGroup: logs.LogGroup;
  /** The buffer settings, as configured (for docs, alarms and the local runtime). */
  public readonly bufferIntervalSeconds: number;
  public readonly bufferSizeMiB: number;

  constructor(scope: Construct, id: string, props: FirehoseAccessLogsProps) {
    super(scope, id);
    const d = INGEST_DEFAULTS;
    const stack = Stack.of(this);
    const interval = props.bufferInterval ?? d.firehoseBufferInterval;
    const size = props.bufferSizeMiB ?? d.firehoseBufferSizeMiB;
    const retention = props.objectRetention ?? d.accessLogObjectRetention;
    const S = FIREHOSE_SETTINGS;
    if (!interval.isUnresolved() && outOfRange(S.firehoseBufferSeconds, interval.toSeconds())) {
      throw new Error(
        `bufferInterval must be between ${S.firehoseBufferSeconds.min} and ${S.firehoseBufferSeconds.max} seconds, got ${interval.toSeconds()} seconds`,
      );
    }
    checkIntegerSetting('bufferSizeMiB', size, S.firehoseBufferMiB);
    const days = retention.toDays({ integral: false });
    const { min, max } = S.accessLogObjectRetentionDays;
    if (outOfRange(S.accessLogObjectRetentionDays, days))
      throw new Error(`objectRetention must be a whole number of days in ${min}..${max}, got ${days} days`);
    const name =
      props.deliveryStreamName ??
      `${APIGATEWAY_FIREHOSE_PREFIX}distill-guard-${Names.uniqueResourceName(this, { maxLength: 64 - `${APIGATEWAY_FIREHOSE_PREFIX}distill-guard-`.length })}`;
    if (!name.startsWith(APIGATEWAY_FIREHOSE_PREFIX) || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new Error(`deliveryStreamName must start with ${APIGATEWAY_FIREHOSE_PREFIX} and match [A-Za-z0-9_.-]{1,64}, got ${JSON.stringify(name)}`);
    }
    this.bufferIntervalSeconds = interval.toSeconds();
    this.bufferSizeMiB = size;
    this.objectPrefix = d.accessLogObjectPrefix;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-access-logs', prefix: d.accessLogObjectPrefix, expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-delivery-errors', prefix: d.firehoseErrorPrefix, expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.errorLogGroup = new logs.LogGroup(this, 'DeliveryErrors', {
      retention: logs.RetentionDays.ONE_MONTH,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const errorStream = this.errorLogGroup.addStream('S3Delivery');

    // Firehose acting for this account only (the documented confused-deputy guard for Firehose roles).
    this.deliveryRole = new iam.Role(this, 'DeliveryRole', {
      description: 'Amazon Data Firehose writes distill-guard access-log objects to S3',
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com').withConditions({ StringEquals: { 'sts:ExternalId': stack.account } }),
    });
    const policy = new iam.Policy(this, 'DeliveryPolicy', {
      roles: [this.deliveryRole],
      statements: [
        new iam.PolicyStatement({
          actions: [
            's3:AbortMultipartUpload',
            's3:GetBucketLocation',
            's3:GetObject',
            's3:ListBucket',
            's3:ListBucketMultipartUploads',
            's3:PutObject',
          ],
          resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
        }),
        // The key, only through S3 and only for this bucket (Bucket Key: the context is the bucket ARN).
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [props.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
            StringLike: { 'kms:EncryptionContext:aws:s3:arn': [this.bucket.bucketArn, this.bucket.arnForObjects('*')] },
          },
        }),
        new iam.PolicyStatement({
          actions: ['logs:PutLogEvents'],
          resources: [
            stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: `${this.errorLogGroup.logGroupName}:log-stream:${errorStream.logStreamName}`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });

    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: name,
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: props.encryptionKey.keyArn },
      extendedS3DestinationConfiguration: {
        bucketArn: this.bucket.bucketArn,
        roleArn: this.deliveryRole.roleArn,
        prefix: `${d.accessLogObjectPrefix}!{timestamp:yyyy/MM/dd/HH}/`,
        errorOutputPrefix: `${d.firehoseErrorPrefix}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`,
        bufferingHints: { intervalInSeconds: this.bufferIntervalSeconds, sizeInMBs: size },
        compressionFormat: 'GZIP',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: props.encryptionKey.keyArn } },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: this.errorLogGroup.logGroupName, logStreamName: errorStream.logStreamName },
        processingConfiguration:
          (props.appendNewline ?? d.firehoseAppendNewline) ? { enabled: true, processors: [{ type: 'AppendDelimiterToRecord' }] } : undefined,
      },
    });
    // Firehose checks its role when the stream is created: the policy must exist by then.
    this.deliveryStream.node.addDependency(policy);
    this.deliveryStreamName = name;
    this.deliveryStreamArn = this.deliveryStream.attrArn;
  }
}
