/**
 * What the workflow test files share around the harness (harness.ts): the jest hooks that start it, the reads of
 * the control table they check (its layout: docs/DESIGN.md, "Tables"), and the scorer's input for a cluster member.
 */
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EscalationProps } from '../../../lib/escalate/escalation';
import { Deployment, Harness, startHarness } from './harness';

/**
 * Starts the harness and deploys one escalation stack before the file's tests (`use` receives both), and stops
 * the harness after them.
 */
export function useDeployment(
  name: string,
  props: Partial<EscalationProps> | undefined,
  use: (started: { h: Harness; dep: Deployment }) => void,
): void {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startHarness();
    use({ h, dep: await h.deploy(name, props) });
  });
  afterAll(async () => {
    await h?.stop();
  });
}

/** The control table's items as the tests read them. `harness` is called on each read: the harness starts in beforeAll. */
export function controlTableReads(harness: () => Harness) {
  const get = async (dep: Deployment, pk: string, sk: string) =>
    (await harness().doc.send(new GetCommand({ TableName: dep.controlTable, Key: { pk, sk } }))).Item;
  return {
    get,
    account: (dep: Deployment, accountId: string) => get(dep, `ACCOUNT#${accountId}`, 'STATUS'),
    caseItem: async (dep: Deployment, caseId: string) => (await get(dep, `CASE#${caseId}`, 'CASE'))!,
    async audit(dep: Deployment, caseId: string) {
      const r = await harness().doc.send(
        new QueryCommand({
          TableName: dep.controlTable,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :a)',
          ExpressionAttributeValues: { ':p': `CASE#${caseId}`, ':a': 'AUDIT#' },
        }),
      );
      return r.Items ?? [];
    },
    /** The ban events in the outbox about `accountId`, their detail parsed. */
    async outbox(dep: Deployment, accountId: string) {
      const r = await harness().doc.send(
        new ScanCommand({ TableName: dep.controlTable, FilterExpression: 'begins_with(pk, :o)', ExpressionAttributeValues: { ':o': 'OUTBOX#' } }),
      );
      return (r.Items ?? [])
        .map((i) => ({ detailType: i.detailType as string, detail: JSON.parse(i.detail as string) }))
        .filter((e) => e.detail.accountId === accountId);
    },
    keyEnabled: (id: string) =>
      harness()
        .apigw.apiKeys()
        .find((k) => k.id === id)!.enabled,
  };
}

const HOUR = 3_600_000;

/**
 * Writes `hours` hourly feature windows of `accountId`, the last one ending where the current hour starts, with
 * the attributes `attrs(i)` gives window i (flattened as the aggregator stores them: docs/DESIGN.md, "Tables").
 */
export async function putHourlyWindows(h: Harness, dep: Deployment, accountId: string, hours: number, attrs: (i: number) => Record<string, unknown>) {
  const base = Math.floor(Date.now() / HOUR) * HOUR - hours * HOUR;
  for (let i = 0; i < hours; i++) {
    await h.doc.send(
      new PutCommand({
        TableName: dep.featuresTable,
        Item: { pk: `A#${accountId}`, sk: `W#${String(base + i * HOUR).padStart(13, '0')}`, ...attrs(i) },
      }),
    );
  }
}

/**
 * The scorer's input that starts a case's workflow: the case's own verdict (`verdict`, from `decision` to
 * `clusterId`) between the ids and the fields every test input shares; `extra` adds or replaces fields.
 */
export function scorerInput(accountId: string, caseId: string, verdict: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { caseId, accountId, ...verdict, relatedAccountIds: [], flaggedAt: Date.now() - 60_000, evidence: {}, ...extra };
}

/**
 * The scorer's input for a member of a cluster sent to review on synchronized activity: `peers` accounts named in
 * its evidence text, the cluster's own evidence as given.
 */
export function clusterMemberInput(accountId: string, clusterId: string, peers: number, cluster: Record<string, unknown>) {
  return scorerInput(
    accountId,
    `case-${accountId}`,
    {
      decision: 'review',
      score: 0.83,
      reasons: ['synchronized-activity', 'shared-templates'],
      reasonDetails: [{ signal: 'synchronized-activity', value: 0.9, baseline: 0.1, text: `active in the same minutes as ${peers} accounts` }],
      clusterId,
    },
    { evidence: { cluster } },
  );
}
