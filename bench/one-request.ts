/**
 * The aggregator's state after one more request in an existing window: what the scorer benchmark and the window
 * reader tests write to mark a window as changed.
 */
import { WindowAcc } from '../src/aggregate/accumulator';
import { emptyWindow, type AccountWindow } from '../src/aggregate/window';

/** An accumulator for `w` holding one request at `minute` of its hour. */
export function oneRequestAcc(w: AccountWindow, minute: number): WindowAcc {
  const acc = new WindowAcc(w.accountId, w.windowStart);
  const one = emptyWindow(w.accountId, w.windowStart);
  one.n = 1;
  one.minutes[minute] = 1;
  one.firstTs = one.lastTs = w.windowStart + minute * 60_000;
  acc.addWindow(one);
  return acc;
}
