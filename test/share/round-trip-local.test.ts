/**
 * Two providers on the local runtime, each its own deployment (stacks ProviderA and ProviderB of one cloud
 * assembly, run one after the other, each on fresh emulators): A's pipeline sees A's traffic, a reviewer approves
 * the campaign clusters, A's schedule exports to `partners/provider-b/` of A's bucket; B's principal reads the
 * bundle and puts it under `inbound/provider-a/` of B's bucket; B's pipeline sees B's traffic (the same lab
 * through renamed accounts, B's own organic customers), once with the bundle and once without.
 *
 * Printed (measured, not asserted): how much earlier, in log time, B flags the campaign's accounts with the import.
 * Asserted: earlier somewhere, later nowhere, and no organic account of B flagged by the import alone.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { driveTraffic } from '../../local/runtime/drive';
import type { LocalSession } from '../../local/runtime/session';
import { approveCampaignClusters, fireExporter, scoreRecords, startProvider, synthSharingApp } from './local-app';
import { campaignAccounts, stixValidator, twoProviders } from './support';
import type { World } from './support';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
jest.setTimeout(40 * 60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const WORK = path.join(ROOT, '.local', 'test', 'share-round-trip');
const CDK_OUT = path.join(WORK, 'cdk.out');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const KEY = { id: 'a-b-2026-12', secret: 'shared secret agreed out of band' };
/** Log time pushed through A's pipeline (long enough for A to catch and confirm the campaigns) and B's. */
const A_HOURS = Number(process.env.SHARE_ROUND_TRIP_A_HOURS ?? '8');
const B_HOURS = Number(process.env.SHARE_ROUND_TRIP_B_HOURS ?? '4');

/** Pushes `world`'s first `hours` of traffic through the session; returns each account's first flag in log time. */
async function run(session: LocalSession, world: World, start: number, hours: number): Promise<Map<string, number>> {
  const first = new Map<string, number>();
  const events = world.events.filter((e) => Number(e.log.requestTimeEpoch) < start + hours * HOUR);
  await driveTraffic(session, events, {
    tailMs: 15 * 60_000,
    onTick: async (t) => {
      for (const s of await scoreRecords(session))
        if ((s.decision === 'review' || s.decision === 'suspend') && !first.has(s.accountId)) first.set(s.accountId, t);
    },
  });
  return first;
}

test('provider B flags the campaign A confirmed and exported earlier, and none of its own customers on the import alone', async () => {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  // A's day and B's day end at the last UTC midnight (the aggregator accepts records up to 8 days old).
  const start = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  const bStart = start + DAY;
  const { a, b } = twoProviders(WORK, 101, 202, 1, start);
  synthSharingApp(CDK_OUT, [
    { stack: 'ProviderA', producer: 'Provider A', partner: 'provider-b', keyId: KEY.id },
    { stack: 'ProviderB', producer: 'Provider B', partner: 'provider-a', keyId: KEY.id },
  ]);

  // Provider A: detect, confirm, export on its schedule.
  const pa = await startProvider(CDK_OUT, 'ProviderA', WORK, start, KEY.secret);
  let bundle: string;
  let approved: number;
  try {
    await run(pa.session, a, start, A_HOURS);
    approved = await approveCampaignClusters(pa.session, (id) => a.labels[id]?.kind === 'campaign');
    await fireExporter(pa.session);
    const s3 = pa.session.rt.clients.s3!;
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: pa.bucket, Prefix: 'partners/provider-b/' }));
    expect(listed.Contents ?? []).toHaveLength(1);
    bundle = await (await s3.send(new GetObjectCommand({ Bucket: pa.bucket, Key: listed.Contents![0].Key! }))).Body!.transformToString();
  } finally {
    await pa.session.stop();
  }
  const parsed = JSON.parse(bundle);
  const validate = stixValidator();
  expect(parsed.objects.flatMap((o: { type: string }) => validate(o))).toEqual([]);
  const campaignsExported = parsed.objects.filter((o: { type: string }) => o.type === 'infrastructure').length;

  // Provider B, with A's bundle in its inbound prefix, then without it (fresh emulators each time).
  const flaggedB = async (withImport: boolean) => {
    const pb = await startProvider(CDK_OUT, 'ProviderB', WORK, bStart, KEY.secret);
    try {
      if (withImport)
        await pb.session.rt.clients.s3!.send(
          new PutObjectCommand({ Bucket: pb.bucket, Key: 'inbound/provider-a/from-provider-a.json', Body: bundle }),
        );
      return await run(pb.session, b, bStart, B_HOURS);
    } finally {
      await pb.session.stop();
    }
  };
  const f1 = await flaggedB(true);
  const f0 = await flaggedB(false);

  const campaign = campaignAccounts(b.labels);
  const gains: number[] = [];
  let newlyFlagged = 0;
  for (const id of campaign) {
    const t0 = f0.get(id);
    const t1 = f1.get(id);
    if (t1 !== undefined && t0 === undefined) newlyFlagged++;
    if (t1 !== undefined && t0 !== undefined) gains.push((t0 - t1) / HOUR);
  }
  gains.sort((x, y) => x - y);
  const organicByImportAlone = [...f1.keys()].filter((id) => b.labels[id]?.kind === 'organic' && !f0.has(id));
  console.log(
    [
      `round trip on the local runtime (A seed 101, ${A_HOURS} h; B seed 202, ${B_HOURS} h; two deployments run one after the other)`,
      `A: ${approved!} cluster case(s) approved by the reviewer; ${campaignsExported} campaign(s) exported to partners/provider-b/`,
      `B: ${campaign.length} campaign accounts; flagged without the import ${campaign.filter((id) => f0.has(id)).length}, with it ${campaign.filter((id) => f1.has(id)).length} (${newlyFlagged} only with it)`,
      `earlier with the import, log time: median ${(gains[gains.length >> 1] ?? 0).toFixed(2)} h, max ${(gains[gains.length - 1] ?? 0).toFixed(2)} h, over ${gains.length} accounts flagged in both runs`,
      `B's organic accounts flagged only with the import: ${organicByImportAlone.length}`,
    ].join('\n'),
  );
  expect(campaignsExported).toBeGreaterThan(0);
  expect(gains.some((g) => g > 0) || newlyFlagged > 0).toBe(true);
  expect(gains.filter((g) => g < 0)).toEqual([]);
  expect(organicByImportAlone).toEqual([]);
});
