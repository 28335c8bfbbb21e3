/**
 * The distributed detection run as it deploys, on this machine: `cdk synth` of the real app, the local runtime
 * running the scorer, score-shard and linkage-stage bundles from that cloud assembly, the run's state machine from the
 * template on the local Step Functions (Distributed Maps), the records in the local S3. With the threshold lowered to
 * one account and shards of 60 accounts, a scheduled scorer run over simulated traffic (organic customers and
 * extraction campaigns, `sim/`) measures the population and starts the run; the state machine's children read the
 * windows of their account ranges, link, score, write the scores and start cases, and its last step invokes the
 * scorer to sum up; a scheduled run while it is in flight does nothing. The scores written are then compared, account
 * by account, with the single path's decisions over the same windows at the same time.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { LocalSession } from '../../../local/runtime/session';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ReplayAggregator } from '../../../src/aggregate/replay';
import { detectionConfigFromEnv, runDetection } from '../../../src/detect/index';
import { readAllowlist, readModelFirstSeen } from '../../../lambdas/detect/scorer-core';
import { buildProfiles, readWindows } from '../../../lambdas/detect/window-reader';
import { simulate } from '../../../sim/simulate';
import { HOUR, T0 } from '../../detect/fixtures';
import { putFeatures } from '../../support/features';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const WORK = path.join(ROOT, '.local', 'sharded-linkage');
const CDK_OUT = path.join(WORK, 'cdk.out');
const NOW = T0 + 3 * 24 * HOUR;
/** Past the wall clock: DynamoDB Local deletes expired items in the background, and the fixtures' days are fixed. */
const RETENTION_DAYS = 3650;

jest.setTimeout(10 * 60_000);

