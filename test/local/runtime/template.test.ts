import * as fs from 'fs';
import * as path from 'path';
import { buildStackModel, findFunction, loadStackModel, LocalStackModel, TemplateResolver } from '../../../local/runtime/template';
import { synthFixtureStack } from './fixture-stack';

const OUT = path.resolve(__dirname, '..', '..', '..', '.local', 'test', 'template-cdk-out');

describe('template model from a synthesized stack', () => {
  let model: LocalStackModel;
  beforeAll(() => {
    synthFixtureStack(OUT);
    model = loadStackModel({ cdkOut: OUT, region: 'eu-west-1', sqsEndpoint: 'http://127.0.0.1:4566' });
  });
  afterAll(() => fs.rmSync(OUT, { recursive: true, force: true }));

  it('lists the table with keys, GSI, TTL and stream', () => {
    expect(model.tables).toHaveLength(1);
    const t = model.tables[0];
    expect(t.name).toMatch(/^RuntimeFixture-Items/);
    expect(t.partitionKey).toEqual({ name: 'pk', type: 'S' });
    expect(t.globalSecondaryIndexes).toEqual([
      {
        name: 'byKind',
        partitionKey: { name: 'kind', type: 'S' },
        sortKey: { name: 'pk', type: 'S' },
        projectionType: 'ALL',
        nonKeyAttributes: undefined,
      },
    ]);
    expect(t.ttlAttribute).toBe('expiresAt');
    expect(t.streamViewType).toBe('NEW_IMAGE');
  });

  it('resolves function environments to local names', () => {
    const ingest = findFunction(model, 'Ingest')!;
    expect(ingest).toBeDefined();
    const t = model.tables[0];
    expect(ingest.environment.TABLE_NAME).toBe(t.name);
    expect(ingest.environment.STATE_MACHINE_ARN).toBe(`arn:aws:states:eu-west-1:000000000000:stateMachine:${model.stateMachines[0].name}`);
    const sub = model.queues.find((q) => q.logicalId.startsWith('Subscriber'))!;
    expect(ingest.environment.SUBSCRIBER_URL).toBe(`http://127.0.0.1:4566/000000000000/${sub.name}`);
    const fanout = findFunction(model, 'Fanout')!;
    expect(fanout.environment.EVENT_BUS_NAME).toBe(model.buses[0].name);
    expect(ingest.codeDir && fs.existsSync(path.join(ingest.codeDir, 'index.js'))).toBe(true);
    expect(ingest.timeoutSeconds).toBe(10);
    expect(findFunction(model, ingest.arn)).toBe(ingest);
    expect(findFunction(model, `${ingest.arn}:$LATEST`)).toBe(ingest);
  });

  it('reads every event source mapping setting', () => {
    const k = model.eventSourceMappings.find((m) => m.kind === 'kinesis')!;
    expect(k).toMatchObject({
      batchSize: 10,
      maximumBatchingWindowInSeconds: 1,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 1,
      maximumRecordAgeInSeconds: 3600,
      functionResponseTypes: ['ReportBatchItemFailures'],
      startingPosition: 'TRIM_HORIZON',
      sourceLogicalId: model.streams[0].logicalId,
    });
    expect(k.onFailureDestinationArn).toBe(model.queues.find((q) => q.logicalId.startsWith('IngestFailures'))!.arn);
    const d = model.eventSourceMappings.find((m) => m.kind === 'dynamodb')!;
    expect(d.sourceLogicalId).toBe(model.tables[0].logicalId);
    expect(d.filterPatterns).toEqual([{ eventName: ['INSERT'], dynamodb: { Keys: { pk: { S: [{ prefix: 'rec#' }] } } } }]);
  });

  it('lists rules with patterns, schedules and targets, and the state machine with resolved ARNs', () => {
    const sub = model.rules.find((r) => r.eventPattern)!;
    expect(sub.eventBusName).toBe(model.buses[0].name);
    expect(sub.eventPattern).toEqual({ source: ['fixture.fanout'], 'detail-type': ['Item Inserted'] });
    expect(sub.targets[0].arn).toBe(model.queues.find((q) => q.logicalId.startsWith('Subscriber'))!.arn);
    const sched = model.rules.find((r) => r.scheduleExpression)!;
    expect(sched.scheduleExpression).toBe('rate(5 minutes)');
    expect(sched.eventBusName).toBe('default');
    expect(sched.targets[0].arn).toBe(findFunction(model, 'Tick')!.arn);
    const sm = model.stateMachines[0];
    const call = (sm.definition.States as Record<string, { Resource?: string; Parameters?: { FunctionName?: string } }>).CallTick;
    expect(JSON.stringify(call)).toContain(findFunction(model, 'Tick')!.arn);
    expect(sm.definitionString).not.toContain('${');
  });
});

