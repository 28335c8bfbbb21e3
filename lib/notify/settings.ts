/**
 * Tunables of the notify stage (the `BanEvents` construct): default, range, unit, construct prop and doc of each
 * flat config key (lib/settings.ts).
 */
import type { SettingsTable } from '../settings';

export const NOTIFY_SETTINGS = {
  consumerAccountIds: {
    type: 'accountIds',
    group: 'notify',
    default: [] as string[],
    doc: 'AWS accounts allowed to create rules on the ban-event bus.',
  },
  organizationId: {
    type: 'string',
    group: 'notify',
    default: undefined,
    optional: true,
    pattern: /^o-[a-z0-9]{10,32}$/,
    prop: 'organizationId',
    doc: 'AWS Organization whose accounts may create rules on the ban-event bus.',
  },
  archiveRetentionDays: {
    type: 'integer',
    group: 'notify',
    default: 365,
    min: 0,
    max: 36500,
    unit: 'days',
    prop: 'archiveRetention',
    doc: 'Days the ban-event archive keeps events for replay (0 = forever).',
  },
} as const satisfies SettingsTable;
