/**
 * The scorer's switch to a distributed detection run, against DynamoDB Local (the windows of test/detect/fixtures)
 * with Step Functions mocked: at or above `minAccounts` it starts the run instead of scoring (from the second run on
 * without reading the windows: it plans from the population it measured last); while a run is in flight it does
 * nothing. The last test runs every child of the execution as the state machine would (the profile children reading
 * DynamoDB, the decide children writing scores and starting cases) and the finishing invocation: the same decisions
 * as the single path.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { startDynamoDbLocal, type RunningEmulator } from '../../local/emulators/dynamodb-local';
import { createControlTable, createFeaturesTable } from '../../bench/features-table';
import { localDynamoDb } from '../../bench/local-dynamodb';
import { DEFAULT_DETECTION_CONFIG } from '../../src/detect/config';
import * as detect from '../../src/detect/index';
import { MemoryShardStore } from '../../src/detect/linkage/sharded';
import { POPULATION_STATE_KEY } from '../../src/detect/linkage-bucket';
import { runRunStage, type PopulationState } from '../../src/detect/sharded-run/stages';
import { runScorer, type ScorerDeps } from '../../lambdas/detect/scorer-core';
import { decideStage, profilesStage } from '../../lambdas/detect/score-shard';
import { linkageExecutionName, type LinkageExecutionInput } from '../../lambdas/detect/sharded-run';
import { HOUR, T0, population, windowsOf } from './fixtures';
import { firstSeenOf, putFeatures } from '../support/features';

jest.mock('../../src/detect/index', () => {
  const actual = jest.requireActual('../../src/detect/index');
  return { ...actual, runDetection: jest.fn(actual.runDetection) };
});

const runDetection = detect.runDetection as jest.MockedFunction<typeof detect.runDetection>;

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
});

const linkageStarts = () => sfnMock.commandCalls(StartExecutionCommand).filter((c) => c.args[0].input.stateMachineArn === LINKAGE_ARN);
const caseStarts = () => sfnMock.commandCalls(StartExecutionCommand).filter((c) => c.args[0].input.stateMachineArn !== LINKAGE_ARN);
const stateOf = async (store: MemoryShardStore) => JSON.parse(await store.get(POPULATION_STATE_KEY)) as PopulationState;

describe('scorer: the switch to a distributed run', () => {
  test('first run at the threshold: measures the population, records it, starts one run named by the clock, scores nobody', async () => {
    const store = new MemoryShardStore();
    const summary = await runScorer(deps(store, accounts));
    expect(summary).toMatchObject({ path: 'sharded', accounts, scoresWritten: 0 });
    expect(runDetection).not.toHaveBeenCalled();
    const state = await stateOf(store);
    expect(state.population).toBe(accounts);
    expect(state.sample).toEqual([...state.sample].sort());
    const starts = linkageStarts();
    expect(starts).toHaveLength(1);
    const name = linkageExecutionName(NOW);
    expect(starts[0].args[0].input.name).toBe(name);
    const input = JSON.parse(starts[0].args[0].input.input!) as LinkageExecutionInput;
    const { plan } = input;
    expect(plan.prefix).toBe(`runs/${name}/`);
    expect(plan.accountShards).toBe(Math.ceil(accounts / 10));
    expect(plan.bounds).toHaveLength(plan.accountShards - 1);
    expect(input.shards).toEqual([...Array(plan.accountShards).keys()]);
    expect(input.partitions).toEqual([...Array(plan.keyPartitions).keys()]);
    expect(input.time).toBe(new Date(NOW).toISOString());
    expect(summary.sharded).toEqual({ executionName: name, started: true, accountShards: plan.accountShards, keyPartitions: plan.keyPartitions });
  }, 120_000);

  test('a later run: plans from the recorded population without reading a window', async () => {
    const store = new MemoryShardStore();
    await store.put(POPULATION_STATE_KEY, JSON.stringify({ population: 5_000_000, sample: ['a', 'b', 'c', 'd'], at: NOW - HOUR }));
    const summary = await runScorer(
      deps(store, 1_000_000, { sharded: { store, sfn: new SFNClient({}), stateMachineArn: LINKAGE_ARN, minAccounts: 1_000_000 } }),
    );
    expect(summary).toMatchObject({ path: 'sharded', accounts: 5_000_000, windows: 0 });
    expect(summary.read.partitions).toBe(0);
    const { plan } = JSON.parse(linkageStarts()[0].args[0].input.input!) as LinkageExecutionInput;
    // 20 shards wanted (250,000 accounts each); a sample of 4 ids cuts at most 4 bounds
    expect(plan.bounds).toEqual(['a', 'b', 'c', 'd']);
    expect(plan.accountShards).toBe(5);
  }, 120_000);

  test('one below the threshold: scores in process (single path), records the population, starts no run', async () => {
    const store = new MemoryShardStore();
    const summary = await runScorer(deps(store, accounts + 1));
    expect(summary.path).toBe('single');
    expect(runDetection).toHaveBeenCalledTimes(1);
    expect(linkageStarts()).toHaveLength(0);
    expect(summary.scoresWritten).toBeGreaterThan(0);
    expect((await stateOf(store)).population).toBe(accounts);
  }, 120_000);

  test('the population cannot be recorded (S3 refuses): the run still scores, and says so', async () => {
    const store = new MemoryShardStore();
    store.put = async () => {
      throw new Error('AccessDenied');
    };
    const errors: string[] = [];
    const summary = await runScorer(deps(store, accounts + 1, { log: { info: () => {}, error: (msg) => void errors.push(msg) } }));
    expect(summary.path).toBe('single');
    expect(summary.scoresWritten).toBeGreaterThan(0);
    expect(errors).toEqual(['population state not written']);
  }, 120_000);

  test('memory of the previous run (force): distributed below the threshold', async () => {
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
    expect(linkageStarts()).toHaveLength(0);
    expect(runDetection).not.toHaveBeenCalled();
  }, 120_000);

  test('a retried invocation of the same scheduled event: ExecutionAlreadyExists is no second run and no error', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const summary = await runScorer(deps(new MemoryShardStore(), 1));
    expect(summary.path).toBe('sharded');
    expect(summary.sharded).toMatchObject({ executionName: linkageExecutionName(NOW), started: false });
  }, 120_000);

  test('every child of the execution, then the finishing invocation: the same decisions, scores and cases as the single path', async () => {
    const single = await runScorer(deps(new MemoryShardStore(), accounts + 1));
    const singleCases = caseStarts()
      .map((c) => c.args[0].input.name)
      .sort();
    sfnMock.resetHistory();
    const store = new MemoryShardStore();
    const d = deps(store, 1);
    await runScorer(d);
    const input = JSON.parse(linkageStarts()[0].args[0].input.input!) as LinkageExecutionInput;
    // what the state machine does: each map over its items of the execution input, the steps in between
    const config = DEFAULT_DETECTION_CONFIG;
    for (const s of input.shards) await profilesStage(d, store, input.plan, s);
    const plan = (await runRunStage(store, input.plan, config, 'offsets', 0)).plan!;
    expect(plan.accounts).toBe(accounts);
    for (const s of input.shards) await runRunStage(store, plan, config, 'partition', s);
    for (const p of input.partitions) await runRunStage(store, plan, config, 'frequencies', p);
    for (const s of input.shards) await runRunStage(store, plan, config, 'index', s);
    for (const p of input.partitions) await runRunStage(store, plan, config, 'pairs', p);
    await runRunStage(store, plan, config, 'merge', 0);
    for (const s of input.shards) await runRunStage(store, plan, config, 'parts', s);
    await runRunStage(store, plan, config, 'reduce', 0);
    for (const s of input.shards) await decideStage(d, store, plan, s);
    const listed = sfnMock.commandCalls(ListExecutionsCommand).length;
    const finished = await runScorer(deps(store, 1, { finish: plan }));
    expect(finished.path).toBe('sharded-finish');
    // the finish runs while its own execution is RUNNING: it must not look for runs in flight, nor start one
    expect(sfnMock.commandCalls(ListExecutionsCommand)).toHaveLength(listed);
    expect(linkageStarts()).toHaveLength(1);
    expect(runDetection).toHaveBeenCalledTimes(1);
    expect(finished.clusters).toBeGreaterThan(0);
    const pick = (x: typeof single) => ({ accounts: x.accounts, decisions: x.decisions, clusters: x.clusters, scoresWritten: x.scoresWritten });
    expect(pick(finished)).toEqual(pick(single));
    // today's cases were opened by the single run's executions: the same names, found already open or started again
    expect(
      caseStarts()
        .map((c) => c.args[0].input.name)
        .sort(),
    ).toEqual(singleCases);
  }, 120_000);
});
