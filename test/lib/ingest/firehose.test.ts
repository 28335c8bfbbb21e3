/**
 * The Firehose ingestion path (`ingestPath: 'firehose'`), asserted on the synthesized template: the stage logs to
 * an `amazon-apigateway-` delivery stream, Firehose writes gzip'd objects to an encrypted bucket, S3 announces them
 * on an encrypted SQS queue (with a dead-letter queue), and the object aggregator reads them with partial batch
 * responses. Fine-grained assertions, no snapshots.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { resolveConfig } from '../../../lib/config';
import { AccessLogIngestion } from '../../../lib/ingest/access-log-ingestion';
import { FirehoseAccessLogs } from '../../../lib/ingest/firehose-access-logs';
import { render, resourcesOf, synthStack } from '../support';
import { ACCESS_LOG_RECORD_FIELDS } from '../../support/contract-fields';

/** The actions of a policy statement, as a list. */
function acts(statement: any): string[] {
  return ([] as string[]).concat(statement.Action);
}

function only(template: Template, type: string, pattern?: RegExp): [string, any] {
  const found = resourcesOf(template, type).filter(([id]) => !pattern || pattern.test(id));
  if (found.length !== 1)
    throw new Error(`expected one ${type}${pattern ? ` matching ${pattern}` : ''}, got ${found.map(([id]) => id).join(', ') || 'none'}`);
  return found[0];
}

