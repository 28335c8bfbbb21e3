/**
 * The scheduled scorer end to end at scale (docs/aggregate.md, "Feature writes and the scorer's reads"): reading, profiles, detection and writes, against DynamoDB
 * Local (started and stopped here), with the features table exactly as the Aggregator construct defines it.
 *
 *   NODE_OPTIONS=--max-old-space-size=8192 npx tsx bench/scorer-scale.ts [--accounts 10000,100000] [--seed 1]
 *     [--projection INCLUDE_CHANGES|KEYS_ONLY|ALL (default: the construct's default)] [--update-share 0.02]
 *     [--cpu-prof <dir>]   (a V8 CPU profile of each scorer run, and its top functions by self time)
 *
 * For each size: N simulated accounts (organic accounts with a few sessions; 0.5 % campaign accounts in synchronized
 * clusters of 20 sharing templates and proxies, as bench/detect-scale.ts) are turned into hourly windows over 72 h
 * and written as the aggregator writes them. Then:
 * - run 1, a cold scorer (nothing cached): what every run cost before;
 * - the aggregator updates `--update-share` of the windows of the last two hours (real UpdateItems planned by
 *   src/aggregate/update.ts), as five minutes of traffic would;
 * - run 2, the same scorer five minutes later, warm (the windows and profiles of run 1 in memory).
 * Prints per run: wall time by phase, windows read / reused, DynamoDB read units (table and index, as DynamoDB
 * Local reports them with ReturnConsumedCapacity), heap. Prints figures; asserts nothing.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { nonNegativeInt, runScript } from '../cli/usage';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { startDynamoDbLocal } from '../local/emulators/dynamodb-local';
import { encodeSeq, windowToItem } from '../src/aggregate/item';
import { planWindowUpdate } from '../src/aggregate/update';
import { emptyWindow, type AccountWindow } from '../src/aggregate/window';
import { DEFAULT_DETECTION_CONFIG } from '../src/detect/config';
import * as scorer from '../lambdas/detect/scorer-core';
import { createControlTable, featuresTableDefinition } from './features-table';
import { localDynamoDb } from './local-dynamodb';
import { metered } from './metered';
import { oneRequestAcc } from './one-request';
import { rng } from '../sim/rng';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2);
const SPAN_H = 72;
const NOW = T0 + SPAN_H * HOUR;

function hex16(i: number, salt: number): string {
  let h = (i * 2654435761 + salt * 40503) >>> 0;
  let g = (h ^ 0x5bd1e995) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  g = Math.imul(g ^ (g >>> 13), 0x297a2d39) >>> 0;
  return h.toString(16).padStart(8, '0') + g.toString(16).padStart(8, '0');
}

interface Traits {
  ips: string[];
  subnets: string[];
  ua: string;
  key: string;
  templates: string[];
  createdAt: number;
  cot: boolean;
}

function addSession(
  ws: Map<number, AccountWindow>,
  id: string,
  t: Traits,
  start: number,
  minutes: number,
  perMinute: number,
  model: string,
  rand: () => number,
): void {
  for (let m = 0; m < minutes; m++) {
    const ts = start + m * 60_000;
    const hs = Math.floor(ts / HOUR) * HOUR;
    let w = ws.get(hs);
    if (!w) {
      w = emptyWindow(id, hs);
      w.accountCreatedAt = t.createdAt;
      w.firstTs = ts;
      ws.set(hs, w);
    }
    const minute = Math.floor((ts - hs) / 60_000);
    w.n += perMinute;
    w.minutes[minute] = (w.minutes[minute] ?? 0) + perMinute;
    w.models[model] = (w.models[model] ?? 0) + perMinute;
    w.lastTs = ts;
    if (rand() < 0.03) w.status4xx++;
    w.respBytes += perMinute * 1800;
    w.respBytesN += perMinute;
    w.latencyMs += perMinute * 900;
    w.latencyN += perMinute;
    w.usageN += perMinute;
    w.inputTokens += perMinute * 300;
    w.outputTokens += perMinute * 400;
    const pc = t.cot ? 'cot_elicitation' : 'chat';
    w.promptClasses[pc] = (w.promptClasses[pc] ?? 0) + perMinute;
    const ip = t.ips[Math.floor(rand() * t.ips.length)];
    if (!w.ips.includes(ip)) w.ips.push(ip);
    const sn = t.subnets[t.ips.indexOf(ip) % t.subnets.length];
    if (!w.subnets.includes(sn)) w.subnets.push(sn);
    if (!w.userAgents.includes(t.ua)) w.userAgents.push(t.ua);
    if (!w.apiKeys.includes(t.key)) w.apiKeys.push(t.key);
    const tpl = t.templates[Math.floor(rand() * t.templates.length)];
    if (!w.templates.includes(tpl)) w.templates.push(tpl);
  }
}

/** Hourly windows of n simulated accounts over 72 h (the population of bench/detect-scale.ts, as windows). */
export function syntheticWindows(n: number, seed = 1): AccountWindow[] {
  const rand = rng(seed);
  const out: AccountWindow[] = [];
  const popularUas = Array.from({ length: 10 }, (_, i) => `python-httpx/0.2${i}.0`);
  const campaigns = Math.max(1, Math.floor((n * 0.005) / 20));
  const campaignSessions: number[][] = [];
  for (let c = 0; c < campaigns; c++) campaignSessions.push(Array.from({ length: 20 }, () => T0 + Math.floor(rand() * (SPAN_H - 1) * 60) * 60_000));
  for (let i = 0; i < n; i++) {
    const id = `acct_${i}`;
    const campaign = i < campaigns * 20 ? Math.floor(i / 20) : -1;
    const ws = new Map<number, AccountWindow>();
    const createdAt = T0 - Math.floor(rand() * 700) * 86_400_000;
    if (campaign >= 0) {
      const ips = Array.from({ length: 20 }, () => hex16(Math.floor(rand() * 60), 1000 + campaign));
      const t: Traits = {
        ips,
        subnets: ips.map((_, k) => `203.${campaign % 250}.${k % 8}.0/24`),
        ua: popularUas[Math.floor(rand() * popularUas.length)],
        key: `key_${i}_0`,
        templates: Array.from({ length: 6 }, (_, k) => `camp-${campaign}-${k}`),
        createdAt,
        cot: true,
      };
      for (const s of campaignSessions[campaign]) addSession(ws, id, t, s + Math.floor(rand() * 3) * 60_000, 25, 2, 'model-a', rand);
    } else {
      const nat = rand() < 0.05 ? Math.floor(rand() * Math.max(1, n / 200)) : -1;
      const ip = nat >= 0 ? hex16(nat, 7) : hex16(i, 3);
      const own = 2 + Math.floor(rand() * 4);
      const templates = Array.from({ length: own }, (_, k) => `t-${i.toString(16)}-${k}`);
      if (rand() < 0.3) templates.push(`popular-${Math.floor(1000 * rand() * rand())}`);
      const t: Traits = {
        ips: [ip],
        subnets: [nat >= 0 ? `100.64.${nat % 250}.0/24` : `10.${(i >> 8) & 255}.${i & 255}.0/24`],
        ua: rand() < 0.9 ? popularUas[Math.floor(rand() * popularUas.length)] : `tail-client/${i}`,
        key: `key_${i}_0`,
        templates,
        createdAt,
        cot: false,
      };
      const sessions = 1 + Math.floor(rand() * 3);
      for (let s = 0; s < sessions; s++)
        addSession(
          ws,
          id,
          t,
          T0 + Math.floor(rand() * (SPAN_H - 2) * 60) * 60_000,
          5 + Math.floor(rand() * 40),
          1,
          rand() < 0.7 ? 'model-a' : 'model-b',
          rand,
        );
    }
    for (const w of ws.values()) out.push(w);
  }
  return out;
}

