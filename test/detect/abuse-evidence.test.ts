import { DEFAULT_DETECTION_CONFIG, resolveDetectionConfig } from '../../src/detect/config';
import { binomialTailLog10, fleetCompanions, fleetSignups } from '../../src/detect/index';
import { decide, isFirmMember, rotation, wilsonLower } from '../../src/detect/score';
import type { AccountFeatures } from '../../src/detect/features';
import type { AccountLink } from '../../src/detect/linkage';
import { stableInfrastructure } from '../../src/detect/linkage/verify';
import { emptyProfile } from '../../src/detect/profile';
import { reasonDetail as d } from './fixtures';

const cfg = DEFAULT_DETECTION_CONFIG;
const DAY = 86_400_000;

describe('fleet sign-ups against the unlinked background', () => {
  const now = Date.UTC(2026, 10, 9);
  const background = Array.from({ length: 900 }, (_, i) => now - (i + 1) * DAY * 0.8); // one sign-up every ~19 h, for two years

  const accounts = (times: number[]) => times.map((createdAt, i) => ({ id: `a${i}`, createdAt }));
  const duty = (n: number, d: number) => new Map(Array.from({ length: n }, (_, i) => [`a${i}`, d] as [string, number]));

  test('a young cluster created within days, running machine-like, is a fleet', () => {
    const members = accounts(Array.from({ length: 8 }, (_, i) => now - 15 * DAY + i * 3 * 3_600_000));
    const fl = fleetSignups(members, background, now, cfg, duty(13, 0.95))!;
    expect(fl.groups).toHaveLength(1);
    expect(fl.groups[0].accountIds).toHaveLength(8);
    expect(fl.groups[0].populationShare).toBeLessThan(0.02);
    expect(fl.groups[0].log10P).toBeLessThan(cfg.thresholds.fleetMaxLog10P);
  });

  test('one cluster can hold two fleets (two sign-up waves); members of neither wave are in no group', () => {
    const wave = (at: number) => Array.from({ length: 6 }, (_, i) => now - at * DAY + i * 3_600_000);
    const members = accounts([...wave(26), ...wave(12), now - 300 * DAY]);
    const fl = fleetSignups(members, background, now, cfg, duty(13, 0.95))!;
    expect(fl.groups).toHaveLength(2);
    expect(fl.groups.flatMap((g) => g.accountIds)).not.toContain('a12');
  });

  test('not a fleet: a cohort active in class hours, an old team onboarded together, sign-ups spread over months', () => {
    const together = Array.from({ length: 8 }, (_, i) => now - 15 * DAY + i * 3_600_000);
    expect(fleetSignups(accounts(together), background, now, cfg, duty(8, 0.3))).toBeNull();
    expect(fleetSignups(accounts(together.map((c) => c - 400 * DAY)), background, now, cfg, duty(13, 0.95))).toBeNull();
    // a SaaS platform's tenants provisioned in one week, seven weeks ago, running round the clock
    expect(fleetSignups(accounts(together.map((c) => c - 35 * DAY)), background, now, cfg, duty(13, 0.95))).toBeNull();
    const spread = Array.from({ length: 8 }, (_, i) => now - (10 + i * 30) * DAY);
    expect(fleetSignups(accounts(spread), background, now, cfg, duty(13, 0.95))).toBeNull();
  });

  test("a member that runs a person's hours stays out of the fleet it signed up beside", () => {
    const members = accounts(Array.from({ length: 8 }, (_, i) => now - 15 * DAY + i * 3 * 3_600_000));
    const d8 = duty(8, 0.95);
    d8.set('a3', 0.1);
    const fl = fleetSignups(members, background, now, cfg, d8)!;
    expect(fl.groups[0].accountIds).toHaveLength(7);
    expect(fl.groups[0].accountIds).not.toContain('a3');
  });

  test("older members on the fleet's own library that run the machines' hours are its companions", () => {
    const members = accounts([
      ...Array.from({ length: 8 }, (_, i) => now - 15 * DAY + i * 3 * 3_600_000),
      now - 400 * DAY,
      now - 300 * DAY,
      now - 200 * DAY,
    ]);
    const d11 = duty(11, 0.95);
    d11.set('a9', 0.3); // a person's hours
    const fl = fleetSignups(members, background, now, cfg, d11)!;
    const link = (libraryGroup: number | undefined, libraryScore = 1) => ({ libraryGroup, libraryScore }) as AccountLink;
    const links = new Map(members.map((m, i) => [m.id, link(i === 10 ? 2 : 1)])); // a10: a team's own library
    links.set('a0', link(undefined, 0));
    const companions = () =>
      fleetCompanions(
        fl,
        members.map((m) => m.id),
        d11,
        links,
        cfg,
      );
    expect(companions()).toEqual(['a8']);
    links.set('a8', link(1, 0.3)); // a few of the library's templates: not bound to it
    expect(companions()).toEqual([]);
  });

  test('a bulk import running three quarters of its hours is not a machine fleet', () => {
    const members = accounts(Array.from({ length: 8 }, (_, i) => now - 15 * DAY + i * 60_000));
    expect(fleetSignups(members, background, now, cfg, duty(8, 0.77))).toBeNull();
    expect(fleetSignups(members, background, now, cfg, duty(8, 0.9))).not.toBeNull();
  });

  test('the binomial tail is exact on small cases and monotone', () => {
    expect(binomialTailLog10(3, 3, 0.1)).toBeCloseTo(-3, 10);
    expect(binomialTailLog10(2, 1, 0.5)).toBeCloseTo(Math.log10(0.75), 10);
    expect(binomialTailLog10(10, 8, 0.05)).toBeLessThan(binomialTailLog10(10, 5, 0.05));
  });
});

