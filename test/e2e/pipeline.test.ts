/**
 * End to end, on this machine: `cdk synth` of the real app (handlers bundled by the local esbuild), the emulators,
 * the local runtime running the bundles from that cloud assembly, and simulated traffic (organic users plus
 * extraction campaigns) packed as CloudWatch Logs envelopes onto the Kinesis stream, in log time.
 *
 * Asserts the outcome the README promises: a campaign account ends up suspended (directly, or queued for review and then
 * approved through the review step's SendTaskSuccess path), its `Account Suspended` event reaches a subscriber
 * rule's target queue, and an organic account is untouched.
 *
 * Labels from the simulator are used here only to pick the accounts to check; detection never sees them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { simulate } from '../../sim';
import { LocalSession } from '../../local/runtime/session';
import { driveTraffic } from '../../local/runtime/drive';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROOT = path.resolve(__dirname, '..', '..');
const WORK = path.join(ROOT, '.local', 'e2e');
const CDK_OUT = path.join(WORK, 'cdk.out');
const DAY = 86_400_000;

jest.setTimeout(15 * 60_000);

describe('local pipeline end to end', () => {
  let session: LocalSession | undefined;
  const sim = simulate({ scale: 'small', seed: 'e2e', days: 1, organic: 60, campaignScale: 0.5, start: Math.floor(Date.now() / DAY) * DAY - DAY });
  const labels = sim.labels;

  beforeAll(async () => {
    fs.mkdirSync(WORK, { recursive: true });
    const synth = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', CDK_OUT], {
      cwd: ROOT,
      encoding: 'utf8',
      env: process.env,
    });
    if (synth.status !== 0) throw new Error(`cdk synth failed (${synth.status}): ${synth.stderr.slice(-3000)}`);
    session = await LocalSession.start({
      cdkOut: CDK_OUT,
      stateFile: path.join(WORK, 'endpoints.json'),
      functionLogFile: path.join(WORK, 'functions.log'),
      clockStartMs: sim.options.start,
    });
    for (const a of Object.keys(labels)) session.emu.apiGateway.createApiKey({ name: `${a}-key`, customerId: a, enabled: true });
  });

  afterAll(async () => {
    await session?.stop();
  });

  it('suspends a campaign account, delivers its Account Suspended event to a subscriber, leaves organic accounts alone', async () => {
    const s = session!;
    const allKeysEnabled = (account: string) =>
      s.emu.apiGateway
        .apiKeys()
        .filter((k) => k.customerId === account)
        .every((k) => k.enabled);
    const active = new Set<string>();
    // the first hours of the day are enough for the campaigns to be caught (and keep the test short)
    const stopAt = sim.options.start + 3 * 3_600_000;
    function* events() {
      for (const e of sim.events()) {
        if (Number(e.log.requestTimeEpoch) >= stopAt) return;
        active.add(e.log.accountId);
        yield e;
      }
    }
    const progress = await driveTraffic(s, events(), { tailMs: 30 * 60_000 });
    expect(progress.eventsPut).toBeGreaterThan(500);
    expect(progress.ticks).toBeGreaterThan(0);

    // Approve pending reviews of campaign accounts through the operator's review path (SendTaskSuccess).
    let counts = await s.counts();
    const { connect } = await import('../../ops/operator');
    const op = await connect({ local: true, endpointsFile: s.stateFile, identity: 'local:e2e-reviewer' });
    const queue = await op.queue(['review']);
    for (const c of queue.filter((q) => labels[q.accountId]?.kind === 'campaign'))
      await op.decide(c.caseId, true, 'e2e: confirmed extraction campaign');
    await s.settle(120_000);
    // the outbox publisher and the bus deliver asynchronously: wait for the subscriber to see the suspensions
    const deadline = Date.now() + 60_000;
    for (;;) {
      counts = await s.counts();
      const delivered = counts.suspendedAccounts.filter((a) => (s.subscriberStats.byAccount[a] ?? []).includes('Account Suspended'));
      if ((delivered.length > 0 && delivered.length === counts.suspendedAccounts.length) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }

    const campaignSuspended = counts.suspendedAccounts.filter((a) => labels[a]?.kind === 'campaign');
    expect(campaignSuspended.length).toBeGreaterThan(0);
    const acct = campaignSuspended[0];
    expect(s.subscriberStats.byAccount[acct]).toContain('Account Suspended');
    // suspension is applied: the account's API keys are disabled
    const keys = s.emu.apiGateway.apiKeys().filter((k) => k.customerId === acct);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => !k.enabled)).toBe(true);

    // an organic account that sent traffic is untouched: not suspended, no suspension event, keys enabled
    const organic = [...active].filter((a) => labels[a]?.kind === 'organic');
    expect(organic.length).toBeGreaterThan(0);
    const untouched = organic.find((a) => !counts.suspendedAccounts.includes(a) && !counts.caseList.some((c) => c.accountId === a))!;
    expect(untouched).toBeDefined();
    expect(s.subscriberStats.byAccount[untouched] ?? []).not.toContain('Account Suspended');
    expect(allKeysEnabled(untouched)).toBe(true);
    // and organic accounts are not suspended wholesale
    expect(counts.suspendedAccounts.filter((a) => labels[a]?.kind === 'organic').length).toBeLessThan(Math.max(1, organic.length * 0.05));

    // the undo path: the operator tool invokes the stack's reinstatement function (local Lambda Invoke endpoint ->
    // the bundled ReinstateFn), which re-enables the keys and restores the status
    const r = await op.reinstate(acct, 'e2e: appeal granted');
    expect(r).toMatchObject({ reinstated: true, keys: expect.arrayContaining(keys.map((k) => k.id)) });
    expect(allKeysEnabled(acct)).toBe(true);
    expect((await s.counts()).suspendedAccounts).not.toContain(acct);
    op.destroy();
  });
});
