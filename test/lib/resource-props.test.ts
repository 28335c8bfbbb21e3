/**
 * DistillGuard's pass-through props: resources of the user's account replace the ones the stages would create,
 * and configuration stays strict (an unknown key still fails with the value received).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DistillGuard, DistillGuardProps } from '../../lib/distill-guard';
import { DistillGuardStack } from '../../lib/distill-guard-stack';

const BUS_ARN = 'arn:aws:events:eu-west-1:111122223333:event-bus/platform-bus';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:111122223333:platform-alarms';
const TABLE_ARN = 'arn:aws:dynamodb:eu-west-1:111122223333:table/platform-features';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555';
const FORWARD_ARN = 'arn:aws:events:eu-west-1:444455556666:event-bus/billing';

function synth(props: (stack: Stack) => DistillGuardProps): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Consumer', { env: { account: '111122223333', region: 'eu-west-1' } });
  new DistillGuard(stack, 'Guard', props(stack));
  return Template.fromStack(stack);
}

describe('existing resources replace the ones the stages create', () => {
  const template = synth((stack) => ({
    existingEventBusObj: events.EventBus.fromEventBusArn(stack, 'Bus', BUS_ARN),
    existingAlarmTopicObj: sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN),
    existingFeaturesTableObj: dynamodb.Table.fromTableAttributes(stack, 'Features', {
      tableArn: TABLE_ARN,
      globalIndexes: ['byHour'],
      encryptionKey: kms.Key.fromKeyArn(stack, 'FeaturesKey', KEY_ARN),
    }),
    forwardToEventBusArns: [FORWARD_ARN],
    controlTableEncryptionKey: kms.Key.fromKeyArn(stack, 'ControlKey', KEY_ARN),
  }));
  const json = JSON.stringify(template.toJSON());

  test('no bus, no alarm topic, only the control table is created', () => {
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  test('the publisher puts events on the given bus, alarms notify the given topic, ban events are forwarded', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: 'platform-bus' }) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.arrayWith([TOPIC_ARN]) });
    template.hasResourceProperties('AWS::Events::Rule', { Targets: Match.arrayWith([Match.objectLike({ Arn: FORWARD_ARN })]) });
    expect(json).toContain(TABLE_ARN);
  });

  test('the control table is encrypted with the given key, and the features table key is granted', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: Match.objectLike({ KMSMasterKeyId: KEY_ARN, SSEEnabled: true }),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kms:Decrypt']), Resource: KEY_ARN })]) },
    });
  });
});

test('a created and an existing bus together are refused', () => {
  expect(() =>
    synth((stack) => ({ existingEventBusObj: events.EventBus.fromEventBusArn(stack, 'Bus', BUS_ARN), eventBusProps: { eventBusName: 'x' } })),
  ).toThrow(/existingEventBusObj or eventBusProps, not both/);
});

test('an unknown key is still refused with the value received', () => {
  expect(() => synth(() => ({ shardCont: 4 }) as DistillGuardProps)).toThrow(/unknown distill-guard config key 'shardCont' \(got 4\)/);
});

test('DistillGuardStack passes the resource props on to its DistillGuard', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'distill-guard': { demoApi: false } } });
  const stack = new DistillGuardStack(app, 'DistillGuard', { forwardToEventBusArns: [FORWARD_ARN] });
  Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { Targets: Match.arrayWith([Match.objectLike({ Arn: FORWARD_ARN })]) });
});
