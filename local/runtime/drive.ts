/**
 * Drives traffic through a LocalSession in log time: each slice of the log up to the next scheduled tick is put on
 * the stream, the pipeline is allowed to consume it, then the simulated clock advances and the scheduled
 * functions (the scorer) fire with that tick as their event time.
 */
import type { AccessLogRecord, UsageEvent } from '../../src/shared/contract';
import { LocalSession } from './session';

export interface DriveProgress {
  logTimeMs: number;
  eventsPut: number;
  ticks: number;
  done: boolean;
}

export interface DriveOptions {
  /** Max events per put between ticks (bounded memory). @default 5000 */
  readonly sliceEvents?: number;
  /** After the last event, advance the clock by this much so the final windows are scored. @default 1 hour */
  readonly tailMs?: number;
  /** Called after every slice. */
  readonly onProgress?: (p: DriveProgress) => void | Promise<void>;
  /** Called after each scheduled tick. */
  readonly onTick?: (timeMs: number) => void | Promise<void>;
  /** Stop early when this returns true. */
  readonly shouldStop?: () => boolean;
  /** Settle timeout per tick. @default 120 s */
  readonly settleTimeoutMs?: number;
}

export async function driveTraffic(
  session: LocalSession,
  events: Iterable<{ log: AccessLogRecord; usage?: UsageEvent }>,
  opts: DriveOptions = {},
): Promise<DriveProgress> {
  const clock = session.rt.clock;
  const slice = opts.sliceEvents ?? 5000;
  const progress: DriveProgress = { logTimeMs: clock.now(), eventsPut: 0, ticks: 0, done: false };
  let buf: Array<{ log: AccessLogRecord; usage?: UsageEvent }> = [];
  let lastT = clock.now();

  const flush = async () => {
    if (!buf.length) return;
    await session.put(buf);
    progress.eventsPut += buf.length;
    buf = [];
    await opts.onProgress?.(progress);
  };
  const tick = async (t: number) => {
    await flush();
    await session.settle(opts.settleTimeoutMs ?? 120_000);
    const before = clock.fired;
    await clock.advanceTo(t);
    progress.ticks += clock.fired - before;
    progress.logTimeMs = t;
    await opts.onTick?.(t);
    await opts.onProgress?.(progress);
  };

  await session.writer.control();
  for (const e of events) {
    if (opts.shouldStop?.()) break;
    const t = Number(e.log.requestTimeEpoch);
    if (Number.isFinite(t)) {
      let next = clock.nextTick();
      while (next !== undefined && t >= next) {
        await tick(next);
        next = clock.nextTick();
      }
      lastT = Math.max(lastT, t);
      progress.logTimeMs = lastT;
    }
    buf.push(e);
    if (buf.length >= slice) await flush();
  }
  await flush();
  const end = lastT + (opts.tailMs ?? 3_600_000);
  let next = clock.nextTick();
  while (next !== undefined && next <= end && !opts.shouldStop?.()) {
    await tick(next);
    next = clock.nextTick();
  }
  await session.settle(opts.settleTimeoutMs ?? 120_000);
  progress.done = true;
  await opts.onProgress?.(progress);
  return progress;
}
