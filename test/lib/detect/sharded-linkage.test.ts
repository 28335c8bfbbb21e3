/**
 * The sharded linkage path in CDK (lib/detect/sharded-linkage.ts, composed by the Scorer): the records bucket
 * (customer key, TLS only, private, expiring), the state machine (three DISTRIBUTED maps of Express children over
 * the input's item arrays, then the scorer), the stage function's least privilege, the scorer's wiring, the alarms
 * and the props' range errors.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Scorer, type ScorerProps } from '../../../lib/detect/scorer';
import { evaluate } from '../policy-eval';

function synth(extra: Partial<ScorerProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'LinkageTest');
  const table = (id: string) =>
    new dynamodb.Table(stack, id, {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
  const stateMachine = new sfn.StateMachine(stack, 'Workflow', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')) });
  const scorer = new Scorer(stack, 'Scorer', { featuresTable: table('Features'), controlTable: table('Control'), stateMachine, ...extra });
  return { t: Template.fromStack(stack), stack, scorer };
}

const { t, stack, scorer } = synth();
const resolve = (v: unknown) => JSON.stringify(stack.resolve(v));

function definition(): Record<string, any> {
  const sm = Object.values(t.findResources('AWS::StepFunctions::StateMachine')).find((r: any) => r.Properties.StateMachineName) as any;
  const parts = sm.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : `\${${JSON.stringify(p).replace(/"/g, "'")}}`)).join(''));
}

/** The statements of the policies attached to the role whose logical id matches `rolePrefix`. */
function statementsOf(rolePrefix: RegExp): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => rolePrefix.test(r.Ref)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('linkage records bucket', () => {
  test("SSE-KMS with the stack's customer key, Bucket Key, no versioning, runs expire after a day", () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('DistillGuardKey'), 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 1, Status: 'Enabled' })] },
      VersioningConfiguration: Match.absent(),
    });
  });

  test('TLS only (enforceSSL)', () => {
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('linkage state machine', () => {
  const def = definition();

  test('Standard, traced, logged, encrypted with the customer key, named (the scorer builds its ARN from the name)', () => {
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: Match.stringLikeRegexp('Scorer-Linkage'),
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      EncryptionConfiguration: Match.objectLike({ Type: 'CUSTOMER_MANAGED_KMS_KEY' }),
    });
    expect(resolve(scorer.linkage.stateMachineArn)).toContain(':stateMachine:LinkageTest-Scorer-Linkage-');
  });

  test('profiles, offsets, the linkage stages, merge, parts, reduce, decide: DISTRIBUTED maps of Express children and steps, then the scorer', () => {
    expect(def.StartAt).toBe('Profiles');
    const maps: [string, string, string, RegExp, string][] = [
      ['Profiles', 'profiles', 'shards', /ScorerShardFunction/, '$.plan'],
      ['Partition', 'partition', 'shards', /LinkageStageFn/, '$.offsets.plan'],
      ['Frequencies', 'frequencies', 'partitions', /LinkageStageFn/, '$.offsets.plan'],
      ['Index', 'index', 'shards', /LinkageStageFn/, '$.offsets.plan'],
      ['Pairs', 'pairs', 'partitions', /LinkageStageFn/, '$.offsets.plan'],
      ['Parts', 'parts', 'shards', /LinkageStageFn/, '$.offsets.plan'],
      ['Decide', 'decide', 'shards', /ScorerShardFunction/, '$.offsets.plan'],
    ];
    for (const [state, stage, items, fn, plan] of maps) {
      const m = def.States[state];
      expect(m).toMatchObject({
        Type: 'Map',
        ItemsPath: `$.${items}`,
        ItemSelector: { stage, 'part.$': '$$.Map.Item.Value', 'plan.$': plan },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' } },
        MaxConcurrency: 40,
        ResultPath: null,
      });
      // no tolerated failures: aws-cdk-lib leaves the field out at 0, which is the Step Functions default
      expect(m.ToleratedFailurePercentage ?? 0).toBe(0);
      expect(m.ToleratedFailureCount ?? 0).toBe(0);
      const child = Object.values(m.ItemProcessor.States)[0] as any;
      expect(child.Type).toBe('Task');
      expect(JSON.stringify(child.Resource)).toMatch(fn);
      expect(child.Retry.map((r: any) => r.ErrorEquals).flat()).toEqual(
        expect.arrayContaining(['Lambda.TooManyRequestsException', 'Lambda.ServiceException']),
      );
    }
    const order = ['Profiles', 'Offsets', 'Partition', 'Frequencies', 'Index', 'Pairs', 'Merge', 'Parts', 'Reduce', 'Decide', 'Finish'];
    order.slice(0, -1).forEach((state, k) => expect([state, def.States[state].Next]).toEqual([state, order[k + 1]]));
    // the offsets step gives the plan with positions that every later state reads
    const steps: [string, string, string | null, string][] = [
      ['Offsets', 'offsets', '$.offsets', '$.plan'],
      ['Merge', 'merge', null, '$.offsets.plan'],
      ['Reduce', 'reduce', null, '$.offsets.plan'],
    ];
    for (const [state, stage, result, plan] of steps) {
      expect(def.States[state]).toMatchObject({ Type: 'Task', ResultPath: result });
      expect(def.States[state].Parameters).toEqual({ stage, part: 0, 'plan.$': plan });
      expect(JSON.stringify(def.States[state].Resource)).toMatch(/LinkageStageFn/);
    }
    const finish = def.States.Finish;
    expect(finish).toMatchObject({ Type: 'Task', End: true, Parameters: { 'time.$': '$.time', sharded: { 'plan.$': '$.offsets.plan' } } });
    expect(finish.Resource).toMatch(/ScorerFunction/);
  });

  test('maxConcurrency prop reaches every map', () => {
    const { t: t2 } = synth({ linkageMaxConcurrency: 7 });
    expect(JSON.stringify(t2.findResources('AWS::StepFunctions::StateMachine')).match(/\\"MaxConcurrency\\":7/g)).toHaveLength(7);
  });
});

