/**
 * cdk-nag's AwsSolutions pack over the full app, in several configurations: every finding is either fixed or
 * acknowledged (with its reason) in lib/nag-acknowledgements.ts. A new unacknowledged finding fails here.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { NAG_ACKNOWLEDGEMENTS } from '../../lib/nag-acknowledgements';
import { synthStack } from './support';
import * as fs from 'fs';
import * as path from 'path';

function violations(context?: Record<string, unknown>): string[] {
  const { app, stack } = synthStack({ context });
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath}`));
}

test('default stack (demo API on): no unacknowledged AwsSolutions findings', () => {
  expect(violations()).toEqual([]);
});

test('attached to an existing stage, provisioned stream, cross-account producers/consumers, alarm e-mail: still clean', () => {
  expect(
    violations({
      demoApi: false,
      existingRestApiId: 'a1b2c3d4e5',
      existingStageName: 'prod',
      streamMode: 'PROVISIONED',
      shardCount: 4,
      usageProducerAccountIds: ['111122223333'],
      consumerAccountIds: ['444455556666'],
      organizationId: 'o-abcdefghij',
      alarmEmail: 'ops@example.com',
    }),
  ).toEqual([]);
});

test('Firehose ingestion path (delivery stream, access-log bucket, S3 notification -> SQS -> object aggregator): still clean', () => {
  expect(violations({ ingestPath: 'firehose' })).toEqual([]);
  expect(
    violations({
      ingestPath: 'firehose',
      firehoseBufferSeconds: 300,
      firehoseBufferMiB: 128,
      demoApi: false,
      existingRestApiId: 'a1b2c3d4e5',
      existingStageName: 'prod',
      dataRemovalPolicy: 'destroy',
    }),
  ).toEqual([]);
});

test('the app wires AwsSolutionsChecks as a validation plugin (bin/app.ts)', () => {
  const src = fs.readFileSync(path.join(__dirname, '../../bin/app.ts'), 'utf8') as string;
  expect(src).toMatch(/Validations\.of\(app\)\.addPlugins\(new AwsSolutionsChecks\(app\)\)/);
  expect(typeof Validations.of).toBe('function');
});

test('every acknowledgement has a specific reason', () => {
  for (const a of NAG_ACKNOWLEDGEMENTS) {
    expect(a.id).toMatch(/^AwsSolutions-[A-Z]+\d+/);
    expect(a.reason.length).toBeGreaterThan(40);
    expect(a.paths.length).toBeGreaterThan(0);
  }
});

test('docs/deploy.md lists every acknowledgement', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/deploy.md'), 'utf8') as string;
  for (const a of NAG_ACKNOWLEDGEMENTS) expect(doc).toContain(`| \`${a.id}\` |`);
});
