/**
 * In-memory feature store: the replay/offline twin of the DynamoDB features table. Holds one accumulator per
 * (account, window) and the population-level model first-seen times. Reads return snapshots (AccountWindow).
 */
import type { RequestEvent, UsageRecord } from '../ingest/parse';
import { WindowAcc, type Window } from './accumulator';
import { dataRecord, windowStartOf, type ModelFirstSeen } from './window';

export class FeatureStore {
  /** accountId -> windowStart -> accumulator */
  private readonly byAccount = new Map<string, Map<number, WindowAcc>>();
  /** windowStart -> accounts with traffic in it */
  private readonly byWindow = new Map<number, Set<string>>();
  private readonly firstSeen = new Map<string, number>();

  private acc(accountId: string, ws: number): WindowAcc {
    let m = this.byAccount.get(accountId);
    if (m === undefined) {
      m = new Map();
      this.byAccount.set(accountId, m);
    }
    let a = m.get(ws);
    if (a === undefined) {
      a = new WindowAcc(accountId, ws);
      m.set(ws, a);
      let s = this.byWindow.get(ws);
      if (s === undefined) {
        s = new Set();
        this.byWindow.set(ws, s);
      }
      s.add(accountId);
    }
    return a;
  }

  /** Merge a window delta (e.g. one batch's pre-aggregate) into the store. */
  applyDelta(w: Window): void {
    this.acc(w.accountId, w.windowStart).addWindow(w);
  }

  /** Fast path: add one request directly. */
  addRequest(e: RequestEvent): void {
    this.acc(e.accountId, windowStartOf(e.ts)).addRequest(e);
    if (e.model !== null) this.noteModel(e.model, e.ts);
  }

  addUsage(u: UsageRecord): void {
    this.acc(u.accountId, windowStartOf(u.ts)).addUsage(u);
  }

  /** Record that `model` was seen at `ts` (keeps the minimum). */
  noteModel(model: string, ts: number): void {
    const cur = this.firstSeen.get(model);
    if (cur === undefined || ts < cur) this.firstSeen.set(model, ts);
  }

  /** Windows of one account with windowStart in [from, to), oldest first. */
  windowsFor(accountId: string, from: number, to: number): Window[] {
    const m = this.byAccount.get(accountId);
    if (m === undefined) return [];
    const out: Window[] = [];
    for (const [ws, a] of m) if (ws >= from && ws < to) out.push(a.toWindow());
    out.sort((x, y) => x.windowStart - y.windowStart);
    return out;
  }

  /** The snapshot of one account's window starting at `ws` (windowsFor(accountId, ws, ws + 1)[0], without the scan). */
  windowAt(accountId: string, ws: number): Window | undefined {
    return this.byAccount.get(accountId)?.get(ws)?.toWindow();
  }

  /** Accounts with at least one window starting in [from, to). */
  activeAccounts(from: number, to: number): string[] {
    const out = new Set<string>();
    for (const [ws, s] of this.byWindow) if (ws >= from && ws < to) for (const a of s) out.add(a);
    return [...out];
  }

  /** As a plain record without a prototype (model names are data: `constructor` is a model, not Object's). */
  modelFirstSeen(): ModelFirstSeen {
    return dataRecord(this.firstSeen);
  }

  /** Every account id in the store. */
  accounts(): string[] {
    return [...this.byAccount.keys()];
  }

  /** Every window (snapshot), for export and comparisons. */
  allWindows(): Window[] {
    const out: Window[] = [];
    for (const m of this.byAccount.values()) for (const a of m.values()) out.push(a.toWindow());
    return out;
  }

  /** Drop windows that started before `before` (bounded memory for long replays). */
  evictBefore(before: number): void {
    for (const [ws, s] of this.byWindow) {
      if (ws >= before) continue;
      for (const a of s) {
        const m = this.byAccount.get(a);
        m?.delete(ws);
        if (m && m.size === 0) this.byAccount.delete(a);
      }
      this.byWindow.delete(ws);
    }
  }
}
