import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BanEventsConsumerStack, BanEventsConsumerStackProps } from '../../../examples/consumer/lib/ban-events-consumer-stack';
import { matchesEventPattern } from '../../../local/services/event-pattern';
import { buildBanEvent } from '../../../src/notify/ban-event';
import { sampleFields } from '../../notify/fixtures';

const PRODUCER_BUS = 'arn:aws:events:eu-west-1:111111111111:event-bus/Producer-BanEventsBus';

function synth(props: Partial<BanEventsConsumerStackProps> = {}) {
  const app = new App();
  const stack = new BanEventsConsumerStack(app, 'Consumer', { producerEventBusArn: PRODUCER_BUS, env: { account: '222222222222', region: 'eu-west-1' }, ...props });
  return { stack, t: Template.fromStack(stack) };
}

function envelope(detailType: 'Account Flagged' | 'Account Suspended' | 'Account Reinstated', decidedBy = 'auto') {
  const ev = buildBanEvent(detailType, sampleFields(detailType, { decidedBy }));
  return { version: '0', id: '1', 'detail-type': detailType, source: 'distill-guard', account: '111111111111', time: '2026-11-02T00:40:01Z', region: 'eu-west-1', resources: [], detail: ev.detail };
}

describe('example consumer stack (another account)', () => {
  const { t } = synth({ detailTypes: ['Account Suspended', 'Account Reinstated'], decidedBy: ['auto'] });

  it('creates its subscription rule on the producer bus by ARN, filtering on detail-type, decidedBy and the schema major, targeting its own inbox bus', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: PRODUCER_BUS,
      EventPattern: { source: ['distill-guard'], 'detail-type': ['Account Suspended', 'Account Reinstated'], detail: { schemaVersion: [{ prefix: '1.' }], decidedBy: ['auto'] } },
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
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsQueue'), 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsDlq'), 'Arn'] } } })],
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowEventBridgeToUseTheQueueKey', Principal: { Service: 'events.amazonaws.com' } })]) },
    });
  });

  it('its pattern selects exactly the events it asked for (checked with the local EventBridge matcher)', () => {
    const pattern = t.findResources('AWS::Events::Rule', { Properties: { EventBusName: PRODUCER_BUS } });
    const p = Object.values(pattern)[0].Properties.EventPattern as Record<string, unknown>;
    expect(matchesEventPattern(p, envelope('Account Suspended'))).toBe(true);
    expect(matchesEventPattern(p, envelope('Account Reinstated'))).toBe(true);
    expect(matchesEventPattern(p, envelope('Account Flagged'))).toBe(false);
    expect(matchesEventPattern(p, envelope('Account Suspended', 'reviewer:bob'))).toBe(false);
    expect(matchesEventPattern(p, { ...envelope('Account Suspended'), detail: { ...envelope('Account Suspended').detail, schemaVersion: '2.0' } })).toBe(false);
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
