/**
 * Unit tests of the linkage phases (src/detect/linkage/*), each on small hand-made profiles. End-to-end behaviour of
 * linkAccounts is covered by linkage.test.ts.
 */
import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import {
  accountLink,
  acceptEdge,
  addLibraryEdges,
  addTriangleEdges,
  assembleClusters,
  assignClusterId,
  buildAttributeIndex,
  clusterEvidence,
  coActivity,
  components,
  emptyCoActivity,
  emptyPairScore,
  findPromptLibraries,
  fnv1a,
  LinkageCache,
  LinkGraph,
  PairScorer,
  pruneLeaves,
  prunePersonalAttachments,
  rarityWeight,
  TimeOfDayModel,
  timingCandidates,
  timingWindow,
  verifyPairs,
  type AttributeIndex,
  type Edge,
  type WeakPair,
} from '../../src/detect/linkage';
import { emptyProfile, type AccountProfile } from '../../src/detect/profile';
import { HOUR, T0, rng } from './fixtures';

const cfg = DEFAULT_DETECTION_CONFIG.linkage;
const DAYS = 3;
const period = { periodStart: T0, periodEnd: T0 + DAYS * 24 * HOUR };
const B0 = Math.floor(T0 / cfg.syncBucketMs);
const PER_HOUR = HOUR / cfg.syncBucketMs;

interface Spec {
  templates?: string[];
  ips?: string[];
  uas?: string[];
  buckets?: number[];
  createdAt?: number;
}

function acct(id: string, s: Spec = {}): AccountProfile {
  const p = emptyProfile(id);
  for (const t of s.templates ?? []) p.templates.add(t);
  for (const ip of s.ips ?? []) p.ips.add(ip);
  for (const ua of s.uas ?? []) p.userAgents.add(ua);
  for (const b of s.buckets ?? []) p.syncBuckets.add(b);
  if (s.createdAt !== undefined) p.createdAt = s.createdAt;
  return p;
}

/** Buckets of sessions (3 buckets = 30 min each) starting at the given hours after T0 (fractional hours allowed). */
function sessions(startHours: number[], len = 3): number[] {
  const out: number[] = [];
  for (const h of startHours) for (let k = 0; k < len; k++) out.push(B0 + Math.round(h * PER_HOUR) + k);
  return out;
}

function randomHours(rand: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(rand() * (DAYS * 24 - 1) * 6) / 6);
}

const id = (index: AttributeIndex, name: string): number => index.names.indexOf(name);

const edge = (a: string, b: string, scores: Partial<Edge['scores']>, phi = 0): Edge => {
  const s = { content: 0, infra: 0, timing: 0, signup: 0, ...scores };
  return { a, b, scores: s, total: s.content + s.infra + s.timing + s.signup, phi, sharedBuckets: 0, sharedHours: 0 };
};

