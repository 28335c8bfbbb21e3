/**
 * Accounts with ordinary provider ids can never be suspended: ONE rule for what an account id may
 * be (src/shared/account-id.ts), applied by ingest, the workflow input, the control-table store and the console, and
 * a reversible, collision-free form for Step Functions execution names. The end-to-end run (ingest -> scorer ->
 * workflow -> suspension) is test/escalate/account-ids.test.ts.
 */
import { parseAccessLog, parseUsage } from '../../src/ingest/parse';
import { ACCOUNT_ID_PATTERN } from '../../src/ingest/demo-auth';
import { assertId, parseWorkflowInput } from '../../src/escalate/model';
import {
  ACCOUNT_ID_MAX_CHARS,
  EXECUTION_NAME_PART_MAX,
  accountIdProblem,
  escapeForName,
  executionNamePart,
  isValidAccountId,
  unescapeName,
} from '../../src/shared/account-id';
import { caseIdFor } from '../../lambdas/detect/scorer-core';
import { ODD_IDS } from './odd-ids';

const NOW = Date.UTC(2026, 10, 2, 12);

const INVALID_IDS: Array<[string, unknown]> = [
  ['empty', ''],
  ['the missing-value placeholder', '-'],
  ['257 characters', 'z'.repeat(ACCOUNT_ID_MAX_CHARS + 1)],
  ['a NUL', 'a\u0000b'],
  ['a newline', 'a\nb'],
  ['a C1 control', 'a\u0085b'],
  ['a zero-width space', 'acct\u200b1'],
  ['a bidi override', 'acct\u202e1'],
  ['a byte-order mark', '\ufeffacct'],
  ['a lone high surrogate', 'a\ud83eb'],
  ['a lone low surrogate', 'a\udd8ab'],
  ['leading space', ' acct'],
  ['trailing space', 'acct '],
];

const LOG = {
  requestId: 'r-1',
  requestTimeEpoch: String(NOW),
  requestTime: '-',
  accountId: 'acct_1',
  apiKeyId: 'k1',
  sourceIp: '203.0.113.9',
  userAgent: 'ua',
  httpMethod: 'POST',
  path: '/prod/v1/models/m1/messages',
  status: '200',
  responseLength: '10',
  integrationLatency: '5',
  accountCreatedAt: '-',
};

const workflowAccepts = (accountId: unknown): boolean => {
  try {
    parseWorkflowInput({ caseId: 'c-1', accountId, decision: 'review', score: 0.9, reasons: [] });
    return true;
  } catch {
    return false;
  }
};

