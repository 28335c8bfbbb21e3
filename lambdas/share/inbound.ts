/**
 * Partners' bundles, read by the scorer from the sharing bucket's `inbound/<partner>/` prefixes (each partner
 * writes its own). Each partner's bundles are read with that partner's sharing key; a bundle that does not parse,
 * or was hashed with another key id, is skipped and reported (one bad upload must not stop detection).
 * Cached per execution environment for `maxAgeMs`.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ExternalIndicator, ExternalIndicatorSet } from '../../src/detect/external';
import { readBundle } from '../../src/share/stix';
import type { Partner } from './exporter-core';

/** Newest bundles read per partner. */
const MAX_BUNDLES = 20;

export async function loadInbound(
  s3: S3Client,
  bucket: string,
  partners: Partner[],
  readSecret: (arn: string) => Promise<string>,
  onError: (msg: string, extra: Record<string, unknown>) => void,
): Promise<ExternalIndicatorSet> {
  const indicators: ExternalIndicator[] = [];
  for (const p of partners) {
    const secret = await readSecret(p.keySecretArn);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `inbound/${p.name}/` }));
    const objects = (listed.Contents ?? [])
      .filter((o) => o.Key)
      .sort((a, b) => Number(b.LastModified ?? 0) - Number(a.LastModified ?? 0))
      .slice(0, MAX_BUNDLES);
    for (const o of objects) {
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
        const set = readBundle(JSON.parse(await r.Body!.transformToString()), { id: p.keyId, secret });
        for (const i of set.indicators) indicators.push({ ...i, key: secret });
      } catch (err) {
        onError('skipped a partner bundle', { partner: p.name, key: o.Key, error: (err as Error).message });
      }
    }
  }
  return { indicators, key: null };
}

let cached: { at: number; set: ExternalIndicatorSet } | undefined;

/** loadInbound, at most once per `maxAgeMs` in this execution environment. */
export async function cachedInbound(now: number, maxAgeMs: number, load: () => Promise<ExternalIndicatorSet>): Promise<ExternalIndicatorSet> {
  if (!cached || now - cached.at >= maxAgeMs) cached = { at: now, set: await load() };
  return cached.set;
}
