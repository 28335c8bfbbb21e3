/**
 * `npm run bench` (issue 7 §1): the shipped aggregator vs a naive baseline (one UpdateItem per event), fed the
 * same realistic batches: simulated traffic (sim/) packed into CloudWatch Logs subscription envelopes (gzip,
 * base64) and usage-event records, exactly as Lambda receives them from Kinesis.
 *
 * Prints figures, asserts nothing:
 * - events/s per core for decode, parse and aggregate (CPU time of this process, so other load on the machine
 *   does not distort them), and for the whole in-process path;
 * - DynamoDB write requests per 1,000 events against DynamoDB Local (started and stopped here);
 * - peak memory per batch.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../local/emulators/dynamodb-local';
import { decodeRecord, parseAny, type AnyParseResult } from '../src/ingest';
import { BatchAggregator, planWindowUpdate, accountPk, windowSk, windowStartOf } from '../src/aggregate';
import { processBatch, ItemStateCache } from '../lambdas/aggregate/core';
import type { AccessLogRecord, UsageEvent } from '../src/shared/contract';
import { createFeaturesTable } from './features-table';
import { kinesisRecord } from './kinesis-records';
import { TrafficGen, envelopeData } from './synthetic';

export interface BenchOptions {
  /** Events for the in-process measurements. */
  events: number;
  /** Kinesis records per batch (the event source mapping's BatchSize). */
  batchRecords: number;
  /** Log events per CloudWatch Logs envelope. */
  eventsPerRecord: number;
  /** Events sent to DynamoDB Local by each side (the naive side does one write per event, so keep it modest). */
  ddbEvents: number;
  /** Traffic source: the simulator (sim/) or the built-in synthetic generator. */
  source: 'sim' | 'synthetic';
  log?: (line: string) => void;
}

export const BENCH_DEFAULTS: BenchOptions = { events: 200_000, batchRecords: 100, eventsPerRecord: 100, ddbEvents: 20_000, source: 'sim' };

interface Traffic {
  logs: AccessLogRecord[];
  usage: UsageEvent[];
  source: string;
}

function loadTraffic(opts: BenchOptions): Traffic {
  if (opts.source === 'sim') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sim = require('../sim') as typeof import('../sim');
      const s = sim.simulate({ seed: 7, scale: 'small', variant: 'base' });
      const logs: AccessLogRecord[] = [];
      const usage: UsageEvent[] = [];
      for (const ev of s.events()) {
        logs.push(ev.log);
        if (ev.usage) usage.push(ev.usage);
        if (logs.length >= opts.events) break;
      }
      if (logs.length >= Math.min(opts.events, 10_000)) return { logs, usage, source: `sim/ (seed 7, small, base): ${logs.length} requests` };
    } catch {
      // fall through to the synthetic generator
    }
  }
  const g = new TrafficGen({ seed: 7, accounts: 2000, stepMs: 2 });
  const logs = g.records(opts.events);
  const usage = logs.filter((_, i) => i % 2 === 0).map((l) => g.usageFor(l));
  return { logs, usage, source: `synthetic generator: ${logs.length} requests` };
}

/** Kinesis batches: envelopes of `eventsPerRecord` log events, plus NDJSON usage records, in time order. */
function toBatches(t: Traffic, opts: BenchOptions): { batches: KinesisStreamRecord[][]; events: number } {
  const records: KinesisStreamRecord[] = [];
  let u = 0;
  for (let i = 0; i < t.logs.length; i += opts.eventsPerRecord) {
    const chunk = t.logs.slice(i, i + opts.eventsPerRecord);
    records.push(kinesisRecord(envelopeData(chunk, `stream-${(i / opts.eventsPerRecord) % 8}`), 0, records.length));
    const until = Number(chunk[chunk.length - 1].requestTimeEpoch);
    const us: UsageEvent[] = [];
    while (u < t.usage.length && t.usage[u].timestamp <= until && us.length < opts.eventsPerRecord) us.push(t.usage[u++]);
    if (us.length > 0) records.push(kinesisRecord(gzipSync(us.map((x) => JSON.stringify(x)).join('\n')).toString('base64'), 0, records.length));
  }
  const batches: KinesisStreamRecord[][] = [];
  for (let i = 0; i < records.length; i += opts.batchRecords) batches.push(records.slice(i, i + opts.batchRecords));
  return { batches, events: t.logs.length + u };
}

