import { DEFAULT_DETECTION_CONFIG, resolveDetectionConfig } from '../../src/detect/config';
import { computeFeatures } from '../../src/detect/features';
import { profilesFromWindows } from '../../src/detect/profile';
import type { AccountLink } from '../../src/detect/linkage';
import { accountSignals, decide, rotation, type ClusterContext } from '../../src/detect/score';
import { HOUR, T0, rng, timingLink, windowsOf, type Req } from './fixtures';

const cfg = DEFAULT_DETECTION_CONFIG;
const BASE = { medianOutput: 400, outputUnit: 'bytes' as const };

/** One account's features from `n` requests spread over `hours` hours, with per-request ip and ua. */
function features(n: number, hours: number, at: (k: number) => { ip: string; ua: string }) {
  const reqs: Req[] = [];
  for (let k = 0; k < n; k++) reqs.push({ accountId: 'a', ts: T0 + Math.floor((k * hours * HOUR) / n), model: 'm', ...at(k) });
  const p = profilesFromWindows(windowsOf(reqs), cfg.linkage.syncBucketMs).get('a')!;
  return computeFeatures(p, { m: T0 }, T0 + hours * HOUR);
}

describe('client rotation (evasion)', () => {
  const r = rng(3);
  const uas = Array.from({ length: 22 }, (_, i) => `ua-${i}`);

  test('an account cycling through a pool of user agents is strong evidence on its own: review, never suspend', () => {
    const f = features(40, 1, () => ({ ip: '9.9.9.9', ua: uas[Math.floor(r() * uas.length)] }));
    expect(f.distinctUserAgents).toBeGreaterThanOrEqual(cfg.thresholds.rotationFullUserAgents);
    const rot = rotation(f, cfg);
    expect(rot.ua).toBe(1);
    const details = accountSignals(f, undefined, undefined, undefined, BASE, cfg);
    const d = details.find((x) => x.signal === 'client-rotation')!;
    expect(d.family).toBe('evasion');
    expect(d.value).toBe(f.distinctUserAgents);
    expect(d.baseline).toBe(cfg.thresholds.rotationMinUserAgents);
    expect(d.text).toMatch(/distinct user agents/);
    expect(decide(details, f.requests, cfg).decision).toBe('review');
  });

  test('network rotation with one client and its own few prompts repeated is an app on a function egress pool: support only', () => {
    const f = features(300, 6, (k) => ({ ip: `${40 + (k % 200)}.${k % 97}.${(k * 7) % 251}.3`, ua: 'sdk/1.0' }));
    expect(rotation(f, cfg).ip).toBe(1);
    const app = { ...f, usageEvents: 300, templateDiversity: 4 / 300 };
    const d = accountSignals(app, undefined, undefined, undefined, BASE, cfg).find((x) => x.signal === 'client-rotation')!;
    expect(d.strength).toBeLessThan(cfg.decisions.strongSignal);
    expect(d.text).toMatch(/app backend/);
    expect(decide(accountSignals(app, undefined, undefined, undefined, BASE, cfg), app.requests, cfg).decision).not.toBe('review');
    // the same rotation with new prompts every time (a person or a harvester behind proxies) is review
    const person = { ...f, usageEvents: 300, templateDiversity: 0.9 };
    expect(decide(accountSignals(person, undefined, undefined, undefined, BASE, cfg), person.requests, cfg).decision).toBe('review');
    // rotating user agents are never an app's egress
    const uaPool = features(300, 6, (k) => ({ ip: `${40 + (k % 200)}.${k % 97}.${(k * 7) % 251}.3`, ua: uas[k % uas.length] }));
    const uaApp = { ...uaPool, usageEvents: 300, templateDiversity: 4 / 300 };
    expect(decide(accountSignals(uaApp, undefined, undefined, undefined, BASE, cfg), uaApp.requests, cfg).decision).toBe('review');
  });

  test('sibling accounts of one company on a function platform (a few shared system prompts) are not a rotating hydra cluster', () => {
    const zero = { content: 0, infra: 0, timing: 0, signup: 0 };
    const member = (shared: number): { link: AccountLink; cluster: ClusterContext } => ({
      link: {
        clusterId: 'c1',
        families: { ...zero, infra: 0.9, content: 0.9 },
        maxFamilies: { ...zero, infra: 0.9, content: 0.9 },
        degree: 2,
        sharedTemplates: shared,
        exclusiveTemplates: shared,
        meanPhi: 0,
        syncPeers: 0,
        libraryTemplates: shared > 4 ? shared : 0,
        libraryScore: shared > 4 ? 1 : 0,
        librarySize: shared > 4 ? shared : 0,
        libraryAccounts: shared > 4 ? 3 : 0,
      },
      cluster: {
        cluster: {
          clusterId: 'c1',
          accountIds: ['a', 'b', 'c'],
          evidence: { edges: 3, families: {}, meanPhi: 0, sharedAttributes: [], signupSpreadMs: null, exclusiveTemplates: shared },
        },
        intentShare: null,
        cotPerAccountDay: 0,
        usageEvents: 0,
        meanOutput: null,
        pivot: undefined,
        fleet: null,
      },
    });
    const f = features(300, 6, (k) => ({ ip: `${40 + (k % 200)}.${k % 97}.${(k * 7) % 251}.3`, ua: 'sdk/1.0' }));
    const app = { ...f, usageEvents: 300, templateDiversity: 4 / 300 };
    const siblings = member(3);
    expect(decide(accountSignals(app, siblings.link, siblings.cluster, undefined, BASE, cfg), app.requests, cfg).decision).not.toBe('suspend');
    // the same accounts drawing from a shared library of dozens of templates are a campaign's: suspend
    const campaign = member(40);
    expect(decide(accountSignals(app, campaign.link, campaign.cluster, undefined, BASE, cfg), app.requests, cfg).decision).toBe('suspend');
  });

  test("where the population sends usage events, rotation waits for the account's own usage to show what it sends", () => {
    const TOKENS = { medianOutput: 400, outputUnit: 'tokens' as const };
    const f = features(20, 2, (k) => ({ ip: `${40 + (k % 200)}.${k % 97}.${(k * 7) % 251}.3`, ua: 'sdk/1.0' }));
    expect(rotation(f, cfg).strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
    const early = { ...f, usageEvents: 3, templateDiversity: 1 };
    const d = accountSignals(early, undefined, undefined, undefined, TOKENS, cfg).find((x) => x.signal === 'client-rotation')!;
    expect(d.strength).toBeLessThan(cfg.decisions.strongSignal);
    expect(d.text).toMatch(/until its usage events show/);
    // without usage events anywhere (access logs only), the early rule acts at once
    expect(decide(accountSignals(early, undefined, undefined, undefined, BASE, cfg), early.requests, cfg).decision).toBe('review');
    // an account with many requests and no usage events of its own is judged without them
    const busy = features(300, 6, (k) => ({ ip: `${40 + (k % 200)}.${k % 97}.${(k * 7) % 251}.3`, ua: 'sdk/1.0' }));
    expect(decide(accountSignals(busy, undefined, undefined, undefined, TOKENS, cfg), busy.requests, cfg).decision).toBe('review');
  });

  test('an account hopping across /24 subnets every few requests (rotating proxies) is flagged', () => {
    const f = features(300, 6, (k) => ({ ip: `${40 + (k % 200)}.${k % 97}.${(k * 7) % 251}.3`, ua: 'sdk/1.0' }));
    const rot = rotation(f, cfg);
    expect(rot.subnetsPerHour).toBeGreaterThan(cfg.thresholds.rotationSubnetsPerHourFull);
    expect(rot.ip).toBe(1);
    expect(accountSignals(f, undefined, undefined, undefined, BASE, cfg).find((x) => x.signal === 'client-rotation')!.text).toMatch(/subnets/);
  });

  test('hard negatives stay below: a relay with a few clients, a relay on a dozen servers, a VPN user, one SDK', () => {
    // A reseller relaying 7 client user agents over thousands of requests.
    const relay = features(5000, 2, (k) => ({ ip: `52.0.${k % 12}.1`, ua: uas[k % 7] }));
    expect(relay.distinctUserAgents).toBe(7);
    expect(relay.distinctSubnets).toBe(12);
    expect(rotation(relay, cfg).strength).toBe(0);
    // A VPN user switching exit node a few times a day.
    const vpn = features(200, 10, (k) => ({ ip: `77.${Math.floor(k / 20)}.1.1`, ua: 'browser' }));
    expect(rotation(vpn, cfg).strength).toBe(0);
    // A developer trying two SDKs.
    const dev = features(30, 1, (k) => ({ ip: '8.8.4.4', ua: k % 2 ? 'sdk-a' : 'sdk-b' }));
    expect(rotation(dev, cfg).strength).toBe(0);
  });

  test('a new network on every request, six of them within the first hours, is early rotation', () => {
    // Six requests over two hours, each from a different ISP: a proxy pool, seen before the tenth network.
    const burst = features(6, 2, (k) => ({ ip: `${30 + k * 17}.${k * 3}.9.1`, ua: 'sdk/1.0' }));
    expect(burst.distinctNetworks).toBe(cfg.thresholds.rotationBurstNetworks);
    expect(rotation(burst, cfg).ip).toBe(cfg.thresholds.rotationFastStrength);
  });

  test('a person changing network a few times a day is not burst rotation', () => {
    // Six networks over six active hours of one day: home, train, office, cafe, phone, hotel.
    const roamer = features(6, 6, (k) => ({ ip: `${30 + k * 17}.${k * 3}.9.1`, ua: 'browser' }));
    expect(roamer.distinctNetworks).toBe(6);
    expect(rotation(roamer, cfg).strength).toBe(0);
  });

  test('thresholds come from config, and the signal can run in shadow', () => {
    const f = features(40, 1, (k) => ({ ip: '9.9.9.9', ua: uas[k % 8] }));
    expect(rotation(f, cfg).ua).toBeGreaterThan(0);
    const strict = resolveDetectionConfig({ thresholds: { rotationMinUserAgents: 12 } });
    expect(rotation(f, strict).strength).toBe(0);
    const shadow = resolveDetectionConfig({ shadow: { 'client-rotation': true } });
    const details = accountSignals(f, undefined, undefined, undefined, BASE, shadow);
    expect(details.find((x) => x.signal === 'client-rotation')!.shadow).toBe(true);
    expect(['allow', 'monitor']).toContain(decide(details, f.requests, shadow).decision);
  });
});

describe("a cluster's CoT share and a member's own prompts", () => {
  const link = timingLink(0.8);
  const cluster: ClusterContext = {
    cluster: {
      clusterId: 'c1',
      accountIds: ['a', 'b', 'c'],
      evidence: { edges: 3, families: {}, meanPhi: 0.8, sharedAttributes: [], signupSpreadMs: null, exclusiveTemplates: 0 },
    },
    intentShare: 0.7,
    cotPerAccountDay: 500,
    usageEvents: 5000,
    meanOutput: null,
    pivot: undefined,
    fleet: null,
  };
  const cot = (usageEvents: number, intentShare: number | null) => {
    const f = { ...features(200, 24, () => ({ ip: '9.9.9.9', ua: 'sdk' })), usageEvents, intentShare };
    return accountSignals(f, link, cluster, undefined, BASE, cfg).find((x) => x.signal === 'cot-elicitation');
  };

  test("a member with too few prompts of its own to judge carries the cluster's share", () => {
    expect(cot(5, 0)!.text).toMatch(/its cluster's/);
    expect(cot(5, 0)!.strength).toBeGreaterThanOrEqual(cfg.decisions.strongSignal);
  });

  test('a member whose own prompts are plainly ordinary does not (a colleague of taken-over accounts)', () => {
    expect(cot(400, 0.05)?.strength ?? 0).toBe(0);
    // a member asking for reasoning itself, if less than the cluster, still carries the cluster's share
    expect(cot(400, 0.3)!.text).toMatch(/its cluster's/);
  });
});
