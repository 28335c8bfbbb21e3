import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ACCESS_LOG_FIELDS, PROMPT_CLASSES } from '../../src/shared/contract';
import { CAMPAIGNS, ORGANIC_TYPES, SimEvent, Simulation, clfTime, simulate } from '../../sim';
import { emptyScan, addRecord, volumeBaseline } from '../../sim/eval';
import { logLine, usageLine } from '../../sim/simulate';

const HOUR = 3_600_000;
const DAY = 86_400_000;

function collect(sim: Simulation): SimEvent[] {
  return [...sim.events()];
}

const base = simulate({ seed: 42, scale: 'small', variant: 'base' });
const evasive = simulate({ seed: 42, scale: 'small', variant: 'evasive' });
let baseEvents: SimEvent[];
let evasiveEvents: SimEvent[];

beforeAll(() => {
  baseEvents = collect(base);
  evasiveEvents = collect(evasive);
});

/** Each run with its events, for the checks both must pass. */
const bothRuns = () =>
  [
    [base, baseEvents],
    [evasive, evasiveEvents],
  ] as const;

function byAccount(events: SimEvent[]): Map<string, SimEvent[]> {
  const m = new Map<string, SimEvent[]>();
  for (const e of events) {
    let a = m.get(e.log.accountId);
    if (!a) m.set(e.log.accountId, (a = []));
    a.push(e);
  }
  return m;
}

