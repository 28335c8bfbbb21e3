/**
 * Tunables of the detection stage (the `Scorer` construct): default, range, unit, construct prop and doc of each
 * flat config key, read by lib/config.ts, the construct's checks, the docs and lambdas/detect (lib/settings.ts).
 */
import type { SettingsTable } from '../settings';

export const DETECT_SETTINGS = {
  scoreIntervalMinutes: {
    type: 'integer',
    group: 'detect',
    default: 5,
    min: 1,
    max: 1440,
    unit: 'minutes',
    prop: 'schedule',
    doc: "Minutes between scorer runs (the scorer's timeout is capped to it).",
  },
  scoreLookbackHours: {
    type: 'integer',
    group: 'detect',
    default: 72,
    min: 1,
    max: 720,
    unit: 'hours',
    prop: 'lookback',
    doc: 'Hours of feature history each scorer run reads; synchrony needs days of co-activity.',
  },
  scorerMemoryMb: {
    type: 'integer',
    group: 'detect',
    default: 1769,
    min: 128,
    max: 10240,
    prop: 'memorySize',
    doc: 'Memory of the scorer in MB (1769 MB = one vCPU; linkage is CPU-bound).',
  },
  shardedLinkageMinAccounts: {
    type: 'integer',
    group: 'detect',
    default: 1_000_000,
    min: 1,
    max: 1_000_000_000,
    prop: 'shardedLinkageMinAccounts',
    doc: 'Active accounts from which detection runs distributed (Step Functions Distributed Maps over account shards) instead of in the scorer process.',
  },
  detectionShardAccounts: {
    type: 'integer',
    group: 'detect',
    default: 250_000,
    min: 1,
    max: 10_000_000,
    prop: 'accountsPerShard',
    doc: "Accounts per account shard of a distributed detection run: each child's memory grows with it.",
  },
  detectionConfig: {
    type: 'object',
    group: 'detect',
    default: {},
    prop: 'detectionConfig',
    doc: 'Partial detection config (thresholds, per-signal `shadow`, ...; src/detect/config.ts), validated and passed to the scorer.',
  },
} as const satisfies SettingsTable;
