/**
 * A cloud assembly of distill-guard deployments with indicator sharing added (`addIndicatorSharing`), synthesized
 * with the handlers bundled (as `cdk synth` does), for the local runtime: each provider is its own stack, sharing
 * with one partner whose principal is a placeholder account (the local runtime does not evaluate bucket policies).
 * And the steps the sharing tests take on a running deployment.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ScanCommand, ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { App, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DistillGuardStack } from '../../lib/distill-guard-stack';
import { decideCluster } from '../../ops/cluster-operator';
import { ClusterStore } from '../../lambdas/escalate/cluster-store';
import { secretsManagerClient } from '../../lambdas/shared/secrets-manager';
import { LocalSession } from '../../local/runtime/session';
import { LOCAL_CREDENTIALS } from '../../local/services/clients';

export interface SharingProvider {
  /** Stack name. */
  stack: string;
  /** The organisation's name in its bundles. */
  producer: string;
  /** The partner's name (its prefixes `partners/<name>/` and `inbound/<name>/`). */
  partner: string;
  /** Id of the sharing key agreed with the partner. */
  keyId: string;
}

/** Logical-id prefix of the partner key secret in each stack (the value is agreed out of band, then stored). */
export const SHARING_KEY_ID = 'PartnerSharingKey';

export function synthSharingApp(outdir: string, providers: SharingProvider[]): void {
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  for (const p of providers) {
    const stack = new DistillGuardStack(app, p.stack);
    const key = new secretsmanager.Secret(stack, SHARING_KEY_ID, { description: `sharing key agreed with ${p.partner}` });
    Validations.of(key.node.defaultChild!).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'rotated by agreement with the partner' });
    stack.guard.addIndicatorSharing({
      producer: p.producer,
      partners: [{ name: p.partner, keyId: p.keyId, keySecret: key, principals: [new iam.AccountPrincipal('444455556666')] }],
      schedule: Duration.days(1),
    });
  }
  app.synth();
}

export interface ScoreRecord {
  accountId: string;
  decision: string;
  reasons: string[];
  reasonDetails: Array<{ signal: string; text: string }>;
}

/** The scorer's latest record per account, read from the control table (small local scale: a scan). */
export async function scoreRecords(session: LocalSession): Promise<ScoreRecord[]> {
  const out: ScoreRecord[] = [];
  let key: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const r: ScanCommandOutput = await session.rt.clients.dynamodb.send(
      new ScanCommand({ TableName: session.controlTable()!, ExclusiveStartKey: key }),
    );
    for (const it of r.Items ?? []) {
      const x = unmarshall(it);
      if (x.sk === 'SCORE' && x.accountId)
        out.push({ accountId: x.accountId, decision: x.decision, reasons: x.reasons ?? [], reasonDetails: x.reasonDetails ?? [] });
    }
    key = r.LastEvaluatedKey;
  } while (key);
  return out;
}

/** Starts a provider's deployment on the local runtime and stores the sharing key agreed with its partner. */
export async function startProvider(
  cdkOut: string,
  stack: string,
  work: string,
  clockStartMs: number,
  sharingKey: string,
): Promise<{ session: LocalSession; bucket: string }> {
  const session = await LocalSession.start({
    cdkOut,
    stackName: stack,
    stateFile: path.join(work, `${stack}.endpoints.json`),
    functionLogFile: path.join(work, `${stack}.functions.log`),
    clockStartMs,
  });
  const m = session.rt.model;
  const secret = m.secrets.find((x) => x.logicalId.startsWith(SHARING_KEY_ID))!;
  const sm = secretsManagerClient({ endpoint: session.emu.endpoints.secretsManager, region: m.region, credentials: { ...LOCAL_CREDENTIALS } });
  await sm.send(new PutSecretValueCommand({ SecretId: secret.arn, SecretString: sharingKey }));
  sm.destroy();
  return { session, bucket: m.buckets.find((x) => /IndicatorSharingBucket/.test(x.logicalId))!.name };
}

/** Approves every open cluster case whose members are all `isCampaign` (the reviewer's call; labels pick, detection never sees them). */
export async function approveCampaignClusters(session: LocalSession, isCampaign: (accountId: string) => boolean): Promise<number> {
  const { connect } = await import('../../ops/operator');
  const op = await connect({ local: true, endpointsFile: session.stateFile, identity: 'local:share-reviewer' });
  try {
    const cs = new ClusterStore(op.store);
    let n = 0;
    for (const h of await cs.list('open')) {
      const members = await cs.members(h.clusterCaseId);
      if (members.length >= 2 && members.every((x) => isCampaign(x.accountId))) {
        await decideCluster(op, h.clusterCaseId, { approved: true, reason: 'one lab: same minutes, same library', exclude: [] });
        n++;
      }
    }
    await session.settle(120_000);
    return n;
  } finally {
    op.destroy();
  }
}

/** Fires the exporter's schedule rule at the session's log time (as EventBridge would). */
export async function fireExporter(session: LocalSession): Promise<void> {
  const m = session.rt.model;
  const exporter = m.functions.find((f) => /IndicatorSharingExporter/.test(f.logicalId))!;
  const rule = m.rules.find((r) => r.scheduleExpression && r.targets.some((t) => t.arn === exporter.arn))!;
  await session.rt.fireScheduledRule(rule, session.rt.clock.now());
}
