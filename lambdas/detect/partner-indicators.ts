/**
 * The indicators partners shared (the `external-indicator` signal), for every function that decides accounts: the
 * scorer, and a distributed run's decide children. On only with indicator sharing (SHARING_BUCKET and
 * SHARING_PARTNERS set).
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { ExternalIndicatorSet } from '../../src/detect/external';
import { cachedInbound, loadInbound } from '../share/inbound';
import { logger } from '../shared/powertools';
import { getSecretString } from '../shared/secrets-manager';

/** Partners' bundles (indicator sharing on: SHARING_BUCKET and SHARING_PARTNERS set), re-read every 15 minutes. */
export async function partnerIndicators(now: number): Promise<ExternalIndicatorSet | undefined> {
  const bucket = process.env.SHARING_BUCKET;
  const partners = process.env.SHARING_PARTNERS;
  if (!bucket || !partners) return undefined;
  const s3 = new S3Client({});
  return cachedInbound(now, 15 * 60_000, () =>
    loadInbound(
      s3,
      bucket,
      JSON.parse(partners),
      (arn) => getSecretString(arn),
      (msg, extra) => logger.warn(msg, extra as Record<string, never>),
    ),
  );
}
