import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { ReplayReport } from '../../src/shared/contract';
import { addRecord, computeMetrics, emptyScan, inferNewModel, scanLogs, volumeBaseline } from '../../sim/eval';
import type { Labels } from '../../sim/types';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 2);

// a hand-made world: 4 campaign accounts (2 cot, 2 pivot), 6 organic (3 hobbyist, 2 batch, 1 eval harness)
const labels: Labels = {
  c1: { kind: 'campaign', type: 'cot_harvest', campaign: 'cot_harvest' },
  c2: { kind: 'campaign', type: 'cot_harvest', campaign: 'cot_harvest' },
  p1: { kind: 'campaign', type: 'model_pivot', campaign: 'model_pivot' },
  p2: { kind: 'campaign', type: 'model_pivot', campaign: 'model_pivot' },
  h1: { kind: 'organic', type: 'hobbyist' },
  h2: { kind: 'organic', type: 'hobbyist' },
  h3: { kind: 'organic', type: 'hobbyist' },
  b1: { kind: 'organic', type: 'enterprise_batch' },
  b2: { kind: 'organic', type: 'enterprise_batch' },
  e1: { kind: 'organic', type: 'eval_harness' },
  ghost: { kind: 'organic', type: 'hobbyist' }, // never sends traffic: not counted
};

function scanOf(): ReturnType<typeof emptyScan> {
  const scan = emptyScan();
  const model = (m: string): string => `/prod/v1/models/${m}/messages`;
  for (const id of ['c1', 'c2', 'p1', 'p2', 'h1', 'h2', 'h3']) addRecord(scan, id, T0 + H, model('claude-opus-5'));
  // batch accounts: 3000 requests in a day; eval harness: 2500 in 10 hours
  for (const id of ['b1', 'b2']) for (let i = 0; i < 3000; i++) addRecord(scan, id, T0 + i * 28_000, model('claude-haiku-5'));
  for (let i = 0; i < 2500; i++) addRecord(scan, 'e1', T0 + i * 14_000, model('claude-opus-5'));
  addRecord(scan, 'p1', T0 + 50 * H, model('claude-opus-6')); // the new model's first appearance
  return scan;
}

const report: ReplayReport = {
  accounts: [
    { accountId: 'c1', decision: 'suspend', score: 0.97, reasons: ['synchronized-activity'], clusterId: 'k1', firstFlaggedAt: T0 + 1.5 * H },
    { accountId: 'c2', decision: 'review', score: 0.8, reasons: ['shared-templates'], clusterId: 'k1', firstFlaggedAt: T0 + 3 * H },
    { accountId: 'p1', decision: 'suspend', score: 0.95, reasons: ['model-pivot'], clusterId: 'k2', firstFlaggedAt: T0 + 53 * H },
    { accountId: 'p2', decision: 'monitor', score: 0.4, reasons: [], clusterId: 'k2', firstFlaggedAt: null },
    { accountId: 'h1', decision: 'review', score: 0.7, reasons: ['x'], clusterId: 'k2', firstFlaggedAt: T0 + 10 * H },
    { accountId: 'h2', decision: 'allow', score: 0, reasons: [], clusterId: null, firstFlaggedAt: null },
  ],
  clusters: [
    { clusterId: 'k1', accountIds: ['c1', 'c2'], reasons: ['synchronized-activity'] },
    { clusterId: 'k2', accountIds: ['p1', 'p2', 'h1'], reasons: ['model-pivot'] },
  ],
};

