import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { linkAccounts, minhashSignature, phi, pruneTimingLeaves, rarityWeight, LinkageCache, type Edge } from '../../src/detect/linkage';
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
    out.push(
      ...sessionsReqs(
        `o${i}`,
        randomStarts(rand, 4),
        () => ({ ip, ua, promptClass: 'chat', templateId: `own-${i}-${Math.floor(rand() * 5)}`, ...over(i) }),
        rand,
      ),
    );
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
    for (let i = 0; i < 6; i++)
      reqs.push(...sessionsReqs(`p${i}`, randomStarts(rand, 4), (k) => ({ ip: proxies[(i + k) % 6], ua: 'rare-ua/0.1' }), rand));
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

  test('cron-aligned batch jobs and a shared daily rhythm are explained by the time-of-day null model', () => {
    const rand = rng(15);
    const reqs: Req[] = [];
    // Five unrelated nightly jobs, every day 01:00-05:00 UTC (a cron convention), each on its own infrastructure.
    for (let i = 0; i < 5; i++) {
      for (let d = 0; d < DAYS; d++) {
        for (let ts = T0 + d * 24 * HOUR + HOUR + i * 60_000; ts < T0 + d * 24 * HOUR + 5 * HOUR; ts += 120_000) {
          reqs.push({ accountId: `cron${i}`, ts, ip: `52.${i}.0.1`, ua: `job/${i}`, model: 'm' });
        }
      }
    }
    const off = linkAccounts(profiles(reqs), { ...cfg, syncMinTodZ: 0, syncMinHoursOfDay: 0, syncMinEpisodes: 0 }, period);
    expect(off.clusters.map((c) => c.accountIds)).toEqual([['cron0', 'cron1', 'cron2', 'cron3', 'cron4']]);
    // Each guard alone keeps them apart: the time-of-day null model, and episodes that start at one hour of the day.
    expect(linkAccounts(profiles(reqs), { ...cfg, syncMinHoursOfDay: 0, syncMinEpisodes: 0 }, period).clusters).toHaveLength(0);
    expect(linkAccounts(profiles(reqs), { ...cfg, syncMinHoursOfDay: 0, syncMinTodZ: 0 }, period).clusters).toHaveLength(0);
    const on = linkAccounts(profiles(reqs), cfg, period);
    expect(on.clusters).toHaveLength(0);
    // A fleet whose waves do not repeat at the same time every day is still synchronized.
    const waves = randomStarts(rand, 10);
    ['w0', 'w1', 'w2', 'w3'].forEach((id, i) =>
      reqs.push(...sessionsReqs(id, waves, () => ({ ip: `78.${i}.1.1`, ua: 'python-requests/2.31' }), rand)),
    );
    const fleet = linkAccounts(profiles(reqs), cfg, period);
    expect(fleet.clusters.map((c) => c.accountIds)).toEqual([['w0', 'w1', 'w2', 'w3']]);
  });

  test('a fleet that fills only part of its shared on/off waves links once the waves last tens of hours', () => {
    const rand = rng(16);
    const reqs = organic(60, rand);
    // On 1-3 h, off 1-3 h, round the clock for three days; each member is active in ~70% of the 10-min buckets
    // of an on-block (a modest request rate), so phi stays near 0.5 while the shared waves are far beyond chance.
    const blocks: [number, number][] = [];
    for (let t = T0; t < T0 + DAYS * 24 * HOUR;) {
      const on = (1 + rand() * 2) * HOUR;
      blocks.push([t, t + on]);
      t += on + (1 + rand() * 2) * HOUR;
    }
    const members = ['f0', 'f1', 'f2', 'f3'];
    members.forEach((id, i) => {
      for (const [s, e] of blocks) {
        for (let b = s; b < e; b += cfg.syncBucketMs)
          if (rand() < 0.7)
            reqs.push({ accountId: id, ts: Math.floor(b + rand() * cfg.syncBucketMs), ip: `79.${i}.1.1`, ua: 'python-requests/2.31', model: 'm' });
      }
    });
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters.map((c) => c.accountIds)).toEqual([members]);
    expect(r.edges.every((e) => e.phi < cfg.syncFullPhi)).toBe(true);
    // Without the sustained rule the same pairs stay below the single-family bar.
    expect(linkAccounts(profiles(reqs), { ...cfg, syncSustainedTodZ: Number.POSITIVE_INFINITY }, period).clusters).toHaveLength(0);
  });

  test('an account held by one timing-only edge is not pulled into a cluster', () => {
    const edge = (a: string, b: string, timing: number, content = 0, infra = 0): Edge => ({
      a,
      b,
      scores: { timing, content, infra, signup: 0 },
      total: timing + content + infra,
      phi: timing,
      sharedBuckets: 10,
      sharedHours: 4,
    });
    const fleet = [edge('w0', 'w1', 1), edge('w1', 'w2', 1), edge('w0', 'w2', 1)];
    // A bystander synchronized by chance with one member only: dropped.
    expect(pruneTimingLeaves([...fleet, edge('w0', 'bystander', 0.95)])).toEqual(fleet);
    // The same single edge with content or infrastructure evidence behind it stays.
    const withContent = edge('w0', 'x', 0.95, 0.5);
    expect(pruneTimingLeaves([...fleet, withContent])).toContainEqual(withContent);
    // Two links into the cluster are not a leaf.
    const twice = [edge('w0', 'y', 0.95), edge('w1', 'y', 0.95)];
    expect(pruneTimingLeaves([...fleet, ...twice])).toHaveLength(5);
  });
});

