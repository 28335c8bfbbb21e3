/**
 * `distill-guard events tail` against the local EventBridge endpoint and the SQS emulator (fauxqs), with the same
 * SDK calls it makes in AWS: temporary rule + queue, long-poll, de-duplication on eventId, cleanup on exit.
 */
import { EventBridgeClient, CreateEventBusCommand, ListRulesCommand, PutEventsCommand, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildBanEvent, toPutEventsEntry } from '../../src/notify/ban-event';
import { cleanupTails, formatEvent, parseSince, TAIL_PREFIX, tailEvents, tailPattern } from '../../cli/commands/events';
import { startSqs, SqsEmulator } from '../../local/emulators/sqs';
import { LocalEventBridge, startEventBridge } from '../../local/services/eventbridge';
import { sampleFields } from './fixtures';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REGION = 'us-east-1';
const creds = { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'x' };
let sqsEmu: SqsEmulator;
let eb: LocalEventBridge;
let clients: { eventBridge: EventBridgeClient; sqs: SQSClient };
const BUS = 'tail-bus';

beforeAll(async () => {
  sqsEmu = await startSqs({ region: REGION });
  eb = await startEventBridge({ region: REGION, sqsEndpoint: sqsEmu.endpoint });
  clients = {
    eventBridge: new EventBridgeClient({ region: REGION, endpoint: eb.endpoint, credentials: creds }),
    sqs: new SQSClient({ region: REGION, endpoint: sqsEmu.endpoint, credentials: creds }),
  };
  await clients.eventBridge.send(new CreateEventBusCommand({ Name: BUS }));
}, 60000);

afterAll(async () => {
  await Promise.allSettled([eb?.stop(), sqsEmu?.stop()]);
});

describe('events tail', () => {
  it('prints each ban event once, marks a redelivery as a duplicate, ignores other sources, and removes its rule and queue', async () => {
    const suspended = buildBanEvent('Account Suspended', sampleFields('Account Suspended'));
    const flagged = buildBanEvent('Account Flagged', sampleFields('Account Flagged'));
    const reinstated = buildBanEvent('Account Reinstated', sampleFields('Account Reinstated'));
    const out: string[] = [];
    const err: string[] = [];
    let ruleSeen = '';
    const res = await tailEvents(clients, {
      busName: BUS,
      maxEvents: 3,
      timeoutMs: 30000,
      waitSeconds: 1,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      onReady: async ({ ruleName }) => {
        ruleSeen = ruleName;
        const entries = [suspended, flagged, suspended, reinstated].map((e) => toPutEventsEntry(e, BUS));
        entries.splice(1, 0, { Source: 'someone-else', DetailType: 'Account Suspended', Detail: '{}', EventBusName: BUS });
        // one call at a time keeps the order the assertions read
        for (const e of entries) await clients.eventBridge.send(new PutEventsCommand({ Entries: [e] }));
      },
    });
    expect(ruleSeen.startsWith(TAIL_PREFIX)).toBe(true);
    expect(res).toMatchObject({ distinct: 3, duplicates: 1, received: 4 });
    expect(out).toHaveLength(4);
    expect(out[0]).toContain('Account Suspended');
    expect(out[0]).toContain(`eventId=${suspended.eventId}`);
    expect(out.filter((l) => l.endsWith('(duplicate)'))).toHaveLength(1);
    expect(out.join('\n')).not.toContain('someone-else');
    // cleaned up
    const rules = await clients.eventBridge.send(new ListRulesCommand({ EventBusName: BUS, NamePrefix: TAIL_PREFIX }));
    expect(rules.Rules ?? []).toHaveLength(0);
    const queues = await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: TAIL_PREFIX }));
    expect(queues.QueueUrls ?? []).toHaveLength(0);
    expect(err.join('\n')).toMatch(/removed rule distill-guard-tail-/);
  });

  it('filters on detail type and decidedBy', async () => {
    const out: string[] = [];
    await tailEvents(clients, {
      busName: BUS,
      detailTypes: ['Account Suspended'],
      decidedBy: ['reviewer:alice'],
      maxEvents: 1,
      timeoutMs: 30000,
      waitSeconds: 1,
      out: (l) => out.push(l),
      err: () => undefined,
      onReady: async () => {
        const a = buildBanEvent('Account Suspended', sampleFields('Account Suspended', { accountId: 'x1' }));
        const b = buildBanEvent('Account Suspended', sampleFields('Account Suspended', { accountId: 'x2', decidedBy: 'reviewer:alice' }));
        const c = buildBanEvent('Account Flagged', sampleFields('Account Flagged', { accountId: 'x3', decidedBy: 'reviewer:alice' }));
        await clients.eventBridge.send(new PutEventsCommand({ Entries: [a, c, b].map((e) => toPutEventsEntry(e, BUS)) }));
      },
    });
    expect(out).toHaveLength(1);
    expect(out[0]).toContain('account=x2');
  });

  it('stops on its stop signal and still cleans up', async () => {
    let stop!: () => void;
    const res = await tailEvents(clients, {
      busName: BUS,
      waitSeconds: 1,
      err: () => undefined,
      stopSignal: new Promise<void>((r) => (stop = r)),
      onReady: () => stop(),
    });
    expect(res.distinct).toBe(0);
    expect((await clients.eventBridge.send(new ListRulesCommand({ EventBusName: BUS, NamePrefix: TAIL_PREFIX }))).Rules ?? []).toHaveLength(0);
  });

  it('cleanup removes rules and queues left by a killed tail', async () => {
    await clients.eventBridge.send(
      new PutRuleCommand({ Name: `${TAIL_PREFIX}stale`, EventBusName: BUS, EventPattern: JSON.stringify(tailPattern()) }),
    );
    await clients.sqs.send(new CreateQueueCommand({ QueueName: `${TAIL_PREFIX}stale` }));
    const r = await cleanupTails(clients, BUS);
    expect(r).toEqual({ rules: 1, queues: 1 });
  });
});

