import { gzipSync } from 'node:zlib';
import {
  decodeRecord,
  IngestStats,
  ingestRecord,
  parseAccessLog,
  parseAny,
  parseClfTime,
  parseUsage,
  modelFromPath,
  ipInfo,
  MAX_LATENCY_MS,
  MAX_RESPONSE_BYTES,
  MAX_TOKENS,
  type RequestEvent,
  type UsageRecord,
} from '../../src/ingest';
import { TrafficGen, controlMessageData, envelopeData, envelopeJson } from '../../bench/synthetic';

const NOW = Date.UTC(2026, 10, 2, 1);

/** A record exactly as API Gateway writes it with the access-log format of docs/contract.md (every value a string). */
const line = {
  requestId: 'c0ffee00-1111-2222-3333-444455556666',
  requestTimeEpoch: '1793577609000',
  requestTime: '02/Nov/2026:00:00:09 +0000',
  accountId: 'acct_1',
  apiKeyId: 'k8z1x2',
  sourceIp: '203.0.113.57',
  userAgent: 'anthropic-sdk-python/1.2.3',
  httpMethod: 'POST',
  path: '/prod/v1/models/claude-sonnet-5/messages',
  status: '200',
  responseLength: '5120',
  integrationLatency: '812',
  accountCreatedAt: '1790000000000',
};

function collect(data: string | Buffer): { stats: IngestStats; requests: RequestEvent[]; usage: UsageRecord[]; kind: string } {
  const stats = new IngestStats();
  const requests: RequestEvent[] = [];
  const usage: UsageRecord[] = [];
  const d = ingestRecord(data, stats, { request: (e) => requests.push(e), usage: (u) => usage.push(u) }, { now: NOW });
  return { stats, requests, usage, kind: d.ok ? d.kind : `fail:${d.reason}` };
}

