/**
 * lib/ingest: the stream, the access-log group + subscription filter, the access-log format of contract access-log record (docs/contract.md),
 * and both ways in (existing stage in / outside the app, demo API). Fine-grained assertions, no snapshots.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { ACCESS_LOG_FIELDS } from '../../../src/shared/contract';
import { accessLogFormatString } from '../../../lib/ingest/access-log-format';
import { AccessLogIngestion } from '../../../lib/ingest/access-log-ingestion';
import { DemoApi } from '../../../lib/ingest/demo-api';
import { IngestionStream } from '../../../lib/ingest/ingestion-stream';
import { ACCESS_LOG_RECORD_FIELDS } from '../../support/contract-fields';

/** The keys of contract access-log record (docs/contract.md), from the pinned fixture (not imported from src/): the test is the contract's guard. */
const CONTRACT_KEYS = ACCESS_LOG_RECORD_FIELDS;
const CONTRACT_VARIABLES: Record<string, string> = {
  requestId: '$context.requestId',
  requestTimeEpoch: '$context.requestTimeEpoch',
  requestTime: '$context.requestTime',
  accountId: '$context.authorizer.principalId',
  apiKeyId: '$context.identity.apiKeyId',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationLatency: '$context.integrationLatency',
  accountCreatedAt: '$context.authorizer.accountCreatedAt',
};

function newStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Test');
}

/** The format parses as JSON, has exactly the contract's keys in order, and every value is a quoted string. */
function expectContractFormat(format: string): void {
  const parsed = JSON.parse(format) as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual(CONTRACT_KEYS);
  for (const [k, v] of Object.entries(parsed)) {
    expect(typeof v).toBe('string');
    expect(v).toBe(CONTRACT_VARIABLES[k]);
  }
  // every $context variable sits inside quotes, so `-` and any value stay valid JSON strings
  expect(format).not.toMatch(/:\$context/);
}

describe('access-log format', () => {
  test('is generated from ACCESS_LOG_FIELDS and matches the contract access-log record exactly', () => {
    expect(ACCESS_LOG_FIELDS.map(([k]) => k)).toEqual(CONTRACT_KEYS);
    expectContractFormat(accessLogFormatString());
  });
});

describe('IngestionStream', () => {
  test('defaults: on-demand stream encrypted with a rotating customer-managed key, 24 h retention', () => {
    const stack = newStack();
    new IngestionStream(stack, 'Ingestion');
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Kinesis::Stream', 1);
    t.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestionKey'), 'Arn'] } },
      RetentionPeriodHours: 24,
    });
    const stream = Object.values(t.findResources('AWS::Kinesis::Stream'))[0] as any;
    expect(stream.Properties.ShardCount).toBeUndefined();
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('PROVISIONED with a shard count', () => {
    const stack = newStack();
    new IngestionStream(stack, 'Ingestion', { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: 6, streamRetention: Duration.hours(48) });
    Template.fromStack(stack).hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      ShardCount: 6,
      RetentionPeriodHours: 48,
    });
  });

  test('rejects a shard count with ON_DEMAND, and out-of-range shard counts, showing the value', () => {
    expect(() => new IngestionStream(newStack(), 'I', { shardCount: 3 })).toThrow(/shardCount is only valid with streamMode PROVISIONED.*3/);
    expect(() => new IngestionStream(newStack(), 'I', { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: 0 })).toThrow(
      /between 1 and 500, got 0/,
    );
    expect(() => new IngestionStream(newStack(), 'I', { usageProducerAccountIds: ['12345'] })).toThrow(/12-digit.*"12345"/);
  });

  test('access-log group: encrypted with the key, bounded retention, subscription filter to the stream', () => {
    const stack = newStack();
    new IngestionStream(stack, 'Ingestion');
    const t = Template.fromStack(stack);
    const [groupId] = Object.keys(t.findResources('AWS::Logs::LogGroup'));
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 7,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestionKey'), 'Arn'] },
    });
    const [streamId] = Object.keys(t.findResources('AWS::Kinesis::Stream'));
    const [roleId] = Object.keys(t.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('CloudWatch Logs') } }));
    t.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: { Ref: groupId },
      DestinationArn: { 'Fn::GetAtt': [streamId, 'Arn'] },
      RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
      FilterPattern: '',
      Distribution: 'Random',
    });
    // the filter is created after its role's policy (CloudWatch Logs test-delivers on creation)
    const filter = Object.values(t.findResources('AWS::Logs::SubscriptionFilter'))[0] as any;
    expect(filter.DependsOn.some((d: string) => /SubscriptionPolicy/.test(d))).toBe(true);
  });

  test('the subscription role is for logs.amazonaws.com of this account only, and may only put records + get a data key', () => {
    const stack = newStack();
    new IngestionStream(stack, 'Ingestion');
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('CloudWatch Logs'),
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'logs.amazonaws.com' },
            Condition: { StringLike: { 'aws:SourceArn': Match.anyValue() } },
          },
        ],
      },
    });
    const [streamId] = Object.keys(t.findResources('AWS::Kinesis::Stream'));
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('SubscriptionPolicy'),
      PolicyDocument: {
        Statement: [
          { Action: ['kinesis:PutRecord', 'kinesis:PutRecords'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [streamId, 'Arn'] } },
          { Action: 'kms:GenerateDataKey', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestionKey'), 'Arn'] } },
        ],
      },
    });
  });

  test('the key lets CloudWatch Logs of this account use it (log-group encryption context), nothing broader', () => {
    const stack = newStack();
    new IngestionStream(stack, 'Ingestion');
    const key = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'))[0] as any;
    const logsStmt = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'AllowCloudWatchLogsForThisAccountsLogGroups');
    expect(logsStmt.Principal.Service).toEqual({ 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] });
    expect(Object.keys(logsStmt.Condition.ArnLike)).toEqual(['kms:EncryptionContext:aws:logs:arn']);
  });

  test('usage producers: grantUsageWrite and the cross-account usage-producer role get put + data key only', () => {
    const stack = newStack();
    const ingestion = new IngestionStream(stack, 'Ingestion', { usageProducerAccountIds: ['111122223333'] });
    const serving = new iam.Role(stack, 'Serving', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    ingestion.grantUsageWrite(serving);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Principal: { AWS: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('111122223333')])] } } },
        ],
      },
    });
    for (const role of ['UsageProducerRole', 'Serving']) {
      t.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(role) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: Match.arrayWith(['kinesis:PutRecord', 'kinesis:PutRecords']) }),
            Match.objectLike({ Action: 'kms:GenerateDataKey' }),
          ]),
        },
      });
    }
  });
});

