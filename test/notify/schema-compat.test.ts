/**
 * The versioning policy of docs/events.md, enforced: within major version 1, a schema may only GAIN optional
 * fields. Removing, renaming, retyping a field, dropping it from `required`, or changing a closed enum is a
 * breaking change: it needs a new major (schemas/v2/, published side by side), not an edit of these files.
 * The frozen shape below is schemaVersion 1.0; update it only together with a major version bump.
 */
import { BAN_EVENT_SCHEMAS } from '../../src/notify/schemas';
import { DETAIL_TYPES, SCHEMA_MAJOR } from '../../src/notify/ban-event';
import { BAN_EVENT_DETAIL_FIELDS } from '../support/contract-fields';

type Shape = { required: string[]; props: Record<string, { type: unknown; format?: string; enum?: unknown[] }> };
const COMMON: Shape['props'] = {
  schemaVersion: { type: 'string' },
  eventId: { type: 'string' },
  accountId: { type: 'string' },
  caseId: { type: 'string' },
  decidedBy: { type: 'string' },
  reasons: { type: 'array' },
  score: { type: 'number' },
  clusterId: { type: ['string', 'null'] },
  relatedAccountIds: { type: 'array' },
  decidedAt: { type: 'string', format: 'date-time' },
  decidedAtMs: { type: 'integer' },
  reasonDetails: { type: 'array' },
  shadow: { type: 'boolean' },
};
const REQUIRED = [...BAN_EVENT_DETAIL_FIELDS, 'decidedAtMs'];
// decidedAtMs joined `required` in 1.1: it is the ordering key consumers are told to use, and every event carried it.
const FROZEN_V1: Record<string, Shape> = {
  'Account Flagged': { required: [...REQUIRED, 'decision'], props: { ...COMMON, decision: { type: 'string', enum: ['review', 'suspend'] } } },
  'Account Suspended': {
    required: [...REQUIRED, 'suspendedUntil'],
    props: { ...COMMON, suspendedUntil: { type: ['string', 'null'], format: 'date-time' }, offence: { type: 'integer' } },
  },
  // New in 1.1 (a new detail type is a compatible change); frozen from then on like the others.
  'Account Restricted': {
    required: [...REQUIRED, 'restrictedUntil', 'stepUp'],
    props: { ...COMMON, restrictedUntil: { type: 'string', format: 'date-time' }, stepUp: { type: 'boolean' } },
  },
  'Account Reinstated': {
    required: REQUIRED,
    props: { ...COMMON, reinstatedReason: { type: 'string' }, previousSuspendedUntil: { type: ['string', 'null'], format: 'date-time' } },
  },
};

describe('schema compatibility within major version 1', () => {
  it('is still major version 1 (a bump must come with new schema files and a new frozen shape)', () => {
    expect(SCHEMA_MAJOR).toBe('1');
  });

  it.each(DETAIL_TYPES.map((d) => [d]))('%s keeps every v1 field, its type, format and closed enum, and every v1 required field', (dt) => {
    const s = BAN_EVENT_SCHEMAS[dt];
    const detail = (
      s.schema.definitions as Record<
        string,
        { required: string[]; properties: Record<string, Record<string, unknown>>; additionalProperties: unknown }
      >
    )[s.definition];
    const frozen = FROZEN_V1[dt];
    expect(detail.required).toEqual(expect.arrayContaining(frozen.required));
    expect(detail.additionalProperties).toBe(true);
    for (const [name, f] of Object.entries(frozen.props)) {
      const p = detail.properties[name];
      expect({ name, type: p?.type }).toEqual({ name, type: f.type });
      expect({ name, format: p?.format }).toEqual({ name, format: f.format });
      expect({ name, enum: p?.enum }).toEqual({ name, enum: f.enum });
    }
    // the envelope still pins source and detail-type
    expect((s.schema.properties as Record<string, { enum?: string[] }>)['detail-type'].enum).toEqual([dt]);
    expect((s.schema.properties as Record<string, { enum?: string[] }>).source.enum).toEqual(['distill-guard']);
  });
});
