/**
 * One simulated account: when it sends requests (`schedule`) and what each request looks like (`request`).
 * Factories in organic.ts and campaigns.ts configure the hooks; this file holds what every account shares:
 * model choice with new-model adoption, prompt class, tokens, and the HTTP outcome (429s, 4xx, 5xx).
 */
import type { PromptClass } from '../src/shared/contract';
import { HOUR, MINUTE, Network, TOKENS, isWeekend } from './catalog';
import { Rng, Weighted } from './rng';
import type { AccountLabel, Variant } from './types';
import type { WorldPlan } from './world';

/** Everything shared by the accounts of one simulation. */
export interface World {
  readonly seed: string;
  readonly rng: Rng;
  readonly net: Network;
  readonly start: number;
  readonly end: number;
  readonly days: number;
  readonly variant: Variant;
  readonly newModel: string;
  readonly releaseAt: number;
  /** What this seed's world drew: time zones, tools, carriers, adoption, and (filled while building) groups. */
  readonly plan: WorldPlan;
  newActor(label: AccountLabel): SimActor;
  /**
   * A second request source for an existing account (same id, same creation time): an attacker who took the
   * account over, or the extraction side of a bought account that keeps a cover of normal use. Its label is the
   * owner's (one account, one label).
   */
  newShadow(owner: SimActor): SimActor;
  /** Change an account's label (an organic-looking account that is in fact a campaign's). */
  relabel(actor: SimActor, label: AccountLabel): void;
}

/** The content of one request before it is formatted as a log record and usage event. */
export interface SimRequest {
  model: string;
  cls: PromptClass;
  tpl: string;
  inTok: number;
  outTok: number;
  ip: string;
  ua: string;
  key: string;
  status: number;
}

export class SimActor {
  /** Account creation time (ms), or null when the authorizer does not supply it. */
  createdAt: number | null = null;
  /** No request before this time (sign-up, onboarding). */
  activeFrom = -Infinity;
  activeUntil = Infinity;

  schedule: (dayStart: number, dayEnd: number, out: number[]) => void = () => undefined;
  classes: Weighted<PromptClass> = new Weighted<PromptClass>([['chat', 1]]);
  models: Weighted<string> = new Weighted<string>([['claude-sonnet-5', 1]]);
  template: (cls: PromptClass, t: number) => string = () => '-';
  ip: (t: number) => string = () => '-';
  ua: (t: number) => string = () => '-';
  key: (t: number) => string = () => '-';
  /** New-model adoption: from `adoptAt`, a share (ramping up over `adoptRamp` ms) of requests goes to the new model. */
  adoptAt = Infinity;
  adoptShare = 0;
  adoptRamp = HOUR;
  /** Optional override of the model choice (e.g. an eval run pinned to a model). */
  modelAt: ((t: number) => string | undefined) | undefined;
  inScale = 1;
  outScale = 1;
  tokenSigma = 1;
  /** Requests per minute above which the gateway throttles (429). */
  rpm = 60;
  p429 = 0.002;
  p4xx = 0.012;
  p5xx = 0.004;

  private minute = -1;
  private minuteCount = 0;

  constructor(
    readonly idx: number,
    readonly id: string,
    public label: AccountLabel,
    readonly rng: Rng,
    private readonly world: Pick<World, 'newModel'>,
  ) {}

  pickModel(t: number): string {
    const pinned = this.modelAt?.(t);
    if (pinned) return pinned;
    if (t >= this.adoptAt) {
      const share = this.adoptShare * Math.min(1, (t - this.adoptAt) / Math.max(1, this.adoptRamp));
      if (this.rng.next() < share) return this.world.newModel;
    }
    return this.models.draw(this.rng);
  }

  request(t: number): SimRequest {
    const rng = this.rng;
    const m = Math.floor(t / MINUTE);
    if (m !== this.minute) {
      this.minute = m;
      this.minuteCount = 0;
    }
    this.minuteCount++;
    const cls = this.classes.draw(rng);
    const tk = TOKENS[cls];
    const sigma = tk.sigma * this.tokenSigma;
    const inTok = Math.max(8, Math.round(rng.lognormal(tk.inp * this.inScale, sigma)));
    const outTok = Math.max(1, Math.min(32000, Math.round(rng.lognormal(tk.out * this.outScale, sigma))));
    let status = 200;
    if (this.minuteCount > this.rpm) status = 429;
    else {
      const x = rng.next();
      if (x < this.p429) status = 429;
      else if (x < this.p429 + this.p4xx) status = rng.chance(0.8) ? 400 : rng.chance(0.5) ? 413 : 404;
      else if (x < this.p429 + this.p4xx + this.p5xx) status = rng.pick([500, 502, 503, 504, 529]);
    }
    return {
      model: this.pickModel(t),
      cls,
      tpl: this.template(cls, t),
      inTok,
      outTok,
      ip: this.ip(t),
      ua: this.ua(t),
      key: this.key(t),
      status,
    };
  }
}

