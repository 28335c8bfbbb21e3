import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { hasNode22Function } from '../support';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Aggregator, type AggregatorProps } from '../../../lib/aggregate/aggregator';
import { AGGREGATE_DEFAULTS } from '../../../lib/aggregate/defaults';

function synth(props: Partial<AggregatorProps> = {}): { stack: Stack; agg: Aggregator; t: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S');
  const stream = new kinesis.Stream(stack, 'Stream', { encryption: kinesis.StreamEncryption.KMS });
  const agg = new Aggregator(stack, 'Aggregate', { stream, ...props });
  return { stack, agg, t: Template.fromStack(stack) };
}

describe('Aggregator construct', () => {
  const { t, stack, agg } = synth();

  it('creates the features table of docs/DESIGN.md: pk/sk, byHour GSI (keys + change marker), TTL, CMK, PITR, on-demand', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byHour',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['upd'] },
        },
      ],
    });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('configures the event source mapping so a bad record can never block a shard', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: AGGREGATE_DEFAULTS.batchSize,
      MaximumBatchingWindowInSeconds: AGGREGATE_DEFAULTS.maxBatchingWindow.toSeconds(),
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: AGGREGATE_DEFAULTS.retryAttempts,
      MaximumRecordAgeInSeconds: AGGREGATE_DEFAULTS.maxRecordAge.toSeconds(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailureQueue'), 'Arn'] } } },
    });
  });

  it('encrypts the on-failure queue with the customer-managed key and enforces TLS', () => {
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('AggregateKey'), 'Arn'] },
      MessageRetentionPeriod: 14 * 86400,
    });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('runs the aggregator handler on Node 22 with its wiring in the environment', () => {
    hasNode22Function(
      t,
      { MemorySize: 1024, Timeout: 60 },
      {
        FEATURES_TABLE: { Ref: Match.stringLikeRegexp('FeaturesTable') },
        FAILURE_QUEUE_URL: { Ref: Match.stringLikeRegexp('FailureQueue') },
        FEATURE_RETENTION_DAYS: '30',
        WATERMARK_SCOPE: 'shard',
        POWERTOOLS_SERVICE_NAME: 'aggregator',
      },
    );
    expect(agg.fn).toBeDefined();
    expect(agg.failureQueue).toBeDefined();
    expect(agg.featuresTable).toBeDefined();
  });

  it('grants least privilege: only UpdateItem/GetItem on the table, no "*" resource for DynamoDB', () => {
    const json = t.toJSON();
    const statements: any[] = [];
    for (const r of Object.values<any>(json.Resources)) {
      if (r.Type === 'AWS::IAM::Policy') statements.push(...r.Properties.PolicyDocument.Statement);
    }
    const ddb = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    const actions = ddb.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    for (const s of ddb) expect(JSON.stringify(s.Resource)).toMatch(/FeaturesTable/);
    for (const s of statements) {
      if (s.Resource === '*') expect([s.Action].flat().every((a: string) => a.startsWith('xray:'))).toBe(true);
    }
    const sqs = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('sqs:')));
    expect(sqs.flatMap((s) => [s.Action].flat())).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(stack).toBeDefined();
  });

  it('keys watermarks by partition key when batches of a shard run in parallel', () => {
    const { t: t2 } = synth({
      parallelizationFactor: 4,
      boundedPartitionKeys: true,
      batchSize: 500,
      retryAttempts: 2,
      maxRecordAge: Duration.hours(6),
      featureRetention: 7,
    });
    t2.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ParallelizationFactor: 4,
      BatchSize: 500,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 21600,
    });
    t2.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WATERMARK_SCOPE: 'partition-key', FEATURE_RETENTION_DAYS: '7' }) },
    });
  });

  it('projects the byHour index as configured: keys + change marker by default, KEYS_ONLY or ALL on request', () => {
    expect(AGGREGATE_DEFAULTS.byHourProjection).toBe('INCLUDE_CHANGES');
    const projection = (p: AggregatorProps['byHourProjection']) => {
      const tables = synth({ byHourProjection: p }).t.findResources('AWS::DynamoDB::Table');
      return (Object.values(tables)[0] as any).Properties.GlobalSecondaryIndexes[0].Projection;
    };
    expect(projection('INCLUDE_CHANGES')).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['upd'] });
    expect(projection('KEYS_ONLY')).toEqual({ ProjectionType: 'KEYS_ONLY' });
    expect(projection('ALL')).toEqual({ ProjectionType: 'ALL' });
    expect(() => synth({ byHourProjection: 'INCLUDE' as never })).toThrow(
      /byHourProjection must be one of INCLUDE_CHANGES, KEYS_ONLY, ALL, got "INCLUDE"/,
    );
  });

  it('parallelizationFactor > 1 with random partition keys (items could reach 400 KB): refused with a clear message unless partition keys are bounded', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack2 = new Stack(app, 'PF');
    const stream = new kinesis.Stream(stack2, 'Stream');
    expect(() => new Aggregator(stack2, 'A', { stream, parallelizationFactor: 2 })).toThrow(
      /parallelizationFactor 2 needs boundedPartitionKeys: true.*random partition keys.*400 KB DynamoDB item limit.*Add shards instead/,
    );
    expect(() => new Aggregator(stack2, 'B', { stream, parallelizationFactor: 2, boundedPartitionKeys: true })).not.toThrow();
    expect(() => new Aggregator(stack2, 'C', { stream, parallelizationFactor: 1 })).not.toThrow();
  });

  it('access logs only from the configured log groups: ACCESS_LOG_GROUPS, and usage-only streams (USAGE_STREAM_ARNS, own mapping)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack2 = new Stack(app, 'LG');
    const stream = new kinesis.Stream(stack2, 'Stream');
    const usage = new kinesis.Stream(stack2, 'Usage');
    const g1 = new logs.LogGroup(stack2, 'AccessLogs');
    const g2 = logs.LogGroup.fromLogGroupName(stack2, 'Other', 'API-Gateway-Execution-Logs_abc/prod');
    const agg2 = new Aggregator(stack2, 'A', { stream, accessLogGroups: [g1] });
    agg2.addAccessLogGroup(g2);
    agg2.addUsageStream(usage);
    const t2 = Template.fromStack(stack2);
    const env = (Object.values(t2.findResources('AWS::Lambda::Function'))[0] as any).Properties.Environment.Variables;
    expect(env.ACCESS_LOG_GROUPS).toEqual({
      'Fn::Join': ['', [{ Ref: stack2.getLogicalId(g1.node.defaultChild as logs.CfnLogGroup) }, ',API-Gateway-Execution-Logs_abc/prod']],
    });
    expect(env.USAGE_STREAM_ARNS).toEqual({ 'Fn::GetAtt': [stack2.getLogicalId(usage.node.defaultChild as kinesis.CfnStream), 'Arn'] });
    t2.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    t2.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [stack2.getLogicalId(usage.node.defaultChild as kinesis.CfnStream), 'Arn'] },
      BisectBatchOnFunctionError: true,
    });
    // Without groups the variable is empty: the handler then accepts no envelope at all (fail closed).
    const { t: t3 } = synth();
    t3.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ACCESS_LOG_GROUPS: '', USAGE_STREAM_ARNS: '' }) },
    });
  });

  it('accepts an existing table, and rejects invalid props with the value received', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack2 = new Stack(app, 'S2');
    const stream = new kinesis.Stream(stack2, 'Stream');
    const table = new dynamodb.Table(stack2, 'Mine', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    const agg2 = new Aggregator(stack2, 'A', { stream, existingFeaturesTableObj: table });
    expect(agg2.featuresTable).toBe(table);
    Template.fromStack(stack2).resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(() => new Aggregator(stack2, 'B', { stream, existingFeaturesTableObj: table, featuresTableProps: {} })).toThrow(/mutually exclusive/);
    expect(() => new Aggregator(stack2, 'C', { stream, batchSize: 0 })).toThrow(/batchSize must be an integer in 1..10000, got 0/);
    expect(() => new Aggregator(stack2, 'D', { stream, parallelizationFactor: 11 })).toThrow(/got 11/);
    expect(() => new Aggregator(stack2, 'E', { stream, maxRecordAge: Duration.seconds(10) })).toThrow(/got 10 seconds/);
  });
});
