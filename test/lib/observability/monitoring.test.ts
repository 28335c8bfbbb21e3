/** lib/observability: PipelineMonitoring in isolation (topic, key policy, dashboards on/off, alarm targets). */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { BREAKER_METRIC, PipelineMonitoring } from '../../../lib/observability/monitoring';

function build(props: Partial<ConstructorParameters<typeof PipelineMonitoring>[2]> = {}): Template {
  const stack = new Stack(new App(), 'Mon');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler=async()=>{}'),
  });
  new PipelineMonitoring(stack, 'Monitoring', {
    stream: new kinesis.Stream(stack, 'S'),
    functions: [{ fn, name: 'Agg', streamConsumer: true }],
    failureQueues: [{ queue: new sqs.Queue(stack, 'Dlq'), name: 'Dlq' }],
    reviewQueue: new sqs.Queue(stack, 'Review'),
    iteratorAgeThreshold: Duration.minutes(2),
    ...props,
  });
  return Template.fromStack(stack);
}

test('alarm topic: KMS-encrypted, TLS-only, CloudWatch may use the key for this account only', () => {
  const t = build({ alarmEmail: 'ops@example.com' });
  t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  t.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
  t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  const key = Object.values(t.findResources('AWS::KMS::Key'))[0] as any;
  const stmt = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'AllowCloudWatchAlarmsToPublish');
  expect(stmt.Principal).toEqual({ Service: 'cloudwatch.amazonaws.com' });
  expect(stmt.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
});

test('alarms: iterator age uses the threshold, DLQ depth > 0, breaker metric; all notify the topic', () => {
  const t = build();
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
  const metricOf = (a: any) => a.Properties.Metrics?.find((m: any) => m.MetricStat)?.MetricStat.Metric ?? {};
  const find = (name: string) => alarms.filter((a) => metricOf(a).MetricName === name);
  expect(find('IteratorAge').map((a) => a.Properties.Threshold)).toEqual([120000]);
  expect(find('ApproximateNumberOfMessagesVisible').map((a) => a.Properties.Threshold)).toEqual([0]);
  expect(find('ApproximateAgeOfOldestMessage').map((a) => a.Properties.Threshold)).toEqual([43200]);
  const breaker = find(BREAKER_METRIC.metricName);
  expect(breaker).toHaveLength(1);
  expect(metricOf(breaker[0]).Namespace).toBe('DistillGuard');
  expect(breaker[0].Properties.TreatMissingData).toBe('notBreaching');
  for (const a of alarms) expect(JSON.stringify(a.Properties.AlarmActions)).toMatch(/MonitoringAlarmTopic/);
});

test('dashboards can be turned off; alarms stay', () => {
  expect(Object.keys(build().findResources('AWS::CloudWatch::Dashboard')).length).toBeGreaterThanOrEqual(1);
  const off = build({ dashboard: false });
  off.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  expect(Object.keys(off.findResources('AWS::CloudWatch::Alarm')).length).toBeGreaterThan(3);
});
