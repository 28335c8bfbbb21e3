/**
 * Which clusters the scheduled exporter may share, read from the escalation store on the synthesized escalation
 * workflow run locally (DynamoDB Local): a cluster a reviewer approved is confirmed (its excluded members left
 * out); one a reviewer rejected, or still waiting for review, is not.
 */
import { Deployment, Harness } from '../escalate/support/harness';
import { clusterMemberInput, useDeployment } from '../escalate/support/workflow';
import { decideCluster } from '../../ops/cluster-operator';
import { confirmedClusters } from '../../lambdas/share/exporter-core';

jest.setTimeout(600_000);

let h: Harness;
let dep: Deployment;
useDeployment('share', { breakerMaxPerHour: 100 }, (started) => ({ h, dep } = started));

const input = (accountId: string, clusterId: string) => clusterMemberInput(accountId, clusterId, 2, { size: 3, reasons: ['synchronized-activity'] });

async function waitFor(what: string, fn: () => boolean, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('approved clusters are confirmed without their excluded members; rejected and undecided ones are not', async () => {
  const yes = ['yes-1', 'yes-2', 'yes-3'];
  const no = ['no-1', 'no-2'];
  const open = ['open-1', 'open-2'];
  const execs = [
    ...yes.map((a) => dep.start(input(a, 'c-yes'))),
    ...no.map((a) => dep.start(input(a, 'c-no'))),
    ...open.map((a) => dep.start(input(a, 'c-open'))),
  ];
  await waitFor('7 reviews', () => h.sfn.pendingTasks().filter((t) => t.stateName === 'Review' && t.executionArn.includes(':share:')).length >= 7);
  const op = dep.operator('reviewer@example.com');
  await decideCluster(op, 'c-yes.g1', {
    approved: true,
    reason: 'one operation: same minutes, same library',
    exclude: [{ accountId: 'yes-3', reason: 'our own load test' }],
  });
  await decideCluster(op, 'c-no.g1', { approved: false, reason: 'a classroom', exclude: [] });
  // The excluded member goes back to its own review; the others finish with the cluster's decision.
  await Promise.all([0, 1, 3, 4].map((i) => h.sfn.waitForExecution(execs[i], 120_000)));
  const confirmed = await confirmedClusters(dep.store());
  expect([...confirmed.keys()]).toEqual(['c-yes']);
  expect(confirmed.get('c-yes')!.sort()).toEqual(['yes-1', 'yes-2']);
});
