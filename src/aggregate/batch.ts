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
import { windowStartOf } from './window';

export interface EventSource {
  /** Delivery lane (e.g. Kinesis shard id). Sequence numbers are ordered within a lane. */
  lane: string;
  /** Sequence number within the lane, as a decimal string (Kinesis sequence numbers exceed 2^53). */
  seq: string;
}

export type AnyEvent = { kind: 'request'; event: RequestEvent } | { kind: 'usage'; event: UsageRecord };

/** A request or usage event (told apart by `isUsage`). */
export type BareEvent = RequestEvent | UsageRecord;

export function isUsage(e: BareEvent): e is UsageRecord {
  return (e as UsageRecord).promptClass !== undefined;
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
  /** The contributing events and, at the same index, where each came from (when sources are tracked). */
  events: BareEvent[];
  sources: EventSource[];
  /** The last source added (records contribute runs of events: skip the lane bookkeeping for the rest). */
  lastSource?: EventSource;
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
  /** Earliest time each model was seen in the batch. A Map: model names are data (`constructor` is a model). */
  readonly modelFirstSeen = new Map<string, number>();
  requests = 0;
  usage = 0;

  constructor(private readonly trackSources = false) {}

  private delta(accountId: string, ts: number): WindowDelta {
    const ws = windowStartOf(ts);
    const key = windowKey(accountId, ws);
    let d = this.deltas.get(key);
    if (d === undefined) {
      d = { key, accountId, windowStart: ws, acc: new WindowAcc(accountId, ws), lanes: new Map(), events: [], sources: [] };
      this.deltas.set(key, d);
    }
    return d;
  }

  private source(d: WindowDelta, ev: BareEvent, src: EventSource | undefined): void {
    if (src === undefined) return;
    d.events.push(ev);
    d.sources.push(src);
    if (d.lastSource === src) return;
    d.lastSource = src;
    noteLane(d.lanes, src);
  }

  addRequest(e: RequestEvent, src?: EventSource): void {
    const d = this.delta(e.accountId, e.ts);
    d.acc.addRequest(e);
    this.requests++;
    if (e.model !== null) {
      const cur = this.modelFirstSeen.get(e.model);
      if (cur === undefined || e.ts < cur) this.modelFirstSeen.set(e.model, e.ts);
    }
    if (this.trackSources) this.source(d, e, src);
  }

  addUsage(u: UsageRecord, src?: EventSource): void {
    const d = this.delta(u.accountId, u.ts);
    d.acc.addUsage(u);
    this.usage++;
    if (this.trackSources) this.source(d, u, src);
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
  const events: BareEvent[] = [];
  const sources: EventSource[] = [];
  for (let i = 0; i < d.events.length; i++) {
    const ev = d.events[i];
    const src = d.sources[i];
    const wm = watermarks.get(src.lane);
    if (wm !== undefined && compareSeq(src.seq, wm) <= 0) continue;
    if (isUsage(ev)) acc.addUsage(ev);
    else acc.addRequest(ev);
    events.push(ev);
    sources.push(src);
    noteLane(lanes, src);
  }
  if (events.length === 0) return null;
  return { key: d.key, accountId: d.accountId, windowStart: d.windowStart, acc, lanes, events, sources };
}

function noteLane(lanes: Map<string, LaneRange>, src: EventSource): void {
  const r = lanes.get(src.lane);
  if (r === undefined) lanes.set(src.lane, { min: src.seq, max: src.seq });
  else {
    if (compareSeq(src.seq, r.min) < 0) r.min = src.seq;
    if (compareSeq(src.seq, r.max) > 0) r.max = src.seq;
  }
}
