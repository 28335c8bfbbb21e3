import { parseAccessLog, type RequestEvent } from '../../src/ingest';
import {
  BatchAggregator,
  FeatureStore,
  ReplayAggregator,
  WINDOW_LIMITS,
  WINDOW_MS,
  WindowAcc,
  canonicalWindow,
  compareSeq,
  deltaAbove,
  encodeSeq,
  itemToWindow,
  itemWatermarks,
  mergeWindows,
  planWindowUpdate,
  windowStartOf,
  windowToItem,
  CHANGE_MARKER_ATTR,
  CHANGE_MARKER_MS,
  changeMarker,
  changeMarkerEnd,
  decodeSetValue,
  encodeSetValue,
  BatchDeduper,
  DuplicateMemory,
  type SetField,
  type Window,
} from '../../src/aggregate';
import { itemSizeBytes } from '../../src/aggregate/size';
import { TrafficGen } from '../../bench/synthetic';

function events(n: number, seed = 1, accounts = 10): RequestEvent[] {
  const g = new TrafficGen({ seed, accounts, stepMs: 4000 });
  return g.records(n).map((r) => {
    const p = parseAccessLog(r);
    if (!p.ok) throw new Error(p.reason);
    return p.event;
  });
}

function windowsOf(evs: RequestEvent[]): Window[] {
  const b = new BatchAggregator();
  for (const e of evs) b.addRequest(e);
  return b.windows();
}

const canon = (ws: Window[]) =>
  JSON.stringify(ws.map(canonicalWindow).sort((a, b) => (a.accountId + a.windowStart < b.accountId + b.windowStart ? -1 : 1)));

describe('windows', () => {
  it('windowStartOf floors to the hour', () => {
    expect(windowStartOf(Date.UTC(2026, 10, 2, 5, 59, 59, 999))).toBe(Date.UTC(2026, 10, 2, 5));
    expect(windowStartOf(Date.UTC(2026, 10, 2, 6))).toBe(Date.UTC(2026, 10, 2, 6));
  });

  it('aggregates requests into per-account hourly windows', () => {
    const evs = events(3000);
    const ws = windowsOf(evs);
    expect(ws.reduce((s, w) => s + w.n, 0)).toBe(3000);
    for (const w of ws) {
      expect(w.windowStart % WINDOW_MS).toBe(0);
      expect(Object.values(w.minutes).reduce((s, v) => s + v, 0)).toBe(w.n);
      expect(Object.values(w.models).reduce((s, v) => s + v, 0)).toBe(w.n);
      expect(w.firstTs).toBeGreaterThanOrEqual(w.windowStart);
      expect(w.lastTs).toBeLessThan(w.windowStart + WINDOW_MS);
      expect(w.status429).toBeLessThanOrEqual(w.status4xx);
    }
  });

  it('merge is commutative and associative: any split of the events gives the same windows', () => {
    const evs = events(2000, 7);
    const whole = windowsOf(evs);
    const a = windowsOf(evs.slice(0, 700));
    const b = windowsOf(evs.slice(700, 1500));
    const c = windowsOf(evs.slice(1500));
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
    ]) {
      const store = new FeatureStore();
      for (const part of order) for (const w of part) store.applyDelta(w);
      expect(canon(store.allWindows())).toBe(canon(whole));
    }
  });

  it('merge is idempotent for sets and min/max', () => {
    const [w] = windowsOf(events(50, 3, 1));
    const twice = mergeWindows(w, w);
    expect(twice.n).toBe(2 * w.n);
    expect(new Set(twice.ips)).toEqual(new Set(w.ips));
    expect([twice.firstTs, twice.lastTs, twice.accountCreatedAt]).toEqual([w.firstTs, w.lastTs, w.accountCreatedAt]);
    expect(() => mergeWindows(w, { ...w, accountId: 'other' })).toThrow(/different keys/);
  });

  it('bounds set sizes and counts the overflow', () => {
    const acc = new WindowAcc('a', 0);
    const base = events(1, 1, 1)[0];
    for (let i = 0; i < WINDOW_LIMITS.ips + 25; i++) acc.addRequest({ ...base, ts: 1000, ipHash: `h${i}`, model: `m${i}` });
    const w = acc.toWindow();
    expect(w.ips).toHaveLength(WINDOW_LIMITS.ips);
    expect(w.overflow).toEqual({ ips: 25 });
    expect(Object.keys(w.models)).toHaveLength(WINDOW_LIMITS.models + 1);
    expect(w.models['~other']).toBe(WINDOW_LIMITS.ips + 25 - WINDOW_LIMITS.models);
  });
});