describe('AccessLogIngestion', () => {
  test('a Stage of this app gets the contract access-log format and the log group ARN (no :*) in its template', () => {
    const stack = newStack();
    const ingestion = new IngestionStream(stack, 'Ingestion');
    const api = new apigateway.RestApi(stack, 'UserApi', { cloudWatchRole: false });
    api.root.addMethod('GET', new apigateway.MockIntegration());
    const attach = new AccessLogIngestion(stack, 'Attach', { logGroup: ingestion.accessLogGroup, stage: api.deploymentStage });
    expect(attach.mode).toBe('template');
    const t = Template.fromStack(stack);
    const stage = Object.values(t.findResources('AWS::ApiGateway::Stage'))[0] as any;
    expectContractFormat(stage.Properties.AccessLogSetting.Format);
    const arn = JSON.stringify(stage.Properties.AccessLogSetting.DestinationArn);
    expect(arn).toContain(':log-group:');
    expect(arn).not.toContain(':*');
    t.resourceCountIs('Custom::DistillGuardStageAccessLog', 0);
  });

  test('a stage outside the app: UpdateStage custom resource with patch operations, IAM scoped to that stage', () => {
    const stack = newStack();
    const ingestion = new IngestionStream(stack, 'Ingestion');
    const attach = new AccessLogIngestion(stack, 'Attach', { logGroup: ingestion.accessLogGroup, restApiId: 'a1b2c3d4e5', stageName: 'live' });
    expect(attach.mode).toBe('update-stage');
    const t = Template.fromStack(stack);
    const cr = Object.values(t.findResources('Custom::DistillGuardStageAccessLog'))[0] as any;
    // the Create call is a Fn::Join (the log group ARN is a token); render it with placeholders and parse
    const render = (v: any): string =>
      typeof v === 'string' ? v : v['Fn::Join'] ? v['Fn::Join'][1].map(render).join('') : v.Ref ? `<${v.Ref}>` : '<token>';
    for (const phase of ['Create', 'Update']) {
      const call = JSON.parse(render(cr.Properties[phase]));
      expect(call.service).toBe('APIGateway');
      expect(call.action).toBe('UpdateStage');
      expect(call.parameters.restApiId).toBe('a1b2c3d4e5');
      expect(call.parameters.stageName).toBe('live');
      const ops = call.parameters.patchOperations;
      expect(ops.map((o: any) => [o.op, o.path])).toEqual([
        ['replace', '/accessLogSettings/destinationArn'],
        ['replace', '/accessLogSettings/format'],
      ]);
      expect(ops[0].value).toMatch(/^arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<Ingestion.*>$/);
      expectContractFormat(ops[1].value);
    }
    const del = JSON.parse(render(cr.Properties.Delete));
    expect(del.parameters.patchOperations).toEqual([{ op: 'remove', path: '/accessLogSettings' }]);
    expect(del.ignoreErrorCodesMatching).toBe('NotFoundException');
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'apigateway:PATCH',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, '::/restapis/a1b2c3d4e5/stages/live']],
            },
          },
        ],
      },
    });
  });

  test('an imported IStage also goes through UpdateStage', () => {
    const stack = newStack();
    const ingestion = new IngestionStream(stack, 'Ingestion');
    const stage = apigateway.Stage.fromStageAttributes(stack, 'Imported', {
      stageName: 'v2',
      restApi: apigateway.RestApi.fromRestApiId(stack, 'ImportedApi', 'zzzzzzzzzz'),
    });
    expect(new AccessLogIngestion(stack, 'Attach', { logGroup: ingestion.accessLogGroup, stage }).mode).toBe('update-stage');
  });

  test('wrong combinations are rejected with the values received', () => {
    const stack = newStack();
    const ingestion = new IngestionStream(stack, 'Ingestion');
    expect(() => new AccessLogIngestion(stack, 'A', { logGroup: ingestion.accessLogGroup, restApiId: 'abc' })).toThrow(
      /restApiId and stageName are both required.*"abc".*undefined/,
    );
    const api = new apigateway.RestApi(stack, 'Api', { cloudWatchRole: false });
    api.root.addMethod('GET', new apigateway.MockIntegration());
    expect(
      () => new AccessLogIngestion(stack, 'B', { logGroup: ingestion.accessLogGroup, stage: api.deploymentStage, restApiId: 'x', stageName: 'y' }),
    ).toThrow(/either stage or restApiId \+ stageName, not both/);
  });
});