describe('phase 1: attribute index', () => {
  const profiles = () => [
    acct('a', { templates: ['x', 'y'], ips: ['h1'] }),
    acct('b', { templates: ['x', 'y'], ips: ['h1'] }),
    acct('c', { templates: ['x'], ips: ['h2'] }),
    acct('d', { templates: ['z'] }),
  ];

  test('document frequencies, rarity weights (infra scaled), own weights and stats', () => {
    const idx = buildAttributeIndex(profiles(), cfg);
    const K = cfg.maxAttributeAccounts;
    expect(idx.n).toBe(4);
    expect(idx.fam[id(idx, 't:x')]).toBe('content');
    expect(idx.fam[id(idx, 'ip:h1')]).toBe('infra');
    expect(idx.df[id(idx, 't:x')]).toBe(3);
    expect(idx.df[id(idx, 't:y')]).toBe(2);
    expect(idx.df[id(idx, 't:z')]).toBe(1);
    expect(idx.weight[id(idx, 't:y')]).toBe(1);
    // Rare in absolute terms and relative to the population (4 accounts).
    expect(idx.weight[id(idx, 't:x')]).toBeCloseTo(rarityWeight(3, K) * rarityWeight(3, 4), 12);
    // IPs weigh half (NATs, shared hosting).
    expect(idx.weight[id(idx, 'ip:h1')]).toBe(0.5);
    expect(idx.ownContent[0]).toBeCloseTo(idx.weight[id(idx, 't:x')] + 1, 12);
    expect(idx.ownInfra[0]).toBe(0.5);
    expect(idx.indexed).toBe(3); // t:x, t:y, ip:h1
    expect(idx.skippedPopular).toBe(0);
    expect(buildAttributeIndex(profiles(), { ...cfg, maxAttributeAccounts: 2 }).skippedPopular).toBe(1);
  });

  test('postings hold informative attributes only, in ascending account order', () => {
    const idx = buildAttributeIndex(profiles(), cfg);
    expect(idx.postings[id(idx, 't:x')]).toEqual([0, 1, 2]);
    expect(idx.postings[id(idx, 't:y')]).toEqual([0, 1]);
    expect(idx.postings[id(idx, 'ip:h1')]).toEqual([0, 1]);
    expect(idx.postings[id(idx, 't:z')]).toBeUndefined(); // df 1
    expect(idx.postings[id(idx, 'ip:h2')]).toBeUndefined();
    expect([...idx.usefulOf[3]]).toEqual([]);
  });

  test('per-family cap keeps the rarest attributes; a platform gives no content evidence', () => {
    const capped = buildAttributeIndex(profiles(), { ...cfg, maxAttributesPerAccount: 1 });
    expect([...capped.usefulOf[0]]).toEqual([id(capped, 't:y'), id(capped, 'ip:h1')]);
    // a and b hold more templates than a platform may: only their infrastructure is indexed.
    const platform = buildAttributeIndex(profiles(), { ...cfg, maxTemplatesPerAccount: 1 });
    expect([...platform.usefulOf[0]]).toEqual([id(platform, 'ip:h1')]);
    expect(platform.postings[id(platform, 't:x')]).toEqual([2]); // c holds one template: not a platform
  });

  test('the cache gives the same index', () => {
    const plain = buildAttributeIndex(profiles(), cfg);
    const cache = new LinkageCache();
    buildAttributeIndex(profiles(), cfg, cache);
    const cached = buildAttributeIndex(profiles(), cfg, cache);
    expect(cached.names).toEqual(plain.names);
    expect(cached.df).toEqual(plain.df);
    expect(cached.weight).toEqual(plain.weight);
    expect(cached.postings).toEqual(plain.postings);
  });
});

