import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { linkAccounts, minhashSignature, phi, rarityWeight, LinkageCache } from '../../src/detect/linkage';
import { profilesFromWindows, type AccountProfile } from '../../src/detect/profile';
import { HOUR, T0, rng, windowsOf, type Req } from './fixtures';

const cfg = DEFAULT_DETECTION_CONFIG.linkage;
const DAYS = 3;
const period = { periodStart: T0, periodEnd: T0 + DAYS * 24 * HOUR };

function sessionsReqs(accountId: string, starts: number[], attrs: (k: number) => Partial<Req>, rand: () => number, perSession = 12): Req[] {
  const out: Req[] = [];
  for (const s of starts) {
    for (let k = 0; k < perSession; k++) {
      out.push({ accountId, ts: Math.floor(s + k * 100_000 + rand() * 20_000), ip: '1.1.1.1', ua: 'ua', model: 'm', ...attrs(k) });
    }
  }
  return out;
}

function randomStarts(rand: () => number, n: number): number[] {
  return Array.from({ length: n }, () => T0 + Math.floor(rand() * (DAYS * 24 - 1)) * HOUR + Math.floor(rand() * 40) * 60_000);
}

function profiles(reqs: Req[]): AccountProfile[] {
  return [...profilesFromWindows(windowsOf(reqs), cfg.syncBucketMs).values()];
}

/** Independent organic accounts: random sessions, own IP, one of a few popular UAs, own templates. */
function organic(n: number, rand: () => number, over: (i: number) => Partial<Req> = () => ({})): Req[] {
  const out: Req[] = [];
  const uas = ['python-requests/2.31', 'anthropic-sdk/1.0', 'node-fetch/3'];
  for (let i = 0; i < n; i++) {
    const ip = `${20 + (i % 200)}.${i % 250}.${(i * 3) % 250}.7`;
    const ua = uas[i % uas.length];
    out.push(...sessionsReqs(`o${i}`, randomStarts(rand, 4), () => ({ ip, ua, promptClass: 'chat', templateId: `own-${i}-${Math.floor(rand() * 5)}`, ...over(i) }), rand));
  }
  return out;
}

describe('rarity weighting', () => {
  test('weights fall with the number of holders and vanish at the cap', () => {
    expect(rarityWeight(2, 200)).toBe(1);
    expect(rarityWeight(20, 200)).toBeGreaterThan(rarityWeight(100, 200));
    expect(rarityWeight(200, 200)).toBe(0);
    expect(rarityWeight(5000, 200)).toBe(0);
  });

  test('a popular SDK user agent and a campus NAT do not link strangers', () => {
    const rand = rng(11);
    // 80 independent accounts; the first 30 behind one campus NAT IP; all on 3 popular UAs.
    const reqs = organic(80, rand, (i) => (i < 30 ? { ip: '10.0.0.1' } : {}));
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(0);
    expect(r.edges).toHaveLength(0);
  });

  test('infrastructure alone (shared rare proxies, independent timing and content) never links', () => {
    const rand = rng(12);
    const proxies = Array.from({ length: 6 }, (_, k) => `185.1.${k}.9`);
    const reqs = organic(40, rand);
    for (let i = 0; i < 6; i++) reqs.push(...sessionsReqs(`p${i}`, randomStarts(rand, 4), (k) => ({ ip: proxies[(i + k) % 6], ua: 'rare-ua/0.1' }), rand));
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(0);
  });
});

describe('synchronized activity (SynchroTrap-style)', () => {
  test('phi is ~0 for independent series and 1 for identical ones', () => {
    expect(phi(10, 10, 10, 100)).toBeCloseTo(1);
    expect(phi(1, 10, 10, 100)).toBeCloseTo(0, 1);
    expect(phi(0, 0, 10, 100)).toBe(0);
  });

  test('minhash signatures of similar sets agree on most bins', () => {
    const a = Array.from({ length: 200 }, (_, i) => i);
    const b = Array.from({ length: 200 }, (_, i) => i + 20); // Jaccard 180/220
    const c = Array.from({ length: 200 }, (_, i) => i + 100000);
    const sa = minhashSignature(a, 64);
    const sb = minhashSignature(b, 64);
    const sc = minhashSignature(c, 64);
    const agree = (x: Uint32Array, y: Uint32Array) => x.filter((v, i) => v === y[i]).length / x.length;
    expect(agree(sa, sb)).toBeGreaterThan(0.6);
    expect(agree(sa, sc)).toBeLessThan(0.1);
  });

  test('accounts that start and stop together form a cluster; background accounts stay out', () => {
    const rand = rng(13);
    const reqs = organic(60, rand);
    const shared = randomStarts(rand, 8);
    const members = ['s0', 's1', 's2', 's3', 's4'];
    members.forEach((id, i) => reqs.push(...sessionsReqs(id, shared, () => ({ ip: `77.${i}.1.1`, ua: 'python-requests/2.31' }), rand)));
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(1);
    expect(r.clusters[0].accountIds).toEqual(members);
    expect(r.clusters[0].evidence.families.timing!.edges).toBeGreaterThan(0);
    expect(r.clusters[0].evidence.meanPhi).toBeGreaterThan(0.5);
    expect(r.byAccount.get('s0')!.families.timing).toBeGreaterThan(0.5);
  });

  test('accounts that are on all the time and pause together are synchronized by their gaps', () => {
    const rand = rng(14);
    const reqs: Req[] = [];
    const pauses = new Set(randomStarts(rand, 10).map((t) => Math.floor(t / HOUR)));
    for (let i = 0; i < 4; i++) {
      for (let ts = T0; ts < T0 + DAYS * 24 * HOUR; ts += 60_000 + Math.floor(rand() * 30_000)) {
        if (pauses.has(Math.floor(ts / HOUR))) continue;
        reqs.push({ accountId: `d${i}`, ts, ip: `66.${i}.0.1`, ua: 'x', model: 'm' });
      }
    }
    // An always-on account without pauses carries no timing information.
    for (let ts = T0; ts < T0 + DAYS * 24 * HOUR; ts += 60_000) reqs.push({ accountId: 'batch', ts, ip: '5.5.5.5', ua: 'batch', model: 'm' });
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(1);
    expect(r.clusters[0].accountIds).toEqual(['d0', 'd1', 'd2', 'd3']);
  });
});

