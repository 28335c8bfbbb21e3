import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { computeFeatures } from '../../src/detect/features';
import type { AccountLink } from '../../src/detect/linkage';
import type { ClusterPivot } from '../../src/detect/pivot';
import { profilesFromWindows } from '../../src/detect/profile';
import { accountSignals, type ClusterContext, type FleetSignups } from '../../src/detect/score';
import { HOUR, T0, timingLink, windowsOf, type Req } from './fixtures';

const cfg = DEFAULT_DETECTION_CONFIG;
const BASE = { medianOutput: 400, outputUnit: 'bytes' as const };

function features(id: string) {
  const reqs: Req[] = Array.from({ length: 48 }, (_, k) => ({ accountId: id, ts: T0 + k * HOUR, model: 'm', ip: '9.9.9.9', ua: 'sdk' }));
  return computeFeatures(profilesFromWindows(windowsOf(reqs), cfg.linkage.syncBucketMs).get(id)!, { m: T0 }, T0 + 48 * HOUR);
}

/** A member firmly in cluster c1 (a strong timing link), whose cluster moved `share` of its traffic to a new model. */
function context(share: number, fleetIds: string[], group?: { moved: number; members: number }): { link: AccountLink; cluster: ClusterContext } {
  const movers = Array.from({ length: group?.moved ?? 10 }, (_, i) => `m${i}`);
  const members = group?.members ?? 10;
  const pivot: ClusterPivot = {
    clusterId: 'c1',
    model: 'new',
    share,
    baseline: 0,
    membersMoved: movers.length,
    members,
    firstSeen: T0,
    movers,
    whole: !group,
  };
  const fleet: FleetSignups | null = fleetIds.length
    ? {
        known: 10,
        windowMs: 7 * 24 * HOUR,
        groups: [{ accountIds: fleetIds, windowStart: T0, populationShare: 0.01, log10P: -20, medianAgeMs: 10 * 24 * HOUR, dutyCycle: 0.95 }],
        companions: ['m0'],
      }
    : null;
  const cluster: ClusterContext = {
    cluster: {
      clusterId: 'c1',
      accountIds: movers,
      evidence: { edges: 20, families: {}, meanPhi: 0.9, sharedAttributes: [], signupSpreadMs: null, exclusiveTemplates: 0 },
    },
    intentShare: null,
    cotPerAccountDay: 0,
    usageEvents: 0,
    meanOutput: null,
    pivot,
    fleet,
  };
  const link = timingLink(0.9);
  return { link, cluster };
}

const pivotStrength = (share: number, fleetIds: string[], group?: { moved: number; members: number }) => {
  const { link, cluster } = context(share, fleetIds, group);
  return accountSignals(features('m0'), link, cluster, undefined, BASE, cfg).find((r) => r.signal === 'model-pivot')!;
};

describe('a cluster pivot backed by a fleet', () => {
  test('a group that kept a third of its traffic on the old model is weak evidence on its own', () => {
    expect(pivotStrength(0.69, []).strength).toBeLessThan(cfg.decisions.strongSignal);
  });

  test("the same move by a fleet created together is strong: the switch is one operator's", () => {
    const fleet = Array.from({ length: 7 }, (_, i) => `m${i + 3}`); // m3..m9: most movers, not m0 itself
    const r = pivotStrength(0.69, fleet);
    expect(r.strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
    expect(r.text).toMatch(/fleet created together/);
  });

  test('a fleet holding a minority of the movers does not lend them its evidence', () => {
    expect(pivotStrength(0.69, ['m8', 'm9']).strength).toBeLessThan(cfg.decisions.strongSignal);
  });
});

describe('a group of movers inside a cluster', () => {
  test('a handful of a team switching on release day while the rest stayed is support only, whatever the share', () => {
    expect(pivotStrength(0.95, [], { moved: 3, members: 11 }).strength).toBeLessThan(cfg.decisions.strongSignal);
    expect(pivotStrength(0.95, [], { moved: cfg.pivot.groupMinMovers - 1, members: 40 }).strength).toBeLessThan(cfg.decisions.strongSignal);
  });

  test('dozens switching together is strong, as is a whole small cluster moving', () => {
    expect(pivotStrength(0.95, [], { moved: 40, members: 120 }).strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
    expect(pivotStrength(0.95, []).strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
  });

  test("a few movers that belong to a fleet created together keep the fleet's evidence", () => {
    expect(pivotStrength(0.69, ['m0', 'm1', 'm2', 'm3'], { moved: 4, members: 12 }).strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
  });
});

describe('an older account that runs with a fleet', () => {
  const companion = (fleetIds: string[], companions: string[]) => {
    const { link, cluster } = context(0, fleetIds);
    link.libraryScore = 1;
    link.librarySize = 420;
    cluster.fleet!.companions = companions;
    return accountSignals(features('m0'), link, cluster, undefined, BASE, cfg).find((r) => r.signal === 'fleet-companion');
  };
  const fleet = ['m3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'];

  test("a companion of the fleet (its library, the machines' hours) carries fleet evidence", () => {
    const r = companion(fleet, ['m0'])!;
    expect(r.family).toBe('fleet');
    expect(r.strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
    expect(r.text).toMatch(/fleet's exclusive library of 420 templates/);
  });

  test('another member of the cluster, or a member of the group itself, does not', () => {
    expect(companion(fleet, [])).toBeUndefined();
    expect(companion(['m0', ...fleet.slice(1)], ['m0'])).toBeUndefined();
  });
});
