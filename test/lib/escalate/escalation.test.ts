/**
 * CDK assertions on the Escalation construct: the workflow's states, the task-token step with its deadline,
 * retries and catches, encryption, logging without execution data, the scoped IAM for reviewers, the expirer.
 */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { resolveTokens, synthEscalation } from '../../escalate/support/synth';
import { evaluate } from '../policy-eval';

const syn = synthEscalation({ reviewTimeout: Duration.hours(12), reviewHeartbeat: Duration.hours(2), breakerMaxPerHour: 7 });
const states = syn.definition.States as Record<string, any>;
const resources = syn.json.Resources as Record<string, any>;
const ofType = (t: string) => Object.entries(resources).filter(([, r]) => r.Type === t);
const policyDocs = () =>
  [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')].map(
    ([id, r]) => [id, r.Properties.PolicyDocument.Statement as any[]] as const,
  );

describe('Escalation state machine', () => {
  test('standard, traced, logging without execution data (task tokens never reach the logs)', () => {
    syn.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ IncludeExecutionData: false, Level: 'ALL' }),
    });
  });

  test('the states of the case lifecycle', () => {
    expect(Object.keys(states).sort()).toEqual(
      [
        ...[
          'Start',
          'ExecutionId',
          'RecordCase',
          'Duplicate?',
          'Duplicate',
          'CheckGuardrails',
          'Route',
          'Review',
          'RecordReview',
          'Approved?',
          'ApplySuspension',
          'Applied?',
          'BreakerRefusedAtApply',
          'CompensateSuspension',
          'Dismiss',
          'MarkOverdue',
          'MarkError',
          'EscalationFailed',
          'Done',
        ],
        ...['ApplyRestriction', 'Restricted?', 'CompensateRestriction', 'RestrictedBeforeReview?', 'LiftRestriction'],
      ].sort(),
    );
    expect(syn.definition.StartAt).toBe('Start');
    expect(states.Route.Choices.map((c: any) => [c.StringEquals, c.Next])).toEqual([
      ['suspend', 'ApplySuspension'],
      ['restrict', 'ApplyRestriction'],
      ['review', 'Review'],
    ]);
    expect(states.Route.Default).toBe('Dismiss');
  });

  test('review waits on the review task function, which keeps the token with the case; with a deadline and heartbeat', () => {
    const r = states.Review;
    expect(r.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(r.TimeoutSeconds).toBe(12 * 3600);
    expect(r.HeartbeatSeconds).toBe(2 * 3600);
    expect(r.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
    expect(r.Parameters.FunctionName).toBe(`<${syn.functions.reviewTaskFn}.Arn>`);
    // timeout -> safe default (overdue, no suspension); anything else -> error handling
    expect(r.Catch[0]).toEqual({ ErrorEquals: ['States.Timeout', 'States.HeartbeatTimeout'], ResultPath: '$.error', Next: 'MarkOverdue' });
    expect(r.Catch[1]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'MarkError' });
    // The queue gets a notification from the function, never the token from the state machine.
    expect(JSON.stringify(r)).not.toMatch(/sqs:sendMessage/);
  });

  test('no heartbeat requirement unless configured', () => {
    const plain = synthEscalation();
    expect(plain.definition.States.Review.HeartbeatSeconds).toBeUndefined();
    expect(plain.definition.States.Review.TimeoutSeconds).toBe(86400);
  });

  test('every task retries and catches; a failed suspension is compensated', () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([n]) => n).sort()).toEqual([
      'ApplyRestriction',
      'ApplySuspension',
      'CheckGuardrails',
      'CompensateRestriction',
      'CompensateSuspension',
      'Dismiss',
      'LiftRestriction',
      'MarkError',
      'MarkOverdue',
      'RecordCase',
      'RecordReview',
      'Review',
    ]);
    for (const [name, s] of tasks) {
      expect({ name, retry: (s.Retry ?? []).length > 0 }).toEqual({ name, retry: true });
      expect({ name, catch: (s.Catch ?? []).length > 0 }).toEqual({ name, catch: true });
    }
    expect(states.ApplySuspension.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'CompensateSuspension' }]);
    expect(states.CompensateSuspension.Next).toBe('MarkError');
    expect(states.MarkError.Next).toBe('EscalationFailed');
    expect(states.ApplySuspension.Resource).toMatch(/SuspensionFn/);
  });

  test('review queue and DLQ are KMS-encrypted, TLS-only, and the message outlives the deadline', () => {
    const queues = ofType('AWS::SQS::Queue');
    expect(queues.length).toBe(2);
    for (const [, q] of queues) expect(q.Properties.KmsMasterKeyId).toBeDefined();
    const [, main] = queues.find(([id]) => /ReviewQueue/.test(id))!;
    expect(main.Properties.MessageRetentionPeriod).toBeGreaterThan(12 * 3600);
    expect(main.Properties.RedrivePolicy.maxReceiveCount).toBe(50);
    const policies = ofType('AWS::SQS::QueuePolicy').map(([, p]) => JSON.stringify(p.Properties.PolicyDocument));
    expect(policies.every((p) => p.includes('aws:SecureTransport'))).toBe(true);
  });

  test('functions get the configuration they read', () => {
    const fn = resources[syn.functions.caseFn].Properties.Environment.Variables;
    expect(fn).toMatchObject({
      REVIEW_TIMEOUT_SECONDS: '43200',
      BREAKER_MAX_PER_HOUR: '7',
      BAN_BASE_SECONDS: '86400',
      BAN_MAX_SECONDS: String(30 * 86400),
      SHADOW_MODE: 'false',
    });
    expect(fn.CONTROL_TABLE).toEqual({ Ref: expect.stringMatching(/^Control/) });
  });

  test('the expirer runs on a schedule', () => {
    syn.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [syn.functions.expirerFn, 'Arn'] } })]),
    });
  });

  test('breaker alarm watches DistillGuard/BreakerTripped', () => {
    syn.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'DistillGuard',
      MetricName: 'BreakerTripped',
      Dimensions: [{ Name: 'service', Value: 'escalate' }],
    });
  });
});

