/**
 * The transactional-outbox relay: the publisher (control-table stream -> PutEvents, retrying only failed entries)
 * and the scheduled sweeper that republishes whatever the stream path could not, so every decision's event is
 * eventually on the bus. Both hold only what they need on the control table (the OUTBOX# keys).
 */
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CONTROL_BY_STATE_INDEX } from '../../src/shared/tables';
import { OUTBOX_PK_PREFIX } from '../../src/notify/ban-event';
import { buildQueue } from '../shared/build-queue';
import { DistillGuardFunction } from '../shared/distill-guard-function';
import { NOTIFY_DEFAULTS } from './defaults';

/** What the publisher and the sweeper share: the table, the bus and the publishing settings. */
export interface OutboxRelayProps {
  readonly controlTable: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  readonly outboxRetentionDays: number;
  readonly publishMaxAttempts: number;
}

/** Stream settings of the publisher (BanEventsProps, defaults applied). */
export interface PublisherStreamProps {
  readonly batchSize: number;
  readonly retryAttempts: number;
  readonly maxRecordAge: Duration;
}

function relayEnvironment(props: OutboxRelayProps): Record<string, string> {
  return {
    CONTROL_TABLE: props.controlTable.tableName,
    EVENT_BUS_NAME: props.eventBus.eventBusName,
    OUTBOX_RETENTION_DAYS: String(props.outboxRetentionDays),
    PUBLISH_MAX_ATTEMPTS: String(props.publishMaxAttempts),
  };
}

/** The stream publisher and its on-failure queue (under `key`), fed by the outbox INSERTs of the control table. */
export function buildPublisher(
  scope: Construct,
  props: OutboxRelayProps,
  stream: PublisherStreamProps,
  key: kms.IKey,
): { publisher: DistillGuardFunction; publisherDlq: sqs.Queue } {
  const { queue: publisherDlq } = buildQueue(scope, 'PublisherFailures', { encryptionKey: key });
  const publisher = new DistillGuardFunction(scope, 'Publisher', {
    entry: 'lambdas/notify/publisher.ts',
    serviceName: 'notify-publisher',
    description: 'distill-guard: control-table outbox -> ban events on the bus',
    environment: relayEnvironment(props),
  });
  publisher.addEventSource(
    new DynamoEventSource(props.controlTable, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: stream.batchSize,
      maxBatchingWindow: NOTIFY_DEFAULTS.publisherMaxBatchingWindow,
      bisectBatchOnError: true,
      retryAttempts: stream.retryAttempts,
      maxRecordAge: stream.maxRecordAge,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(publisherDlq),
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { Keys: { pk: { S: lambda.FilterRule.beginsWith(OUTBOX_PK_PREFIX) } } },
        }),
      ],
    }),
  );
  props.eventBus.grantPutEventsTo(publisher);
  grantOutboxAccess(publisher, props.controlTable, false);
  return { publisher, publisherDlq };
}

/** The sweeper and its schedule: republishes outbox items still pending `minAge` after they were written. */
export function buildSweeper(
  scope: Construct,
  props: OutboxRelayProps,
  schedule: { minAge: Duration; interval: Duration },
): { sweeper: DistillGuardFunction; sweeperRule: events.Rule } {
  const sweeper = new DistillGuardFunction(scope, 'Sweeper', {
    entry: 'lambdas/notify/sweeper.ts',
    serviceName: 'notify-sweeper',
    description: 'distill-guard: republish outbox items the stream publisher has not published',
    timeout: Duration.minutes(2),
    environment: {
      ...relayEnvironment(props),
      SWEEP_MIN_AGE_SECONDS: String(schedule.minAge.toSeconds()),
      SWEEP_MAX_ITEMS: String(NOTIFY_DEFAULTS.sweeperMaxItems),
    },
  });
  props.eventBus.grantPutEventsTo(sweeper);
  grantOutboxAccess(sweeper, props.controlTable, true);
  const sweeperRule = new events.Rule(scope, 'SweeperSchedule', {
    description: 'distill-guard: run the ban-event outbox sweeper',
    schedule: events.Schedule.rate(schedule.interval),
    targets: [new eventsTargets.LambdaFunction(sweeper, { retryAttempts: 2 })],
  });
  return { sweeper, sweeperRule };
}

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
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${CONTROL_BY_STATE_INDEX}`] }));
  }
  table.encryptionKey?.grantEncryptDecrypt(fn);
}
