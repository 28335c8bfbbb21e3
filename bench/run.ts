/**
 * `npm run bench` (docs/aggregate.md, "Benchmark"): the shipped aggregator vs a naive baseline (one UpdateItem per event), fed the
 * same realistic batches: simulated traffic (sim/) packed into CloudWatch Logs subscription envelopes (gzip,
 * base64) and usage-event records, exactly as Lambda receives them from Kinesis.
 *
 * Prints figures, asserts nothing:
 * - events/s per core for decode, parse and aggregate (CPU time of this process, so other load on the machine
 *   does not distort them), and for the whole in-process path;
 * - DynamoDB write requests per 1,000 events against DynamoDB Local (started and stopped here);
 * - peak memory per batch;
 * - replay wall and CPU seconds per 1M lines beside a bare JSON.parse pass over the same file (replay-speed.ts).
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, ScanCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../local/emulators/dynamodb-local';
import { decodeRecord, parseAny, type AnyParseResult } from '../src/ingest';
import { BatchAggregator, planWindowUpdate, accountPk, windowSk, windowStartOf } from '../src/aggregate';
import { processBatch, ItemStateCache } from '../lambdas/aggregate/core';
import type { AccessLogRecord, UsageEvent } from '../src/shared/contract';
import { attributeSizeBytes, itemSizeBytes } from '../src/aggregate/size';
import { createFeaturesTable } from './features-table';
import { metered } from './metered';
import { localDynamoDb } from './local-dynamodb';
import { kinesisRecord } from './kinesis-records';
import { TrafficGen, envelopeData } from './synthetic';
import { replaySpeedInChild, writeLogsFile, type ReplaySpeed } from './replay-speed';
import * as os from 'node:os';

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
  /** Access-log file to measure replay on (default: the bench's own traffic, written to a temporary file). */
  replayLogs?: string;
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
  const names: Record<string, string> = {
    '#n': p.kind === 'request' ? 'n' : 'un',
    '#m': `mm:${Math.floor((e.ts - ws) / 60_000)}`,
    '#x': 'expiresAt',
  };
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

/** What one path (shipped or naive) did against DynamoDB Local. */
interface DdbRun {
  writes: number;
  events: number;
  wall: number;
  peakRss: number;
  wcuTable: number;
  wcuGsi: number;
}

/**
 * Against DynamoDB Local: the shipped aggregator over whole batches until `ddbEvents` events, then the naive
 * baseline over the same events; write requests, consumed WCU, wall time and the window item sizes.
 */
async function againstDynamoDbLocal(
  batches: KinesisStreamRecord[][],
  parsed: Array<AnyParseResult & { ok: true }>,
  opts: BenchOptions,
  now: () => number,
  log: (l: string) => void,
): Promise<{ shipped: DdbRun; naive: DdbRun; sizes: WindowSizes | undefined }> {
  log('starting DynamoDB Local ...');
  const emu = await startDynamoDbLocal();
  const ddb = localDynamoDb(emu.endpoint);
  const shipped: DdbRun = { writes: 0, events: 0, wall: 0, peakRss: 0, wcuTable: 0, wcuGsi: 0 };
  const naive: DdbRun = { writes: 0, events: 0, wall: 0, peakRss: 0, wcuTable: 0, wcuGsi: 0 };
  let sizes: WindowSizes | undefined;
  try {
    await createFeaturesTable(ddb, 'bench-shipped');
    await createFeaturesTable(ddb, 'bench-naive');
    // Shipped aggregator: whole batches until ddbEvents events.
    const cacheD = new ItemStateCache();
    const ms = metered(ddb);
    const t0 = Date.now();
    for (const batch of batches) {
      if (shipped.events >= opts.ddbEvents) break;
      const out = await processBatch(batch, { ddb: ms.client, tableName: 'bench-shipped', retentionDays: 30, now, cache: cacheD });
      shipped.writes += out.writes;
      shipped.events += out.events;
      shipped.peakRss = Math.max(shipped.peakRss, process.memoryUsage().rss);
    }
    shipped.wall = (Date.now() - t0) / 1000;
    shipped.wcuTable = ms.meter.table;
    shipped.wcuGsi = ms.meter.gsi;
    sizes = await windowItemSizes(ddb, 'bench-shipped');
    const mn = metered(ddb);
    // Naive baseline: the same events, one UpdateItem each (16 in flight).
    const t1 = Date.now();
    const todo = parsed.slice(0, shipped.events);
    let i = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (i < todo.length) {
          const p = todo[i++];
          await mn.client.send(naiveUpdate('bench-naive', p, 30 * 86400));
          naive.writes++;
          naive.events++;
        }
      }),
    );
    naive.wall = (Date.now() - t1) / 1000;
    naive.peakRss = process.memoryUsage().rss;
    naive.wcuTable = mn.meter.table;
    naive.wcuGsi = mn.meter.gsi;
  } finally {
    ddb.destroy();
    await emu.stop();
  }
  return { shipped, naive, sizes };
}