describe('events helpers', () => {
  it('parse --since as a duration or a time, with a clear error otherwise', () => {
    const now = Date.UTC(2026, 10, 2, 12);
    expect(parseSince('30m', now)).toBe(now - 30 * 60000);
    expect(parseSince('2h', now)).toBe(now - 2 * 3600000);
    expect(parseSince('7d', now)).toBe(now - 7 * 86400000);
    expect(parseSince('2026-11-01T00:00:00Z', now)).toBe(Date.UTC(2026, 10, 1));
    expect(() => parseSince('yesterday', now)).toThrow(/got "yesterday"/);
  });

  it('the tail pattern is the one docs/events.md gives consumers', () => {
    expect(tailPattern(['Account Suspended'], ['auto'])).toEqual({
      source: ['distill-guard'],
      'detail-type': ['Account Suspended'],
      detail: { decidedBy: ['auto'] },
    });
  });

  it('formats a suspension on one line', () => {
    const e = buildBanEvent('Account Suspended', sampleFields('Account Suspended'));
    const line = formatEvent({ 'detail-type': 'Account Suspended', detail: e.detail, 'replay-name': 'r1' });
    expect(line).toMatch(
      /^2026-11-02T00:40:00.000Z {2}Account Suspended {2}.*account=acct_1 {2}by=auto {2}score=0.97 .*until=2026-11-09T00:40:00.000Z.*\(replay r1\)$/,
    );
  });
});

describe('npx distill-guard events tail --local (the command, as a process)', () => {
  it('reads the local session state, prints the bus history (--since) and new events, and exits after --max', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-tail-'));
    const state = path.join(dir, 'endpoints.json');
    fs.writeFileSync(
      state,
      JSON.stringify({ version: 1, region: REGION, endpoints: { eventbridge: eb.endpoint, sqs: sqsEmu.endpoint }, resources: { eventBusName: BUS } }),
    );
    const old = buildBanEvent('Account Flagged', sampleFields('Account Flagged', { accountId: 'history_1' }));
    await clients.eventBridge.send(new PutEventsCommand({ Entries: [toPutEventsEntry(old, BUS)] }));

    const child = spawn(
      process.execPath,
      [
        path.join(__dirname, '..', '..', 'bin', 'distill-guard.js'),
        'events',
        'tail',
        '--endpoints',
        state,
        '--since',
        '1h',
        '--max',
        '1',
        '--timeout',
        '90',
      ],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const ready = new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('tailing bus')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await Promise.race([ready, exited]);
      const live = buildBanEvent('Account Suspended', sampleFields('Account Suspended', { accountId: 'live_1' }));
      await clients.eventBridge.send(new PutEventsCommand({ Entries: [toPutEventsEntry(live, BUS)] }));
      expect(await exited).toBe(0);
      expect(stdout).toContain('account=history_1'); // from --since (local bus history)
      expect(stdout).toContain(`eventId=${live.eventId}`); // live, through the temporary rule + queue
      expect(stderr).toMatch(/removed rule distill-guard-tail-/);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});
