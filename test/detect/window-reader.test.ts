/**
 * The scorer's read path against DynamoDB Local, with the features table as the Aggregator construct defines it
 * for each `byHour` projection: listing through the index, BatchGetItem of what is needed, reuse of unchanged
 * windows across runs (change marker), UnprocessedKeys. Only the one error path DynamoDB Local cannot produce (keys
 * that stay unprocessed) uses aws-sdk-client-mock.
 */
import { BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { startDynamoDbLocal, type RunningEmulator } from '../../local/emulators/dynamodb-local';
import { createFeaturesTable } from '../../bench/features-table';
import { metered } from '../../bench/metered';
import { oneRequestAcc } from '../../bench/one-request';
import { canonicalWindow } from '../../src/aggregate/accumulator';
import { CHANGE_MARKER_MS, windowToItem } from '../../src/aggregate/item';
import { planWindowUpdate } from '../../src/aggregate/update';
import { emptyWindow, type AccountWindow } from '../../src/aggregate/window';
import { ipInfo } from '../../src/ingest/ip';
import { CHANGE_MARGIN_MS, WindowCache, batchGetAll, buildProfiles, readWindows } from '../../lambdas/detect/window-reader';
import { HOUR, T0 } from './fixtures';

let emu: RunningEmulator;
let ddb: DynamoDBClient;
const FROM = T0;
const TO = T0 + 6 * HOUR;
/** Wall clock of the first read, on a change-marker boundary. */
const C1 = Math.floor(Date.UTC(2026, 10, 28, 12) / CHANGE_MARKER_MS) * CHANGE_MARKER_MS;

/** 150 accounts x 1..4 hours, with real IP hashes and subnets (stored in compact form). */
function windows(): AccountWindow[] {
  const out: AccountWindow[] = [];
  for (let a = 0; a < 150; a++) {
    for (let h = 0; h < 1 + (a % 4); h++) {
      const w = emptyWindow(`acct_${a}`, T0 + h * HOUR);
      w.n = 10 + a;
      w.minutes = { 3: 4, 17: 6 + a };
      w.models = { 'model-a': 10 + a };
      const ip = ipInfo(`198.51.${a % 200}.${h + 1}`);
      w.ips = [ip.ipHash!];
      w.subnets = [ip.subnet!];
      w.userAgents = ['python-httpx/0.27.0'];
      w.templates = [`t-${a}`];
      w.firstTs = w.windowStart + 3 * 60_000;
      w.lastTs = w.windowStart + 17 * 60_000;
      w.accountCreatedAt = T0 - 86_400_000;
      out.push(w);
    }
  }
  return out;
}
const ALL_WINDOWS = windows();
const canon = (ws: AccountWindow[]) => ws.map((w) => JSON.stringify(canonicalWindow(w as never))).sort();

async function seed(table: string, projection: 'INCLUDE_CHANGES' | 'KEYS_ONLY' | 'ALL', changedAt: number): Promise<void> {
  await createFeaturesTable(ddb, table, projection);
  const items = ALL_WINDOWS.map((w) => windowToItem(w, 30, changedAt) as Record<string, AttributeValue>);
  for (let i = 0; i < items.length; i += 25) {
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

/** What the aggregator does for one more request in window `w`, with its clock at `t`. */
async function aggregatorWrite(table: string, w: AccountWindow, t: number): Promise<void> {
  const acc = oneRequestAcc(w, 40);
  const plan = planWindowUpdate(
    { accountId: w.accountId, windowStart: w.windowStart, acc, lanes: new Map([['shardId-000000000000', { min: '7', max: '7' }]]) },
    30,
    {},
    undefined,
    t,
  );
  await ddb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: plan.Key,
      UpdateExpression: plan.UpdateExpression,
      ConditionExpression: plan.ConditionExpression,
      ExpressionAttributeNames: plan.ExpressionAttributeNames,
      ExpressionAttributeValues: plan.ExpressionAttributeValues as Record<string, AttributeValue>,
    }),
  );
}

