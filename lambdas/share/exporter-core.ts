/**
 * Scheduled export of confirmed clusters to partners: the escalation store says which clusters are confirmed
 * (approved by a reviewer, or suspensions applied and not reversed), the features table holds their members'
 * windows; src/share builds one bundle per partner (each partner has its own sharing key, so its own hashes),
 * written under the partner's prefix of the sharing bucket, and an `Indicators Exported` event goes on the bus.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { keys } from '../../src/escalate/model';
import { EVENT_SOURCE } from '../../src/shared/contract';
import { INDICATORS_EXPORTED, bundleKey, buildBundle, indicatorsExported, isConfirmed, summariseCampaign } from '../../src/share';
import type { CampaignSummary, IndicatorsExportedDetail, Tlp } from '../../src/share';
import type { AccountProfile } from '../../src/detect/profile';
import { ClusterStore } from '../escalate/cluster-store';
import { EscalationStore } from '../escalate/store';
import { buildProfiles, readWindows } from '../detect/window-reader';

export interface Partner {
  name: string;
  keyId: string;
  keySecretArn: string;
}

export interface ExportDeps {
  ddb: DynamoDBClient;
  s3: S3Client;
  events: EventBridgeClient;
  store: EscalationStore;
  featuresTable: string;
  bucket: string;
  busName: string;
  producer: string;
  partners: Partner[];
  readSecret: (arn: string) => Promise<string>;
  lookbackHours: number;
  validDays: number;
  tlp: Tlp;
  now: number;
}

/** Cluster ids and their member accounts, for the confirmed clusters (decided and open cases). */
export async function confirmedClusters(store: EscalationStore): Promise<Map<string, string[]>> {
  const cs = new ClusterStore(store);
  const out = new Map<string, string[]>();
  for (const h of [...(await cs.list('decided')), ...(await cs.list('open'))]) {
    const members = (await cs.members(h.clusterCaseId)).filter((m) => !m.excludedReason);
    const cases = await cs.memberCases(members.map((m) => m.caseId));
    const suspended = [...cases.values()].filter((c) => c.outcome === 'suspended');
    let reinstated = 0;
    for (const c of suspended) {
      const r = await store.ddb.send(new GetCommand({ TableName: store.table, Key: keys.case(c.caseId), ProjectionExpression: 'reinstatedAt' }));
      if (r.Item?.reinstatedAt) reinstated++;
    }
    if (!isConfirmed({ clusterId: h.clusterId, approved: h.decision?.approved, suspended: suspended.length, reinstated })) continue;
    out.set(h.clusterId, [...new Set([...(out.get(h.clusterId) ?? []), ...members.map((m) => m.accountId)])]);
  }
  return out;
}

/** The confirmed clusters (optionally only some of them) and every account's profile from the features table. */
export async function confirmedProfiles(
  d: { ddb: Pick<DynamoDBClient, 'send'>; store: EscalationStore; featuresTable: string },
  from: number,
  to: number,
  only?: Set<string>,
): Promise<{ clusters: Map<string, string[]>; profiles: AccountProfile[] }> {
  const clusters = await confirmedClusters(d.store);
  for (const id of [...clusters.keys()]) if (only && !only.has(id)) clusters.delete(id);
  if (clusters.size === 0) return { clusters, profiles: [] };
  const { windows } = await readWindows({ ddb: d.ddb, featuresTable: d.featuresTable }, from, to);
  return { clusters, profiles: buildProfiles(windows, DEFAULT_DETECTION_CONFIG.linkage.syncBucketMs).profiles };
}

/** One campaign summary per confirmed cluster that has members in `profiles`, hashed with `secret`. */
export function campaignsFor(clusters: Map<string, string[]>, profiles: AccountProfile[], secret: string, now: number): CampaignSummary[] {
  const campaigns: CampaignSummary[] = [];
  for (const [clusterId, ids] of clusters) {
    const set = new Set(ids);
    const members = profiles.filter((x) => set.has(x.accountId));
    if (members.length === 0) continue;
    campaigns.push(summariseCampaign(clusterId, members, secret, { others: profiles.filter((x) => !set.has(x.accountId)), now }));
  }
  return campaigns;
}

export async function exportConfirmed(d: ExportDeps): Promise<IndicatorsExportedDetail[]> {
  const { clusters, profiles } = await confirmedProfiles(d, d.now - d.lookbackHours * 3_600_000, d.now + 1);
  if (clusters.size === 0) return [];
  const out: IndicatorsExportedDetail[] = [];
  for (const p of d.partners) {
    const campaigns = campaignsFor(clusters, profiles, await d.readSecret(p.keySecretArn), d.now);
    if (campaigns.length === 0) continue;
    const bundle = buildBundle(campaigns, { producer: d.producer, keyId: p.keyId, now: d.now, tlp: d.tlp, validForMs: d.validDays * 86_400_000 });
    const key = bundleKey(p.name, d.now);
    await d.s3.send(new PutObjectCommand({ Bucket: d.bucket, Key: key, Body: JSON.stringify(bundle), ContentType: 'application/json' }));
    const detail = indicatorsExported(bundle, { partner: p.name, bucket: d.bucket, key, keyId: p.keyId, exportedAt: d.now });
    const r = await d.events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: d.busName, Source: EVENT_SOURCE, DetailType: INDICATORS_EXPORTED, Detail: JSON.stringify(detail) }],
      }),
    );
    if (r.FailedEntryCount) throw new Error(`putting the indicators exported event failed: ${JSON.stringify(r.Entries)}`);
    out.push(detail);
  }
  return out;
}
