/**
 * Cases (with their evidence: subnets, user agents, API keys) and audit entries expire: the synthesized workflow,
 * run locally, writes each with a DynamoDB TTL `expiresAt` of its write time plus the deployment's `caseRetention`.
 */
import { Duration } from 'aws-cdk-lib';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../src/escalate/model';
import { Deployment, Harness } from './support/harness';
import { useDeployment } from './support/workflow';
import { allowlistAdd } from '../../lambdas/escalate/allowlist';

jest.setTimeout(180_000);

let h: Harness;
let dep: Deployment;
const DAY_S = 86_400;

useDeployment('retention', { caseRetention: Duration.days(90) }, (started) => ({ h, dep } = started));

test('cases and audit entries never kept forever: each gets expiresAt = written + caseRetention', async () => {
  const started = Math.floor(Date.now() / 1000);
  const exec = dep.start({
    caseId: 'case-ttl',
    accountId: 'acct-ttl',
    decision: 'review',
    score: 0.8,
    reasons: ['shared-templates'],
    reasonDetails: [],
    clusterId: null,
    relatedAccountIds: [],
    flaggedAt: Date.now(),
    evidence: {},
  });
  await h.sfn.waitForPendingTask('Review', exec, 30_000);
  const c = (await h.doc.send(new GetCommand({ TableName: dep.controlTable, Key: keys.case('case-ttl') }))).Item!;
  expect(c.evidence).toBeDefined();
  expect(c.expiresAt).toBeGreaterThanOrEqual(started + 90 * DAY_S);
  expect(c.expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 90 * DAY_S);
  const audit = (
    await h.doc.send(
      new QueryCommand({
        TableName: dep.controlTable,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :a)',
        ExpressionAttributeValues: { ':p': keys.case('case-ttl').pk, ':a': 'AUDIT#' },
      }),
    )
  ).Items!;
  expect(audit.length).toBeGreaterThanOrEqual(2);
  for (const e of audit) expect([e.action, e.expiresAt]).toEqual([e.action, Math.floor(Date.parse(e.at) / 1000) + 90 * DAY_S]);

  // operator entries (allowlist, breaker, shadow) too, with the store's retention
  const store = dep.store();
  await allowlistAdd(store, { accountId: 'acct-ttl', owner: 'ops', reason: 'test', expiresAtMs: Date.now() + 3_600_000, actor: 'local:op' });
  const ops = (await store.auditTrail(keys.opsAuditCase())).filter((e) => e.action === 'allowlist-added');
  expect(ops.length).toBeGreaterThan(0);
  expect(ops.every((e) => typeof e.expiresAt === 'number' && e.expiresAt > started)).toBe(true);
});

test('a retention shorter than a suspension plus its review is refused', async () => {
  await expect(h.deploy('retention-short', { caseRetention: Duration.days(20), banMax: Duration.days(30) })).rejects.toThrow(
    /caseRetention must cover banMax plus reviewTimeout/,
  );
});