describe('shared rare templates', () => {
  test('accounts sharing several rare templates link; sharing one popular template does not', () => {
    const rand = rng(15);
    // 60 organic accounts; 40 of them also use one popular template.
    const reqs = organic(60, rand, (i) => (i < 40 && rand() < 0.5 ? { templateId: 'popular-app-template' } : {}));
    for (let i = 0; i < 5; i++) {
      reqs.push(...sessionsReqs(`t${i}`, randomStarts(rand, 4), (k) => ({ ip: `90.${i}.0.1`, ua: 'python-requests/2.31', promptClass: 'cot_elicitation', templateId: `harvest-${k % 6}` }), rand));
    }
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(1);
    expect(r.clusters[0].accountIds).toEqual(['t0', 't1', 't2', 't3', 't4']);
    const attrs = r.clusters[0].evidence.sharedAttributes;
    expect(attrs[0].attribute).toMatch(/^t:harvest-/);
    expect(attrs[0].members).toBe(5);
    expect(attrs[0].population).toBe(5);
    expect(r.byAccount.get('t1')!.sharedTemplates).toBe(6);
  });
});

describe('clusters', () => {
  test('ids are stable across runs as a cluster grows, and the cache gives the same result', () => {
    const rand = rng(16);
    const reqs = organic(30, rand);
    const shared = randomStarts(rand, 8);
    for (let i = 0; i < 4; i++) reqs.push(...sessionsReqs(`s${i}`, shared, () => ({ ip: `77.${i}.1.1`, ua: 'u' }), rand));
    const first = linkAccounts(profiles(reqs), cfg, period);
    expect(first.clusters).toHaveLength(1);
    const id = first.clusters[0].clusterId;
    expect(id).toMatch(/^c-[0-9a-f]{8}$/);
    // s4 joins; previous assignment carries the id over even though the smallest member could change.
    reqs.push(...sessionsReqs('a-new', shared, () => ({ ip: '77.9.1.1', ua: 'u' }), rand));
    const previous = new Map(first.clusters[0].accountIds.map((a) => [a, id]));
    const cache = new LinkageCache();
    const ps = profiles(reqs);
    const second = linkAccounts(ps, cfg, { ...period, previous }, cache);
    expect(second.clusters).toHaveLength(1);
    expect(second.clusters[0].clusterId).toBe(id);
    expect(second.clusters[0].accountIds).toContain('a-new');
    const third = linkAccounts(ps, cfg, { ...period, previous }, cache);
    expect(third.clusters).toEqual(second.clusters);
  });
});

describe('breadth and concentration', () => {
  test('platforms relaying many users (hundreds of templates) are not linked by overlapping templates', () => {
    const rand = rng(21);
    const reqs = organic(40, rand);
    const catalogue = Array.from({ length: 400 }, (_, k) => `end-user-${k}`);
    for (let i = 0; i < 3; i++) {
      // Each reseller relays most of the same end-user template catalogue, at independent times.
      reqs.push(...sessionsReqs(`reseller${i}`, randomStarts(rand, 6), (k) => ({ ip: `44.${i}.0.1`, ua: 'platform/1', promptClass: 'chat', templateId: catalogue[(k * 37 + i) % 400] }), rand, 120));
    }
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(0);
  });

  test('templates exclusive to a cluster are reported as concentration evidence', () => {
    const rand = rng(22);
    const reqs = organic(40, rand);
    const shared = randomStarts(rand, 8);
    for (let i = 0; i < 6; i++) reqs.push(...sessionsReqs(`f${i}`, shared, (k) => ({ ip: `88.${i}.0.1`, ua: 'u', promptClass: 'agentic', templateId: `fleet-${k % 4}` }), rand));
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(1);
    expect(r.clusters[0].evidence.exclusiveTemplates).toBe(4);
    expect(r.byAccount.get('f0')!.exclusiveTemplates).toBe(4);
  });
});
