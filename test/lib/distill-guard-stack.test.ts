/**
 * The composed stack (DistillGuardStack = DistillGuard + DemoApi): the wiring between stages that matters,
 * asserted on the synthesized template. Stage internals are tested by their owners; here: that the pieces are
 * connected the way docs/DESIGN.md says, with the settings the issues require.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { render, resourcesOf, synthStack } from './support';
import { ACCESS_LOG_RECORD_FIELDS } from '../support/contract-fields';

let template: Template;
let json: any;

beforeAll(() => {
  template = synthStack().template;
  json = template.toJSON();
});

/** The table whose id matches: asserts its pk/sk keys and its one GSI (gsi1pk/gsi1sk) with this name and projection. */
function pkSkTable(pattern: RegExp, indexName: string, projection: object): any {
  const [, t] = resourcesOf(template, 'AWS::DynamoDB::Table').find(([id]) => pattern.test(id))!;
  expect(t.Properties.KeySchema).toEqual([
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ]);
  expect(t.Properties.GlobalSecondaryIndexes).toEqual([
    expect.objectContaining({
      IndexName: indexName,
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: projection,
    }),
  ]);
  return t;
}

function logicalId(type: string, pattern: RegExp): string {
  const ids = resourcesOf(template, type)
    .map(([id]) => id)
    .filter((id) => pattern.test(id));
  if (ids.length !== 1) throw new Error(`expected one ${type} matching ${pattern}, got ${JSON.stringify(ids)}`);
  return ids[0];
}

describe('ingestion', () => {
  test("one encrypted on-demand access-log stream, fed by the access-log subscription filter (plus the demo stub's usage stream)", () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
    logicalId('AWS::Kinesis::Stream', /DemoUsageStream/);
    const streamId = logicalId('AWS::Kinesis::Stream', /Ingestion/);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      DestinationArn: { 'Fn::GetAtt': [streamId, 'Arn'] },
      LogGroupName: { Ref: logicalId('AWS::Logs::LogGroup', /IngestionAccessLogs/) },
    });
  });

  test('the demo API stage logs the contract access-log record to the subscribed log group', () => {
    const [, stage] = resourcesOf(template, 'AWS::ApiGateway::Stage')[0];
    const format = JSON.parse(stage.Properties.AccessLogSetting.Format);
    expect(Object.keys(format)).toEqual(ACCESS_LOG_RECORD_FIELDS);
    expect(render(stage.Properties.AccessLogSetting.DestinationArn)).toBe(
      `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<${logicalId('AWS::Logs::LogGroup', /IngestionAccessLogs/)}>`,
    );
  });

  test('the demo authorizer reads the same control table the escalation workflow writes', () => {
    const controlId = logicalId('AWS::DynamoDB::Table', /Control/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CONTROL_TABLE: { Ref: controlId }, POWERTOOLS_SERVICE_NAME: 'distill-guard-demo-authorizer' }) },
    });
  });
});