describe('DistillGuardStack with ingestPath firehose', () => {
  const { template } = synthStack({ context: { ingestPath: 'firehose' } });
  const [streamId, stream] = only(template, 'AWS::KinesisFirehose::DeliveryStream');
  const [bucketId, bucket] = only(template, 'AWS::S3::Bucket', /AccessLogObjects/);
  const [ingestKeyId] = only(template, 'AWS::KMS::Key', /IngestionKey/);
  const [aggKeyId] = only(template, 'AWS::KMS::Key', /AggregatorKey/);
  const [queueId, queue] = only(template, 'AWS::SQS::Queue', /ObjectAggregatorQueue/);
  const [dlqId] = only(template, 'AWS::SQS::Queue', /ObjectAggregatorDeadLetters/);
  const [fnId, fn] = only(template, 'AWS::Lambda::Function', /ObjectAggregatorFunction/);

  test('a Direct PUT delivery stream named amazon-apigateway-..., encrypted with the ingestion key', () => {
    const p = stream.Properties;
    expect(p.DeliveryStreamName).toMatch(/^amazon-apigateway-distill-guard-[A-Za-z0-9]+$/);
    expect(p.DeliveryStreamName.length).toBeLessThanOrEqual(64);
    expect(p.DeliveryStreamType).toBe('DirectPut');
    expect(p.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: { 'Fn::GetAtt': [ingestKeyId, 'Arn'] } });
  });

  test('Firehose writes gzip objects under access-logs/ with the default 60 s / 64 MiB buffers, a newline per record, SSE-KMS', () => {
    const s3 = stream.Properties.ExtendedS3DestinationConfiguration;
    expect(s3.BucketARN).toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
    expect(s3.CompressionFormat).toBe('GZIP');
    expect(s3.BufferingHints).toEqual({ IntervalInSeconds: 60, SizeInMBs: 64 });
    expect(s3.Prefix).toBe('access-logs/!{timestamp:yyyy/MM/dd/HH}/');
    expect(s3.ErrorOutputPrefix).toMatch(/^firehose-errors\/!\{firehose:error-output-type\}\//);
    expect(s3.ProcessingConfiguration).toEqual({ Enabled: true, Processors: [{ Type: 'AppendDelimiterToRecord' }] });
    expect(s3.EncryptionConfiguration).toEqual({ KMSEncryptionConfig: { AWSKMSKeyARN: { 'Fn::GetAtt': [ingestKeyId, 'Arn'] } } });
    expect(s3.CloudWatchLoggingOptions.Enabled).toBe(true);
  });

  test('the demo stage logs the contract access-log record to the delivery stream, not to the log group', () => {
    const [, stage] = only(template, 'AWS::ApiGateway::Stage');
    expect(stage.Properties.AccessLogSetting.DestinationArn).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
    expect(Object.keys(JSON.parse(stage.Properties.AccessLogSetting.Format))).toEqual(ACCESS_LOG_RECORD_FIELDS);
    // usage events (docs/contract.md, usage event) still go to Kinesis, read by the Kinesis aggregator: the ingestion stream (for the
    // serving tier) and the demo stub's own usage stream
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
  });

  test('the bucket: SSE-KMS with the ingestion key and a bucket key, public access blocked, TLS only, objects expire after 7 days', () => {
    const p = bucket.Properties;
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [ingestKeyId, 'Arn'] } } },
    ]);
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ Prefix: 'access-logs/', ExpirationInDays: 7, Status: 'Enabled' })]),
    );
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('Firehose assumes a role of this account only, scoped to the bucket, the key via S3 and its error log stream', () => {
    const [roleId, role] = only(template, 'AWS::IAM::Role', /AccessLogObjectsDeliveryRole/);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'firehose.amazonaws.com' },
        Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    const [, policy] = only(template, 'AWS::IAM::Policy', /AccessLogObjectsDeliveryPolicy/);
    expect(policy.Properties.Roles).toEqual([{ Ref: roleId }]);
    const st = policy.Properties.PolicyDocument.Statement;
    expect(st.find((s: any) => acts(s).includes('s3:PutObject')).Resource.map(render)).toEqual([`<${bucketId}.Arn>`, `<${bucketId}.Arn>/*`]);
    const kmsSt = st.find((s: any) => acts(s).includes('kms:GenerateDataKey'));
    expect(kmsSt.Resource).toEqual({ 'Fn::GetAtt': [ingestKeyId, 'Arn'] });
    expect(render(kmsSt.Condition.StringEquals['kms:ViaService'])).toBe('s3.<AWS::Region>.amazonaws.com');
  });

  test('S3 announces new access-log objects on the object queue', () => {
    const [, n] = only(template, 'Custom::S3BucketNotifications');
    expect(n.Properties.BucketName).toEqual({ Ref: bucketId });
    expect(n.Properties.NotificationConfiguration.QueueConfigurations).toEqual([
      {
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'access-logs/' }] } },
        QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      },
    ]);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 's3.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  test('the object queue and its dead-letter queue are KMS encrypted; redrive after 5 deliveries; visibility 6x the function timeout', () => {
    expect(queue.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [aggKeyId, 'Arn'] });
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 });
    expect(queue.Properties.VisibilityTimeout).toBe(6 * fn.Properties.Timeout);
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [aggKeyId, 'Arn'] }, MessageRetentionPeriod: 1209600 });
    // S3 may use the queue key to send the notifications
    const [, key] = only(template, 'AWS::KMS::Key', /AggregatorKey/);
    expect(key.Properties.KeyPolicy.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Principal: { Service: 's3.amazonaws.com' } })]),
    );
  });

  test('the object aggregator: SQS event source with ReportBatchItemFailures, one object per invocation, one vCPU, least privilege', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: fnId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
    });
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 1769, Timeout: 300 });
    const env = fn.Properties.Environment.Variables;
    expect(env.FEATURES_TABLE).toEqual({ Ref: only(template, 'AWS::DynamoDB::Table', /FeaturesTable/)[0] });
    expect(env.PARK_QUEUE_URL).toEqual({ Ref: dlqId });
    const [, policy] = only(template, 'AWS::IAM::Policy', /ObjectAggregatorFunctionServiceRoleDefaultPolicy/);
    const st = policy.Properties.PolicyDocument.Statement;
    const get = st.find((s: any) => acts(s).includes('s3:GetObject'));
    expect(acts(get)).toEqual(['s3:GetObject']);
    expect(render(get.Resource)).toBe(`<${bucketId}.Arn>/access-logs/*`);
    expect(st.some((s: any) => acts(s).includes('kms:Decrypt') && render(s.Resource) === `<${ingestKeyId}.Arn>`)).toBe(true);
    expect(st.some((s: any) => acts(s).includes('sqs:SendMessage') && render(s.Resource) === `<${dlqId}.Arn>`)).toBe(true);
    expect(st.some((s: any) => acts(s).some((a: string) => a.startsWith('s3:') && a !== 's3:GetObject'))).toBe(false);
  });

  test('a stalled object aggregator alarms: oldest notification older than 15 minutes, to the alarm topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 900,
      AlarmActions: [{ Ref: only(template, 'AWS::SNS::Topic')[0] }],
    });
  });

  test('outputs name the delivery stream and the bucket', () => {
    template.hasOutput('AccessLogDeliveryStreamName', { Value: stream.Properties.DeliveryStreamName });
    template.hasOutput('AccessLogBucketName', { Value: { Ref: bucketId } });
  });
});