describe('sharded linkage on the local runtime', () => {
  let session: LocalSession;

  beforeAll(async () => {
    fs.mkdirSync(WORK, { recursive: true });
    const synth = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', CDK_OUT], { cwd: ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`cdk synth failed (${synth.status}): ${synth.stderr.slice(-3000)}`);
    session = await LocalSession.start({
      cdkOut: CDK_OUT,
      stateFile: path.join(WORK, 'endpoints.json'),
      functionLogFile: path.join(WORK, 'functions.log'),
      clockStartMs: NOW,
      subscriber: false,
      envOverrides: { '*': { SHARDED_LINKAGE_MIN_ACCOUNTS: '1', ACCOUNTS_PER_SHARD: '60' } },
    });
    const ddb = session.rt.clients.dynamodb;
    const features = session.envValue('FEATURES_TABLE')!;
    const sim = simulate({ seed: 5, scale: 'small', variant: 'base', days: 3, start: T0 });
    const agg = new ReplayAggregator();
    for (const e of sim.events()) {
      agg.addLogLine(e.log);
      if (e.usage) agg.addUsageLine(e.usage);
    }
    await putFeatures(ddb, features, agg.store.allWindows(), agg.store.modelFirstSeen(), RETENTION_DAYS);
  });

  afterAll(async () => {
    // the cases the run opened wait for reviewers: stop them first, so that no step starts a function while the
    // runtime shuts its sandboxes down
    const sfn = session?.rt.clients.sfn;
    for (const sm of session?.rt.model.stateMachines ?? []) {
      const running = (await sfn!.send(new ListExecutionsCommand({ stateMachineArn: sm.arn, statusFilter: 'RUNNING' }))).executions ?? [];
      for (const e of running) await sfn!.send(new StopExecutionCommand({ executionArn: e.executionArn }));
    }
    await session?.emu.stepFunctions.idle(30_000);
    await session?.stop();
  });

  it('starts the run, runs every stage child over several shards, and the scorer sums it up: scores written, cases started', async () => {
    const fns = session.rt.model.functions;
    const scorer = fns.find((f) => f.environment.LINKAGE_STATE_MACHINE_ARN)!;
    const linkageArn = scorer.environment.LINKAGE_STATE_MACHINE_ARN;
    const event = { time: new Date(NOW).toISOString() };
    const started = await session.rt.runner.invoke(scorer.arn, event);
    expect(started.ok).toBe(true);
    const summary = started.payload as {
      path: string;
      accounts: number;
      sharded: { executionName: string; started: boolean; accountShards: number };
    };
    expect(summary).toMatchObject({ path: 'sharded', sharded: { started: true } });
    expect(summary.accounts).toBeGreaterThan(10);
    expect(summary.sharded.accountShards).toBeGreaterThan(2);

    const sfn = session.rt.clients.sfn!;
    const [execution] = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: linkageArn }))).executions ?? [];
    expect(execution.name).toBe(summary.sharded.executionName);
    // a run while this one is in flight does nothing (unless it is already over); at the same clock, so that even
    // then it cannot start a second run (the execution name is taken) and the scores below are this run's
    const second = await session.rt.runner.invoke(scorer.arn, event);
    const secondPath = (second.payload as { path: string }).path;
    if ((await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }))).status === 'RUNNING') {
      expect(secondPath).toBe('sharded-in-flight');
    }

    await session.emu.stepFunctions.waitForExecution(execution.executionArn!, 5 * 60_000);
    const done = await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    expect({ status: done.status, error: done.error, cause: done.cause?.slice(0, 500) }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    const finished = JSON.parse(done.output!) as { path: string; clusters: number; decisions: Record<string, number>; casesStarted: number };
    expect(finished.path).toBe('sharded-finish');
    expect(finished.clusters).toBeGreaterThan(0);
    expect((finished.decisions.review ?? 0) + (finished.decisions.suspend ?? 0)).toBeGreaterThan(0);
    expect(finished.casesStarted).toBeGreaterThan(0);

    const objects = await session.rt.clients.s3!.send(
      new ListObjectsV2Command({ Bucket: scorer.environment.LINKAGE_BUCKET, Prefix: `runs/${summary.sharded.executionName}/` }),
    );
    const keys = (objects.Contents ?? []).map((o) => o.Key!);
    for (const dir of [
      'profiles/',
      'accounts/',
      'frequencies/',
      'verification/',
      'pairs/',
      'linkage.json',
      'scoring/parts/',
      'scoring/context.json',
      'scoring/verdicts/',
    ])
      expect([dir, keys.some((k) => k.includes(`/${dir}`))]).toEqual([dir, true]);
    const scores = await session.rt.clients.dynamodb.send(
      new ScanCommand({
        TableName: session.envValue('CONTROL_TABLE')!,
        FilterExpression: 'begins_with(pk, :p)',
        ExpressionAttributeValues: { ':p': { S: 'SCORE#' } },
      }),
    );
    expect(scores.Count).toBeGreaterThan(0);

    // The single path over the same windows at the same time, in this process: the same decision and score for every
    // account (an account the single path leaves at `allow` has no score item).
    const single = await singlePath(session, scorer.environment);
    const written = new Map((scores.Items ?? []).map((i) => unmarshall(i)).map((i) => [i.accountId as string, i]));
    const flagged = single.accounts.filter((a) => a.decision !== 'allow');
    expect(flagged.length).toBeGreaterThan(0);
    expect([...written.keys()].sort()).toEqual(flagged.map((a) => a.accountId).sort());
    for (const a of flagged) {
      const w = written.get(a.accountId)!;
      expect([a.accountId, w.decision, w.reasons, w.clusterId === null ? null : 'linked']).toEqual([
        a.accountId,
        a.decision,
        a.reasons,
        a.clusterId === null ? null : 'linked',
      ]);
      expect(w.score).toBeCloseTo(a.score, 9);
    }
  });
});

/** What the scorer decides in process (the single path) from the session's features table at NOW. */
async function singlePath(session: LocalSession, env: Record<string, string>) {
  const deps = {
    ddb: session.rt.clients.dynamodb,
    featuresTable: env.FEATURES_TABLE,
    controlTable: env.CONTROL_TABLE,
    byHourIndex: env.BY_HOUR_INDEX,
  };
  const config = detectionConfigFromEnv({ DETECTION_CONFIG: env.DETECTION_CONFIG });
  const from = NOW - Number(env.LOOKBACK_HOURS) * HOUR;
  const { windows } = await readWindows(deps, from, NOW + 1);
  const models = new Set(windows.flatMap((w) => Object.keys(w.models)));
  const modelFirstSeen = await readModelFirstSeen(deps as never, [...models]);
  const { profiles } = buildProfiles(windows, config.linkage.syncBucketMs);
  return runDetection({ profiles, modelFirstSeen, now: NOW, periodStart: from, config, allowlist: await readAllowlist(deps as never) });
}
