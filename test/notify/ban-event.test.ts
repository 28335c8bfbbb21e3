import {
  banEventId,
  buildBanEvent,
  BanEventFields,
  DETAIL_TYPES,
  DetailType,
  fromOutboxItem,
  SCHEMA_VERSION,
  toOutboxItem,
  toPutEventsEntry,
  uuidV5,
} from '../../src/notify/ban-event';
import { DECIDED_AT, sampleFields } from './fixtures';
import { BAN_EVENT_DETAIL_FIELDS } from '../support/contract-fields';
import { assertValidBanEvent, BAN_EVENT_SCHEMAS, validateBanEventDetail, validateEventBridgeEvent } from '../../src/notify/schemas';

describe('buildBanEvent', () => {
  it.each(DETAIL_TYPES.map((d) => [d]))('builds a %s event that carries every docs/contract.md ban event field and matches its schema', (dt) => {
    const ev = buildBanEvent(dt, sampleFields(dt));
    expect(ev.source).toBe('distill-guard');
    expect(ev.detailType).toBe(dt);
    expect(ev.detail.eventId).toBe(ev.eventId);
    expect(ev.detail.schemaVersion).toBe(SCHEMA_VERSION);
    for (const k of BAN_EVENT_DETAIL_FIELDS) {
      expect(ev.detail).toHaveProperty(k);
    }
    expect(ev.detail.decidedAt).toBe('2026-11-02T00:40:00.000Z');
    expect(ev.detail.decidedAtMs).toBe(DECIDED_AT);
    expect(validateBanEventDetail(dt, ev.detail)).toEqual({ valid: true, errors: [] });
    // and as a consumer receives it (EventBridge envelope)
    const envelope = {
      version: '0',
      id: 'x',
      'detail-type': dt,
      source: 'distill-guard',
      account: '111111111111',
      time: '2026-11-02T00:40:01Z',
      region: 'us-east-1',
      resources: [],
      detail: ev.detail,
    };
    expect(validateEventBridgeEvent(envelope)).toEqual({ valid: true, errors: [] });
    expect(() => assertValidBanEvent(ev)).not.toThrow();
  });

  it('gives the same eventId for the same decision however the time is given, and on every retry', () => {
    const a = buildBanEvent('Account Suspended', sampleFields('Account Suspended'));
    const b = buildBanEvent('Account Suspended', sampleFields('Account Suspended', { decidedAt: new Date(DECIDED_AT).toISOString() }));
    const c = buildBanEvent('Account Suspended', sampleFields('Account Suspended', { decidedAt: new Date(DECIDED_AT), score: 0.5 }));
    expect(b.eventId).toBe(a.eventId);
    expect(c.eventId).toBe(a.eventId); // identity is the decision, not its payload
    expect(a.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(banEventId('Account Suspended', 'acct_1', 'case-acct_1-1793580000000', DECIDED_AT)).toBe(a.eventId);
  });

  it('gives different ids to different decisions', () => {
    const ids = new Set([
      ...DETAIL_TYPES.map((d) => buildBanEvent(d, sampleFields(d)).eventId),
      buildBanEvent('Account Suspended', sampleFields('Account Suspended', { decidedAt: DECIDED_AT + 1 })).eventId,
      buildBanEvent('Account Suspended', sampleFields('Account Suspended', { accountId: 'acct_2' })).eventId,
      buildBanEvent('Account Suspended', sampleFields('Account Suspended', { caseId: 'case-2' })).eventId,
    ]);
    expect(ids.size).toBe(DETAIL_TYPES.length + 3);
  });

  it('implements RFC 9562 UUIDv5 (test vector: DNS namespace, www.example.com)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('defaults clusterId to null, relatedAccountIds to [] and an indefinite suspension to suspendedUntil null', () => {
    const ev = buildBanEvent('Account Suspended', { accountId: 'a', caseId: 'c', decidedBy: 'auto', reasons: [], score: 1, decidedAt: DECIDED_AT });
    expect(ev.detail.clusterId).toBeNull();
    expect(ev.detail.relatedAccountIds).toEqual([]);
    expect(ev.detail.suspendedUntil).toBeNull();
    expect(validateBanEventDetail('Account Suspended', ev.detail).valid).toBe(true);
  });

  it('keeps added fields and cannot be made to override contract fields', () => {
    const ev = buildBanEvent(
      'Account Flagged',
      sampleFields('Account Flagged', { shadow: true, evidenceUrl: 'https://x', eventId: 'forged', schemaVersion: '9.9' } as Partial<BanEventFields>),
    );
    expect(ev.detail.shadow).toBe(true);
    expect(ev.detail.evidenceUrl).toBe('https://x');
    expect(ev.detail.eventId).toBe(ev.eventId);
    expect(ev.detail.schemaVersion).toBe(SCHEMA_VERSION);
  });

  it.each([
    ['accountId', { accountId: '' }, /accountId must be a non-empty string, got ""/],
    ['decidedBy', { decidedBy: undefined }, /decidedBy must be a non-empty string, got undefined/],
    ['reasons', { reasons: 'x' }, /reasons must be an array of strings, got "x"/],
    ['score', { score: Number.NaN }, /score must be a finite number/],
    ['clusterId', { clusterId: 3 }, /clusterId must be a string or null, got 3/],
    ['decidedAt', { decidedAt: 'yesterday' }, /decidedAt must be epoch ms, an iso-8601 string or a date, got "yesterday"/i],
  ])('rejects a bad %s with a message showing the value', (_k, over, re) => {
    expect(() => buildBanEvent('Account Suspended', sampleFields('Account Suspended', over as Partial<BanEventFields>))).toThrow(re);
  });

  it('rejects an unknown detail type', () => {
    expect(() => buildBanEvent('Account Banned' as DetailType, sampleFields('Account Suspended'))).toThrow(/got "Account Banned"/);
  });
});

