/**
 * The alarms of the ban-event path: each says that some decision's event may not reach consumers (or reached them
 * in a shape they do not expect), and what to look at.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ALARM_PERIOD, metricAlarm, serviceMetric } from '../shared/alarms';

export interface BanEventAlarmsProps {
  readonly publisher: lambda.IFunction;
  readonly publisherDlq: sqs.IQueue;
  /** Alarm threshold on the age of the oldest unpublished outbox item. */
  readonly maxPendingAge: Duration;
}

/** On-failure queue not empty, oldest pending outbox item too old, poison outbox items, schema violations, publisher errors. */
export function banEventAlarms(scope: Construct, props: BanEventAlarmsProps): cloudwatch.Alarm[] {
  return [
    metricAlarm(scope, 'PublisherFailuresAlarm', {
      alarmDescription: 'ban-event stream records exhausted their retries (the sweeper republishes them; investigate PutEvents errors)',
      metric: props.publisherDlq.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD }),
    }),
    metricAlarm(scope, 'OutboxPendingAgeAlarm', {
      alarmDescription: 'a ban event has been waiting in the outbox too long: events are not reaching the bus',
      metric: serviceMetric('notify-sweeper', 'OutboxOldestPendingAgeSeconds', 'Maximum'),
      threshold: props.maxPendingAge.toSeconds(),
      missingDataBreaches: true, // no sweeper metric = no sweeper = no guarantee
    }),
    metricAlarm(scope, 'OutboxPoisonAlarm', {
      alarmDescription: 'outbox items that can never be published are parked under OUTBOX#poison in the control table',
      metric: serviceMetric('notify-sweeper', 'OutboxPoisonItems', 'Maximum'),
    }),
    metricAlarm(scope, 'SchemaViolationsAlarm', {
      alarmDescription: 'a ban event that does not match its published JSON Schema was put on the bus (published anyway: fix the producer code)',
      metric: serviceMetric('notify-publisher', 'SchemaViolations', 'Sum'),
    }),
    metricAlarm(scope, 'PublisherErrorsAlarm', {
      alarmDescription: 'the ban-event publisher is failing',
      metric: props.publisher.metricErrors({ period: ALARM_PERIOD }),
    }),
  ];
}
