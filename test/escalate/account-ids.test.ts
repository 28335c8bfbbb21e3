/**
 * Accounts with ordinary provider ids can never be suspended, end to end on this machine:
 * access logs (CloudWatch Logs envelopes) and usage events -> the aggregator's batch logic -> the features table ->
 * the scorer (real SFN client against the local Step Functions endpoint) -> the SYNTHESIZED escalation state
 * machine -> a case -> review approval -> suspension (status, API key disabled).
 *
 * Campaign accounts of the detection fixture population are renamed to ids with `|`, `/`, `+`, `#`, spaces, 128+
 * characters and non-ASCII. Also: a same-day execution that failed before opening its case is not "already open".
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { gzipSync } from 'node:zlib';
import { Deployment, Harness, startHarness } from './support/harness';
import { putHourlyWindows } from './support/workflow';
import { localClientConfig } from '../../local/services/clients';
import { processBatch } from '../../lambdas/aggregate/core';
import { caseIdFor, runScorer } from '../../lambdas/detect/scorer-core';
import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { keys as tableKeys } from '../../src/escalate/model';
import { kinesisRecord } from '../../bench/kinesis-records';
import { HOUR, T0, population, toLog, toUsage } from '../detect/fixtures';
import { ODD_IDS } from '../ingest/odd-ids';
import { reinstate } from '../../lambdas/escalate/reinstatement';

jest.setTimeout(600_000);

const GROUP = '/aws/apigateway/distill-guard-access-logs';
const NOW = T0 + 3 * 24 * HOUR;

let h: Harness;
let dep: Deployment;

beforeAll(async () => {
  h = await startHarness();
  dep = await h.deploy('ids', { breakerMaxPerHour: 100 });
}, 300_000);
afterAll(async () => {
  await h?.stop();
});

/** cot_0..cot_5 (a synchronized CoT-harvest cluster) get ids an identity provider could hand out. */
const RENAME: Record<string, string> = {
  cot_0: 'auth0|abc123',
  cot_1: 'org/team-a/user+1',
  cot_2: 'acct#42 Jane Doe',
  cot_3: 'long-' + 'x'.repeat(140),
  // Non-ASCII in the Basic Multilingual Plane: the local SQS emulator (fauxqs 1.9) refuses astral characters such
  // as emoji in message bodies, which SQS accepts (#x10000-#x10FFFF); ingest and names handle them
  // (test/ingest/account-id.test.ts, test/aggregate/hardening.test.ts).
  cot_4: 'kunde-müller-東京',
  cot_5: ODD_IDS.find((id) => id.length === 256)!,
};

