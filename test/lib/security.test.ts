/**
 * Stack-level security properties of the composed app (docs/security.md): the stack's key encrypts every log group
 * and the state machine; the IP hash key is a per-deployment secret only the aggregators read, and a synth that would
 * fall back to the public key fails; cases and audit entries get a bounded retention.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DistillGuardStack } from '../../lib/distill-guard-stack';
import { STACK_KEY_ID } from '../../lib/shared/stack-key';
import { iamStatements, resourcesOf, synthStack } from './support';

const byType = (template: Template, type: string) => resourcesOf(template, type);
const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('default stack', () => {
  const { template } = synthStack();
  const json = template.toJSON() as { Resources: Record<string, any> };
  const stackKey = Object.keys(json.Resources).find((id) => id.startsWith(STACK_KEY_ID))!;
  const functionRole = (pattern: RegExp) => {
    const [, fn] = byType(template, 'AWS::Lambda::Function').find(([id]) => pattern.test(id))!;
    return fn.Properties.Role['Fn::GetAtt'][0] as string;
  };
  const statementsOf = (owner: RegExp) =>
    iamStatements(template)
      .filter((s) => owner.test(s.owner))
      .map((s) => s.statement);

  test('lambda and workflow log groups are encrypted with the stack key, which CloudWatch Logs may use for this account only', () => {
    const groups = byType(template, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(8);
    expect(groups.filter(([, g]) => !g.Properties.KmsKeyId).map(([id]) => id)).toEqual([]);
    for (const [id, g] of groups.filter(([gid]) => /Fn.*Logs|FunctionLogs|PublisherLogs|SweeperLogs|WorkflowLogs/.test(gid))) {
      expect([id, g.Properties.KmsKeyId]).toEqual([id, arnOf(stackKey)]);
    }
    const keyPolicy = json.Resources[stackKey].Properties.KeyPolicy.Statement as any[];
    const logs = keyPolicy.find((s) => s.Sid === 'AllowCloudWatchLogsForThisAccountsLogGroups');
    expect(logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).toBeDefined();
    expect(json.Resources[stackKey].Properties.EnableKeyRotation).toBe(true);
  });

  test('the state machine is encrypted with the stack key, and its callers may use the key for its data only', () => {
    const [smId, sm] = byType(template, 'AWS::StepFunctions::StateMachine')[0];
    expect(sm.Properties.EncryptionConfiguration).toEqual({
      Type: 'CUSTOMER_MANAGED_KMS_KEY',
      KmsKeyId: arnOf(stackKey),
      KmsDataKeyReusePeriodSeconds: 300,
    });
    const scopedToWorkflow = (s: any) =>
      [].concat(s.Action).includes('kms:GenerateDataKey' as never) &&
      JSON.stringify(s.Resource) === JSON.stringify(arnOf(stackKey)) &&
      JSON.stringify(s.Condition) === JSON.stringify({ StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': ref(smId) } });
    expect(statementsOf(/StateMachineKeyPolicy/).some(scopedToWorkflow)).toBe(true); // the execution role
    expect(statementsOf(/^GuardScorerFunctionServiceRoleDefaultPolicy/).some(scopedToWorkflow)).toBe(true); // StartExecution
    expect(statementsOf(/ReviewerPolicy/).some(scopedToWorkflow)).toBe(true); // SendTask*
  });

  test('stored IP hashes are not reversible: a generated per-deployment secret, encrypted with the stack key, that only the aggregator reads', () => {
    const secrets = byType(template, 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const [secretId, secret] = secrets[0];
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    expect(secret.Properties.KmsKeyId).toEqual(arnOf(stackKey));
    expect(secret.DeletionPolicy).toBe('Retain');
    const [, aggregator] = byType(template, 'AWS::Lambda::Function').find(([id]) => /^GuardAggregatorFunction/.test(id))!;
    expect(aggregator.Properties.Environment.Variables.IP_HASH_SECRET_ARN).toEqual(ref(secretId));
    // secretsmanager:* only in the aggregator's role, only on this secret
    const readers = iamStatements(template).filter(({ statement }) =>
      [].concat(statement.Action).some((a: string) => a.startsWith('secretsmanager:')),
    );
    expect(readers.map((r) => r.owner)).toEqual([expect.stringMatching(/^GuardAggregatorFunctionServiceRoleDefaultPolicy/)]);
    expect(readers[0].statement.Resource).toEqual(ref(secretId));
    // and the key decrypts secrets for the aggregator's role only through Secrets Manager
    const decrypters = (json.Resources[stackKey].Properties.KeyPolicy.Statement as any[]).filter((s) => s.Principal?.AWS?.['Fn::GetAtt']);
    expect(decrypters.map((s) => [s.Principal.AWS['Fn::GetAtt'][0], s.Action, Object.keys(s.Condition.StringEquals)])).toEqual([
      [functionRole(/^GuardAggregatorFunction/), 'kms:Decrypt', ['kms:ViaService']],
    ]);
  });

  test('cases and audit entries expire: the escalation functions carry the retention (365 days by default)', () => {
    const escalation = byType(template, 'AWS::Lambda::Function').filter(([id]) => /^GuardEscalation(CaseFn|SuspensionFn|ExpirerFn)/.test(id));
    expect(escalation).toHaveLength(3);
    for (const [, fn] of escalation) expect(fn.Properties.Environment.Variables.CASE_RETENTION_DAYS).toBe('365');
    const [, table] = byType(template, 'AWS::DynamoDB::Table').find(([id]) => /^GuardControlTable/.test(id))!;
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });
});

test('the Firehose path reads the same secret: both aggregators hash with one key', () => {
  const { template } = synthStack({ context: { ingestPath: 'firehose' } });
  const [secretId] = byType(template, 'AWS::SecretsManager::Secret').map(([id]) => id);
  const withKey = byType(template, 'AWS::Lambda::Function').filter(([, fn]) => fn.Properties.Environment?.Variables?.IP_HASH_SECRET_ARN);
  expect(withKey.map(([id, fn]) => [id.replace(/[0-9A-F]{8}$/, ''), fn.Properties.Environment.Variables.IP_HASH_SECRET_ARN])).toEqual([
    ['GuardAggregatorFunction', ref(secretId)],
    ['GuardObjectAggregatorFunction', ref(secretId)],
  ]);
});

test('a synth that would hash IPs with the public default key fails with a clear message, unless the app is marked as a demo', () => {
  expect(() => synthStack({ context: { publicIpHashKey: true } })).toThrow(
    /would hash source IPs with the public default key.*distill-guard:demo=true/,
  );
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'distill-guard:demo': true, 'distill-guard': { publicIpHashKey: true } } });
  const template = Template.fromStack(new DistillGuardStack(app, 'Demo'));
  template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  const [, aggregator] = byType(template, 'AWS::Lambda::Function').find(([id]) => /^GuardAggregatorFunction/.test(id))!;
  expect(aggregator.Properties.Environment.Variables.IP_HASH_SECRET_ARN).toBeUndefined();
});

test('case retention is a setting, and one shorter than a suspension is refused', () => {
  const { template } = synthStack({ context: { caseRetentionDays: 90 } });
  const fns = byType(template, 'AWS::Lambda::Function').filter(([id]) => /^GuardEscalationCaseFn/.test(id));
  expect(fns[0][1].Properties.Environment.Variables.CASE_RETENTION_DAYS).toBe('90');
  expect(() => synthStack({ context: { caseRetentionDays: 30, banMaxDays: 30 } })).toThrow(
    /'caseRetentionDays' must cover 'banMaxDays' plus the review timeout.*caseRetentionDays 30, banMaxDays 30/,
  );
});
