/**
 * The scorer handler's part of the switch (scorer-core is replaced by a spy): the sharded path's wiring from the
 * environment, the finishing event passed on as `finish`, the metrics every run publishes (population, path, time,
 * heap, peak RSS, memory and duration utilization of the function's limits), and the memory rule: an in-process
 * run that peaked above 60% of the function's memory sends the next run down the sharded path.
 */
import { emptyReadStats } from '../../lambdas/detect/window-reader';
import type { Context } from 'aws-lambda';
import * as core from '../../lambdas/detect/scorer-core';
import type { ScorerDeps, ScorerSummary } from '../../lambdas/detect/scorer-core';
import type { Metrics } from '@aws-lambda-powertools/metrics';

jest.mock('../../lambdas/detect/scorer-core', () => ({ ...jest.requireActual('../../lambdas/detect/scorer-core'), runScorer: jest.fn() }));
const runScorer = core.runScorer as jest.MockedFunction<typeof core.runScorer>;

const ENV = {
  FEATURES_TABLE: 'features',
  CONTROL_TABLE: 'control',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:escalation',
  LINKAGE_BUCKET: 'records',
  LINKAGE_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/k',
  LINKAGE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:linkage',
  SHARDED_LINKAGE_MIN_ACCOUNTS: '500',
  AWS_REGION: 'us-east-1',
};

function summary(path: ScorerSummary['path'], accounts = 42): ScorerSummary {
  const read = emptyReadStats();
  return {
    path,
    windows: 1,
    accounts,
    clusters: 0,
    decisions: {},
    scoresWritten: 0,
    casesStarted: 0,
    casesAlreadyOpen: 0,
    casesStartFailed: 0,
    startFailures: [],
    allowlisted: 0,
    shadow: { global: false, signals: [] },
    detectMs: 5,
    read,
    profilesRebuilt: 0,
    profilesReused: 0,
    timings: { readMs: 1, profileMs: 1, runDetectionMs: 1, writeMs: 1, totalMs: 1234 },
  };
}

/** A Lambda context with `memoryMb` of memory and `remainingMs` left. */
const context = (memoryMb: number, remainingMs: number) =>
  ({ memoryLimitInMB: String(memoryMb), getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

let handler: typeof import('../../lambdas/detect/scorer').handler;
let published: Array<{ name: string; value: number }>;
const saved = { ...process.env };

beforeEach(async () => {
  Object.assign(process.env, ENV);
  let metrics!: Metrics;
  jest.isolateModules(() => {
    // a fresh module scope (the memory rule's state) per test, and the Metrics instance that scope uses
    handler = jest.requireActual('../../lambdas/detect/scorer').handler;
    metrics = jest.requireActual('../../lambdas/shared/powertools').metrics;
  });
  published = [];
  jest.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
    published.push({ name, value });
    return metrics;
  });
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
  runScorer.mockReset();
});

afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...saved };
});

const depsOf = (call: number) => runScorer.mock.calls[call][0] as ScorerDeps;
const metric = (name: string) => published.filter((m) => m.name === name).map((m) => m.value);

test('wires the sharded path from the environment; the finishing event becomes `finish`', async () => {
  runScorer.mockResolvedValue(summary('single'));
  const plan = { prefix: 'runs/linkage-1/', accounts: 9, accountShards: 1, keyPartitions: 1, periodStart: 0, periodEnd: 1, bounds: [] };
  await handler({ time: '2026-12-06T13:40:00Z', sharded: { plan } }, context(10_000, 60_000));
  const deps = depsOf(0);
  expect(deps.finish).toEqual(plan);
  expect(deps.now).toBe(Date.parse('2026-12-06T13:40:00Z'));
  expect(deps.sharded).toMatchObject({ stateMachineArn: ENV.LINKAGE_STATE_MACHINE_ARN, minAccounts: 500, force: false });
});

test('every run publishes population, path, time, heap, peak RSS and utilization of the limits', async () => {
  runScorer.mockResolvedValue(summary('sharded', 777));
  const ctx = context(10_000, 60_000);
  await handler({}, ctx);
  expect(metric('ActiveAccounts')).toEqual([777]);
  expect(metric('LinkagePath')).toEqual([1]);
  expect(metric('TotalMs')).toEqual([1234]);
  expect(metric('HeapUsedMB')[0]).toBeGreaterThan(1);
  const rss = metric('RssMB')[0];
  expect(rss).toBeGreaterThanOrEqual(metric('HeapUsedMB')[0]);
  expect(metric('MemoryUtilizationPercent')[0]).toBeCloseTo((100 * rss) / 10_000, 5);
  // elapsed / (elapsed + remaining): a few ms against a minute left
  const duration = metric('DurationUtilizationPercent')[0];
  expect(duration).toBeGreaterThanOrEqual(0);
  expect(duration).toBeLessThan(5);
});

test('a run in flight publishes no population; the single path is LinkagePath 0', async () => {
  runScorer.mockResolvedValueOnce(summary('sharded-in-flight', 0)).mockResolvedValueOnce(summary('single'));
  await handler({}, context(10_000, 60_000));
  expect(metric('ActiveAccounts')).toEqual([]);
  expect(metric('LinkagePath')).toEqual([1]);
  await handler({}, context(10_000, 60_000));
  expect(metric('ActiveAccounts')).toEqual([42]);
  expect(metric('LinkagePath')).toEqual([1, 0]);
});

test('an in-process run above 60% of the memory sends the next run sharded; below it does not', async () => {
  runScorer.mockResolvedValue(summary('single'));
  const rssMB = process.resourceUsage().maxRSS / 1024;
  // the limit set so that this process's peak RSS is 50%, then 90%, of it
  await handler({}, context(rssMB / 0.5, 60_000));
  await handler({}, context(rssMB / 0.9, 60_000));
  await handler({}, context(rssMB / 0.5, 60_000));
  await handler({}, context(rssMB / 0.5, 60_000));
  expect([0, 1, 2, 3].map((i) => depsOf(i).sharded!.force)).toEqual([false, false, true, false]);
});