describe('aggregation', () => {
  test('Kinesis event source mapping: bisect, bounded retries and record age, partial batch response, on-failure queue', () => {
    const streamId = logicalId('AWS::Kinesis::Stream', /Ingestion/);
    const queueId = logicalId('AWS::SQS::Queue', /AggregatorFailureQueue/);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [streamId, 'Arn'] },
      FunctionName: { Ref: logicalId('AWS::Lambda::Function', /AggregatorFunction/) },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 86400,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 5,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  test('the on-failure queue is KMS-encrypted and TLS-only', () => {
    const [, q] = resourcesOf(template, 'AWS::SQS::Queue').find(([id]) => /AggregatorFailureQueue/.test(id))!;
    expect(q.Properties.KmsMasterKeyId).toBeDefined();
    const policies = resourcesOf(template, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
      JSON.stringify(p.Properties.Queues).includes('AggregatorFailureQueue'),
    );
    expect(JSON.stringify(policies)).toContain('aws:SecureTransport');
  });

  test('features table: pk/sk, byHour GSI (gsi1pk/gsi1sk, ALL), TTL expiresAt, KMS, PITR', () => {
    const t = pkSkTable(/Features/, 'byHour', { ProjectionType: 'INCLUDE', NonKeyAttributes: ['upd'] });
    expect(t.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(t.Properties.SSESpecification).toEqual(expect.objectContaining({ SSEEnabled: true, SSEType: 'KMS' }));
    expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(t.Properties.StreamSpecification).toBeUndefined();
  });
});

describe('detection', () => {
  test('the scorer runs on a schedule, reads both tables and starts the escalation workflow', () => {
    const scorerId = logicalId('AWS::Lambda::Function', /GuardScorerFunction/);
    const smId = logicalId('AWS::StepFunctions::StateMachine', /Escalation/);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [scorerId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          FEATURES_TABLE: { Ref: logicalId('AWS::DynamoDB::Table', /Features/) },
          CONTROL_TABLE: { Ref: logicalId('AWS::DynamoDB::Table', /Control/) },
          STATE_MACHINE_ARN: { Ref: smId },
          DETECTION_CONFIG: '{}',
        }),
      },
    });
    const policies = resourcesOf(template, 'AWS::IAM::Policy').filter(([id]) => /GuardScorerFunction/.test(id));
    expect(JSON.stringify(policies)).toContain('states:StartExecution');
  });
});

describe('the decoder accepts raw access-log JSON from any stream producer, and the demo model stub may write to that stream', () => {
  test('the aggregator accepts access logs only from the ingestion log group; the stub writes only its own usage-only stream', () => {
    const streamId = logicalId('AWS::Kinesis::Stream', /GuardIngestionStream/);
    const usageId = logicalId('AWS::Kinesis::Stream', /DemoUsageStream/);
    const [, agg] = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => /GuardAggregatorFunction/.test(id))!;
    expect(agg.Properties.Environment.Variables).toMatchObject({
      ACCESS_LOG_GROUPS: { Ref: logicalId('AWS::Logs::LogGroup', /IngestionAccessLogs/) },
      USAGE_STREAM_ARNS: { 'Fn::GetAtt': [usageId, 'Arn'] },
    });
    // The aggregator reads both streams.
    for (const s of [streamId, usageId])
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [s, 'Arn'] },
        BisectBatchOnFunctionError: true,
      });
    // The stub: PutRecord on its own stream, nothing on the access-log stream.
    const [stubId, stub] = resourcesOf(template, 'AWS::Lambda::Function').find(
      ([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'distill-guard-demo-model',
    )!;
    expect(stub.Properties.Environment.Variables.USAGE_STREAM_NAME).toEqual({ Ref: usageId });
    const roleId = stub.Properties.Role['Fn::GetAtt'][0];
    const stubPolicies = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    const kinesisStatements = stubPolicies
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('kinesis:')));
    expect(kinesisStatements).toEqual([expect.objectContaining({ Action: 'kinesis:PutRecord', Resource: { 'Fn::GetAtt': [usageId, 'Arn'] } })]);
    expect(JSON.stringify(stubPolicies)).not.toContain(streamId);
    expect(stubId).toBeDefined();
    // Nobody but CloudWatch Logs' subscription role (and producers granted on purpose) writes the access-log stream.
    const writers = resourcesOf(template, 'AWS::IAM::Policy').filter(([, p]) =>
      p.Properties.PolicyDocument.Statement.some(
        (st: any) => [st.Action].flat().some((a: string) => /^kinesis:PutRecords?$/.test(a)) && JSON.stringify(st.Resource).includes(streamId),
      ),
    );
    expect(writers.map(([id]) => id)).toEqual([expect.stringMatching(/IngestionSubscriptionPolicy/)]);
  });

  test('parallelizationFactor > 1: the subscription filter distributes by log stream (bounded partition keys)', () => {
    const t = synthStack({ context: { aggregatorParallelizationFactor: 3 } }).template;
    t.hasResourceProperties('AWS::Logs::SubscriptionFilter', { Distribution: 'ByLogStream' });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ParallelizationFactor: 3 });
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', { Distribution: 'Random' });
  });
});

