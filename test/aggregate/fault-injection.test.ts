/**
 * Exactly-once features under at-least-once delivery (docs/aggregate.md). The real batch logic of the aggregator
 * (lambdas/aggregate/core.ts, which the Lambda handler wraps) runs against DynamoDB Local through a
 * fault-injecting proxy, with a simulated event source mapping that retries, bisects on function errors,
 * resumes from partial-batch checkpoints and redelivers whole batches, two shards in parallel. The stored
 * features must equal those of a fault-free run exactly.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { processBatch, ItemStateCache, type BatchOutcome } from '../../lambdas/aggregate/core';
import { ReplayAggregator, canonicalWindow, type Window } from '../../src/aggregate';
import { TrafficGen, envelopeData, rng } from '../../bench/synthetic';
import { kinesisRecord, readModelFirstSeen, readWindows } from '../../bench/kinesis-records';
import { startDdb, type DdbFixture } from './fixture';
import { startFaultProxy, type EpochPlan, type FaultProxy } from './fault-proxy';

const NOW = Date.UTC(2026, 10, 2, 6);
const creds = { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' };

let fx: DdbFixture;
let proxy: FaultProxy;

beforeAll(async () => {
  fx = await startDdb();
  proxy = await startFaultProxy(fx.emu.endpoint);
}, 180_000);
afterAll(async () => {
  await proxy?.stop();
  await fx?.stop();
});

/** Two shards of envelopes (plus usage events and a poison record) from one account population. */
function makeShards(): { shards: KinesisStreamRecord[][]; expected: ReplayAggregator } {
  const g = new TrafficGen({ seed: 42, accounts: 12, stepMs: 900, start: Date.UTC(2026, 10, 2) });
  const expected = new ReplayAggregator();
  const shards: KinesisStreamRecord[][] = [[], []];
  for (let i = 0; i < 160; i++) {
    const shard = i % 2;
    const recs = g.records(12);
    for (const r of recs) expected.addLogLine(r);
    let data = envelopeData(recs);
    if (i % 5 === 0) {
      const usage = recs.slice(0, 4).map((r) => g.usageFor(r));
      for (const u of usage) expected.addUsageLine(u);
      shards[shard].push(kinesisRecord(data, shard, shards[shard].length));
      data = Buffer.from(usage.map((u) => JSON.stringify(u)).join('\n')).toString('base64');
    }
    if (i === 37) shards[shard].push(kinesisRecord('%%% not a record %%%', shard, shards[shard].length));
    shards[shard].push(kinesisRecord(data, shard, shards[shard].length));
  }
  return { shards, expected };
}

interface Counters {
  invocations: number;
  crashes: number;
  partial: number;
  duplicates: number;
  bisects: number;
}

/**
 * Simulated Kinesis event source mapping for one shard: batches of `batchSize`; on a function error the batch
 * is bisected (halves retried in order); on a partial batch response processing resumes from the reported
 * sequence number; successful batches are sometimes delivered again.
 */
