/**
 * Soak run of the local pipeline (docs/local.md, "Soak run"): a steady rate of access-log events (+ usage events) for at least
 * 10 minutes through the synthesized stack on the emulators. Every 10 s it samples memory (RSS and heap of this
 * process, which hosts the Lambda sandboxes as worker threads) and the ESM iterator age; at the end it checks
 * that events in == events counted (the sum of the aggregator's per-window request counters `n`).
 *
 *   npm run soak                          # 600 s at 200 events/s (cdk synth first)
 *   npx distill-guard local --soak 900 --rate 300 --no-synth
 *
 * Traffic: requests of the simulator (organic + campaigns), re-timed to the wall clock at the requested rate, so
 * the scorer's schedule runs in real time (`SimClock.runRealtime`). Figures are printed and written to
 * .local/soak.json; nothing is asserted here beyond the exit code (0 when in == counted).
 */
import { Command } from 'commander';
import { positiveNumber, runScript } from '../cli/usage';
import * as fs from 'fs';
import * as path from 'path';
import { simulate } from '../sim';
import { LocalSession } from '../local/runtime/session';
import type { AccessLogRecord, UsageEvent } from '../src/shared/contract';

export interface SoakOptions {
  seconds: number;
  /** access-log events per second */
  rate: number;
  cdkOut?: string;
  stackName?: string;
  log?: (s: string) => void;
  /** sampling interval. @default 10 s */
  sampleMs?: number;
  /** write figures here. @default .local/soak.json */
  outFile?: string;
}

export interface SoakSample {
  t: number;
  eventsPut: number;
  recordsDelivered: number;
  rssMb: number;
  /** heap of the main thread: the in-process emulators (kinesalite keeps every record for the stream's retention) */
  heapMb: number;
  /** heap of all Lambda sandboxes (worker threads): the pipeline's own memory */
  sandboxHeapMb: number;
  sandboxes: number;
  iteratorAgeMs: number;
  backlogRecords: number;
}