const execArn = (caseId: string) => dep.stateMachineArn.replace(':stateMachine:', ':execution:') + ':' + caseId;

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('ingest -> scorer -> workflow: every odd id gets a case and can be suspended; a failed same-day start is not "already open"', async () => {
  const ddb = new DynamoDBClient(localClientConfig('dynamodb', h.ddb.endpoint));
  const sfn = new SFNClient(localClientConfig('sfn', h.sfn.endpoint));

  // 1. Ingest: access logs in CloudWatch Logs envelopes from the access-log group, usage events as a producer puts them.
  const pop = population();
  const logs: string[] = [];
  const usage: string[] = [];
  for (const r of pop.reqs) {
    const req = { ...r, accountId: RENAME[r.accountId] ?? r.accountId };
    // API Gateway request ids are UUID-sized; the fixture's embed the account id (too long for a 256-character one).
    const log = { ...toLog(req), requestId: `req-${logs.length}` };
    logs.push(JSON.stringify(log));
    if (req.promptClass) usage.push(JSON.stringify(toUsage(req, log)));
  }
  // Lines ingest must refuse (counted, never a failed batch): control characters, a lone surrogate, 257 characters.
  for (const bad of ['auth0|abc\u0000', 'fox-\ud83e', 'y'.repeat(257)]) logs.push(JSON.stringify(toLog({ ...pop.reqs[0], accountId: bad })));
  const records = [];
  for (let i = 0; i < logs.length; i += 200) {
    const env = {
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: GROUP,
      logStream: 's',
      subscriptionFilters: ['f'],
      logEvents: logs.slice(i, i + 200).map((message, k) => ({ id: String(i + k), timestamp: NOW, message })),
    };
    records.push(gzipSync(JSON.stringify(env)).toString('base64'));
  }
  for (let i = 0; i < usage.length; i += 200) records.push(gzipSync(usage.slice(i, i + 200).join('\n')).toString('base64'));
  let skippedIds = 0;
  for (let i = 0; i < records.length; i += 100) {
    const out = await processBatch(
      records.slice(i, i + 100).map((d, k) => kinesisRecord(d, 0, i + k)),
      { ddb, tableName: dep.featuresTable, retentionDays: 30, now: () => NOW, accessLogGroups: [GROUP], writeConcurrency: 32 },
    );
    expect(out.response.batchItemFailures).toEqual([]);
    skippedIds += out.stats.byReason['bad-account-id'] ?? 0;
  }
  expect(skippedIds).toBe(3);

  // API keys owned by the renamed accounts (the suspension disables them).
  const keys = Object.entries(RENAME).map(([original, id]) => h.apigw.createApiKey({ name: `${original}-key`, customerId: id, enabled: true }));

  // 2. cot_6's execution for today already ran and failed before opening its case (its input was refused).
  const failedCase = caseIdFor('cot_6', NOW);
  const failedArn = dep.start({ caseId: failedCase, accountId: 'cot_6', decision: 'ban', score: 1, reasons: [] });
  expect((await h.sfn.waitForExecution(failedArn, 60_000)).status).toBe('FAILED');

  // 3. The scorer: scores, then starts one execution per flagged account (execution name = case id).
  const summary = await runScorer({
    ddb,
    sfn,
    featuresTable: dep.featuresTable,
    controlTable: dep.controlTable,
    stateMachineArn: dep.stateMachineArn,
    config: DEFAULT_DETECTION_CONFIG,
    lookbackHours: 72,
    now: NOW,
  });
  expect(summary.casesStartFailed).toBe(1);
  expect(summary.startFailures).toEqual([{ accountId: 'cot_6', caseId: failedCase, reason: expect.stringMatching(/opened no case/) }]);
  expect(summary.casesStarted).toBeGreaterThanOrEqual(Object.keys(RENAME).length);

  // 4. Each odd id: a case, a review task, approval, suspension.
  const op = dep.operator('local:reviewer-ids');
  for (const [original, id] of Object.entries(RENAME)) {
    const caseId = caseIdFor(id, NOW);
    expect([original, caseId]).toEqual([original, expect.stringMatching(/^[A-Za-z0-9_-]{1,80}$/)]);
    const score = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: tableKeys.accountScore(id) }))).Item;
    expect([original, score?.decision]).toEqual([original, expect.stringMatching(/^(review|suspend)$/)]);
    const c = await waitFor(
      `case of ${original}`,
      async () => (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: `CASE#${caseId}`, sk: 'CASE' } }))).Item,
    );
    expect(c.accountId).toBe(id);
    if (score!.decision === 'review') {
      await h.sfn.waitForPendingTask('Review', execArn(caseId), 60_000);
      await op.decide(caseId, true, `e2e: ${original} is part of the campaign`);
    }
    expect([original, (await h.sfn.waitForExecution(execArn(caseId), 60_000)).status]).toEqual([original, 'SUCCEEDED']);
    const status = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: `ACCOUNT#${id}`, sk: 'STATUS' } }))).Item;
    expect([original, status?.status, status?.accountId]).toEqual([original, 'suspended', id]);
    expect((await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: `CASE#${caseId}`, sk: 'CASE' } }))).Item).toMatchObject({
      state: 'closed',
      outcome: 'suspended',
    });
  }
  for (const k of keys) expect([k.customerId, h.apigw.apiKeys().find((x) => x.id === k.id)?.enabled]).toEqual([k.customerId, false]);

  // 5. And reinstatement by an operator works for them too (the console and CLI use the same store).
  const id = RENAME.cot_0;
  await reinstate(dep.store(), { accountId: id, actor: 'local:ops', reason: 'e2e: reinstated', kind: 'manual' });
  expect((await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: `ACCOUNT#${id}`, sk: 'STATUS' } }))).Item?.status).toBe('active');
  ddb.destroy();
  sfn.destroy();
});

test('a model named `constructor`: the case evidence is recorded with its totals (the marshaller no longer refuses it)', async () => {
  const accountId = 'acct-constructor';
  await putHourlyWindows(h, dep, accountId, 2, () => ({
    n: 10,
    'm:constructor': 6,
    'm:toString': 3,
    'm:model-a': 1,
    'pc:cot_elicitation': 4,
    'mm:1': 2,
  }));
  const caseId = 'case-constructor-model';
  const arn = dep.start({
    caseId,
    accountId,
    decision: 'review',
    score: 0.8,
    reasons: ['cot-elicitation'],
    relatedAccountIds: [],
    flaggedAt: Date.now(),
    evidence: { features: { models: { constructor: 12 } } },
  });
  await h.sfn.waitForPendingTask('Review', arn, 60_000);
  const c = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk: `CASE#${caseId}`, sk: 'CASE' } }))).Item!;
  expect(c.evidence.totals.models).toEqual({ constructor: 12, toString: 6, 'model-a': 2 });
  expect(c.evidence.totals.requests).toBe(20);
  expect(c.evidence.scorer).toEqual({ features: { models: { constructor: 12 } } });
  await dep.operator().decide(caseId, false, 'clean up the test case');
  expect((await h.sfn.waitForExecution(arn, 60_000)).status).toBe('SUCCEEDED');
});