beforeAll(async () => {
  emu = await startDynamoDbLocal();
  ddb = new DynamoDBClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' } });
  await seed('wr-changes', 'INCLUDE_CHANGES', C1 - HOUR);
  await seed('wr-keys', 'KEYS_ONLY', C1 - HOUR);
  await seed('wr-all', 'ALL', C1 - HOUR);
}, 180_000);

afterAll(async () => {
  ddb?.destroy();
  await emu?.stop();
});

describe('reading the lookback', () => {
  test('INCLUDE_CHANGES: lists keys and markers through the index, BatchGets every window (100 keys a request) on a cold read', async () => {
    const m = metered(ddb);
    const { windows: got, stats } = await readWindows({ ddb: m.client, featuresTable: 'wr-changes', clock: () => C1 }, FROM, TO);
    expect(canon(got)).toEqual(canon(ALL_WINDOWS));
    expect(stats).toMatchObject({
      partitions: 6 * 16,
      windows: ALL_WINDOWS.length,
      fetched: ALL_WINDOWS.length,
      reused: 0,
      fromIndex: 0,
      missing: 0,
      unprocessedRetries: 0,
    });
    expect(m.meter.requests.BatchGetItemCommand).toBe(Math.ceil(ALL_WINDOWS.length / 100));
    expect(m.meter.requests.QueryCommand).toBe(6 * 16);
  }, 60_000);

  test('a warm read reuses unchanged windows and re-reads exactly those written since (or possibly since) the last read', async () => {
    const cache = new WindowCache();
    const table = 'wr-changes';
    const deps = (clock: number) => ({ ddb, featuresTable: table, clock: () => clock });
    // Written 2 minutes before the first read: within the margin, so read again next time too.
    const early = ALL_WINDOWS[0];
    await aggregatorWrite(table, early, C1 - 120_000);
    const r1 = await readWindows(deps(C1), FROM, TO, cache);
    expect(r1.stats.fetched).toBe(ALL_WINDOWS.length);
    // The aggregator writes three windows after the first read.
    const written = [ALL_WINDOWS[10], ALL_WINDOWS[50], ALL_WINDOWS[200]];
    for (const w of written) await aggregatorWrite(table, w, C1 + 60_000);
    const r2 = await readWindows(deps(C1 + 5 * 60_000), FROM, TO, cache);
    expect(r2.stats).toMatchObject({ windows: ALL_WINDOWS.length, fetched: 4, reused: ALL_WINDOWS.length - 4 });
    const n = (ws: AccountWindow[], w: AccountWindow) => ws.find((x) => x.accountId === w.accountId && x.windowStart === w.windowStart)!.n;
    for (const w of written) expect(n(r2.windows, w)).toBe(w.n + 1);
    expect(n(r2.windows, early)).toBe(early.n + 1);
    // Until the markers are older than a read by the margin, those windows are read again; then never.
    const r3 = await readWindows(deps(C1 + 30 * 60_000), FROM, TO, cache);
    expect(r3.stats.fetched).toBe(3);
    const r4 = await readWindows(deps(C1 + 35 * 60_000), FROM, TO, cache);
    expect(r4.stats).toMatchObject({ fetched: 0, reused: ALL_WINDOWS.length });
    expect(canon(r4.windows)).toEqual(canon(r2.windows));
    // A copy older than maxAgeMs is read again, unchanged or not.
    const r5 = await readWindows(deps(C1 + 120 * 60_000), FROM, TO, cache, 60 * 60_000);
    expect(r5.stats.fetched).toBe(ALL_WINDOWS.length);
    // The lookback moved on: the cache keeps only what the last read returned.
    const r6 = await readWindows(deps(C1 + 125 * 60_000), FROM + 3 * HOUR, TO, cache);
    expect(r6.stats.fetched).toBe(0);
    expect(cache.windows.size).toBe(r6.windows.length);
    expect(r6.windows.every((w) => w.windowStart >= FROM + 3 * HOUR)).toBe(true);
  }, 60_000);

  test('the reuse rule: a window is reused only if read at least the margin after the end of its marker bucket', async () => {
    const table = 'wr-changes';
    const w = ALL_WINDOWS[7];
    const cache = new WindowCache();
    await aggregatorWrite(table, w, C1 + 10 * 60_000);
    const markerEnd = C1 + 15 * 60_000;
    await readWindows({ ddb, featuresTable: table, clock: () => markerEnd + CHANGE_MARGIN_MS - 1 }, FROM, TO, cache);
    const again = await readWindows({ ddb, featuresTable: table, clock: () => markerEnd + CHANGE_MARGIN_MS + 60_000 }, FROM, TO, cache);
    expect(again.stats.fetched).toBe(1);
    const settled = await readWindows({ ddb, featuresTable: table, clock: () => markerEnd + CHANGE_MARGIN_MS + 120_000 }, FROM, TO, cache);
    expect(settled.stats.fetched).toBe(0);
  }, 60_000);

  test('KEYS_ONLY: the index has no marker, so every window is read on every run', async () => {
    const cache = new WindowCache();
    for (const clock of [C1, C1 + 60 * 60_000]) {
      const { windows: got, stats } = await readWindows({ ddb, featuresTable: 'wr-keys', clock: () => clock }, FROM, TO, cache);
      expect(stats).toMatchObject({ fetched: ALL_WINDOWS.length, reused: 0 });
      expect(canon(got)).toEqual(canon(ALL_WINDOWS));
    }
  }, 60_000);

  test('ALL: windows come whole from the index, no BatchGetItem', async () => {
    const m = metered(ddb);
    const { windows: got, stats } = await readWindows({ ddb: m.client, featuresTable: 'wr-all', clock: () => C1 }, FROM, TO, new WindowCache());
    expect(stats).toMatchObject({ fromIndex: ALL_WINDOWS.length, fetched: 0 });
    expect(m.meter.requests.BatchGetItemCommand).toBeUndefined();
    expect(canon(got)).toEqual(canon(ALL_WINDOWS));
  }, 60_000);

  test('profiles: rebuilt only for accounts whose windows changed, in accountId order, equal to a full rebuild', async () => {
    const cache = new WindowCache();
    const deps = (clock: number) => ({ ddb, featuresTable: 'wr-changes', clock: () => clock });
    const t = C1 + 300 * 60_000;
    const r1 = await readWindows(deps(t), FROM, TO, cache);
    const p1 = buildProfiles(r1.windows, 60_000, cache, r1.gens);
    expect(p1.rebuilt).toBe(150);
    await aggregatorWrite('wr-changes', ALL_WINDOWS[20], t + 60_000);
    const r2 = await readWindows(deps(t + 5 * 60_000), FROM, TO, cache);
    expect(r2.stats.fetched).toBe(1);
    const p2 = buildProfiles(r2.windows, 60_000, cache, r2.gens);
    expect(p2).toMatchObject({ rebuilt: 1, reused: 149 });
    expect(p2.profiles.map((p) => p.accountId)).toEqual([...p2.profiles.map((p) => p.accountId)].sort());
    const fresh = buildProfiles(r2.windows, 60_000);
    const strip = (ps: typeof fresh.profiles) => ps.map(({ version: _v, ...rest }) => rest);
    expect(strip(p2.profiles)).toEqual(strip(fresh.profiles));
    // The lookback moves past hour 0: every account loses a window, so every remaining profile is rebuilt.
    const r3 = await readWindows(deps(t + 10 * 60_000), FROM + HOUR, TO, cache);
    expect(r3.stats.fetched).toBe(0);
    const p3 = buildProfiles(r3.windows, 60_000, cache, r3.gens);
    const remaining = new Set(r3.windows.map((w) => w.accountId)).size;
    expect(p3).toMatchObject({ rebuilt: remaining, reused: 0 });
    expect(strip(p3.profiles)).toEqual(strip(buildProfiles(r3.windows, 60_000).profiles));
    expect(cache.profiles.size).toBe(remaining);
  }, 60_000);
});

