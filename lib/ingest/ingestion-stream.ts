/**
 * The ingestion path shared by both ways in: a customer-managed KMS key, the Kinesis stream the aggregator
 * reads, the CloudWatch Logs group API Gateway writes access logs to, and the subscription filter that moves
 * every log event from the group onto the stream (docs/contract.md, access-log record). Usage events
 * (docs/contract.md, usage event) from the model-serving tier go straight onto the same stream:
 * `grantUsageWrite(grantee)` or `usageProducerRole`.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import { INGEST_DEFAULTS } from './defaults';
import { INGEST_SETTINGS } from './settings';
import { outOfRange } from '../settings';
import { allowCloudWatchLogs } from '../shared/stack-key';

export interface IngestionStreamProps {
  /**
   * Kinesis capacity mode. ON_DEMAND scales with traffic; PROVISIONED uses `shardCount` shards.
   * @default kinesis.StreamMode.ON_DEMAND
   */
  readonly streamMode?: kinesis.StreamMode;
  /**
   * Number of shards when `streamMode` is PROVISIONED (1..500). Rejected with ON_DEMAND.
   * @default 2 (only with PROVISIONED)
   */
  readonly shardCount?: number;
  /**
   * How long Kinesis keeps records (24 h .. 8760 h).
   * @default Duration.hours(24)
   */
  readonly streamRetention?: Duration;
  /**
   * Retention of the access-log group.
   * @default logs.RetentionDays.ONE_WEEK
   */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * An existing customer-managed key for the stream and the log group. Its key policy must let
   * `logs.<region>.amazonaws.com` use it when you pass your own.
   * @default - a new key with yearly rotation
   */
  readonly existingEncryptionKeyObj?: kms.IKey;
  /**
   * What happens to the stream, the log group and a key created here when the stack is deleted.
   * @default RemovalPolicy.DESTROY (the stream and the log group are buffers; features live in DynamoDB)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * AWS account ids whose principals may assume `usageProducerRole` to put usage events (docs/contract.md, usage event) on the
   * stream. The role is only created when this is non-empty; in the same account use `grantUsageWrite`.
   * @default - no usage producer role
   */
  readonly usageProducerAccountIds?: string[];
  /**
   * How the subscription filter spreads log events over the shards (the records' partition keys). RANDOM keys are
   * unbounded: keep the aggregator's `parallelizationFactor` at 1 with it. BY_LOG_STREAM uses the log stream names
   * (a small set) and allows a higher factor.
   * @default logs.Distribution.RANDOM
   */
  readonly subscriptionDistribution?: logs.Distribution;
}

export class IngestionStream extends Construct {
  /** The stream the aggregator reads: CloudWatch Logs envelopes of access logs, and usage events (docs/contract.md). */
  public readonly stream: kinesis.Stream;
  /** The customer-managed key of the stream and the access-log group. */
  public readonly encryptionKey: kms.IKey;
  /** The log group API Gateway stages write access logs to. */
  public readonly accessLogGroup: logs.LogGroup;
  /** The subscription filter from `accessLogGroup` to `stream`. */
  public readonly subscriptionFilter: logs.SubscriptionFilter;
  /** The role CloudWatch Logs assumes to put records on the stream. */
  public readonly subscriptionRole: iam.Role;
  /** A role that may put usage events on the stream, when `usageProducerAccountIds` is set. */
  public readonly usageProducerRole?: iam.Role;

