/** src/ingest/demo-auth.ts and demo-serving.ts: the demo API's plain-TypeScript decisions. */
import { accountIdFromHeaders, decideAccess, normaliseCreatedAt, stageWildcardArn } from '../../src/ingest/demo-auth';
import { classifyPrompt, handleStubRequest, templateIdOf } from '../../src/ingest/demo-serving';
import { validateUsageEvent } from '../../src/contract/schemas';

describe('demo-auth', () => {
  test('account id from Authorization, case-insensitive, validated', () => {
    expect(accountIdFromHeaders({ Authorization: 'Bearer acct_1' })).toBe('acct_1');
    expect(accountIdFromHeaders({ AUTHORIZATION: '  bearer   org:team-2@x ' })).toBe('org:team-2@x');
    expect(accountIdFromHeaders({ Authorization: 'Bearer a b' })).toBeNull();
    expect(accountIdFromHeaders({ Authorization: 'Bearer -leading-dash' })).toBeNull();
    expect(accountIdFromHeaders({ Authorization: 'Bearer acct\u0000' })).toBeNull();
    expect(accountIdFromHeaders(undefined)).toBeNull();
  });

  test('decision table', () => {
    const now = 1_800_000_000_000;
    const o = { allowUnknownAccounts: true };
    expect(decideAccess('a', { status: 'active' }, now, o).effect).toBe('Allow');
    expect(decideAccess('a', { status: 'suspended', suspendedUntil: now + 1 }, now, o).effect).toBe('Deny');
    expect(decideAccess('a', { status: 'suspended', suspendedUntil: now }, now, o).effect).toBe('Allow');
    expect(decideAccess('a', { status: 'suspended', suspendedUntil: String(now + 5) }, now, o).effect).toBe('Deny');
    expect(decideAccess('a', { status: 'suspended' }, now, o).effect).toBe('Deny');
    expect(decideAccess('a', { status: 'suspended', suspendedUntil: 'garbage' }, now, o).effect).toBe('Deny');
    expect(decideAccess('a', undefined, now, { allowUnknownAccounts: false }).effect).toBe('Deny');
  });

  test('createdAt normalisation and stage wildcard', () => {
    expect(normaliseCreatedAt(1790000000000.7)).toBe('1790000000000');
    expect(normaliseCreatedAt('1790000000000')).toBe('1790000000000');
    expect(normaliseCreatedAt('2026-10-01T00:00:00Z')).toBe(String(Date.parse('2026-10-01T00:00:00Z')));
    expect(normaliseCreatedAt('soon')).toBeNull();
    expect(normaliseCreatedAt(undefined)).toBeNull();
    expect(stageWildcardArn('arn:aws:execute-api:r:1:api/prod/GET/x/y')).toBe('arn:aws:execute-api:r:1:api/prod/*');
  });
});

describe('demo-serving', () => {
  test('prompt classes', () => {
    expect(classifyPrompt('Explain your reasoning step by step', false, false)).toBe('cot_elicitation');
    expect(classifyPrompt('Please paraphrase this', false, false)).toBe('rewrite');
    expect(classifyPrompt('what is in the picture', true, false)).toBe('vision');
    expect(classifyPrompt('book a flight', false, true)).toBe('agentic');
    expect(classifyPrompt('fix this python bug', false, false)).toBe('coding');
    expect(classifyPrompt('hello there', false, false)).toBe('chat');
    expect(classifyPrompt('  ', false, false)).toBe('other');
  });

  test('template ids ignore numbers, quoted values, urls and whitespace; differ across templates', () => {
    const a = templateIdOf('Summarise "Alpha report" from https://x.io/1 in 50 words');
    const b = templateIdOf('Summarise  "Beta"   from https://y.io/2 in 75 words');
    expect(a).toBe(b);
    expect(templateIdOf('Translate this into French')).not.toBe(a);
  });

  test('usage event fields are typed as the contract says', () => {
    const r = handleStubRequest({
      accountId: 'a',
      requestId: 'r',
      model: 'm',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      now: 5,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(typeof r.usage.inputTokens).toBe('number');
    expect(typeof r.usage.outputTokens).toBe('number');
    expect(r.usage.timestamp).toBe(5);
    expect(validateUsageEvent(r.usage)).toEqual({ valid: true, errors: [] });
  });
});