function maxRolling24h(times: number[]): number {
  const s = times.slice().sort((a, b) => a - b);
  let lo = 0;
  let best = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while (s[hi] - s[lo] >= DAY) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

const accountsOf = (sim: Simulation, pred: (type: string, campaign?: string) => boolean): string[] =>
  Object.entries(sim.labels)
    .filter(([, l]) => pred(l.type, l.campaign))
    .map(([id]) => id);

describe('determinism', () => {
  test('the same seed and options give identical traffic and labels', () => {
    const again = collect(simulate({ seed: 42, scale: 'small', variant: 'base' }));
    expect(again.length).toBe(baseEvents.length);
    for (let i = 0; i < again.length; i += 997) expect(again[i]).toEqual(baseEvents[i]);
    expect(again[again.length - 1]).toEqual(baseEvents[baseEvents.length - 1]);
    expect(simulate({ seed: 42, scale: 'small', variant: 'base' }).labels).toEqual(base.labels);
  });

  test('a different seed gives different traffic', () => {
    const other = simulate({ seed: 43, scale: 'small', variant: 'base' });
    const first = other.events().next().value as SimEvent;
    expect(first.log.requestId).not.toBe(baseEvents[0].log.requestId);
    expect(Object.keys(other.labels)).not.toEqual(Object.keys(base.labels));
  });

  test('stream() yields the same events as events()', async () => {
    const sim = simulate({ seed: 42, scale: 'small', variant: 'base', days: 1, organic: 50 });
    const sync = collect(simulate({ seed: 42, scale: 'small', variant: 'base', days: 1, organic: 50 }));
    const streamed: SimEvent[] = [];
    for await (const e of sim.stream()) streamed.push(e);
    expect(streamed.length).toBe(sync.length);
    expect(JSON.stringify(streamed)).toBe(JSON.stringify(sync));
    expect(() => sim.events().next()).toThrow(/already iterated/);
  });
});

describe('formats (docs/contract.md: access-log record, usage event)', () => {
  const keys = ACCESS_LOG_FIELDS.map(([k]) => k);
  const clf = /^\d{2}\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/;

  /** Check every record with plain code and assert on the (empty) list of problems: jest's expect is too slow per record. */
  function problems<T>(items: T[], check: (x: T) => string | null): string[] {
    const out: string[] = [];
    for (const x of items) {
      const p = check(x);
      if (p) out.push(p);
      if (out.length >= 5) break;
    }
    return out;
  }

  test('every access-log record has exactly the contract keys, all strings', () => {
    const want = keys.join(',');
    for (const events of [baseEvents, evasiveEvents]) {
      expect(
        problems(events, ({ log }) => {
          if (Object.keys(log).join(',') !== want) return `keys ${Object.keys(log).join(',')}`;
          for (const k of keys) if (typeof log[k] !== 'string') return `${k} is ${typeof log[k]}`;
          return null;
        }),
      ).toEqual([]);
    }
  });

  test('values look like API Gateway writes them', () => {
    const requestIds = new Set<string>();
    const checks: Array<[string, (l: SimEvent['log']) => boolean]> = [
      ['requestTime', (l) => clf.test(l.requestTime) && l.requestTime === clfTime(Number(l.requestTimeEpoch))],
      ['requestTimeEpoch', (l) => /^\d{13}$/.test(l.requestTimeEpoch)],
      ['path', (l) => /^\/prod\/v1\/models\/[a-z0-9.-]+\/messages$/.test(l.path)],
      ['httpMethod', (l) => l.httpMethod === 'POST'],
      ['status', (l) => /^[1-5]\d\d$/.test(l.status)],
      ['responseLength', (l) => /^(\d+|-)$/.test(l.responseLength)],
      ['integrationLatency', (l) => /^(\d+|-)$/.test(l.integrationLatency)],
      ['accountCreatedAt', (l) => /^(\d{13}|-)$/.test(l.accountCreatedAt)],
      ['apiKeyId', (l) => /^([a-z0-9]{10}|-)$/.test(l.apiKeyId)],
      ['sourceIp', (l) => /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(l.sourceIp)],
      ['accountId', (l) => /^acct_[0-9a-f]{12}$/.test(l.accountId)],
      ['userAgent', (l) => l.userAgent.length > 0],
    ];
    expect(
      problems(baseEvents, ({ log }) => {
        requestIds.add(log.requestId);
        for (const [name, ok] of checks) if (!ok(log)) return `${name}: ${JSON.stringify(log)}`;
        return null;
      }),
    ).toEqual([]);
    expect(requestIds.size).toBe(baseEvents.length);
    // realistic errors: 429s and 4xx/5xx are present, as are '-' values
    const statuses = new Set(baseEvents.map((e) => e.log.status));
    for (const s of ['200', '429', '400']) expect(statuses.has(s)).toBe(true);
    expect([...statuses].some((s) => s.startsWith('5'))).toBe(true);
    expect(baseEvents.some((e) => e.log.integrationLatency === '-')).toBe(true);
    expect(baseEvents.some((e) => e.log.apiKeyId === '-')).toBe(true);
  });

  test('usage events: contract shape, one per successful request, consistent with the log record', () => {
    const usageKeys = ['type', 'requestId', 'accountId', 'timestamp', 'model', 'promptClass', 'templateId', 'inputTokens', 'outputTokens'].join(',');
    let n = 0;
    const classes: readonly string[] = PROMPT_CLASSES;
    expect(
      problems(baseEvents, ({ log, usage: u }) => {
        if (log.status !== '200') return u ? `usage for status ${log.status}` : null;
        if (!u) return `no usage for ${log.requestId}`;
        n++;
        if (Object.keys(u).join(',') !== usageKeys) return `usage keys ${Object.keys(u).join(',')}`;
        if (u.type !== 'usage' || u.requestId !== log.requestId || u.accountId !== log.accountId) return `ids ${JSON.stringify(u)}`;
        if (u.timestamp !== Number(log.requestTimeEpoch)) return `timestamp ${JSON.stringify(u)}`;
        if (log.path !== `/prod/v1/models/${u.model}/messages`) return `model ${JSON.stringify(u)}`;
        if (!classes.includes(u.promptClass)) return `promptClass ${u.promptClass}`;
        if (!/^t-[0-9a-f]{12}$/.test(u.templateId)) return `templateId ${u.templateId}`;
        if (!(Number.isInteger(u.inputTokens) && u.inputTokens > 0 && Number.isInteger(u.outputTokens) && u.outputTokens > 0))
          return `tokens ${JSON.stringify(u)}`;
        return null;
      }),
    ).toEqual([]);
    expect(n).toBeGreaterThan(baseEvents.length * 0.9);
  });

  test('hand-built JSON lines parse back to the same objects, keys in contract order', () => {
    for (let i = 0; i < baseEvents.length; i += 101) {
      const { log, usage } = baseEvents[i];
      expect(JSON.parse(logLine(log))).toEqual(log);
      expect(logLine(log)).toBe(JSON.stringify(log));
      if (usage) expect(usageLine(usage)).toBe(JSON.stringify(usage));
    }
    const odd = { ...baseEvents[0].log, userAgent: 'weird "agent" \\ x' };
    expect(JSON.parse(logLine(odd))).toEqual(odd);
  });
});

describe('time', () => {
  test('records are in time order and inside the run', () => {
    for (const [sim, events] of bothRuns()) {
      let prev = -Infinity;
      let outOfOrder = 0;
      for (const { log } of events) {
        const t = Number(log.requestTimeEpoch);
        if (t < prev) outOfOrder++;
        prev = t;
      }
      expect(outOfOrder).toBe(0);
      expect(Number(events[0].log.requestTimeEpoch)).toBeGreaterThanOrEqual(sim.meta.start);
      expect(prev).toBeLessThan(sim.meta.end);
    }
  });

  test('the new model appears only after its release, and within hours of it', () => {
    const { newModel, newModelReleaseAt } = base.meta;
    const first = baseEvents.find((e) => e.log.path.includes(`/models/${newModel}/`));
    expect(first).toBeDefined();
    const t = Number(first!.log.requestTimeEpoch);
    expect(t).toBe(newModelReleaseAt);
    expect(baseEvents.filter((e) => Number(e.log.requestTimeEpoch) < newModelReleaseAt && e.log.path.includes(`/${newModel}/`))).toEqual([]);
    expect(newModelReleaseAt).toBeGreaterThan(base.meta.start + DAY / 2);
    expect(newModelReleaseAt).toBeLessThan(base.meta.end - DAY / 2);
  });
});

describe('labels', () => {
  test('every account in the traffic has a label; ids do not leak labels', () => {
    for (const [sim, events] of bothRuns()) {
      const seen = new Set(events.map((e) => e.log.accountId));
      expect([...seen].filter((id) => !sim.labels[id])).toEqual([]);
      for (const [id, l] of Object.entries(sim.labels)) {
        expect(id).toMatch(/^acct_[0-9a-f]{12}$/);
        expect(['organic', 'campaign']).toContain(l.kind);
        if (l.kind === 'campaign') {
          expect(CAMPAIGNS).toContain(l.campaign);
          expect(l.type).toBe(l.campaign);
        } else {
          expect(ORGANIC_TYPES).toContain(l.type);
          expect(l.campaign).toBeUndefined();
        }
      }
      // every organic type of this world and every campaign of the variant sends traffic
      const activeTypes = new Set([...seen].map((id) => sim.labels[id].type));
      const present = Object.entries(sim.meta.world.mix)
        .filter(([, k]) => k > 0)
        .map(([t]) => t);
      for (const t of [...present, ...Object.keys(sim.meta.campaigns)]) expect(activeTypes).toContain(t);
      // campaign ids are not distinguishable by shape or order
      const campaignIds = Object.entries(sim.labels)
        .filter(([, l]) => l.kind === 'campaign')
        .map(([id]) => id);
      const organicIds = Object.entries(sim.labels)
        .filter(([, l]) => l.kind === 'organic')
        .map(([id]) => id);
      const meanHex = (ids: string[]): number => ids.reduce((s, id) => s + parseInt(id.slice(5, 7), 16), 0) / ids.length;
      expect(Math.abs(meanHex(campaignIds) - meanHex(organicIds))).toBeLessThan(40);
    }
  });

  test('meta describes the run', () => {
    expect(base.meta.variant).toBe('base');
    expect(evasive.meta.variant).toBe('evasive');
    expect(base.meta.accounts.campaign).toBeGreaterThan(20);
    expect(base.meta.accounts.organic).toBe(300);
    expect(Object.keys(base.meta.campaigns).sort()).toEqual(['agentic_sweep', 'cot_harvest', 'model_pivot']);
    expect(Object.keys(evasive.meta.campaigns).sort()).toEqual(['agentic_sweep', 'cot_harvest', 'model_pivot']);
    expect(base.meta.world.mix).toEqual(evasive.meta.world.mix);
  });
});

describe('hard negatives are present', () => {
  test('enterprise batch: one template, machine-regular timing, thousands a day', () => {
    const m = byAccount(baseEvents);
    for (const id of accountsOf(base, (t) => t === 'enterprise_batch')) {
      const ev = m.get(id)!;
      const tpls = new Set(ev.filter((e) => e.usage).map((e) => e.usage!.templateId));
      expect(tpls.size).toBe(1);
      const ts = ev.map((e) => Number(e.log.requestTimeEpoch));
      const gaps = ts
        .slice(1)
        .map((t, i) => t - ts[i])
        .filter((g) => g < HOUR);
      gaps.sort((a, b) => a - b);
      const med = gaps[Math.floor(gaps.length / 2)];
      const iqr = gaps[Math.floor(gaps.length * 0.75)] - gaps[Math.floor(gaps.length * 0.25)];
      expect(iqr / med).toBeLessThan(0.1);
      expect(maxRolling24h(ts)).toBeGreaterThan(2000);
    }
  });

  test('eval harness: thousands of CoT prompts within one day', () => {
    const m = byAccount(baseEvents);
    for (const id of accountsOf(base, (t) => t === 'eval_harness')) {
      const ts = m.get(id)!.map((e) => Number(e.log.requestTimeEpoch));
      expect(maxRolling24h(ts)).toBeGreaterThan(2000);
      const classes = m
        .get(id)!
        .filter((e) => e.usage)
        .map((e) => e.usage!.promptClass);
      expect(classes.filter((c) => c === 'cot_elicitation' || c === 'coding').length).toBeGreaterThan(2000);
    }
  });

  test('campus, corporate and carrier NATs: many unrelated accounts share a few addresses', () => {
    for (const type of ['campus_nat', 'corporate_nat', 'cgnat_mobile']) {
      const ids = new Set(accountsOf(base, (t) => t === type));
      if (ids.size < 8) continue; // this world drew few or none of them
      const perIp = new Map<string, Set<string>>();
      for (const e of baseEvents) {
        if (!ids.has(e.log.accountId)) continue;
        let s = perIp.get(e.log.sourceIp);
        if (!s) perIp.set(e.log.sourceIp, (s = new Set()));
        s.add(e.log.accountId);
      }
      const max = Math.max(...[...perIp.values()].map((s) => s.size));
      expect(max).toBeGreaterThanOrEqual(type === 'corporate_nat' ? 3 : 4);
    }
  });

  test('early adopters move to the new model within hours of its release', () => {
    const { newModel, newModelReleaseAt } = base.meta;
    const m = byAccount(baseEvents);
    let fast = 0;
    const ids = accountsOf(base, (t) => t === 'early_adopter');
    for (const id of ids) {
      const first = m.get(id)?.find((e) => e.log.path.includes(`/${newModel}/`));
      if (first && Number(first.log.requestTimeEpoch) - newModelReleaseAt < 12 * HOUR) fast++;
    }
    expect(fast / ids.length).toBeGreaterThan(0.6);
  });

  test('resellers: very high volume, many keys; popular SDK user agents are shared by many accounts', () => {
    const m = byAccount(baseEvents);
    for (const id of accountsOf(base, (t) => t === 'reseller')) {
      const ev = m.get(id)!;
      expect(maxRolling24h(ev.map((e) => Number(e.log.requestTimeEpoch)))).toBeGreaterThan(2000);
      expect(new Set(ev.map((e) => e.log.apiKeyId)).size).toBeGreaterThanOrEqual(5);
    }
    const perUa = new Map<string, Set<string>>();
    for (const e of baseEvents) {
      let s = perUa.get(e.log.userAgent);
      if (!s) perUa.set(e.log.userAgent, (s = new Set()));
      s.add(e.log.accountId);
    }
    expect(perUa.get('Anthropic/Python 0.49.0')!.size).toBeGreaterThan(20);
  });

  test('campaign proxy subnets are shared with organic customers', () => {
    for (const [sim, events] of bothRuns()) {
      const orgIps = new Set<string>();
      const campIps = new Set<string>();
      const net = (ip: string): string => ip.slice(0, ip.lastIndexOf('.'));
      for (const e of events) (sim.labels[e.log.accountId].kind === 'organic' ? orgIps : campIps).add(net(e.log.sourceIp));
      const shared = [...campIps].filter((ip) => orgIps.has(ip));
      expect(shared.length).toBeGreaterThan(0);
    }
  });
});

describe('campaigns', () => {
  test('every campaign account stays far under a per-account daily volume limit', () => {
    for (const [sim, events] of bothRuns()) {
      const m = byAccount(events);
      for (const id of accountsOf(sim, (t) => (CAMPAIGNS as readonly string[]).includes(t))) {
        const ev = m.get(id);
        if (!ev) continue;
        expect(maxRolling24h(ev.map((e) => Number(e.log.requestTimeEpoch)))).toBeLessThan(1200);
      }
    }
  });

  test('the volume baseline catches no campaign account and flags the heavy organic customers', () => {
    const scan = emptyScan();
    for (const e of baseEvents) addRecord(scan, e.log.accountId, Number(e.log.requestTimeEpoch), e.log.path);
    const flaggedIds = volumeBaseline(scan, 2000).accounts.map((a) => a.accountId);
    const flagged = flaggedIds.map((id) => base.labels[id]);
    expect(flagged.filter((l) => l.kind === 'campaign')).toHaveLength(0);
    const heavy = accountsOf(base, (t) => ['enterprise_batch', 'reseller', 'eval_harness'].includes(t));
    for (const id of heavy) expect(flaggedIds).toContain(id);
    // other organic accounts above the limit are busy by design (tenants of a platform, an eval company's runs, apps)
    expect(
      flagged.filter(
        (l) => !['enterprise_batch', 'reseller', 'eval_harness', 'platform_tenant', 'eval_company', 'chat_app', 'company_team'].includes(l.type),
      ),
    ).toEqual([]);
  });

  test('CoT harvest: reasoning and rewrite prompts, templated, long outputs', () => {
    const ids = new Set(accountsOf(base, (_t, c) => c === 'cot_harvest'));
    const us = baseEvents.filter((e) => e.usage && ids.has(e.log.accountId)).map((e) => e.usage!);
    const share = us.filter((u) => u.promptClass === 'cot_elicitation' || u.promptClass === 'rewrite').length / us.length;
    expect(share).toBeGreaterThan(0.85);
    expect(new Set(us.map((u) => u.templateId)).size).toBeLessThan(15);
    const medOut = us.map((u) => u.outputTokens).sort((a, b) => a - b)[Math.floor(us.length / 2)];
    expect(medOut).toBeGreaterThan(2000);
  });

  test('model pivot: most traffic moves to the new model within 18 hours of the release', () => {
    const { newModel, newModelReleaseAt } = base.meta;
    for (const [sim, events] of bothRuns()) {
      const ids = new Set(accountsOf(sim, (_t, c) => c === 'model_pivot'));
      const after = events.filter((e) => ids.has(e.log.accountId) && Number(e.log.requestTimeEpoch) > newModelReleaseAt + 18 * HOUR);
      expect(after.length).toBeGreaterThan(0);
      const share = after.filter((e) => e.log.path.includes(`/${newModel}/`)).length / after.length;
      expect(share).toBeGreaterThan(0.6);
      const before = events.filter((e) => ids.has(e.log.accountId) && Number(e.log.requestTimeEpoch) < newModelReleaseAt);
      expect(before.length).toBeGreaterThan(0);
    }
  });
});

describe('the evasive variant', () => {
  const perAccount = (sim: Simulation, events: SimEvent[], campaign: string, f: (ev: SimEvent[]) => number): number[] => {
    const m = byAccount(events);
    return accountsOf(sim, (_t, c) => c === campaign)
      .map((id) => m.get(id))
      .filter((ev): ev is SimEvent[] => !!ev && ev.length > 20)
      .map(f);
  };
  const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const distinct = (key: (e: SimEvent) => string | undefined) => (ev: SimEvent[]) => new Set(ev.map(key).filter((x) => x !== undefined)).size;

  const BASE_CAMPAIGNS = ['cot_harvest', 'agentic_sweep', 'model_pivot'];
  test('rotates user agents', () => {
    for (const c of BASE_CAMPAIGNS) {
      expect(
        median(
          perAccount(
            base,
            baseEvents,
            c,
            distinct((e) => e.log.userAgent),
          ),
        ),
      ).toBe(1);
      expect(
        median(
          perAccount(
            evasive,
            evasiveEvents,
            c,
            distinct((e) => e.log.userAgent),
          ),
        ),
      ).toBeGreaterThan(5);
    }
  });

  test('uses residential proxies instead of shared infrastructure', () => {
    const subnets = (sim: Simulation, events: SimEvent[]): number => {
      const ids = new Set(accountsOf(sim, (_t, c) => c === 'cot_harvest'));
      return new Set(events.filter((e) => ids.has(e.log.accountId)).map((e) => e.log.sourceIp.split('.').slice(0, 3).join('.'))).size;
    };
    expect(subnets(base, baseEvents)).toBeLessThanOrEqual(4);
    expect(subnets(evasive, evasiveEvents)).toBeGreaterThan(50);
  });

  test('paraphrases templates: more template ids overall', () => {
    for (const c of BASE_CAMPAIGNS) {
      const count = (sim: Simulation, events: SimEvent[]): number => {
        const ids = new Set(accountsOf(sim, (_t, cc) => cc === c));
        return new Set(events.filter((e) => e.usage && ids.has(e.log.accountId)).map((e) => e.usage!.templateId)).size;
      };
      expect(count(evasive, evasiveEvents)).toBeGreaterThan(count(base, baseEvents) * 1.5);
    }
  });

  test('spreads sign-ups over weeks', () => {
    const spread = (sim: Simulation, events: SimEvent[]): number => {
      const ids = new Set(accountsOf(sim, (_t, c) => c === 'cot_harvest'));
      const created = new Map<string, number>();
      for (const e of events)
        if (ids.has(e.log.accountId) && e.log.accountCreatedAt !== '-') created.set(e.log.accountId, Number(e.log.accountCreatedAt));
      const xs = [...created.values()];
      return Math.max(...xs) - Math.min(...xs);
    };
    expect(spread(base, baseEvents)).toBeLessThan(DAY / 4);
    expect(spread(evasive, evasiveEvents)).toBeGreaterThan(14 * DAY);
  });

  test('jitters timing: base CoT accounts move in lockstep, evasive ones do not', () => {
    // share of 10-minute buckets in which an account is active that all-but-few campaign accounts share
    const sync = (sim: Simulation, events: SimEvent[]): number => {
      const ids = accountsOf(sim, (_t, c) => c === 'cot_harvest');
      const buckets = new Map<string, Set<number>>();
      for (const e of events) {
        if (!ids.includes(e.log.accountId)) continue;
        let s = buckets.get(e.log.accountId);
        if (!s) buckets.set(e.log.accountId, (s = new Set()));
        s.add(Math.floor(Number(e.log.requestTimeEpoch) / 600_000));
      }
      const sets = [...buckets.values()];
      let jac = 0;
      let n = 0;
      for (let i = 0; i < sets.length; i++)
        for (let j = i + 1; j < sets.length; j++) {
          const inter = [...sets[i]].filter((x) => sets[j].has(x)).length;
          jac += inter / (sets[i].size + sets[j].size - inter);
          n++;
        }
      return jac / n;
    };
    expect(sync(base, baseEvents)).toBeGreaterThan(0.8);
    expect(sync(evasive, evasiveEvents)).toBeLessThan(sync(base, baseEvents) - 0.2);
  });
});

describe('files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-sim-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writeTo writes gzip JSON lines, labels and meta', async () => {
    const sim = simulate({ seed: 5, scale: 'small', days: 1, organic: 60 });
    const res = await sim.writeTo(dir);
    const logs = zlib.gunzipSync(fs.readFileSync(res.logsPath)).toString().trim().split('\n');
    const usage = zlib.gunzipSync(fs.readFileSync(res.usagePath!)).toString().trim().split('\n');
    expect(logs.length).toBe(res.lines);
    expect(usage.length).toBe(res.usageLines);
    const events = collect(simulate({ seed: 5, scale: 'small', days: 1, organic: 60 }));
    expect(JSON.parse(logs[0])).toEqual(events[0].log);
    expect(JSON.parse(logs[logs.length - 1])).toEqual(events[events.length - 1].log);
    expect(JSON.parse(fs.readFileSync(res.labelsPath, 'utf8'))).toEqual(sim.labels);
    expect(JSON.parse(fs.readFileSync(res.metaPath, 'utf8')).lines).toBe(res.lines);
  });

  test('the same seed writes byte-identical files', async () => {
    const opts = { seed: 9, scale: 'small' as const, variant: 'evasive' as const, days: 1, organic: 30 };
    const a = await simulate(opts).writeTo(path.join(dir, 'a'));
    const b = await simulate(opts).writeTo(path.join(dir, 'b'));
    for (const [x, y] of [
      [a.logsPath, b.logsPath],
      [a.usagePath!, b.usagePath!],
      [a.labelsPath, b.labelsPath],
    ])
      expect(fs.readFileSync(x).equals(fs.readFileSync(y))).toBe(true);
  });

  test('plain .jsonl without usage when asked', async () => {
    const sub = path.join(dir, 'plain');
    const res = await simulate({ seed: 5, scale: 'small', days: 1, organic: 20 }).writeTo(sub, { gzip: false, usage: false });
    expect(res.logsPath.endsWith('logs.jsonl')).toBe(true);
    expect(res.usagePath).toBeUndefined();
    expect(fs.readFileSync(res.logsPath, 'utf8').trim().split('\n')).toHaveLength(res.lines);
  });

  test('bad options get a clear error', () => {
    expect(() => simulate({ scale: 'huge' as never })).toThrow(/unknown scale: huge/);
    expect(() => simulate({ variant: 'sneaky' as never })).toThrow(/unknown variant: sneaky \(expected base, evasive or adaptive\)/);
    expect(() => simulate({ days: 0 })).toThrow(/days must be between 1 and 60, got 0/);
  });
});