describe('phase 2: timing candidates', () => {
  test('thresholds grow with each decade of population above syncPopulationRef', () => {
    const small = timingWindow(cfg, period, 500);
    expect(small.tBuckets).toBe(DAYS * 24 * PER_HOUR + 1);
    expect(small.startB).toBe(B0);
    expect(small.endB).toBe(B0 + small.tBuckets - 1);
    expect(small.minShared).toBe(cfg.syncMinShared);
    const big = timingWindow(cfg, period, cfg.syncPopulationRef * 20);
    expect(big.minShared).toBe(cfg.syncMinShared + 4);
    expect(big.minHours).toBe(cfg.syncMinHours + 2);
    expect(big.fullHours).toBe(cfg.syncFullHours + 2);
  });

  test('MinHash LSH pairs a synchronized pair among random accounts', () => {
    const rand = rng(3);
    const shared = randomHours(rand, 8);
    const profiles = Array.from({ length: 40 }, (_, i) => acct(`o${i}`, { buckets: sessions(randomHours(rand, 4)) }));
    profiles.push(acct('s0', { buckets: sessions(shared) }), acct('s1', { buckets: sessions(shared) }), acct('few', { buckets: [B0, B0 + 1] }));
    const t = timingCandidates(profiles, cfg, period);
    expect(t.candidates[40]).toContain(41);
    expect(t.lshCandidates).toBeGreaterThan(0);
    expect(t.sortedBuckets[42]).toBeNull(); // too few buckets to carry timing evidence
    expect([...t.sortedBuckets[40]!]).toEqual([...sessions(shared)].sort((x, y) => x - y));
  });

  test('always-on accounts are paired by their common gaps', () => {
    const rand = rng(4);
    const all = Array.from({ length: DAYS * 24 * PER_HOUR }, (_, k) => B0 + k);
    const gaps = new Set(sessions(randomHours(rand, 10), 6));
    const busy = all.filter((b) => !gaps.has(b));
    const other = new Set(sessions(randomHours(rand, 10), 6));
    const profiles = [acct('d0', { buckets: busy }), acct('x', { buckets: all.filter((b) => !other.has(b)) }), acct('d1', { buckets: busy })];
    const t = timingCandidates(profiles, cfg, period);
    expect(t.candidates[0]).toContain(2);
  });

  test('co-activity statistics come back in the scratch object (no shared state between calls)', () => {
    const out = emptyCoActivity();
    // Shared 1, 2 (hour 0) and 30, 31 (hour 5): two hours, two hours of the day, two episodes.
    expect(coActivity(Int32Array.from([0, 1, 2, 30, 31]), Int32Array.from([1, 2, 30, 31, 40]), 6, out)).toBe(4);
    expect(out).toEqual({ shared: 4, hours: 2, hoursOfDay: 2, episodes: 2 });
    // Same hour of the day on two days (buckets 144 apart at 10 min): two hours, one hour of the day, one episode hour.
    coActivity(Int32Array.from([6, 150]), Int32Array.from([6, 150]), 6, out);
    expect(out).toEqual({ shared: 2, hours: 2, hoursOfDay: 1, episodes: 1 });
    coActivity(Int32Array.from([1]), Int32Array.from([2]), 6, out);
    expect(out).toEqual({ shared: 0, hours: 0, hoursOfDay: 0, episodes: 0 });
  });

  test('the time-of-day null model explains a shared daily routine, not shared random waves', () => {
    const w = timingWindow(cfg, period, 10);
    const tod = new TimeOfDayModel(w, cfg.syncTodPrior);
    const daily = (offset: number) => Int32Array.from(Array.from({ length: DAYS }, (_, d) => sessions([d * 24 + 1 + offset], 24)).flat());
    const cronA = daily(0);
    const cronB = daily(1 / 6);
    const shared = coActivity(cronA, cronB, PER_HOUR, emptyCoActivity());
    expect(tod.z(0, cronA, cronB, shared)).toBeLessThan(cfg.syncMinTodZ);
    const waves = Int32Array.from(sessions(randomHours(rng(5), 8))).sort();
    expect(tod.z(1, waves, waves, waves.length)).toBeGreaterThan(cfg.syncMinTodZ);
  });
});

