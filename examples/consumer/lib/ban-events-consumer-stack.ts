/**
 * Example: a team subscribing to distill-guard ban events FROM ANOTHER AWS ACCOUNT (docs/events.md).
 *
 * How events get here (both are supported by AWS; pick with `mode`):
 * - `consumer-rule` (default): this stack creates a rule ON THE PRODUCER'S BUS (CloudFormation accepts the bus ARN
 *   as `EventBusName`; the producer's bus policy lets this account manage the rules it created,
 *   `events:creatorAccount`). The rule's target is this account's inbox bus. The filter lives with the consumer,
 *   who can change it without asking the producer.
 * - `producer-forwards`: the producer lists this inbox bus in `forwardToEventBusArns`; its rule sends every ban event
 *   here. Nothing is created in the producer's account by this stack.
 * Either way the inbox bus accepts events only from the producer account and only with source `distill-guard`; a
 * rule on the inbox filters (detail type, `decidedBy`) and delivers to an SQS queue (KMS, dead-letter queue).
 *
 * The team's code is a Lambda function on the queue (lambda/ban-events-handler.ts): Powertools Parser for the event
 * shape, Powertools Idempotency on `detail.eventId` (a DynamoDB table of the ids it has acted on), partial batch
 * responses so a malformed message goes alone to the dead-letter queue. Its role can only use that queue and table.
 *
 * Why an inbox bus and not the queue as the remote rule's direct target: AWS delivers to SQS queues in another
 * account only from rules the BUS OWNER creates (PutTargets from a different account is not supported for
 * cross-account targets other than event buses), so a consumer-created rule must target a bus it owns.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, StackProps, CfnOutput, Arn, ArnFormat } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export type SubscriptionMode = 'consumer-rule' | 'producer-forwards';

export interface BanEventsConsumerStackProps extends StackProps {
  /** ARN of the distill-guard ban-event bus (stack output `BanEventBusArn` of the producer). */
  readonly producerEventBusArn: string;
  /**
   * How events reach this account.
   * @default 'consumer-rule'
   */
  readonly mode?: SubscriptionMode;
  /**
   * Detail types to receive.
   * @default - all: Account Flagged, Account Suspended, Account Reinstated
   */
  readonly detailTypes?: string[];
  /**
   * Only decisions by these deciders (`auto`, or reviewer identities); e.g. `['auto']` for automatic suspensions only.
   * @default - any decider
   */
  readonly decidedBy?: string[];
  /**
   * Major schema version this consumer understands (pattern `schemaVersion` prefix `<major>.`).
   * @default 1
   */
  readonly schemaMajor?: number;
  /**
   * Receive count after which a message moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Deploy the example handler (lambda/ban-events-handler.ts) on the queue, with its idempotency table.
   * @default true
   */
  readonly handler?: boolean;
}

export class BanEventsConsumerStack extends Stack {
  readonly inbox: events.EventBus;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly key: kms.Key;
  /** The filter, as the consumer wrote it. */
  readonly eventPattern: events.EventPattern;
  /** The example handler and the table of event ids it has acted on (absent with `handler: false`). */
  readonly handler?: NodejsFunction;
  readonly idempotencyTable?: dynamodb.Table;

  constructor(scope: Construct, id: string, props: BanEventsConsumerStackProps) {
    super(scope, id, props);
    const producer = Arn.split(props.producerEventBusArn, ArnFormat.SLASH_RESOURCE_NAME);
    if (producer.service !== 'events' || producer.resource !== 'event-bus' || !producer.account || !producer.resourceName) {
      throw new Error(
        `producerEventBusArn must be an event bus arn (arn:aws:events:<region>:<account>:event-bus/<name>), got ${JSON.stringify(props.producerEventBusArn)}`,
      );
    }
    const mode = props.mode ?? 'consumer-rule';

    const detail: Record<string, unknown> = { schemaVersion: [{ prefix: `${props.schemaMajor ?? 1}.` }] };
    if (props.decidedBy?.length) detail.decidedBy = props.decidedBy;
    this.eventPattern = {
      source: ['distill-guard'],
      ...(props.detailTypes?.length ? { detailType: props.detailTypes } : {}),
      detail,
    };

    // --- the queue the team's code reads -------------------------------------------------------------------------
    this.key = new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'distill-guard ban events consumer queue' });
    this.deadLetterQueue = new sqs.Queue(this, 'BanEventsDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'BanEventsQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.minutes(5),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // EventBridge writes to the queue (and to the DLQ) with the queue's CMK.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeToUseTheQueueKey',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'], // in a key policy, `*` is this key
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );

    // --- the inbox bus: only the producer account, only distill-guard events ---------------------------------------
    this.inbox = new events.EventBus(this, 'Inbox', { description: 'distill-guard ban events received from the producer account' });
    this.inbox.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowDistillGuardProducer',
        principals: [new iam.AccountPrincipal(producer.account)],
        actions: ['events:PutEvents'],
        resources: [this.inbox.eventBusArn],
        conditions: { StringEquals: { 'events:source': 'distill-guard' } },
      }),
    );

    new events.Rule(this, 'ToQueue', {
      eventBus: this.inbox,
      description: 'distill-guard ban events -> the team queue',
      eventPattern: this.eventPattern,
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });

    // --- the subscription on the producer's bus ----------------------------------------------------------------------
    if (mode === 'consumer-rule') {
      const remote = new events.CfnRule(this, 'SubscriptionOnProducerBus', {
        // An ARN here creates the rule in the bus owner's account (allowed by its bus policy); the rule stays ours.
        eventBusName: props.producerEventBusArn,
        description: `ban events for ${this.stackName} (${this.account})`,
        state: 'ENABLED',
        eventPattern: {
          source: ['distill-guard'],
          ...(props.detailTypes?.length ? { 'detail-type': props.detailTypes } : {}),
          detail,
        },
        targets: [{ id: 'ConsumerInbox', arn: this.inbox.eventBusArn }],
      });
      remote.node.addDependency(this.inbox);
    }

    if (props.handler ?? true) [this.handler, this.idempotencyTable] = this.addHandler();

    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl, description: 'read ban events here (de-duplicate on detail.eventId)' });
    new CfnOutput(this, 'InboxBusArn', {
      value: this.inbox.eventBusArn,
      description: 'give this to the producer for forwardToEventBusArns (producer-forwards mode)',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
  }

  /** The example handler on the queue; its role may use the queue, the idempotency table and the key, nothing else. */
  private addHandler(): [NodejsFunction, dynamodb.Table] {
    const table = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch Logs may use the key for this account's log groups only.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    const fn = new NodejsFunction(this, 'Handler', {
      entry: path.join(__dirname, '..', 'lambda', 'ban-events-handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: new logs.LogGroup(this, 'HandlerLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        encryptionKey: this.key,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        target: 'node22',
        format: OutputFormat.CJS,
        externalModules: ['@aws-sdk/*'],
      },
      environment: { IDEMPOTENCY_TABLE: table.tableName, POWERTOOLS_SERVICE_NAME: 'ban-events-consumer', NODE_OPTIONS: '--enable-source-maps' },
    });
    // Powertools Idempotency reads, writes, updates and deletes single items: nothing more on the table.
    table.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    this.key.grant(fn, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
    // Receive, delete and change visibility on this queue (granted by the event source); partial batch responses.
    fn.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
    return [fn, table];
  }
}
