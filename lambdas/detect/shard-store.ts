/**
 * The sharded linkage's `ShardStore` over S3: one object per record set, under the run's prefix of the linkage
 * bucket. Bodies are gzip'd (shard records are JSON with many repeated keys: several times smaller, so fewer bytes
 * through every stage child), and written with SSE-KMS under the bucket's customer-managed key, named on each put
 * so that an object never falls back to another default.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync, gzipSync } from 'zlib';
import type { ShardStore } from '../../src/detect/linkage/sharded';

export interface S3ShardStoreOptions {
  /** The key of the bucket (ARN or id): objects are encrypted with it (SSE-KMS). Without it, the bucket's default. */
  kmsKeyId?: string;
}

export class S3ShardStore implements ShardStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly opts: S3ShardStoreOptions = {},
  ) {}

  async put(key: string, body: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: gzipSync(Buffer.from(body, 'utf8')),
        ContentType: 'application/json',
        ContentEncoding: 'gzip',
        ...(this.opts.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.opts.kmsKeyId, BucketKeyEnabled: true } : {}),
      }),
    );
  }

  async get(key: string): Promise<string> {
    let bytes: Uint8Array;
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      bytes = await r.Body!.transformToByteArray();
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw new Error(`shard store: no object ${key} in bucket ${this.bucket}`);
      throw err;
    }
    // gzip magic: a body some other writer put uncompressed is read as it is
    return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8');
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }
}
