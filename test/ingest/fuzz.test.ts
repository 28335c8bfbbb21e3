/**
 * Hostile input (docs/aggregate.md, "Hostile and broken input"): a fuzz corpus of hostile and broken Kinesis records. Every case is skipped and counted with a
 * reason, nothing throws, and the valid records around them are still counted.
 */
import { gzipSync } from 'node:zlib';
import { IngestStats, ingestRecord, type RequestEvent, type UsageRecord } from '../../src/ingest';
import { TrafficGen, envelopeData, envelopeJson, rng, controlMessageData } from '../../bench/synthetic';

const NOW = Date.UTC(2026, 10, 2, 12);
const gen = new TrafficGen({ seed: 11, accounts: 6, stepMs: 1000, start: Date.UTC(2026, 10, 2, 10) });
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const gz64 = (s: string) => gzipSync(s).toString('base64');

/** Named hostile records; each yields no valid event. */
function corpus(): Array<[string, string]> {
  const r = gen.nextRecord();
  const withLine = (line: unknown) => envelopeData([typeof line === 'string' ? line : JSON.stringify(line)]);
  const full = gzipSync(envelopeJson(gen.records(10)));
  return [
    ['invalid base64', '%%%%'],
    ['base64 with a stray quote', b64('hello').slice(0, 4) + '"'],
    ['empty', ''],
    ['whitespace only', b64('   \n ')],
    ['truncated gzip (half)', full.subarray(0, full.length >> 1).toString('base64')],
    ['truncated gzip (header only)', full.subarray(0, 10).toString('base64')],
    ['gzip with corrupted body', Buffer.concat([full.subarray(0, 20), Buffer.alloc(40, 0xff), full.subarray(60)]).toString('base64')],
    ['gzip of binary', gzipSync(Buffer.from([0, 1, 2, 3, 255])).toString('base64')],
    ['non-JSON envelope', gz64('messageType=DATA_MESSAGE')],
    ['JSON number', gz64('42')],
    ['JSON string', b64('"a string"')],
    ['envelope with logEvents as object', gz64(JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: { 0: r } }))],
    ['envelope with unknown messageType', gz64(JSON.stringify({ messageType: 'DATA_MESSAGE_V2', logEvents: [] }))],
    ['log event with numeric message', gz64(JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [{ id: '1', timestamp: 1, message: 42 }] }))],
    ['log event null', gz64(JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: [null] }))],
    ['line: plain text', withLine('127.0.0.1 - - [02/Nov/2026:00:00:09 +0000] "POST /v1 HTTP/1.1" 200')],
    ['line: truncated JSON', withLine(JSON.stringify(r).slice(0, 60))],
    ['line: array', withLine([r])],
    ['line: accountId missing', withLine({ ...r, accountId: undefined })],
    ['line: accountId -', withLine({ ...r, accountId: '-' })],
    ['line: accountId object (NoSQL-style injection)', withLine({ ...r, accountId: { $gt: '' } })],
    ['line: accountId with newline', withLine({ ...r, accountId: 'acct_1\nacct_2' })],
    ['line: accountId huge', withLine({ ...r, accountId: 'a'.repeat(5000) })],
    ['line: requestId number-ish object', withLine({ ...r, requestId: [1, 2] })],
    ['line: status as array', withLine({ ...r, status: ['200'] })],
    ['line: status text', withLine({ ...r, status: 'OK' })],
    ['line: timestamp far past', withLine({ ...r, requestTimeEpoch: '86400000' })],
    ['line: timestamp year 2100+', withLine({ ...r, requestTimeEpoch: '4200000000000' })],
    ['line: timestamp a week ahead', withLine({ ...r, requestTimeEpoch: String(NOW + 7 * 86_400_000) })],
    ['line: timestamp a month old', withLine({ ...r, requestTimeEpoch: String(NOW - 31 * 86_400_000) })],
    ['line: timestamp NaN', withLine({ ...r, requestTimeEpoch: 'NaN' })],
    ['line: timestamp negative', withLine({ ...r, requestTimeEpoch: '-5' })],
    ['line: timestamp exponent', withLine({ ...r, requestTimeEpoch: '1e400' })],
    ['line: no timestamps', withLine({ ...r, requestTimeEpoch: '-', requestTime: '-' })],
    ['line: responseLength object', withLine({ ...r, responseLength: { n: 1 } })],
    ['line: huge line', withLine({ ...r, userAgent: 'x'.repeat(100_000) })],
    ['usage: negative tokens', b64(JSON.stringify({ ...gen.usageFor(r), inputTokens: -3 }))],
    ['usage: tokens as object', b64(JSON.stringify({ ...gen.usageFor(r), outputTokens: { a: 1 } }))],
    ['usage: no account', b64(JSON.stringify({ ...gen.usageFor(r), accountId: '-' }))],
    ['usage: template with control chars', b64(JSON.stringify({ ...gen.usageFor(r), templateId: 't\u0000x' }))],
    ['usage: timestamp string', b64(JSON.stringify({ ...gen.usageFor(r), timestamp: 'now' }))],
  ];
}

