import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CAMPAIGNS, ORGANIC_TYPES, SimEvent, simulate } from '../../sim';

const HOUR = 3_600_000;
const DAY = 86_400_000;

describe('per-seed worlds', () => {
  test('the same seed draws the same world; the files are byte-identical (adaptive variant)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-worlds-'));
    try {
      const opts = { seed: 11, scale: 'small' as const, variant: 'adaptive' as const, days: 1, organic: 60 };
      const a = simulate(opts);
      const b = simulate(opts);
      expect(JSON.stringify(a.meta.world)).toBe(JSON.stringify(b.meta.world));
      const ra = await a.writeTo(path.join(dir, 'a'));
      const rb = await b.writeTo(path.join(dir, 'b'));
      for (const [x, y] of [
        [ra.logsPath, rb.logsPath],
        [ra.usagePath!, rb.usagePath!],
        [ra.labelsPath, rb.labelsPath],
        [ra.metaPath, rb.metaPath],
      ])
        expect(fs.readFileSync(x).equals(fs.readFileSync(y))).toBe(true);
      const meta = JSON.parse(fs.readFileSync(ra.metaPath, 'utf8')) as { world: { mix: Record<string, number> } };
      expect(Object.values(meta.world.mix).reduce((s, k) => s + k, 0)).toBe(60);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('two seeds draw different population mixes and parameters', () => {
    const w1 = simulate({ seed: 1, scale: 'small' }).meta.world;
    const w2 = simulate({ seed: 2, scale: 'small' }).meta.world;
    expect(w1.mix).not.toEqual(w2.mix);
    expect(w1.tools).not.toEqual(w2.tools);
    expect(w1.timeZones).not.toEqual(w2.timeZones);
    // medium worlds too, where the ranges have room
    const m1 = simulate({ seed: 1, organic: 1500 }).meta.world.mix;
    const m2 = simulate({ seed: 2, organic: 1500 }).meta.world.mix;
    const diff = Object.keys(m1).filter((k) => m1[k] !== m2[k]);
    expect(diff.length).toBeGreaterThan(Object.keys(m1).length / 2);
  });

  test('every organic type appears in some world, and the organic count is kept', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 24; seed++) {
      const sim = simulate({ seed, scale: 'small' });
      expect(sim.meta.accounts.organic).toBe(300);
      for (const l of Object.values(sim.labels)) if (l.kind === 'organic') seen.add(l.type);
    }
    expect([...ORGANIC_TYPES].filter((t) => !seen.has(t))).toEqual([]);
  });

  test('team sizes stay within 2..40 and groups are recorded in meta', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const g = simulate({ seed, organic: 1500 }).meta.world.groups;
      for (const t of g.teams) {
        expect(t.size).toBeGreaterThanOrEqual(2);
        expect(t.size).toBeLessThanOrEqual(40);
        expect(t.library).toBeGreaterThanOrEqual(3);
        expect(t.library).toBeLessThanOrEqual(60);
      }
      expect(g.teams.length).toBeGreaterThan(0);
    }
  });
});