describe('phase 3: pair verification', () => {
  const world = () => {
    const created = T0 - 10 * 24 * HOUR;
    const rand = rng(6);
    const waves = randomHours(rand, 8);
    return [
      acct('a', { templates: ['p', 'q', 'r'], ips: ['shared'], uas: ['ua-a'], createdAt: created }),
      acct('b', { templates: ['p', 'q', 'r'], ips: ['shared'], uas: ['ua-b'], createdAt: created + 60_000 }),
      acct('c', { templates: ['own-c'], ips: ['c'], buckets: sessions(waves) }),
      acct('d', { templates: ['own-d'], ips: ['d'], buckets: sessions(waves) }),
      acct('e', { templates: ['own-e'], ips: ['e'], buckets: sessions(randomHours(rand, 4)), createdAt: T0 }),
      acct('f', { templates: ['own-f'], ips: ['f'], buckets: sessions(randomHours(rand, 4)) }),
    ];
  };

  test('per-family scores: content, infrastructure (cosine-damped), sign-up burst, timing', () => {
    const profiles = world();
    const index = buildAttributeIndex(profiles, cfg);
    const timing = timingCandidates(profiles, cfg, period);
    const scorer = new PairScorer(profiles, cfg, index, timing);
    const s = emptyPairScore();
    // Three shared templates of weight 1 (all each one holds): content saturates. One shared IP (0.5) of
    // 1.5 own infrastructure weight. Created a minute apart.
    scorer.score(0, 1, 3, 0.5, s);
    expect(s.content).toBe(1);
    expect(s.infra).toBeCloseTo(0.5 / cfg.infraSaturation, 12);
    expect(s.signup).toBe(cfg.signupScore);
    expect(s.timing).toBe(0);
    expect(s.total).toBeCloseTo(1 + 0.25 + cfg.signupScore, 12);
    scorer.score(2, 3, 0, 0, s);
    expect(s.content).toBe(0);
    expect(s.phi).toBeCloseTo(1, 12);
    expect(s.timing).toBeGreaterThan(0.9);
    expect(s.sharedBuckets).toBe(24);
    expect(s.sharedHours).toBeGreaterThanOrEqual(8);
    scorer.score(4, 5, 0, 0, s);
    expect(s.timing).toBe(0);
    expect(s.total).toBe(0);
  });

  test('acceptance: behavioural evidence must lead', () => {
    const s = (o: Partial<ReturnType<typeof emptyPairScore>>) => {
      const x = { ...emptyPairScore(), ...o };
      x.total = x.content + x.infra + x.timing + x.signup;
      return x;
    };
    expect(acceptEdge(s({ content: 0.95 }), cfg)).toBe(true);
    expect(acceptEdge(s({ timing: 0.95 }), cfg)).toBe(true);
    expect(acceptEdge(s({ content: 0.5, timing: 0.5 }), cfg)).toBe(true);
    expect(acceptEdge(s({ content: 0.6, infra: 0.3, signup: 0.4 }), cfg)).toBe(true);
    expect(acceptEdge(s({ content: 0.4, infra: 0.05 }), cfg)).toBe(false);
    expect(acceptEdge(s({ infra: 1 }), cfg)).toBe(false);
    // Rare shared infrastructure AND sign-ups days apart: a fleet seen in access logs alone.
    expect(acceptEdge(s({ infra: cfg.minInfraWithSignup, signup: cfg.signupScore }), cfg)).toBe(true);
    expect(acceptEdge(s({ infra: cfg.minInfraWithSignup / 2, signup: cfg.signupScore }), cfg)).toBe(false);
    // ... but not when either account rotates through a proxy pool (its addresses are shared with strangers).
    expect(acceptEdge({ ...s({ infra: 1, signup: cfg.signupScore }), stable: false }, cfg)).toBe(false);
  });

  test('verifyPairs turns accepted pairs into graph edges and counts the work', () => {
    const profiles = world();
    const index = buildAttributeIndex(profiles, cfg);
    const timing = timingCandidates(profiles, cfg, period);
    const v = verifyPairs(profiles, cfg, index, timing);
    expect(v.graph.edges.map((e) => [e.a, e.b])).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(v.attributePairs).toBe(4); // p, q, r, ip:shared
    expect(v.verifiedPairs).toBeGreaterThanOrEqual(2);
    expect(v.graph.uf.find(1)).toBe(0);
    expect(v.graph.uf.find(3)).toBe(2);
    expect(v.graph.degree(0)).toBe(1);
    expect(v.graph.degree(4)).toBe(0);
    expect(v.weak).toEqual([]);
  });
});

describe('phase 4: group evidence', () => {
  test('weak synchrony closed into a triangle becomes edges; an open pair does not', () => {
    const profiles = ['w0', 'w1', 'w2', 'x'].map((i) => acct(i));
    const graph = new LinkGraph(profiles.length);
    const weakPair = (a: number, b: number): WeakPair => ({ ...emptyPairScore(), a, b, timing: 0.4, infra: 0.1, total: 0.5, phi: 0.45 });
    const added = addTriangleEdges(graph, [weakPair(0, 1), weakPair(1, 2), weakPair(0, 2), weakPair(2, 3)], profiles, {
      ...cfg,
      syncTriangleBoost: 1.5,
    });
    expect(added).toBe(3);
    expect(graph.edges.map((e) => e.a + e.b)).toEqual(['w0w1', 'w1w2', 'w0w2']);
    expect(graph.edges[0].scores.timing).toBeCloseTo(0.6, 12);
    expect(graph.edges[0].total).toBeCloseTo(0.7, 12);
    expect(graph.uf.find(3)).toBe(3);
  });

  test('a prompt library binds its group by star edges from the hub; a public template held outside does not count', () => {
    const profiles = [
      acct('f0', { templates: ['L0', 'L1', 'L2', 'L3'] }),
      acct('f1', { templates: ['L2', 'L3', 'L4', 'L5'] }),
      acct('f2', { templates: ['L0', 'L1', 'L4', 'L5'] }),
      acct('f3', { templates: ['L0', 'L2', 'L4', 'L5'] }),
      acct('o', { templates: ['L1', 'own-1', 'own-2'] }),
    ];
    const lcfg = { ...cfg, libraryMinTemplates: 4, libraryMinShare: 0.5, libraryExclusiveShare: 0.8, librarySaturation: 6, minClusterSize: 3 };
    const index = buildAttributeIndex(profiles, lcfg);
    const lib = findPromptLibraries(profiles, index.accAttrs, index.fam, index.df, lcfg);
    expect(lib.groups).toEqual([{ members: [0, 1, 2, 3], templates: 5 }]); // L1 is held by an outsider
    expect([...lib.templates]).toEqual([3, 4, 3, 4, 0]);
    expect([...lib.score]).toEqual([0.5, 4 / 6, 0.5, 4 / 6, 0]);
    expect([...lib.groupOf]).toEqual([0, 0, 0, 0, -1]);
    const graph = new LinkGraph(profiles.length);
    expect(addLibraryEdges(graph, lib, profiles)).toBe(3);
    expect(graph.edges).toEqual(['f1', 'f2', 'f3'].map((b) => edge('f0', b, { content: 0.5 })));
    expect(findPromptLibraries(profiles, index.accAttrs, index.fam, index.df, { ...lcfg, libraryMinTemplates: 0 }).groups).toEqual([]);
  });
});