function run(data: string): { stats: IngestStats; requests: RequestEvent[]; usage: UsageRecord[] } {
  const stats = new IngestStats();
  const requests: RequestEvent[] = [];
  const usage: UsageRecord[] = [];
  ingestRecord(data, stats, { request: (e) => requests.push(e), usage: (u) => usage.push(u) }, { now: NOW });
  return { stats, requests, usage };
}

describe('fuzz corpus', () => {
  it.each(corpus())('%s: skipped and counted, no event', (_name, data) => {
    const out = run(data);
    expect(out.requests).toHaveLength(0);
    expect(out.usage).toHaveLength(0);
    expect(out.stats.skipped).toBeGreaterThan(0);
    expect(Object.values(out.stats.byReason).reduce((a, b) => a + (b ?? 0), 0)).toBe(out.stats.skipped);
  });

  it('keeps valid-but-odd values: unicode, log-injection user agents, `-` fields, control messages', () => {
    const r = gen.nextRecord();
    const lines = [
      { ...r, requestId: 'u1', userAgent: 'Mozilla/5.0 (🦊; 日本語; Ω) \u202eevil\u202c' },
      { ...r, requestId: 'u2', userAgent: 'curl/8\r\n2026-11-02 ERROR admin login ok\u001b[31m' },
      { ...r, requestId: 'u3', userAgent: '${jndi:ldap://x/a}' },
      { ...r, requestId: 'u4', apiKeyId: '-', sourceIp: '-', userAgent: '-', responseLength: '-', integrationLatency: '-', accountCreatedAt: '-' },
      { ...r, requestId: 'u5', path: '/prod/v1/models/../../etc/passwd/messages' },
    ];
    const out = run(envelopeData(lines));
    expect(out.requests.map((e) => e.requestId)).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    // eslint-disable-next-line no-control-regex -- asserts control characters are gone
    for (const e of out.requests) if (e.userAgent) expect(e.userAgent).not.toMatch(/[\u0000-\u001f\u007f\u202a-\u202e]/);
    expect(out.requests[1].userAgent).toBe('curl/82026-11-02 ERROR admin login ok[31m');
    expect(out.requests[3]).toMatchObject({
      apiKeyId: null,
      ipHash: null,
      userAgent: null,
      responseBytes: null,
      latencyMs: null,
      accountCreatedAt: null,
    });
    expect(out.requests[4].model).toBeNull();
    expect(run(controlMessageData()).stats).toMatchObject({ controlMessages: 1, skipped: 0 });
  });

  it('random mutations of valid records never throw, and every line is accounted for', () => {
    const r = rng(99);
    let valid = 0;
    let lines = 0;
    const totals = new IngestStats();
    for (let i = 0; i < 400; i++) {
      const recs = gen.records(5);
      let raw: Buffer = gzipSync(envelopeJson(recs));
      const mode = Math.floor(r() * 5);
      if (mode === 1) raw = raw.subarray(0, Math.floor(r() * raw.length));
      if (mode === 2) {
        raw = Buffer.from(raw);
        for (let k = 0; k < 3; k++) raw[Math.floor(r() * raw.length)] = Math.floor(r() * 256);
      }
      let data = raw.toString('base64');
      if (mode === 3) data = data.slice(0, Math.floor(r() * data.length));
      if (mode === 4) {
        // Mutate the JSON of one line (wrong types, deleted keys, '-').
        const bad = recs.map((x) => ({ ...x })) as Array<Record<string, unknown>>;
        const keys = Object.keys(bad[0]);
        const key = keys[Math.floor(r() * keys.length)];
        bad[0][key] = [null, '-', 12, { a: 1 }, '', '\u0000'][Math.floor(r() * 6)];
        data = envelopeData(bad.map((x) => JSON.stringify(x)));
      }
      const out = run(data);
      if (mode === 0) valid += 5;
      lines += out.stats.lines;
      totals.requests += out.requests.length;
      totals.skipped += out.stats.skipped;
      // Every line either became an event or was skipped with a reason; records that failed as a whole count once.
      expect(out.stats.requests + out.stats.usage + out.stats.skipped).toBeGreaterThanOrEqual(out.stats.lines);
      if (mode === 0) expect(out.requests).toHaveLength(5);
    }
    expect(totals.requests).toBeGreaterThanOrEqual(valid);
    expect(totals.skipped).toBeGreaterThan(0);
    expect(lines).toBeGreaterThan(0);
  });
});
