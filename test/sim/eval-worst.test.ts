import { DEFAULT_DETECTION_CONFIG, SIGNALS } from '../../src/detect/config';
import type { ReplayReport } from '../../src/shared/contract';
import { computeMetrics, emptyScan, addRecord } from '../../sim/eval';
import {
  ForeignScore,
  WorldScore,
  checkTargets,
  failedWorld,
  Group,
  kindFrom,
  kindsOverRate,
  mergeReasons,
  organicReasons,
  reasonCombo,
  signalCounts,
  signalWorst,
  STRONG_SIGNAL,
  strongSignalsOf,
  worseKind,
  renderReasons,
  renderSignals,
  renderTargets,
  renderWorlds,
  renderWorst,
  worldFromForeign,
  worldFromMetrics,
  worstCase,
} from '../../sim/eval-worst';
import type { Labels } from '../../sim/types';

const H = 3_600_000;

/** A hand-made world; organic kinds and campaign names are arbitrary strings on purpose. */
function world(p: Partial<WorldScore> & Pick<WorldScore, 'seed' | 'variant'>): WorldScore {
  return {
    mode: 'logs+usage',
    lines: 1000,
    replaySeconds: 1,
    campaigns: { alpha: { n: 10, review: 10, suspend: 10, latencyMedianMs: 0.5 * H } },
    organic: { quiet: { n: 100, review: 0, suspend: 0 } },
    recall: { n: 10, review: 10, suspend: 10 },
    fp: { n: 100, review: 0, suspend: 0 },
    latencyMedianMs: 0.5 * H,
    latencyP90Ms: H,
    pivotLatencyMedianMs: null,
    mixedClusters: 0,
    clusters: 2,
    reasons: {},
    signals: { organic: {}, campaigns: {} },
    ...p,
  };
}

const good1 = world({ seed: '101', variant: 'base' });
const good2 = world({ seed: '102', variant: 'base' });
// one bad world: a kind with 25 accounts at 8% review+, one suspension, a missed campaign account, slow
const bad = world({
  seed: '103',
  variant: 'evasive',
  campaigns: {
    alpha: { n: 10, review: 9, suspend: 8, latencyMedianMs: 3 * H },
    'brand-new-campaign': { n: 4, review: 4, suspend: 4, latencyMedianMs: 0.2 * H },
  },
  organic: { quiet: { n: 100, review: 0, suspend: 0 }, 'team-with-nat': { n: 25, review: 2, suspend: 1 } },
  recall: { n: 14, review: 13, suspend: 12 },
  fp: { n: 125, review: 2, suspend: 1 },
  latencyMedianMs: 2.5 * H,
  pivotLatencyMedianMs: 7 * H,
  mixedClusters: 1,
  clusters: 5,
});

describe('worstCase', () => {
  test('per organic kind: the max over worlds, with the world it happened in', () => {
    const w = worstCase([good1, bad, good2]);
    expect(w.organic.map((o) => o.kind)).toEqual(['quiet', 'team-with-nat']);
    const nat = w.organic[1];
    expect(nat).toMatchObject({ worlds: 1, accountsMin: 25, accountsMax: 25 });
    expect(nat.maxReviewRate).toMatchObject({ value: 2 / 25, world: 'evasive s103', count: 2, n: 25 });
    expect(nat.maxSuspend).toMatchObject({ value: 1, world: 'evasive s103' });
    expect(w.organic[0]).toMatchObject({ worlds: 3, accountsMin: 100, accountsMax: 100 });
  });

  test('per campaign: the min recall and the worst median latency; unknown names are kept', () => {
    const w = worstCase([good1, bad, good2]);
    const alpha = w.campaigns.find((c) => c.name === 'alpha')!;
    expect(alpha.minReview).toMatchObject({ value: 0.9, world: 'evasive s103' });
    expect(alpha.minSuspend).toMatchObject({ value: 0.8, world: 'evasive s103' });
    expect(alpha.maxLatencyMedian).toMatchObject({ value: 3 * H, world: 'evasive s103' });
    expect(w.campaigns.find((c) => c.name === 'brand-new-campaign')!.worlds).toBe(1);
  });

  test('overall: worst of every figure; ties keep the first world', () => {
    const o = worstCase([good1, bad, good2]).overall;
    expect(o.minRecallReview).toMatchObject({ value: 13 / 14, world: 'evasive s103' });
    expect(o.maxOrganicSuspended).toMatchObject({ value: 1, world: 'evasive s103' });
    expect(o.maxMixedClusters).toMatchObject({ value: 1, world: 'evasive s103' });
    expect(o.maxPivotLatency).toMatchObject({ value: 7 * H });
    const tie = worstCase([good1, good2]).overall;
    expect(tie.maxOrganicReviewRate).toMatchObject({ value: 0, world: 'base s101' });
    expect(tie.maxPivotLatency).toBeNull();
  });

  test('failed worlds are counted, not aggregated', () => {
    const f = failedWorld({ seed: '9', variant: 'base', mode: 'logs+usage', lines: 5, replaySeconds: 1 }, 'replay exited 1');
    const w = worstCase([good1, f]);
    expect(w.overall).toMatchObject({ worlds: 2, failed: 1 });
    expect(w.overall.minRecallReview!.value).toBe(1);
  });
});

