/**
 * A small simulated world (sim/: organic customers and extraction campaigns over 3 days) aggregated as replay
 * aggregates it: the profiles, the models' first-seen times and the observation period.
 */
import { ReplayAggregator } from '../../src/aggregate/replay';
import type { ModelFirstSeen } from '../../src/aggregate/window';
import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { profilesFromWindows, type AccountProfile } from '../../src/detect/profile';
import { simulate } from '../../sim/simulate';

export interface SimulatedWorld {
  profiles: AccountProfile[];
  modelFirstSeen: ModelFirstSeen;
  period: { periodStart: number; periodEnd: number };
}

export function simulatedWorld(variant: 'base' | 'evasive', seed: number, opts: { usage?: boolean } = {}): SimulatedWorld {
  const agg = new ReplayAggregator();
  let first = Infinity;
  let last = 0;
  for (const e of simulate({ seed, scale: 'small', variant, days: 3 }).events()) {
    agg.addLogLine(e.log);
    if (opts.usage !== false && e.usage) agg.addUsageLine(e.usage);
    first = Math.min(first, Number(e.log.requestTimeEpoch));
    last = Math.max(last, Number(e.log.requestTimeEpoch));
  }
  const profiles = [...profilesFromWindows(agg.store.allWindows(), DEFAULT_DETECTION_CONFIG.linkage.syncBucketMs).values()];
  return { profiles, modelFirstSeen: agg.store.modelFirstSeen(), period: { periodStart: first, periodEnd: last } };
}
