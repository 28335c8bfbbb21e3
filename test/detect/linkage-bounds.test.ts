/**
 * Shortcuts of linkage (src/detect/linkage) against what they stand for: a pair the hour-of-day bound skips is one
 * the full score rejects; document frequencies kept between runs equal a plain count.
 */
import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import {
  acceptEdge,
  buildAttributeIndex,
  coActivity,
  emptyCoActivity,
  emptyPairScore,
  LinkageCache,
  PairScorer,
  timingCandidates,
} from '../../src/detect/linkage';
import { hourOfDayMask, popcount } from '../../src/detect/linkage/timing';
import { emptyProfile, type AccountProfile } from '../../src/detect/profile';
import { HOUR, T0, rng } from './fixtures';

const cfg = DEFAULT_DETECTION_CONFIG.linkage;
const period = { periodStart: T0, periodEnd: T0 + 3 * 24 * HOUR };
const B0 = Math.floor(T0 / cfg.syncBucketMs);
const PER_HOUR = HOUR / cfg.syncBucketMs;

/** Accounts active in a few random hours of the period, sharing addresses and sign-up days at random. */
function world(n: number, seed: number): AccountProfile[] {
  const rand = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const p = emptyProfile(`acct-${i}`);
    const hours = 1 + Math.floor(rand() * 8);
    for (let h = 0; h < hours; h++) {
      const start = B0 + Math.floor(rand() * 72) * PER_HOUR;
      for (let k = 0; k < PER_HOUR; k++) if (rand() < 0.7) p.syncBuckets.add(start + k);
    }
    p.ips.add(`ip-${Math.floor(rand() * 5)}`);
    p.userAgents.add(`ua-${Math.floor(rand() * 3)}`);
    if (rand() < 0.5) p.createdAt = T0 - Math.floor(rand() * 10) * 24 * HOUR;
    return p;
  });
}

describe('hour-of-day bound', () => {
  test('hourOfDayMask holds the hours of the day coActivity counts', () => {
    const rand = rng(7);
    for (let t = 0; t < 50; t++) {
      const set = new Set<number>();
      for (let k = 0; k < 40; k++) set.add(B0 + Math.floor(rand() * 72 * PER_HOUR));
      const arr = Int32Array.from(set).sort();
      const co = emptyCoActivity();
      coActivity(arr, arr, PER_HOUR, co);
      expect(popcount(hourOfDayMask(arr, PER_HOUR))).toBe(co.hoursOfDay);
    }
  });

  test('a pair PairScorer.linkable rules out is one score rejects, with timing 0', () => {
    const profiles = world(60, 11);
    const index = buildAttributeIndex(profiles, cfg);
    const scorer = new PairScorer(profiles, cfg, index, timingCandidates(profiles, cfg, period));
    const s = emptyPairScore();
    let ruledOut = 0;
    for (let a = 0; a < profiles.length; a++)
      for (let b = a + 1; b < profiles.length; b++) {
        const infra = profiles[a].ips.values().next().value === profiles[b].ips.values().next().value ? 0.5 : 0;
        if (scorer.linkable(a, b, 0, infra)) continue;
        ruledOut++;
        scorer.score(a, b, 0, infra, s);
        expect(s.timing).toBe(0);
        expect(acceptEdge(s, cfg)).toBe(false);
      }
    expect(ruledOut).toBeGreaterThan(100);
  });
});

describe('LinkageCache.frequencies', () => {
  test('equals a plain count as accounts join, grow, leave, return and repeat', () => {
    const rand = rng(5);
    const cache = new LinkageCache();
    const all = Array.from({ length: 30 }, (_, i) => emptyProfile(`acct-${i}`));
    for (let run = 0; run < 40; run++) {
      for (const p of all)
        if (rand() < 0.3) {
          p.ips.add(`ip-${Math.floor(rand() * 50)}`);
          if (rand() < 0.3) p.templates.add(`t-${Math.floor(rand() * 20)}`);
          p.version++;
        }
      const population = all.filter(() => rand() < 0.7);
      if (run % 7 === 3 && population.length) population.push(population[0]); // listed twice
      if (run % 11 === 5) cache.retain(new Set(population.slice(0, 5).map((p) => p.accountId)));
      const attrs = population.map((p) => cache.attrs(p));
      const plain = new Int32Array(cache.dict.names.length);
      for (const list of attrs) for (const id of list) plain[id]++;
      expect(Array.from(cache.frequencies(population))).toEqual(Array.from(plain));
    }
  });
});
