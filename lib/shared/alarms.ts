/**
 * The alarm shape every distill-guard construct uses: one 5-minute period, one evaluation period, a static
 * threshold, and the custom metrics the handlers emit through Powertools (namespace `DistillGuard`, dimension
 * `service`). One helper so a construct states only what differs: the metric, the threshold and missing data.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** Namespace of the handlers' custom metrics (POWERTOOLS_METRICS_NAMESPACE, lib/shared/distill-guard-function.ts). */
export const METRICS_NAMESPACE = 'DistillGuard';

/** Period of every distill-guard alarm. */
export const ALARM_PERIOD = Duration.minutes(5);

/** A handler's custom metric (`service` is the handler's POWERTOOLS_SERVICE_NAME). */
export function serviceMetric(service: string, metricName: string, statistic: 'Sum' | 'Maximum'): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    statistic,
    period: ALARM_PERIOD,
  });
}

/** What differs between the alarms. */
export interface MetricAlarmProps {
  readonly alarmDescription: string;
  readonly metric: cloudwatch.IMetric;
  /**
   * Alarm when the metric is above this (`> threshold`), or at least this with `atLeast`.
   * @default 0
   */
  readonly threshold?: number;
  /**
   * Compare with `>=` instead of `>`.
   * @default false
   */
  readonly atLeast?: boolean;
  /**
   * Treat missing data as breaching (when no metric means the thing that emits it is not running).
   * @default false (NOT_BREACHING)
   */
  readonly missingDataBreaches?: boolean;
}

/** An alarm `id` in `scope` on one 5-minute period of `props.metric`. */
export function metricAlarm(scope: Construct, id: string, props: MetricAlarmProps): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: props.alarmDescription,
    metric: props.metric,
    threshold: props.threshold ?? 0,
    comparisonOperator: props.atLeast
      ? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
      : cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: props.missingDataBreaches ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