describe('parseAccessLog', () => {
  it('normalises a complete record', () => {
    const r = parseAccessLog(JSON.stringify(line), { now: NOW });
    expect(r).toEqual({
      ok: true,
      event: {
        requestId: line.requestId,
        ts: 1793577609000,
        accountId: 'acct_1',
        apiKeyId: 'k8z1x2',
        ipHash: expect.stringMatching(/^[0-9a-f]{16}$/),
        subnet: '203.0.113.0/24',
        userAgent: 'anthropic-sdk-python/1.2.3',
        method: 'POST',
        model: 'claude-sonnet-5',
        status: 200,
        responseBytes: 5120,
        latencyMs: 812,
        accountCreatedAt: 1790000000000,
      },
    });
  });

  it('treats `-` as missing', () => {
    const r = parseAccessLog({
      ...line,
      apiKeyId: '-',
      responseLength: '-',
      integrationLatency: '-',
      accountCreatedAt: '-',
      sourceIp: '-',
      userAgent: '-',
    });
    expect(r.ok && r.event).toMatchObject({
      apiKeyId: null,
      responseBytes: null,
      latencyMs: null,
      accountCreatedAt: null,
      ipHash: null,
      subnet: null,
      userAgent: null,
    });
  });

  it('falls back to requestTime (CLF) when requestTimeEpoch is missing', () => {
    const r = parseAccessLog({ ...line, requestTimeEpoch: '-' });
    expect(r.ok && r.event.ts).toBe(1793577609000);
    expect(parseClfTime('02/Nov/2026:01:00:09 +0100')).toBe(1793577609000);
    expect(parseClfTime('2026-11-02T00:00:09Z')).toBeNaN();
  });

  it.each([
    [{ accountId: '-' }, 'missing-account-id'],
    [{ accountId: undefined }, 'missing-account-id'],
    [{ accountId: { $ne: 1 } }, 'bad-account-id'],
    [{ accountId: 'a\nb' }, 'bad-account-id'],
    [{ requestId: '-' }, 'missing-request-id'],
    [{ requestTimeEpoch: '-', requestTime: '-' }, 'missing-timestamp'],
    [{ requestTimeEpoch: 'yesterday' }, 'bad-timestamp'],
    [{ requestTimeEpoch: '-', requestTime: 'yesterday' }, 'bad-timestamp'],
    [{ requestTimeEpoch: '1' }, 'timestamp-out-of-range'],
    [{ requestTimeEpoch: String(NOW + 86_400_000) }, 'timestamp-out-of-range'],
    [{ requestTimeEpoch: String(NOW - 30 * 86_400_000) }, 'timestamp-out-of-range'],
    [{ status: '-' }, 'bad-status'],
    [{ status: 'OK' }, 'bad-status'],
    [{ status: '999' }, 'bad-status'],
    [{ responseLength: [1] }, 'bad-field-type'],
    [{ userAgent: { a: 1 } }, 'bad-field-type'],
  ])('rejects %j as %s', (patch, reason) => {
    expect(parseAccessLog({ ...line, ...patch } as object, { now: NOW })).toEqual({ ok: false, reason });
  });

  describe('numbers are unbounded (responseLength "1e200" was planned as 1e+200, which DynamoDB rejects): clamped at parse', () => {
    const parse = (patch: Record<string, unknown>) => {
      const r = parseAccessLog({ ...line, ...patch }, { now: NOW });
      if (!r.ok) throw new Error(`rejected: ${r.reason}`);
      return r.event;
    };
    it.each([
      ['1e200', MAX_RESPONSE_BYTES, MAX_LATENCY_MS],
      ['1E+30', MAX_RESPONSE_BYTES, MAX_LATENCY_MS],
      [1e200, MAX_RESPONSE_BYTES, MAX_LATENCY_MS],
      ['99999999999999999999', MAX_RESPONSE_BYTES, MAX_LATENCY_MS],
      [Number.MAX_VALUE, MAX_RESPONSE_BYTES, MAX_LATENCY_MS],
      ['5120.9', 5120, 5120],
      ['0', 0, 0],
    ])('%j -> clamped to the documented bound (bytes %d, ms %d), still a request', (v, bytes, ms) => {
      const e = parse({ responseLength: v, integrationLatency: v });
      expect([e.responseBytes, e.latencyMs]).toEqual([bytes, ms]);
      expect(Number.isInteger(e.responseBytes)).toBe(true);
      expect(String(e.responseBytes)).not.toMatch(/e/i);
    });
    it.each(['-1', '-5120', -3, 'NaN', 'Infinity', '-Infinity', 'abc', '0x10', '1_000', ' 12', '1e', '.5', '', '12abc', NaN, -Infinity, Infinity])(
      'negative or NaN-ish %j -> unknown (null), still a request',
      (v) => {
        const e = parse({ responseLength: v, integrationLatency: v, accountCreatedAt: v });
        expect([e.responseBytes, e.latencyMs, e.accountCreatedAt]).toEqual([null, null, null]);
      },
    );
    it('implausible account creation times are unknown', () => {
      expect(parse({ accountCreatedAt: '1e200' }).accountCreatedAt).toBeNull();
      expect(parse({ accountCreatedAt: '5' }).accountCreatedAt).toBeNull();
      expect(parse({ accountCreatedAt: '1790000000000.7' }).accountCreatedAt).toBe(1790000000000);
    });
    it('bounds keep any window sum an exact integer below 2^53', () => {
      // ~8 million maximal responses in one (account, hour) before a sum could lose precision.
      expect(Number.MAX_SAFE_INTEGER / MAX_RESPONSE_BYTES).toBeGreaterThan(8_000_000);
      expect(Number.MAX_SAFE_INTEGER / MAX_LATENCY_MS).toBeGreaterThan(2e9);
    });
    it('usage token counts are bounded too (rejected beyond MAX_TOKENS)', () => {
      const u = { type: 'usage', requestId: 'r', accountId: 'a', timestamp: NOW, promptClass: 'chat' };
      expect(parseUsage({ ...u, inputTokens: 1e200 }, { now: NOW })).toEqual({ ok: false, reason: 'bad-usage-field' });
      expect(parseUsage({ ...u, outputTokens: '1e200' }, { now: NOW })).toEqual({ ok: false, reason: 'bad-usage-field' });
      expect(parseUsage({ ...u, outputTokens: -1 }, { now: NOW })).toEqual({ ok: false, reason: 'bad-usage-field' });
      expect(parseUsage({ ...u, outputTokens: MAX_TOKENS }, { now: NOW }).ok).toBe(true);
    });
  });

  it('rejects non-JSON, non-objects and huge lines', () => {
    expect(parseAccessLog('GET / HTTP/1.1 200')).toEqual({ ok: false, reason: 'not-json' });
    expect(parseAccessLog('{"requestId": "x", ')).toEqual({ ok: false, reason: 'not-json' });
    expect(parseAccessLog('[1,2]')).toEqual({ ok: false, reason: 'not-object' });
    expect(parseAccessLog('null')).toEqual({ ok: false, reason: 'not-object' });
    expect(parseAccessLog(JSON.stringify({ ...line, userAgent: 'x'.repeat(40_000) }))).toEqual({ ok: false, reason: 'line-too-large' });
  });

  it('sanitises the user agent: control characters, bidi overrides and newlines removed, 256 chars max', () => {
    const r = parseAccessLog({ ...line, userAgent: 'curl/8\r\n{"level":"ERROR","msg":"forged"}\u202e\u0000' + 'y'.repeat(500) });
    expect(r.ok).toBe(true);
    const ua = r.ok ? r.event.userAgent! : '';
    // eslint-disable-next-line no-control-regex -- asserts NUL and other controls are gone
    expect(ua).not.toMatch(/[\r\n\u0000\u202e]/);
    expect(ua.startsWith('curl/8{"level":"ERROR"')).toBe(true);
    expect(ua).toHaveLength(256);
  });

  it('extracts the model id from the path, and only a plausible one', () => {
    expect(modelFromPath('/prod/v1/models/claude-haiku-5/messages')).toBe('claude-haiku-5');
    expect(modelFromPath('/v1/models/claude-haiku-5')).toBe('claude-haiku-5');
    expect(modelFromPath('/v1/models/claude-haiku-5?x=1')).toBe('claude-haiku-5');
    expect(modelFromPath('/v1/messages')).toBeNull();
    expect(modelFromPath('/v1/models//messages')).toBeNull();
    expect(modelFromPath('/v1/models/<script>/messages')).toBeNull();
    expect(modelFromPath(`/v1/models/${'a'.repeat(200)}/messages`)).toBeNull();
  });

  it('hashes IPs (never keeps them) and derives /24 and /48 prefixes', () => {
    const v4 = ipInfo('198.51.100.7');
    expect(v4.subnet).toBe('198.51.100.0/24');
    expect(v4.ipHash).not.toContain('198');
    expect(ipInfo('::ffff:198.51.100.7')).toEqual(v4);
    expect(ipInfo('2001:db8:abcd:12::1').subnet).toBe('2001:db8:abcd::/48');
    expect(ipInfo('2001:db8:abcd:12::1').ipHash).toBe(ipInfo('2001:0db8:abcd:0012:0:0:0:1').ipHash);
    expect(ipInfo('not-an-ip')).toEqual({ ipHash: null, subnet: null });
  });
});

