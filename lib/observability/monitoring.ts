/**
 * The pipeline's dashboard and alarms, built with cdk-monitoring-constructs (MonitoringFacade): one detail
 * dashboard, a summary dashboard, and alarms on what an operator must act on:
 *
 * - the aggregator falling behind (Lambda `IteratorAge`, and the stream's `GetRecords.IteratorAgeMilliseconds`);
 * - records parked on an on-failure destination (queue depth > 0);
 * - handler errors and throttles (every function);
 * - escalation workflow executions failed / timed out / aborted;
 * - review cases waiting too long (review queue's oldest message age);
 * - the suspension-rate circuit breaker tripping (`DistillGuard` / `BreakerTripped`, emitted by the
 *   escalation workflow through Powertools Metrics).
 *
 * Alarms notify an SNS topic (KMS-encrypted, TLS-only) which `alarmEmail` subscribes to.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AlarmWithAnnotation, DefaultDashboardFactory, MonitoringFacade, SnsAlarmActionStrategy } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { BREAKER_TRIPPED_METRIC } from '../escalate/alarms';
import { METRICS_NAMESPACE } from '../shared/alarms';

/** Namespace and name of the breaker metric (emitted by the escalation stage). */
export const BREAKER_METRIC = { namespace: METRICS_NAMESPACE, metricName: BREAKER_TRIPPED_METRIC } as const;

export interface MonitoredFunction {
  /** The function. */
  readonly fn: lambda.IFunction;
  /** Name on the dashboard and in alarm names, e.g. `Aggregator`. */
  readonly name: string;
  /**
   * The function reads a stream (Kinesis / DynamoDB): alarm on its iterator age too.
   * @default false
   */
  readonly streamConsumer?: boolean;
}

export interface MonitoredQueue {
  readonly queue: sqs.IQueue;
  /** Name on the dashboard and in alarm names. */
  readonly name: string;
}

export interface PipelineMonitoringProps {
  /**
   * Prefix of the dashboard and alarm names (unique per account and region).
   * @default - the stack name
   */
  readonly namePrefix?: string;
  /**
   * The ingestion stream.
   * @default - no stream section
   */
  readonly stream?: kinesis.IStream;
  /**
   * Functions to watch for errors and throttles (stream consumers also for iterator age).
   * @default []
   */
  readonly functions?: MonitoredFunction[];
  /**
   * On-failure destinations and DLQs: any message is an alarm.
   * @default []
   */
  readonly failureQueues?: MonitoredQueue[];
  /**
   * The escalation workflow.
   * @default - no workflow section
   */
  readonly stateMachine?: sfn.IStateMachine;
  /**
   * The human review queue.
   * @default - no review-queue section
   */
  readonly reviewQueue?: sqs.IQueue;
  /**
   * Dimensions the breaker metric is published with (Powertools adds `service`).
   * @default {} (no dimensions)
   */
  readonly breakerMetricDimensions?: Record<string, string>;
  /**
   * Alarm when a stream consumer's iterator age exceeds this.
   * @default Duration.minutes(5)
   */
  readonly iteratorAgeThreshold?: Duration;
  /**
   * Alarm when the review queue's oldest message is older than this.
   * @default Duration.hours(12)
   */
  readonly reviewQueueAgeThreshold?: Duration;
  /**
   * E-mail subscribed to the alarm topic.
   * @default - none
   */
  readonly alarmEmail?: string;
  /**
   * Send every alarm to this topic instead of one created here (encrypted with a key of its own). Its policy, and
   * its key's, must let CloudWatch alarms of this account publish.
   * @default - a new topic, encrypted with a new KMS key
   */
  readonly existingAlarmTopicObj?: sns.ITopic;
  /**
   * Create the dashboards (alarms are created either way).
   * @default true
   */
  readonly dashboard?: boolean;
}