function cpuSeconds(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

/** A DynamoDB client stand-in that answers instantly: isolates the in-process path from I/O. */
const nullDdb = { send: async () => ({}) } as unknown as DynamoDBClient;

/** Naive baseline: the same decode and parse, then one UpdateItem ADD per event (no pre-aggregation). */
function naiveUpdate(table: string, p: AnyParseResult & { ok: true }, retentionSeconds: number) {
  const e = p.event;
  const ws = windowStartOf(e.ts);
  const names: Record<string, string> = { '#n': p.kind === 'request' ? 'n' : 'un', '#m': `mm:${Math.floor((e.ts - ws) / 60_000)}`, '#x': 'expiresAt' };
  const values: Record<string, AttributeValue> = { ':one': { N: '1' }, ':x': { N: String(Math.floor(ws / 1000) + retentionSeconds) } };
  let add = '#n :one, #m :one';
  if (p.kind === 'request' && p.event.ipHash) {
    names['#ip'] = 'ip';
    values[':ip'] = { SS: [p.event.ipHash] };
    add += ', #ip :ip';
  }
  return new UpdateItemCommand({
    TableName: table,
    Key: { pk: { S: accountPk(e.accountId) }, sk: { S: windowSk(ws) } },
    UpdateExpression: `SET #x = :x ADD ${add}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  });
}

export async function runBench(partial: Partial<BenchOptions> = {}): Promise<Record<string, unknown>> {
  const opts = { ...BENCH_DEFAULTS, ...partial };
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const traffic = loadTraffic(opts);
  const { batches, events } = toBatches(traffic, opts);
  const now = () => Number(traffic.logs[traffic.logs.length - 1].requestTimeEpoch) + 60_000;
  log(`traffic: ${traffic.source}; ${traffic.usage.length} usage events; ${batches.length} batches of ${opts.batchRecords} records (${opts.eventsPerRecord} log events per envelope)`);
  log(`machine: ${require('node:os').cpus()[0]?.model ?? 'unknown cpu'} x${require('node:os').cpus().length}, node ${process.version}`);

  // ---------------- in-process path, stage by stage (CPU time) ----------------
  const all = batches.flat();
  // Warm-up: one pass of the whole handler path, as a long-lived Lambda container would be (JIT, IP-hash memo).
  {
    const warmCache = new ItemStateCache();
    for (const batch of batches) await processBatch(batch, { ddb: nullDdb, tableName: 't', retentionDays: 30, now, cache: warmCache });
  }
  let entries: Array<string | object> = [];
  const tDecode = cpuSeconds(() => {
    entries = [];
    for (const r of all) {
      const d = decodeRecord(r.kinesis.data);
      if (d.ok && d.kind !== 'control') for (const x of d.entries) entries.push(x);
    }
  });
  const parsed: Array<AnyParseResult & { ok: true }> = [];
  const tParse = cpuSeconds(() => {
    for (const x of entries) {
      const p = parseAny(x, { now: now() });
      if (p.ok) parsed.push(p);
    }
  });
  let deltas = 0;
  const tAgg = cpuSeconds(() => {
    let k = 0;
    for (const batch of batches) {
      const b = new BatchAggregator(true);
      const n = Math.ceil(parsed.length / batches.length);
      for (const p of parsed.slice(k, k + n)) b.add(p, { lane: 'shardId-000000000000', seq: String(k++) });
      for (const d of b.deltas.values()) planWindowUpdate(d, 30);
      deltas += b.deltas.size;
      void batch;
    }
  });
  const tNaiveAgg = cpuSeconds(() => {
    for (const p of parsed) naiveUpdate('t', p, 30 * 86400);
  });
  const cache = new ItemStateCache();
  let peakHeapPerBatch = 0;
  // The whole handler path (processBatch) with I/O stubbed: CPU time around the awaited loop.
  const c0 = process.cpuUsage();
  for (const batch of batches) {
    const h0 = process.memoryUsage().heapUsed;
    const out = await processBatch(batch, { ddb: nullDdb, tableName: 't', retentionDays: 30, now, cache });
    peakHeapPerBatch = Math.max(peakHeapPerBatch, process.memoryUsage().heapUsed - h0);
    void out;
  }
  const cw = process.cpuUsage(c0);
  const tProcess = (cw.user + cw.system) / 1e6;
  const n = parsed.length;

  // ---------------- against DynamoDB Local ----------------
  log('starting DynamoDB Local ...');
  const emu = await startDynamoDbLocal();
  const ddb = new DynamoDBClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' } });
  let shipped = { writes: 0, events: 0, wall: 0, peakRss: 0 };
  let naive = { writes: 0, events: 0, wall: 0, peakRss: 0 };
  try {
    await createFeaturesTable(ddb, 'bench-shipped');
    await createFeaturesTable(ddb, 'bench-naive');
    // Shipped aggregator: whole batches until ddbEvents events.
    const cacheD = new ItemStateCache();
    const t0 = Date.now();
    for (const batch of batches) {
      if (shipped.events >= opts.ddbEvents) break;
      const out = await processBatch(batch, { ddb, tableName: 'bench-shipped', retentionDays: 30, now, cache: cacheD });
      shipped.writes += out.writes;
      shipped.events += out.events;
      shipped.peakRss = Math.max(shipped.peakRss, process.memoryUsage().rss);
    }
    shipped.wall = (Date.now() - t0) / 1000;
    // Naive baseline: the same events, one UpdateItem each (16 in flight).
    const t1 = Date.now();
    const todo = parsed.slice(0, shipped.events);
    let i = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (i < todo.length) {
          const p = todo[i++];
          await ddb.send(naiveUpdate('bench-naive', p, 30 * 86400));
          naive.writes++;
          naive.events++;
        }
      }),
    );
    naive.wall = (Date.now() - t1) / 1000;
    naive.peakRss = process.memoryUsage().rss;
  } finally {
    ddb.destroy();
    await emu.stop();
  }

  const perCore = (sec: number, count = n) => count / sec;
  const rows: Array<[string, string, string]> = [
    ['decode (events/s per core)', fmt(perCore(tDecode)), fmt(perCore(tDecode))],
    ['parse (events/s per core)', fmt(perCore(tParse)), fmt(perCore(tParse))],
    ['aggregate (events/s per core)', fmt(perCore(tAgg)), `${fmt(perCore(tNaiveAgg))} (builds 1 request/event)`],
    ['decode+parse+aggregate (events/s per core)', fmt(perCore(tDecode + tParse + tAgg)), fmt(perCore(tDecode + tParse + tNaiveAgg))],
    ['whole handler, I/O stubbed (events/s per core)', fmt(perCore(tProcess)), '-'],
    ['DynamoDB write requests per 1,000 events', (shipped.writes / shipped.events * 1000).toFixed(2), (naive.writes / naive.events * 1000).toFixed(0)],
    ['(account, window) deltas per batch', (deltas / batches.length).toFixed(1), '-'],
    ['events/s end to end vs DynamoDB Local (wall)', fmt(shipped.events / shipped.wall), fmt(naive.events / naive.wall)],
    ['peak heap growth per batch (MB)', (peakHeapPerBatch / 2 ** 20).toFixed(1), '-'],
    ['peak RSS (MB)', (shipped.peakRss / 2 ** 20).toFixed(0), (naive.peakRss / 2 ** 20).toFixed(0)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(18, ...rows.map((r) => r[1].length));
  log('');
  log(`${'metric'.padEnd(w0)}  ${'shipped'.padStart(w1)}  naive baseline`);
  for (const [a, b, c] of rows) log(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  log('');
  log(`in-process figures over ${fmt(n)} events (${fmt(events)} incl. skipped); DynamoDB figures over ${fmt(shipped.events)} events each.`);
  return { rows, opts, events: n };
}
