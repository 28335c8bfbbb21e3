import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { hasNode22Function } from '../support';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { ControlTable } from '../../../lib/state/control-table';
import { BanEvents, BanEventsProps, ONLY_PUBLISHERS_SID } from '../../../lib/notify/ban-events';
import { evaluate } from '../policy-eval';
import { NOTIFY_DEFAULTS } from '../../../lib/notify/defaults';
import { BAN_EVENT_SCHEMAS } from '../../../src/notify/schemas';
import { DETAIL_TYPES } from '../../../src/shared/contract';

function synth(props: Partial<BanEventsProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Producer', { env: { account: '111111111111', region: 'eu-west-1' } });
  const control = new ControlTable(stack, 'Control');
  const ban = new BanEvents(stack, 'BanEvents', { controlTable: control.table, ...props });
  return { stack, ban, t: Template.fromStack(stack) };
}

describe('BanEvents', () => {
  const { t, stack, ban } = synth({ consumerAccountIds: ['222222222222', '333333333333'], organizationId: 'o-a1b2c3d4e5' });

  it('creates a bus encrypted with a customer-managed key that rotates', () => {
    t.resourceCountIs('AWS::Events::EventBus', 1);
    t.hasResourceProperties('AWS::Events::EventBus', { KmsKeyIdentifier: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsKey'), 'Arn'] } });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('ban events') });
  });

  it('lets each named consumer account manage only the rules it created on the bus', () => {
    t.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: { Ref: Match.stringLikeRegexp('BanEventsBus') },
      StatementId: 'ConsumerAccountsManageOwnRules',
      Statement: {
        Effect: 'Allow',
        Principal: {
          AWS: [
            Match.objectLike({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:root']] }),
            Match.objectLike({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::333333333333:root']] }),
          ],
        },
        Action: Match.arrayWith(['events:PutRule', 'events:DeleteRule', 'events:DescribeRule', 'events:PutTargets', 'events:RemoveTargets']),
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:111111111111:rule/', { Ref: Match.stringLikeRegexp('BanEventsBus') }, '/*'],
          ],
        },
        Condition: { StringEqualsIfExists: { 'events:creatorAccount': '${aws:PrincipalAccount}' } },
      },
    });
  });

  it('lets accounts of the organization manage their own rules (aws:PrincipalOrgID)', () => {
    t.hasResourceProperties('AWS::Events::EventBusPolicy', {
      StatementId: 'OrganizationManageOwnRules',
      Statement: Match.objectLike({
        Principal: '*',
        Condition: {
          StringEqualsIfExists: { 'events:creatorAccount': '${aws:PrincipalAccount}' },
          StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' },
        },
      }),
    });
  });

  it('never grants consumers PutEvents on the bus (only distill-guard publishes ban events)', () => {
    const policies = t.findResources('AWS::Events::EventBusPolicy');
    for (const p of Object.values(policies).filter((x) => x.Properties.Statement.Effect === 'Allow')) {
      expect(JSON.stringify(p.Properties.Statement.Action)).not.toMatch(/PutEvents/);
    }
  });

  it('no principal but the publisher and the sweeper can put distill-guard events on the bus (bus policy deny)', () => {
    const roleOf = (fn: { role?: { node: { defaultChild?: unknown } } }) =>
      `arn:aws:iam::111111111111:role/${stack.getLogicalId(fn.role!.node.defaultChild as never)}`;
    // GetAtt <role>.Arn -> a stand-in ARN, so the statement can be evaluated
    const statements = Object.values(t.findResources('AWS::Events::EventBusPolicy')).map((p: any) =>
      JSON.parse(
        JSON.stringify(p.Properties.Statement).replace(/\{"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]\}/g, '"arn:aws:iam::111111111111:role/$1"'),
      ),
    );
    const put = (principalArn: string, source: string) =>
      evaluate(statements, {
        action: 'events:PutEvents',
        resource: () => true,
        principalArn,
        context: { 'events:source': source, 'aws:PrincipalArn': principalArn },
      });
    expect(put(roleOf(ban.publisher), NOTIFY_DEFAULTS.source)).not.toBe('explicit-deny');
    expect(put(roleOf(ban.sweeper), NOTIFY_DEFAULTS.source)).not.toBe('explicit-deny');
    expect(put('arn:aws:iam::111111111111:role/SomeAdmin', NOTIFY_DEFAULTS.source)).toBe('explicit-deny');
    expect(put('arn:aws:iam::222222222222:root', NOTIFY_DEFAULTS.source)).toBe('explicit-deny');
    expect(put('arn:aws:iam::111111111111:role/SomeAdmin', 'another-app')).not.toBe('explicit-deny');
    t.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: { Ref: Match.stringLikeRegexp('BanEventsBus') },
      StatementId: ONLY_PUBLISHERS_SID,
      Statement: Match.objectLike({ Effect: 'Deny', Principal: '*', Action: 'events:PutEvents' }),
    });
  });

  it('publishes one JSON Schema (JSONSchemaDraft4) per detail type to a registry, content = schemas/*.json', () => {
    t.resourceCountIs('AWS::EventSchemas::Registry', 1);
    t.hasResourceProperties('AWS::EventSchemas::Registry', { RegistryName: 'Producer-ban-events' });
    t.resourceCountIs('AWS::EventSchemas::Schema', DETAIL_TYPES.length);
    for (const dt of DETAIL_TYPES) {
      const s = BAN_EVENT_SCHEMAS[dt];
      t.hasResourceProperties('AWS::EventSchemas::Schema', {
        RegistryName: 'Producer-ban-events',
        SchemaName: s.schemaName,
        Type: 'JSONSchemaDraft4',
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- one JSON schema per detail type, by file name
        Content: JSON.stringify(require(`../../../schemas/${s.file}`)),
      });
    }
  });

  it('lets consumers read the registry', () => {
    t.hasResourceProperties('AWS::EventSchemas::RegistryPolicy', {
      RegistryName: 'Producer-ban-events',
      Policy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'ConsumerAccountsReadSchemas', Action: Match.arrayWith(['schemas:DescribeSchema', 'schemas:ExportSchema']) }),
          Match.objectLike({ Sid: 'OrganizationReadSchemas', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } }),
        ]),
      },
    });
  });

  it('archives every distill-guard event for 365 days, encrypted', () => {
    t.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsBus'), 'Arn'] },
      EventPattern: { source: ['distill-guard'] },
      RetentionDays: 365,
      KmsKeyIdentifier: Match.anyValue(),
    });
  });

  it('runs the publisher on the control-table stream: only INSERTs of OUTBOX# items, bisect, bounded retries, partial batch responses, KMS on-failure queue', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ControlTable'), 'StreamArn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('BanEventsPublisher') },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: NOTIFY_DEFAULTS.publisherBatchSize,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: NOTIFY_DEFAULTS.publisherRetryAttempts,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsPublisherFailures'), 'Arn'] } } },
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { Keys: { pk: { S: [{ prefix: 'OUTBOX#' }] } } } }) }],
      },
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsKey'), 'Arn'] },
      MessageRetentionPeriod: 1209600,
    });
  });

  it('runs the publisher on Node 22 with the bus and table in its environment', () => {
    hasNode22Function(
      t,
      {},
      {
        CONTROL_TABLE: { Ref: Match.stringLikeRegexp('ControlTable') },
        EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('BanEventsBus') },
        POWERTOOLS_SERVICE_NAME: 'notify-publisher',
        PUBLISH_MAX_ATTEMPTS: '4',
      },
    );
  });

  it('grants the publisher PutEvents on the bus only, and UpdateItem on OUTBOX# items only', () => {
    const roles = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('BanEventsPublisherServiceRole') }] } });
    const statements = Object.values(roles).flatMap((r) => r.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [expect.stringMatching(/BanEventsBus/), 'Arn'] } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'dynamodb:UpdateItem', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['OUTBOX#*'] } } }),
    );
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).not.toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:Scan');
  });

  it('schedules the sweeper every 5 minutes, which may query only the byState index', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BanEventsSweeper'), 'Arn'] } })],
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'notify-sweeper', SWEEP_MIN_AGE_SECONDS: '300' }) },
    });
    const roles = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('BanEventsSweeperServiceRole') }] } });
    const statements = Object.values(roles).flatMap((r) => r.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/ControlTable/), 'Arn'] }, '/index/byState']] },
      }),
    );
  });

  it('alarms when events stop reaching the bus', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OutboxOldestPendingAgeSeconds',
      Namespace: 'DistillGuard',
      Threshold: 900,
      TreatMissingData: 'breaching',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OutboxPoisonItems' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SchemaViolations',
      Dimensions: [{ Name: 'service', Value: 'notify-publisher' }],
    });
    expect(ban.alarms).toHaveLength(5);
  });

  it('synthesizes without errors or dependency cycles', () => {
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(ban.eventPattern).toEqual({ source: ['distill-guard'] });
  });
});

describe('BanEvents options', () => {
  it('writes no consumer bus or registry policy when no consumer is named (only the publishers-only deny)', () => {
    const { t } = synth();
    t.resourceCountIs('AWS::Events::EventBusPolicy', 1);
    t.hasResourceProperties('AWS::Events::EventBusPolicy', { StatementId: ONLY_PUBLISHERS_SID, Statement: Match.objectLike({ Effect: 'Deny' }) });
    t.resourceCountIs('AWS::EventSchemas::RegistryPolicy', 0);
  });

  it('forwards to consumer buses with a role and a DLQ when asked', () => {
    const { t } = synth({ forwardToEventBusArns: ['arn:aws:events:eu-west-1:222222222222:event-bus/ban-inbox'] });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['distill-guard'] },
      Targets: [
        Match.objectLike({
          Arn: 'arn:aws:events:eu-west-1:222222222222:event-bus/ban-inbox',
          RoleArn: Match.anyValue(),
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it('honours archiveRetention and registryName', () => {
    const { t } = synth({ archiveRetention: Duration.days(30), registryName: 'my-registry' });
    t.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 30 });
    t.hasResourceProperties('AWS::EventSchemas::Registry', { RegistryName: 'my-registry' });
  });

  it('uses an existing bus', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'P', { env: { account: '111111111111', region: 'eu-west-1' } });
    const control = new ControlTable(stack, 'Control');
    const bus = new events.EventBus(stack, 'Mine');
    const ban = new BanEvents(stack, 'B', { controlTable: control.table, existingEventBusObj: bus });
    expect(ban.eventBus).toBe(bus);
    Template.fromStack(stack).resourceCountIs('AWS::Events::EventBus', 1);
  });

  it.each([
    [{ existingEventBusObj: {} as events.IEventBus, eventBusProps: {} }, /not both \(got both\)/],
    [{ consumerAccountIds: ['12345'] }, /12-digit account ids, got "12345"/],
    [{ organizationId: 'org-1' }, /o-xxxxxxxxxx, got "org-1"/],
  ])('rejects bad props with a clear message (%#)', (props, re) => {
    expect(() => synth(props as Partial<BanEventsProps>)).toThrow(re);
  });

  it('rejects a control table without a stream', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'P');
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    expect(() => new BanEvents(stack, 'B', { controlTable: table })).toThrow(/must have a stream/);
  });
});