describe('checkTargets on the worst world', () => {
  const byName = (checks: ReturnType<typeof checkTargets>, s: string) => {
    const c = checks.find((x) => x.target.startsWith(s));
    if (!c) throw new Error(`no target ${s}: ${checks.map((x) => x.target).join(' | ')}`);
    return c;
  };

  test('good worlds pass; targets without a world of that kind are n/a', () => {
    const checks = checkTargets([good1, good2, { ...good1, mode: 'logs only' }, { ...good2, mode: 'logs only' }]);
    const failed = checks.filter((c) => c.pass === false);
    expect(failed).toEqual([]);
    expect(byName(checks, 'median latency first campaign request -> flag <= 2.0h (evasive)').pass).toBeNull();
    expect(byName(checks, 'adaptive campaigns').pass).toBeNull();
    expect(byName(checks, 'model pivot').pass).toBeNull();
    expect(byName(checks, 'replay of 1M lines').pass).toBeNull(); // files too small to time
  });

  test('one bad world fails the targets it misses, and names itself', () => {
    const checks = checkTargets([good1, bad, good2]);
    expect(byName(checks, 'campaign accounts at review+').pass).toBe(false);
    expect(byName(checks, 'campaign accounts at review+').value).toContain('evasive s103');
    expect(byName(checks, 'campaign accounts at suspend').pass).toBe(false); // 12/14 < 90%
    expect(byName(checks, 'organic accounts auto-suspended').pass).toBe(false);
    expect(byName(checks, 'organic accounts at review+').pass).toBe(false); // 2/125 = 1.6%
    expect(byName(checks, 'no organic kind').value).toContain('team-with-nat 2/25');
    expect(byName(checks, 'median latency first campaign request -> flag <= 1.0h (base)').pass).toBe(true);
    expect(byName(checks, 'median latency first campaign request -> flag <= 2.0h (evasive)').pass).toBe(false);
    expect(byName(checks, 'model pivot').pass).toBe(false);
    expect(byName(checks, 'no cluster mixes').pass).toBe(false);
  });

  test('adaptive worlds are held to their own recall target, not the base one', () => {
    const adaptive = world({ seed: '101', variant: 'adaptive', recall: { n: 100, review: 92, suspend: 50 } });
    const checks = checkTargets([good1, adaptive]);
    expect(byName(checks, 'campaign accounts at review+').pass).toBe(true);
    expect(byName(checks, 'campaign accounts at suspend').pass).toBe(true);
    expect(byName(checks, 'adaptive campaigns').pass).toBe(true);
    expect(byName(checks, 'adaptive campaigns').value).toContain('92.0%');
    const worse = checkTargets([good1, { ...adaptive, recall: { n: 100, review: 80, suspend: 50 } }]);
    expect(byName(worse, 'adaptive campaigns').pass).toBe(false);
  });

  test('logs only has its own recall bound and the same false-positive bounds', () => {
    const lo = { ...bad, mode: 'logs only' as const, recall: { n: 100, review: 96, suspend: 10 } };
    const checks = checkTargets([good1, lo]);
    expect(byName(checks, 'campaign accounts at review+').pass).toBe(true); // only logs+usage worlds count
    expect(byName(checks, 'logs only: campaign accounts at review+').pass).toBe(true);
    expect(byName(checks, 'logs only: organic accounts auto-suspended').pass).toBe(false);
    expect(byName(checks, 'logs only: no organic kind').pass).toBe(false);
  });

  test('replay speed is judged on files of at least 500k lines; a failed replay fails', () => {
    const slow = { ...good1, lines: 1_000_000, replaySeconds: 150 };
    expect(byName(checkTargets([slow]), 'replay of 1M lines').pass).toBe(false);
    expect(byName(checkTargets([{ ...slow, replaySeconds: 60 }]), 'replay of 1M lines').pass).toBe(true);
    const f = failedWorld({ seed: '9', variant: 'base', mode: 'logs only', lines: 5, replaySeconds: 1 }, 'boom');
    const c = byName(checkTargets([good1, f]), 'every replay produced a report');
    expect(c.pass).toBe(false);
    expect(c.value).toContain('boom');
  });

  test('kindsOverRate ignores small kinds', () => {
    const small = world({ seed: '1', variant: 'base', organic: { tiny: { n: 19, review: 19, suspend: 0 } } });
    expect(kindsOverRate([small])).toEqual([]);
    expect(kindsOverRate([bad])).toEqual([{ kind: 'team-with-nat', world: 'evasive s103', n: 25, review: 2, worlds: 1 }]);
    const worse = { ...bad, seed: '104', organic: { 'team-with-nat': { n: 30, review: 6, suspend: 0 } } };
    expect(kindsOverRate([bad, worse, good1])).toEqual([{ kind: 'team-with-nat', world: 'evasive s104', n: 30, review: 6, worlds: 2 }]);
  });
});