describe('BatchGetItem', () => {
  test('retries the keys DynamoDB leaves unprocessed (a response over 16 MB) until all are read', async () => {
    const table = 'wr-big';
    await createFeaturesTable(ddb, table);
    const big = 'x'.repeat(380_000);
    const keys: Array<Record<string, AttributeValue>> = [];
    for (let i = 0; i < 60; i++) {
      const Key = { pk: { S: `A#big_${i}` }, sk: { S: 'W#0000000000000' } };
      keys.push(Key);
      await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: [{ PutRequest: { Item: { ...Key, blob: { S: big } } } }] } }));
    }
    const sleeps: number[] = [];
    const got: string[] = [];
    const stats = await batchGetAll(ddb, table, keys, (item) => got.push(item.pk.S!), { sleep: async (ms) => void sleeps.push(ms) });
    expect(got.sort()).toEqual(keys.map((k) => k.pk.S!).sort());
    expect(stats.unprocessedRetries).toBeGreaterThan(0);
    expect(stats.requests).toBe(1 + stats.unprocessedRetries);
    expect(sleeps).toHaveLength(stats.unprocessedRetries);
  }, 120_000);

  describe('keys that stay unprocessed (mocked: DynamoDB Local cannot keep them unprocessed)', () => {
    test('backs off exponentially with full jitter, capped, then fails the read', async () => {
      const client = new DynamoDBClient({ region: 'us-east-1' });
      const mock = mockClient(client);
      mock.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: unknown[] }> }) => ({
        Responses: { t: [] },
        UnprocessedKeys: { t: { Keys: input.RequestItems.t.Keys } },
      }));
      const sleeps: number[] = [];
      const keys = Array.from({ length: 150 }, (_, i) => ({ pk: { S: `A#${i}` }, sk: { S: 'W#0' } }));
      await expect(
        batchGetAll(client, 't', keys, () => undefined, {
          maxAttempts: 6,
          baseDelayMs: 50,
          maxDelayMs: 400,
          random: () => 0.999,
          sleep: async (ms) => void sleeps.push(ms),
          concurrency: 1,
        }),
      ).rejects.toThrow(/left 100 of 100 keys unprocessed after 6 attempts/);
      expect(sleeps.slice(0, 5)).toEqual([49, 99, 199, 399, 399]);
      expect(mock.commandCalls(BatchGetItemCommand)[0].args[0].input.RequestItems!.t.Keys).toHaveLength(100);
    });

    test('reads what a retry returns and stops retrying', async () => {
      const client = new DynamoDBClient({ region: 'us-east-1' });
      const mock = mockClient(client);
      let call = 0;
      mock.on(BatchGetItemCommand).callsFake((input: { RequestItems: Record<string, { Keys: Array<Record<string, AttributeValue>> }> }) => {
        const ks = input.RequestItems.t.Keys;
        call++;
        // First answer: half the items, the rest unprocessed; then everything.
        const done = call === 1 ? ks.slice(0, 2) : ks;
        return { Responses: { t: done.map((k) => ({ ...k, n: { N: '1' } })) }, UnprocessedKeys: call === 1 ? { t: { Keys: ks.slice(2) } } : {} };
      });
      const got: string[] = [];
      const keys = Array.from({ length: 4 }, (_, i) => ({ pk: { S: `A#${i}` }, sk: { S: 'W#0' } }));
      const stats = await batchGetAll(client, 't', keys, (i) => got.push(i.pk.S!), { sleep: async () => undefined });
      expect(got).toEqual(['A#0', 'A#1', 'A#2', 'A#3']);
      expect(stats).toEqual({ requests: 2, unprocessedRetries: 1, items: 4 });
    });
  });
});