export async function runBench(partial: Partial<BenchOptions> = {}): Promise<Record<string, unknown>> {
  const opts = { ...BENCH_DEFAULTS, ...partial };
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const traffic = loadTraffic(opts);
  const { batches, events } = toBatches(traffic, opts);
  const now = () => Number(traffic.logs[traffic.logs.length - 1].requestTimeEpoch) + 60_000;
  log(
    `traffic: ${traffic.source}; ${traffic.usage.length} usage events; ${batches.length} batches of ${opts.batchRecords} records (${opts.eventsPerRecord} log events per envelope)`,
  );
  log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}, node ${process.version}`);

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

  // ---------------- replay: the command's path vs a bare JSON.parse pass ----------------
  const replay = measureReplay(traffic, opts, log);

  // ---------------- against DynamoDB Local ----------------
  const { shipped, naive, sizes } = await againstDynamoDbLocal(batches, parsed, opts, now, log);

  const perCore = (sec: number, count = n) => count / sec;
  const rows: Array<[string, string, string]> = [
    ['decode (events/s per core)', fmt(perCore(tDecode)), fmt(perCore(tDecode))],
    ['parse (events/s per core)', fmt(perCore(tParse)), fmt(perCore(tParse))],
    ['aggregate (events/s per core)', fmt(perCore(tAgg)), `${fmt(perCore(tNaiveAgg))} (builds 1 request/event)`],
    ['decode+parse+aggregate (events/s per core)', fmt(perCore(tDecode + tParse + tAgg)), fmt(perCore(tDecode + tParse + tNaiveAgg))],
    ['whole handler, I/O stubbed (events/s per core)', fmt(perCore(tProcess)), '-'],
    [
      'DynamoDB write requests per 1,000 events',
      ((shipped.writes / shipped.events) * 1000).toFixed(2),
      ((naive.writes / naive.events) * 1000).toFixed(0),
    ],
    ['consumed WCU per 1,000 events: table + byHour GSI', wcu(shipped), wcu(naive)],
    ['window item size, bytes: average / p95 / max', sizes ? `${fmt(sizes.avg)} / ${fmt(sizes.p95)} / ${fmt(sizes.max)}` : '-', '-'],
    [
      'window items over 1 KB (each started KB is 1 WCU)',
      sizes ? `${((sizes.over1k / sizes.items) * 100).toFixed(1)} % of ${fmt(sizes.items)}` : '-',
      '-',
    ],
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
  if (sizes) {
    log('');
    log(`window item bytes by attribute group (share of all ${fmt(sizes.items)} items' bytes):`);
    const total = Object.values(sizes.groups).reduce((a, b) => a + b, 0);
    for (const [g, b] of Object.entries(sizes.groups).sort((x, y) => y[1] - x[1]))
      log(`  ${g.padEnd(34)} ${fmt(b / sizes.items).padStart(7)} B/item  ${((b / total) * 100).toFixed(1).padStart(5)} %`);
  }
  log('');
  log(`in-process figures over ${fmt(n)} events (${fmt(events)} incl. skipped); DynamoDB figures over ${fmt(shipped.events)} events each.`);
  logReplay(replay, log);
  return { rows, opts, events: n, sizes, shipped, naive, replay };
}

