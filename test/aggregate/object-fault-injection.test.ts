/**
 * Exactly-once on the Firehose path (docs/aggregate.md, "S3 objects"): the real object logic
 * (lambdas/aggregate/object-core.ts, which the SQS handler wraps) reads gzip'd objects from S3 (fauxqs) and
 * writes to DynamoDB Local through the fault-injecting proxy of fault-injection.test.ts. A simulated SQS event
 * source mapping delivers the notifications out of order, redelivers crashed invocations (crash after k writes,
 * responses lost after the write landed, throttles that exhaust the SDK's retries, S3 read errors) and successful
 * ones, and sometimes runs two deliveries of the same object at the same time. Objects are cut into small chunks so
 * that an object's writes span several chunks. The stored features must equal those of a fault-free run, and
 * those of the Kinesis path for the same lines, exactly.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startSqs, type SqsEmulator } from '../../local/emulators/sqs';
import { ItemStateCache, processBatch } from '../../lambdas/aggregate/core';
import { processObject, type ObjectOutcome } from '../../lambdas/aggregate/object-core';
import { ReplayAggregator, canonicalWindow, type Window } from '../../src/aggregate';
import type { S3ObjectRef } from '../../src/ingest';
import { TrafficGen, envelopeData, rng } from '../../bench/synthetic';
import { kinesisRecord, readModelFirstSeen, readWindows } from '../../bench/kinesis-records';
import { startDdb, type DdbFixture } from './fixture';
import { startFaultProxy, type EpochPlan, type FaultProxy } from './fault-proxy';

const NOW = Date.UTC(2026, 10, 2, 6);
const BUCKET = 'fault-objects';
const CHUNK = 40;
const creds = { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' };

let fx: DdbFixture;
let proxy: FaultProxy;
let emu: SqsEmulator;
let s3: S3Client;

beforeAll(async () => {
  [fx, emu] = await Promise.all([startDdb(), startSqs()]);
  proxy = await startFaultProxy(fx.emu.endpoint);
  s3 = new S3Client({ endpoint: emu.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: creds });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 180_000);
afterAll(async () => {
  s3?.destroy();
  await proxy?.stop();
  await Promise.all([fx?.stop(), emu?.stop()]);
});

/** 14 objects of 60..140 lines from one population (a few malformed lines), and the same lines as Kinesis envelopes. */
async function makeObjects(): Promise<{ refs: S3ObjectRef[]; envelopes: KinesisStreamRecord[]; expected: ReplayAggregator }> {
  const g = new TrafficGen({ seed: 77, accounts: 10, stepMs: 1100, start: Date.UTC(2026, 10, 2) });
  const r = rng(5);
  const expected = new ReplayAggregator();
  const refs: S3ObjectRef[] = [];
  const envelopes: KinesisStreamRecord[] = [];
  for (let i = 0; i < 14; i++) {
    const recs = g.records(60 + Math.floor(r() * 80));
    const lines: string[] = recs.map((x) => JSON.stringify(x));
    for (const x of recs) expected.addLogLine(x);
    if (i % 4 === 1) lines.splice(17, 0, '{"requestId": "broken', 'not json');
    const text = i % 2 ? lines.join('\n') : lines.join('');
    const key = `access-logs/2026/11/02/0${i % 6}/amazon-apigateway-fault-1-2026-11-02-00-00-${String(i).padStart(2, '0')}-x.gz`;
    const body = gzipSync(text);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    refs.push({ bucket: BUCKET, key, size: body.length, eventName: 'ObjectCreated:Put' });
    for (let k = 0; k < recs.length; k += 20) envelopes.push(kinesisRecord(envelopeData(recs.slice(k, k + 20)), 0, envelopes.length));
  }
  return { refs, envelopes, expected };
}

interface Counters {
  invocations: number;
  crashes: number;
  retries: number;
  duplicates: number;
  concurrent: number;
  s3Errors: number;
}

/**
 * Simulated SQS event source mapping: up to 3 deliveries in flight; a crashed or `retry` delivery goes back into
 * the queue at a random place; a successful one is sometimes delivered again (later, or right away in parallel).
 */
