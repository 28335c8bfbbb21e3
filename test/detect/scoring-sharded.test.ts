/**
 * Scoring over account shards gives what `runDetection` gives on the whole population, account by account and
 * cluster by cluster, whatever the cut into shards, with every stage's output passed through JSON as a distributed
 * run stores it. The worlds carry usage events (baseline in tokens) and a model release (pivot adoption).
 */
import { DEFAULT_DETECTION_CONFIG, runDetection, scoreInShards, type DetectionConfig, type DetectionInput } from '../../src/detect/index';
import { simulatedWorld } from '../support/simulated-world';

const cfg = DEFAULT_DETECTION_CONFIG as DetectionConfig;

function world(variant: 'base' | 'evasive', seed: number, usage: boolean): DetectionInput {
  const { profiles, modelFirstSeen, period } = simulatedWorld(variant, seed, { usage });
  return { profiles, modelFirstSeen, now: period.periodEnd, periodStart: period.periodStart, config: cfg };
}

function slices<T>(xs: readonly T[], n: number): T[][] {
  const size = Math.ceil(xs.length / n);
  return Array.from({ length: n }, (_, k) => xs.slice(k * size, (k + 1) * size));
}

describe('sharded scoring', () => {
  it.each([
    ['base', 5, true],
    ['evasive', 6, true],
    ['evasive', 7, false],
  ] as const)(
    'scores the %s world (seed %i, usage events %s) exactly as the whole population, in 1, 3 and 7 shards',
    (variant, seed, usage) => {
      const input = world(variant, seed, usage);
      const allowlist = new Set([input.profiles[3].accountId]);
      const whole = runDetection({ ...input, allowlist });
      const linkage = whole.linkageResult;
      expect(linkage.clusters.length).toBeGreaterThan(0);
      expect(whole.accounts.some((a) => a.decision === 'suspend' || a.decision === 'review')).toBe(true);
      for (const n of [1, 3, 7]) {
        const sharded = scoreInShards(slices(input.profiles, n), linkage, { ...input, allowlist }, true);
        expect(sharded.accounts).toEqual(JSON.parse(JSON.stringify(whole.accounts)));
        expect(sharded.context.baselines).toEqual(whole.baselines);
        expect(sharded.context.models).toEqual(whole.models);
        const clusters = whole.clusters.map((c) => [c.clusterId, { reasons: c.reasons, decision: c.decision, clusterDecision: c.clusterDecision }]);
        expect([...sharded.clusters]).toEqual(clusters);
      }
    },
    120_000,
  );

  it('measures adoption of a release in the world that has one, across shards', () => {
    const input = world('base', 5, true);
    const whole = runDetection(input);
    expect(whole.models.length).toBeGreaterThan(0);
    const sharded = scoreInShards(slices(input.profiles, 5), whole.linkageResult, input, true);
    expect(sharded.context.models).toEqual(whole.models);
    expect([...sharded.context.pivots.keys()].sort()).toEqual(
      whole.clusters
        .filter((c) => c.evidence.pivot)
        .map((c) => c.clusterId)
        .sort(),
    );
  }, 120_000);
});
