import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BanEventsConsumerStack, BanEventsConsumerStackProps } from '../../../examples/consumer/lib/ban-events-consumer-stack';
import { matchesEventPattern } from '../../../local/services/event-pattern';
import { buildBanEvent } from '../../../src/notify/ban-event';
import { sampleFields } from '../../notify/fixtures';

const PRODUCER_BUS = 'arn:aws:events:eu-west-1:111111111111:event-bus/Producer-BanEventsBus';

function synth(props: Partial<BanEventsConsumerStackProps> = {}) {
  const app = new App();
  const stack = new BanEventsConsumerStack(app, 'Consumer', {
    producerEventBusArn: PRODUCER_BUS,
    env: { account: '222222222222', region: 'eu-west-1' },
    ...props,
  });
  return { stack, t: Template.fromStack(stack) };
}

function envelope(detailType: 'Account Flagged' | 'Account Suspended' | 'Account Reinstated', decidedBy = 'auto') {
  const ev = buildBanEvent(detailType, sampleFields(detailType, { decidedBy }));
  return {
    version: '0',
    id: '1',
    'detail-type': detailType,
    source: 'distill-guard',
    account: '111111111111',
    time: '2026-11-02T00:40:01Z',
    region: 'eu-west-1',
    resources: [],
    detail: ev.detail,
  };
}

describe('example consumer stack (another account)', () => {
  const { t } = synth({ detailTypes: ['Account Suspended', 'Account Reinstated'], decidedBy: ['auto'] });

  it('creates its subscription rule on the producer bus by ARN, filtering on detail-type, decidedBy and the schema major, targeting its own inbox bus', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: PRODUCER_BUS,
      EventPattern: {
        source: ['distill-guard'],
        'detail-type': ['Account Suspended', 'Account Reinstated'],
        detail: { schemaVersion: [{ prefix: '1.' }], decidedBy: ['auto'] },
      },
      Targets: [{ Id: 'ConsumerInbox', Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Inbox'), 'Arn'] } }],
    });
  });

  it('lets only the producer account put only distill-guard events on its inbox', () => {
    t.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] } },
        Condition: { StringEquals: { 'events:source': 'distill-guard' } },
      }),
    });
  });

  it('delivers to a KMS-encrypted SQS queue with a dead-letter queue, and to the DLQ when delivery fails', () => {
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsDlq'), 'Arn'] }, maxReceiveCount: 5 },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('Inbox') },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsQueue'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsDlq'), 'Arn'] } },
        }),
      ],
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowEventBridgeToUseTheQueueKey', Principal: { Service: 'events.amazonaws.com' } })]),
      },
    });
  });

  it('its pattern selects exactly the events it asked for (checked with the local EventBridge matcher)', () => {
    const pattern = t.findResources('AWS::Events::Rule', { Properties: { EventBusName: PRODUCER_BUS } });
    const p = Object.values(pattern)[0].Properties.EventPattern as Record<string, unknown>;
    expect(matchesEventPattern(p, envelope('Account Suspended'))).toBe(true);
    expect(matchesEventPattern(p, envelope('Account Reinstated'))).toBe(true);
    expect(matchesEventPattern(p, envelope('Account Flagged'))).toBe(false);
    expect(matchesEventPattern(p, envelope('Account Suspended', 'reviewer:bob'))).toBe(false);
    expect(
      matchesEventPattern(p, { ...envelope('Account Suspended'), detail: { ...envelope('Account Suspended').detail, schemaVersion: '2.0' } }),
    ).toBe(false);
  });

  it('in producer-forwards mode creates nothing in the producer account', () => {
    const { t: f } = synth({ mode: 'producer-forwards' });
    expect(Object.keys(f.findResources('AWS::Events::Rule', { Properties: { EventBusName: PRODUCER_BUS } }))).toHaveLength(0);
    f.resourceCountIs('AWS::Events::Rule', 1);
  });

  it('rejects a producer ARN that is not an event bus', () => {
    expect(() => synth({ producerEventBusArn: 'arn:aws:sqs:eu-west-1:111111111111:q' })).toThrow(/must be an event bus arn.*got "arn:aws:sqs/);
  });
});

describe('example consumer handler (a Lambda function on the queue)', () => {
  const { t } = synth();
  const ref = (like: string) => Match.stringLikeRegexp(like);

  it('reads the queue with partial batch responses (a malformed message fails alone)', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ref('BanEventsQueue'), 'Arn'] },
      FunctionName: { Ref: ref('Handler') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_TABLE: { Ref: ref('IdempotencyTable') } }) },
    });
  });

  it('remembers event ids in a table encrypted with the stack key, expiring by TTL, with point-in-time recovery', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [ref('^Key'), 'Arn'] } },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [ref('^Key'), 'Arn'] }, RetentionInDays: 30 });
  });

  it('least privilege: its role may use single items of its table, its queue and its key, and nothing else', () => {
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('HandlerServiceRole'),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
    const byService: Record<string, { actions: string[]; resources: string[] }> = {};
    for (const s of statements) {
      for (const a of [s.Action].flat()) {
        const svc = a.split(':')[0];
        byService[svc] ??= { actions: [], resources: [] };
        byService[svc].actions.push(a);
        byService[svc].resources.push(...[s.Resource].flat().map((r) => JSON.stringify(r)));
      }
    }
    expect(Object.keys(byService).sort()).toEqual(['dynamodb', 'kms', 'sqs', 'xray']);
    expect(byService.dynamodb.actions.sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(byService.dynamodb.resources.every((r) => /IdempotencyTable/.test(r))).toBe(true);
    expect(byService.sqs.actions.sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
    expect(byService.sqs.resources.every((r) => /BanEventsQueue/.test(r) && !/Dlq/.test(r))).toBe(true);
    expect([...new Set(byService.kms.actions)].sort()).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']);
    expect(byService.kms.resources.every((r) => /"Key[0-9A-F]+","Arn"/.test(r))).toBe(true);
    // X-Ray's two write actions take no resource-level permissions
    expect(byService.xray.actions.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('with handler: false, deploys neither the function nor the table', () => {
    const { t: q } = synth({ handler: false });
    q.resourceCountIs('AWS::Lambda::Function', 0);
    q.resourceCountIs('AWS::DynamoDB::Table', 0);
  });
});
