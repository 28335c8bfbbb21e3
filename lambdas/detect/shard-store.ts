/**
 * A distributed detection run's `ShardStore` over S3: one object per record set, under the run's prefix of the linkage
 * bucket. Bodies are gzip'd (shard records are JSON with many repeated keys: several times smaller, so fewer bytes
 * through every stage child), and written with SSE-KMS under the bucket's customer-managed key, named on each put
 * so that an object never falls back to another default. An object written in parts (one writer, many readers) is
 * each part gzip'd on its own, one after another, with the byte ranges beside it (`<key>.parts`, parts.ts): a reader
 * fetches its part with a ranged GET.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync, gzipSync } from 'zlib';
import type { ShardStore } from '../../src/detect/linkage/sharded';
import { isPartsIndex, packParts, PARTS_INDEX_SUFFIX, type PartsIndex } from '../../src/detect/linkage/sharded/parts';

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
    await this.putBytes(key, gzipSync(Buffer.from(body, 'utf8')), { ContentType: 'application/json', ContentEncoding: 'gzip' });
  }

  async get(key: string): Promise<string> {
    return gunzipped(await this.getBytes(key));
  }

  async putParts(key: string, parts: ReadonlyMap<number, string>): Promise<void> {
    const { body, index } = packParts(parts, (text) => gzipSync(Buffer.from(text, 'utf8')));
    // the body first: a reader that finds the index finds the object
    await this.putBytes(key, body, { ContentType: 'application/octet-stream' });
    await this.put(key + PARTS_INDEX_SUFFIX, index);
  }

  async getPart(key: string, part: number): Promise<string> {
    const range = (JSON.parse(await this.get(key + PARTS_INDEX_SUFFIX)) as PartsIndex)[part];
    if (!range || range[1] <= range[0]) return '';
    return gunzipped(await this.getBytes(key, `bytes=${range[0]}-${range[1] - 1}`));
  }

  private async putBytes(key: string, body: Buffer, meta: { ContentType: string; ContentEncoding?: string }): Promise<void> {
    const sse = this.opts.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.opts.kmsKeyId, BucketKeyEnabled: true } : {};
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ...meta, ...sse }));
  }

  private async getBytes(key: string, range?: string): Promise<Uint8Array> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }));
      return await r.Body!.transformToByteArray();
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw new Error(`shard store: no object ${key} in bucket ${this.bucket}`);
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key && !isPartsIndex(o.Key)) out.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }
}

/** gzip magic: a body some other writer put uncompressed is read as it is. */
function gunzipped(bytes: Uint8Array): string {
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8');
}
