import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { hasNode22Function } from '../support';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Scorer, type ScorerProps } from '../../../lib/detect/scorer';
import { keys } from '../../../src/escalate/model';
import { evaluate } from '../policy-eval';

function synth(extra: Partial<ScorerProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ScorerTest');
  const featuresTable = new dynamodb.Table(stack, 'Features', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const controlTable = new dynamodb.Table(stack, 'Control', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const stateMachine = new sfn.StateMachine(stack, 'Workflow', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')) });
  new Scorer(stack, 'Scorer', { featuresTable, controlTable, stateMachine, ...extra });
  return Template.fromStack(stack);
}

describe('Scorer construct', () => {
  const t = synth();

  test('an EventBridge schedule (default every 5 minutes) invokes the scorer function', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: Match.arrayWith([
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ScorerFunction'), 'Arn'] },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 1 }),
        }),
      ]),
    });
    t.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' });
  });

  test('function: Node 22 on ARM64, one run at a time, wiring in the environment', () => {
    hasNode22Function(
      t,
      { MemorySize: 1769, Timeout: 240, ReservedConcurrentExecutions: 1 },
      {
        FEATURES_TABLE: { Ref: Match.stringLikeRegexp('Features') },
        CONTROL_TABLE: { Ref: Match.stringLikeRegexp('Control') },
        STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('Workflow') },
        DETECTION_CONFIG: '{}',
        LOOKBACK_HOURS: '72',
        WINDOW_CACHE_MAX_AGE_MINUTES: '360',
      },
    );
  });

  test('least privilege: read features, read control + UpdateItem on SCORE# keys only, StartExecution on the workflow', () => {
    const policies = t.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const update = statements.find((s: any) => s.Action === 'dynamodb:UpdateItem');
    expect(update.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SCORE#*'] } });
    const start = statements.find((s: any) => s.Action === 'states:StartExecution');
    expect(start.Resource).toEqual({ Ref: expect.stringMatching(/Workflow/) });
    for (const s of statements) {
      const actions = [].concat(s.Action);
      expect(actions).not.toContain('dynamodb:PutItem');
      expect(actions).not.toContain('dynamodb:DeleteItem');
    }
  });

  test('the scorer cannot change account status: it may write its SCORE item and nothing under ACCOUNT#', () => {
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const controlTable = (r: unknown) => JSON.stringify(r).includes('Control') && !JSON.stringify(r).includes('/index');
    const write = (action: string, pk: string) => evaluate(statements, { action, resource: controlTable, context: { 'dynamodb:LeadingKeys': [pk] } });
    expect(write('dynamodb:UpdateItem', keys.accountScore('acct-1').pk)).toBe('allow');
    for (const action of ['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
      expect([action, write(action, keys.accountStatus('acct-1').pk)]).toEqual([action, 'implicit-deny']);
    }
    expect(keys.accountScore('acct-1').pk).not.toBe(keys.accountStatus('acct-1').pk);
  });

  test('props: schedule, lookback and validated detection config', () => {
    const t2 = synth({ schedule: Duration.minutes(15), lookback: Duration.hours(24), detectionConfig: { decisions: { suspendScore: 0.9 } } });
    t2.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    t2.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LOOKBACK_HOURS: '24', DETECTION_CONFIG: '{"decisions":{"suspendScore":0.9}}' }) },
    });
    expect(() => synth({ detectionConfig: { decisions: { nope: 1 } } as any })).toThrow(/unknown detection config key 'decisions.nope'/);
    expect(() => synth({ schedule: Duration.minutes(2) })).toThrow(/scorer timeout \(4 minutes\) must not exceed the schedule \(2 minutes\)/);
    expect(() => synth({ lookback: Duration.days(60) })).toThrow(/lookback must be between 1 and 720 hours/);
    synth({ windowCacheMaxAge: Duration.minutes(0) }).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WINDOW_CACHE_MAX_AGE_MINUTES: '0' }) },
    });
  });
});
