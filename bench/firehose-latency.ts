/**
 * The latency the Firehose ingestion path costs (`ingestPath: 'firehose'`), measured where it can be and modelled
 * where it cannot (there is no Firehose emulator):
 *
 * 1. Processing (measured): the object aggregator's own time per object, `processObject` (lambdas/aggregate/
 *    object-core.ts) reading a gzip'd object from S3 (fauxqs) and writing DynamoDB Local, for several object sizes;
 *    and its CPU time with DynamoDB stubbed (decode + parse + aggregate, events/s per core).
 * 2. Buffering (simulated): requests arrive as a Poisson process at a given rate; Firehose cuts an object when the
 *    buffer interval has passed since the buffer opened or the buffer size is reached, whichever comes first. Each
 *    request's delay from arrival to its feature write = wait in the buffer + Firehose delivery + S3 event and SQS
 *    poll + processing of its object (fit from 1.). Prints median, p95 and max per rate and buffer setting.
 *
 * Prints figures, asserts nothing:  npx tsx bench/firehose-latency.ts [--sizes 1,8,32] [--skip-ddb]
 */
import { Command, InvalidArgumentError } from 'commander';
import { runScript } from '../cli/usage';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startDynamoDbLocal } from '../local/emulators/dynamodb-local';
import { startSqs } from '../local/emulators/sqs';
import { ItemStateCache } from '../lambdas/aggregate/core';
import { processObject } from '../lambdas/aggregate/object-core';
import { createFeaturesTable } from './features-table';
import { TrafficGen, rng } from './synthetic';
import * as os from 'node:os';

const creds = { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' };
const RECORD_BYTES = 441; // an access-log line (docs/contract.md) (src/cost/record.ts measures 438-440) plus the appended newline

/** Assumed, not measured here (no AWS from this machine): Firehose's own delivery after a cut, and S3 -> SQS -> Lambda. */
export const ASSUMED = { firehoseDeliverySeconds: 2, notifySeconds: 1, writeLatencyMs: 8, writeConcurrency: 16 };

interface Measured {
  mib: number;
  lines: number;
  accounts: number;
  windows: number;
  wallMs: number;
  cpuMs: number;
  stubWallMs: number;
  stubCpuMs: number;
}

function object(lines: number, accounts: number, seed: number): { body: Buffer; raw: number } {
  // one hour of traffic spread over the object's lines, like an object of a busy hour
  const g = new TrafficGen({ seed, accounts, stepMs: Math.max(1, Math.floor(3_600_000 / lines / 2)), start: Date.now() - 2 * 3_600_000 });
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) parts.push(JSON.stringify(g.nextRecord()));
  const text = parts.join('\n') + '\n';
  return { body: gzipSync(text), raw: Buffer.byteLength(text) };
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

async function measure(sizesMiB: number[], withDdb: boolean, log: (s: string) => void): Promise<Measured[]> {
  const sqs = await startSqs();
  const ddbEmu = withDdb ? await startDynamoDbLocal() : undefined;
  const s3 = new S3Client({ endpoint: sqs.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: creds });
  const ddb = ddbEmu ? new DynamoDBClient({ endpoint: ddbEmu.endpoint, region: 'us-east-1', credentials: creds }) : undefined;
  const stub = { send: async () => ({}) };
  const out: Measured[] = [];
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    for (const mib of sizesMiB) {
      const lines = Math.round((mib * 1024 * 1024) / RECORD_BYTES);
      const accounts = Math.min(20_000, Math.max(200, Math.round(lines / 20)));
      const { body, raw } = object(lines, accounts, 7 + mib);
      const key = `access-logs/bench-${mib}.gz`;
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: body }));
      const ref = { bucket: 'bench', key, eventName: 'ObjectCreated:Put' };
      // CPU-bound part: the object from memory, DynamoDB stubbed (gunzip + split + parse + aggregate + planning)
      const memS3 = { send: async () => ({ ContentLength: body.length, Body: { transformToByteArray: async () => new Uint8Array(body) } }) };
      let c = process.cpuUsage();
      let t = performance.now();
      const s = await processObject(ref, {
        ddb: stub as never,
        s3: memS3 as never,
        tableName: 'stub',
        retentionDays: 30,
        cache: new ItemStateCache(),
      });
      const stubWallMs = performance.now() - t;
      const stubCpuMs = cpuMs(c);
      let wallMs = NaN;
      let cpu = NaN;
      if (ddb) {
        // DynamoDB Local (one JVM on this 2-vCPU machine) writes far slower than DynamoDB: an upper bound only
        const table = `bench-${mib}-${Date.now()}`;
        await createFeaturesTable(ddb, table);
        c = process.cpuUsage();
        t = performance.now();
        const r = await processObject(ref, { ddb, s3, tableName: table, retentionDays: 30, cache: new ItemStateCache() });
        wallMs = performance.now() - t;
        cpu = cpuMs(c);
        if (r.status !== 'done') throw new Error(`object ${key}: ${r.status} ${r.reason ?? ''}`);
      }
      const m = { mib: raw / 1048576, lines, accounts, windows: s.deltas, wallMs, cpuMs: cpu, stubWallMs, stubCpuMs };
      out.push(m);
      log(
        `  ${m.mib.toFixed(1).padStart(6)} MiB raw (${(body.length / 1048576).toFixed(2)} MiB gzip), ${lines.toLocaleString('en-US')} lines, ${s.deltas.toLocaleString('en-US')} windows: ` +
          `${(stubCpuMs / 1000).toFixed(2)} s CPU decode+parse+aggregate (${Math.round(lines / (stubCpuMs / 1000)).toLocaleString('en-US')} events/s per core)` +
          (ddb ? `; with DynamoDB Local ${(wallMs / 1000).toFixed(2)} s wall` : ''),
      );
    }
  } finally {
    s3.destroy();
    ddb?.destroy();
    await ddbEmu?.stop();
    await sqs.stop();
  }
  return out;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/**
 * Simulate Firehose buffering for `seconds` of Poisson traffic at `rps`; return per-request delays (s), the objects
 * per hour and the mean object size. `processSeconds(mib)` is the aggregator's time for an object of that size.
 */
