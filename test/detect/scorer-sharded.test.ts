/**
 * The scorer's switch between the two linkage paths, against DynamoDB Local (the windows of test/detect/fixtures)
 * with Step Functions mocked: at or above `minAccounts` it writes the account shards and starts the linkage run
 * instead of linking and scoring; while a run is in flight it does nothing; the run's finishing invocation merges
 * and scores as the single path does. The sharded core is replaced by spies (its stages are tested on their own):
 * `mergeShardedLinkage` answers the single path's linkage, so the finish must decide exactly what a single run does;
 * the last test runs the real stages in process, as the state machine would.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { startDynamoDbLocal, type RunningEmulator } from '../../local/emulators/dynamodb-local';
import { createControlTable, createFeaturesTable } from '../../bench/features-table';
import { localDynamoDb } from '../../bench/local-dynamodb';
import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import { linkAccounts } from '../../src/detect/linkage';
import * as detect from '../../src/detect/index';
import * as sharded from '../../src/detect/linkage/sharded';
import { MemoryShardStore } from '../../src/detect/linkage/sharded';
import { runScorer, type ScorerDeps } from '../../lambdas/detect/scorer-core';
import { linkageExecutionName, type LinkageExecutionInput } from '../../lambdas/detect/sharded-run';
import { HOUR, T0, population, windowsOf } from './fixtures';
import { firstSeenOf, putFeatures } from '../support/features';

jest.mock('../../src/detect/index', () => {
  const actual = jest.requireActual('../../src/detect/index');
  return { ...actual, runDetection: jest.fn(actual.runDetection) };
});
jest.mock('../../src/detect/linkage/sharded', () => {
  const actual = jest.requireActual('../../src/detect/linkage/sharded');
  return { ...actual, writeAccountShards: jest.fn(), mergeShardedLinkage: jest.fn() };
});

const runDetection = detect.runDetection as jest.MockedFunction<typeof detect.runDetection>;
const writeAccountShards = sharded.writeAccountShards as jest.MockedFunction<typeof sharded.writeAccountShards>;
const mergeShardedLinkage = sharded.mergeShardedLinkage as jest.MockedFunction<typeof sharded.mergeShardedLinkage>;

let emu: RunningEmulator;
let ddb: DynamoDBClient;
const FEATURES = 'features-sharded-test';
const CONTROL = 'control-sharded-test';
const NOW = T0 + 3 * 24 * HOUR;
/** Past the wall clock: DynamoDB Local deletes expired items in the background, and the fixtures' days are fixed. */
const RETENTION_DAYS = 3650;
const LINKAGE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:linkage';
const pop = population();
const accounts = new Set(pop.reqs.map((r) => r.accountId)).size;

beforeAll(async () => {
  emu = await startDynamoDbLocal();
  ddb = localDynamoDb(emu.endpoint);
  await createFeaturesTable(ddb, FEATURES);
  await createControlTable(ddb, CONTROL);
  await putFeatures(ddb, FEATURES, windowsOf(pop.reqs), firstSeenOf(pop.reqs), RETENTION_DAYS);
}, 120_000);

afterAll(async () => {
  ddb?.destroy();
  await emu?.stop();
});

const sfnMock = mockClient(SFNClient);

function deps(store: MemoryShardStore, minAccounts: number, extra: Partial<ScorerDeps> = {}): ScorerDeps {
  const sfn = new SFNClient({ region: 'us-east-1' });
  return {
    ddb,
    sfn,
    featuresTable: FEATURES,
    controlTable: CONTROL,
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:escalation',
    config: DEFAULT_DETECTION_CONFIG,
    lookbackHours: 72,
    now: NOW,
    sharded: { store, sfn, stateMachineArn: LINKAGE_ARN, minAccounts, accountsPerShard: 10 },
    ...extra,
  };
}

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
  runDetection.mockClear();
  writeAccountShards.mockReset().mockResolvedValue([]);
  mergeShardedLinkage.mockReset();
});

const linkageStarts = () => sfnMock.commandCalls(StartExecutionCommand).filter((c) => c.args[0].input.stateMachineArn === LINKAGE_ARN);

