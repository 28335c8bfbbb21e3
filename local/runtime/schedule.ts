/**
 * EventBridge schedule expressions (`rate(...)`, `cron(...)`, `at(...)`) on a clock the runtime controls.
 *
 * The clock is simulated log time: the traffic driver advances it as it pushes log records, and every tick that
 * falls in the advanced span fires in order, awaited, with the event `time` set to the tick (so a scheduled
 * scorer sees the same "now" it would have seen in AWS at that point of the log). `runRealtime` advances it with
 * the wall clock instead (optionally sped up) for long-running sessions.
 *
 * Hand-written: cron-parser and friends implement Unix cron, not EventBridge's six-field dialect with `?`, `L`, `W`
 * and a year field; this supports the subset CDK's `Schedule.rate/cron` emit (lists, ranges, steps, `?`, `*`).
 */

export interface ScheduleSpec {
  /** Next fire time strictly after `afterMs`, or undefined when the schedule will not fire again. */
  next(afterMs: number): number | undefined;
  expression: string;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseField(field: string, min: number, max: number, names?: string[], offset = 0): Set<number> | undefined {
  if (field === '*' || field === '?') return undefined;
  const out = new Set<number>();
  const val = (s: string): number => {
    const i = names?.indexOf(s.toUpperCase()) ?? -1;
    if (i >= 0) return i + offset;
    const n = Number(s);
    if (!Number.isInteger(n)) throw new Error(`invalid cron value ${JSON.stringify(s)}`);
    return n;
  };
  for (const part of field.split(',')) {
    const [range, stepS] = part.split('/');
    const step = stepS ? Number(stepS) : 1;
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(val) as [number, number];
    else {
      lo = val(range);
      hi = stepS ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** Parses an EventBridge schedule expression. Throws on anything it cannot evaluate. */
export function parseSchedule(expression: string, anchorMs = 0): ScheduleSpec {
  const rate = /^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$/.exec(expression.trim());
  if (rate) {
    const period = Number(rate[1]) * UNIT_MS[rate[2]];
    if (period <= 0) throw new Error(`invalid rate expression ${expression}`);
    // EventBridge aligns rate schedules to when the rule was created; anchor on the given time (log start).
    return { expression, next: (after) => anchorMs + (Math.floor((after - anchorMs) / period) + 1) * period };
  }
  const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression.trim());
  if (at) {
    const t = Date.parse(`${at[1]}Z`);
    return { expression, next: (after) => (t > after ? t : undefined) };
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (cron) {
    const f = cron[1].trim().split(/\s+/);
    if (f.length !== 6) throw new Error(`cron expression needs 6 fields: ${expression}`);
    if (/[LW#]/.test(f[2] + f[4])) throw new Error(`cron expression ${expression} uses L, W or # which the local scheduler does not support`);
    const minutes = parseField(f[0], 0, 59);
    const hours = parseField(f[1], 0, 23);
    const dom = parseField(f[2], 1, 31);
    const months = parseField(f[3], 1, 12, MONTHS, 1);
    const dow = parseField(f[4], 1, 7, DAYS, 1); // EventBridge: 1 = SUN
    const years = parseField(f[5], 1970, 2199);
    const ok = (s: Set<number> | undefined, v: number) => !s || s.has(v);
    return {
      expression,
      next: (after) => {
        let t = Math.floor(after / 60_000) * 60_000 + 60_000;
        const limit = after + 366 * 86_400_000 * 2;
        while (t <= limit) {
          const d = new Date(t);
          if (!ok(years, d.getUTCFullYear()) || !ok(months, d.getUTCMonth() + 1)) {
            t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
            continue;
          }
          if (!ok(dom, d.getUTCDate()) || !ok(dow, d.getUTCDay() + 1)) {
            t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
            continue;
          }
          if (!ok(hours, d.getUTCHours())) {
            t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
            continue;
          }
          if (!ok(minutes, d.getUTCMinutes())) {
            t += 60_000;
            continue;
          }
          return t;
        }
        return undefined;
      },
    };
  }
  throw new Error(`unsupported schedule expression ${JSON.stringify(expression)}`);
}

export interface ScheduledJob {
  id: string;
  spec: ScheduleSpec;
  /** Fires the job for the tick at `timeMs`; awaited before the next tick. */
  fire(timeMs: number): Promise<void>;
}

/** Simulated clock + the scheduled jobs that run on it. */
export class SimClock {
  private nowMs: number;
  private readonly jobs: Array<ScheduledJob & { nextAt?: number }> = [];
  private chain: Promise<void> = Promise.resolve();
  fired = 0;

  constructor(startMs: number) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  add(job: ScheduledJob): void {
    this.jobs.push({ ...job, nextAt: job.spec.next(this.nowMs) });
  }

  /** Next tick of any job (for progress displays). */
  nextTick(): number | undefined {
    const ts = this.jobs.map((j) => j.nextAt).filter((t): t is number => t !== undefined);
    return ts.length ? Math.min(...ts) : undefined;
  }

  /** Advances to `t`, firing every due tick in time order (ticks at the same instant together), each awaited. */
  advanceTo(t: number): Promise<void> {
    this.chain = this.chain.then(async () => {
      for (;;) {
        let at: number | undefined;
        for (const j of this.jobs) if (j.nextAt !== undefined && j.nextAt <= t && (at === undefined || j.nextAt < at)) at = j.nextAt;
        if (at === undefined) break;
        // every job due at this instant fires concurrently (as separate rules do in AWS); the next instant waits
        const due = this.jobs.filter((j) => j.nextAt === at);
        this.nowMs = Math.max(this.nowMs, at);
        for (const j of due) j.nextAt = j.spec.next(at);
        this.fired += due.length;
        await Promise.all(due.map((j) => j.fire(at!)));
      }
      this.nowMs = Math.max(this.nowMs, t);
    });
    return this.chain;
  }

  /** Advances with the wall clock (× speed) until the returned stop function is called. */
  runRealtime(speed = 1, tickMs = 1000): () => Promise<void> {
    let stopped = false;
    let last = Date.now();
    const loop = (async () => {
      while (!stopped) {
        await new Promise((r) => setTimeout(r, tickMs));
        const now = Date.now();
        await this.advanceTo(this.nowMs + (now - last) * speed);
        last = now;
      }
    })();
    return async () => {
      stopped = true;
      await loop;
    };
  }
}
