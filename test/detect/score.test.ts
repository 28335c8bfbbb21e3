import { resolveDetectionConfig, DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { runDetection, profilesFromWindows, decide } from '../../src/detect/index';
import { HOUR, T0, population, reasonDetail, windowsOf, type Req } from './fixtures';

function detect(reqs: Req[], config = DEFAULT_DETECTION_CONFIG, extra: { allowlist?: Set<string> } = {}) {
  const profiles = [...profilesFromWindows(windowsOf(reqs), config.linkage.syncBucketMs).values()];
  const first: Record<string, number> = {};
  for (const r of reqs) if (!(r.model in first)) first[r.model] = r.ts;
  return runDetection({ profiles, modelFirstSeen: first, now: T0 + 3 * 24 * HOUR, periodStart: T0, config, ...extra });
}

const pop = population();
const base = detect(pop.reqs);
const byId = new Map(base.accounts.map((a) => [a.accountId, a]));

describe('decisions on a mixed population', () => {
  test('coordinated campaign accounts reach review with corroborating reasons (suspension needs a second abuse point)', () => {
    for (const id of pop.campaign) {
      const a = byId.get(id)!;
      expect(a.decision).toBe('review');
      expect(a.clusterId).not.toBeNull();
      expect(a.reasons.length).toBeGreaterThanOrEqual(2);
    }
    const cot0 = byId.get('cot_0')!.reasons;
    expect(cot0).toEqual(expect.arrayContaining(['synchronized-activity', 'cot-elicitation']));
    // Content evidence: the cluster's shared templates, reported as a prompt library when that is the stronger.
    expect(cot0.some((r) => r === 'shared-templates' || r === 'prompt-library')).toBe(true);
    expect(byId.get('pivot_0')!.reasons).toEqual(expect.arrayContaining(['model-pivot']));
  });

  test('hard negatives are not sent to review or suspended: NAT, batch, early adopters, teams', () => {
    for (const id of [...pop.nat, ...pop.batch, ...pop.earlyAdopters, ...pop.organic].filter((x) => !pop.evalHarness.includes(x))) {
      expect([id, byId.get(id)?.decision ?? 'allow']).toEqual([id, expect.stringMatching(/^(allow|monitor)$/)]);
    }
    // Batch jobs take long outputs: alone that stays below strong.
    const batch = byId.get(pop.batch[0])!.reasonDetails.find((r) => r.signal === 'long-outputs')!;
    expect(batch.strength).toBeLessThan(DEFAULT_DETECTION_CONFIG.decisions.strongSignal);
  });

  test('an account extracting on its own (an eval harness: CoT, long outputs) reaches review, never suspension', () => {
    const ev = byId.get('eval_0')!;
    expect(ev.decision).toBe('review');
    expect(ev.clusterId).toBeNull();
    const cot = ev.reasonDetails.find((r) => r.signal === 'cot-elicitation')!;
    expect(cot.family).toBe('extraction');
    expect(cot.strength).toBeGreaterThanOrEqual(DEFAULT_DETECTION_CONFIG.decisions.strongSignal);
  });

  test('every reason has a detail an ops reviewer can read: signal, value, baseline, text', () => {
    for (const a of base.accounts.filter((x) => x.decision !== 'allow')) {
      for (const code of a.reasons) {
        const d = a.reasonDetails.find((r) => r.signal === code)!;
        expect(d).toBeDefined();
        expect(typeof d.value).toBe('number');
        expect(typeof d.baseline).toBe('number');
        expect(d.text.length).toBeGreaterThan(20);
      }
    }
    const pivot = byId.get('pivot_0')!.reasonDetails.find((r) => r.signal === 'model-pivot')!;
    expect(pivot.value).toBeGreaterThan(0.5);
    expect(pivot.baseline).toBeLessThan(0.15);
    expect(pivot.text).toMatch(/median account/);
  });

  test('clusters carry their evidence and reasons', () => {
    expect(base.clusters).toHaveLength(3);
    // The batch jobs share a custom client and were created together: coordination without abuse, monitor only.
    const batch = base.clusters.find((c) => c.accountIds.includes(pop.batch[0]))!;
    expect(batch.decision).toBe('monitor');
    // Cluster evidence travels in workflow inputs: fleet groups and pivot movers are counts, never account lists.
    const pivot = base.clusters.find((c) => c.accountIds.includes('pivot_0'))!;
    expect(pivot.evidence.pivot).not.toBeNull();
    expect(JSON.stringify({ fleet: pivot.evidence.fleet, pivot: pivot.evidence.pivot })).not.toMatch(/pivot_\d/);
    const cot = base.clusters.find((c) => c.accountIds.includes('cot_0'))!;
    expect(cot.accountIds.sort()).toEqual(pop.campaign.filter((x) => x.startsWith('cot')).sort());
    expect(cot.reasons).toEqual(expect.arrayContaining(['synchronized-activity', 'shared-templates', 'cot-elicitation']));
    expect(cot.evidence.sharedAttributes.length).toBeGreaterThan(0);
    expect(cot.decision).toBe('review');
  });
});

describe('a cluster as a whole', () => {
  test('a campaign cluster is acted on as a cluster; a team whose one member extracts on its own is context, not a campaign', () => {
    const reqs = [...pop.reqs];
    // A company team: five long-standing accounts, one office egress, a shared prompt library, meetings together.
    const sessions: number[] = [];
    for (let d = 0; d < 3; d++) for (let k = 0; k < 4; k++) sessions.push(T0 + d * 24 * HOUR + (9 + k * 2.5) * HOUR);
    const team = ['team_0', 'team_1', 'team_2', 'team_3', 'team_4'];
    team.forEach((id, i) => {
      for (const start of sessions) {
        for (let k = 0; k < 15; k++) {
          reqs.push({
            accountId: id,
            ts: Math.floor(start + k * 60_000 + i * 7_000),
            ip: '198.51.100.10',
            ua: 'corp-tool/2.0',
            model: 'model-a',
            createdAt: T0 - 500 * 24 * HOUR,
            promptClass: 'chat',
            templateId: `t-team-${(k + i) % 8}`,
          });
        }
      }
    });
    // One of them is taken over: chain-of-thought elicitation at volume, beside the owner's use.
    for (let ts = T0 + 24 * HOUR; ts < T0 + 3 * 24 * HOUR; ts += 6 * 60_000) {
      reqs.push({
        accountId: 'team_0',
        ts,
        ip: '203.0.113.77',
        ua: 'httpx/0.27',
        model: 'model-a',
        promptClass: 'cot_elicitation',
        templateId: `t-x-${ts % 997}`,
        outputTokens: 3000,
      });
    }
    const r = detect(reqs);
    const acct = new Map(r.accounts.map((a) => [a.accountId, a]));
    expect(acct.get('team_0')!.decision).toBe('review');
    const teamCluster = r.clusters.find((c) => c.accountIds.includes('team_1'))!;
    expect(teamCluster.accountIds).toEqual(expect.arrayContaining(team));
    expect(teamCluster.decision).toBe('review');
    expect(teamCluster.clusterDecision).toBe('monitor');
    const cot = r.clusters.find((c) => c.accountIds.includes('cot_0'))!;
    expect(cot.clusterDecision).toBe(cot.decision);
    expect(['review', 'suspend']).toContain(cot.clusterDecision);
  });
});

describe('decision policy', () => {
  const d = reasonDetail;

  test('coordination alone is monitor; one abuse point is review; a cluster with two points is suspend', () => {
    const cfg = DEFAULT_DETECTION_CONFIG;
    const coord = [d('synchronized-activity', 'timing', 1), d('prompt-library', 'content', 1), d('shared-infrastructure', 'infra', 1)];
    expect(decide(coord, 100, cfg).decision).toBe('monitor');
    expect(decide([...coord, d('cot-elicitation', 'extraction', 1)], 100, cfg).decision).toBe('review');
    expect(decide([d('cot-elicitation', 'extraction', 1)], 100, cfg).decision).toBe('review');
    // CoT and long outputs are one family: one point, not two.
    expect(decide([...coord, d('cot-elicitation', 'extraction', 1), d('long-outputs', 'extraction', 1)], 100, cfg).decision).toBe('review');
    expect(decide([...coord, d('cot-elicitation', 'extraction', 1), d('signup-burst', 'fleet', 1)], 100, cfg).decision).toBe('suspend');
    expect(decide([...coord, d('model-pivot', 'pivot', 1), d('signup-burst', 'fleet', 1)], 100, cfg).decision).toBe('suspend');
    // Two points without a cluster stay at review: suspension needs coordination.
    expect(decide([d('cot-elicitation', 'extraction', 1), d('client-rotation', 'evasion', 1)], 100, cfg).decision).toBe('review');
    // Rotation inside a coordinated cluster counts two points.
    expect(decide([d('prompt-library', 'content', 1), d('client-rotation', 'evasion', 1)], 100, cfg).decision).toBe('suspend');
    expect(decide([d('round-the-clock', 'behaviour', 0.2), d('long-outputs', 'extraction', 0.4)], 100, cfg).decision).toBe('monitor');
    expect(decide([], 100, cfg)).toEqual({ decision: 'allow', score: 0, reasons: [] });
  });

  test('one shared template does not make an account look certain: coordination is discounted in the score', () => {
    expect(decide([d('shared-templates', 'content', 1)], 100, DEFAULT_DETECTION_CONFIG).score).toBeLessThanOrEqual(0.5);
  });

  test('accounts with too few requests are not flagged', () => {
    expect(
      decide(
        [d('synchronized-activity', 'timing', 1), d('cot-elicitation', 'extraction', 1), d('signup-burst', 'fleet', 1)],
        DEFAULT_DETECTION_CONFIG.thresholds.minRequests - 1,
        DEFAULT_DETECTION_CONFIG,
      ).decision,
    ).toBe('allow');
  });
});

describe('shadow mode', () => {
  test('a shadowed signal is computed and reported but not acted on', () => {
    const config = resolveDetectionConfig({ shadow: { 'cot-elicitation': true, 'shared-templates': true } });
    const r = detect(pop.reqs, config);
    const a = r.accounts.find((x) => x.accountId === 'cot_0')!;
    const cot = a.reasonDetails.find((x) => x.signal === 'cot-elicitation')!;
    expect(cot.shadow).toBe(true);
    expect(a.reasons).not.toContain('cot-elicitation');
    expect(a.reasons).not.toContain('shared-templates');
    expect(a.unshadowedDecision).toBe('review');
  });

  test('global shadow decides nothing beyond monitor but still reports what it would have done', () => {
    const r = detect(pop.reqs, resolveDetectionConfig({ globalShadow: true }));
    expect(r.accounts.filter((a) => a.decision === 'review' || a.decision === 'suspend')).toHaveLength(0);
    expect(r.accounts.find((a) => a.accountId === 'cot_0')!.unshadowedDecision).toBe('review');
  });

  test('allowlisted accounts are allowed', () => {
    const r = detect(pop.reqs, DEFAULT_DETECTION_CONFIG, { allowlist: new Set(['cot_0']) });
    expect(r.accounts.find((a) => a.accountId === 'cot_0')!.decision).toBe('allow');
  });
});

describe('config', () => {
  test('json overrides merge onto defaults; unknown keys and wrong types are rejected', () => {
    const c = resolveDetectionConfig('{"decisions":{"suspendScore":0.9},"linkage":{"maxAttributeAccounts":50}}');
    expect(c.decisions.suspendScore).toBe(0.9);
    expect(c.decisions.reviewScore).toBe(DEFAULT_DETECTION_CONFIG.decisions.reviewScore);
    expect(c.linkage.maxAttributeAccounts).toBe(50);
    expect(() => resolveDetectionConfig('{"decisions":{"nope":1}}')).toThrow("unknown detection config key 'decisions.nope'");
    expect(() => resolveDetectionConfig('{"decisions":{"suspendScore":"high"}}')).toThrow(/must be a number, got "high"/);
    expect(() => resolveDetectionConfig('{"shadow":{"made-up":true}}')).toThrow(/unknown signal 'made-up'/);
    expect(() => resolveDetectionConfig('{oops')).toThrow(/not valid json/);
    expect(resolveDetectionConfig(undefined)).toBe(DEFAULT_DETECTION_CONFIG);
  });
});

describe('warm-up', () => {
  test('nothing is decided above monitor before warmupMs of observation', () => {
    const profiles = [...profilesFromWindows(windowsOf(pop.reqs), DEFAULT_DETECTION_CONFIG.linkage.syncBucketMs).values()];
    const end = T0 + 3 * 24 * HOUR;
    const r = runDetection({ profiles, modelFirstSeen: {}, now: end, periodStart: end - 30 * 60_000, config: DEFAULT_DETECTION_CONFIG });
    expect(r.accounts.filter((a) => a.decision === 'review' || a.decision === 'suspend')).toHaveLength(0);
    expect(r.accounts.find((a) => a.accountId === 'cot_0')!.unshadowedDecision).toBe('review');
  });
});