describe('FeatureStore and ReplayAggregator', () => {
  it('answers windowsFor / activeAccounts / modelFirstSeen', () => {
    const g = new TrafficGen({ seed: 5, accounts: 4, stepMs: 20_000 });
    const recs = g.records(1000);
    const agg = new ReplayAggregator();
    for (const r of recs) agg.addLogLine(JSON.stringify(r));
    agg.addLogLine('garbage');
    agg.addLogLine(JSON.stringify({ ...recs[0], accountId: '-' }));
    expect(agg.stats.toJSON()).toMatchObject({
      lines: 1002,
      requests: 1000,
      skipped: 2,
      skippedByReason: { 'not-json': 1, 'missing-account-id': 1 },
    });
    const s = agg.store;
    const t0 = Number(recs[0].requestTimeEpoch);
    const t1 = Number(recs[999].requestTimeEpoch);
    expect(s.activeAccounts(0, Infinity).sort()).toEqual(['acct_0', 'acct_1', 'acct_2', 'acct_3']);
    const ws = s.windowsFor('acct_1', windowStartOf(t0), t1 + 1);
    expect(ws.length).toBeGreaterThan(1);
    expect(ws.map((w) => w.windowStart)).toEqual([...ws.map((w) => w.windowStart)].sort((a, b) => a - b));
    expect(ws.reduce((n, w) => n + w.n, 0)).toBe(recs.filter((r) => r.accountId === 'acct_1').length);
    const first = s.modelFirstSeen();
    expect(first['claude-sonnet-5']).toBe(Math.min(...recs.filter((r) => r.path.includes('claude-sonnet-5')).map((r) => Number(r.requestTimeEpoch))));
    expect(agg.clock).toBe(t1);
  });

  it('skips usage events that disagree with the access logs', () => {
    const g = new TrafficGen({ seed: 9, accounts: 3 });
    const r = g.nextRecord();
    const agg = new ReplayAggregator();
    agg.addLogLine(r);
    expect(agg.addUsageLine({ ...g.usageFor(r), accountId: 'someone_else' })).toBeNull();
    expect(agg.addUsageLine(g.usageFor(r))).not.toBeNull();
    expect(agg.stats.byReason).toEqual({ 'usage-account-mismatch': 1 });
    const [w] = agg.store.windowsFor(r.accountId, 0, Infinity);
    expect(w.usageN).toBe(1);
  });
});