export class PipelineMonitoring extends Construct {
  public readonly facade: MonitoringFacade;
  /** Every alarm goes here. */
  public readonly alarmTopic: sns.ITopic;
  /** The key of the topic created here (none with `existingAlarmTopicObj`). */
  public readonly alarmTopicKey?: kms.Key;
  /** `namespace|metric|dimensions` of every metric an alarm here watches (see `watches`). */
  private readonly watched = new Set<string>();
  private readonly iteratorAge: Duration;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps = {}) {
    super(scope, id);
    const prefix = props.namePrefix ?? Stack.of(this).stackName;
    const iteratorAge = props.iteratorAgeThreshold ?? Duration.minutes(5);
    const reviewAge = props.reviewQueueAgeThreshold ?? Duration.hours(12);

    if (props.existingAlarmTopicObj) {
      this.alarmTopic = props.existingAlarmTopicObj;
    } else {
      const own = buildAlarmTopic(this);
      this.alarmTopicKey = own.key;
      this.alarmTopic = own.topic;
    }
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subs.EmailSubscription(props.alarmEmail));

    const createDashboard = props.dashboard ?? true;
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: prefix,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.alarmTopic, onOkTopic: this.alarmTopic }),
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
      },
      metricFactoryDefaults: {},
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: prefix,
        createDashboard,
        createSummaryDashboard: createDashboard,
        createAlarmDashboard: false,
      }),
    });

    this.facade.addLargeHeader(`distill-guard pipeline (${prefix})`);

    if (props.stream) {
      this.facade.monitorKinesisDataStream({
        streamName: props.stream.streamName,
        humanReadableName: 'Ingestion stream',
        alarmFriendlyName: 'IngestionStream',
        addIteratorMaxAgeAlarm: { Critical: { maxAgeInMillis: iteratorAge.toMilliseconds() } },
        addPutRecordsThrottledAlarm: { Warning: { maxRecordsThrottledThreshold: 0 } },
      });
    }

    this.iteratorAge = iteratorAge;
    for (const f of props.functions ?? []) this.monitorFunction(f);

    for (const q of props.failureQueues ?? []) {
      this.watch('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: q.queue.queueName });
      this.facade.monitorSqsQueue({
        queue: q.queue,
        humanReadableName: q.name,
        alarmFriendlyName: q.name,
        addQueueMaxSizeAlarm: { Critical: { maxMessageCount: 0 } },
      });
    }

    if (props.stateMachine) {
      for (const m of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
        this.watch('AWS/States', m, { StateMachineArn: props.stateMachine.stateMachineArn });
      }
      this.facade.monitorStepFunction({
        stateMachine: props.stateMachine,
        humanReadableName: 'Escalation workflow',
        alarmFriendlyName: 'Escalation',
        addFailedExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
        addTimedOutExecutionCountAlarm: { Critical: { maxErrorCount: 0 } },
        addAbortedExecutionCountAlarm: { Warning: { maxErrorCount: 0 } },
      });
    }

    if (props.reviewQueue) {
      this.watch('AWS/SQS', 'ApproximateAgeOfOldestMessage', { QueueName: props.reviewQueue.queueName });
      this.facade.monitorSqsQueue({
        queue: props.reviewQueue,
        humanReadableName: 'Review queue',
        alarmFriendlyName: 'ReviewQueue',
        addQueueMaxMessageAgeAlarm: { Warning: { maxAgeInSeconds: reviewAge.toSeconds() } },
      });
    }

    this.monitorBreaker(props.breakerMetricDimensions ?? {});
  }

  /** The suspension-rate circuit breaker: its trips on the dashboard, and an alarm on the first one. */
  private monitorBreaker(dimensions: Record<string, string>): void {
    this.watch(BREAKER_METRIC.namespace, BREAKER_METRIC.metricName, dimensions);
    const breaker = new cloudwatch.Metric({
      namespace: BREAKER_METRIC.namespace,
      metricName: BREAKER_METRIC.metricName,
      dimensionsMap: dimensions,
      statistic: 'Sum',
      period: Duration.minutes(5),
      label: 'Breaker trips',
    });
    this.facade.monitorCustom({
      humanReadableName: 'Suspension circuit breaker',
      alarmFriendlyName: 'Breaker',
      metricGroups: [
        {
          title: 'Breaker trips (auto-suspension stopped until an operator re-arms)',
          metrics: [
            {
              metric: breaker,
              alarmFriendlyName: 'BreakerTripped',
              addAlarm: {
                Critical: {
                  threshold: 1,
                  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                  treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
                  additionalDescription: 'Auto-suspension is stopped; every case goes to review. Investigate, then `distill-guard breaker rearm`.',
                },
              },
            },
          ],
        },
      ],
    });
  }

  /** Add a function (errors, throttles; iterator age for stream consumers) to the dashboard and alarms. */
  public monitorFunction(f: MonitoredFunction): void {
    for (const m of ['Errors', 'Throttles', ...(f.streamConsumer ? ['IteratorAge'] : [])]) {
      this.watch('AWS/Lambda', m, { FunctionName: f.fn.functionName });
    }
    this.facade.monitorLambdaFunction({
      lambdaFunction: f.fn,
      humanReadableName: f.name,
      alarmFriendlyName: f.name,
      isIterator: f.streamConsumer ?? false,
      addFaultCountAlarm: { Critical: { maxErrorCount: 0 } },
      addThrottlesCountAlarm: { Warning: { maxErrorCount: 0 } },
      ...(f.streamConsumer ? { addMaxIteratorAgeAlarm: { Critical: { maxAgeInMillis: this.iteratorAge.toMilliseconds() } } } : {}),
    });
  }

  /** Add a REST API stage (traffic, latency; alarm on 5XX) to the dashboard and alarms. */
  public monitorApi(api: apigateway.IRestApi, stageName: string, name: string): void {
    this.facade.monitorApiGateway({
      api,
      apiStage: stageName,
      humanReadableName: name,
      alarmFriendlyName: name,
      add5XXFaultRateAlarm: { Warning: { maxErrorRate: 0.05 } },
    });
  }

  /**
   * Whether an alarm here already watches `metric` (same namespace, name and dimensions). The composition uses
   * it to route only the stages' OTHER alarms to the topic, so one incident pages once.
   */
  public watches(metric: cloudwatch.IMetric): boolean {
    const stat = metric.toMetricConfig().metricStat;
    if (!stat) return false;
    const dims: Record<string, string> = {};
    for (const d of stat.dimensions ?? []) dims[d.name] = String(d.value);
    return this.watched.has(metricKey(stat.namespace, stat.metricName, dims));
  }

  private watch(namespace: string, metricName: string, dimensions: Record<string, string>): void {
    this.watched.add(metricKey(namespace, metricName, dimensions));
  }

  /** Every alarm created (for tests and for wiring composite alarms). */
  public get alarms(): AlarmWithAnnotation[] {
    return this.facade.createdAlarms();
  }
}

function metricKey(namespace: string, metricName: string, dimensions: Record<string, string>): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((k) => `${k}=${dimensions[k]}`)
    .join(',');
  return `${namespace}|${metricName}|${dims}`;
}

/** The alarm topic (TLS only) and its key, which CloudWatch alarms of this account may use to publish. */
function buildAlarmTopic(scope: Construct): { topic: sns.Topic; key: kms.Key } {
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    enableKeyRotation: true,
    description: 'distill-guard alarm topic',
  });
  // CloudWatch alarms publish to the encrypted topic; scoped to this account's alarms.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      // In a key policy `*` means "this key".
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: 'distill-guard alarms',
    masterKey: key,
    enforceSSL: true,
  });
  return { topic, key };
}
