/**
 * A distributed detection run (every stage over account-id ranges, records in a store) decides every account and
 * cluster as `runDetection` does on the whole population, with shards of uneven size; and profiles survive the
 * records they travel in exactly.
 */
import { DEFAULT_DETECTION_CONFIG, runDetection, type DetectionConfig } from '../../src/detect/index';
import { MemoryShardStore } from '../../src/detect/linkage/sharded';
import { decodeProfile, encodeProfile } from '../../src/detect/profile-codec';
import { emptyProfile, type AccountProfile } from '../../src/detect/profile';
import { runDetectionInProcess } from '../../src/detect/sharded-run/in-process';
import { boundsFromSample, planRun, sampleIds, shardRange } from '../../src/detect/sharded-run/stages';
import { dataRecord } from '../../src/shared/data-record';
import { simulatedWorld } from '../support/simulated-world';

const cfg = DEFAULT_DETECTION_CONFIG as DetectionConfig;
const byId = (a: AccountProfile, b: AccountProfile) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0);

function world(variant: 'base' | 'evasive', seed: number) {
  const w = simulatedWorld(variant, seed);
  // the single path's order (the scorer sorts its profiles by id), and the run's models in name order
  const modelFirstSeen = dataRecord(Object.entries(w.modelFirstSeen).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { profiles: w.profiles.sort(byId), modelFirstSeen, period: w.period };
}

describe('distributed detection run', () => {
  it.each([
    ['base', 5],
    ['evasive', 6],
  ] as const)(
    'decides the %s world (seed %i) account by account and cluster by cluster as the single path',
    async (variant, seed) => {
      const { profiles, modelFirstSeen, period } = world(variant, seed);
      const allowlist = new Set([profiles[4].accountId]);
      const single = runDetection({ profiles, modelFirstSeen, now: period.periodEnd, periodStart: period.periodStart, config: cfg, allowlist });
      expect(single.clusters.length).toBeGreaterThan(0);
      // a sample of every 7th id: shards of uneven size, as a sample of an earlier run gives
      const sample = profiles.filter((_, i) => i % 7 === 0).map((p) => p.accountId);
      const plan = planRun('runs/test/', period, profiles.length, sample, Math.ceil(profiles.length / 5), 2);
      expect(plan.accountShards).toBe(5);
      const run = await runDetectionInProcess(new MemoryShardStore(), plan, [...profiles].reverse(), modelFirstSeen, cfg, { allowlist });
      expect(run.plan.accounts).toBe(profiles.length);
      expect(new Set(run.plan.offsets!.slice(1).map((o, s) => o - run.plan.offsets![s])).size).toBeGreaterThan(1);
      expect(run.accounts).toEqual(JSON.parse(JSON.stringify(single.accounts)));
      expect([...run.clusters]).toEqual(
        single.clusters.map((c) => [c.clusterId, { reasons: c.reasons, decision: c.decision, clusterDecision: c.clusterDecision }]),
      );
    },
    120_000,
  );

  it('cuts the id space at sampled ids: every id in exactly one shard', () => {
    const sample = sampleIds(
      Array.from({ length: 1000 }, (_, i) => `acct-${String(i).padStart(4, '0')}`),
      100,
    );
    expect(sample).toHaveLength(100);
    expect(boundsFromSample(sample, 4)).toEqual(['acct-0250', 'acct-0500', 'acct-0750']);
    expect(boundsFromSample(['a', 'a', 'a', 'b'], 4)).toEqual(['a', 'b']);
    // DynamoDB's order (UTF-8 bytes): a character beyond U+FFFF after U+FFFD, though JavaScript's < puts it before
    expect(boundsFromSample(['\u{1F600}', '\uFFFD', 'z', 'a'], 4)).toEqual(['z', '\uFFFD', '\u{1F600}']);
    expect(Buffer.compare(Buffer.from('\uFFFD'), Buffer.from('\u{1F600}'))).toBe(-1);
    const plan = planRun('runs/x/', { periodStart: 0, periodEnd: 1 }, 1000, sample, 250);
    expect(plan.accountShards).toBe(4);
    expect([0, 1, 3].map((s) => shardRange(plan, s))).toEqual([{ hi: 'acct-0250' }, { lo: 'acct-0250', hi: 'acct-0500' }, { lo: 'acct-0750' }]);
  });

  it('keeps a profile exactly through its record: order of sets, data keys, an account with usage events only', () => {
    const { profiles } = world('base', 5);
    for (const p of profiles.slice(0, 50)) expect(decodeProfile(JSON.parse(JSON.stringify(encodeProfile(p))))).toEqual(p);
    const odd = emptyProfile('usage-only');
    odd.models['__proto__'] = 3;
    odd.templates.add('z').add('a');
    const back = decodeProfile(JSON.parse(JSON.stringify(encodeProfile(odd))));
    expect(back).toEqual(odd);
    expect(back.firstTs).toBe(Number.POSITIVE_INFINITY);
    expect([...back.templates]).toEqual(['z', 'a']);
    expect(Object.getPrototypeOf(back.models)).toBeNull();
    expect(back.models['__proto__']).toBe(3);
  });
});