describe('reason breakdown', () => {
  const report: Pick<ReplayReport, 'accounts'> = {
    accounts: [
      { accountId: 'o1', decision: 'review', score: 0.7, reasons: ['shared-templates', 'round-the-clock'], clusterId: null, firstFlaggedAt: 1 },
      { accountId: 'o2', decision: 'suspend', score: 0.9, reasons: ['round-the-clock', 'shared-templates'], clusterId: null, firstFlaggedAt: 1 },
      { accountId: 'o3', decision: 'review', score: 0.7, reasons: [], clusterId: null, firstFlaggedAt: 1 },
      { accountId: 'o4', decision: 'monitor', score: 0.4, reasons: ['x'], clusterId: null, firstFlaggedAt: null },
      { accountId: 'c1', decision: 'suspend', score: 1, reasons: ['x'], clusterId: null, firstFlaggedAt: 1 },
    ],
  };
  const kind: Record<string, string> = { o1: 'dev-team', o2: 'dev-team', o3: 'casual', o4: 'casual' };

  test('counts flagged organic accounts per kind and order-independent reason combination', () => {
    const rc = organicReasons(report, (id) => kind[id] ?? null, 'base s1');
    expect(rc).toEqual({
      'dev-team': { 'round-the-clock + shared-templates': { review: 1, suspend: 1, worlds: ['base s1'] } },
      casual: { '(no reason given)': { review: 1, suspend: 0, worlds: ['base s1'] } },
    });
    expect(reasonCombo(['b', 'a', 'b'])).toBe('a + b');
  });

  test('merges over worlds and renders the most common combinations first', () => {
    const a = organicReasons(report, (id) => kind[id] ?? null, 'base s1');
    const b = organicReasons(report, (id) => kind[id] ?? null, 'evasive s2');
    const m = mergeReasons([a, b]);
    expect(m['dev-team']['round-the-clock + shared-templates']).toEqual({ review: 2, suspend: 2, worlds: ['base s1', 'evasive s2'] });
    const md = renderReasons(m);
    const lines = md.split('\n');
    expect(lines[2]).toBe('| dev-team (4) | round-the-clock + shared-templates | 2 | 2 | base s1, evasive s2 |');
    expect(lines[3]).toContain('| casual (2) | (no reason given) | 2 | 0 |');
    expect(renderReasons({})).toContain('no organic account was flagged');
  });

  test('only the top combinations per kind are listed; the rest are summed', () => {
    const many: Pick<ReplayReport, 'accounts'> = {
      accounts: ['a', 'b', 'c'].map((r, i) => ({
        accountId: `o${i}`,
        decision: 'review' as const,
        score: 0.7,
        reasons: [r],
        clusterId: null,
        firstFlaggedAt: 1,
      })),
    };
    const md = renderReasons(
      organicReasons(many, () => 'k', 'w'),
      2,
    );
    expect(md).toContain('(1 other combinations) | 1 | 0');
  });
});

