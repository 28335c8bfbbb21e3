/**
 * Holes in the ingest and aggregate stages, through the aggregator's batch logic (lambdas/aggregate/core.ts)
 * against DynamoDB Local and fauxqs: odd account ids, producer duplicates, unbounded numbers, a model named
 * `constructor`, IPs in the failure queue's raw samples, access logs from any stream producer.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startSqs, type SqsEmulator } from '../../local/emulators/sqs';
import { DuplicateMemory, ReplayAggregator, accountPk } from '../../src/aggregate';
import { MAX_RESPONSE_BYTES, ipInfo } from '../../src/ingest';
import { ItemStateCache, processBatch, type AggregatorDeps } from '../../lambdas/aggregate/core';
import { TrafficGen, envelopeJson } from '../../bench/synthetic';
import { kinesisRecord, readModelFirstSeen, readWindows, scanAll } from '../../bench/kinesis-records';
import type { AccessLogRecord } from '../../src/shared/contract';
import { startDdb, type DdbFixture } from './fixture';
import { ODD_IDS } from '../ingest/odd-ids';

const GROUP = 'API-Gateway-Execution-Logs_abc/prod';
const USAGE_STREAM = 'arn:aws:kinesis:us-east-1:123456789012:stream/demo-usage';

let fx: DdbFixture;
let sqsEmu: SqsEmulator;
let sqs: SQSClient;

beforeAll(async () => {
  [fx, sqsEmu] = await Promise.all([startDdb(), startSqs()]);
  sqs = new SQSClient({ endpoint: sqsEmu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' } });
}, 180_000);

afterAll(async () => {
  sqs?.destroy();
  await Promise.all([fx?.stop(), sqsEmu?.stop()]);
});

const gz = (s: string) => gzipSync(s).toString('base64');
/** An access-log envelope from `group` (gzip'd, base64). */
const envelope = (lines: Array<AccessLogRecord | string>, group = GROUP) =>
  gz(JSON.stringify({ ...JSON.parse(envelopeJson(lines)), logGroup: group }));
/** What a producer puts on the stream directly: NDJSON. */
const raw = (objs: object[]) => gz(objs.map((o) => JSON.stringify(o)).join('\n'));

async function deps(extra: Partial<AggregatorDeps> = {}): Promise<AggregatorDeps> {
  return { ddb: fx.ddb, tableName: await fx.table(), retentionDays: 30, accessLogGroups: [GROUP], cache: new ItemStateCache(), ...extra };
}

describe('accounts with ordinary provider ids can never be suspended: ingest', () => {
  it('keeps every id the rule accepts (|, /, +, #, spaces, 128+ characters, non-ASCII) under its own key, and counts the rejects without failing the batch', async () => {
    const g = new TrafficGen({ seed: 41, accounts: 1, stepMs: 1000, start: Date.now() - 3600_000 });
    const lines: Array<AccessLogRecord | string> = ODD_IDS.map((accountId) => ({ ...g.nextRecord(), accountId }));
    const bad = ['a\u0000b', ' lead', 'z'.repeat(257), 'acct\u202e1', 'a\ud83eb'];
    for (const accountId of bad) lines.push({ ...g.nextRecord(), accountId });
    const d = await deps();
    const out = await processBatch([kinesisRecord(envelope(lines), 0, 0)], d);
    expect(out.response.batchItemFailures).toEqual([]);
    expect(out.stats.byReason).toEqual({ 'bad-account-id': bad.length });
    const ws = await readWindows(fx.ddb, d.tableName);
    expect(ws.map((w) => w.accountId).sort()).toEqual([...ODD_IDS].sort());
    // Stored under the id as is (`A#<id>`), and read back intact.
    for (const id of ODD_IDS) {
      const items = (await scanAll(fx.ddb, d.tableName)).filter((i) => i.pk.S === accountPk(id));
      expect([id, items.length]).toEqual([id, 1]);
    }
  });
});