async function runShard(records: KinesisStreamRecord[], table: string, faulty: boolean, seed: number, c: Counters): Promise<void> {
  const r = rng(seed);
  const cache = new ItemStateCache();
  const batchSize = 20;

  const invoke = async (batch: KinesisStreamRecord[], attempt: number): Promise<BatchOutcome | 'crashed'> => {
    c.invocations++;
    const plan: EpochPlan = {};
    if (faulty && attempt < 6) {
      const x = r();
      if (x < 0.25) plan.crashAfter = Math.floor(r() * 12);
      else if (x < 0.5) plan.lostResponse = new Set(Array.from({ length: 4 }, () => Math.floor(r() * 14)));
      else if (x < 0.7) plan.throttle = new Set(Array.from({ length: 6 }, () => Math.floor(r() * 14)));
    }
    const ep = proxy.epoch(plan);
    // maxAttempts 2: some injected throttles exhaust the SDK's retries and surface as failed writes.
    const ddb = new DynamoDBClient({ endpoint: ep.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 2 });
    const run = processBatch(batch, { ddb, tableName: table, retentionDays: 30, now: () => NOW, cache, writeConcurrency: 4 });
    run.catch(() => undefined);
    try {
      return await Promise.race([run, ep.crashed]);
    } catch {
      c.crashes++;
      // A crashed Lambda loses its memory: the next invocation starts with a cold cache.
      cache.models.clear();
      return 'crashed';
    } finally {
      // Abandoned requests of a crashed invocation are dropped by the proxy; closing the client ends them.
      ddb.destroy();
    }
  };

  const deliver = async (start: number, end: number, depth: number): Promise<void> => {
    let attempt = 0;
    while (start < end) {
      const out = await invoke(records.slice(start, end), attempt++);
      if (out === 'crashed') {
        if (end - start > 1 && attempt <= 3) {
          c.bisects++;
          const mid = start + Math.ceil((end - start) / 2);
          await deliver(start, mid, depth + 1);
          await deliver(mid, end, depth + 1);
          return;
        }
        continue;
      }
      const failed = out.response.batchItemFailures;
      if (failed.length > 0) {
        c.partial++;
        const idx = records.findIndex((x) => x.kinesis.sequenceNumber === failed[0].itemIdentifier);
        expect(idx).toBeGreaterThanOrEqual(start);
        start = idx;
        continue;
      }
      if (faulty && depth < 2 && r() < 0.2) {
        c.duplicates++;
        await deliver(start, end, depth + 1); // the same batch delivered again
      }
      return;
    }
  };

  for (let p = 0; p < records.length; p += batchSize) await deliver(p, Math.min(p + batchSize, records.length), 0);
}

describe('exactly-once under injected faults', () => {
  it('stores exactly the features of a fault-free run, whatever fails and is redelivered', async () => {
    const { shards, expected } = makeShards();
    const want = expected.store.allWindows().map(canonicalWindow);
    const total = want.reduce((s, w) => s + w.n, 0);
    expect(total).toBe(160 * 12);

    const clean = await fx.table();
    const c0: Counters = { invocations: 0, crashes: 0, partial: 0, duplicates: 0, bisects: 0 };
    await Promise.all(shards.map((s, i) => runShard(s, clean, false, 1 + i, c0)));
    const cleanWindows = await readWindows(fx.ddb, clean);
    const sortKey = (w: Window) => `${w.accountId}\u0000${String(w.windowStart).padStart(15, '0')}`;
    const sorted = (ws: Window[]) => [...ws].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
    expect(sorted(cleanWindows)).toEqual(sorted(want));
    expect(c0.crashes + c0.partial).toBe(0);

    // Which faults a run meets depends on how the shards interleave (they run concurrently), so the proof that the
    // faults really happened is taken over all runs; exactly-once is checked on every run.
    const faults: Counters = { invocations: 0, crashes: 0, partial: 0, duplicates: 0, bisects: 0 };
    for (const seed of [7, 1234, 99]) {
      const faulty = await fx.table();
      const c: Counters = { invocations: 0, crashes: 0, partial: 0, duplicates: 0, bisects: 0 };
      await Promise.all(shards.map((s, i) => runShard(s, faulty, true, seed + i, c)));
      console.log(`faulty run seed ${seed}: ${JSON.stringify(c)}`);
      for (const k of Object.keys(faults) as (keyof Counters)[]) faults[k] += c[k];
      expect(sorted(await readWindows(fx.ddb, faulty))).toEqual(sorted(cleanWindows));
      expect(await readModelFirstSeen(fx.ddb, faulty)).toEqual(await readModelFirstSeen(fx.ddb, clean));
    }
    expect(faults.crashes).toBeGreaterThan(6);
    expect(faults.partial).toBeGreaterThan(0);
    expect(faults.duplicates).toBeGreaterThan(0);
    expect(faults.bisects).toBeGreaterThan(0);
    expect(await readModelFirstSeen(fx.ddb, clean)).toEqual(expected.store.modelFirstSeen());
  }, 600_000);
});