describe('least privilege', () => {
  test('stage function: the records under runs/ and state/ only, the key only through S3 for this bucket, nothing else', () => {
    const stmts = statementsOf(/LinkageStageFnServiceRole/).filter((s) => !String(s.Action).startsWith('xray:'));
    const actions = stmts.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    const objects = stmts.find((s) => s.Sid === 'LinkageRecords');
    expect(objects.Resource.map((r: any) => r['Fn::Join'][1][1])).toEqual(['/runs/*', '/state/*']);
    expect(stmts.find((s) => s.Sid === 'ListLinkageRecords').Condition).toEqual({ StringLike: { 's3:prefix': ['runs/*'] } });
    const key = stmts.find((s) => s.Sid === 'LinkageRecordsKey');
    expect(key.Condition.StringEquals['kms:EncryptionContext:aws:s3:arn']).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/LinkageRecords/), 'Arn'],
    });
    expect(key.Condition.StringEquals['kms:ViaService']).toBeDefined();
  });

  test('stage function: may not touch the tables, the workflows, or objects outside runs/', () => {
    const stmts = statementsOf(/LinkageStageFnServiceRole/);
    expect(JSON.stringify(stmts)).not.toMatch(/dynamodb:|states:|lambda:/);
    // the objects statement with the bucket ARN resolved
    const arn = 'arn:aws:s3:::records';
    const objects = { ...stmts.find((s) => s.Sid === 'LinkageRecords'), Resource: [`${arn}/runs/*`, `${arn}/state/*`] };
    const glob = (pattern: string, value: string) =>
      new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);
    const decide = (action: string, key: string) =>
      evaluate([objects], { action, resource: (r) => typeof r === 'string' && glob(r, `${arn}/${key}`) });
    expect(decide('s3:PutObject', 'runs/linkage-1/index/0.json')).toBe('allow');
    expect(decide('s3:PutObject', 'state/population.json')).toBe('allow');
    expect(decide('s3:PutObject', 'other/x.json')).toBe('implicit-deny');
    expect(decide('s3:DeleteObject', 'runs/linkage-1/index/0.json')).toBe('implicit-deny');
  });

  test('scorer: starts and lists executions of the linkage state machine only, and its data key under that ARN', () => {
    const stmts = statementsOf(/ScorerFunctionServiceRole/);
    const start = stmts.find((s) => s.Sid === 'StartLinkageRuns');
    expect(start.Action).toEqual(['states:StartExecution', 'states:ListExecutions']);
    expect(JSON.stringify(start.Resource)).toMatch(/:stateMachine:LinkageTest-Scorer-Linkage-/);
    expect(JSON.stringify(stmts.find((s) => s.Sid === 'LinkageRunInput').Condition)).toMatch(/stateMachine:LinkageTest-Scorer-Linkage-/);
  });

  test("the run's children have the memory of its largest measured child and a third more (3008 MB), inside an Express child's 5 minutes", () => {
    const children = Object.values(t.findResources('AWS::Lambda::Function')).filter((f: any) =>
      /detection run: (one stage child|profiles of one account shard)/.test(f.Properties.Description),
    ) as any[];
    expect(children.map((f) => [f.Properties.MemorySize, f.Properties.Timeout])).toEqual([
      [3008, 240],
      [3008, 240],
    ]);
  });

  test('shard function: reads the tables, writes SCORE items only, starts escalations, the records; never a detection run', () => {
    const stmts = statementsOf(/ScorerShardFunctionServiceRole/);
    const text = JSON.stringify(stmts);
    expect(stmts.find((s) => s.Sid === 'WriteScoresOnly').Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SCORE#*'] } });
    expect(text).toMatch(/dynamodb:BatchGetItem/);
    expect(text).not.toMatch(/dynamodb:PutItem|dynamodb:DeleteItem|StartLinkageRuns|states:ListExecutions/);
    expect(stmts.find((s) => s.Sid === 'LinkageRecords')).toBeDefined();
    expect(text).toMatch(/states:StartExecution/);
  });

  test('scorer environment: the bucket, the key, the state machine and the threshold', () => {
    const fn = Object.values(t.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment.Variables.FEATURES_TABLE) as any;
    const env = fn.Properties.Environment.Variables;
    expect(env.SHARDED_LINKAGE_MIN_ACCOUNTS).toBe('1000000');
    expect(env.LINKAGE_BUCKET).toEqual({ Ref: expect.stringMatching(/LinkageRecords/) });
    expect(env.LINKAGE_KEY_ARN).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/DistillGuardKey/), 'Arn'] });
    expect(JSON.stringify(env.LINKAGE_STATE_MACHINE_ARN)).toMatch(/:stateMachine:LinkageTest-Scorer-Linkage-/);
  });
});

