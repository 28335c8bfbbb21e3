/**
 * Tunables of the dashboard and alarms (`PipelineMonitoring`): default, range, unit, construct prop and doc of each
 * flat config key (lib/settings.ts).
 */
import type { SettingsTable } from '../settings';

export const OBSERVABILITY_SETTINGS = {
  alarmEmail: {
    type: 'string',
    group: 'observability',
    default: undefined,
    optional: true,
    pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
    prop: 'alarmEmail',
    doc: 'E-mail subscribed to the alarm topic.',
  },
  iteratorAgeAlarmSeconds: {
    type: 'integer',
    group: 'observability',
    default: 300,
    min: 1,
    max: 604800,
    unit: 'seconds',
    prop: 'iteratorAgeThreshold',
    doc: "Alarm when the aggregator's Kinesis iterator age exceeds this.",
  },
  reviewQueueAgeAlarmHours: {
    type: 'number',
    group: 'observability',
    default: 12,
    min: 0.01,
    max: 336,
    unit: 'hours',
    prop: 'reviewQueueAgeThreshold',
    doc: 'Alarm when the oldest review-queue message is older than this.',
  },
  dashboard: { type: 'boolean', group: 'observability', default: true, prop: 'dashboard', doc: 'Create the CloudWatch dashboard.' },
} as const satisfies SettingsTable;