// ----------------------------------------------------------------------------------------------------------
// Timing building blocks
// ----------------------------------------------------------------------------------------------------------

const curvePickers = new Map<readonly number[], Weighted<number>>();
function hourPicker(curve: readonly number[]): Weighted<number> {
  let w = curvePickers.get(curve);
  if (!w) {
    w = new Weighted(curve.map((v, h) => [h, v] as const));
    curvePickers.set(curve, w);
  }
  return w;
}

export interface SessionSpec {
  /** UTC offset, hours. */
  tz: number;
  curve: readonly number[];
  /** Chance to be active on a weekday / weekend day (local). */
  pActive: number;
  pActiveWeekend: number;
  /** Mean sessions on an active day. */
  sessionsMean: number;
  /** Requests per session (log-normal). */
  reqMedian: number;
  reqSigma: number;
  /** Seconds between requests in a session (log-normal). */
  gapMedianS: number;
  gapSigma: number;
}

/** Human-like use: a few sessions a day, started at local hours drawn from a diurnal curve. */
export function sessions(rng: Rng, dayStart: number, spec: SessionSpec, out: number[]): void {
  const weekend = isWeekend(dayStart + 12 * HOUR, spec.tz);
  if (!rng.chance(weekend ? spec.pActiveWeekend : spec.pActive)) return;
  const n = 1 + rng.poisson(Math.max(0, spec.sessionsMean - 1));
  const picker = hourPicker(spec.curve);
  for (let s = 0; s < n; s++) {
    const localHour = picker.draw(rng);
    const utcHour = (((localHour - spec.tz) % 24) + 24) % 24;
    const t = dayStart + utcHour * HOUR + rng.next() * HOUR;
    session(rng, t, Math.max(1, Math.round(rng.lognormal(spec.reqMedian, spec.reqSigma))), spec.gapMedianS, spec.gapSigma, out);
  }
}

/** `n` requests from `t`, log-normal gaps. */
export function session(rng: Rng, t: number, n: number, gapMedianS: number, gapSigma: number, out: number[]): void {
  for (let i = 0; i < n; i++) {
    out.push(t);
    t += rng.lognormal(gapMedianS, gapSigma) * 1000;
  }
}

/** A Poisson process whose hourly rate is `rate(hourStart)` over [from, to). */
export function poissonHourly(rng: Rng, from: number, to: number, rate: (hourStart: number) => number, out: number[]): void {
  for (let h = Math.floor(from / HOUR) * HOUR; h < to; h += HOUR) {
    const s = Math.max(h, from);
    const e = Math.min(h + HOUR, to);
    if (e <= s) continue;
    const n = rng.poisson(rate(h) * ((e - s) / HOUR));
    for (let i = 0; i < n; i++) out.push(s + rng.next() * (e - s));
  }
}

/** Hourly rate that follows a local-time curve, normalised so the day's expected total is `perDay`. */
export function diurnalRate(perDay: number, tz: number, curve: readonly number[]): (hourStart: number) => number {
  const sum = curve.reduce((a, b) => a + b, 0);
  return (h) => {
    const local = Math.floor((((h / HOUR + tz) % 24) + 24) % 24);
    return (perDay * curve[local]) / sum;
  };
}

/** Intervals of [s, e) clipped to [from, to). */
export function clip(intervals: ReadonlyArray<readonly [number, number]>, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [s, e] of intervals) {
    if (e <= from || s >= to) continue;
    out.push([Math.max(s, from), Math.min(e, to)]);
  }
  return out;
}

/** On/off blocks covering [start, end): on for U(onMin, onMax), off for U(offMin, offMax) (ms). */
export function onOffBlocks(rng: Rng, start: number, end: number, on: [number, number], off: [number, number]): Array<[number, number]> {
  const blocks: Array<[number, number]> = [];
  let t = start - rng.uniform(0, on[1]);
  while (t < end) {
    const e = t + rng.uniform(on[0], on[1]);
    blocks.push([t, e]);
    t = e + rng.uniform(off[0], off[1]);
  }
  return blocks;
}

/** Thin out blocks by a local diurnal curve: keep a block with probability curve(local start hour) / max. */
export function diurnalGate(rng: Rng, blocks: Array<[number, number]>, tz: number, curve: readonly number[]): Array<[number, number]> {
  const max = Math.max(...curve);
  return blocks.filter(([s]) => {
    const local = Math.floor((((s / HOUR + tz) % 24) + 24) % 24);
    return rng.next() < curve[local] / max;
  });
}

/** A value that stays the same while requests keep coming (gap below `gapMs`), and is redrawn after a pause. */
export class Sticky<T> {
  private last = -Infinity;
  private cur!: T;
  constructor(
    private readonly gapMs: number,
    private readonly draw: (t: number) => T,
    private readonly pSwitch = 0,
    private readonly rng?: Rng,
  ) {}
  get(t: number): T {
    if (t - this.last > this.gapMs || (this.pSwitch > 0 && this.rng && this.rng.next() < this.pSwitch)) this.cur = this.draw(t);
    this.last = t;
    return this.cur;
  }
}
