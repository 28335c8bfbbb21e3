/**
 * S3ShardStore: records round-trip through the local S3 (fauxqs) gzip'd, whole or in parts read by ranged GETs; puts
 * name the bucket's KMS key; a missing key is an error naming it; listing follows continuation tokens and leaves the
 * parts indexes out (mocked S3, to page without writing 1000 objects).
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { gunzipSync } from 'zlib';
import { startSqs, type SqsEmulator } from '../../local/emulators/sqs';
import { S3ShardStore } from '../../lambdas/detect/shard-store';

const BUCKET = 'linkage-records-test';
const creds = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('S3ShardStore on the local S3', () => {
  let emu: SqsEmulator;
  let s3: S3Client;

  beforeAll(async () => {
    emu = await startSqs();
    s3 = new S3Client({ endpoint: emu.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: creds });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }, 60_000);

  afterAll(async () => {
    s3?.destroy();
    await emu?.stop();
  });

  test('put, get (gzip on the wire) and list under a run prefix', async () => {
    const store = new S3ShardStore(s3, BUCKET);
    const body = JSON.stringify({ accounts: Array.from({ length: 500 }, (_, i) => `acct_${i}`) });
    await store.put('runs/r1/index/0.json', body);
    await store.put('runs/r1/index/1.json', '[]');
    await store.put('runs/r2/index/0.json', '{}');
    expect(await store.get('runs/r1/index/0.json')).toBe(body);
    const raw = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/index/0.json' }));
    const bytes = await raw.Body!.transformToByteArray();
    expect(bytes.length).toBeLessThan(body.length / 3);
    expect(gunzipSync(bytes).toString('utf8')).toBe(body);
    expect(await store.list('runs/r1/')).toEqual(['runs/r1/index/0.json', 'runs/r1/index/1.json']);
    expect(await store.list('runs/r3/')).toEqual([]);
  });

  test('an object another writer put uncompressed is read as it is', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'runs/r1/plain.json', Body: '{"a":1}' }));
    expect(await new S3ShardStore(s3, BUCKET).get('runs/r1/plain.json')).toBe('{"a":1}');
  });

  test('a missing key throws, naming the key and the bucket', async () => {
    await expect(new S3ShardStore(s3, BUCKET).get('runs/r1/none.json')).rejects.toThrow(
      `shard store: no object runs/r1/none.json in bucket ${BUCKET}`,
    );
    await expect(new S3ShardStore(s3, BUCKET).getPart('runs/r1/none', 0)).rejects.toThrow('shard store: no object runs/r1/none.parts');
  });

  test('an object in parts: each part alone by a ranged read, gzip per part, the index not listed', async () => {
    const store = new S3ShardStore(s3, BUCKET);
    const big = Array.from({ length: 300 }, (_, i) => `["t:é${i}",${i},0]`).join('\n') + '\n';
    await store.putParts(
      'runs/p/occurrences/1',
      new Map([
        [3, big],
        [0, '["ip:x",2,1]\n'],
      ]),
    );
    expect(await store.getPart('runs/p/occurrences/1', 3)).toBe(big);
    expect(await store.getPart('runs/p/occurrences/1', 0)).toBe('["ip:x",2,1]\n');
    expect(await store.getPart('runs/p/occurrences/1', 7)).toBe('');
    expect(await store.list('runs/p/')).toEqual(['runs/p/occurrences/1']);
    const raw = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'runs/p/occurrences/1' }));
    expect((await raw.Body!.transformToByteArray()).length).toBeLessThan(big.length / 3);
  });
});

describe('S3ShardStore requests', () => {
  // installed only now: it replaces S3Client's send for every client, the local ones above included
  let s3Mock: ReturnType<typeof mockClient>;
  beforeAll(() => (s3Mock = mockClient(S3Client)));
  afterEach(() => s3Mock.reset());
  afterAll(() => s3Mock.restore());

  test('every put is SSE-KMS with the given key (Bucket Key on)', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const key = 'arn:aws:kms:us-east-1:123456789012:key/abc';
    await new S3ShardStore(new S3Client({ region: 'us-east-1' }), BUCKET, { kmsKeyId: key }).put('runs/r/x', 'x');
    expect(s3Mock.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({
      Bucket: BUCKET,
      Key: 'runs/r/x',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: key,
      BucketKeyEnabled: true,
      ContentEncoding: 'gzip',
    });
  });

  test('a part is one ranged GET of its bytes (after the index)', async () => {
    const index = JSON.stringify({ 0: [0, 10], 5: [10, 42] });
    const { gzipSync } = jest.requireActual('zlib') as typeof import('zlib');
    s3Mock
      .on(GetObjectCommand, { Key: 'runs/r/x.parts' })
      .resolves({ Body: { transformToByteArray: async () => gzipSync(index) } } as never)
      .on(GetObjectCommand, { Key: 'runs/r/x' })
      .resolves({ Body: { transformToByteArray: async () => gzipSync('five') } } as never);
    expect(await new S3ShardStore(new S3Client({ region: 'us-east-1' }), BUCKET).getPart('runs/r/x', 5)).toBe('five');
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => [c.args[0].input.Key, c.args[0].input.Range])).toEqual([
      ['runs/r/x.parts', undefined],
      ['runs/r/x', 'bytes=10-41'],
    ]);
  });

  test('list follows continuation tokens and returns the keys sorted', async () => {
    s3Mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({ Contents: [{ Key: 'runs/r/b' }, { Key: 'runs/r/b.parts' }], IsTruncated: true, NextContinuationToken: 't1' })
      .on(ListObjectsV2Command, { ContinuationToken: 't1' })
      .resolves({ Contents: [{ Key: 'runs/r/a' }], IsTruncated: false });
    expect(await new S3ShardStore(new S3Client({ region: 'us-east-1' }), BUCKET).list('runs/r/')).toEqual(['runs/r/a', 'runs/r/b']);
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(2);
  });
});