describe('producer duplicates are counted twice', () => {
  it('drops a PutRecord retry and a CloudWatch Logs redelivery, in the batch and across batches; a redelivered record is still exactly once', async () => {
    const g = new TrafficGen({ seed: 42, accounts: 3, stepMs: 1000, start: Date.now() - 2 * 3600_000 });
    const recs = g.records(30);
    const usage = recs.slice(0, 4).map((r) => g.usageFor(r));
    const expected = new ReplayAggregator();
    for (const r of recs) expected.addLogLine(r);
    for (const u of usage) expected.addUsageLine(u);
    const memory = new DuplicateMemory(1000);
    const d = await deps({ duplicateMemory: memory });
    const e1 = envelope(recs.slice(0, 20));
    const batch1 = [
      kinesisRecord(e1, 0, 0),
      kinesisRecord(raw(usage), 0, 1),
      kinesisRecord(raw(usage.slice(0, 2)), 0, 2), // the producer's PutRecord retry
      kinesisRecord(envelope(recs.slice(15, 25)), 0, 3), // CloudWatch Logs delivers 15..19 again, with 20..24
    ];
    const out1 = await processBatch(batch1, d);
    expect(out1.response.batchItemFailures).toEqual([]);
    expect(out1.stats.duplicates).toBe(2 + 5);
    expect(out1.stats.skipped).toBe(0);
    // Next batch: a late copy in another record (dropped: remembered), the first record redelivered (not a
    // duplicate of itself: its watermark suppresses it), and the rest of the traffic.
    const out2 = await processBatch([kinesisRecord(e1, 0, 0), kinesisRecord(envelope([recs[3], ...recs.slice(25)]), 0, 4)], d);
    expect(out2.response.batchItemFailures).toEqual([]);
    expect(out2.stats.duplicates).toBe(1);
    expect(out2.duplicatesSuppressed + out2.conditionalRetries).toBeGreaterThan(0);
    const ws = await readWindows(fx.ddb, d.tableName);
    expect(ws.reduce((s, w) => s + w.n, 0)).toBe(30);
    expect(ws.reduce((s, w) => s + w.usageN, 0)).toBe(4);
    const want = expected.store.allWindows();
    expect(ws.map((w) => [w.accountId, w.windowStart, w.n, w.usageN, w.respBytes, w.outputTokens])).toEqual(
      want
        .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : a.windowStart - b.windowStart))
        .map((w) => [w.accountId, w.windowStart, w.n, w.usageN, w.respBytes, w.outputTokens]),
    );
  });

  it('a failed write is not remembered: its retry is not taken for a duplicate', async () => {
    const g = new TrafficGen({ seed: 43, accounts: 1, stepMs: 1000, start: Date.now() - 3600_000 });
    const recs = g.records(5);
    const memory = new DuplicateMemory(1000);
    const good = await deps({ duplicateMemory: memory });
    // A table that does not exist: every write fails.
    const out1 = await processBatch([kinesisRecord(envelope(recs), 0, 0)], { ...good, tableName: 'no-such-table' });
    expect(out1.response.batchItemFailures.length).toBe(1);
    // The same events in another record (a producer retry after the failure): counted, not dropped.
    const out2 = await processBatch([kinesisRecord(envelope(recs), 0, 1)], good);
    expect(out2.stats.duplicates).toBe(0);
    expect((await readWindows(fx.ddb, good.tableName)).reduce((s, w) => s + w.n, 0)).toBe(5);
  });
});

describe('numbers are unbounded (responseLength "1e200")', () => {
  it('is clamped at parse: the window write lands (DynamoDB would refuse 1e+200) with the documented maximum', async () => {
    const g = new TrafficGen({ seed: 44, accounts: 1, stepMs: 1000, start: Date.now() - 3600_000 });
    const lines = [
      { ...g.nextRecord(), responseLength: '1e200', integrationLatency: '1e200' },
      { ...g.nextRecord(), responseLength: '-7', integrationLatency: 'NaN' },
      { ...g.nextRecord(), responseLength: '100', integrationLatency: '5' },
    ];
    const d = await deps();
    const out = await processBatch([kinesisRecord(envelope(lines), 0, 0)], d);
    expect(out.response.batchItemFailures).toEqual([]);
    expect(out.failedWrites).toBe(0);
    const [w] = await readWindows(fx.ddb, d.tableName);
    expect(w.n).toBe(3);
    expect([w.respBytes, w.respBytesN]).toEqual([MAX_RESPONSE_BYTES + 100, 2]);
    expect(w.latencyN).toBe(2);
  });
});

describe('a model named `constructor` skips first-seen', () => {
  it('writes MODEL#constructor/FIRST and counts m:constructor like any model', async () => {
    const g = new TrafficGen({ seed: 45, accounts: 1, stepMs: 1000, start: Date.now() - 3600_000 });
    const lines = ['constructor', 'toString', 'constructor', 'valueOf'].map((m) => ({ ...g.nextRecord(), path: `/prod/v1/models/${m}/messages` }));
    const d = await deps();
    await processBatch([kinesisRecord(envelope(lines), 0, 0)], d);
    const first = await readModelFirstSeen(fx.ddb, d.tableName);
    expect(Object.keys(first).sort()).toEqual(['constructor', 'toString', 'valueOf']);
    expect(first.constructor).toBe(Number(lines[0].requestTimeEpoch));
    const item = await fx.ddb.send(new GetItemCommand({ TableName: d.tableName, Key: { pk: { S: 'MODEL#constructor' }, sk: { S: 'FIRST' } } }));
    expect(item.Item?.firstSeen?.N).toBe(lines[0].requestTimeEpoch);
    const [w] = await readWindows(fx.ddb, d.tableName);
    expect(Object.getOwnPropertyDescriptor(w.models, 'constructor')?.value).toBe(2);
  });
});

