/**
 * One child of the linkage state machine's Distributed Maps: stage `frequencies` or `pairs` over a key partition,
 * or `index` over an account shard, of the run `plan` (src/detect/linkage/sharded). Thin: it checks the event,
 * runs the stage against the linkage bucket and returns the stage's stats (the map's result, for the log).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { detectionConfigFromEnv } from '../../src/detect/config';
import { runShardStage, SHARD_STAGES, stageParts, type ShardPlan, type ShardStage, type ShardStageStats } from '../../src/detect/linkage/sharded';
import { logger } from '../shared/powertools';
import { requireEnv } from '../shared/env';
import { S3ShardStore } from './shard-store';
import { LINKAGE_RUN_PREFIX } from '../../src/detect/linkage-bucket';

export interface LinkageStageEvent {
  stage: ShardStage;
  part: number;
  plan: ShardPlan;
}

/** The event, checked: a known stage, a part within the plan, a plan under the bucket's run prefix. */
export function checkStageEvent(event: LinkageStageEvent): void {
  const { stage, part, plan } = event ?? ({} as LinkageStageEvent);
  if (!SHARD_STAGES.includes(stage)) throw new Error(`linkage stage must be one of ${SHARD_STAGES.join(', ')}, got ${JSON.stringify(stage)}`);
  if (!plan || typeof plan.prefix !== 'string' || !plan.prefix.startsWith(LINKAGE_RUN_PREFIX)) {
    throw new Error(`linkage plan prefix must start with ${LINKAGE_RUN_PREFIX}, got ${JSON.stringify(plan?.prefix)}`);
  }
  const parts = stageParts(plan, stage);
  if (!Number.isInteger(part) || part < 0 || part >= parts)
    throw new Error(`linkage ${stage} part must be in 0..${parts - 1}, got ${JSON.stringify(part)}`);
}

let s3: S3Client | undefined;

export const handler = async (event: LinkageStageEvent): Promise<ShardStageStats> => {
  checkStageEvent(event);
  s3 ??= new S3Client({});
  const store = new S3ShardStore(s3, requireEnv('LINKAGE_BUCKET'), { kmsKeyId: process.env.LINKAGE_KEY_ARN });
  const stats = await runShardStage(store, event.plan, detectionConfigFromEnv().linkage, event.stage, event.part);
  logger.info('linkage stage', { ...stats, prefix: event.plan.prefix });
  return stats;
};