describe('accounts with ordinary provider ids: one account-id rule', () => {
  test.each(ODD_IDS.map((id) => [JSON.stringify(id).slice(0, 40), id]))('valid everywhere: %s', (_n, id) => {
    expect(accountIdProblem(id)).toBeNull();
    expect(isValidAccountId(id)).toBe(true);
    const log = parseAccessLog({ ...LOG, accountId: id });
    expect(log.ok && log.event.accountId).toBe(id);
    const usage = parseUsage({ type: 'usage', requestId: 'r-1', accountId: id, timestamp: NOW, promptClass: 'chat' });
    expect(usage.ok && usage.event.accountId).toBe(id);
    expect(workflowAccepts(id)).toBe(true);
    expect(assertId('accountId', id)).toBe(id);
    // DynamoDB: sort keys (the byHour index's gsi1sk = accountId) are at most 1024 bytes, partition keys 2048.
    expect(Buffer.byteLength(id, 'utf8')).toBeLessThanOrEqual(1024);
  });

  test.each(INVALID_IDS)('rejected everywhere: %s', (_n, id) => {
    expect(isValidAccountId(id)).toBe(false);
    expect(accountIdProblem(id)).not.toBeNull();
    const log = parseAccessLog({ ...LOG, accountId: id });
    // `-` and '' mean "missing" in the access-log format.
    expect(log).toEqual({ ok: false, reason: id === '' || id === '-' ? 'missing-account-id' : 'bad-account-id' });
    expect(workflowAccepts(id)).toBe(false);
    expect(() => assertId('accountId', id)).toThrow(/^accountId /);
  });

  test('the workflow accepts exactly what ingest accepts (ids from every class of character)', () => {
    const chars = [
      'a',
      'Z',
      '0',
      '|',
      '/',
      '+',
      '#',
      ' ',
      '@',
      ':',
      '.',
      '_',
      '-',
      '~',
      '%',
      '"',
      '\\',
      'é',
      '東',
      '🦊',
      '\u0000',
      '\u200b',
      '\u202e',
      '\ud83e',
      '\t',
    ];
    let n = 0;
    for (const a of chars) {
      for (const b of chars) {
        for (const id of [a + b, `x${a}${b}y`, `${a}${'q'.repeat(250)}${b}`]) {
          const r = parseAccessLog({ ...LOG, accountId: id });
          const ingest = r.ok;
          expect([id, workflowAccepts(id)]).toEqual([id, ingest]);
          expect([id, isValidAccountId(id)]).toEqual([id, ingest]);
          n++;
        }
      }
    }
    expect(n).toBe(chars.length * chars.length * 3);
  });

  test('a number in the access log is read as its decimal string (which the rule accepts); other types are not ids', () => {
    const r = parseAccessLog({ ...LOG, accountId: 42 });
    expect(r.ok && r.event.accountId).toBe('42');
    expect(isValidAccountId(42)).toBe(false);
    expect(workflowAccepts(42)).toBe(false);
    expect(parseAccessLog({ ...LOG, accountId: { id: 1 } })).toEqual({ ok: false, reason: 'bad-account-id' });
  });

  test('the demo authorizer accepts a subset of the rule', () => {
    for (const id of ['acct_1', 'a.b:c@d-e', 'A'.repeat(128)]) {
      expect(ACCOUNT_ID_PATTERN.test(id)).toBe(true);
      expect(isValidAccountId(id)).toBe(true);
    }
  });
});

describe('accounts with ordinary provider ids: execution names', () => {
  test.each(ODD_IDS.map((id) => [JSON.stringify(id).slice(0, 40), id]))('case id is a valid execution name: %s', (_n, id) => {
    const caseId = caseIdFor(id, NOW);
    expect(caseId).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    // and a valid case id for the control table and the console
    expect(assertId('caseId', caseId)).toBe(caseId);
    expect(caseIdFor(id, NOW + 3_600_000)).toBe(caseId);
  });

  test('the name form is reversible when it fits, and never a truncation that two ids share', () => {
    for (const id of ODD_IDS) {
      const part = executionNamePart(id);
      expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(part.length).toBeLessThanOrEqual(EXECUTION_NAME_PART_MAX);
      if (escapeForName(id).length <= EXECUTION_NAME_PART_MAX) expect(unescapeName(part)).toBe(id);
      else expect(part).toMatch(/_z[0-9a-f]{32}$/);
    }
    // Ids the old replace-and-truncate scheme merged: `|` vs `_` vs `:`, and long ids sharing their first 48 characters.
    const similar = ['auth0|abc', 'auth0_abc', 'auth0:abc', 'auth0/abc', 'auth0 abc', 'auth0+abc', 'auth0#abc'];
    const longs = Array.from({ length: 50 }, (_, i) => 'p'.repeat(200) + i);
    const parts = [...similar, ...longs].map((id) => executionNamePart(id));
    expect(new Set(parts).size).toBe(similar.length + longs.length);
    const cases = [...similar, ...longs].map((id) => caseIdFor(id, NOW));
    expect(new Set(cases).size).toBe(cases.length);
    // Round trips for every character class (including `_` itself and astral characters).
    for (const id of ['a_b', '_', '__', 'é_ü', '🦊|🦊', 'x-y-z']) expect(unescapeName(escapeForName(id))).toBe(id);
    expect(escapeForName('auth0|abc')).toBe('auth0_7cabc');
    expect(unescapeName('auth0_7')).toBeNull();
    expect(unescapeName('a_zb')).toBeNull();
  });
});