describe('phase 5: leaf pruning', () => {
  test('a timing-only leaf is cut and the graph rebuilt without it', () => {
    const profiles = ['w0', 'w1', 'w2', 'bystander', 'x'].map((i) => acct(i));
    const graph = new LinkGraph(profiles.length);
    graph.add(0, 1, edge('w0', 'w1', { timing: 1 }));
    graph.add(1, 2, edge('w1', 'w2', { timing: 1 }));
    graph.add(0, 2, edge('w0', 'w2', { timing: 1 }));
    graph.add(0, 3, edge('w0', 'bystander', { timing: 0.95 }));
    graph.add(0, 4, edge('w0', 'x', { timing: 0.95, content: 0.5 }));
    expect(pruneLeaves(graph)).toBe(1);
    expect(graph.edges.map((e) => e.a + '-' + e.b)).toEqual(['w0-w1', 'w1-w2', 'w0-w2', 'w0-x']);
    expect(graph.edgeIdx[3]).toBeUndefined();
    expect(graph.edgeIdx[0]).toEqual([0, 2, 3]);
    expect(graph.uf.find(3)).toBe(3);
    expect(graph.uf.find(4)).toBe(0);
    expect(pruneLeaves(graph)).toBe(0);
  });
});

describe('phase 5: people beside a fleet', () => {
  /** An account first seen at T0 and active in `active` of the 72 hours of the period. */
  const running = (i: string, active: number) => {
    const p = acct(i);
    p.firstTs = T0;
    for (let h = 0; h < active; h++) p.hours.set(T0 + h * HOUR, { n: 3 } as never);
    return p;
  };

  test('a person linked to a fleet only by its proxy exit and sign-up week is cut; the machines stay linked', () => {
    const profiles = [running('f0', 70), running('f1', 66), running('f2', 60), running('person', 12), running('colleague', 12)];
    const graph = new LinkGraph(profiles.length);
    const infraSignup = { infra: 0.3, signup: 0.4 };
    graph.add(0, 1, edge('f0', 'f1', infraSignup));
    graph.add(1, 2, edge('f1', 'f2', infraSignup));
    graph.add(0, 3, edge('f0', 'person', infraSignup));
    graph.add(2, 3, edge('f2', 'person', { infra: 0.1, signup: 0.4 }));
    graph.add(2, 4, edge('f2', 'colleague', { ...infraSignup, content: 0.5 })); // a person, but what it sends links it
    expect(prunePersonalAttachments(graph, profiles, period.periodEnd, cfg)).toBe(2);
    expect(graph.edges.map((e) => e.a + '-' + e.b)).toEqual(['f0-f1', 'f1-f2', 'f2-colleague']);
    expect(graph.uf.find(3)).toBe(3);
  });

  test('an account seen for less than the history needed keeps its edges', () => {
    const profiles = [running('f0', 70), running('new', 1)];
    profiles[1].firstTs = period.periodEnd - 2 * HOUR;
    const graph = new LinkGraph(profiles.length);
    graph.add(0, 1, edge('f0', 'new', { infra: 0.3, signup: 0.4 }));
    expect(prunePersonalAttachments(graph, profiles, period.periodEnd, cfg)).toBe(0);
  });
});