describe('computeMetrics on a hand-made report', () => {
  const m = computeMetrics(labels, report, scanOf(), 'claude-opus-6');

  test('recall per campaign and overall, at review and suspend level', () => {
    expect(m.recall.cot_harvest).toEqual({ n: 2, review: 2, suspend: 1 });
    expect(m.recall.model_pivot).toEqual({ n: 2, review: 1, suspend: 1 });
    expect(m.recall.all).toEqual({ n: 4, review: 3, suspend: 2 });
  });

  test('false positives per organic type; silent accounts are not counted', () => {
    expect(m.fp.hobbyist).toEqual({ n: 3, review: 1, suspend: 0 });
    expect(m.fp.enterprise_batch).toEqual({ n: 2, review: 0, suspend: 0 });
    expect(m.fp.all).toEqual({ n: 6, review: 1, suspend: 0 });
  });

  test('latency from the first request, and pivot latency from the new model', () => {
    expect(m.latency.cot_harvest.median).toBe(1.25 * H); // 0.5 h and 2 h
    expect(m.latency.all.n).toBe(3);
    expect(m.pivot.firstSeen).toBe(T0 + 50 * H);
    expect(m.pivot.median).toBe(3 * H);
    expect(m.pivot.flaggedBefore).toBe(0);
  });

  test('cluster purity and mixed clusters', () => {
    expect(m.clusters.count).toBe(2);
    expect(m.clusters.mixed).toBe(1);
    expect(m.clusters.purity).toBeCloseTo(4 / 5);
    expect(m.clusters.organicInClusters).toBe(1);
  });

  test('a perfect report: full recall, pivot flagged before the release, a cross-campaign cluster', () => {
    const perfect: ReplayReport = {
      accounts: ['c1', 'c2', 'p1', 'p2'].map((id) => ({
        accountId: id,
        decision: 'suspend' as const,
        score: 1,
        reasons: ['r'],
        clusterId: 'k',
        firstFlaggedAt: T0 + 1.2 * H,
      })),
      clusters: [{ clusterId: 'k', accountIds: ['c1', 'c2', 'p1', 'p2'], reasons: ['r'] }],
    };
    const pm = computeMetrics(labels, perfect, scanOf(), 'claude-opus-6');
    expect(pm.recall.all).toEqual({ n: 4, review: 4, suspend: 4 });
    expect(pm.fp.all.review).toBe(0);
    expect(pm.pivot.flaggedBefore).toBe(2);
    expect(pm.clusters.crossCampaign).toBe(1);
    expect(pm.clusters.mixed).toBe(0);
  });
});

describe('inferNewModel', () => {
  test('the model that first appeared mid-run, or null when every model was there from the start', () => {
    expect(inferNewModel(scanOf())).toBe('claude-opus-6');
    const flat = emptyScan();
    addRecord(flat, 'a', T0, '/prod/v1/models/m1/messages');
    addRecord(flat, 'a', T0 + H, '/prod/v1/models/m2/messages');
    expect(inferNewModel(flat)).toBeNull();
  });
});

describe('volume baseline', () => {
  test('flags accounts above the limit in a rolling 24 h, at the request that crossed it', () => {
    const scan = scanOf();
    const vol = volumeBaseline(scan, 2000);
    const ids = vol.accounts.map((a) => a.accountId).sort();
    expect(ids).toEqual(['b1', 'b2', 'e1']);
    expect(vol.accounts.find((a) => a.accountId === 'b1')!.firstFlaggedAt).toBe(T0 + 2000 * 28_000);
    const m = computeMetrics(labels, vol, scan, null);
    expect(m.recall.all.review).toBe(0);
    expect(m.fp.enterprise_batch.suspend).toBe(2);
    expect(m.fp.eval_harness.suspend).toBe(1);
  });
});

describe('scanLogs', () => {
  test('reads .jsonl.gz, skips malformed lines, finds first-seen times', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-eval-'));
    try {
      const rec = (id: string, t: number, model: string) =>
        JSON.stringify({ accountId: id, requestTimeEpoch: String(t), path: `/prod/v1/models/${model}/messages` });
      const text = [rec('a', T0 + 5, 'm1'), 'not json', rec('b', T0 + 7, 'm2'), rec('a', T0 + 9, 'm2'), ''].join('\n');
      const file = path.join(dir, 'logs.jsonl.gz');
      fs.writeFileSync(file, zlib.gzipSync(text));
      const scan = await scanLogs(file);
      expect(scan.lines).toBe(3);
      expect(scan.firstSeen.get('a')).toBe(T0 + 5);
      expect(scan.modelFirstSeen.get('m2')).toBe(T0 + 7);
      expect(scan.times.get('a')).toEqual([T0 + 5, T0 + 9]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