export interface SoakResult {
  ok: boolean;
  seconds: number;
  targetRate: number;
  eventsIn: number;
  eventsCounted: number;
  usageIn: number;
  sustainedRate: number;
  samples: SoakSample[];
  memory: {
    rssFirstMb: number;
    rssLastMb: number;
    heapFirstThirdMb: number;
    heapLastThirdMb: number;
    sandboxHeapFirstThirdMb: number;
    sandboxHeapLastThirdMb: number;
  };
  iteratorAge: { maxMs: number; lastMs: number };
  drainSeconds: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');
const clf = (t: number) => {
  const d = new Date(t);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
};

/** An endless supply of simulator requests, re-timed to `t`. */
function* retimed(): Generator<{ log: AccessLogRecord; usage?: UsageEvent }, never, number> {
  let round = 0;
  let t: number = yield undefined as never;
  for (;;) {
    const sim = simulate({ scale: 'small', seed: `soak-${round++}`, days: 1, organic: 300 });
    for (const e of sim.events()) {
      const log = { ...e.log, requestTimeEpoch: String(t), requestTime: clf(t), requestId: `${e.log.requestId}-${round}` };
      const usage = e.usage ? { ...e.usage, timestamp: t, requestId: log.requestId } : undefined;
      t = yield { log, usage };
    }
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const sampleMs = o.sampleMs ?? 10_000;
  log(`soak: ${o.seconds} s at ${o.rate} access-log events/s (+ usage events) through the local pipeline`);
  const session = await LocalSession.start({
    cdkOut: o.cdkOut,
    stackName: o.stackName,
    clockStartMs: Date.now(),
    subscriber: true,
    flushWhenCaughtUp: false,
  });
  const stopClock = session.rt.clock.runRealtime(1, 1000);
  const gen = retimed();
  gen.next();
  const samples: SoakSample[] = [];
  const t0 = Date.now();
  let put = 0;
  let nextSample = t0 + sampleMs;
  const recordsDelivered = () =>
    session.rt
      .stats()
      .mappings.filter((m) => m.kind === 'kinesis')
      .reduce((s, m) => s + m.recordsDelivered, 0);
  try {
    while (Date.now() - t0 < o.seconds * 1000) {
      // put what the rate owes up to now, in 100 ms slices
      const due = Math.floor(((Date.now() - t0) / 1000) * o.rate) - put;
      if (due > 0) {
        const batch: Array<{ log: AccessLogRecord; usage?: UsageEvent }> = [];
        const now = Date.now();
        for (let i = 0; i < due; i++) batch.push(gen.next(now).value);
        await session.put(batch);
        put += batch.length;
      }
      if (Date.now() >= nextSample) {
        nextSample += sampleMs;
        const mem = process.memoryUsage();
        const sb = Object.values(await session.rt.runner.memory());
        const s: SoakSample = {
          sandboxHeapMb: Math.round(sb.reduce((a, b) => a + b.heapUsed, 0) / 1048576),
          sandboxes: sb.reduce((a, b) => a + b.sandboxes, 0),
          t: Math.round((Date.now() - t0) / 1000),
          eventsPut: put,
          recordsDelivered: recordsDelivered(),
          rssMb: Math.round(mem.rss / 1048576),
          heapMb: Math.round(mem.heapUsed / 1048576),
          iteratorAgeMs: session.rt.iteratorAgeMs(),
          backlogRecords: session.writer.stats.records - recordsDelivered(),
        };
        samples.push(s);
        log(
          `  t=${String(s.t).padStart(4)}s put ${s.eventsPut} delivered ${s.recordsDelivered} records backlog ${s.backlogRecords} iterator age ${s.iteratorAgeMs} ms rss ${s.rssMb} MB main heap ${s.heapMb} MB sandbox heap ${s.sandboxHeapMb} MB (${s.sandboxes} sandboxes)`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const drainStart = Date.now();
    await session.settle(300_000);
    const drainSeconds = (Date.now() - drainStart) / 1000;
    const counted = await session.countedEvents();
    const third = Math.max(1, Math.floor(samples.length / 3));
    const result: SoakResult = {
      ok: counted === put,
      seconds: o.seconds,
      targetRate: o.rate,
      eventsIn: put,
      eventsCounted: counted,
      usageIn: session.writer.stats.usageEvents,
      sustainedRate: Math.round(put / ((drainStart - t0 + (Date.now() - drainStart)) / 1000)),
      samples,
      memory: {
        rssFirstMb: samples[0]?.rssMb ?? 0,
        rssLastMb: samples[samples.length - 1]?.rssMb ?? 0,
        heapFirstThirdMb: median(samples.slice(0, third).map((s) => s.heapMb)),
        heapLastThirdMb: median(samples.slice(-third).map((s) => s.heapMb)),
        sandboxHeapFirstThirdMb: median(samples.slice(0, third).map((s) => s.sandboxHeapMb)),
        sandboxHeapLastThirdMb: median(samples.slice(-third).map((s) => s.sandboxHeapMb)),
      },
      iteratorAge: { maxMs: Math.max(0, ...samples.map((s) => s.iteratorAgeMs)), lastMs: samples[samples.length - 1]?.iteratorAgeMs ?? 0 },
      drainSeconds,
    };
    log(
      `soak result: events in ${result.eventsIn}, events counted ${result.eventsCounted} (${result.ok ? 'equal' : 'MISMATCH'}); usage events ${result.usageIn}`,
    );
    log(`  sustained ${result.sustainedRate} events/s (target ${o.rate}); drain after the last put ${drainSeconds.toFixed(1)} s`);
    log(
      `  memory: Lambda sandboxes' heap median first third ${result.memory.sandboxHeapFirstThirdMb} MB, last third ${result.memory.sandboxHeapLastThirdMb} MB`,
    );
    log(
      `          process rss ${result.memory.rssFirstMb} -> ${result.memory.rssLastMb} MB; main-thread heap (in-process emulators, incl. kinesalite's retained records) ${result.memory.heapFirstThirdMb} -> ${result.memory.heapLastThirdMb} MB`,
    );
    log(`  iterator age: max ${result.iteratorAge.maxMs} ms, last ${result.iteratorAge.lastMs} ms`);
    const file = path.resolve(o.outFile ?? path.join('.local', 'soak.json'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`  figures written to ${path.relative(process.cwd(), file)}`);
    return result;
  } finally {
    await stopClock();
    await session.stop();
  }
}

if (require.main === module) {
  runScript(
    new Command('soak')
      .description('steady-rate soak of the local pipeline (prefer `distill-guard local --soak`)')
      .argument('[seconds]', 'how long', positiveNumber, 600)
      .argument('[rate]', 'access-log events per second', positiveNumber, 200)
      .action(async (seconds: number, rate: number) => {
        const r = await runSoak({ seconds, rate });
        process.exitCode = r.ok ? 0 : 1;
      }),
  );
}
