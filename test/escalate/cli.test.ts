/**
 * The operators' CLI as a user runs it (`node bin/distill-guard.js ...`), against the local pipeline described by an
 * endpoints file in the format `npm start` writes (.local/endpoints.json): review list/show/approve, allowlist,
 * breaker, reinstate; errors are one clear line and a non-zero exit.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { Deployment, Harness, startHarness } from './support/harness';

jest.setTimeout(240_000);

const ROOT = path.join(__dirname, '..', '..');
let h: Harness;
let dep: Deployment;
let endpointsFile: string;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'bin', 'distill-guard.js'), ...args, '--endpoints', endpointsFile],
      { cwd: ROOT, env: { ...process.env, DISTILL_GUARD_REVIEWER: 'cli-tester', NODE_NO_WARNINGS: '1' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  h = await startHarness();
  dep = await h.deploy('cli');
  endpointsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dg-cli-')), 'endpoints.json');
  fs.writeFileSync(
    endpointsFile,
    JSON.stringify({
      version: 1,
      region: 'us-east-1',
      endpoints: { dynamodb: h.ddb.endpoint, sqs: h.sqs.endpoint, sfn: h.sfn.endpoint, api_gateway: h.apigw.endpoint, lambda: h.lambda.endpoint },
      resources: { controlTable: dep.controlTable, featuresTable: dep.featuresTable, stateMachineArn: dep.stateMachineArn, reviewQueueUrl: dep.queueUrl, reviewApiUrl: dep.reviewApiUrl, reinstateFunction: dep.reinstateFunction },
    }),
  );
});
afterAll(async () => {
  await h?.stop();
});

test('review list, show, approve, suspended, reinstate', async () => {
  const key = h.apigw.createApiKey({ name: 'k', customerId: 'acct-cli', enabled: true });
  await h.doc.send(new PutCommand({ TableName: dep.featuresTable, Item: { pk: 'A#acct-cli', sk: `W#${String(Math.floor(Date.now() / 3_600_000) * 3_600_000).padStart(13, '0')}`, n: 42, 'm:claude-opus-5': 42, key: new Set([key.id]) } }));
  const exec = dep.start({ caseId: 'case-cli', accountId: 'acct-cli', decision: 'review', score: 0.88, reasons: ['shared-templates'], clusterId: null, relatedAccountIds: [], flaggedAt: Date.now(), evidence: {} });
  await h.sfn.waitForPendingTask('Review', exec, 30_000);

  const list = await cli('review', 'list');
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/CASE\s+ACCOUNT\s+STATE/);
  expect(list.stdout).toMatch(/case-cli\s+acct-cli\s+review\s+review\s+0\.88/);
  const json = JSON.parse((await cli('review', 'list', '--json')).stdout);
  expect(json[0]).toMatchObject({ caseId: 'case-cli', remainingMs: expect.any(Number) });

  const show = await cli('review', 'show', 'case-cli');
  expect(show.code).toBe(0);
  expect(show.stdout).toContain('models    claude-opus-5 42');
  expect(show.stdout).toContain('case-opened');
  expect(show.stdout).not.toMatch(/taskToken/i);

  const noReason = await cli('review', 'approve', 'case-cli');
  expect(noReason.code).not.toBe(0);
  expect(noReason.stderr).toMatch(/required option '--reason <text>'/);

  const ok = await cli('review', 'approve', 'case-cli', '--reason', 'confirmed by the cli test');
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain('approved case-cli as arn:aws:iam::000000000000:user/cli-tester'); // the signed local principal
  expect(ok.stdout + ok.stderr).not.toMatch(/AAAA|taskToken/);
  expect((await h.sfn.waitForExecution(exec, 30_000)).status).toBe('SUCCEEDED');

  const again = await cli('review', 'approve', 'case-cli', '--reason', 'twice');
  expect(again.code).toBe(1);
  expect(again.stderr.trim()).toBe('distill-guard: case case-cli is not waiting for review (state closed, outcome suspended)');

  const suspended = await cli('review', 'suspended');
  expect(suspended.stdout).toMatch(/acct-cli\s+\S+Z\s+1\s+case-cli\s+arn:aws:iam::000000000000:user\/cli-tester/);
  expect(h.apigw.apiKeys().find((k) => k.id === key.id)!.enabled).toBe(false);

  const re = await cli('review', 'reinstate', 'acct-cli', '--reason', 'appeal granted');
  expect(re.code).toBe(0);
  expect(re.stdout).toContain(`API keys re-enabled: ${key.id}`);
  expect(h.apigw.apiKeys().find((k) => k.id === key.id)!.enabled).toBe(true);
  const trail = await cli('review', 'show', 'case-cli');
  expect(trail.stdout).toMatch(/local:cli-tester\s+reinstated\s+appeal granted/);
});

test('allowlist and breaker', async () => {
  const add = await cli('allowlist', 'add', 'acct-partner', '--owner', 'bizdev', '--reason', 'eval partner', '--expires', '14d');
  expect(add.code).toBe(0);
  expect(add.stdout).toMatch(/allowlisted acct-partner until \S+ \(owner bizdev\)/);
  expect((await cli('allowlist', 'list')).stdout).toMatch(/acct-partner\s+bizdev\s+\S+\s+local:cli-tester\s+eval partner/);
  const bad = await cli('allowlist', 'add', 'acct-x', '--owner', 'o', '--reason', 'r', '--expires', 'someday');
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("--expires must be a duration like 7d, 12h, 90m or an ISO date, got 'someday'");
  expect((await cli('allowlist', 'remove', 'acct-partner', '--reason', 'done')).code).toBe(0);
  const missing = await cli('allowlist', 'remove', 'acct-partner', '--reason', 'done');
  expect(missing.stderr.trim()).toBe('distill-guard: account acct-partner is not on the allowlist');

  const status = await cli('breaker', 'status');
  expect(status.stdout).toContain('armed (auto-suspend allowed)');
  const rearm = await cli('breaker', 'rearm', '--reason', 'drill');
  expect(rearm.stdout).toContain('breaker re-armed by local:cli-tester');
});
