/**
 * Pre-aggregation of one batch: events -> one delta per (account, window), plus the earliest time each model
 * was seen. This is what turns N events into at most one DynamoDB write per (account, window) per batch.
 *
 * Optionally each delta remembers which events built it and where they came from (`source`: a delivery lane
 * such as a Kinesis shard, and a sequence number), so the Lambda can rebuild a delta from only the records a
 * stored watermark has not covered yet (see lambdas/aggregate/handler.ts).
 */
import type { RequestEvent, UsageRecord } from '../ingest/parse';
import { WindowAcc, type Window } from './accumulator';
import { windowStartOf, type ModelFirstSeen } from './window';

export interface EventSource {
  /** Delivery lane (e.g. Kinesis shard id). Sequence numbers are ordered within a lane. */
  lane: string;
  /** Sequence number within the lane, as a decimal string (Kinesis sequence numbers exceed 2^53). */
  seq: string;
}

export type AnyEvent = { kind: 'request'; event: RequestEvent } | { kind: 'usage'; event: UsageRecord };

export interface SourcedEvent {
  ev: AnyEvent;
  src: EventSource;
}

export interface LaneRange {
  min: string;
  max: string;
}

export interface WindowDelta {
  key: string;
  accountId: string;
  windowStart: number;
  acc: WindowAcc;
  /** Per lane, the smallest and largest sequence number that contributed (when sources are tracked). */
  lanes: Map<string, LaneRange>;
  /** The contributing events (when sources are tracked). */
  events: SourcedEvent[];
}

export function windowKey(accountId: string, windowStart: number): string {
  return `${accountId}\u0000${windowStart}`;
}

/** Compare two non-negative decimal integer strings numerically. */
export function compareSeq(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class BatchAggregator {
  readonly deltas = new Map<string, WindowDelta>();
  readonly modelFirstSeen: ModelFirstSeen = {};
  requests = 0;
  usage = 0;

  constructor(private readonly trackSources = false) {}

  private delta(accountId: string, ts: number): WindowDelta {
    const ws = windowStartOf(ts);
    const key = windowKey(accountId, ws);
    let d = this.deltas.get(key);
    if (d === undefined) {
      d = { key, accountId, windowStart: ws, acc: new WindowAcc(accountId, ws), lanes: new Map(), events: [] };
      this.deltas.set(key, d);
    }
    return d;
  }

  private source(d: WindowDelta, ev: AnyEvent, src: EventSource | undefined): void {
    if (!this.trackSources || src === undefined) return;
    d.events.push({ ev, src });
    const r = d.lanes.get(src.lane);
    if (r === undefined) d.lanes.set(src.lane, { min: src.seq, max: src.seq });
    else {
      if (compareSeq(src.seq, r.min) < 0) r.min = src.seq;
      if (compareSeq(src.seq, r.max) > 0) r.max = src.seq;
    }
  }

  addRequest(e: RequestEvent, src?: EventSource): void {
    const d = this.delta(e.accountId, e.ts);
    d.acc.addRequest(e);
    this.requests++;
    if (e.model !== null) {
      const cur = this.modelFirstSeen[e.model];
      if (cur === undefined || e.ts < cur) this.modelFirstSeen[e.model] = e.ts;
    }
    if (this.trackSources) this.source(d, { kind: 'request', event: e }, src);
  }

  addUsage(u: UsageRecord, src?: EventSource): void {
    const d = this.delta(u.accountId, u.ts);
    d.acc.addUsage(u);
    this.usage++;
    if (this.trackSources) this.source(d, { kind: 'usage', event: u }, src);
  }

  add(ev: AnyEvent, src?: EventSource): void {
    if (ev.kind === 'request') this.addRequest(ev.event, src);
    else this.addUsage(ev.event, src);
  }

  windows(): Window[] {
    const out: Window[] = [];
    for (const d of this.deltas.values()) out.push(d.acc.toWindow());
    return out;
  }
}

/**
 * Rebuild a delta from only the events above per-lane watermarks (`wm.get(lane)`: every event with seq <= it
 * has already been applied). Returns null when nothing is left to apply.
 */
export function deltaAbove(d: WindowDelta, watermarks: ReadonlyMap<string, string>): WindowDelta | null {
  const acc = new WindowAcc(d.accountId, d.windowStart);
  const lanes = new Map<string, LaneRange>();
  const events: SourcedEvent[] = [];
  for (const se of d.events) {
    const wm = watermarks.get(se.src.lane);
    if (wm !== undefined && compareSeq(se.src.seq, wm) <= 0) continue;
    if (se.ev.kind === 'request') acc.addRequest(se.ev.event);
    else acc.addUsage(se.ev.event);
    events.push(se);
    const r = lanes.get(se.src.lane);
    if (r === undefined) lanes.set(se.src.lane, { min: se.src.seq, max: se.src.seq });
    else {
      if (compareSeq(se.src.seq, r.min) < 0) r.min = se.src.seq;
      if (compareSeq(se.src.seq, r.max) > 0) r.max = se.src.seq;
    }
  }
  if (events.length === 0) return null;
  return { key: d.key, accountId: d.accountId, windowStart: d.windowStart, acc, lanes, events };
}
