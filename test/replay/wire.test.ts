/** The batches between replay's two threads: every item and field arrives as it was sent, nulls included. */
import { BatchReader, BatchWriter, ItemKind, type Batch } from '../../src/replay/wire';
import type { RequestEvent, UsageRecord } from '../../src/ingest/parse';

const request = (i: number, nulls = false): RequestEvent => ({
  requestId: `r${i}`,
  ts: 1_793_577_600_000 + i,
  accountId: `acct_${i % 3}`,
  apiKeyId: nulls ? null : `key${i % 2}`,
  ipHash: nulls ? null : `ip${i}`,
  subnet: nulls ? null : '10.0.0',
  userAgent: nulls ? null : 'python-httpx/0.27.2',
  method: nulls ? null : 'POST',
  model: nulls ? null : 'claude-opus-5',
  status: 200 + (i % 3) * 100,
  responseBytes: nulls ? null : 0,
  latencyMs: nulls ? null : 1500 + i,
  accountCreatedAt: nulls ? null : 1_793_000_000_000,
});

const usage = (i: number): UsageRecord => ({
  requestId: `r${i}`,
  ts: 1_793_577_600_000 + i,
  accountId: `acct_${i % 3}`,
  model: i % 2 ? null : 'claude-opus-5',
  promptClass: 'cot_elicitation',
  templateId: i % 2 ? `t${i}` : null,
  inputTokens: 10 * i,
  outputTokens: 0,
});

/** Sends `n` items in batches of `capacity`, remembering at most `maxStrings`; returns what the reader got. */
function roundTrip(n: number, capacity: number, maxStrings: number) {
  const writer = new BatchWriter(capacity, maxStrings);
  const batches: Batch[] = [];
  const sent: [number, number, object | null][] = [];
  for (let i = 0; i < n; i++) {
    const ts = 1_793_577_600_000 + i * 7;
    if (i % 4 === 0) {
      writer.item(ItemKind.Log, ts);
      sent.push([ItemKind.Log, ts, null]);
    } else if (i % 4 === 1) {
      const u = usage(i);
      writer.usage(ts, u);
      sent.push([ItemKind.UsageAdmitted, ts, { ...u, requestId: '' }]);
    } else {
      const e = request(i, i % 4 === 3);
      writer.request(ts, e);
      sent.push([ItemKind.LogAdmitted, ts, { ...e, requestId: '' }]);
    }
    if (writer.full) batches.push(writer.take(i));
  }
  if (writer.count > 0) batches.push(writer.take(n));
  const reader = new BatchReader();
  const got: [number, number, object | null][] = [];
  for (const b of batches) reader.read(b, (kind, ts, e) => got.push([kind, ts, e === null ? null : { ...e }]));
  return { sent, got, batches };
}

describe('replay batches', () => {
  test('every item arrives in order with its time, kind and fields; a null stays null, a 0 stays 0', () => {
    const { sent, got, batches } = roundTrip(1000, 64, 1_000_000);
    expect(batches.length).toBe(16);
    expect(got).toEqual(sent);
  });

  test('a string is sent once, and both sides start afresh when the table is full', () => {
    const { sent, got, batches } = roundTrip(1000, 64, 50);
    expect(got).toEqual(sent);
    expect(batches.filter((b) => b.reset).length).toBeGreaterThan(3);
    for (const b of batches) expect(b.newStrings.length).toBeLessThanOrEqual(50 + 64 * 7);
  });

  test('a batch capacity below 1 is refused with the value', () => {
    expect(() => new BatchWriter(0)).toThrow('batch capacity must be at least 1, got 0');
  });
});