describe('DemoApi', () => {
  function demo(props: Partial<ConstructorParameters<typeof DemoApi>[2]> = {}): Template {
    const stack = newStack();
    const ingestion = new IngestionStream(stack, 'Ingestion');
    const table = new dynamodb.Table(stack, 'Control', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    new DemoApi(stack, 'Demo', { controlTable: table, accessLogGroup: ingestion.accessLogGroup, usageStream: ingestion.stream, ...props });
    return Template.fromStack(stack);
  }

  test('stage: contract access-log record logging to the ingestion log group, execution logs, metrics, tracing', () => {
    const t = demo();
    const stage = Object.values(t.findResources('AWS::ApiGateway::Stage'))[0] as any;
    expect(stage.Properties.StageName).toBe('prod');
    expectContractFormat(stage.Properties.AccessLogSetting.Format);
    expect(JSON.stringify(stage.Properties.AccessLogSetting.DestinationArn)).toMatch(/IngestionAccessLogs/);
    expect(stage.Properties.TracingEnabled).toBe(true);
    expect(stage.Properties.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', MetricsEnabled: true, DataTraceEnabled: false }),
    ]);
    t.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  test('POST /v1/models/{model}/messages: Lambda REQUEST authorizer on Authorization, API key, body validation', () => {
    const t = demo();
    t.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{model}' });
    t.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'messages' });
    const [authorizerId] = Object.keys(t.findResources('AWS::ApiGateway::Authorizer'));
    t.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
    });
    t.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: authorizerId },
      ApiKeyRequired: true,
      RequestValidatorId: Match.anyValue(),
      RequestModels: { 'application/json': Match.anyValue() },
      Integration: Match.objectLike({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' }),
    });
    t.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    t.hasResourceProperties('AWS::ApiGateway::Model', { Schema: Match.objectLike({ required: ['messages'] }) });
  });

  test('usage plan with throttling, bound to the stage, with a demo key', () => {
    const t = demo({ throttleRateLimit: 7, throttleBurstLimit: 9 });
    t.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 7, BurstLimit: 9 },
      ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
    });
    t.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    t.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  test('authorizer: CONTROL_TABLE env, GetItem only, only on ACCOUNT#* partition keys', () => {
    const t = demo({ allowUnknownAccounts: false });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ CONTROL_TABLE: { Ref: Match.stringLikeRegexp('Control') }, ALLOW_UNKNOWN_ACCOUNTS: 'false' }) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'dynamodb:GetItem',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('Control'), 'Arn'] },
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] } },
          },
        ]),
      },
    });
  });

  test('model stub: puts usage events on the stream (PutRecord + data key), or not at all when off', () => {
    const on = demo();
    on.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ USAGE_STREAM_NAME: { Ref: Match.stringLikeRegexp('IngestionStream') } }) },
    });
    on.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['kinesis:PutRecord', 'kinesis:PutRecords'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestionStream'), 'Arn'] },
          },
        ]),
      },
    });
    const off = demo({ emitUsageEvents: false });
    const fns = Object.values(off.findResources('AWS::Lambda::Function')) as any[];
    expect(fns.some((f) => f.Properties.Environment?.Variables?.USAGE_STREAM_NAME)).toBe(false);
  });

  test('bad props are rejected with the values received', () => {
    expect(() => demo({ stageName: 'no spaces' })).toThrow(/stageName must match.*"no spaces"/);
    expect(() => demo({ authorizerCacheTtl: Duration.hours(2) })).toThrow(/at most 3600 seconds, got 7200/);
    expect(() => demo({ throttleBurstLimit: 1.5 })).toThrow(/throttleBurstLimit must be a positive integer, got 1.5/);
  });
});