/** Replay speed on --replay-logs, or on the bench's own traffic written as an access-log file. */
function measureReplay(traffic: Traffic, opts: BenchOptions, log: (l: string) => void): ReplaySpeed {
  const own = opts.replayLogs ? undefined : writeLogsFile(traffic.logs);
  const file = opts.replayLogs ?? own!.file;
  log(`measuring replay on ${opts.replayLogs ?? `the bench's ${traffic.logs.length} requests`} ...`);
  try {
    return replaySpeedInChild(file);
  } finally {
    own?.cleanup();
  }
}

function logReplay(r: ReplaySpeed, log: (l: string) => void): void {
  const row = (name: string, s: ReplaySpeed['replay']) =>
    `  ${name.padEnd(40)} ${s.wallPerM.toFixed(1).padStart(8)} s wall  ${s.cpuPerM.toFixed(1).padStart(8)} s CPU  per 1M lines`;
  log('');
  log(`replay over ${r.file} (${fmt(r.replay.lines)} lines, log time as the clock; CPU = user + system):`);
  log(row('replay command path', r.replay));
  log(row('bare pass: read+gunzip+split+JSON.parse', r.jsonParse));
  log(`  replay costs ${(r.replay.cpuPerM / r.jsonParse.cpuPerM).toFixed(1)}x the bare pass in CPU; peak RSS ${r.rssMb.toFixed(0)} MB`);
}

function wcu(x: { events: number; wcuTable: number; wcuGsi: number }): string {
  if (!x.events) return '-';
  const k = 1000 / x.events;
  return `${(x.wcuTable * k + x.wcuGsi * k).toFixed(1)} (${(x.wcuTable * k).toFixed(1)} + ${(x.wcuGsi * k).toFixed(1)})`;
}

export interface WindowSizes {
  items: number;
  avg: number;
  p95: number;
  max: number;
  over1k: number;
  /** Bytes per attribute group, summed over all items. */
  groups: Record<string, number>;
}

/** Which part of a window item an attribute belongs to (for the size breakdown). */
export function attributeGroup(name: string): string {
  if (name === 'pk' || name === 'sk') return 'keys (pk, sk)';
  if (name === 'gsi1pk' || name === 'gsi1sk') return 'byHour index keys (gsi1pk, gsi1sk)';
  if (name.startsWith('wm:')) return 'exactly-once watermarks (wm:<lane>)';
  if (name.startsWith('mm:') || name === 'mm') return 'per-minute counts (mm)';
  if (name.startsWith('m:') || name === 'ms') return 'models (m:<model>, ms)';
  if (name.startsWith('pc:')) return 'prompt classes (pc:<class>)';
  if (name === 'ip' || name === 'sn') return 'IP hashes and subnets (ip, sn)';
  if (name === 'ua' || name === 'key') return 'user agents and API keys (ua, key)';
  if (name === 'tpl') return 'templates (tpl)';
  return 'counters, times, TTL';
}

/** Scan a features table and measure its window items (pk `A#...`). */
export async function windowItemSizes(ddb: DynamoDBClient, table: string): Promise<WindowSizes> {
  const sizes: number[] = [];
  const groups: Record<string, number> = {};
  let start: Record<string, AttributeValue> | undefined;
  do {
    const r = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of r.Items ?? []) {
      if (!item.pk?.S?.startsWith('A#')) continue;
      sizes.push(itemSizeBytes(item));
      for (const k in item) {
        const g = attributeGroup(k);
        groups[g] = (groups[g] ?? 0) + attributeSizeBytes(k, item[k]);
      }
    }
    start = r.LastEvaluatedKey;
  } while (start);
  sizes.sort((a, b) => a - b);
  const n = sizes.length;
  return {
    items: n,
    avg: n ? sizes.reduce((a, b) => a + b, 0) / n : 0,
    p95: n ? sizes[Math.min(n - 1, Math.floor(n * 0.95))] : 0,
    max: n ? sizes[n - 1] : 0,
    over1k: sizes.filter((s) => s > 1024).length,
    groups,
  };
}