describe('DynamoDB item mapping and update planning', () => {
  it('round-trips a window through its item', () => {
    for (const w of windowsOf(events(500, 11, 3))) {
      expect(canonicalWindow(itemToWindow(windowToItem(w, 30) as Record<string, unknown>)!)).toEqual(canonicalWindow(w));
    }
  });

  it('orders watermarks numerically as strings', () => {
    const seqs = [
      '9',
      '10',
      '49600000000000000000000000000000000000000000000000000001',
      '49600000000000000000000000000000000000000000000000000010',
      '100000000000000000000000000000000000000000000000000000000',
    ];
    for (let i = 1; i < seqs.length; i++) {
      expect(compareSeq(seqs[i - 1], seqs[i])).toBe(-1);
      expect(encodeSeq(seqs[i - 1]) < encodeSeq(seqs[i])).toBe(true);
    }
    expect(itemWatermarks({ 'wm:shardId-1': { S: encodeSeq('42') }, n: { N: '1' } })).toEqual(new Map([['shardId-1', '42']]));
  });

  it('plans one conditional update with watermark, set-size and min/max conditions', () => {
    const b = new BatchAggregator(true);
    events(20, 2, 1).forEach((e, i) => b.addRequest(e, { lane: 'shardId-000000000000', seq: String(100 + i) }));
    const [d] = [...b.deltas.values()];
    const p = planWindowUpdate(d, 30);
    const names = Object.values(p.ExpressionAttributeNames);
    expect(names).toEqual(expect.arrayContaining(['n', 'ip', 'firstTs', 'lastTs', 'wm:shardId-000000000000', 'gsi1pk', 'expiresAt']));
    expect(p.ConditionExpression).toContain('attribute_not_exists');
    expect(Object.values(p.ExpressionAttributeValues)).toEqual(expect.arrayContaining([{ S: encodeSeq(String(100 + d.events.length - 1)) }]));

    // With the exact stored item (after a failed condition), only records above the watermark are re-applied.
    const above = deltaAbove(d, new Map([['shardId-000000000000', '104']]))!;
    expect(above.acc.n).toBe(d.sources.filter((src) => Number(src.seq) > 104).length);
    expect(deltaAbove(d, new Map([['shardId-000000000000', '999']]))).toBeNull();
    const exact = planWindowUpdate(above, 30, { item: { firstTs: { N: '1' }, lastTs: { N: String(Number.MAX_SAFE_INTEGER) } } });
    expect(Object.values(exact.ExpressionAttributeNames)).not.toContain('firstTs');
    expect(Object.values(exact.ExpressionAttributeNames)).not.toContain('lastTs');
  });

  it('trims sets to the cap against the stored item', () => {
    const b = new BatchAggregator(true);
    const base = events(1, 1, 1)[0];
    for (let i = 0; i < 10; i++) b.addRequest({ ...base, ipHash: `new${i}` }, { lane: 's', seq: String(i + 1) });
    const [d] = [...b.deltas.values()];
    const full = Array.from({ length: WINDOW_LIMITS.ips - 3 }, (_, i) => `old${i}`);
    const p = planWindowUpdate(d, 30, { item: { ip: { SS: full } } });
    expect(p.dropped.ips).toBe(7);
    const ssValues = Object.values(p.ExpressionAttributeValues).filter((v) => 'SS' in v && v.SS!.some((x) => x.startsWith('new')));
    expect(ssValues[0]).toEqual({ SS: ['new0', 'new1', 'new2'] });
  });
});

