/**
 * The two children of a distributed detection run that touch DynamoDB (src/detect/sharded-run/stages.ts), one
 * account shard each:
 *
 * - `profiles`: read the windows of the shard's account-id range in the lookback (every hour and bucket of the
 *   features table's index, restricted to the range), build the profiles, note the models' first-seen times, write
 *   them to the run's records;
 * - `decide`: read the shard's profiles and the run's linkage and context, decide every account as the single path
 *   does (allowlist, shadow config, partners' indicators included), write the SCORE items and start the cases, leave
 *   the cluster members' verdicts and the counts for the run's last step.
 *
 * Thin: the event is checked, the work is the scorer's own (scorer-core.ts, window-reader.ts) and the core's.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { clusterSummary, decideShard, detectionConfigFromEnv, type DetectionConfig } from '../../src/detect/index';
import { LINKAGE_RUN_PREFIX } from '../../src/detect/linkage-bucket';
import type { ShardStageStats, ShardStore } from '../../src/detect/linkage/sharded';
import { measured } from '../../src/detect/linkage/sharded';
import { writeShardProfiles } from '../../src/detect/sharded-run/records';
import { decideInputs, shardRange, writeVerdicts, type RunPlan } from '../../src/detect/sharded-run/stages';
import { requireEnv } from '../shared/env';
import { logger } from '../shared/powertools';
import { partnerIndicators } from './partner-indicators';
import { readAllowlist, readModelFirstSeen, readShadow, withShadow, writeScores, type CaseCluster, type ScorerDeps } from './scorer-core';
import type { DecideCounts } from './sharded-run';
import { S3ShardStore } from './shard-store';
import { buildProfiles, readWindows } from './window-reader';

export const SCORE_SHARD_STAGES = ['profiles', 'decide'] as const;

export interface ScoreShardEvent {
  stage: (typeof SCORE_SHARD_STAGES)[number];
  part: number;
  plan: RunPlan;
}

/** The event, checked: a known stage, a shard within the plan, a plan under the bucket's run prefix. */
export function checkScoreShardEvent(event: ScoreShardEvent): void {
  const { stage, part, plan } = event ?? ({} as ScoreShardEvent);
  if (!SCORE_SHARD_STAGES.includes(stage))
    throw new Error(`score-shard stage must be one of ${SCORE_SHARD_STAGES.join(', ')}, got ${JSON.stringify(stage)}`);
  if (!plan || typeof plan.prefix !== 'string' || !plan.prefix.startsWith(LINKAGE_RUN_PREFIX) || !Array.isArray(plan.bounds))
    throw new Error(`score-shard plan must have a prefix under ${LINKAGE_RUN_PREFIX} and bounds, got ${JSON.stringify(plan?.prefix)}`);
  if (!Number.isInteger(part) || part < 0 || part >= plan.accountShards)
    throw new Error(`score-shard ${stage} part must be in 0..${plan.accountShards - 1}, got ${JSON.stringify(part)}`);
}

/** Ids sampled per shard: about 4,096 over the run, for the next run's bounds. */
const sampleEvery = (accounts: number, shards: number) => Math.max(1, Math.floor((accounts * shards) / 4_096));

/** Stage `profiles`. */
export async function profilesStage(deps: ScorerDeps, store: ShardStore, plan: RunPlan, shard: number) {
  const read = await readWindows(deps, plan.periodStart, plan.periodEnd + 1, undefined, undefined, shardRange(plan, shard));
  const { profiles } = buildProfiles(read.windows, deps.config.linkage.syncBucketMs);
  const models = new Set<string>();
  for (const w of read.windows) for (const m in w.models) models.add(m);
  const firstSeen = await readModelFirstSeen(deps, [...models]);
  await writeShardProfiles(store, plan, shard, profiles, firstSeen, sampleEvery(profiles.length, plan.accountShards));
  return { input: read.windows.length, output: profiles.length };
}

/** Stage `decide`. */
export async function decideStage(deps: ScorerDeps, store: ShardStore, plan: RunPlan, shard: number) {
  const [d, allowlist, shadow] = await Promise.all([decideInputs(store, plan, shard), readAllowlist(deps), readShadow(deps)]);
  const config: DetectionConfig = withShadow(deps.config, shadow);
  const input = { modelFirstSeen: d.models, now: plan.periodEnd, periodStart: plan.periodStart, config, allowlist, external: deps.external };
  const { accounts, verdicts } = decideShard(d.profiles, d.linkage, d.context, input);
  const clusters = new Map<string, CaseCluster>();
  for (const a of accounts) {
    const c = a.clusterId && a.decision !== 'allow' && !clusters.has(a.clusterId) ? d.context.contexts.get(a.clusterId) : undefined;
    if (c) clusters.set(c.cluster.clusterId, clusterSummary(c.cluster, c, config));
  }
  const written = await writeScores({ ...deps, now: plan.periodEnd }, accounts, clusters, config);
  const decisions: Record<string, number> = { allow: 0, monitor: 0, review: 0, suspend: 0 };
  for (const a of accounts) decisions[a.decision]++;
  const counts: DecideCounts = { accounts: accounts.length, decisions, ...written };
  await writeVerdicts(store, plan, shard, { verdicts: [...verdicts], counts });
  return { input: accounts.length, output: written.scoresWritten };
}

let clients: { ddb: DynamoDBClient; sfn: SFNClient; s3: S3Client } | undefined;

export const handler = async (event: ScoreShardEvent): Promise<ShardStageStats> => {
  checkScoreShardEvent(event);
  clients ??= { ddb: new DynamoDBClient({}), sfn: new SFNClient({}), s3: new S3Client({}) };
  const store = new S3ShardStore(clients.s3, requireEnv('LINKAGE_BUCKET'), { kmsKeyId: process.env.LINKAGE_KEY_ARN });
  const deps: ScorerDeps = {
    ...clients,
    featuresTable: requireEnv('FEATURES_TABLE'),
    controlTable: requireEnv('CONTROL_TABLE'),
    stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
    config: detectionConfigFromEnv(),
    external: event.stage === 'decide' ? await partnerIndicators(Date.now()) : undefined,
    lookbackHours: Math.round((event.plan.periodEnd - event.plan.periodStart) / 3_600_000),
    now: event.plan.periodEnd,
    byHourIndex: process.env.BY_HOUR_INDEX,
    byStateIndex: process.env.BY_STATE_INDEX,
    log: {
      info: (msg, extra) => logger.info(msg, extra as Record<string, never>),
      error: (msg, extra) => logger.error(msg, extra as Record<string, never>),
    },
  };
  const { stage, part, plan } = event;
  const stats = await measured(stage, part, () =>
    stage === 'profiles' ? profilesStage(deps, store, plan, part) : decideStage(deps, store, plan, part),
  );
  logger.info('detection run stage', { ...stats, prefix: plan.prefix });
  return stats;
};
