/**
 * Defaults of the detection stage (lib/detect). Every value here is the documented `@default` of a `ScorerProps`
 * prop; change a default here and nowhere else.
 */
import { Duration } from 'aws-cdk-lib';

export const DETECT_DEFAULTS = {
  /** How often the scorer runs (EventBridge schedule). */
  schedule: Duration.minutes(5),
  /** How much history each run reads: synchrony needs days of co-activity, pivots a day around a release. */
  lookback: Duration.hours(72),
  /** Memory (and so CPU: 1769 MB = one full vCPU) of the scorer; linkage is CPU-bound. */
  memorySize: 1769,
  /** Scorer timeout: a run must finish well before the next one starts. */
  timeout: Duration.minutes(4),
  /**
   * How long a warm scorer reuses a window it read in an earlier run while the `byHour` index's change marker shows
   * it unchanged (lambdas/detect/window-reader.ts). Longer reads less; the bound only guards against anything the
   * marker could miss. Duration.minutes(0) reads every window on every run.
   */
  windowCacheMaxAge: Duration.hours(6),
} as const;