/** `--sizes 1000,10000`: integers of at least 100. */
function sizesArg(v: string): number[] {
  const sizes = v.split(',').map((s) => Number(s.trim()));
  for (const s of sizes) if (!Number.isInteger(s) || s < 100) throw new InvalidArgumentError(`expected comma-separated integers >= 100, got '${v}'`);
  return sizes;
}

function shareArg(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a share in 0..1, got '${v}'`);
  return n;
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

const WM = 'wm:shardId-000000000000';
const SEQ = '49600000000000000000000000000000000000000000000000000001';

async function seed(ddb: DynamoDBClient, table: string, windows: AccountWindow[], wallNow: number): Promise<number> {
  const t0 = Date.now();
  const chunks: AccountWindow[][] = [];
  for (let i = 0; i < windows.length; i += 25) chunks.push(windows.slice(i, i + 25));
  await pool(chunks, 8, async (chunk) => {
    let req: Array<{ PutRequest: { Item: Record<string, AttributeValue> } }> = chunk.map((w) => {
      // Last written at the end of its hour (the last two simulated hours: a minute ago, still active).
      const recent = w.windowStart >= NOW - 2 * HOUR;
      const item = windowToItem(w, 30, recent ? wallNow - 60_000 : wallNow - 6 * HOUR) as Record<string, AttributeValue>;
      item[WM] = { S: encodeSeq(SEQ) };
      return { PutRequest: { Item: item } };
    });
    while (req.length > 0) {
      const r = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: req } }));
      req = (r.UnprocessedItems?.[table] ?? []) as typeof req;
    }
  });
  for (const m of ['model-a', 'model-b']) {
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [table]: [
            { PutRequest: { Item: { pk: { S: `MODEL#${m}` }, sk: { S: 'FIRST' }, firstSeen: { N: String(T0 - 1000 * HOUR) }, model: { S: m } } } },
          ],
        },
      }),
    );
  }
  return Date.now() - t0;
}