describe('compact window items and the change marker', () => {
  const legacyItem = (w: Window) => {
    const item = windowToItem(w, 30) as Record<string, any>;
    if (w.ips.length) item.ip = { SS: [...w.ips] };
    if (w.subnets.length) item.sn = { SS: [...w.subnets] };
    return item;
  };

  it('stores IP hashes and subnets in a compact form and reads back exactly the window written', () => {
    const ws = windowsOf(events(800, 21, 4));
    let compact = 0;
    let legacy = 0;
    for (const w of ws) {
      const item = windowToItem(w, 30) as Record<string, any>;
      expect(w.ips.every((x) => /^[0-9a-f]{16}$/.test(x))).toBe(true);
      expect(item.ip.SS.every((x: string) => x.length === 12 && x.startsWith('~'))).toBe(true);
      expect(item.sn.SS.every((x: string) => x.length === 5 && x.startsWith('~'))).toBe(true);
      expect(canonicalWindow(itemToWindow(item)!)).toEqual(canonicalWindow(w));
      compact += itemSizeBytes(item);
      legacy += itemSizeBytes(legacyItem(w));
    }
    expect(compact).toBeLessThan(legacy * 0.9);
  });

  it('encodes only canonical values, and every value round-trips', () => {
    const cases: Array<[SetField, string, number | null]> = [
      ['ips', '0123456789abcdef', 12],
      ['ips', 'ABCDEF0123456789', null], // not what hashIp produces: kept as it is
      ['ips', 'h1', null],
      ['ips', '~h1', 4], // a raw value that looks encoded is escaped
      ['subnets', '203.0.113.0/24', 5],
      ['subnets', '0.0.0.0/24', 5],
      ['subnets', '255.255.255.0/24', 5],
      ['subnets', '01.2.3.0/24', null],
      ['subnets', '256.1.1.0/24', null],
      ['subnets', '2001:db8:abcd::/48', 9],
      ['subnets', '0:0:0::/48', 9],
      ['subnets', '2001:0db8:abcd::/48', null],
      ['subnets', '~', 2],
      ['userAgents', '~python', 7],
    ];
    for (const [f, v, len] of cases) {
      const enc = encodeSetValue(f, v);
      if (len === null) expect(enc).toBe(v);
      else expect(enc.length).toBe(len);
      expect(decodeSetValue(f, enc)).toBe(v);
    }
  });

  it('reads items written before the compact form, and items holding a member in both forms', () => {
    const [w] = windowsOf(events(200, 5, 1));
    expect(canonicalWindow(itemToWindow(legacyItem(w))!)).toEqual(canonicalWindow(w));
    const mixed = windowToItem(w, 30) as Record<string, any>;
    mixed.ip = { SS: [...mixed.ip.SS, w.ips[0]] };
    mixed.sn = { SS: [...mixed.sn.SS, w.subnets[0]] };
    expect(canonicalWindow(itemToWindow(mixed)!)).toEqual(canonicalWindow(w));
  });

  it('writes the change marker and the compact members in the one UpdateItem, comparing stored members in stored form', () => {
    const b = new BatchAggregator(true);
    events(40, 2, 1).forEach((e, i) => b.addRequest(e, { lane: 'shardId-000000000000', seq: String(100 + i) }));
    const [d] = [...b.deltas.values()];
    const t = Date.UTC(2026, 10, 2, 10, 7, 30);
    const p = planWindowUpdate(d, 30, {}, undefined, t);
    const markerName = Object.entries(p.ExpressionAttributeNames).find(([, v]) => v === CHANGE_MARKER_ATTR)![0];
    expect(p.UpdateExpression).toMatch(new RegExp(`${markerName} = :v\\d+`));
    expect(Object.values(p.ExpressionAttributeValues)).toContainEqual({ N: String(changeMarker(t)) });
    const ips = [...d.acc.ips];
    const ipSet = Object.values(p.ExpressionAttributeValues).find((v) => 'SS' in v && v.SS!.includes(encodeSetValue('ips', ips[0])));
    expect(ipSet!.SS!.sort()).toEqual(ips.map((x) => encodeSetValue('ips', x)).sort());
    // Exact mode against a stored item that already holds the first IP (stored form): only the others are added.
    const exact = planWindowUpdate(d, 30, { item: { ip: { SS: [encodeSetValue('ips', ips[0])] } } }, undefined, t);
    const added = Object.values(exact.ExpressionAttributeValues).find((v) => 'SS' in v && v.SS!.some((x) => x.length === 12 && x.startsWith('~')));
    expect(added?.SS?.includes(encodeSetValue('ips', ips[0])) ?? false).toBe(false);
    expect(added?.SS?.length ?? 0).toBe(ips.length - 1);
  });

  it('moves the change marker once per CHANGE_MARKER_MS', () => {
    const t = 1_800_000_000_000 - (1_800_000_000_000 % CHANGE_MARKER_MS);
    expect(changeMarker(t)).toBe(changeMarker(t + CHANGE_MARKER_MS - 1));
    expect(changeMarker(t + CHANGE_MARKER_MS)).toBe(changeMarker(t) + 1);
    expect(changeMarkerEnd(changeMarker(t))).toBe(t + CHANGE_MARKER_MS);
  });
});