  constructor(scope: Construct, id: string, props: IngestionStreamProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const streamMode = props.streamMode ?? kinesis.StreamMode[INGEST_DEFAULTS.streamMode];
    if (props.shardCount !== undefined) {
      if (streamMode !== kinesis.StreamMode.PROVISIONED) {
        throw new Error(`shardCount is only valid with streamMode PROVISIONED, got streamMode ${streamMode} and shardCount ${props.shardCount}`);
      }
      const { shardCount } = INGEST_SETTINGS;
      if (outOfRange(shardCount, props.shardCount)) {
        throw new Error(`shardCount must be an integer between ${shardCount.min} and ${shardCount.max}, got ${props.shardCount}`);
      }
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    if (props.existingEncryptionKeyObj) {
      this.encryptionKey = props.existingEncryptionKeyObj;
    } else {
      const key = new kms.Key(this, 'Key', {
        description: 'distill-guard ingestion: access-log group and Kinesis stream',
        enableKeyRotation: true,
        removalPolicy,
        pendingWindow: Duration.days(7),
      });
      // CloudWatch Logs encrypts the log group with this key; the condition keeps it to this account's log groups.
      allowCloudWatchLogs(key);
      this.encryptionKey = key;
    }

    this.stream = new kinesis.Stream(this, 'Stream', {
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.encryptionKey,
      streamMode,
      shardCount: streamMode === kinesis.StreamMode.PROVISIONED ? (props.shardCount ?? INGEST_DEFAULTS.shardCount) : undefined,
      retentionPeriod: props.streamRetention ?? INGEST_DEFAULTS.streamRetention,
      removalPolicy,
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? INGEST_DEFAULTS.accessLogRetention,
      encryptionKey: this.encryptionKey,
      removalPolicy,
    });

    // Scoped to CloudWatch Logs acting for this account and region (confused-deputy guard).
    this.subscriptionRole = new iam.Role(this, 'SubscriptionRole', {
      description: 'CloudWatch Logs puts distill-guard access-log events on the ingestion stream',
      assumedBy: new iam.ServicePrincipal('logs.amazonaws.com').withConditions({
        StringLike: {
          'aws:SourceArn': stack.formatArn({ service: 'logs', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }),
        },
      }),
    });
    // Exactly what CloudWatch Logs needs to deliver: put records on this stream, a data key from this key.
    const deliveryPolicy = new iam.Policy(this, 'SubscriptionPolicy', {
      roles: [this.subscriptionRole],
      statements: [
        new iam.PolicyStatement({ actions: ['kinesis:PutRecord', 'kinesis:PutRecords'], resources: [this.stream.streamArn] }),
        new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [this.encryptionKey.keyArn] }),
      ],
    });
    this.subscriptionFilter = new logs.SubscriptionFilter(this, 'ToStream', {
      logGroup: this.accessLogGroup,
      destination: new ScopedKinesisDestination(this.stream, this.subscriptionRole),
      filterPattern: logs.FilterPattern.allEvents(),
      // Random distribution spreads one busy log stream over all shards; the aggregator's per-shard watermarks
      // and commutative merges do not need log-stream affinity.
      distribution: props.subscriptionDistribution ?? logs.Distribution.RANDOM,
    });
    // CloudWatch Logs test-delivers when the filter is created: the role's policy must exist by then.
    this.subscriptionFilter.node.addDependency(deliveryPolicy);

    const producerAccounts = props.usageProducerAccountIds ?? [];
    if (producerAccounts.length > 0) {
      for (const account of producerAccounts) {
        if (!/^\d{12}$/.test(account)) throw new Error(`usageProducerAccountIds must be 12-digit account ids, got ${JSON.stringify(account)}`);
      }
      this.usageProducerRole = new iam.Role(this, 'UsageProducerRole', {
        description: 'Model-serving tier puts distill-guard usage events (docs/contract.md §2) on the ingestion stream',
        assumedBy: new iam.CompositePrincipal(...producerAccounts.map((a) => new iam.AccountPrincipal(a))),
      });
      this.grantUsageWrite(this.usageProducerRole);
    }
  }

  /**
   * Let `grantee` put usage events (docs/contract.md, usage event) on the stream (PutRecord/PutRecords + the key). The aggregator
   * reads what a producer puts on the stream as usage events only (access logs are accepted only in CloudWatch Logs
   * envelopes from the access-log group); key usage events by account id (a bounded set of partition keys).
   */
  public grantUsageWrite(grantee: iam.IGrantable): iam.Grant {
    // Narrower than stream.grantWrite (no kms:ReEncrypt*/GenerateDataKey* wildcards): what a producer calls.
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['kinesis:PutRecord', 'kinesis:PutRecords', 'kinesis:DescribeStreamSummary', 'kinesis:ListShards'],
      resourceArns: [this.stream.streamArn],
    });
    this.encryptionKey.grant(grantee, 'kms:GenerateDataKey');
    return grant;
  }

  /** The log group's ARN without the `:*` suffix, as API Gateway wants it for access-log destinations. */
  public get accessLogGroupArn(): string {
    return logGroupArnWithoutWildcard(this.accessLogGroup);
  }
}

/** `arn:...:log-group:<name>` (no `:*`), the form API Gateway's accessLogSettings.destinationArn expects. */
export function logGroupArnWithoutWildcard(logGroup: logs.ILogGroup): string {
  return Stack.of(logGroup).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: logGroup.logGroupName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * A Kinesis subscription destination that uses the given role as is. Hand-written because
 * `aws-logs-destinations.KinesisDestination` always adds `stream.grantWrite` (kms:ReEncrypt*,
 * kms:GenerateDataKey*, DescribeStream...) and PassRole, more than delivery needs.
 */
class ScopedKinesisDestination extends destinations.KinesisDestination {
  // Subclass (not a fresh ILogSubscriptionDestination) because SubscriptionFilter only accepts `distribution`
  // with an instanceof KinesisDestination.
  constructor(
    private readonly scopedStream: kinesis.IStream,
    private readonly scopedRole: iam.IRole,
  ) {
    super(scopedStream, { role: scopedRole });
  }
  override bind(): logs.LogSubscriptionDestinationConfig {
    return { arn: this.scopedStream.streamArn, role: this.scopedRole };
  }
}