describe('IAM', () => {
  test('SendTask* is granted to nothing but the review API function, scoped to the state machine (test/escalate/review-api.test.ts evaluates it)', () => {
    const holders = policyDocs().filter(([, st]) =>
      st.some((s) => [s.Action].flat().some((a: string) => /^states:SendTask/.test(a) || a === 'states:*')),
    );
    expect(holders.map(([id]) => id)).toEqual([expect.stringMatching(/ReviewApiApiFnServiceRoleDefaultPolicy/)]);
    const st = holders[0][1].find((s) => [s.Action].flat().includes('states:SendTaskSuccess'));
    expect(st.Action.sort()).toEqual(['states:SendTaskHeartbeat', 'states:SendTaskSuccess']);
    expect(st.Resource).toEqual({ Ref: expect.stringMatching(/StateMachine/) });
  });

  test('reviewers call the review API and read the control table; they write only their claims and never touch the review queue', () => {
    const [, st] = policyDocs().find(([id]) => /ReviewerPolicy/.test(id))!;
    const actions = st.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['lambda:InvokeFunctionUrl', 'dynamodb:GetItem', 'dynamodb:Query']));
    expect(actions.filter((a: string) => /^sqs:|^states:SendTask/.test(a))).toEqual([]);
    const writes = st.filter((s) => [s.Action].flat().some((a: string) => /dynamodb:(Put|Update|Delete|BatchWrite|PartiQL)/.test(a)));
    expect(
      writes.map((s) => ({
        sid: s.Sid,
        actions: [s.Action].flat().sort(),
        keys: s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'],
      })),
    ).toEqual([{ sid: 'ClaimCases', actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem'], keys: ['CLAIM#*'] }]);
    expect(writes[0].Condition['ForAllValues:StringEquals']['dynamodb:Attributes']).not.toContain('status');
  });

  test('no statement of this construct has a bare * resource', () => {
    for (const [id, st] of policyDocs()) {
      for (const s of st) {
        const res = [s.Resource].flat();
        // X-Ray (tracing) and the CloudWatch Logs vended-delivery APIs (state machine logging) have no
        // resource-level permissions: AWS documents `*` for them.
        if (
          [s.Action]
            .flat()
            .every(
              (a: string) =>
                a.startsWith('xray:') ||
                /^logs:(Create|Get|Update|Delete|List)LogDeliver|^logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/.test(a),
            )
        )
          continue;
        expect({ id, res }).toEqual({ id, res: expect.not.arrayContaining(['*']) });
      }
    }
  });

  test('API key management only for the suspension, expiry and reinstatement functions, limited to /apikeys', () => {
    const holders = policyDocs().filter(([, st]) => st.some((s) => [s.Action].flat().includes('apigateway:PATCH')));
    const ids = holders.map(([id]) => id).sort();
    expect(ids).toHaveLength(3);
    expect(ids[0]).toMatch(/ExpirerFn/);
    expect(ids[1]).toMatch(/ReinstateFn/);
    expect(ids[2]).toMatch(/SuspensionFn/);
    for (const [, st] of holders) {
      const s = st.find((x) => [x.Action].flat().includes('apigateway:PATCH'));
      expect(JSON.stringify(s.Resource)).toMatch(/apikeys/);
    }
  });
});

describe('reinstatement is a function the operator invokes', () => {
  test('the OperatorPolicy may invoke the reinstatement and restriction functions (and no other), and holds no API key permission', () => {
    const [, st] = policyDocs().find(([id]) => /OperatorPolicy/.test(id))!;
    const invoke = st.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('lambda:')));
    expect(invoke).toHaveLength(2);
    expect(invoke.map((s) => s.Action)).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunction']);
    expect(invoke.map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': [syn.functions.reinstateFn, 'Arn'] },
      { 'Fn::GetAtt': [syn.functions.restrictFn, 'Arn'] },
    ]);
    expect(st.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('apigateway:'))).toEqual([]);
  });

  test("the reinstatement function's role: single-item reads and writes on ACCOUNT#, CASE# and OUTBOX#, and its feedback counters", () => {
    const role = resources[syn.functions.reinstateFn].Properties.Role['Fn::GetAtt'][0];
    const st = policyDocs()
      .filter(([id]) => ofType('AWS::IAM::Policy').some(([pid, r]) => pid === id && r.Properties.Roles.some((x: any) => x.Ref === role)))
      .flatMap(([, x]) => x);
    const ddb = st.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect([...new Set(ddb.flatMap((s) => [s.Action].flat()))].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    for (const s of ddb) {
      expect(s.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Control/), 'Arn'] });
      const prefixes = s.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'] as string[];
      expect(
        prefixes.every((p) => ['ACCOUNT#*', 'CASE#*', 'OUTBOX#*'].includes(p)) ||
          (s.Sid === 'CountReviewerFeedback' && prefixes.join() === 'FEEDBACK#*'),
      ).toBe(true);
    }
    expect(ddb.find((s) => s.Action === 'dynamodb:PutItem').Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys']).toEqual([
      'CASE#*',
      'OUTBOX#*',
    ]);
    syn.template.hasOutput('EscalationReinstateFunctionName', { Value: { Ref: syn.functions.reinstateFn } });
  });
});