export function simulateBuffering(
  rps: number,
  intervalS: number,
  sizeMiB: number,
  processSeconds: (mib: number) => number,
  seconds = 3600,
  seed = 1,
) {
  const r = rng(seed);
  const cap = sizeMiB * 1048576;
  const delays: number[] = [];
  let t = 0;
  let open: number | undefined;
  let pending: number[] = [];
  let bytes = 0;
  let objects = 0;
  let totalMiB = 0;
  const cut = (at: number) => {
    const mib = bytes / 1048576;
    const done = at + ASSUMED.firehoseDeliverySeconds + ASSUMED.notifySeconds + processSeconds(mib);
    // sample to bound memory at high rates
    const step = Math.max(1, Math.floor(pending.length / 2000));
    for (let i = 0; i < pending.length; i += step) delays.push(done - pending[i]);
    objects++;
    totalMiB += mib;
    pending = [];
    bytes = 0;
    open = undefined;
  };
  while (t < seconds) {
    t += -Math.log(1 - r()) / rps;
    if (open !== undefined && t >= open + intervalS) cut(open + intervalS);
    if (open === undefined) open = t;
    pending.push(t);
    bytes += RECORD_BYTES;
    if (bytes >= cap) cut(t);
  }
  // the last, partial buffer is left out: traffic does not stop in reality, so its wait would be an artifact
  return { delays, objectsPerHour: (objects * 3600) / seconds, meanMiB: totalMiB / objects };
}

async function main(sizes: number[], withDdb: boolean): Promise<void> {
  const log = (s: string) => console.log(s);
  log(`Firehose path, processing time per object (this machine: ${os.cpus().length} vCPU, Node ${process.version}):`);
  const m = await measure(sizes, withDdb, log);
  // In AWS: the measured CPU time (one vCPU at 1769 MB) + the window writes, 16 in flight at ~8 ms each (the cost
  // model's assumption; DynamoDB Local on this machine is much slower and single-threaded, so its wall time above
  // is an upper bound, not the AWS figure).
  const cpuPerMiB = m.reduce((s, x) => s + x.stubCpuMs / 1000, 0) / m.reduce((s, x) => s + x.mib, 0);
  const windowsPerMiB = m.reduce((s, x) => s + x.windows, 0) / m.reduce((s, x) => s + x.mib, 0);
  const a = 0.05;
  const b = cpuPerMiB + (windowsPerMiB * ASSUMED.writeLatencyMs) / ASSUMED.writeConcurrency / 1000;
  log(
    `  processing in AWS ~ ${a.toFixed(2)} s + ${b.toFixed(3)} s/MiB (${cpuPerMiB.toFixed(3)} s/MiB CPU measured + ${Math.round(windowsPerMiB)} windows/MiB x ${ASSUMED.writeLatencyMs} ms / ${ASSUMED.writeConcurrency} in flight)`,
  );
  log('');
  log(
    `request -> feature write, simulated over 1 h of Poisson traffic (assumed: Firehose delivery ${ASSUMED.firehoseDeliverySeconds} s after a cut, S3 event + SQS poll ${ASSUMED.notifySeconds} s):`,
  );
  log('| rate | buffer | objects/h | mean object | median | p95 | max |');
  log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const rps of [10, 100, 1000, 10_000, 100_000]) {
    for (const [iv, mib] of [
      [60, 64],
      [300, 128],
      [900, 128],
    ] as Array<[number, number]>) {
      const sim = simulateBuffering(rps, iv, mib, (x) => a + b * x, rps >= 10_000 ? 600 : 3600);
      const f = (s: number) => (s >= 100 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`);
      log(
        `| ${rps.toLocaleString('en-US')} rps | ${iv} s / ${mib} MiB | ${Math.round(sim.objectsPerHour).toLocaleString('en-US')} | ${sim.meanMiB.toFixed(1)} MiB | ${f(quantile(sim.delays, 0.5))} | ${f(quantile(sim.delays, 0.95))} | ${f(sim.delays.reduce((x, y) => (y > x ? y : x), 0))} |`,
      );
    }
  }
}

function mibList(v: string): number[] {
  const sizes = v.split(',').map((s) => Number(s.trim()));
  for (const s of sizes) if (!(s > 0)) throw new InvalidArgumentError(`expected comma-separated positive MiB sizes, got '${v}'`);
  return sizes;
}

if (require.main === module) {
  runScript(
    new Command('firehose-latency')
      .description('Firehose path: processing time per object, and request-to-feature delay under buffering')
      .option('--sizes <mib>', 'object sizes in MiB, comma-separated', mibList, [1, 8, 32])
      .option('--skip-ddb', 'do not write the windows to DynamoDB Local')
      .action((o: { sizes: number[]; skipDdb?: boolean }) => main(o.sizes, !o.skipDdb)),
  );
}