describe('intrinsics', () => {
  const template = {
    Parameters: { Env: { Type: 'String', Default: 'dev' } },
    Conditions: { IsDev: { 'Fn::Equals': [{ Ref: 'Env' }, 'dev'] } },
    Resources: {
      Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::Join': ['-', ['q', { Ref: 'AWS::Region' }]] } } },
      F: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler', Code: { ZipFile: 'x' } } },
    },
  };
  const model = buildStackModel(template, { cdkOut: '/nonexistent', stackName: 'S', region: 'us-west-2', sqsEndpoint: 'http://h:1' });
  const r = new TemplateResolver(template, { 'AWS::Region': 'us-west-2', 'AWS::AccountId': '1', 'AWS::Partition': 'aws' });
  r.setRef('Q', 'http://h:1/1/q-us-west-2');
  r.setAttr('Q', 'Arn', 'arn:aws:sqs:us-west-2:1:q-us-west-2');

  it('honours explicit names and resolves Sub, Select, Split, If', () => {
    expect(model.queues[0].name).toBe('q-us-west-2');
    expect(model.queues[0].url).toBe('http://h:1/000000000000/q-us-west-2');
    expect(r.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${Q.Arn}:${!Literal}' })).toBe(
      'arn:aws:x:us-west-2:arn:aws:sqs:us-west-2:1:q-us-west-2:${Literal}',
    );
    expect(r.resolve({ 'Fn::Sub': ['${a}-${Q}', { a: 'A' }] })).toBe('A-http://h:1/1/q-us-west-2');
    expect(r.resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] })).toBe('b');
    expect(r.resolve({ 'Fn::If': ['IsDev', 'yes', 'no'] })).toBe('yes');
    expect(model.functions[0].inlineCode).toBe('x');
  });

  it('fails clearly on an unknown reference', () => {
    expect(() => r.resolve({ Ref: 'Nope' })).toThrow(/unknown logical id Nope/);
  });
});

describe('S3 buckets', () => {
  const template = {
    Resources: {
      SharingBucket0123ABCD: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } } },
      Named: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Join': ['-', ['reports', { Ref: 'AWS::Region' }]] } } },
      F: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Handler: 'index.handler',
          Code: { ZipFile: 'x' },
          Environment: {
            Variables: {
              BUCKET: { Ref: 'SharingBucket0123ABCD' },
              BUCKET_ARN: { 'Fn::GetAtt': ['SharingBucket0123ABCD', 'Arn'] },
              OTHER: { Ref: 'Named' },
            },
          },
        },
      },
    },
  };
  const stack = 'A-Very-Long_Stack.Name-That-Goes-On-And-On-Past-The-Limit';
  const model = buildStackModel(template, { cdkOut: '/nonexistent', stackName: stack, region: 'eu-west-1', sqsEndpoint: 'http://h:1' });

  it('names buckets by S3 rules, keeps explicit names, and resolves Ref and Arn to them', () => {
    const [generated, named] = model.buckets;
    expect(generated.logicalId).toBe('SharingBucket0123ABCD');
    expect(generated.name).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    expect(generated.name).not.toBe(
      buildStackModel(template, { cdkOut: '/nonexistent', stackName: `${stack}2`, region: 'eu-west-1', sqsEndpoint: 'http://h:1' }).buckets[0].name,
    );
    expect(generated.versioned).toBe(true);
    expect(generated.arn).toBe(`arn:aws:s3:::${generated.name}`);
    expect(named).toMatchObject({ name: 'reports-eu-west-1', versioned: false });
    expect(model.functions[0].environment).toEqual({ BUCKET: generated.name, BUCKET_ARN: generated.arn, OTHER: 'reports-eu-west-1' });
    expect(model.ignored['AWS::S3::Bucket']).toBeUndefined();
  });
});