describe('a model named `constructor` skips first-seen and corrupts evidence totals: data-keyed lookups are Maps', () => {
  const T = Date.UTC(2026, 10, 2, 10, 0, 0);
  const ev = (model: string, ts: number, accountId = 'acct_1'): RequestEvent => ({
    requestId: `r-${model}-${ts}`,
    ts,
    accountId,
    apiKeyId: null,
    ipHash: null,
    subnet: null,
    userAgent: null,
    method: 'POST',
    model,
    status: 200,
    responseBytes: 10,
    latencyMs: 5,
    accountCreatedAt: null,
  });
  const NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];

  it('BatchAggregator records first-seen for every model name', () => {
    const b = new BatchAggregator();
    for (const m of NAMES) {
      b.addRequest(ev(m, T + 1000));
      b.addRequest(ev(m, T + 500));
    }
    expect([...b.modelFirstSeen]).toEqual(NAMES.map((m) => [m, T + 500]));
    // and the window counts them like any model
    const w = b.windows()[0];
    for (const m of NAMES) expect(Object.getOwnPropertyDescriptor(w.models, m)?.value).toBe(2);
    expect(Object.keys(w.models).sort()).toEqual([...NAMES].sort());
  });

  it('FeatureStore / replay: first-seen and window counts survive the names (and JSON)', () => {
    const s = new FeatureStore();
    for (const m of NAMES) s.addRequest(ev(m, T + 10));
    const first = s.modelFirstSeen();
    for (const m of NAMES) expect(Object.getOwnPropertyDescriptor(first, m)?.value).toBe(T + 10);
    expect(first['constructor' as string]).toBe(T + 10);
    expect(JSON.parse(JSON.stringify(first))).toEqual(Object.fromEntries(NAMES.map((m) => [m, T + 10])));
    const [w] = s.windowsFor('acct_1', 0, Infinity);
    const merged = mergeWindows(w, w);
    for (const m of NAMES) expect(Object.getOwnPropertyDescriptor(merged.models, m)?.value).toBe(2);
  });

  it('a window item with m:constructor and m:__proto__ reads back (itemToWindow) with the right counts', () => {
    const acc = new WindowAcc('acct_1', windowStartOf(T));
    for (const m of NAMES) acc.addRequest(ev(m, T + 1));
    acc.addRequest(ev('constructor', T + 2));
    const item = windowToItem(acc.toWindow(), 30);
    expect((item['m:constructor'] as { N: string }).N).toBe('2');
    expect((item['m:__proto__'] as { N: string }).N).toBe('1');
    const back = itemToWindow(item)!;
    expect(Object.getOwnPropertyDescriptor(back.models, '__proto__')?.value).toBe(1);
    expect(Object.getOwnPropertyDescriptor(back.models, 'constructor')?.value).toBe(2);
    expect(canonicalWindow(back)).toEqual(canonicalWindow(acc.toWindow()));
  });

  it('the planned UpdateItem adds a counter per model name (nothing is lost to the prototype)', () => {
    const b = new BatchAggregator(true);
    for (const m of NAMES) b.addRequest(ev(m, T + 3), { lane: 's', seq: '1' });
    const plan = planWindowUpdate([...b.deltas.values()][0], 30, {});
    const names = Object.values(plan.ExpressionAttributeNames);
    for (const m of NAMES) expect(names).toContain(`m:${m}`);
  });
});

describe('producer duplicates are counted twice: de-duplicated by requestId (dedupe.ts)', () => {
  it('BatchDeduper: a second copy in the batch, or from another record than the one remembered, is a duplicate; a redelivered record is not', () => {
    const memory = new DuplicateMemory(100);
    const b1 = new BatchDeduper(memory);
    expect(b1.isDuplicate('request', 'a', 'r1', 1)).toBe(false);
    expect(b1.isDuplicate('request', 'a', 'r1', 2)).toBe(true); // same batch, another record (a PutRecord retry)
    expect(b1.isDuplicate('request', 'a', 'r1', 1)).toBe(true); // same batch, same record twice
    expect(b1.isDuplicate('usage', 'a', 'r1', 1)).toBe(false); // a usage event shares its request's id
    expect(b1.isDuplicate('request', 'b', 'r1', 1)).toBe(false); // another account's claim does not suppress
    expect(b1.duplicates).toBe(2);
    b1.commit(new Set(['b'])); // b's write failed: not remembered
    const b2 = new BatchDeduper(memory);
    expect(b2.isDuplicate('request', 'a', 'r1', 1)).toBe(false); // the same record redelivered: the watermarks decide
    expect(b2.isDuplicate('request', 'a', 'r1', 7)).toBe(true); // a later copy in another record
    expect(b2.isDuplicate('request', 'b', 'r1', 9)).toBe(false); // b's first copy never landed
  });

  it('DuplicateMemory is bounded: two generations of capacity / 2', () => {
    const m = new DuplicateMemory(10);
    for (let i = 0; i < 1000; i++) m.set(i, i);
    expect(m.size).toBeLessThanOrEqual(10);
    expect(m.get(999)).toBe(999);
    expect(m.get(0)).toBeUndefined();
  });

  it('replay drops copies and counts them in stats.duplicates (not in skipped)', () => {
    const g = new TrafficGen({ seed: 21, accounts: 3 });
    const recs = g.records(50);
    const agg = new ReplayAggregator();
    for (const r of recs) agg.addLogLine(r);
    for (const r of recs.slice(0, 5)) agg.addLogLine(r); // CloudWatch Logs redelivery
    const u = g.usageFor(recs[0]);
    agg.addUsageLine(u);
    agg.addUsageLine(u); // PutRecord retry
    expect(agg.stats.toJSON()).toMatchObject({ requests: 50, usage: 1, skipped: 0, duplicates: 6 });
    const n = agg.store.allWindows().reduce((s, w) => s + w.n, 0);
    expect(n).toBe(50);
  });
});