describe('parseUsage', () => {
  const usage = {
    type: 'usage',
    requestId: 'r1',
    accountId: 'acct_1',
    timestamp: 1793577600119,
    model: 'claude-sonnet-5',
    promptClass: 'cot_elicitation',
    templateId: 't-8f3a',
    inputTokens: 812,
    outputTokens: 2210,
  };

  it('parses the contract example', () => {
    expect(parseUsage(JSON.stringify(usage))).toEqual({
      ok: true,
      event: {
        requestId: 'r1',
        accountId: 'acct_1',
        ts: 1793577600119,
        model: 'claude-sonnet-5',
        promptClass: 'cot_elicitation',
        templateId: 't-8f3a',
        inputTokens: 812,
        outputTokens: 2210,
      },
    });
  });

  it('keeps unknown prompt classes as other, rejects wrong types', () => {
    expect(
      parseUsage({ ...usage, promptClass: 'poetry' }).ok &&
        (parseUsage({ ...usage, promptClass: 'poetry' }) as { event: UsageRecord }).event.promptClass,
    ).toBe('other');
    expect(parseUsage({ ...usage, inputTokens: -1 })).toEqual({ ok: false, reason: 'bad-usage-field' });
    expect(parseUsage({ ...usage, inputTokens: 1.5 })).toEqual({ ok: false, reason: 'bad-usage-field' });
    expect(parseUsage({ ...usage, promptClass: 7 })).toEqual({ ok: false, reason: 'bad-usage-field' });
    expect(parseUsage({ ...usage, timestamp: 'soon' })).toEqual({ ok: false, reason: 'bad-timestamp' });
    expect(parseUsage({ ...usage, accountId: '' })).toEqual({ ok: false, reason: 'missing-account-id' });
  });

  it('parseAny routes by type', () => {
    expect(parseAny(usage)).toMatchObject({ ok: true, kind: 'usage' });
    expect(parseAny(line)).toMatchObject({ ok: true, kind: 'request' });
  });
});

