/**
 * The escalation's alarms: each means a human should look (the breaker stopped auto-suspension, a review passed its
 * deadline, an execution failed, review messages pile up in the DLQ), and says where.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ALARM_PERIOD, metricAlarm, serviceMetric } from '../shared/alarms';

/** The metric the escalate handlers emit when the suspension-rate circuit breaker trips. */
export const BREAKER_TRIPPED_METRIC = 'BreakerTripped';

/** The escalate handlers' custom metric `name` (Sum over 5 minutes). */
export function escalateMetric(name: string): cloudwatch.Metric {
  return serviceMetric('escalate', name, 'Sum');
}

export interface EscalationAlarmsProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly reviewDlq: sqs.IQueue;
}

/** BreakerTripped, ReviewOverdue, ExecutionsFailed, review DLQ (in this order in `alarms`): each on one occurrence. */
export function escalationAlarms(
  scope: Construct,
  props: EscalationAlarmsProps,
): { alarms: cloudwatch.Alarm[]; breakerTrippedAlarm: cloudwatch.Alarm } {
  const once = (id: string, alarmDescription: string, metric: cloudwatch.IMetric) =>
    metricAlarm(scope, id, { alarmDescription, metric, threshold: 1, atLeast: true });
  const breakerTrippedAlarm = once(
    'BreakerTrippedAlarm',
    'Suspension-rate circuit breaker tripped: auto-suspend is off, every case goes to review. Investigate, then `distill-guard breaker rearm`.',
    escalateMetric(BREAKER_TRIPPED_METRIC),
  );
  const alarms = [
    breakerTrippedAlarm,
    once(
      'ReviewOverdueAlarm',
      'A review case passed its deadline without a decision (no suspension was applied). See `distill-guard review list --state overdue`.',
      escalateMetric('ReviewOverdue'),
    ),
    once(
      'ExecutionsFailedAlarm',
      'An escalation execution failed (its case is marked error/overdue; nothing half-applied).',
      props.stateMachine.metricFailed({ period: ALARM_PERIOD, statistic: 'Sum' }),
    ),
    once(
      'ReviewDlqAlarm',
      'Review messages reached the DLQ (received too often without completion).',
      props.reviewDlq.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
    ),
  ];
  return { alarms, breakerTrippedAlarm };
}