describe('phase 6: clusters', () => {
  const setup = () => {
    const profiles = [
      acct('a', { templates: ['fleet', 'own-a'], createdAt: 1000 }),
      acct('b', { templates: ['fleet'], createdAt: 5000 }),
      acct('c', { templates: ['fleet'] }),
      acct('d', { templates: ['own-d'] }),
      acct('e', { templates: ['own-e'] }),
    ];
    const graph = new LinkGraph(profiles.length);
    graph.add(0, 1, edge('a', 'b', { content: 1 }));
    graph.add(1, 2, edge('b', 'c', { content: 1, timing: 0.5 }, 0.7));
    graph.add(0, 2, edge('a', 'c', { content: 0.8, infra: 0.1 }));
    graph.add(3, 4, edge('d', 'e', { content: 1 }));
    const index = buildAttributeIndex(profiles, cfg);
    const library = findPromptLibraries(profiles, index.accAttrs, index.fam, index.df, { ...cfg, libraryMinTemplates: 0 });
    return { profiles, graph, index, library };
  };

  test('components: at least the minimum size, largest first', () => {
    const { graph } = setup();
    expect(components(graph, 3)).toEqual([[0, 1, 2]]);
    expect(components(graph, 2)).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
  });

  test('ids: inherited by majority vote, else a hash of the smallest member', () => {
    const ids = ['a', 'b', 'c'];
    const fresh = 'c-' + fnv1a('a').toString(16).padStart(8, '0');
    expect(assignClusterId(ids, undefined, new Set())).toBe(fresh);
    const previous = new Map([
      ['a', 'c-x'],
      ['b', 'c-x'],
      ['c', 'c-y'],
    ]);
    const used = new Set<string>();
    expect(assignClusterId(ids, previous, used)).toBe('c-x');
    expect(used.has('c-x')).toBe(true);
    expect(assignClusterId(ids, previous, used)).toBe('c-y'); // c-x taken by a larger component
    const taken = new Set([fresh]);
    expect(assignClusterId(ids, undefined, taken)).toBe('c-' + fnv1a('a#1').toString(16).padStart(8, '0'));
  });

  test('evidence and per-account links', () => {
    const { profiles, graph, index, library } = setup();
    const { evidence, exclusive } = clusterEvidence([0, 1, 2], graph, index, profiles, cfg);
    expect(evidence).toEqual({
      edges: 3,
      families: { content: { edges: 3, meanScore: expect.closeTo(2.8 / 3, 12) }, timing: { edges: 1, meanScore: 0.5 } },
      meanPhi: 0.7,
      sharedAttributes: [{ attribute: 't:fleet', family: 'content', members: 3, population: 3 }],
      signupSpreadMs: 4000,
      exclusiveTemplates: 1,
    });
    expect([...exclusive]).toEqual([id(index, 't:fleet')]);
    const link = accountLink(1, 'c-x', graph, index, exclusive, library);
    expect(link).toEqual({
      clusterId: 'c-x',
      families: { content: 1, infra: 0, timing: 0.5, signup: 0 },
      maxFamilies: { content: 1, infra: 0, timing: 0.5, signup: 0 },
      degree: 2,
      sharedTemplates: 1,
      exclusiveTemplates: 1,
      meanPhi: 0.7,
      syncPeers: 1,
      libraryTemplates: 0,
      libraryScore: 0,
      librarySize: 0,
      libraryAccounts: 0,
    });
    expect(accountLink(0, 'c-x', graph, index, exclusive, library).maxFamilies.infra).toBe(0.1);
  });

  test('assembly: clusters with ids and a link for every member', () => {
    const { profiles, graph, index, library } = setup();
    const { clusters, byAccount } = assembleClusters(profiles, cfg, { ...period, previous: new Map([['b', 'c-prev']]) }, index, graph, library);
    expect(clusters.map((c) => [c.clusterId, c.accountIds])).toEqual([['c-prev', ['a', 'b', 'c']]]);
    expect([...byAccount.keys()]).toEqual(['a', 'b', 'c']);
    expect(byAccount.get('a')!.clusterId).toBe('c-prev');
  });
});
