import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DETAIL_TYPES } from '../../src/shared/contract';
import { OUTBOX_PK_PREFIX } from '../../src/notify/ban-event';
import { BAN_EVENT_SCHEMAS } from '../../src/notify/schemas';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { CONSUMER_RULE_ACTIONS, CONSUMER_SCHEMA_ACTIONS, NOTIFY_DEFAULTS } from './defaults';

/** Props for {@link BanEvents}. */
export interface BanEventsProps {
  /**
   * The control table holding the transactional outbox (`OUTBOX#<eventId>` / `EVENT`). Must have a stream
   * (NEW_IMAGE or NEW_AND_OLD_IMAGES) and the `byState` GSI (docs/DESIGN.md).
   */
  readonly controlTable: dynamodb.ITable;
  /**
   * AWS accounts allowed to create and manage their OWN rules on the bus (condition `events:creatorAccount`), and
   * to read the schema registry.
   * @default - no consumer accounts
   */
  readonly consumerAccountIds?: string[];
  /**
   * AWS Organization (`o-...`) whose accounts may create and manage their own rules on the bus and read the
   * schema registry.
   * @default - no organization
   */
  readonly organizationId?: string;
  /**
   * Event buses (ARNs, typically in consumer accounts) the producer forwards every ban event to, through rules it
   * owns. The alternative to consumer-created rules for teams that prefer not to manage rules in this account.
   * Each target bus must allow `events:PutEvents` from this account.
   * @default - no forwarding
   */
  readonly forwardToEventBusArns?: string[];
  /**
   * How long the archive keeps ban events for replay.
   * @default Duration.days(365)
   */
  readonly archiveRetention?: Duration;
  /**
   * Customer-managed key for the bus and the publisher's queues (the archive gets a key of its own).
   * @default - a new KMS key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Use this bus instead of creating one. Mutually exclusive with `eventBusProps`.
   * @default - a new bus is created
   */
  readonly existingEventBusObj?: events.IEventBus;
  /**
   * Props of the bus this construct creates (the key defaults to `encryptionKey`). Mutually exclusive with
   * `existingEventBusObj`.
   * @default - an auto-named bus encrypted with `encryptionKey`
   */
  readonly eventBusProps?: events.EventBusProps;
  /**
   * Name of the EventBridge schema registry.
   * @default `<stack name>-ban-events`
   */
  readonly registryName?: string;
  /**
   * Stream records per publisher invocation.
   * @default 25
   */
  readonly publisherBatchSize?: number;
  /**
   * Stream retries of a failing record before it goes to the on-failure queue (the sweeper still republishes it).
   * @default 8
   */
  readonly publisherRetryAttempts?: number;
  /**
   * Stream records older than this are not retried further (the sweeper republishes them).
   * @default Duration.hours(1)
   */
  readonly publisherMaxRecordAge?: Duration;
  /**
   * PutEvents attempts per entry within one invocation (retrying only failed entries).
   * @default 4
   */
  readonly publishMaxAttempts?: number;
  /**
   * How often the outbox sweeper runs.
   * @default Duration.minutes(5)
   */
  readonly sweeperInterval?: Duration;
  /**
   * Outbox items still unpublished this long after they were written are republished by the sweeper.
   * @default Duration.minutes(5)
   */
  readonly sweeperMinAge?: Duration;
  /**
   * Days a published outbox item is kept in the control table (TTL).
   * @default 7
   */
  readonly outboxRetentionDays?: number;
  /**
   * Alarm threshold on the age of the oldest unpublished outbox item.
   * @default Duration.minutes(15)
   */
  readonly maxPendingAge?: Duration;
}

/**
 * Ban events as a product (docs/contract.md §4, docs/events.md): a KMS-encrypted custom bus whose resource policy lets
 * the named consumer accounts / organization manage their own rules and denies `distill-guard` events from anyone
 * but the publisher and the sweeper; the JSON Schemas of schemas/ in an
 * EventBridge schema registry; an archive for replay; and the transactional-outbox publisher (control-table
 * stream -> PutEvents, retrying only failed entries) plus a scheduled sweeper that republishes anything the
 * stream path could not, so every decision's event is eventually on the bus.
 */
export class BanEvents extends Construct {
  readonly eventBus: events.IEventBus;
  readonly encryptionKey: kms.IKey;
  /** Key of the archive (separate from `encryptionKey`, see the archive). */
  readonly archiveKey: kms.Key;
  readonly archive: events.Archive;
  readonly registry: eventschemas.CfnRegistry;
  readonly schemas: Record<string, eventschemas.CfnSchema>;
  readonly publisher: DistillGuardFunction;
  readonly publisherDlq: sqs.Queue;
  readonly sweeper: DistillGuardFunction;
  readonly sweeperRule: events.Rule;
  /** Alarms: on-failure queue not empty, oldest pending outbox item too old, poison outbox items, schema violations, publisher errors. */
  readonly alarms: cloudwatch.Alarm[];
  /** The event pattern that matches every ban event (what the archive keeps). */
  readonly eventPattern: events.EventPattern;