describe('world scores from the two scorers', () => {
  test('from computeMetrics (project simulator labels)', () => {
    const labels: Labels = {
      c1: { kind: 'campaign', type: 'cot_harvest', campaign: 'cot_harvest' },
      o1: { kind: 'organic', type: 'hobbyist' },
    };
    const scan = emptyScan();
    addRecord(scan, 'c1', 0, '/prod/v1/models/m/messages');
    addRecord(scan, 'o1', 0, '/prod/v1/models/m/messages');
    const report: ReplayReport = {
      accounts: [{ accountId: 'c1', decision: 'suspend', score: 1, reasons: ['r'], clusterId: null, firstFlaggedAt: H }],
      clusters: [],
    };
    const w = worldFromMetrics(computeMetrics(labels, report, scan, null), {
      seed: '1',
      variant: 'base',
      mode: 'logs+usage',
      lines: 2,
      replaySeconds: 3,
    });
    expect(w.campaigns).toEqual({ cot_harvest: { n: 1, review: 1, suspend: 1, latencyMedianMs: H } });
    expect(w.organic).toEqual({ hobbyist: { n: 1, review: 0, suspend: 0 } });
    expect(w.recall).toEqual({ n: 1, review: 1, suspend: 1 });
    expect(w.latencyMedianMs).toBe(H);
    expect(w.pivotLatencyMedianMs).toBeNull();
  });

  test('from the foreign score.mjs line, taken as it is', () => {
    const s: ForeignScore = {
      latencyMedianH: 0.5,
      latencyP90H: 5,
      pivotLatencyMedianH: -94.75,
      mixedClusters: 4,
      clusters: 24,
      campaigns: { 'cot-harvest': { accounts: 1, review: 0, suspend: 0 }, 'model-pivot': { accounts: 45, review: 45, suspend: 39 } },
      organic: { casual: { accounts: 150, review: 52, suspend: 0 }, 'org-team': { accounts: 5, review: 5, suspend: 5 } },
    };
    const w = worldFromForeign(s, { seed: '201', variant: 'base', mode: 'logs only', lines: 10, replaySeconds: 2 });
    expect(w.recall).toEqual({ n: 46, review: 45, suspend: 39 });
    expect(w.fp).toEqual({ n: 155, review: 57, suspend: 5 });
    expect(w.latencyMedianMs).toBe(0.5 * H);
    expect(w.pivotLatencyMedianMs).toBe(-94.75 * H);
    expect(w.campaigns['cot-harvest'].latencyMedianMs).toBeUndefined();
    const worst = worstCase([w]);
    expect(worst.campaigns[0].maxLatencyMedian).toBeNull();
  });
});

