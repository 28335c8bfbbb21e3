/** The `Indicators Exported` event matches its published schema, and names where the bundle went, not its content. */
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import schema from '../../schemas/indicators-exported.json';
import { emptyProfile } from '../../src/detect/index';
import { bundleKey, buildBundle, indicatorsExported, isConfirmed, summariseCampaign } from '../../src/share';

test('the detail of an export validates against schemas/indicators-exported.json', () => {
  const p = emptyProfile('acct-zz');
  p.templates.add('t-1');
  p.firstTs = 1;
  p.lastTs = 2;
  const now = Date.UTC(2026, 11, 6);
  const b = buildBundle([summariseCampaign('c-9', [p], 'k')], { producer: 'Acme', keyId: 'kid', now });
  const key = bundleKey('globex', now);
  expect(key).toBe('partners/globex/2026-12-06T00-00-00-000Z.json');
  const detail = indicatorsExported(b, { partner: 'globex', bucket: 'bkt', key, keyId: 'kid', exportedAt: now });
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const event = { version: '0', id: 'x', 'detail-type': 'Indicators Exported', source: 'distill-guard', time: new Date(now).toISOString(), detail };
  expect(validate(event) ? [] : validate.errors).toEqual([]);
  expect(detail).toMatchObject({ campaigns: 1, indicators: 1, keyId: 'kid', validUntil: '2027-01-05T00:00:00.000Z' });
  expect(JSON.stringify(detail)).not.toContain('acct-zz');
  expect(() => bundleKey('Globex Inc', now)).toThrow(/partner name must be lowercase letters, digits and '-', got "Globex Inc"/);
});

describe('confirmed clusters (the rule)', () => {
  test('approved: yes; rejected: no, even with suspensions; undecided: suspensions that stood (two or more, none reinstated)', () => {
    expect(isConfirmed({ clusterId: 'c', approved: true, suspended: 0, reinstated: 0 })).toBe(true);
    expect(isConfirmed({ clusterId: 'c', approved: false, suspended: 5, reinstated: 0 })).toBe(false);
    expect(isConfirmed({ clusterId: 'c', suspended: 3, reinstated: 0 })).toBe(true);
    expect(isConfirmed({ clusterId: 'c', suspended: 3, reinstated: 1 })).toBe(false);
    expect(isConfirmed({ clusterId: 'c', suspended: 1, reinstated: 0 })).toBe(false);
  });
});