describe('scorer: the switch to the sharded linkage', () => {
  test('population at the threshold: writes the shards, starts one linkage run named by the clock, scores nobody', async () => {
    const store = new MemoryShardStore();
    const summary = await runScorer(deps(store, accounts));
    expect(summary.path).toBe('sharded');
    expect(summary.accounts).toBe(accounts);
    expect(runDetection).not.toHaveBeenCalled();
    expect(summary.scoresWritten).toBe(0);
    expect(writeAccountShards).toHaveBeenCalledTimes(1);
    const [, plan, profiles] = writeAccountShards.mock.calls[0];
    expect(profiles).toHaveLength(accounts);
    const starts = linkageStarts();
    expect(starts).toHaveLength(1);
    const name = linkageExecutionName(NOW);
    expect(starts[0].args[0].input.name).toBe(name);
    const input = JSON.parse(starts[0].args[0].input.input!) as LinkageExecutionInput;
    expect(input.plan).toEqual(plan);
    expect(plan.prefix).toBe(`runs/${name}/`);
    expect(plan.accountShards).toBe(Math.ceil(accounts / 10));
    expect(input.index).toEqual([...Array(plan.accountShards).keys()]);
    expect(input.frequencies).toEqual([...Array(plan.keyPartitions).keys()]);
    expect(input.pairs).toEqual(input.frequencies);
    expect(input.time).toBe(new Date(NOW).toISOString());
    // the account order the finishing invocation re-establishes
    expect(JSON.parse(await store.get(`${plan.prefix}scorer/accounts.json`))).toEqual(profiles.map((p) => p.accountId));
    expect(summary.sharded).toEqual({ executionName: name, started: true, accountShards: plan.accountShards, keyPartitions: plan.keyPartitions });
  }, 120_000);

  test('one below the threshold: links in process (single path), starts no linkage run', async () => {
    const summary = await runScorer(deps(new MemoryShardStore(), accounts + 1));
    expect(summary.path).toBe('single');
    expect(runDetection).toHaveBeenCalledTimes(1);
    expect(writeAccountShards).not.toHaveBeenCalled();
    expect(linkageStarts()).toHaveLength(0);
    expect(summary.scoresWritten).toBeGreaterThan(0);
  }, 120_000);

  test('memory of the previous run (force): sharded below the threshold', async () => {
    const d = deps(new MemoryShardStore(), accounts + 1);
    const summary = await runScorer({ ...d, sharded: { ...d.sharded!, force: true } });
    expect(summary.path).toBe('sharded');
    expect(runDetection).not.toHaveBeenCalled();
  }, 120_000);

  test('a run in flight: the scheduled scorer reads nothing and starts no second run', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [{ name: 'linkage-x', status: 'RUNNING' } as never] });
    const summary = await runScorer(deps(new MemoryShardStore(), 1));
    expect(summary).toMatchObject({ path: 'sharded-in-flight', sharded: { executionName: 'linkage-x' }, windows: 0, scoresWritten: 0 });
    const list = sfnMock.commandCalls(ListExecutionsCommand)[0].args[0].input;
    expect(list).toEqual({ stateMachineArn: LINKAGE_ARN, statusFilter: 'RUNNING', maxResults: 1 });
    expect(writeAccountShards).not.toHaveBeenCalled();
    expect(linkageStarts()).toHaveLength(0);
    expect(runDetection).not.toHaveBeenCalled();
  }, 120_000);

  test('a retried invocation of the same scheduled event: ExecutionAlreadyExists is no second run and no error', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const summary = await runScorer(deps(new MemoryShardStore(), 1));
    expect(summary.path).toBe('sharded');
    expect(summary.sharded).toMatchObject({ executionName: linkageExecutionName(NOW), started: false });
  }, 120_000);

  test("the finishing invocation merges the run's records and decides exactly as the single path", async () => {
    const single = await runScorer(deps(new MemoryShardStore(), accounts + 1));
    const store = new MemoryShardStore();
    await runScorer(deps(store, 1));
    const plan = writeAccountShards.mock.calls[0][1];
    mergeShardedLinkage.mockImplementation(async (_s, p, profiles, cfg) => ({
      result: linkAccounts(profiles, cfg, { periodStart: p.periodStart, periodEnd: p.periodEnd }),
      stats: { stage: 'merge', part: 0, inputRecords: 0, outputRecords: 0, ms: 0, heapUsedBytes: 0, rssBytes: 0 },
    }));
    runDetection.mockClear();
    const listed = sfnMock.commandCalls(ListExecutionsCommand).length;
    const finished = await runScorer(deps(store, 1, { finish: plan }));
    expect(finished.path).toBe('sharded-finish');
    // the finish runs while its own execution is RUNNING: it must not look for runs in flight, nor start one
    expect(sfnMock.commandCalls(ListExecutionsCommand)).toHaveLength(listed);
    expect(linkageStarts()).toHaveLength(1);
    expect(mergeShardedLinkage).toHaveBeenCalledTimes(1);
    const [, mergedPlan, ordered] = mergeShardedLinkage.mock.calls[0];
    expect(mergedPlan).toEqual(plan);
    expect(ordered.map((p) => p.accountId)).toEqual(writeAccountShards.mock.calls[0][2].map((p) => p.accountId));
    expect(runDetection.mock.calls[0][0].linkage).toBe(await mergeShardedLinkage.mock.results[0].value.then((r: { result: unknown }) => r.result));
    expect({ decisions: finished.decisions, clusters: finished.clusters, scoresWritten: finished.scoresWritten }).toEqual({
      decisions: single.decisions,
      clusters: single.clusters,
      scoresWritten: single.scoresWritten,
    });
  }, 120_000);

  test('with the real stages: start, every child of the execution input, finish: the same decisions as the single path', async () => {
    const actual = jest.requireActual('../../src/detect/linkage/sharded') as typeof sharded;
    writeAccountShards.mockImplementation(actual.writeAccountShards);
    mergeShardedLinkage.mockImplementation(actual.mergeShardedLinkage);
    const single = await runScorer(deps(new MemoryShardStore(), accounts + 1));
    const store = new MemoryShardStore();
    const started = await runScorer(deps(store, 1));
    expect(started.path).toBe('sharded');
    // what the state machine does: each Distributed Map over its items of the execution input
    const input = JSON.parse(linkageStarts()[0].args[0].input.input!) as LinkageExecutionInput;
    for (const stage of ['frequencies', 'index', 'pairs'] as const)
      for (const part of input[stage]) await actual.runShardStage(store, input.plan, DEFAULT_DETECTION_CONFIG.linkage, stage, part);
    const finished = await runScorer(deps(store, 1, { finish: input.plan }));
    expect(finished.path).toBe('sharded-finish');
    expect(finished.clusters).toBeGreaterThan(0);
    expect({ decisions: finished.decisions, clusters: finished.clusters, scoresWritten: finished.scoresWritten }).toEqual({
      decisions: single.decisions,
      clusters: single.clusters,
      scoresWritten: single.scoresWritten,
    });
  }, 120_000);
});