describe('the decoder accepts raw access-log JSON from any stream producer: access logs only from the configured log groups', () => {
  it('skips (and counts) envelopes from other groups, raw access logs, usage lines in the access-log group and envelopes on a usage-only stream', async () => {
    const g = new TrafficGen({ seed: 46, accounts: 2, stepMs: 1000, start: Date.now() - 3600_000 });
    const ok = g.records(3);
    const forged = g.records(4);
    const u = g.usageFor(ok[0]);
    const onUsageStream = (data: string, i: number): KinesisStreamRecord => ({ ...kinesisRecord(data, 1, i), eventSourceARN: USAGE_STREAM });
    const d = await deps({ usageOnlyStreams: [USAGE_STREAM] });
    const out = await processBatch(
      [
        kinesisRecord(envelope(ok), 0, 0), // the gateway's access logs
        kinesisRecord(envelope([forged[0]], '/aws/lambda/demo-model-stub'), 0, 1), // another log group
        kinesisRecord(raw([forged[1]]), 0, 2), // raw access-log JSON put by a producer
        kinesisRecord(gz(JSON.stringify(forged[2])), 0, 3),
        kinesisRecord(envelope([JSON.stringify(g.usageFor(forged[3]))]), 0, 4), // a usage line inside the access-log group
        kinesisRecord(raw([u]), 0, 5), // a usage event put by the serving tier: accepted
        onUsageStream(envelope([forged[3]]), 0), // a forged envelope (right group name) on the usage-only stream
        onUsageStream(raw([g.usageFor(ok[1])]), 1), // a usage event on it: accepted
      ],
      d,
    );
    expect(out.response.batchItemFailures).toEqual([]);
    expect(out.stats.byReason).toEqual({ 'unknown-log-group': 2, 'access-log-outside-log-group': 2, 'usage-in-access-log-group': 1 });
    expect(out.unknownLogGroups).toEqual(['/aws/lambda/demo-model-stub', GROUP]);
    const ws = await readWindows(fx.ddb, d.tableName);
    expect(ws.reduce((s, w) => s + w.n, 0)).toBe(3);
    expect(ws.reduce((s, w) => s + w.usageN, 0)).toBe(2);
    const ids = new Set(forged.map((f) => f.requestId));
    expect(ids.size).toBe(4);
  });

  it('without any configured group nothing is read as an access log (fail closed)', async () => {
    const g = new TrafficGen({ seed: 47, accounts: 1, stepMs: 1000, start: Date.now() - 3600_000 });
    const d = await deps({ accessLogGroups: [] });
    const out = await processBatch([kinesisRecord(envelope(g.records(3)), 0, 0)], d);
    expect(out.stats.byReason).toEqual({ 'unknown-log-group': 3 });
    expect(await readWindows(fx.ddb, d.tableName)).toEqual([]);
  });
});

describe('4 KB raw samples with full IPs in the aggregator failure queue', () => {
  it('parks poison records with their samples decoded as far as possible and every IP replaced by its keyed hash', async () => {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'hardening-failures' }))).QueueUrl!;
    const g = new TrafficGen({ seed: 48, accounts: 2, stepMs: 1000, start: Date.now() - 3600_000 });
    const v4 = '198.51.100.23';
    const v6 = '2001:db8:85a3::8a2e:370:7334';
    const lines = g.records(30).map((r, i) => ({ ...r, sourceIp: i % 2 ? v6 : v4 }));
    const truncatedGzip = gzipSync(envelopeJson(lines)).subarray(0, 400).toString('base64');
    const notJson = Buffer.from(`client ${v4} and [${v6}] sent 203.0.113.77 garbage; cut at 192.0.2`).toString('base64');
    const notBase64 = `*** ${v4} not base64 ***`;
    const binary = Buffer.from([0x00, 0x01, 0x02, 0xff, ...Buffer.from(v4), 0x00, 0x9f, 0xfe]).toString('base64');
    const d = await deps({ sqs, failureQueueUrl: queueUrl });
    const out = await processBatch(
      [truncatedGzip, notJson, notBase64, binary].map((x, i) => kinesisRecord(x, 0, i)),
      d,
    );
    expect(out.parked).toBe(4);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const bodies = (got.Messages ?? []).map((m) => m.Body!);
    expect(bodies).toHaveLength(4);
    for (const b of bodies) {
      expect(b).not.toContain(v4);
      expect(b).not.toContain('2001:db8');
      expect(b).not.toContain('203.0.113.77');
      expect(b).not.toContain('192.0.2');
      expect(b).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    }
    const msgs = bodies.map((b) => JSON.parse(b));
    const byReason = Object.fromEntries(msgs.filter((m) => m.dataSampleEncoding !== 'omitted').map((m) => [m.reason, m]));
    expect(byReason['gunzip-failed']).toMatchObject({ dataSampleEncoding: 'gzip', dataHead: expect.stringMatching(/^1f8b/) });
    expect(byReason['gunzip-failed'].dataSample).toContain(`[ip:${ipInfo(v4).ipHash}]`);
    expect(byReason['not-json'].dataSample).toContain(`[ip:${ipInfo(v6).ipHash}]`);
    expect(byReason['not-json'].dataSample).toContain('sent [ip:');
    expect(byReason['invalid-base64']).toMatchObject({ dataSampleEncoding: 'text' });
    const omitted = msgs.find((m) => m.dataSampleEncoding === 'omitted');
    expect(omitted).toMatchObject({ dataSample: '', dataHead: '000102ff' });
    for (const m of msgs) expect(m.dataSample.length).toBeLessThanOrEqual(4096);
  });
});
