/**
 * The object aggregator Lambda (lambdas/aggregate/object-handler.ts, the Firehose ingestion path) against real
 * emulators: fauxqs for S3 (the gzip'd objects Firehose writes, read by the handler's own S3Client through
 * AWS_ENDPOINT_URL_S3) and SQS (the S3 event notification is sent to a queue and received from it, then handed
 * to the handler as the SQS event source mapping would), DynamoDB Local for the features table. The features
 * must equal those the Kinesis path (CloudWatch envelopes through lambdas/aggregate/core.ts) stores for the same
 * access-log lines.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { startSqs, type SqsEmulator } from '../../local/emulators/sqs';
import { ReplayAggregator, canonicalWindow, type Window } from '../../src/aggregate';
import { processBatch } from '../../lambdas/aggregate/core';
import { TrafficGen, envelopeData } from '../../bench/synthetic';
import { kinesisRecord, readModelFirstSeen, readWindows, scanAll } from '../../bench/kinesis-records';
import { aggregatorEnv, startDdb, type DdbFixture } from './fixture';

const BUCKET = 'distill-guard-access-logs-test';
const creds = { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' };
let fx: DdbFixture;
let emu: SqsEmulator;
let s3: S3Client;
let sqs: SQSClient;
let inbox: string;
let dlq: string;
let handler: (e: SQSEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;
const saved = { ...process.env };

beforeAll(async () => {
  [fx, emu] = await Promise.all([startDdb(), startSqs()]);
  s3 = new S3Client({ endpoint: emu.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: creds });
  sqs = new SQSClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: creds });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  inbox = (await sqs.send(new CreateQueueCommand({ QueueName: 'objects' }))).QueueUrl!;
  dlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'objects-dlq' }))).QueueUrl!;
  Object.assign(
    process.env,
    aggregatorEnv(fx.emu.endpoint, emu.endpoint, {
      // fauxqs serves S3 on the same port; an IP endpoint makes the SDK use path-style URLs by itself
      AWS_ENDPOINT_URL_S3: emu.endpoint,
      PARK_QUEUE_URL: dlq,
    }),
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require('../../lambdas/aggregate/object-handler').handler;
}, 180_000);

afterAll(async () => {
  process.env = saved;
  s3?.destroy();
  sqs?.destroy();
  await Promise.all([fx?.stop(), emu?.stop()]);
});

const sortKey = (w: Window) => `${w.accountId}\u0000${String(w.windowStart).padStart(15, '0')}`;
const sorted = (ws: Window[]) => [...ws].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));

/** The S3 event notification S3 sends for a new object (what the SQS message body holds). */
function notification(key: string, size: number): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'objects',
          bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size, eTag: 'x' },
        },
      },
    ],
  });
}

/** Send bodies through the fauxqs queue and receive them back as the event source mapping would deliver them. */
async function viaQueue(bodies: string[]): Promise<SQSEvent> {
  for (const b of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: inbox, MessageBody: b }));
  const got: Message[] = [];
  while (got.length < bodies.length) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: inbox, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    got.push(...(r.Messages ?? []));
  }
  const records: SQSRecord[] = got.map((m) => ({
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body!,
    attributes: (m.Attributes ?? {}) as unknown as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: m.MD5OfBody!,
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:objects',
    awsRegion: 'us-east-1',
  }));
  // keep the send order (fauxqs is FIFO-ish for a standard queue, but do not rely on it)
  records.sort((a, b) => bodies.indexOf(a.body) - bodies.indexOf(b.body));
  return { Records: records };
}

async function putObject(key: string, body: Buffer): Promise<string> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  return notification(key, body.length);
}

let objectSeq = 0;
function firehoseKey(): string {
  // the shape of a Firehose object key under the construct's prefix
  return `access-logs/2026/11/28/10/amazon-apigateway-distill-guard-test-1-2026-11-28-10-${String(objectSeq++).padStart(2, '0')}-00-${'0'.repeat(8)}.gz`;
}