describe('the adaptive variant', () => {
  const sim = simulate({ seed: 8, scale: 'small', variant: 'adaptive', organic: 150, campaignScale: 2 });
  let events: SimEvent[];
  const byAccount = new Map<string, SimEvent[]>();
  beforeAll(() => {
    events = [...sim.events()];
    for (const e of events) {
      let a = byAccount.get(e.log.accountId);
      if (!a) byAccount.set(e.log.accountId, (a = []));
      a.push(e);
    }
  });
  const idsOf = (c: string): string[] =>
    Object.entries(sim.labels)
      .filter(([, l]) => l.campaign === c)
      .map(([id]) => id);

  test('runs the adaptive campaigns, with labels that say which kind', () => {
    expect(Object.keys(sim.meta.campaigns).sort()).toEqual(['adaptive_cot', 'adaptive_pivot', 'adaptive_sweep', 'solo_heavy', 'takeover']);
    for (const c of Object.keys(sim.meta.campaigns)) {
      expect(CAMPAIGNS).toContain(c);
      expect(idsOf(c).length).toBe(sim.meta.campaigns[c].accounts);
    }
  });

  test('labels.json covers every account in the traffic', () => {
    const seen = new Set(events.map((e) => e.log.accountId));
    expect([...seen].filter((id) => !sim.labels[id])).toEqual([]);
    expect(sim.meta.accounts.organic + sim.meta.accounts.campaign).toBe(Object.keys(sim.labels).length);
  });

  test('takeover accounts: long-lived, normal traffic before the takeover, extraction beside it afterwards', () => {
    const ids = idsOf('takeover');
    expect(ids.length).toBeGreaterThanOrEqual(4);
    let withHistory = 0;
    for (const id of ids) {
      const l = sim.labels[id];
      expect(typeof l.takeoverAt).toBe('number');
      const ev = byAccount.get(id) ?? [];
      const before = ev.filter((e) => Number(e.log.requestTimeEpoch) < l.takeoverAt!);
      const after = ev.filter((e) => Number(e.log.requestTimeEpoch) >= l.takeoverAt!);
      expect(Number(ev[0].log.accountCreatedAt)).toBeLessThan(sim.meta.start - 150 * DAY);
      if (before.length > 0) withHistory++;
      const cot = (xs: SimEvent[]): number =>
        xs.filter((e) => e.usage?.promptClass === 'cot_elicitation').length / Math.max(1, xs.filter((e) => e.usage).length);
      expect(cot(before)).toBeLessThan(0.2);
      expect(cot(after)).toBeGreaterThan(0.35);
      // new infrastructure: most addresses after the takeover were never used before it
      const old = new Set(before.map((e) => e.log.sourceIp));
      const fresh = after.filter((e) => !old.has(e.log.sourceIp)).length / after.length;
      expect(fresh).toBeGreaterThan(0.6);
    }
    expect(withHistory / ids.length).toBeGreaterThanOrEqual(0.75);
  });

  test('aged accounts with history, mostly unique prompts, a fresh address for most requests', () => {
    for (const c of ['adaptive_cot', 'adaptive_sweep', 'adaptive_pivot']) {
      for (const id of idsOf(c)) {
        const ev = byAccount.get(id) ?? [];
        if (ev.length < 50) continue;
        expect(Number(ev[0].log.accountCreatedAt)).toBeLessThan(sim.meta.start - 50 * DAY);
        // the extraction side (beside the cover's normal use): requests from an address the account used only once
        const perIp = new Map<string, number>();
        for (const e of ev) perIp.set(e.log.sourceIp, (perIp.get(e.log.sourceIp) ?? 0) + 1);
        const once = ev.filter((e) => perIp.get(e.log.sourceIp) === 1);
        expect(once.length / ev.length).toBeGreaterThan(0.1);
        const us = once.filter((e) => e.usage).map((e) => e.usage!.templateId);
        expect(new Set(us).size / us.length).toBeGreaterThan(0.6);
        // under a per-account volume limit
        expect(ev.length / sim.meta.days).toBeLessThan(1000);
      }
    }
  });

  test('the pivot is staggered over 8-24 h: a day after the release much of the traffic is on the new model', () => {
    const { newModel, newModelReleaseAt } = sim.meta;
    const ids = new Set(idsOf('adaptive_pivot'));
    const late = events.filter((e) => ids.has(e.log.accountId) && Number(e.log.requestTimeEpoch) > newModelReleaseAt + 26 * HOUR);
    if (late.length > 0) expect(late.filter((e) => e.log.path.includes(`/${newModel}/`)).length / late.length).toBeGreaterThan(0.35);
  });

  test('solo heavy accounts: thousands a day, about half chain-of-thought elicitation', () => {
    for (const id of idsOf('solo_heavy')) {
      const ev = byAccount.get(id)!;
      expect(ev.length / sim.meta.days).toBeGreaterThan(2000);
      const us = ev.filter((e) => e.usage);
      const cot = us.filter((e) => e.usage!.promptClass === 'cot_elicitation').length / us.length;
      expect(cot).toBeGreaterThan(0.35);
      expect(cot).toBeLessThan(0.65);
    }
  });

  test('the organic population is the same as in the base variant of the seed', () => {
    const base = simulate({ seed: 8, scale: 'small', variant: 'base', organic: 150, campaignScale: 2 });
    const org = (l: typeof base.labels): string[] =>
      Object.entries(l)
        .filter(([, x]) => x.kind === 'organic')
        .map(([id, x]) => `${id}:${x.type}`);
    expect(org(sim.labels)).toEqual(org(base.labels));
  });
});