describe('control table', () => {
  test('pk/sk, byState GSI, TTL expiresAt, NEW_IMAGE stream (the outbox), KMS, retained', () => {
    const t = pkSkTable(/Control/, 'byState', { ProjectionType: 'ALL' });
    expect(t.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(t.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    expect(t.Properties.SSESpecification).toEqual(expect.objectContaining({ SSEEnabled: true, SSEType: 'KMS' }));
    expect(t.DeletionPolicy).toBe('Retain');
  });

  test('the outbox publisher consumes the control-table stream with an on-failure destination', () => {
    const controlId = logicalId('AWS::DynamoDB::Table', /Control/);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [controlId, 'StreamArn'] },
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });
});

describe('escalation workflow', () => {
  let definition: any;
  beforeAll(() => {
    const [, sm] = resourcesOf(template, 'AWS::StepFunctions::StateMachine')[0];
    definition = JSON.parse(render(sm.Properties.DefinitionString));
  });

  function allStates(def: any): Array<[string, any]> {
    const out: Array<[string, any]> = [];
    for (const [name, s] of Object.entries<any>(def.States ?? {})) {
      out.push([name, s]);
      for (const b of s.Branches ?? []) out.push(...allStates(b));
      if (s.Iterator) out.push(...allStates(s.Iterator));
      if (s.ItemProcessor) out.push(...allStates(s.ItemProcessor));
    }
    return out;
  }

  test('is a Standard workflow with X-Ray tracing and logging', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: Match.anyValue() }),
    });
  });

  test('has a review step: lambda:invoke.waitForTaskToken on the review task function (token kept with the case), with a deadline', () => {
    const taskFnId = logicalId('AWS::Lambda::Function', /EscalationReviewApiTaskFn/);
    const waits = allStates(definition).filter(([, s]) => s.Type === 'Task' && /waitForTaskToken$/.test(s.Resource));
    expect(waits.map(([, s]) => s.Resource)).toEqual(['arn:<AWS::Partition>:states:::lambda:invoke.waitForTaskToken']);
    const [, review] = waits[0];
    expect(review.Parameters.FunctionName).toBe(`<${taskFnId}.Arn>`);
    expect(JSON.stringify(review.Parameters.Payload)).toContain('$$.Task.Token');
    expect(review.TimeoutSeconds ?? review.TimeoutSecondsPath).toBeDefined();
  });

  test('the review queue is KMS-encrypted with a dead-letter queue', () => {
    const [, q] = resourcesOf(template, 'AWS::SQS::Queue').find(([id]) => /EscalationReviewQueue(?!Dlq)/.test(id))!;
    expect(q.Properties.KmsMasterKeyId).toBeDefined();
    expect(q.Properties.RedrivePolicy.deadLetterTargetArn).toBeDefined();
  });
});

describe('ban events', () => {
  test('a KMS-encrypted custom bus with an archive of distill-guard events', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const busId = logicalId('AWS::Events::EventBus', /BanEvents/);
    template.hasResourceProperties('AWS::Events::EventBus', { KmsKeyIdentifier: Match.anyValue() });
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      EventPattern: Match.objectLike({ source: ['distill-guard'] }),
      RetentionDays: 365,
    });
  });

  test('scheduled rules drive the outbox sweeper and the suspension expirer', () => {
    const rules = resourcesOf(template, 'AWS::Events::Rule');
    const targets = (pattern: RegExp) =>
      rules.filter(([, r]) => r.Properties.ScheduleExpression && JSON.stringify(r.Properties.Targets).match(pattern));
    expect(targets(/BanEventsSweeper/).length).toBe(1);
    expect(targets(/EscalationExpirerFn/).length).toBe(1);
  });

  test('the schema registry holds one schema per detail type', () => {
    template.resourceCountIs('AWS::EventSchemas::Registry', 1);
    expect(resourcesOf(template, 'AWS::EventSchemas::Schema').length).toBeGreaterThanOrEqual(3);
  });
});

