/**
 * The optional indicator-sharing construct: off by default; when added, a KMS-encrypted, versioned, TLS-only,
 * non-public bucket with per-partner prefixes, a scheduled exporter with least privilege, and cdk-nag stays clean.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DistillGuardStack } from '../../../lib/distill-guard-stack';
import { HANDLER_ENTRIES } from '../../../lib/shared/handler-bundles';
import { synthStack } from '../support';

function withSharing() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new DistillGuardStack(app, 'DistillGuard');
  const key = new secretsmanager.Secret(stack, 'GlobexSharingKey', { description: 'sharing key agreed with Globex' });
  // The operator's own secret: a key agreed with a partner rotates by agreement, not on a schedule (docs/indicators.md).
  Validations.of(key.node.defaultChild!).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'rotated by agreement with the partner' });
  stack.guard.addIndicatorSharing({
    producer: 'Acme AI',
    partners: [{ name: 'globex', keyId: 'acme-globex-2026-12', keySecret: key, principals: [new iam.AccountPrincipal('444455556666')] }],
  });
  return { app, stack, template: Template.fromStack(stack) };
}

test('off by default: no sharing bucket, no exporter', () => {
  const { template } = synthStack();
  expect(JSON.stringify(template.toJSON())).not.toContain('IndicatorSharing');
});

describe('with a partner', () => {
  const { app, stack, template: t } = withSharing();

  test('bucket: KMS, versioned, public access blocked, TLS only, access logs', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.anyValue(),
    });
    const policies = JSON.stringify(t.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toContain('aws:SecureTransport');
    expect(policies).toContain('partners/globex/*');
    expect(policies).toContain('inbound/globex/*');
  });

  test('the exporter writes only partner prefixes and puts only its own event', () => {
    const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('PutIndicatorsExported');
    expect(policies).toContain('Indicators Exported');
    expect(policies).toContain('WritePartnerPrefixes');
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
  });

  test("the scorer reads partners' inbound bundles, and only those", () => {
    const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('ReadPartnerBundles');
    expect(policies).toContain('inbound/*');
    const scorer = Object.values(t.findResources('AWS::Lambda::Function')).find((f) => JSON.stringify(f).includes('distill-guard-scorer'));
    expect(JSON.stringify(scorer)).toContain('SHARING_PARTNERS');
  });

  test('cdk-nag AwsSolutions: no unacknowledged findings', () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const v = report.violations.flatMap((x) =>
      x.violatingResources.map((r) => `${x.ruleName} at ${(r as { constructPath?: string }).constructPath}`),
    );
    expect(v).toEqual([]);
  });
});

test('refuses a bad partner name and an empty partner list', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new DistillGuardStack(app, 'DistillGuard');
  const key = new secretsmanager.Secret(stack, 'K');
  expect(() =>
    stack.guard.addIndicatorSharing({
      producer: 'x',
      partners: [{ name: 'Bad Name', keyId: 'k', keySecret: key, principals: [new iam.AccountPrincipal('444455556666')] }],
    }),
  ).toThrow(/partner name must be lowercase letters, digits and '-', got "Bad Name"/);
  expect(() => stack.guard.addIndicatorSharing({ producer: 'x', partners: [] })).toThrow(/needs at least one partner, got none/);
});

test("every handler a construct deploys is pre-built for the package (the installed package's synth bundles nothing)", () => {
  const root = path.join(__dirname, '..', '..', '..');
  const entries = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
      if (f.isDirectory()) walk(path.join(dir, f.name));
      else if (f.name.endsWith('.ts'))
        for (const m of fs.readFileSync(path.join(dir, f.name), 'utf8').matchAll(/entry: '(lambdas\/[^']+\.ts)'/g)) entries.add(m[1]);
    }
  };
  walk(path.join(root, 'lib'));
  expect(entries).toContain('lambdas/share/exporter.ts');
  expect([...entries].filter((e) => !(HANDLER_ENTRIES as readonly string[]).includes(e))).toEqual([]);
});
