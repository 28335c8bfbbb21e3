/**
 * Indicator sharing on the local runtime: a deployment with sharing added (`addIndicatorSharing`), synthesized with
 * its bundles and run by the local runtime against the emulators (S3: fauxqs's; the partner key agreed out of band
 * stored with PutSecretValue). A partner's bundle (provider A's confirmed campaigns, exported from A's traffic)
 * is put under `inbound/provider-a/`; provider B's traffic (the same lab through renamed accounts, B's own organic
 * customers) goes through B's pipeline in log time. Then:
 * - the scorer read the bundle: campaign accounts carry the `external-indicator` reason naming provider A;
 * - a reviewer confirms a cluster, the schedule fires the exporter: a valid STIX 2.1 bundle lands under
 *   `partners/provider-a/` and `Indicators Exported` reaches a rule on the bus;
 * - `distill-guard indicators export --local` exports the same campaigns from the deployment's store.
 * Labels from the simulator are used only to pick accounts to check; detection never sees them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalSession } from '../../local/runtime/session';
import { driveTraffic } from '../../local/runtime/drive';
import { exportFromReplay, parsePattern } from '../../src/share';
import type { StixBundle } from '../../src/share';
import { approveCampaignClusters, fireExporter, scoreRecords, startProvider, synthSharingApp } from './local-app';
import { campaignAccounts, stixValidator, twoProviders } from './support';
import type { World } from './support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
jest.setTimeout(20 * 60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const WORK = path.join(ROOT, '.local', 'test', 'share-local');
const CDK_OUT = path.join(WORK, 'cdk.out');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const KEY = { id: 'a-b-2026-12', secret: 'shared secret agreed out of band' };
/** Log time of B's traffic pushed through the local pipeline (the import's effect shows in the first hours). */
const B_HOURS = Number(process.env.SHARE_LOCAL_HOURS ?? '3');