describe('object aggregator handler', () => {
  it('stores exactly the features the Kinesis path stores for the same access-log lines', async () => {
    const objectsTable = await fx.table();
    const kinesisTable = await fx.table();
    process.env.FEATURES_TABLE = objectsTable;
    const g = new TrafficGen({ seed: 21, accounts: 9, stepMs: 1200, start: Date.now() - 2 * 3600_000 });
    const expected = new ReplayAggregator();
    const bodies: string[] = [];
    const envelopes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const recs = g.records(150);
      for (const r of recs) expected.addLogLine(r);
      const lines = recs.map((r) => JSON.stringify(r));
      // three framings: newline-delimited (the delivery stream's delimiter processor), concatenated, and both
      const text = i % 3 === 0 ? lines.join('\n') + '\n' : i % 3 === 1 ? lines.join('') : lines.map((l, k) => (k % 2 ? l : l + '\n')).join('');
      bodies.push(await putObject(firehoseKey(), gzipSync(text)));
      for (let k = 0; k < recs.length; k += 25) envelopes.push(envelopeData(recs.slice(k, k + 25)));
    }

    const res = await handler(await viaQueue(bodies));
    expect(res.batchItemFailures).toEqual([]);
    const viaObjects = await readWindows(fx.ddb, objectsTable);

    const kin = await processBatch(
      envelopes.map((d, i) => kinesisRecord(d, 0, i)),
      { ddb: fx.ddb, tableName: kinesisTable, retentionDays: 30 },
    );
    expect(kin.response.batchItemFailures).toEqual([]);
    const viaKinesis = await readWindows(fx.ddb, kinesisTable);

    expect(viaObjects.reduce((s, w) => s + w.n, 0)).toBe(900);
    expect(sorted(viaObjects)).toEqual(sorted(viaKinesis));
    expect(sorted(viaObjects)).toEqual(sorted(expected.store.allWindows().map(canonicalWindow)));
    expect(await readModelFirstSeen(fx.ddb, objectsTable)).toEqual(await readModelFirstSeen(fx.ddb, kinesisTable));

    // every window item carries the object's marker; the same messages delivered again change nothing
    const before = await scanAll(fx.ddb, objectsTable);
    expect(before.filter((i) => i.pk.S!.startsWith('A#')).every((i) => (i.wo?.SS ?? []).length > 0)).toBe(true);
    expect((await handler(await viaQueue(bodies))).batchItemFailures).toEqual([]);
    expect(await scanAll(fx.ddb, objectsTable)).toEqual(before);
  });

  it('skips and counts malformed lines, parks corrupt and missing objects, fails only what must be retried', async () => {
    const t = await fx.table();
    process.env.FEATURES_TABLE = t;
    const g = new TrafficGen({ seed: 22, accounts: 3, stepMs: 1000, start: Date.now() - 3600_000 });
    const ok = g.records(20);
    const r = g.nextRecord();
    const good1 = await putObject(
      firehoseKey(),
      gzipSync(
        [
          ...ok.slice(0, 10).map((x) => JSON.stringify(x)),
          '{"requestId": "truncated',
          JSON.stringify({ ...r, accountId: '-' }),
          JSON.stringify({ ...r, requestTimeEpoch: String(Date.now() + 40 * 86_400_000) }),
          JSON.stringify({ ...r, userAgent: 'x'.repeat(50_000) }),
          'GET /index.html',
        ].join('\n'),
      ),
    );
    const gz = gzipSync(
      g
        .records(50)
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const corrupt = await putObject(firehoseKey(), gz.subarray(0, Math.floor(gz.length / 2)));
    const missing = notification('access-logs/2026/11/28/10/never-written.gz', 10);
    const good2 = await putObject(
      firehoseKey(),
      gzipSync(
        ok
          .slice(10)
          .map((x) => JSON.stringify(x))
          .join(''),
      ),
    );
    const garbage = JSON.stringify({ hello: 'not an s3 event' });
    const testEvent = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: BUCKET });
    const event = await viaQueue([good1, corrupt, missing, good2, garbage, testEvent]);

    const out: string[] = [];
    const spyLog = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      out.push(args.map(String).join(' '));
    });
    let res;
    try {
      res = await handler(event);
    } finally {
      spyLog.mockRestore();
    }
    // only the message that is not an S3 event is failed (SQS redrives it to the DLQ after maxReceiveCount)
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: event.Records.find((x) => x.body === garbage)!.messageId }]);
    const ws = await readWindows(fx.ddb, t);
    expect(ws.reduce((s, w) => s + w.n, 0)).toBe(20);

    const parked = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const bodies = (parked.Messages ?? []).map((m) => JSON.parse(m.Body!));
    expect(bodies.map((b) => b.reason).sort()).toEqual(['gunzip-failed', 'object-missing']);
    for (const b of bodies) expect(b).toMatchObject({ source: 'distill-guard/aggregator', kind: 'poison-object', bucket: BUCKET });

    const docs = out
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    const main = docs.find((d) => d.ObjectsIn !== undefined);
    expect(main).toMatchObject({ ObjectsIn: 4, ObjectsParked: 2, EventsAggregated: 20 });
    expect(main.IngestLagSeconds).toBeDefined();
    const byReason = Object.fromEntries(docs.filter((d) => d.reason).map((d) => [d.reason, d.RecordsSkipped]));
    expect(byReason).toMatchObject({
      'not-json': 2,
      'missing-account-id': 1,
      'timestamp-out-of-range': 1,
      'line-too-large': 1,
      'gunzip-failed': 1,
      'object-missing': 1,
      'not-s3-event': 1,
    });
  });
});