describe('evidence judged by its amount', () => {
  test('the CoT share is judged by its lower confidence bound', () => {
    expect(wilsonLower(0.35, 20)).toBeLessThan(0.2);
    expect(wilsonLower(0.5, 5000)).toBeGreaterThan(0.48);
  });
});

describe('rotation: early fast path, and people who travel', () => {
  const f = (over: Partial<AccountFeatures>): AccountFeatures =>
    ({ requests: 12, activeHours: 3, distinctUserAgents: 1, distinctSubnets: 1, distinctNetworks: 1, ...over }) as AccountFeatures;

  test('four user agents in a dozen requests, or ten networks in twenty, is rotation', () => {
    expect(rotation(f({ distinctUserAgents: 4, requests: 8 }), cfg).strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
    expect(rotation(f({ distinctSubnets: 12, distinctNetworks: 11, requests: 20 }), cfg).strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
  });

  test('a traveller (8 subnets in 6 networks in 13 requests) and a phone on one carrier are not', () => {
    expect(rotation(f({ distinctSubnets: 8, distinctNetworks: 6, requests: 13 }), cfg).strength).toBe(0);
    expect(rotation(f({ distinctSubnets: 30, distinctNetworks: 1, requests: 60 }), cfg).strength).toBe(0);
    expect(rotation(f({ distinctUserAgents: 2, requests: 3 }), cfg).strength).toBe(0);
  });
});

describe('suspension needs operation no customer kind shows', () => {
  const coord = [d('prompt-library', 'content', 1), d('shared-infrastructure', 'infra', 1)];

  test('CoT benchmarks plus a release-day pivot (an eval company) are review, not suspend', () => {
    expect(decide([...coord, d('cot-elicitation', 'extraction', 1), d('model-pivot', 'pivot', 1)], 100, cfg).decision).toBe('review');
  });

  test('with a fresh machine-like fleet or rotation, it is suspend; the requirement is configurable', () => {
    expect(decide([...coord, d('model-pivot', 'pivot', 1), d('signup-burst', 'fleet', 1)], 100, cfg).decision).toBe('suspend');
    const loose = resolveDetectionConfig({ decisions: { suspendRequires: ['evasion', 'fleet', 'pivot'] } });
    expect(decide([...coord, d('cot-elicitation', 'extraction', 1), d('model-pivot', 'pivot', 1)], 100, loose).decision).toBe('suspend');
  });

  test('rotation in a group run together is suspend; a rotating user of a popular tool (templates shared pair by pair) is review', () => {
    const rot = d('client-rotation', 'evasion', 1);
    expect(decide([d('prompt-library', 'content', 1), rot], 100, cfg).decision).toBe('suspend');
    expect(decide([d('synchronized-activity', 'timing', 1), rot], 100, cfg).decision).toBe('suspend');
    expect(decide([d('shared-infrastructure', 'infra', 1), rot], 100, cfg).decision).toBe('suspend');
    expect(decide([d('shared-templates', 'content', 1), rot], 100, cfg).decision).toBe('review');
  });
});

describe('cluster evidence reaches firm members only', () => {
  const link = (over: Partial<AccountLink>): AccountLink =>
    ({ maxFamilies: { content: 0, infra: 0, timing: 0, signup: 0 }, degree: 1, libraryScore: 0, ...over }) as AccountLink;

  test('one weak edge is not membership; a strong link or two edges are', () => {
    expect(isFirmMember(link({ maxFamilies: { content: 0, infra: 0, timing: 0.4, signup: 0 } }), cfg)).toBe(false);
    expect(isFirmMember(link({ maxFamilies: { content: 0.9, infra: 0, timing: 0, signup: 0 } }), cfg)).toBe(true);
    expect(isFirmMember(link({ degree: 2 }), cfg)).toBe(true);
  });
});

describe('stable infrastructure', () => {
  test('an account on a new /24 for most requests is a rotating pool; a roaming user is not', () => {
    const rotating = emptyProfile('r');
    rotating.n = 40;
    for (let i = 0; i < 30; i++) rotating.subnets.add(`10.${i}.${i}.0/24`);
    expect(stableInfrastructure(rotating)).toBe(false);
    const roaming = emptyProfile('h');
    roaming.n = 400;
    for (let i = 0; i < 12; i++) roaming.subnets.add(`10.${i}.1.0/24`);
    expect(stableInfrastructure(roaming)).toBe(true);
  });
});