describe('ingestPath configuration', () => {
  test('the default stays the CloudWatch Logs subscription path: no delivery stream, no access-log bucket', () => {
    const { template } = synthStack();
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
    // the one bucket is the sharded linkage's records (lib/detect/sharded-linkage.ts)
    expect(resourcesOf(template, 'AWS::S3::Bucket').map(([id]) => id)).toEqual([expect.stringMatching(/ScorerLinkageRecords/)]);
    template.resourceCountIs('AWS::Logs::SubscriptionFilter', 1);
  });

  test('buffer and retention come from the context', () => {
    const { template } = synthStack({
      context: { ingestPath: 'firehose', firehoseBufferSeconds: 300, firehoseBufferMiB: 128, accessLogObjectRetentionDays: 3 },
    });
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({ BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 128 } }),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'access-logs/', ExpirationInDays: 3 })]) },
    });
  });

  test('an existing stage outside the app is pointed at the delivery stream by UpdateStage', () => {
    const { template } = synthStack({
      context: { ingestPath: 'firehose', demoApi: false, existingRestApiId: 'a1b2c3d4e5', existingStageName: 'prod' },
    });
    const [streamId] = only(template, 'AWS::KinesisFirehose::DeliveryStream');
    const [, cr] = only(template, 'Custom::DistillGuardStageAccessLog');
    expect(JSON.stringify(cr.Properties.Create)).toContain(streamId);
    expect(JSON.stringify(cr.Properties.Create)).toContain('/accessLogSettings/destinationArn');
  });

  test('bad values fail with the value received', () => {
    expect(() => resolveConfig({ ingestPath: 'kinesis' })).toThrow(/'ingestPath' must be one of "cloudwatch", "firehose", got "kinesis"/);
    expect(() => resolveConfig({ firehoseBufferSeconds: 30 })).toThrow(/'firehoseBufferSeconds' must be between 60 and 900, got 30/);
    expect(() => resolveConfig({ firehoseBufferMiB: 129 })).toThrow(/'firehoseBufferMiB' must be between 1 and 128, got 129/);
  });
});

describe('FirehoseAccessLogs and AccessLogIngestion props', () => {
  const stack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'T');

  test('rejects buffers outside Firehose limits and names API Gateway would refuse', () => {
    const s = stack();
    const key = new kms.Key(s, 'K');
    expect(() => new FirehoseAccessLogs(s, 'A', { encryptionKey: key, bufferInterval: Duration.seconds(30) })).toThrow(
      /bufferInterval must be between 60 and 900 seconds, got 30/,
    );
    expect(() => new FirehoseAccessLogs(s, 'B', { encryptionKey: key, bufferSizeMiB: 0 })).toThrow(
      /bufferSizeMiB must be an integer in 1..128, got 0/,
    );
    expect(() => new FirehoseAccessLogs(s, 'C', { encryptionKey: key, deliveryStreamName: 'my-logs' })).toThrow(/must start with amazon-apigateway-/);
    const ok = new FirehoseAccessLogs(s, 'D', { encryptionKey: key, deliveryStreamName: 'amazon-apigateway-mine', appendNewline: false });
    expect(ok.deliveryStreamName).toBe('amazon-apigateway-mine');
    Template.fromStack(s).hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'amazon-apigateway-mine',
      ExtendedS3DestinationConfiguration: Match.objectLike({ ProcessingConfiguration: Match.absent() }),
    });
  });

  test('AccessLogIngestion takes exactly one destination', () => {
    const s = stack();
    expect(() => new AccessLogIngestion(s, 'X', { restApiId: 'a1b2c3d4e5', stageName: 'prod' })).toThrow(
      /exactly one of logGroup and deliveryStreamArn/,
    );
    const a = new AccessLogIngestion(s, 'Y', {
      restApiId: 'a1b2c3d4e5',
      stageName: 'prod',
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-x',
    });
    expect(a.mode).toBe('update-stage');
  });
});