describe('decodeRecord / ingestRecord', () => {
  const gen = new TrafficGen({ accounts: 5, stepMs: 1000 });

  it('decodes a gzip CloudWatch Logs DATA_MESSAGE with several log events', () => {
    const recs = gen.records(25);
    const out = collect(envelopeData(recs));
    expect(out.kind).toBe('logs');
    expect(out.requests).toHaveLength(25);
    expect(out.requests.map((e) => e.requestId)).toEqual(recs.map((r) => r.requestId));
    expect(out.stats.skipped).toBe(0);
  });

  it('accepts raw bytes as well as base64', () => {
    const bytes = gzipSync(envelopeJson(gen.records(3)));
    expect(collect(bytes).requests).toHaveLength(3);
  });

  it('counts a CONTROL_MESSAGE and yields no events', () => {
    const out = collect(controlMessageData());
    expect(out.kind).toBe('control');
    expect(out.stats.controlMessages).toBe(1);
    expect(out.requests).toHaveLength(0);
    expect(out.stats.skipped).toBe(0);
  });

  it('skips and counts malformed lines inside a valid envelope, keeping the valid ones', () => {
    const good = gen.records(3);
    const out = collect(envelopeData([good[0], 'not json', JSON.stringify({ ...good[1], accountId: '-' }), '{"requestId":"x"', good[2]]));
    expect(out.requests.map((e) => e.requestId)).toEqual([good[0].requestId, good[2].requestId]);
    expect(out.stats.byReason).toEqual({ 'not-json': 2, 'missing-account-id': 1 });
  });

  it('decodes usage events put directly: one object, an array, NDJSON, gzip or not', () => {
    const u = gen.usageFor(gen.nextRecord());
    const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
    expect(collect(b64(JSON.stringify(u))).usage).toHaveLength(1);
    expect(collect(b64(JSON.stringify([u, u]))).usage).toHaveLength(2);
    expect(collect(b64(`${JSON.stringify(u)}\n${JSON.stringify(u)}\n`)).usage).toHaveLength(2);
    expect(collect(gzipSync(`${JSON.stringify(u)}\n${JSON.stringify(u)}`).toString('base64')).usage).toHaveLength(2);
  });

  it('accepts a raw access-log line put directly', () => {
    expect(collect(Buffer.from(JSON.stringify(line)).toString('base64')).requests).toHaveLength(1);
  });

  it.each([
    ['invalid base64', '!!!not base64***', 'invalid-base64'],
    ['empty', '', 'empty-record'],
    [
      'truncated gzip',
      gzipSync(envelopeJson(gen.records(5)))
        .subarray(0, 40)
        .toString('base64'),
      'gunzip-failed',
    ],
    ['gzip of non-JSON', gzipSync('hello world').toString('base64'), 'not-json'],
    ['plain text', Buffer.from('hello world').toString('base64'), 'not-json'],
    ['unknown messageType', gzipSync(JSON.stringify({ messageType: 'NOPE', logEvents: [] })).toString('base64'), 'unknown-message-type'],
    ['logEvents not an array', gzipSync(JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: 'x' })).toString('base64'), 'bad-envelope'],
  ])('rejects %s with a reason, never throwing', (_name, data, reason) => {
    const d = decodeRecord(data);
    expect(d).toMatchObject({ ok: false, reason });
  });

  it('refuses gzip bombs', () => {
    const bomb = gzipSync(Buffer.alloc(40 * 1024 * 1024, 0x20)).toString('base64');
    expect(decodeRecord(bomb)).toMatchObject({ ok: false, reason: 'decompressed-too-large' });
  });
});