describe('schemas', () => {
  it('are JSON Schema draft-04 (the EventBridge registry type JSONSchemaDraft4), one per detail type, with the EventBridge extension keywords', () => {
    for (const dt of DETAIL_TYPES) {
      const s = BAN_EVENT_SCHEMAS[dt];
      expect(s.schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(s.schema['x-amazon-events-source']).toBe('distill-guard');
      expect(s.schema['x-amazon-events-detail-type']).toBe(dt);
      expect(s.schemaName).toBe(`distill-guard@${dt.replace(/ /g, '')}`);
      const detail = (s.schema.definitions as Record<string, { required: string[]; additionalProperties: boolean }>)[s.definition];
      expect(detail.additionalProperties).toBe(true); // consumers must ignore unknown fields (compatible additions)
      expect(detail.required).toEqual(expect.arrayContaining(BAN_EVENT_DETAIL_FIELDS));
    }
  });

  it('reject details that break the contract, listing every violation', () => {
    const ev = buildBanEvent('Account Suspended', sampleFields('Account Suspended'));
    const bad = { ...ev.detail, score: '0.9', reasons: [1], eventId: 'nope' } as Record<string, unknown>;
    delete bad.caseId;
    const r = validateBanEventDetail('Account Suspended', bad);
    expect(r.valid).toBe(false);
    expect(r.errors.join('\n')).toMatch(/caseId/);
    expect(r.errors.join('\n')).toMatch(/\/score must be number/);
    expect(r.errors.join('\n')).toMatch(/\/reasons\/0 must be string/);
    expect(r.errors.join('\n')).toMatch(/\/eventId must match pattern/);
    expect(validateEventBridgeEvent({ 'detail-type': 'Account Suspended', source: 'someone-else', detail: ev.detail }).valid).toBe(false);
    expect(validateEventBridgeEvent({ 'detail-type': 'Other', source: 'distill-guard', detail: {} }).errors[0]).toMatch(/got "Other"/);
  });

  it('accept a detail from a future compatible minor version with extra fields', () => {
    const ev = buildBanEvent('Account Reinstated', sampleFields('Account Reinstated'));
    expect(validateBanEventDetail('Account Reinstated', { ...ev.detail, schemaVersion: '1.7', newField: { a: 1 } }).valid).toBe(true);
    expect(validateBanEventDetail('Account Reinstated', { ...ev.detail, schemaVersion: '2.0' }).valid).toBe(false);
  });
});

describe('outbox items', () => {
  it('round-trip an event unchanged, keyed by its eventId, pending in the byState index', () => {
    const ev = buildBanEvent('Account Suspended', sampleFields('Account Suspended'));
    const item = toOutboxItem(ev, DECIDED_AT + 5);
    expect(item.pk).toBe(`OUTBOX#${ev.eventId}`);
    expect(item.sk).toBe('EVENT');
    expect(item.gsi1pk).toBe('OUTBOX#pending');
    expect(item.gsi1sk).toBe(`2026-11-02T00:40:00.005Z#${ev.eventId}`);
    expect(item.expiresAt).toBeUndefined(); // pending items never expire
    const back = fromOutboxItem(item as unknown as Record<string, unknown>);
    expect(back).toEqual(ev);
    const entry = toPutEventsEntry(back, 'bus', item.detail);
    expect(entry).toEqual({ Source: 'distill-guard', DetailType: 'Account Suspended', Detail: item.detail, EventBusName: 'bus' });
  });

  it.each([
    [{ pk: 'CASE#1', sk: 'EVENT', detailType: 'Account Suspended', detail: '{}' }, /must start with OUTBOX#, got "CASE#1"/],
    [{ pk: 'OUTBOX#x', detailType: 'Nope', detail: '{}' }, /unknown detailType "Nope"/],
    [{ pk: 'OUTBOX#x', detailType: 'Account Suspended', detail: '{not json' }, /not valid json/],
    [{ pk: 'OUTBOX#x', detailType: 'Account Suspended', detail: { a: 1 } }, /must be a json string, got object/],
    [{ pk: 'OUTBOX#x', detailType: 'Account Suspended', detail: '{"eventId":"y"}' }, /detail.eventId "y" does not match its key/],
  ])('reject a poison item clearly (%#)', (item, re) => {
    expect(() => fromOutboxItem(item as Record<string, unknown>)).toThrow(re);
  });
});