/** The aggregator's next five minutes: one more request in `share` of the windows of the last two hours. */
async function touch(ddb: DynamoDBClient, table: string, windows: AccountWindow[], share: number, seedNo: number): Promise<number> {
  const rand = rng(seedNo + 99);
  const recent = windows.filter((w) => w.windowStart >= NOW - 2 * HOUR && rand() < share);
  await pool(recent, 16, async (w) => {
    const acc = oneRequestAcc(w, 59);
    const plan = planWindowUpdate(
      {
        accountId: w.accountId,
        windowStart: w.windowStart,
        acc,
        lanes: new Map([['shardId-000000000000', { min: SEQ.slice(0, -1) + '2', max: SEQ.slice(0, -1) + '2' }]]),
      },
      30,
    );
    const { establishes: _e, dropped: _d, setsAfter: _s, ...req } = plan as typeof plan & Record<string, unknown>;
    void _e;
    void _d;
    void _s;
    await ddb.send(new UpdateItemCommand({ TableName: table, ...(req as object) } as never));
  });
  return recent.length;
}

/** CPU profile of this process around one scorer run (node:inspector), written as a .cpuprofile (Chrome DevTools). */
async function startProfile(): Promise<{ stop(file: string): Promise<string> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Session } = require('node:inspector') as typeof import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = await post('Profiler.stop');
      session.disconnect();
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify(profile));
      return `${file}; top self time: ${topSelf(profile, 8)}`;
    },
  };
}

/** The functions with the most self time in a V8 CPU profile. */
export function topSelf(
  profile: {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
  },
  k: number,
): string {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    const t = self.get(n.id) ?? 0;
    total += t;
    const f = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(work\/main|tmp\/\w+)\//, '').replace(/^file:\/\//, '')}:${n.callFrame.lineNumber + 1}`;
    byFn.set(f, (byFn.get(f) ?? 0) + t);
  }
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([f, t]) => `${((t / total) * 100).toFixed(1)}% ${f}`)
    .join('; ');
}

const nullSfn = { send: async () => ({ executionArn: 'arn:x', startDate: new Date() }) } as unknown as SFNClient;

export interface ScorerScaleOptions {
  sizes: number[];
  seed: number;
  projection: string;
  updateShare: number;
  cpuProf?: string;
}