async function runQueue(refs: S3ObjectRef[], table: string, faulty: boolean, seed: number, c: Counters): Promise<void> {
  const r = rng(seed);
  const queue = refs.map((ref) => ({ ref, attempt: 0 }));
  for (let i = queue.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [queue[i], queue[j]] = [queue[j], queue[i]];
  }
  let cache = new ItemStateCache();

  const invoke = async (ref: S3ObjectRef, attempt: number): Promise<ObjectOutcome | 'crashed'> => {
    c.invocations++;
    const plan: EpochPlan = {};
    let s3Fails = false;
    if (faulty && attempt < 6) {
      const x = r();
      if (x < 0.25) plan.crashAfter = Math.floor(r() * 14);
      else if (x < 0.45) plan.lostResponse = new Set(Array.from({ length: 4 }, () => Math.floor(r() * 16)));
      else if (x < 0.65) plan.throttle = new Set(Array.from({ length: 6 }, () => Math.floor(r() * 16)));
      else if (x < 0.72) s3Fails = true;
    }
    const ep = proxy.epoch(plan);
    const ddb = new DynamoDBClient({ endpoint: ep.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 2 });
    const s3c = s3Fails
      ? {
          send: async () => {
            c.s3Errors++;
            throw Object.assign(new Error('injected: SlowDown'), { name: 'SlowDown' });
          },
        }
      : s3;
    const run = processObject(ref, {
      ddb,
      s3: s3c,
      tableName: table,
      retentionDays: 30,
      now: () => NOW,
      cache,
      writeConcurrency: 4,
      chunkRecords: CHUNK,
    });
    run.catch(() => undefined);
    try {
      return await Promise.race([run, ep.crashed]);
    } catch {
      c.crashes++;
      cache = new ItemStateCache(); // a crashed sandbox loses its memory
      return 'crashed';
    } finally {
      ddb.destroy();
    }
  };

  while (queue.length > 0) {
    const batch = queue.splice(0, Math.min(queue.length, 1 + Math.floor(r() * 3)));
    // sometimes the same message is delivered twice at once (SQS at-least-once, visibility timeout expiry)
    if (faulty && r() < 0.25) {
      batch.push({ ...batch[0] });
      c.concurrent++;
    }
    const results = await Promise.all(batch.map((m) => invoke(m.ref, m.attempt)));
    results.forEach((res, k) => {
      const m = batch[k];
      if (res === 'crashed' || res.status === 'retry') {
        if (res !== 'crashed') c.retries++;
        queue.splice(Math.floor(r() * (queue.length + 1)), 0, { ref: m.ref, attempt: m.attempt + 1 });
      } else {
        expect(res.status).toBe('done');
        if (faulty && m.attempt < 3 && r() < 0.2) {
          c.duplicates++;
          queue.splice(Math.floor(r() * (queue.length + 1)), 0, { ref: m.ref, attempt: m.attempt + 3 });
        }
      }
    });
  }
}

describe('exactly-once on the Firehose path under injected faults', () => {
  it('stores exactly the features of a fault-free run, and of the Kinesis path, whatever fails and is redelivered', async () => {
    const { refs, envelopes, expected } = await makeObjects();
    const want = expected.store.allWindows().map(canonicalWindow);
    const sortKey = (w: Window) => `${w.accountId}\u0000${String(w.windowStart).padStart(15, '0')}`;
    const sorted = (ws: Window[]) => [...ws].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));

    const clean = await fx.table();
    const c0: Counters = { invocations: 0, crashes: 0, retries: 0, duplicates: 0, concurrent: 0, s3Errors: 0 };
    await runQueue(refs, clean, false, 1, c0);
    const cleanWindows = await readWindows(fx.ddb, clean);
    expect(c0.crashes + c0.retries).toBe(0);
    expect(sorted(cleanWindows)).toEqual(sorted(want));

    // the Kinesis path, same lines
    const kin = await fx.table();
    const out = await processBatch(envelopes, { ddb: fx.ddb, tableName: kin, retentionDays: 30, now: () => NOW });
    expect(out.response.batchItemFailures).toEqual([]);
    expect(sorted(await readWindows(fx.ddb, kin))).toEqual(sorted(cleanWindows));

    for (const seed of [3, 4242]) {
      const faulty = await fx.table();
      const c: Counters = { invocations: 0, crashes: 0, retries: 0, duplicates: 0, concurrent: 0, s3Errors: 0 };
      await runQueue(refs, faulty, true, seed, c);
      console.log(`faulty object run seed ${seed}: ${JSON.stringify(c)}`);
      // the faults really happened
      expect(c.crashes).toBeGreaterThan(3);
      expect(c.retries).toBeGreaterThan(0);
      expect(c.duplicates).toBeGreaterThan(0);
      expect(c.concurrent).toBeGreaterThan(0);
      expect(sorted(await readWindows(fx.ddb, faulty))).toEqual(sorted(cleanWindows));
      expect(await readModelFirstSeen(fx.ddb, faulty)).toEqual(await readModelFirstSeen(fx.ddb, clean));
    }
    expect(await readModelFirstSeen(fx.ddb, clean)).toEqual(expected.store.modelFirstSeen());
  }, 600_000);
});
