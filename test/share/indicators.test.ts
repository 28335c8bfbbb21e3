/**
 * Sharing campaign indicators between providers: the export is valid STIX 2.1 (the published JSON schemas, and the
 * pattern grammar), carries nothing that identifies a customer, and a partner's import makes its detector flag the
 * same campaign earlier, without flagging its own customers on the partner's word alone.
 * Detection figures (how much earlier) are measured and printed, never asserted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle, exportFromReplay, parsePattern, readBundle, summariseCampaign } from '../../src/share';
import type { StixBundle } from '../../src/share';
import { replayFiles } from '../../src/replay/index';
import {
  DEFAULT_DETECTION_CONFIG,
  abusePoints,
  computeFeatures,
  emptyProfile,
  externalMatches,
  sharedValueHash,
  withExternal,
} from '../../src/detect/index';
import type { ExternalIndicatorSet } from '../../src/detect/index';
import type { ReasonDetail } from '../../src/detect/index';
import type { ReplayReport } from '../../src/shared/contract';
import { campaignAccounts, stixValidator as validator, twoProviders } from './support';
import type { World } from './support';

const KEY = { id: 'a-b-2026-12', secret: 'shared secret agreed out of band' };

describe('stix pattern grammar', () => {
  test.each([
    "[ipv4-addr:value ISSUBSET '45.1.2.0/24']",
    "[ipv4-addr:value = '1.2.3.4'] OR [x-distill-guard-usage:template_hmac IN ('ab', 'cd')]",
    "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'it\\'s']",
    '[x-a:b >= 0.5 AND x-a:c <= 2] WITHIN 600 SECONDS',
    "([file:name = 'a'] FOLLOWEDBY [file:name = 'b']) REPEATS 2 TIMES",
    "[file:created > t'2026-01-01T00:00:00Z']",
  ])('accepts %s', (p) => expect(() => parsePattern(p)).not.toThrow());
  test.each([
    '',
    "ipv4-addr:value = '1.2.3.4'",
    "[ipv4-addr:value = '1.2.3.4'",
    "[ipv4-addr:value == '1.2.3.4']",
    "[ipv4-addr:value = 'unterminated]",
    "[ipv4-addr:value = '1' AND file:name = 'x']",
    "[IPV4:value = '1']",
    '[x-a:b = 1] WITHIN SECONDS',
  ])('rejects %s', (p) => expect(() => parsePattern(p)).toThrow(/stix pattern/));
});

describe('the external-indicator signal on its own', () => {
  const cfg = DEFAULT_DETECTION_CONFIG;
  const ext = (shadow = false): ReasonDetail => ({
    signal: 'external-indicator',
    family: 'external',
    strength: 0.8,
    value: 3,
    baseline: 0,
    text: 'x',
    shadow,
  });
  test('raises to review at most, and earns no abuse point (so it can never suspend)', () => {
    expect(withExternal('allow', [ext()], 100, cfg)).toBe('review');
    expect(withExternal('monitor', [ext()], 100, cfg)).toBe('review');
    expect(withExternal('suspend', [ext()], 100, cfg)).toBe('suspend');
    expect(abusePoints([ext()], cfg).points).toBe(0);
  });
  test('in shadow it changes nothing; under global shadow monitor at most; below minRequests nothing', () => {
    expect(withExternal('allow', [ext(true)], 100, cfg)).toBe('allow');
    expect(withExternal('allow', [ext()], 100, { ...cfg, globalShadow: true })).toBe('monitor');
    expect(withExternal('allow', [ext()], 1, cfg)).toBe('allow');
  });
});

describe('matching a partner indicator', () => {
  const profile = emptyProfile('acct-1');
  profile.subnets.add('45.1.2.0/24');
  profile.templates.add('t-abc');
  profile.templates.add('t-def');
  profile.n = 50;
  profile.firstTs = 1000;
  profile.lastTs = 2000;
  const f = computeFeatures(profile, {}, 3000);
  const set = (validUntil: number | null, key = 'k'): ExternalIndicatorSet => ({
    key,
    indicators: [
      {
        partner: 'P',
        id: 'infrastructure--1',
        name: 'campaign',
        validFrom: 0,
        validUntil,
        subnets: ['45.1.2.0/24'],
        subnetHashes: [],
        userAgents: [],
        templateHashes: ['t-abc', 't-def'].map((t) => sharedValueHash('k', 'template', t)),
        behaviour: null,
      },
    ],
  });
  test('keyed template hashes and a plain /24 match while the indicator is valid', () => {
    const m = externalMatches(profile, f, set(10_000), 3000);
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ templates: 2, subnets: 1 });
    expect(m[0].strength).toBeGreaterThanOrEqual(DEFAULT_DETECTION_CONFIG.decisions.strongSignal);
  });
  test('an expired indicator matches nothing; another key matches no hash', () => {
    expect(externalMatches(profile, f, set(3000), 3000)).toEqual([]);
    const other = externalMatches(profile, f, set(null, 'another key'), 3000);
    expect(other[0]).toMatchObject({ templates: 0, subnets: 1 });
    expect(other[0].strength).toBeLessThan(DEFAULT_DETECTION_CONFIG.decisions.strongSignal);
  });
});

describe('campaign summary', () => {
  const member = (id: string, ua: string, subnet: string) => {
    const p = emptyProfile(id);
    p.apiKeys.add(`key-${id}`);
    p.userAgents.add(ua);
    p.subnets.add(subnet);
    p.subnets.add('45.1.2.0/24');
    p.templates.add('t-secret-template');
    p.firstTs = 1000;
    p.lastTs = 5000;
    p.n = 20;
    return p;
  };
  const members = [
    member('acct-aaaa', 'bot/1.0 (acct-aaaa)', '73.10.20.0/24'),
    member('acct-bbbb', 'client key-acct-bbbb', '73.10.21.0/24'),
    member('acct-cccc', 'python-httpx/0.27.2', '73.10.22.0/24'),
  ];
  const c = summariseCampaign('c-1', members, 'k');
  const text = JSON.stringify(buildBundle([c], { producer: 'P', keyId: 'kid', now: 10_000 }));
  test('drops user agents that carry an account id or API key; hashes single-member /24s and templates', () => {
    expect(c.userAgents).toEqual(['python-httpx/0.27.2']);
    expect(c.sharedSubnets).toEqual(['45.1.2.0/24']);
    expect(c.subnetHashes).toEqual(['73.10.20.0/24', '73.10.21.0/24', '73.10.22.0/24'].map((s) => sharedValueHash('k', 'subnet', s)).sort());
    for (const v of ['acct-aaaa', 'acct-bbbb', 'acct-cccc', 'key-acct', '73.10.2', 't-secret-template', 'c-1"']) expect(text).not.toContain(v);
  });
  test('a template another account used is not exported', () => {
    const other = emptyProfile('acct-dddd');
    other.templates.add('t-secret-template');
    expect(summariseCampaign('c-1', members, 'k', { others: [other] }).templateHashes).toEqual([]);
  });
});

describe('two providers share a campaign (simulator traffic, replay)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-share-'));
  let a: World;
  let b: World;
  let bundle: StixBundle;
  let text: string;
  let reportA: ReplayReport;
  let exportAt: number;

  beforeAll(async () => {
    const w = twoProviders(dir);
    ({ a, b } = w);
    exportAt = w.exportAt;
    const out = await exportFromReplay({ logs: a.logs, usage: a.usage, producer: 'Provider A', key: KEY, now: exportAt });
    bundle = out.bundle;
    reportA = out.report;
    text = JSON.stringify(bundle);
  }, 600_000);

  test('A exports its confirmed clusters as a STIX 2.1 bundle that validates against the published schemas', () => {
    const confirmed = reportA.clusters.filter((c) => c.clusterDecision === 'suspend');
    expect(confirmed.length).toBeGreaterThan(0);
    expect(bundle.type).toBe('bundle');
    expect(bundle.id).toMatch(/^bundle--[0-9a-f-]{36}$/);
    const validate = validator();
    const errors = bundle.objects.flatMap((o) => validate(o));
    expect(errors).toEqual([]);
    const types = new Set(bundle.objects.map((o) => o.type));
    for (const t of ['identity', 'indicator', 'infrastructure', 'relationship', 'marking-definition']) expect(types).toContain(t);
    for (const o of bundle.objects.filter((x) => x.type === 'indicator')) expect(() => parsePattern(String(o.pattern))).not.toThrow();
    const ids = new Set(bundle.objects.map((o) => o.id));
    for (const o of bundle.objects.filter((x) => x.type === 'relationship')) {
      expect(ids).toContain(o.source_ref);
      expect(ids).toContain(o.target_ref);
    }
    const hashed = bundle.objects.filter((o) => o.type === 'indicator' && /_hmac/.test(String(o.pattern)));
    expect(hashed.length).toBeGreaterThan(0);
    for (const o of hashed) expect(o.x_distill_guard_hash_key_id).toBe(KEY.id);
  });

  test('the bundle holds no account id, API key, source IP or template id of the input', () => {
    const leaks: string[] = [];
    for (const set of [a.accountIds, a.apiKeys, a.templates]) for (const v of set) if (v.length >= 4 && text.includes(v)) leaks.push(v);
    for (const ip of a.ips)
      if (text.includes(`'${ip}'`) || text.includes(`"${ip}"`) || new RegExp(`[^0-9.]${ip.replace(/\./g, '\\.')}[^0-9./]`).test(text)) leaks.push(ip);
    expect(leaks).toEqual([]);
  });

  test('B imports it: the campaign is flagged earlier, and no organic account is flagged on the indicator alone', async () => {
    const set = readBundle(JSON.parse(text), KEY);
    expect(set.indicators.length).toBeGreaterThan(0);
    const without = await replayFiles({ logs: b.logs, usage: b.usage });
    const withImport = await replayFiles({ logs: b.logs, usage: b.usage, external: set });
    const first = (r: ReplayReport) => new Map(r.accounts.map((x) => [x.accountId, x.firstFlaggedAt]));
    const f0 = first(without);
    const f1 = first(withImport);
    const campaign = campaignAccounts(b.labels);
    const gains: number[] = [];
    let newlyFlagged = 0;
    for (const id of campaign) {
      const t0 = f0.get(id) ?? null;
      const t1 = f1.get(id) ?? null;
      if (t1 !== null && t0 === null) newlyFlagged++;
      if (t1 !== null && t0 !== null) gains.push((t0 - t1) / 3_600_000);
    }
    gains.sort((x, y) => x - y);
    const med = gains.length ? gains[gains.length >> 1] : 0;
    const flaggedWith = campaign.filter((id) => f1.get(id) != null).length;
    const flaggedWithout = campaign.filter((id) => f0.get(id) != null).length;
    const organicByIndicatorAlone = withImport.accounts.filter(
      (x) => b.labels[x.accountId]?.kind === 'organic' && x.firstFlaggedAt !== null && f0.get(x.accountId) == null,
    );
    console.log(
      [
        `round trip (A seed 101 -> B seed 202, small, base): ${campaign.length} campaign accounts at B`,
        `flagged without the import: ${flaggedWithout}, with: ${flaggedWith} (${newlyFlagged} only with it)`,
        `earlier with the import, log time: median ${med.toFixed(2)} h, max ${(gains[gains.length - 1] ?? 0).toFixed(2)} h, over ${gains.length} accounts flagged in both runs`,
        `organic accounts at B flagged only with the import: ${organicByIndicatorAlone.length}`,
      ].join('\n'),
    );
    // Structural: the import makes detection earlier somewhere, later nowhere, and flags no customer by itself.
    expect(gains.some((g) => g > 0) || newlyFlagged > 0).toBe(true);
    expect(gains.every((g) => g >= 0)).toBe(true);
    expect(organicByIndicatorAlone.map((x) => x.accountId)).toEqual([]);
    const reasons = withImport.accounts.filter((x) => x.reasons.includes('external-indicator'));
    for (const x of reasons)
      expect((x.reasonDetails as ReasonDetail[]).find((r) => r.signal === 'external-indicator')!.text).toMatch(/shared by Provider A/);
  }, 600_000);

  test('expired indicators and a different key id match nothing / are refused', () => {
    const parsed = JSON.parse(text);
    expect(() => readBundle(parsed, { id: 'other-key', secret: 'x' })).toThrow(
      /hashed with key id "a-b-2026-12", the sharing key given is "other-key"/,
    );
    const set = readBundle(parsed, KEY);
    for (const i of set.indicators) expect(i.validUntil).toBe(exportAt + 30 * 86_400_000);
  });
});