export async function runScorerScale(opts: ScorerScaleOptions, print: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<void> {
  print(`scorer scale (72 h lookback; node ${process.version}; ${os.cpus().length} cpus; byHour projection ${opts.projection})`);
  const emu = await startDynamoDbLocal();
  const raw = localDynamoDb(emu.endpoint, { maxAttempts: 10 });
  try {
    print('accounts | run  | windows | fetched | reused | read ms | profile ms | detect ms | write ms | total ms | RRU table | RRU index | heap MB');
    print('---------|------|---------|---------|--------|---------|------------|-----------|----------|----------|-----------|-----------|--------');
    for (const n of opts.sizes) {
      const features = `features-${n}`;
      const control = `control-${n}`;
      const def = (featuresTableDefinition as (p?: string) => ReturnType<typeof featuresTableDefinition>)(
        opts.projection === 'default' ? undefined : opts.projection,
      );
      await raw.send(new CreateTableCommand({ TableName: features, ...def }));
      await createControlTable(raw, control);
      const windows = syntheticWindows(n, opts.seed);
      const seedMs = await seed(raw, features, windows, Date.now());
      print(
        `         seeded ${windows.length.toLocaleString('en-US')} windows in ${(seedMs / 1000).toFixed(0)} s (index projection: ${JSON.stringify(def.GlobalSecondaryIndexes?.[0]?.Projection)})`,
      );
      const cacheMod = (() => {
        try {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          return require('../lambdas/detect/window-reader') as typeof import('../lambdas/detect/window-reader');
        } catch {
          return undefined; // the scorer before the change marker had no cache
        }
      })();
      const cache = cacheMod ? new cacheMod.WindowCache() : undefined;
      for (const run of [1, 2]) {
        if (run === 2) {
          const touched = await touch(raw, features, windows, opts.updateShare, opts.seed);
          print(`         aggregator updated ${touched.toLocaleString('en-US')} windows of the last 2 h`);
        }
        const m = metered(raw);
        (global as { gc?: () => void }).gc?.();
        let separateRead: { ms: number; rru: { table: number; gsi: number } } | undefined;
        if (!cache) {
          // The scorer before the change marker reports no phases: time its read on its own first.
          const mr = metered(raw);
          const r0 = Date.now();
          await scorer.readRecentWindows(
            { ddb: mr.client, featuresTable: features } as Parameters<typeof scorer.readRecentWindows>[0],
            NOW - SPAN_H * HOUR,
            NOW + 1,
          );
          separateRead = { ms: Date.now() - r0, rru: mr.meter.byTable[features] ?? { table: 0, gsi: 0 } };
          (global as { gc?: () => void }).gc?.();
        }
        const prof = opts.cpuProf ? await startProfile() : undefined;
        const t0 = Date.now();
        const s = (await scorer.runScorer({
          ddb: m.client,
          sfn: nullSfn,
          featuresTable: features,
          controlTable: control,
          stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:escalation',
          config: DEFAULT_DETECTION_CONFIG,
          lookbackHours: SPAN_H,
          now: NOW + (run - 1) * 300_000,
          cache,
        } as Parameters<typeof scorer.runScorer>[0])) as Awaited<ReturnType<typeof scorer.runScorer>> & Record<string, any>;
        const total = Date.now() - t0;
        if (prof) print(`         cpu profile: ${await prof.stop(`${opts.cpuProf}/scorer-${n}-run${run}.cpuprofile`)}`);
        const heap = process.memoryUsage().heapUsed / 2 ** 20;
        const tm = s.timings ?? {};
        const rd = s.read ?? { fetched: s.windows, reused: 0 };
        const readRru = separateRead?.rru ?? m.meter.byTable[features] ?? { table: 0, gsi: 0 };
        if (separateRead) tm.readMs = separateRead.ms;
        print(
          `${String(n).padEnd(8)} | ${run === 1 ? 'cold' : 'warm'} | ${String(s.windows).padStart(7)} | ${String(rd.fetched ?? '-').padStart(7)} | ${String(rd.reused ?? 0).padStart(6)} | ${String(tm.readMs ?? '-').padStart(7)} | ${String(tm.profileMs ?? '-').padStart(10)} | ${String(tm.runDetectionMs ?? s.detectMs).padStart(9)} | ${String(tm.writeMs ?? '-').padStart(8)} | ${String(total).padStart(8)} | ${readRru.table.toFixed(0).padStart(9)} | ${readRru.gsi.toFixed(0).padStart(9)} | ${heap.toFixed(0).padStart(7)}`,
        );
        print(
          `         run ${run}: flagged (review/suspend) ${(s.decisions.review ?? 0) + (s.decisions.suspend ?? 0)} of ${Math.max(1, Math.floor((n * 0.005) / 20)) * 20} simulated campaign accounts; ${s.accounts} accounts; profiles rebuilt ${s.profilesRebuilt ?? s.accounts}, reused ${s.profilesReused ?? 0}`,
        );
        if (!cache) break;
      }
      await raw.send(new DeleteTableCommand({ TableName: features }));
      await raw.send(new DeleteTableCommand({ TableName: control }));
    }
  } finally {
    raw.destroy();
    await emu.stop();
  }
}

if (require.main === module) {
  runScript(
    new Command('scorer-scale')
      .description('the scheduled scorer against DynamoDB Local at growing account counts')
      .option('--accounts <list>', 'account counts, comma-separated', sizesArg, [10_000, 100_000])
      .option('--seed <n>', 'seed of the synthetic traffic', nonNegativeInt, 1)
      .addOption(
        new Option('--projection <p>', 'features byHour GSI projection (default: the shipped one)')
          .choices(['default', 'INCLUDE_CHANGES', 'KEYS_ONLY', 'ALL'])
          .default('default'),
      )
      .option('--update-share <x>', 'share of accounts updated between runs, 0..1', shareArg, 0.02)
      .option('--cpu-prof <file>', 'write a CPU profile of the scorer runs')
      .action((o: { accounts: number[]; seed: number; projection: string; updateShare: number; cpuProf?: string }) =>
        runScorerScale({ sizes: o.accounts, seed: o.seed, projection: o.projection, updateShare: o.updateShare, cpuProf: o.cpuProf }),
      ),
  );
}