describe('rendering', () => {
  const cols = (l: string): number => l.split('|').length;

  test('worst-world tables: one row per kind and campaign, the bad world named, columns aligned', () => {
    const md = renderWorst([good1, bad, good2]);
    expect(md).toContain('| team-with-nat | 25 | **8.0% (2/25)** | evasive s103 | **1/25** | evasive s103 |');
    expect(md).toContain('| quiet | 100 | 0.0% (0/100) |  | 0 |  |');
    expect(md).toContain('| alpha | 10 | 90.0% (9/10) | evasive s103 | 80.0% (8/10) | evasive s103 | 3.0h | evasive s103 |');
    expect(md).toContain('| brand-new-campaign | 4 | 100.0% (4/4) |  |');
    expect(md).toContain('| organic suspended (max) | 1 of 125 | evasive s103 |');
    for (const block of md.split('\n\n')) {
      const lines = block.split('\n');
      for (const l of lines) expect(cols(l)).toBe(cols(lines[0]));
    }
  });

  test('targets and per-world tables', () => {
    const t = renderTargets(checkTargets([good1, bad]));
    expect(t.split('\n')[0]).toBe('| target | worst world | result |');
    expect(t).toContain('**FAIL**');
    expect(t).toContain('PASS');
    expect(t).toContain('| n/a |');
    const f = failedWorld({ seed: '9', variant: 'base', mode: 'logs only', lines: 5, replaySeconds: 1 }, 'boom');
    const wt = renderWorlds([good1, f]).split('\n');
    expect(wt).toHaveLength(4);
    expect(wt[2]).toContain('| base s101 | logs+usage | 1,000 | 100.0% / 100.0% (n=10) | 0 / 0 of 100 (0.0%) | 30m / 1.0h | n/a | 0 / 2 | 1.0s |');
    expect(wt[3]).toContain('**failed**: boom');
    for (const l of wt) expect(cols(l)).toBe(cols(wt[0]));
  });
});