describe('alarms', () => {
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties);
  const find = (metric: string) => alarms.find((a) => a.MetricName === metric);

  test('scorer memory > 70% and duration > 60% of its limits (Maximum over 5 minutes, its own metrics)', () => {
    expect(find('MemoryUtilizationPercent')).toMatchObject({
      Namespace: 'DistillGuard',
      Dimensions: [{ Name: 'service', Value: 'distill-guard-scorer' }],
      Statistic: 'Maximum',
      Threshold: 70,
      ComparisonOperator: 'GreaterThanThreshold',
      Period: 300,
    });
    expect(find('DurationUtilizationPercent')).toMatchObject({ Statistic: 'Maximum', Threshold: 60, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test('linkage runs failed and timed out: one is enough', () => {
    for (const m of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(find(m)).toMatchObject({ Namespace: 'AWS/States', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum' });
    }
    expect(scorer.alarms).toHaveLength(4);
  });
});

describe('props: range errors show the value received', () => {
  test.each([
    [{ shardedLinkageMinAccounts: 0 }, 'shardedLinkageMinAccounts must be an integer in 1..1000000000, got 0'],
    [{ shardedLinkageMinAccounts: 1.5 }, 'shardedLinkageMinAccounts must be an integer in 1..1000000000, got 1.5'],
    [{ linkageMaxConcurrency: 0 }, 'maxConcurrency must be an integer in 1..10000, got 0'],
    [{ linkageMaxConcurrency: 20000 }, 'maxConcurrency must be an integer in 1..10000, got 20000'],
  ] as Array<[Partial<ScorerProps>, string]>)('%j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('threshold prop reaches the scorer', () => {
    const { t: t2 } = synth({ shardedLinkageMinAccounts: 5 });
    const fn = Object.values(t2.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment.Variables.FEATURES_TABLE) as any;
    expect(fn.Properties.Environment.Variables.SHARDED_LINKAGE_MIN_ACCOUNTS).toBe('5');
  });

  test('stage timeout above the Express limit is refused', () => {
    // the construct on its own (its prop is not exposed on the Scorer)
    const { ShardedLinkage } = jest.requireActual('../../../lib/detect/sharded-linkage');
    const s = new Stack(new App(), 'S');
    expect(() => new ShardedLinkage(s, 'L', { scorerFunction: {} as never, detectionConfigJson: '{}', stageTimeout: Duration.minutes(5) })).toThrow(
      'stageTimeout must be at most 4 minutes, got 5 minutes',
    );
  });
});
