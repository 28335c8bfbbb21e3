/**
 * Tunables of indicator sharing (`IndicatorSharing`, added in code with `DistillGuard.addIndicatorSharing`, so no
 * cdk.json key): default, range and unit of each prop, read by the construct and, for their environment,
 * lambdas/share/exporter.ts (lib/settings.ts; no aws-cdk-lib import).
 */
import type { Setting } from '../settings';

export const SHARE_SETTINGS = {
  scheduleHours: { type: 'integer', default: 24, min: 1, unit: 'hours', prop: 'schedule', doc: 'Hours between indicator exports.' },
  lookbackHours: { type: 'integer', default: 72, unit: 'hours', prop: 'lookback', doc: "Hours of features read for the cluster members' profiles." },
  validDays: { type: 'integer', default: 30, prop: 'validDays', doc: 'Days an exported indicator stays valid.' },
  tlp: {
    type: 'enum',
    default: 'amber',
    values: ['white', 'green', 'amber', 'red'],
    prop: 'tlp',
    doc: 'Traffic Light Protocol marking of the exported bundles.',
  },
} as const satisfies Record<string, Omit<Setting, 'group'>>;