describe('shared rare templates', () => {
  test('accounts sharing several rare templates link; sharing one popular template does not', () => {
    const rand = rng(15);
    // 60 organic accounts; 40 of them also use one popular template.
    const reqs = organic(60, rand, (i) => (i < 40 && rand() < 0.5 ? { templateId: 'popular-app-template' } : {}));
    for (let i = 0; i < 5; i++) {
      reqs.push(
        ...sessionsReqs(
          `t${i}`,
          randomStarts(rand, 4),
          (k) => ({ ip: `90.${i}.0.1`, ua: 'python-requests/2.31', promptClass: 'cot_elicitation', templateId: `harvest-${k % 6}` }),
          rand,
        ),
      );
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
      reqs.push(
        ...sessionsReqs(
          `reseller${i}`,
          randomStarts(rand, 6),
          (k) => ({ ip: `44.${i}.0.1`, ua: 'platform/1', promptClass: 'chat', templateId: catalogue[(k * 37 + i) % 400] }),
          rand,
          120,
        ),
      );
    }
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(0);
  });

  test('templates exclusive to a cluster are reported as concentration evidence', () => {
    const rand = rng(22);
    const reqs = organic(40, rand);
    const shared = randomStarts(rand, 8);
    for (let i = 0; i < 6; i++)
      reqs.push(
        ...sessionsReqs(`f${i}`, shared, (k) => ({ ip: `88.${i}.0.1`, ua: 'u', promptClass: 'agentic', templateId: `fleet-${k % 4}` }), rand),
      );
    const r = linkAccounts(profiles(reqs), cfg, period);
    expect(r.clusters).toHaveLength(1);
    expect(r.clusters[0].evidence.exclusiveTemplates).toBe(4);
    expect(r.byAccount.get('f0')!.exclusiveTemplates).toBe(4);
  });
});

describe('prompt libraries (group-level content evidence)', () => {
  /**
   * A fleet of 30 accounts drawing 8 templates each from a paraphrased library of 60: two members share about one
   * template, so pairs never link on content, but the group does. Organic accounts write their own prompts, some
   * use a public template and a course starter shared by many, and three eval harnesses share 3 benchmark prompts.
   */
  function world(seed: number) {
    const rand = rng(seed);
    const reqs: Req[] = organic(150, rand, (i) =>
      i % 3 === 0 ? { templateId: rand() < 0.3 ? 'public-summarize' : i < 60 ? 'course-starter' : `own-${i}-${Math.floor(rand() * 5)}` } : {},
    );
    const lib = Array.from({ length: 60 }, (_, k) => `lib-${k}`);
    const fleet: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = `f${i}`;
      fleet.push(id);
      const mine = Array.from({ length: 8 }, () => lib[Math.floor(rand() * lib.length)]);
      // Independent timing and infrastructure: only the prompts tie the fleet together.
      reqs.push(
        ...sessionsReqs(
          id,
          randomStarts(rand, 2),
          (k) => ({ ip: `90.${i}.${k}.1`, ua: 'python-requests/2.31', promptClass: 'agentic', templateId: mine[k % mine.length] }),
          rand,
        ),
      );
    }
    for (let i = 0; i < 3; i++) {
      reqs.push(
        ...sessionsReqs(
          `eval${i}`,
          randomStarts(rand, 3),
          (k) => ({
            ip: `34.0.${i}.1`,
            ua: 'evals',
            promptClass: 'cot_elicitation',
            templateId: k % 4 === 0 ? `bench-${k % 3}` : `own-eval-${i}-${k}`,
          }),
          rand,
        ),
      );
    }
    return { reqs, fleet };
  }

  test('a fleet sharing a library is one cluster even though its pairs share little; nobody else joins', () => {
    const { reqs, fleet } = world(11);
    const res = linkAccounts(profiles(reqs), cfg, period);
    const lib = fleet.map((id) => res.byAccount.get(id));
    expect(lib.every((l) => l && l.libraryScore > 0)).toBe(true);
    const ids = new Set(lib.map((l) => l!.clusterId));
    expect(ids.size).toBe(1);
    const cluster = res.clusters.find((c) => c.clusterId === [...ids][0])!;
    expect(cluster.accountIds.sort()).toEqual([...fleet].sort());
    const l0 = lib[0]!;
    expect(l0.libraryAccounts).toBe(30);
    expect(l0.librarySize).toBeGreaterThan(40);
    expect(l0.libraryTemplates).toBeGreaterThanOrEqual(2);
    for (const [id, link] of res.byAccount) if (!fleet.includes(id)) expect(link.libraryScore).toBe(0);
  });

  test('off when libraryMinTemplates is 0', () => {
    const { reqs, fleet } = world(12);
    const res = linkAccounts(profiles(reqs), { ...cfg, libraryMinTemplates: 0 }, period);
    expect(fleet.every((id) => (res.byAccount.get(id)?.libraryScore ?? 0) === 0)).toBe(true);
  });
});
