/**
 * One child (or single step) of a distributed detection run that reads and writes only the run's records
 * (src/detect/sharded-run/stages.ts): `partition`, `index` and `parts` over an account shard; `frequencies` and
 * `pairs` over a key partition; the `offsets`, `merge` and `reduce` steps. Thin: it checks the event, runs the stage
 * against the linkage bucket and returns the stage's stats; `offsets` also returns the plan every later stage is
 * given, and records the population the next run plans from.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { detectionConfigFromEnv } from '../../src/detect/config';
import { SHARD_STAGES, stageParts, type ShardStage, type ShardStageStats } from '../../src/detect/linkage/sharded';
import { RUN_SHARD_STAGES, runRunStage, STAGE_FUNCTION_STAGES, type RunPlan, type RunStage } from '../../src/detect/sharded-run/stages';
import { logger } from '../shared/powertools';
import { requireEnv } from '../shared/env';
import { S3ShardStore } from './shard-store';
import { LINKAGE_RUN_PREFIX } from '../../src/detect/linkage-bucket';
import { writePopulationState } from './sharded-run';

export interface LinkageStageEvent {
  stage: ShardStage | Exclude<RunStage, 'profiles' | 'decide'>;
  part: number;
  plan: RunPlan;
}

/** How many children a stage has (1: a single step). */
function partsOf(plan: RunPlan, stage: LinkageStageEvent['stage']): number {
  if ((SHARD_STAGES as readonly string[]).includes(stage)) return stageParts(plan, stage as ShardStage);
  return (RUN_SHARD_STAGES as readonly string[]).includes(stage) ? plan.accountShards : 1;
}

/** The event, checked: a known stage, a part within the plan, a plan under the bucket's run prefix. */
export function checkStageEvent(event: LinkageStageEvent): void {
  const { stage, part, plan } = event ?? ({} as LinkageStageEvent);
  if (!STAGE_FUNCTION_STAGES.includes(stage))
    throw new Error(`linkage stage must be one of ${STAGE_FUNCTION_STAGES.join(', ')}, got ${JSON.stringify(stage)}`);
  if (!plan || typeof plan.prefix !== 'string' || !plan.prefix.startsWith(LINKAGE_RUN_PREFIX)) {
    throw new Error(`linkage plan prefix must start with ${LINKAGE_RUN_PREFIX}, got ${JSON.stringify(plan?.prefix)}`);
  }
  const parts = partsOf(plan, stage);
  if (!Number.isInteger(part) || part < 0 || part >= parts)
    throw new Error(`linkage ${stage} part must be in 0..${parts - 1}, got ${JSON.stringify(part)}`);
}

let s3: S3Client | undefined;

export const handler = async (event: LinkageStageEvent): Promise<ShardStageStats & { plan?: RunPlan }> => {
  checkStageEvent(event);
  s3 ??= new S3Client({});
  const store = new S3ShardStore(s3, requireEnv('LINKAGE_BUCKET'), { kmsKeyId: process.env.LINKAGE_KEY_ARN });
  const { state, ...stats } = await runRunStage(store, event.plan, detectionConfigFromEnv(), event.stage, event.part);
  if (state) await writePopulationState(store, state);
  logger.info('linkage stage', { ...stats, plan: undefined, prefix: event.plan.prefix, accounts: stats.plan?.accounts });
  return stats;
};