describe('observability', () => {
  const alarms = () => resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  /** Alarms with the metric flattened (cdk-monitoring-constructs alarms use the `Metrics` form). */
  const flatAlarms = () =>
    alarms().map((p) => {
      const m = p.Metrics?.find((x: any) => x.MetricStat)?.MetricStat.Metric;
      return m ? { ...p, Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions } : p;
    });

  test('alarms: iterator age, on-failure queue depth, errors and throttles, workflow failures, review age, breaker', () => {
    const a = flatAlarms();
    const has = (pred: (p: any) => boolean) => expect(a.some(pred)).toBe(true);
    // aggregator iterator age (Lambda IteratorAge, 300 s default) and the stream's GetRecords iterator age
    has((p) => p.MetricName === 'IteratorAge' && JSON.stringify(p.Dimensions).includes('AggregatorFunction') && p.Threshold === 300000);
    has((p) => p.MetricName === 'GetRecords.IteratorAgeMilliseconds' && p.Threshold === 300000);
    // on-failure queue depth > 0
    has(
      (p) =>
        p.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(p.Dimensions).includes('AggregatorFailureQueue') && p.Threshold === 0,
    );
    has((p) => p.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(p.Dimensions).includes('PublisherFailures'));
    // Lambda errors and throttles of the aggregator
    has((p) => p.MetricName === 'Errors' && JSON.stringify(p.Dimensions).includes('AggregatorFunction'));
    has((p) => p.MetricName === 'Throttles' && JSON.stringify(p.Dimensions).includes('AggregatorFunction'));
    // Step Functions failed executions
    has((p) => p.MetricName === 'ExecutionsFailed' && p.Namespace === 'AWS/States');
    // review queue oldest message (12 h)
    has(
      (p) =>
        p.MetricName === 'ApproximateAgeOfOldestMessage' && JSON.stringify(p.Dimensions).includes('EscalationReviewQueue') && p.Threshold === 43200,
    );
    // the demo API: authorizer errors and the stage's 5XX rate
    has((p) => p.MetricName === 'Errors' && JSON.stringify(p.Dimensions).includes('DemoApiAuthorizerFn'));
    expect(resourcesOf(template, 'AWS::CloudWatch::Alarm').some(([id]) => /DemoApiFaultRate/.test(id))).toBe(true);
    // breaker (agreed with escalate: DistillGuard / BreakerTripped, service=escalate)
    has((p) => p.Namespace === 'DistillGuard' && p.MetricName === 'BreakerTripped' && JSON.stringify(p.Dimensions).includes('escalate'));
  });

  test('every incident pages the encrypted alarm topic exactly once', () => {
    const topicId = logicalId('AWS::SNS::Topic', /AlarmTopic/);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const all = flatAlarms();
    const key = (p: any) => `${p.Namespace}|${p.MetricName}|${JSON.stringify(p.Dimensions)}`;
    const paging = all.filter((p) => JSON.stringify(p.AlarmActions ?? []).includes(topicId));
    const silent = all.filter((p) => !JSON.stringify(p.AlarmActions ?? []).includes(topicId));
    // a stage's own alarm is only silent when a paging alarm watches the same metric
    for (const p of silent) expect(paging.map(key)).toContain(key(p));
    expect(paging.length).toBeGreaterThan(20);
  });

  test('a dashboard (cdk-monitoring-constructs) exists', () => {
    expect(resourcesOf(template, 'AWS::CloudWatch::Dashboard').length).toBeGreaterThanOrEqual(1);
  });
});

test('outputs tell the operator where things are', () => {
  const outputs = Object.keys(json.Outputs);
  for (const o of ['IngestionStreamName', 'AccessLogGroupName', 'AlarmTopicArn']) expect(outputs).toContain(o);
  expect(outputs.some((o) => /MessagesUrl/.test(o))).toBe(true);
});
