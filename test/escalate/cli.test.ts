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
      resources: {
        controlTable: dep.controlTable,
        featuresTable: dep.featuresTable,
        stateMachineArn: dep.stateMachineArn,
        reviewQueueUrl: dep.queueUrl,
        reviewApiUrl: dep.reviewApiUrl,
        reinstateFunction: dep.reinstateFunction,
        clusterDecisionFunction: dep.clusterDecisionFunction,
      },
    }),
  );
});
afterAll(async () => {
  await h?.stop();
});

test('review list, show, approve, suspended, reinstate', async () => {
  const key = h.apigw.createApiKey({ name: 'k', customerId: 'acct-cli', enabled: true });
  await h.doc.send(
    new PutCommand({
      TableName: dep.featuresTable,
      Item: {
        pk: 'A#acct-cli',
        sk: `W#${String(Math.floor(Date.now() / 3_600_000) * 3_600_000).padStart(13, '0')}`,
        n: 42,
        'm:claude-opus-5': 42,
        key: new Set([key.id]),
      },
    }),
  );
  const exec = dep.start({
    caseId: 'case-cli',
    accountId: 'acct-cli',
    decision: 'review',
    score: 0.88,
    reasons: ['shared-templates'],
    clusterId: null,
    relatedAccountIds: [],
    flaggedAt: Date.now(),
    evidence: {},
  });
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
  expect(bad.code).toBe(2); // a usage error
  expect(bad.stderr).toContain(
    "option '--expires <when>' argument 'someday' is invalid. expected a duration like 7d, 12h, 90m or an ISO date, got 'someday'",
  );
  expect((await cli('allowlist', 'remove', 'acct-partner', '--reason', 'done')).code).toBe(0);
  const missing = await cli('allowlist', 'remove', 'acct-partner', '--reason', 'done');
  expect(missing.stderr.trim()).toBe('distill-guard: account acct-partner is not on the allowlist');

  const status = await cli('breaker', 'status');
  expect(status.stdout).toContain('armed (auto-suspend allowed)');
  const rearm = await cli('breaker', 'rearm', '--reason', 'drill');
  expect(rearm.stdout).toContain('breaker re-armed by local:cli-tester');
});

