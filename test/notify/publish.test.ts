import { buildBanEvent, DETAIL_TYPES, toPutEventsEntry } from '../../src/notify/ban-event';
import { chunkEntries, PublishItem, publishWithRetry, PutEventsFn, putEventsEntrySize } from '../../src/notify/publish';
import { DECIDED_AT, sampleFields } from './fixtures';

function items(n: number): PublishItem[] {
  return Array.from({ length: n }, (_, i) => {
    const dt = DETAIL_TYPES[i % 3];
    const ev = buildBanEvent(dt, sampleFields(dt, { accountId: `acct_${i}`, caseId: `case-${i}`, decidedAt: DECIDED_AT + i }));
    return { key: `seq-${i}`, eventId: ev.eventId, entry: toPutEventsEntry(ev, 'bus') };
  });
}

/** A fake bus: records every accepted entry; `fail(entry, call)` decides per-entry failures; `throwOn(call)` fails whole calls. */
function fakeBus(opts: { fail?: (detail: { eventId: string }, call: number) => string | undefined; throwOn?: (call: number) => boolean } = {}) {
  const accepted: string[] = [];
  const calls: number[] = [];
  let call = 0;
  const putEvents: PutEventsFn = async (entries) => {
    call++;
    calls.push(entries.length);
    if (entries.length > 10) throw new Error(`too many entries: ${entries.length}`);
    if (opts.throwOn?.(call)) throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
    let failed = 0;
    const out = entries.map((e) => {
      const d = JSON.parse(e.Detail) as { eventId: string };
      const code = opts.fail?.(d, call);
      if (code) {
        failed++;
        return { ErrorCode: code, ErrorMessage: `injected ${code}` };
      }
      accepted.push(d.eventId);
      return { EventId: `eb-${call}-${d.eventId}` };
    });
    return { FailedEntryCount: failed, Entries: out };
  };
  return { putEvents, accepted, calls };
}

const noSleep = { sleep: async () => undefined, random: () => 0.5 };

describe('publishWithRetry', () => {
  it('sends in chunks of at most 10 entries', async () => {
    const bus = fakeBus();
    const all = items(23);
    const out = await publishWithRetry(all, bus.putEvents, noSleep);
    expect(bus.calls).toEqual([10, 10, 3]);
    expect(out.published.map((p) => p.eventId)).toEqual(all.map((i) => i.eventId));
    expect(out.failed).toEqual([]);
  });

  it('re-sends ONLY the entries that failed (FailedEntryCount > 0), until all are on the bus', async () => {
    const seen = new Map<string, number>();
    const bus = fakeBus({
      // every third event fails on its first two attempts
      fail: (d) => {
        const n = (seen.get(d.eventId) ?? 0) + 1;
        seen.set(d.eventId, n);
        return all.findIndex((i) => i.eventId === d.eventId) % 3 === 0 && n <= 2 ? 'ThrottlingException' : undefined;
      },
    });
    const all = items(12);
    const out = await publishWithRetry(all, bus.putEvents, { ...noSleep, maxAttempts: 3 });
    expect(out.failed).toEqual([]);
    expect(new Set(out.published.map((p) => p.eventId))).toEqual(new Set(all.map((i) => i.eventId)));
    // each event accepted exactly once: successful entries were never re-sent
    expect(bus.accepted.length).toBe(12);
    expect(new Set(bus.accepted).size).toBe(12);
    expect(bus.calls).toEqual([10, 2, 4, 4]); // 12 sent, 4 failed; 4 re-sent, failed again; 4 re-sent, accepted
    expect(out.retriedEntries).toBe(8);
  });

  it('retries every entry of a call that failed whole (total failure), then succeeds', async () => {
    const bus = fakeBus({ throwOn: (c) => c <= 2 });
    const all = items(5);
    const out = await publishWithRetry(all, bus.putEvents, noSleep);
    expect(out.failed).toEqual([]);
    expect(bus.accepted.sort()).toEqual(all.map((i) => i.eventId).sort());
    expect(out.calls).toBe(3);
  });

  it('never drops: what still fails after maxAttempts comes back as retryable failures', async () => {
    const bus = fakeBus({ throwOn: () => true });
    const all = items(4);
    const out = await publishWithRetry(all, bus.putEvents, { ...noSleep, maxAttempts: 3 });
    expect(out.published).toEqual([]);
    expect(out.failed.map((f) => f.item.key)).toEqual(all.map((i) => i.key));
    expect(out.failed.every((f) => !f.permanent && f.errorCode === 'ThrottlingException')).toBe(true);
    expect(out.calls).toBe(3);
  });

  it('does not retry an entry rejected as malformed (permanent), and reports it', async () => {
    const all = items(3);
    const bad = all[1].eventId;
    const bus = fakeBus({ fail: (d) => (d.eventId === bad ? 'MalformedDetail' : undefined) });
    const out = await publishWithRetry(all, bus.putEvents, noSleep);
    expect(out.published).toHaveLength(2);
    expect(out.failed).toHaveLength(1);
    expect(out.failed[0]).toMatchObject({ permanent: true, errorCode: 'MalformedDetail' });
    expect(out.calls).toBe(1);
  });

  it('treats a missing per-entry result as a failure, never as a success', async () => {
    const all = items(2);
    let call = 0;
    const out = await publishWithRetry(
      all,
      async () => (++call === 1 ? { FailedEntryCount: 0, Entries: [{ EventId: 'x' }] } : { FailedEntryCount: 0, Entries: [{ EventId: 'y' }] }),
      noSleep,
    );
    expect(out.published.map((p) => p.key)).toEqual(['seq-0', 'seq-1']);
    expect(out.retriedEntries).toBe(1);
  });

  it('backs off with full jitter, capped', async () => {
    const sleeps: number[] = [];
    const bus = fakeBus({ throwOn: () => true });
    await publishWithRetry(items(1), bus.putEvents, {
      maxAttempts: 6,
      baseDelayMs: 100,
      maxDelayMs: 500,
      random: () => 0.999,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(sleeps).toEqual([99, 199, 399, 499, 499]);
  });

  it('splits by size (256 KiB per call) and fails an oversize entry permanently instead of looping', async () => {
    const big = (n: number, key: string): PublishItem => ({
      key,
      eventId: key,
      entry: { Source: 'distill-guard', DetailType: 'Account Flagged', Detail: JSON.stringify({ eventId: key, pad: 'x'.repeat(n) }) },
    });
    const chunks = chunkEntries([big(100_000, 'a'), big(100_000, 'b'), big(100_000, 'c')]);
    expect(chunks.map((c) => c.length)).toEqual([2, 1]);
    expect(putEventsEntrySize(big(10, 'a').entry)).toBe(
      Buffer.byteLength('distill-guard') +
        Buffer.byteLength('Account Flagged') +
        Buffer.byteLength(JSON.stringify({ eventId: 'a', pad: 'x'.repeat(10) })),
    );
    const bus = fakeBus();
    const out = await publishWithRetry([big(300_000, 'huge'), big(10, 'ok')], bus.putEvents, noSleep);
    expect(out.published.map((p) => p.key)).toEqual(['ok']);
    expect(out.failed[0]).toMatchObject({ permanent: true, errorCode: 'EntryTooLarge' });
  });
});
