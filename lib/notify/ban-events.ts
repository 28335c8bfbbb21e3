/**
 * The BanEvents construct: its props, their checks, and the composition of the ban-event parts (lib/notify/).
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ControlTableUserProps } from '../shared/control-table-user-props';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { banEventAlarms } from './alarms';
import { NOTIFY_DEFAULTS } from './defaults';
import { NOTIFY_SETTINGS } from './settings';
import { BanEventConsumers, buildArchive, buildEventBus, consumerRulePolicies, forwardBanEvents, onlyPublishersPolicy } from './event-bus';
import { buildPublisher, buildSweeper, OutboxRelayProps } from './outbox-relay';
import { buildSchemaRegistry } from './schema-registry';

export { ONLY_PUBLISHERS_SID } from './event-bus';
/** Props for {@link BanEvents}. */
export interface BanEventsProps extends ControlTableUserProps {
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
 * Ban events as a product (docs/contract.md, "Ban events"; docs/events.md): a KMS-encrypted custom bus whose resource
 * policy lets the named consumer accounts / organization manage their own rules and denies `distill-guard` events
 * from anyone but the publisher and the sweeper; the JSON Schemas of schemas/ in an EventBridge schema registry; an
 * archive for replay; and the transactional-outbox publisher (control-table stream -> PutEvents, retrying only
 * failed entries) plus a scheduled sweeper that republishes anything the stream path could not, so every
 * decision's event is eventually on the bus. Each part is built by a function of its own file in lib/notify/, in
 * this construct's scope (so the logical ids do not depend on the split).
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
    validateBanEventsProps(props);
    const D = NOTIFY_DEFAULTS;
    const consumers: BanEventConsumers = { accountIds: props.consumerAccountIds ?? [], organizationId: props.organizationId };
    this.eventPattern = { source: [D.source] };

    this.encryptionKey =
      props.encryptionKey ?? new kms.Key(this, 'Key', { enableKeyRotation: true, description: 'distill-guard ban events (bus, publisher queues)' });
    this.eventBus = buildEventBus(this, props, this.encryptionKey);
    const consumerPolicies = consumerRulePolicies(this, this.eventBus, consumers);
    const archive = buildArchive(this, this.eventBus, this.eventPattern, props.archiveRetention ?? D.archiveRetention);
    this.archive = archive.archive;
    this.archiveKey = archive.archiveKey;
    const registryName = props.registryName ?? `${Stack.of(this).stackName}-${D.registryNameSuffix}`;
    const registry = buildSchemaRegistry(this, registryName, consumers);
    this.registry = registry.registry;
    this.schemas = registry.schemas;

    const relay: OutboxRelayProps = {
      controlTable: props.controlTable,
      eventBus: this.eventBus,
      outboxRetentionDays: props.outboxRetentionDays ?? D.outboxRetentionDays,
      publishMaxAttempts: props.publishMaxAttempts ?? D.publishMaxAttempts,
    };
    const stream = {
      batchSize: props.publisherBatchSize ?? D.publisherBatchSize,
      retryAttempts: props.publisherRetryAttempts ?? D.publisherRetryAttempts,
      maxRecordAge: props.publisherMaxRecordAge ?? D.publisherMaxRecordAge,
    };
    const publisher = buildPublisher(this, relay, stream, this.encryptionKey);
    this.publisher = publisher.publisher;
    this.publisherDlq = publisher.publisherDlq;
    const schedule = { minAge: props.sweeperMinAge ?? D.sweeperMinAge, interval: props.sweeperInterval ?? D.sweeperInterval };
    const sweeper = buildSweeper(this, relay, schedule);
    this.sweeper = sweeper.sweeper;
    this.sweeperRule = sweeper.sweeperRule;

    onlyPublishersPolicy(this, this.eventBus, D.source, [this.publisher.role!, this.sweeper.role!], consumerPolicies);
    forwardBanEvents(this, this.eventBus, this.encryptionKey, this.eventPattern, props.forwardToEventBusArns ?? []);
    this.alarms = banEventAlarms(this, {
      publisher: this.publisher,
      publisherDlq: this.publisherDlq,
      maxPendingAge: props.maxPendingAge ?? D.maxPendingAge,
    });
  }
}

/** The checks of {@link BanEventsProps} that need no deployment: each throws with the value it received. */
export function validateBanEventsProps(props: BanEventsProps): void {
  if (props.existingEventBusObj && props.eventBusProps) {
    throw new Error('give existingEventBusObj or eventBusProps, not both (got both)');
  }
  if (!props.controlTable.tableStreamArn) {
    throw new Error(`controlTable must have a stream (NEW_IMAGE): tableStreamArn is ${JSON.stringify(props.controlTable.tableStreamArn)}`);
  }
  for (const a of props.consumerAccountIds ?? []) {
    if (!Token.isUnresolved(a) && !/^\d{12}$/.test(a)) throw new Error(`consumerAccountIds must be 12-digit account ids, got ${JSON.stringify(a)}`);
  }
  if (
    props.organizationId !== undefined &&
    !Token.isUnresolved(props.organizationId) &&
    !NOTIFY_SETTINGS.organizationId.pattern.test(props.organizationId)
  ) {
    throw new Error(`organizationId must look like o-xxxxxxxxxx, got ${JSON.stringify(props.organizationId)}`);
  }
}