describe('validation', () => {
  test('bad props fail with the value received', () => {
    expect(() => synthEscalation({ reviewTimeout: Duration.days(20) })).toThrow(/reviewTimeout must be between 1 second and 13 days.*20 days/);
    expect(() => synthEscalation({ banBase: Duration.days(2), banMax: Duration.days(1) })).toThrow(/banMax must be at least banBase/);
    expect(() => synthEscalation({ breakerMaxShare: 2 })).toThrow('breakerMaxShare must be in (0, 1], got 2');
    expect(() => synthEscalation({ reviewHeartbeat: Duration.days(2) })).toThrow(/reviewHeartbeat must be shorter than reviewTimeout/);
  });
});

describe('restriction: least privilege (evaluated with test/lib/policy-eval.ts)', () => {
  const withPlans = synthEscalation({ standardUsagePlanId: 'plan-std', restrictedUsagePlanId: 'plan-res' });
  const res = withPlans.json.Resources as Record<string, any>;
  const roleStatements = (fnLogicalId: string) => {
    const role = res[fnLogicalId].Properties.Role['Fn::GetAtt'][0];
    return Object.values<any>(res)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === role))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as any[]);
  };
  const arnMatches = (pattern: unknown, arn: string) => {
    let text: string;
    try {
      text = resolveTokens(pattern);
    } catch {
      return false;
    }
    return new RegExp(`^${text.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(arn);
  };
  const can = (fnLogicalId: string, action: string, arn: string, context?: Record<string, string[]>) =>
    evaluate(roleStatements(fnLogicalId), { action, resource: (r) => arnMatches(r, arn), context });
  const plan = (id: string, key = 'k1') => `arn:aws:apigateway:us-east-1::/usageplans/${id}/keys/${key}`;
  const fns = withPlans.functions;

  test('the functions that restrict and lift move keys on the two configured plans only, and create no plan', () => {
    for (const fn of [fns.suspensionFn, fns.expirerFn, fns.reinstateFn, fns.restrictFn]) {
      expect({ fn, d: can(fn, 'apigateway:DELETE', plan('plan-std')) }).toEqual({ fn, d: 'allow' });
      expect({ fn, d: can(fn, 'apigateway:POST', 'arn:aws:apigateway:us-east-1::/usageplans/plan-res/keys') }).toEqual({ fn, d: 'allow' });
      expect({ fn, d: can(fn, 'apigateway:DELETE', plan('plan-someone-elses')) }).toEqual({ fn, d: 'implicit-deny' });
      expect({ fn, d: can(fn, 'apigateway:POST', 'arn:aws:apigateway:us-east-1::/usageplans') }).toEqual({ fn, d: 'implicit-deny' });
      expect({ fn, d: can(fn, 'apigateway:PATCH', 'arn:aws:apigateway:us-east-1::/usageplans/plan-std') }).toEqual({ fn, d: 'implicit-deny' });
    }
    expect(can(fns.caseFn, 'apigateway:DELETE', plan('plan-std'))).toBe('implicit-deny');
    expect(can(fns.caseFn, 'apigateway:GET', 'arn:aws:apigateway:us-east-1::/usageplans/plan-std/keys')).toBe('implicit-deny');
  });

  test('the manual restriction function reads keys but cannot disable them, and writes only account status, audit and outbox', () => {
    const fn = fns.restrictFn;
    expect(can(fn, 'apigateway:GET', 'arn:aws:apigateway:us-east-1::/apikeys/k1')).toBe('allow');
    expect(can(fn, 'apigateway:PATCH', 'arn:aws:apigateway:us-east-1::/apikeys/k1')).toBe('implicit-deny');
    const table = (r: unknown) => JSON.stringify(r).includes('Control');
    const ddb = (action: string, pk: string) => evaluate(roleStatements(fn), { action, resource: table, context: { 'dynamodb:LeadingKeys': [pk] } });
    expect(ddb('dynamodb:UpdateItem', 'ACCOUNT#a')).toBe('allow');
    expect(ddb('dynamodb:PutItem', 'OUTBOX#e')).toBe('allow');
    expect(ddb('dynamodb:PutItem', 'CASE#OPS')).toBe('allow');
    expect(ddb('dynamodb:UpdateItem', 'CASE#c')).toBe('implicit-deny'); // cases and their audit are never rewritten
    expect(ddb('dynamodb:PutItem', 'ALLOW#a')).toBe('implicit-deny'); // it cannot allowlist
    expect(ddb('dynamodb:UpdateItem', 'BREAKER')).toBe('implicit-deny');
    expect(ddb('dynamodb:DeleteItem', 'ACCOUNT#a')).toBe('implicit-deny');
    expect(ddb('dynamodb:Scan', 'ACCOUNT#a')).toBe('implicit-deny');
  });

  test('without usage plans no function holds a usage-plan permission; plans must come in pairs', () => {
    const all = JSON.stringify(syn.json.Resources);
    expect(all).not.toMatch(/usageplans/);
    expect(() => synthEscalation({ standardUsagePlanId: 'plan-std' })).toThrow(/go together.*"restricted":null/);
  });
});