test('review list sorts, filters and shows claims; claim, next, release; audit list; signals', async () => {
  const a = dep.start({
    caseId: 'case-cli-a',
    accountId: 'acct-cli-a',
    decision: 'review',
    score: 0.61,
    reasons: ['model-pivot'],
    clusterId: null,
    relatedAccountIds: [],
    flaggedAt: Date.now(),
    evidence: {},
  });
  await h.sfn.waitForPendingTask('Review', a, 30_000);
  const b = dep.start({
    caseId: 'case-cli-b',
    accountId: 'acct-cli-b',
    decision: 'review',
    score: 0.97,
    reasons: ['shared-templates', 'cot-elicitation'],
    clusterId: 'c-7',
    relatedAccountIds: ['acct-cli-a'],
    flaggedAt: Date.now(),
    evidence: {},
  });
  await h.sfn.waitForPendingTask('Review', b, 30_000);

  const byScore = await cli('review', 'list', '--sort', 'score');
  expect(byScore.code).toBe(0);
  expect(byScore.stdout).toMatch(/CLUSTER\s+CLAIMED BY\s+REASONS/);
  expect(byScore.stdout.indexOf('case-cli-b')).toBeLessThan(byScore.stdout.indexOf('case-cli-a'));
  expect(byScore.stdout).toMatch(/case-cli-b\s+acct-cli-b\s+review\s+review\s+0\.97\s+\S+\s+\S+\s+c-7 \(2\)\s+-\s+shared-templates,cot-elicitation/);
  const filtered = JSON.parse((await cli('review', 'list', '--signal', 'model-pivot', '--json')).stdout);
  expect(filtered.map((c: { caseId: string }) => c.caseId)).toEqual(['case-cli-a']);
  const old = await cli('review', 'list', '--reason', 'model-pivot', '--json'); // the old name still works, with a notice
  expect(JSON.parse(old.stdout).map((c: { caseId: string }) => c.caseId)).toEqual(['case-cli-a']);
  expect(old.stderr.trim()).toBe('distill-guard: --reason is deprecated, use --signal');
  expect(JSON.parse((await cli('review', 'list', '--find', 'CLI-B', '--json')).stdout).map((c: { caseId: string }) => c.caseId)).toEqual([
    'case-cli-b',
  ]);
  const badSort = await cli('review', 'list', '--sort', 'size');
  expect(badSort).toMatchObject({
    code: 2,
    stderr: expect.stringContaining(`argument 'size' is invalid. sort must be one of age, score, deadline, cluster, got "size"`),
  });

  const claim = await cli('review', 'claim', 'case-cli-a');
  expect(claim.stdout).toMatch(/^claimed case-cli-a as local:cli-tester until \S+Z/);
  expect((await cli('review', 'list')).stdout).toMatch(/case-cli-a\s+acct-cli-a.*local:cli-tester\s+model-pivot/);
  const next = await cli('review', 'next', '--after', 'case-cli-a', '--sort', 'score');
  expect(next.stdout).toContain('next: case-cli-b  account acct-cli-b  score 0.97');
  expect((await cli('review', 'release', 'case-cli-b')).stdout).toContain('released case-cli-b');

  expect((await cli('review', 'reject', 'case-cli-a', '--reason', 'organic pivot to the new model')).code).toBe(0);
  expect((await cli('review', 'approve', 'case-cli-b', '--reason', 'templates shared with the c-7 cluster')).code).toBe(0);
  for (const e of [a, b]) expect((await h.sfn.waitForExecution(e, 30_000)).status).toBe('SUCCEEDED');

  const audit = await cli('audit', 'list', '--actor', 'cli-tester', '--since', '1h');
  expect(audit.code).toBe(0);
  expect(audit.stdout).toMatch(/WHEN \(UTC\)\s+ACTOR\s+ACTION\s+CASE\s+ACCOUNT\s+REASON/);
  expect(audit.stdout).toMatch(
    /arn:aws:iam::000000000000:user\/cli-tester\s+review-rejected\s+case-cli-a\s+acct-cli-a\s+organic pivot to the new model/,
  );
  const auditJson = JSON.parse((await cli('audit', 'list', '--account', 'acct-cli-b', '--json')).stdout);
  expect(auditJson.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['case-opened', 'review-approved', 'suspended']));
  expect(auditJson.every((e: { accountId: string }) => e.accountId === 'acct-cli-b')).toBe(true);
  const csv = await cli('audit', 'list', '--account', 'acct-cli-a', '--csv');
  expect(csv.stdout.split('\r\n')[0]).toBe('at,actor,action,caseId,accountId,reason,details');
  expect(await cli('audit', 'list', '--since', 'last week')).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("since must be a duration like 7d, 12h, 90m or an ISO date, got 'last week'"),
  });

  const signals = JSON.parse((await cli('signals', '--json')).stdout);
  expect(signals.signals.find((s: { name: string }) => s.name === 'model-pivot')).toMatchObject({ rejected: 1, overturned: 1 });
  expect(signals.signals.find((s: { name: string }) => s.name === 'cot-elicitation')).toMatchObject({ approved: 1, confirmed: 1 });
  expect(signals.combinations.find((s: { name: string }) => s.name === 'cot-elicitation+shared-templates')).toMatchObject({ approved: 1 });
  expect((await cli('signals')).stdout).toMatch(/SIGNAL\s+CONFIRMED\s+OVERTURNED\s+APPROVED\s+REJECTED\s+REINSTATED\s+OVERTURN RATE/);
});

test('cluster list, show, decide with an exclusion', async () => {
  const ids = ['acct-cl1', 'acct-cl2'];
  const execs = ids.map((a) =>
    dep.start({
      caseId: `case-${a}`,
      accountId: a,
      decision: 'review',
      score: 0.8,
      reasons: ['shared-templates'],
      reasonDetails: [{ signal: 'shared-templates', value: 2, baseline: 0, text: '2 templates shared in the cluster' }],
      clusterId: 'c-cli',
      relatedAccountIds: [],
      flaggedAt: Date.now(),
      evidence: {},
    }),
  );
  for (const e of execs) await h.sfn.waitForPendingTask('Review', e, 30_000);
  const list = await cli('cluster', 'list');
  expect(list).toMatchObject({ code: 0, stdout: expect.stringContaining('c-cli.g1') });
  const show = await cli('cluster', 'show', 'c-cli.g1');
  expect(show.code).toBe(0);
  expect(show.stdout).toMatch(/members\s+2\s+\(review 2\)/);
  expect(show.stdout).toContain('shared-templates: 2 templates shared in the cluster');
  const bad = await cli('cluster', 'decide', 'c-cli.g1', '--approve', '--reason', 'one campaign', '--exclude', 'acct-cl2');
  expect(bad).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("option '--exclude <account:reason...>' argument 'acct-cl2' is invalid. expected ACCOUNT:REASON, got 'acct-cl2'"),
  });
  const r = await cli('cluster', 'decide', 'c-cli.g1', '--approve', '--reason', 'one campaign', '--exclude', 'acct-cl2:partner test account');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('approved c-cli.g1 as local:cli-tester: 1 members decided');
  expect(r.stdout).toContain('excluded: acct-cl2 (partner test account)');
  expect((await h.sfn.waitForExecution(execs[0], 30_000)).status).toBe('SUCCEEDED');
  expect(h.sfn.pendingTasks(execs[1]).map((t) => t.stateName)).toEqual(['Review']);
});