  constructor(scope: Construct, id: string, props: BanEventsProps) {
    super(scope, id);
    if (props.existingEventBusObj && props.eventBusProps) {
      throw new Error('give existingEventBusObj or eventBusProps, not both (got both)');
    }
    if (!props.controlTable.tableStreamArn) {
      throw new Error(`controlTable must have a stream (NEW_IMAGE): tableStreamArn is ${JSON.stringify(props.controlTable.tableStreamArn)}`);
    }
    for (const a of props.consumerAccountIds ?? []) {
      if (!Token.isUnresolved(a) && !/^\d{12}$/.test(a)) throw new Error(`consumerAccountIds must be 12-digit account ids, got ${JSON.stringify(a)}`);
    }
    if (props.organizationId !== undefined && !Token.isUnresolved(props.organizationId) && !/^o-[a-z0-9]{10,32}$/.test(props.organizationId)) {
      throw new Error(`organizationId must look like o-xxxxxxxxxx, got ${JSON.stringify(props.organizationId)}`);
    }
    const stack = Stack.of(this);
    const source = NOTIFY_DEFAULTS.source;
    this.eventPattern = { source: [source] };

    this.encryptionKey =
      props.encryptionKey ?? new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'distill-guard ban events (bus, publisher queues)' });

    // --- the bus ---------------------------------------------------------------------------------------------
    this.eventBus =
      props.existingEventBusObj ??
      new events.EventBus(this, 'Bus', {
        description: 'distill-guard ban events (Account Flagged / Suspended / Reinstated)',
        kmsKey: this.encryptionKey,
        ...props.eventBusProps,
      });

    // Cross-account rule management: each consumer creates, and can only touch, its own rules
    // (AWS: "Example policy: Send events to the same account and restrict updates", events:creatorAccount).
    const ruleArns = stack.formatArn({ service: 'events', resource: 'rule', resourceName: `${this.eventBus.eventBusName}/*` });
    const creatorIsCaller = { StringEqualsIfExists: { 'events:creatorAccount': '${aws:PrincipalAccount}' } };
    const policies: events.CfnEventBusPolicy[] = [];
    const accounts = props.consumerAccountIds ?? [];
    if (accounts.length) {
      policies.push(
        new events.CfnEventBusPolicy(this, 'ConsumerAccountsRulesPolicy', {
          eventBusName: this.eventBus.eventBusName,
          statementId: 'ConsumerAccountsManageOwnRules',
          statement: {
            Sid: 'ConsumerAccountsManageOwnRules',
            Effect: 'Allow',
            Principal: { AWS: accounts.map((a) => stack.formatArn({ service: 'iam', region: '', account: a, resource: 'root' })) },
            Action: CONSUMER_RULE_ACTIONS,
            Resource: ruleArns,
            Condition: creatorIsCaller,
          },
        }),
      );
    }
    if (props.organizationId) {
      policies.push(
        new events.CfnEventBusPolicy(this, 'OrganizationRulesPolicy', {
          eventBusName: this.eventBus.eventBusName,
          statementId: 'OrganizationManageOwnRules',
          statement: {
            Sid: 'OrganizationManageOwnRules',
            Effect: 'Allow',
            Principal: '*', // narrowed by aws:PrincipalOrgID below
            Action: CONSUMER_RULE_ACTIONS,
            Resource: ruleArns,
            Condition: { ...creatorIsCaller, StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
          },
        }),
      );
    }
    // Policies on one bus are updated one at a time (concurrent PutPermission calls conflict).
    for (let i = 1; i < policies.length; i++) policies[i].node.addDependency(policies[i - 1]);

    this.archiveKey = new kms.Key(this, 'ArchiveKey', { enableKeyRotation: true, description: 'distill-guard ban event archive' });

    // --- archive ---------------------------------------------------------------------------------------------
    this.archive = new events.Archive(this, 'Archive', {
      sourceEventBus: this.eventBus,
      description: 'every distill-guard ban event, for replay (docs/events.md)',
      eventPattern: this.eventPattern,
      retention: props.archiveRetention ?? NOTIFY_DEFAULTS.archiveRetention,
      // Its own key: the archive's key policy names the bus ARN (GetAtt), and the bus names its key, so one
      // shared key would be a CloudFormation dependency cycle.
      kmsKey: this.archiveKey,
    });

    // --- schema registry ---------------------------------------------------------------------------------------
    const registryName = props.registryName ?? `${stack.stackName}-${NOTIFY_DEFAULTS.registryNameSuffix}`;
    this.registry = new eventschemas.CfnRegistry(this, 'Registry', {
      registryName,
      description: 'JSON Schemas of distill-guard ban events (source distill-guard); versioning policy in docs/events.md',
    });
    this.schemas = {};
    for (const dt of DETAIL_TYPES) {
      const s = BAN_EVENT_SCHEMAS[dt];
      const schema = new eventschemas.CfnSchema(this, `Schema${s.definition}`, {
        registryName,
        schemaName: s.schemaName,
        type: 'JSONSchemaDraft4',
        content: JSON.stringify(s.schema),
        description: `distill-guard "${dt}" (schemas/${s.file})`,
      });
      schema.node.addDependency(this.registry);
      this.schemas[dt] = schema;
    }
    const schemaReaders: Array<{ sid: string; principal: unknown; condition?: unknown }> = [];
    if (accounts.length) {
      schemaReaders.push({
        sid: 'ConsumerAccountsReadSchemas',
        principal: { AWS: accounts.map((a) => stack.formatArn({ service: 'iam', region: '', account: a, resource: 'root' })) },
      });
    }
    if (props.organizationId) {
      schemaReaders.push({
        sid: 'OrganizationReadSchemas',
        principal: '*',
        condition: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
      });
    }
    if (schemaReaders.length) {
      const registryPolicy = new eventschemas.CfnRegistryPolicy(this, 'RegistryPolicy', {
        registryName,
        policy: {
          Version: '2012-10-17',
          Statement: schemaReaders.map((r) => ({
            Sid: r.sid,
            Effect: 'Allow',
            Principal: r.principal,
            Action: CONSUMER_SCHEMA_ACTIONS,
            Resource: [
              stack.formatArn({ service: 'schemas', resource: 'registry', resourceName: registryName }),
              stack.formatArn({ service: 'schemas', resource: 'schema', resourceName: `${registryName}/*` }),
            ],
            ...(r.condition ? { Condition: r.condition } : {}),
          })),
        },
      });
      registryPolicy.node.addDependency(this.registry);
    }

    // --- outbox publisher (stream) -----------------------------------------------------------------------------
    this.publisherDlq = new sqs.Queue(this, 'PublisherFailures', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const outboxRetentionDays = props.outboxRetentionDays ?? NOTIFY_DEFAULTS.outboxRetentionDays;
    const publishMaxAttempts = props.publishMaxAttempts ?? NOTIFY_DEFAULTS.publishMaxAttempts;
    const commonEnv = {
      CONTROL_TABLE: props.controlTable.tableName,
      EVENT_BUS_NAME: this.eventBus.eventBusName,
      OUTBOX_RETENTION_DAYS: String(outboxRetentionDays),
      PUBLISH_MAX_ATTEMPTS: String(publishMaxAttempts),
    };
    this.publisher = new DistillGuardFunction(this, 'Publisher', {
      entry: 'lambdas/notify/publisher.ts',
      serviceName: 'notify-publisher',
      description: 'distill-guard: control-table outbox -> ban events on the bus',
      environment: commonEnv,
    });
    this.publisher.addEventSource(
      new DynamoEventSource(props.controlTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.publisherBatchSize ?? NOTIFY_DEFAULTS.publisherBatchSize,
        maxBatchingWindow: NOTIFY_DEFAULTS.publisherMaxBatchingWindow,
        bisectBatchOnError: true,
        retryAttempts: props.publisherRetryAttempts ?? NOTIFY_DEFAULTS.publisherRetryAttempts,
        maxRecordAge: props.publisherMaxRecordAge ?? NOTIFY_DEFAULTS.publisherMaxRecordAge,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.publisherDlq),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { Keys: { pk: { S: lambda.FilterRule.beginsWith(OUTBOX_PK_PREFIX) } } },
          }),
        ],
      }),
    );
    this.eventBus.grantPutEventsTo(this.publisher);
    grantOutboxAccess(this.publisher, props.controlTable, false);

    // --- sweeper (scheduled) -------------------------------------------------------------------------------------
    const sweeperMinAge = props.sweeperMinAge ?? NOTIFY_DEFAULTS.sweeperMinAge;
    this.sweeper = new DistillGuardFunction(this, 'Sweeper', {
      entry: 'lambdas/notify/sweeper.ts',
      serviceName: 'notify-sweeper',
      description: 'distill-guard: republish outbox items the stream publisher has not published',
      timeout: Duration.minutes(2),
      environment: {
        ...commonEnv,
        SWEEP_MIN_AGE_SECONDS: String(sweeperMinAge.toSeconds()),
        SWEEP_MAX_ITEMS: String(NOTIFY_DEFAULTS.sweeperMaxItems),
      },
    });
    this.eventBus.grantPutEventsTo(this.sweeper);
    grantOutboxAccess(this.sweeper, props.controlTable, true);
    this.sweeperRule = new events.Rule(this, 'SweeperSchedule', {
      description: 'distill-guard: run the ban-event outbox sweeper',
      schedule: events.Schedule.rate(props.sweeperInterval ?? NOTIFY_DEFAULTS.sweeperInterval),
      targets: [new eventsTargets.LambdaFunction(this.sweeper, { retryAttempts: 2 })],
    });

    // --- only the publisher and the sweeper may put `distill-guard` events on the bus ------------------------------
    // Consumers act on these events (suspend, bill, revoke): any other principal with events:PutEvents in the
    // account could otherwise forge one. An explicit deny in the bus policy wins over any identity policy.
    const onlyPublishers = new events.CfnEventBusPolicy(this, 'OnlyPublishersPolicy', {
      eventBusName: this.eventBus.eventBusName,
      statementId: ONLY_PUBLISHERS_SID,
      statement: {
        Sid: ONLY_PUBLISHERS_SID,
        Effect: 'Deny',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: this.eventBus.eventBusArn,
        Condition: {
          StringEquals: { 'events:source': source },
          ArnNotEquals: { 'aws:PrincipalArn': [this.publisher.role!.roleArn, this.sweeper.role!.roleArn] },
        },
      },
    });
    if (policies.length) onlyPublishers.node.addDependency(policies[policies.length - 1]);

    // --- producer-side forwarding (optional) ---------------------------------------------------------------------
    const forwards = props.forwardToEventBusArns ?? [];
    if (forwards.length) {
      const forwardDlq = new sqs.Queue(this, 'ForwardFailures', {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.encryptionKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      // EventBridge writes undeliverable events to the DLQ; the queue's CMK must let it.
      this.encryptionKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowEventBridgeToUseForwardDlqKey',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: ['*'], // a key policy's resource is always the key itself
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      );
      forwards.forEach((arn, i) => {
        new events.Rule(this, `Forward${i}`, {
          eventBus: this.eventBus,
          description: `distill-guard: forward ban events to ${arn}`,
          eventPattern: this.eventPattern,
          targets: [new eventsTargets.EventBus(events.EventBus.fromEventBusArn(this, `ForwardBus${i}`, arn), { deadLetterQueue: forwardDlq })],
        });
      });
    }

    // --- alarms ------------------------------------------------------------------------------------------------
    const ns = 'DistillGuard';
    this.alarms = [
      new cloudwatch.Alarm(this, 'PublisherFailuresAlarm', {
        alarmDescription: 'ban-event stream records exhausted their retries (the sweeper republishes them; investigate PutEvents errors)',
        metric: this.publisherDlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'OutboxPendingAgeAlarm', {
        alarmDescription: 'a ban event has been waiting in the outbox too long: events are not reaching the bus',
        metric: new cloudwatch.Metric({
          namespace: ns,
          metricName: 'OutboxOldestPendingAgeSeconds',
          dimensionsMap: { service: 'notify-sweeper' },
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        threshold: (props.maxPendingAge ?? NOTIFY_DEFAULTS.maxPendingAge).toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING, // no sweeper metric = no sweeper = no guarantee
      }),
      new cloudwatch.Alarm(this, 'OutboxPoisonAlarm', {
        alarmDescription: 'outbox items that can never be published are parked under OUTBOX#poison in the control table',
        metric: new cloudwatch.Metric({
          namespace: ns,
          metricName: 'OutboxPoisonItems',
          dimensionsMap: { service: 'notify-sweeper' },
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'SchemaViolationsAlarm', {
        alarmDescription: 'a ban event that does not match its published JSON Schema was put on the bus (published anyway: fix the producer code)',
        metric: new cloudwatch.Metric({
          namespace: ns,
          metricName: 'SchemaViolations',
          dimensionsMap: { service: 'notify-publisher' },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'PublisherErrorsAlarm', {
        alarmDescription: 'the ban-event publisher is failing',
        metric: this.publisher.metricErrors({ period: Duration.minutes(5) }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}

/** Statement id of the bus policy that keeps the `distill-guard` source to the publisher and the sweeper. */
export const ONLY_PUBLISHERS_SID = 'OnlyDistillGuardPublishersPutItsEvents';

/**
 * Least privilege on the control table: the publisher only updates outbox items (`dynamodb:LeadingKeys` OUTBOX#*);
 * the sweeper also queries the `byState` index. Plus the table key, if the table has a CMK.
 */
function grantOutboxAccess(fn: lambda.IFunction, table: dynamodb.ITable, query: boolean): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:UpdateItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${OUTBOX_PK_PREFIX}*`] } },
    }),
  );
  if (query) {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/byState`] }));
  }
  table.encryptionKey?.grantEncryptDecrypt(fn);
}