describe('indicator sharing on the local runtime', () => {
  let session: LocalSession;
  let s3: S3Client;
  let a: World;
  let b: World;
  let bStart: number;
  let bucket: string;
  let eventsQueueUrl: string;
  /** accountId -> log time of the first scorer tick whose record flagged it (review or suspend). */
  const firstFlagged = new Map<string, { t: number; reasons: string[] }>();

  beforeAll(async () => {
    fs.rmSync(WORK, { recursive: true, force: true });
    fs.mkdirSync(WORK, { recursive: true });
    // A's day and B's day end at the last UTC midnight (the aggregator accepts records up to 8 days old).
    const start = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
    const w = twoProviders(WORK, 101, 202, 1, start);
    ({ a, b } = w);
    bStart = start + DAY;
    const fromA = await exportFromReplay({ logs: a.logs, usage: a.usage, producer: 'Provider A', key: KEY, now: w.exportAt });
    expect(fromA.campaigns.length).toBeGreaterThan(0);

    synthSharingApp(CDK_OUT, [{ stack: 'ShareLocal', producer: 'Provider B', partner: 'provider-a', keyId: KEY.id }]);
    // B stores the key agreed with A (docs/indicators.md), as an operator would.
    ({ session, bucket } = await startProvider(CDK_OUT, 'ShareLocal', WORK, bStart, KEY.secret));
    s3 = session.rt.clients.s3!;
    // A (its principals may write inbound/provider-a/ of B's bucket) delivers its bundle.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `inbound/provider-a/${new Date(w.exportAt).toISOString()}.json`,
        Body: JSON.stringify(fromA.bundle),
      }),
    );
    // A team subscribing to exports: a rule on the bus with an SQS target.
    const q = await session.rt.clients.sqs.send(new CreateQueueCommand({ QueueName: 'indicators-exported-subscriber' }));
    eventsQueueUrl = q.QueueUrl!;
    const qa = await session.rt.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: eventsQueueUrl, AttributeNames: ['QueueArn'] }));
    const bus = session.busName()!;
    await session.rt.clients.eventbridge!.send(
      new PutRuleCommand({
        Name: 'indicators-exported',
        EventBusName: bus,
        EventPattern: JSON.stringify({ source: ['distill-guard'], 'detail-type': ['Indicators Exported'] }),
      }),
    );
    await session.rt.clients.eventbridge!.send(
      new PutTargetsCommand({ Rule: 'indicators-exported', EventBusName: bus, Targets: [{ Id: 'q', Arn: qa.Attributes!.QueueArn! }] }),
    );
  }, 10 * 60_000);

  afterAll(async () => {
    await session?.stop();
  });

  test("the scorer reads the partner's bundle from S3: B's campaign accounts carry external-indicator, B's organic accounts are not flagged by it", async () => {
    const stopAt = bStart + B_HOURS * HOUR;
    const events = b.events.filter((e) => Number(e.log.requestTimeEpoch) < stopAt);
    const progress = await driveTraffic(session, events, {
      tailMs: 15 * 60_000,
      onTick: async (t) => {
        for (const s of await scoreRecords(session))
          if (s.decision === 'review' || s.decision === 'suspend')
            if (!firstFlagged.has(s.accountId)) firstFlagged.set(s.accountId, { t, reasons: s.reasons });
      },
    });
    expect(progress.ticks).toBeGreaterThan(0);
    const all = await scoreRecords(session);
    const campaign = (id: string) => b.labels[id]?.kind === 'campaign';
    const withExternal = all.filter((s) => s.reasons.includes('external-indicator'));
    const campaignHits = withExternal.filter((s) => campaign(s.accountId));
    expect(campaignHits.length).toBeGreaterThan(0);
    for (const s of campaignHits) expect(s.reasonDetails.find((r) => r.signal === 'external-indicator')!.text).toMatch(/shared by Provider A/);
    // an organic account flagged with the partner's indicator among its reasons must have its own evidence too
    const organicFlaggedByIt = all.filter(
      (s) => !campaign(s.accountId) && s.decision !== 'allow' && s.decision !== 'monitor' && s.reasons.includes('external-indicator'),
    );
    const alone = organicFlaggedByIt.filter((s) => s.reasons.every((r) => r === 'external-indicator'));
    const campaignIds = campaignAccounts(b.labels);
    const flagged = campaignIds.filter((id) => firstFlagged.has(id));
    const lead = flagged.map((id) => (firstFlagged.get(id)!.t - bStart) / HOUR).sort((x, y) => x - y);
    console.log(
      [
        `local runtime, provider B with provider A's bundle in inbound/provider-a/ (${B_HOURS} h of B's log time, ${progress.eventsPut} events, ${progress.ticks} scorer ticks)`,
        `campaign accounts at B: ${campaignIds.length}; flagged: ${flagged.length}; with external-indicator: ${campaignHits.length}`,
        `first flagged, hours into B's day: median ${(lead[lead.length >> 1] ?? NaN).toFixed(2)}, min ${(lead[0] ?? NaN).toFixed(2)}`,
        `organic accounts flagged with external-indicator among the reasons: ${organicFlaggedByIt.length} (on it alone: ${alone.length})`,
      ].join('\n'),
    );
    expect(alone.map((s) => s.accountId)).toEqual([]);
  });

  let exported: { key: string; bundle: StixBundle };

  test('a reviewer confirms a cluster; the schedule fires the exporter: a valid STIX 2.1 bundle under partners/provider-a/ and Indicators Exported on the bus', async () => {
    // clusters B suspended as a whole are confirmed already; the reviewer approves the ones waiting for review
    await approveCampaignClusters(session, (id) => b.labels[id]?.kind === 'campaign');
    await fireExporter(session);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'partners/provider-a/' }));
    expect((listed.Contents ?? []).length).toBe(1);
    const key = listed.Contents![0].Key!;
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await got.Body!.transformToString();
    const bundle = JSON.parse(text) as StixBundle;
    exported = { key, bundle };
    const validate = stixValidator();
    expect(bundle.objects.flatMap((o) => validate(o))).toEqual([]);
    const types = new Set(bundle.objects.map((o) => o.type));
    for (const t of ['identity', 'indicator', 'infrastructure', 'relationship', 'marking-definition']) expect(types).toContain(t);
    for (const o of bundle.objects.filter((x) => x.type === 'indicator')) expect(() => parsePattern(String(o.pattern))).not.toThrow();
    expect(text).toContain('Provider B');
    // nothing that identifies one of B's customers
    const leaks = [...b.accountIds, ...b.apiKeys].filter((v) => v.length >= 4 && text.includes(v));
    for (const ip of b.ips) if (new RegExp(`[^0-9.]${ip.replace(/\./g, '\\.')}[^0-9./]`).test(text)) leaks.push(ip);
    expect(leaks).toEqual([]);

    const received: Array<{ 'detail-type': string; detail: Record<string, unknown> }> = [];
    const deadline = Date.now() + 30_000;
    while (received.length === 0 && Date.now() < deadline) {
      const r = await session.rt.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: eventsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const msg of r.Messages ?? []) received.push(JSON.parse(msg.Body!));
    }
    expect(received).toHaveLength(1);
    expect(received[0]['detail-type']).toBe('Indicators Exported');
    expect(received[0].detail).toMatchObject({ partner: 'provider-a', bucket, key, keyId: KEY.id });
  });

  test('`indicators export --local` reads the same confirmed campaigns from the deployment', () => {
    expect(exported).toBeDefined();
    const out = path.join(WORK, 'cli-export.json');
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'distill-guard.js'),
        'indicators',
        'export',
        '--endpoints',
        session.stateFile,
        '--since',
        new Date(bStart - DAY).toISOString(),
        '--producer',
        'Provider B',
        '--out',
        out,
        '--json',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 300_000,
        env: { ...process.env, DISTILL_GUARD_SHARING_KEY: KEY.secret, DISTILL_GUARD_SHARING_KEY_ID: KEY.id },
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    const bundle = JSON.parse(fs.readFileSync(out, 'utf8')) as StixBundle;
    const infra = (x: StixBundle) =>
      x.objects
        .filter((o) => o.type === 'infrastructure')
        .map((o) => o.id)
        .sort();
    expect(summary.campaigns).toBe(infra(exported.bundle).length);
    expect(infra(bundle)).toEqual(infra(exported.bundle));
    const validate = stixValidator();
    expect(bundle.objects.flatMap((o) => validate(o))).toEqual([]);
  });
});
