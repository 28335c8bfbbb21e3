import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { detectPivots } from '../../src/detect/pivot';
import { profilesFromWindows } from '../../src/detect/profile';
import { HOUR, T0, windowsOf, type Req } from './fixtures';

const cfg = DEFAULT_DETECTION_CONFIG.pivot;
const RELEASE = T0 + 48 * HOUR;

/** An account sending `perHour` requests every hour for 3 days, switching `share` of them to `new` after RELEASE + delay. */
function account(id: string, share: number, delayH = 1, perHour = 6): Req[] {
  const out: Req[] = [];
  for (let h = 0; h < 72; h++) {
    for (let k = 0; k < perHour; k++) {
      const ts = T0 + h * HOUR + k * 60_000;
      const moved = ts >= RELEASE + delayH * HOUR && k < Math.round(share * perHour);
      out.push({ accountId: id, ts, ip: '1.1.1.1', ua: 'u', model: moved ? 'new' : 'old' });
    }
  }
  return out;
}

function run(reqs: Req[], clusterOf: (id: string) => string | undefined, now = RELEASE + 12 * HOUR) {
  const ps = [...profilesFromWindows(windowsOf(reqs), 600_000).values()];
  return detectPivots(ps, { old: T0, new: RELEASE }, now, cfg, clusterOf, T0);
}

describe('new-model pivot', () => {
  const population = (): Req[] => {
    const reqs: Req[] = [];
    for (let i = 0; i < 60; i++) reqs.push(...account(`o${i}`, 0)); // most accounts do not move yet
    for (let i = 0; i < 3; i++) reqs.push(...account(`early${i}`, 1, 2)); // early adopters
    return reqs;
  };

  test('a cluster moving most of its traffic while the median account is at ~0% is flagged', () => {
    const reqs = population();
    for (let i = 0; i < 5; i++) reqs.push(...account(`c${i}`, 1, 1));
    const r = run(reqs, (id) => (id.startsWith('c') ? 'c-1' : undefined));
    expect(r.models).toHaveLength(1);
    expect(r.models[0].medianShare).toBe(0);
    const c = r.clusters.get('c-1')!;
    expect(c).toBeDefined();
    expect(c.share).toBeGreaterThan(0.8);
    expect(c.membersMoved).toBe(5);
    expect(c.baseline).toBe(0);
  });

  test('an early adopter alone is an account-level pivot only (no cluster)', () => {
    const r = run(population(), () => undefined);
    expect(r.clusters.size).toBe(0);
    expect(r.accounts.get('early0')?.model).toBe('new');
    expect(r.accounts.has('o1')).toBe(false);
  });

  test('when the whole population moves, nothing stands out', () => {
    const reqs: Req[] = [];
    for (let i = 0; i < 30; i++) reqs.push(...account(`o${i}`, 1, 1));
    for (let i = 0; i < 5; i++) reqs.push(...account(`c${i}`, 1, 1));
    const r = run(reqs, (id) => (id.startsWith('c') ? 'c-1' : undefined));
    expect(r.models[0].medianShare).toBeGreaterThan(0.5);
    expect(r.clusters.size).toBe(0);
    expect(r.accounts.size).toBe(0);
  });

  test('a model present from the start of observation is not new', () => {
    const reqs = population();
    const ps = [...profilesFromWindows(windowsOf(reqs), 600_000).values()];
    const r = detectPivots(ps, { old: T0, new: T0 + HOUR }, RELEASE, cfg, () => undefined, T0);
    expect(r.models).toHaveLength(0);
  });

  test('an account needs established traffic before the release', () => {
    const reqs = population();
    // A brand-new account that only ever used the new model.
    for (let h = 49; h < 60; h++)
      for (let k = 0; k < 6; k++) reqs.push({ accountId: 'fresh', ts: T0 + h * HOUR + k * 60_000, ip: '2.2.2.2', ua: 'u', model: 'new' });
    const r = run(reqs, () => undefined);
    expect(r.accounts.has('fresh')).toBe(false);
  });
});