describe('per-signal false positives', () => {
  const d = (signal: string, strength: number, shadow = false) => ({ signal, family: 'content', strength, value: 1, baseline: 0, text: '', shadow });
  const acc = (accountId: string, details: unknown[]) => ({
    accountId,
    decision: 'monitor' as const,
    score: 0.4,
    reasons: [],
    clusterId: null,
    firstFlaggedAt: null,
    reasonDetails: details,
  });
  const groups: Record<string, Group> = {
    o1: { side: 'organic', name: 'dev-team' },
    o2: { side: 'organic', name: 'dev-team' },
    o3: { side: 'organic', name: 'casual' },
    c1: { side: 'campaign', name: 'cot' },
    c2: { side: 'campaign', name: 'cot' },
  };
  const report: Pick<ReplayReport, 'accounts'> = {
    accounts: [
      acc('o1', [d('round-the-clock', 0.6), d('round-the-clock', 0.9), d('shared-templates', 0.59)]),
      acc('o3', [d('shared-templates', 0.8, true)]),
      acc('c1', [d('cot-elicitation', 1), d('round-the-clock', 0.7)]),
      acc('c2', [d('cot-elicitation', 0.9)]),
      acc('stranger', [d('cot-elicitation', 1)]),
    ],
  };
  const ids = [...Object.keys(groups), 'silent'];
  const groupOf = (id: string) => groups[id] ?? null;

  test("the strong threshold is the detector's own", () => {
    expect(STRONG_SIGNAL).toBe(DEFAULT_DETECTION_CONFIG.decisions.strongSignal);
  });

  test('strong signals of one account: at or above the threshold, each once, shadow included; malformed details ignored', () => {
    expect(strongSignalsOf(report.accounts[0])).toEqual(['round-the-clock']);
    expect(strongSignalsOf(report.accounts[1])).toEqual(['shared-templates']);
    expect(strongSignalsOf({ reasonDetails: [null, { signal: 'x' }, { strength: 1 }] })).toEqual([]);
    expect(strongSignalsOf({})).toEqual([]);
  });

  test('counts per organic kind and per campaign; accounts absent from the report count in the denominator only', () => {
    expect(signalCounts(report, ids, groupOf)).toEqual({
      organic: { 'dev-team': { n: 2, strong: { 'round-the-clock': 1 } }, casual: { n: 1, strong: { 'shared-templates': 1 } } },
      campaigns: { cot: { n: 2, strong: { 'cot-elicitation': 2, 'round-the-clock': 1 } } },
    });
    expect(kindFrom(groupOf)('o1')).toBe('dev-team');
    expect(kindFrom(groupOf)('c1')).toBeNull();
    expect(kindFrom(groupOf)('silent')).toBeNull();
  });

  const sw = (seed: string, organic: Record<string, [number, number]>, campaigns: Record<string, [number, number]>, sig = 'round-the-clock') => {
    const g = (x: Record<string, [number, number]>) =>
      Object.fromEntries(Object.entries(x).map(([k, [count, n]]) => [k, { n, strong: count ? { [sig]: count } : {} }]));
    return world({ seed, variant: 'base', signals: { organic: g(organic), campaigns: g(campaigns) } });
  };

  test('worst world over all organic accounts, lowest campaign share, best-covered campaign', () => {
    const w1 = sw('1', { big: [2, 100], tiny: [0, 2] }, { a: [10, 10], b: [1, 10] });
    const w2 = sw('2', { big: [5, 100], tiny: [1, 2] }, { a: [9, 10], b: [10, 10] });
    const w = signalWorst([w1, w2], 'round-the-clock');
    expect(w.organic).toMatchObject({ value: 6 / 102, world: 'base s2', count: 6, n: 102 });
    expect(w.campaigns).toMatchObject({ value: 11 / 20, world: 'base s1' });
    expect(w.bestCampaign).toMatchObject({ name: 'a', value: 0.9, world: 'base s2' });
    // a kind of at least kindMinAccounts accounts wins over a higher share in a tiny kind
    expect(w.kind).toMatchObject({ name: 'big', value: 0.05, world: 'base s2' });
    const none = signalWorst([w1, w2], 'model-pivot');
    expect(none.organic).toMatchObject({ value: 0, world: 'base s1' });
    expect(none.kind).toMatchObject({ value: 0 });
    expect(none.bestCampaign).toMatchObject({ name: 'a', value: 0 });
  });

  test('worseKind: any hit beats none, then kinds large enough, then the share', () => {
    const k = (count: number, n: number) => ({ name: 'k', world: 'w', value: count / n, count, n });
    expect(worseKind(k(1, 2), k(0, 100))).toBe(true);
    expect(worseKind(k(1, 2), k(1, 100))).toBe(false);
    expect(worseKind(k(5, 100), k(1, 100))).toBe(true);
    expect(worseKind(k(1, 100), k(1, 100))).toBe(false); // ties keep the first
    expect(worseKind(k(0, 1), null)).toBe(true);
  });

  test('failed worlds and worlds without a side are skipped', () => {
    const f = failedWorld({ seed: '9', variant: 'base', mode: 'logs+usage', lines: 5, replaySeconds: 1 }, 'boom');
    const onlyOrganic = sw('3', { big: [1, 50] }, {});
    const w = signalWorst([f, onlyOrganic], 'round-the-clock');
    expect(w.organic).toMatchObject({ world: 'base s3' });
    expect(w.campaigns).toBeNull();
    expect(w.bestCampaign).toBeNull();
  });

  test('renders one row per known signal, worst organic share first, over-budget shares in bold', () => {
    const w1 = sw('1', { big: [3, 50], tiny: [0, 2] }, { a: [10, 10] });
    const md = renderSignals([w1, sw('2', { big: [0, 50] }, { a: [8, 10] }, 'cot-elicitation')]);
    const lines = md.split('\n');
    expect(lines[0]).toBe(
      '| signal | organic accounts with it strong (worst world) | worst organic kind | campaign accounts with it strong (min over worlds) | best-covered campaign (min over worlds) |',
    );
    expect(lines[2]).toBe('| round-the-clock | **5.8% (3/52, base s1)** | **big 6.0% (3/50, base s1)** | 0.0% (0/10, base s2) | none |');
    expect(md).toContain('| cot-elicitation | 0.0% (0/52) | none | 0.0% (0/10, base s1) | none |');
    expect(lines).toHaveLength(2 + SIGNALS.length);
    for (const l of lines) expect(l.split('|').length).toBe(lines[0].split('|').length);
    const f = failedWorld({ seed: '9', variant: 'base', mode: 'logs+usage', lines: 5, replaySeconds: 1 }, 'boom');
    expect(renderSignals([f])).toContain('no replayed world');
  });
});
