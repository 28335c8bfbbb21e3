/**
 * Event source mapping pollers with Lambda's documented semantics, reading the emulators through the AWS SDK:
 *
 * Streams (Kinesis, DynamoDB Streams), per shard, in order:
 * - a batch is up to `BatchSize` records, gathered for at most `MaximumBatchingWindowInSeconds`;
 * - `FilterCriteria` drop non-matching records before the invocation (they count as processed);
 * - on a function error: with `BisectBatchOnFunctionError` the batch is split in two and each half retried
 *   (a split does not use a retry); a batch that keeps failing is retried up to `MaximumRetryAttempts` (-1 =
 *   until the record expires) and dropped once `MaximumRecordAgeInSeconds` is exceeded; a dropped batch's
 *   metadata goes to the `OnFailure` destination in the AWS format (`KinesisBatchInfo` / `DDBStreamBatchInfo`);
 * - `ReportBatchItemFailures`: the checkpoint moves to the lowest failed sequence number, and the rest of the
 *   batch from there is retried (an invalid or empty `itemIdentifier` fails the whole batch);
 * - `ParallelizationFactor` > 1 processes records of different partition keys concurrently, keeping order per key.
 * SQS: long-polls, deletes what succeeded, leaves failures to the queue's visibility timeout and redrive policy.
 *
 * Hand-written: the emulators do not run event source mappings, and no npm library does this without Docker.
 */
import { randomUUID } from 'crypto';
import {
  DescribeStreamCommand as DescribeDdbStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand as GetDdbRecordsCommand,
  GetShardIteratorCommand as GetDdbShardIteratorCommand,
  _Record as DdbRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { matchesEventPattern } from '../services/event-pattern';
import { InvokeResult } from './lambda-runner';
import { EventSourceMappingModel, parseArn } from './template';

export type Invoke = (functionName: string, event: unknown) => Promise<InvokeResult>;

/** Delivers an on-failure record (SQS queue, SNS topic, ...) given its ARN. */
export type DestinationSender = (destinationArn: string, message: Record<string, unknown>) => Promise<void>;

export interface MappingStats {
  uuid: string;
  logicalId: string;
  kind: string;
  functionName: string;
  /** records read from the source */
  recordsRead: number;
  /** records dropped by FilterCriteria */
  recordsFiltered: number;
  /** records handed to the function in a batch that finally succeeded (or was partially accepted) */
  recordsDelivered: number;
  /** records sent to the on-failure destination (or dropped when there is none) */
  recordsDiscarded: number;
  invocations: number;
  functionErrors: number;
  bisections: number;
  retries: number;
  /** ms between the newest record's arrival and now, at the last batch; 0 when caught up */
  iteratorAgeMs: number;
  /** true when every shard has been read up to its end at the last poll */
  caughtUp: boolean;
}

export interface PollerOptions {
  readonly region: string;
  readonly accountId: string;
  /** Sleep between empty polls. @default 200 ms (AWS polls each shard about once per second) */
  readonly idlePollMs?: number;
  /** Back-off before a retry. @default 100 ms, doubling to 2 s */
  readonly retryBaseMs?: number;
  /**
   * Deliver a partial batch as soon as the shard is read to its end instead of waiting out
   * MaximumBatchingWindowInSeconds (a local deviation that keeps log-time driving fast; batches still fill up
   * to BatchSize while records keep coming). @default false (AWS semantics)
   */
  readonly flushWhenCaughtUp?: boolean;
  readonly log?: (msg: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface StreamRecord {
  sequenceNumber: string;
  partitionKey: string;
  arrivalMs: number;
  /** the record as the Lambda event carries it */
  event: Record<string, unknown>;
}

export abstract class Poller {
  readonly stats: MappingStats;
  protected stopped = false;
  protected loops: Promise<void>[] = [];

  constructor(
    readonly mapping: EventSourceMappingModel,
    protected readonly invoke: Invoke,
    protected readonly sendDestination: DestinationSender,
    protected readonly opts: PollerOptions,
  ) {
    this.stats = {
      uuid: mapping.uuid,
      logicalId: mapping.logicalId,
      kind: mapping.kind,
      functionName: mapping.functionName,
      recordsRead: 0,
      recordsFiltered: 0,
      recordsDelivered: 0,
      recordsDiscarded: 0,
      invocations: 0,
      functionErrors: 0,
      bisections: 0,
      retries: 0,
      iteratorAgeMs: 0,
      caughtUp: false,
    };
  }

  abstract start(): Promise<void>;

  /**
   * When the least recently polled shard last completed a read (ms; Infinity when there is no active shard):
   * a caller that waits until this passes a moment knows every shard has been read since then.
   */
  oldestPollAt(): number {
    return Infinity;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.loops);
  }

  protected log(msg: string): void {
    this.opts.log?.(`[esm ${this.mapping.logicalId}] ${msg}`);
  }

  protected matches(record: Record<string, unknown>): boolean {
    const f = this.mapping.filterPatterns;
    if (f.length === 0) return true;
    return f.some((p) => matchesEventPattern(p, record));
  }
}

// ------------------------------------------------------------------------------------------------------------
// Stream pollers (shared batch logic)
// ------------------------------------------------------------------------------------------------------------

/** Every shard of a stream, following the service's paging token (Kinesis ListShards, DynamoDB Streams DescribeStream). */
async function pagedShards(
  page: (token: string | undefined) => Promise<{ shards?: Array<{ ShardId?: string; ParentShardId?: string }>; next?: string }>,
): Promise<Array<{ shardId: string; parentShardId?: string }>> {
  const out: Array<{ shardId: string; parentShardId?: string }> = [];
  let token: string | undefined;
  do {
    const r = await page(token);
    for (const s of r.shards ?? []) out.push({ shardId: s.ShardId!, parentShardId: s.ParentShardId });
    token = r.next;
  } while (token);
  return out;
}

abstract class StreamPoller extends Poller {
  /** Per shard: caught up at the last read? */
  private readonly shardCaughtUp = new Map<string, boolean>();

  protected abstract listShards(): Promise<Array<{ shardId: string; parentShardId?: string }>>;
  protected abstract iterator(shardId: string, position: 'TRIM_HORIZON' | 'LATEST', afterSequenceNumber?: string): Promise<string | undefined>;
  protected abstract read(shardId: string, iterator: string, limit: number): Promise<{ records: StreamRecord[]; next?: string; behindMs?: number }>;
  protected abstract batchInfoKey: 'KinesisBatchInfo' | 'DDBStreamBatchInfo';
  protected abstract sourceArn(): string;

  async start(): Promise<void> {
    const known = new Set<string>();
    const initial = await this.listShards();
    const startPos = this.mapping.startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON';
    for (const s of initial) {
      known.add(s.shardId);
      const it = await this.iterator(s.shardId, startPos);
      if (it) this.loops.push(this.shardLoop(s.shardId, it));
    }
    // Discover shards that appear later (DynamoDB Streams rolls shards; Kinesis may reshard).
    this.loops.push(
      (async () => {
        while (!this.stopped) {
          await sleep(2000);
          if (this.stopped) break;
          try {
            for (const s of await this.listShards()) {
              if (known.has(s.shardId)) continue;
              known.add(s.shardId);
              const it = await this.iterator(s.shardId, 'TRIM_HORIZON');
              if (it) this.loops.push(this.shardLoop(s.shardId, it));
            }
          } catch (err) {
            this.log(`shard discovery failed: ${(err as Error).message}`);
          }
        }
      })(),
    );
  }

  private readonly shardPolledAt = new Map<string, number>();
  oldestPollAt(): number {
    return this.shardPolledAt.size ? Math.min(...this.shardPolledAt.values()) : Infinity;
  }

  private readonly shardAge = new Map<string, number>();
  private setAge(shardId: string, ms: number): void {
    this.shardAge.set(shardId, ms);
    this.stats.iteratorAgeMs = Math.max(0, ...this.shardAge.values());
  }

  private updateCaughtUp(shardId: string, v: boolean): void {
    this.shardCaughtUp.set(shardId, v);
    this.stats.caughtUp = [...this.shardCaughtUp.values()].every(Boolean);
  }

  private async shardLoop(shardId: string, firstIterator: string): Promise<void> {
    let iterator: string | undefined = firstIterator;
    let buffer: StreamRecord[] = [];
    let windowStart = 0;
    let lastSeq: string | undefined;
    this.shardPolledAt.set(shardId, 0);
    const m = this.mapping;
    const windowMs = m.maximumBatchingWindowInSeconds * 1000;
    const idle = this.opts.idlePollMs ?? 200;
    this.updateCaughtUp(shardId, false);
    while (!this.stopped) {
      let got: StreamRecord[] = [];
      let behindMs = 0;
      if (iterator && buffer.length < m.batchSize) {
        try {
          const r = await this.read(shardId, iterator, Math.min(10000, m.batchSize - buffer.length));
          got = r.records;
          iterator = r.next;
          if (got.length) lastSeq = got[got.length - 1].sequenceNumber;
          behindMs = r.behindMs ?? 0;
        } catch (err) {
          const name = (err as Error).name;
          this.log(`read failed on ${shardId}: ${name}: ${(err as Error).message}`);
          if (name === 'ExpiredIteratorException' || name === 'TrimmedDataAccessException') {
            // Renew the iterator after the last record read (or from the trim horizon when nothing was read, or
            // when that position itself was trimmed, as Lambda does).
            try {
              iterator = await this.iterator(shardId, 'TRIM_HORIZON', lastSeq);
            } catch (e) {
              this.log(`cannot renew the iterator after ${lastSeq} on ${shardId}: ${(e as Error).message}`);
              try {
                iterator = await this.iterator(shardId, 'TRIM_HORIZON');
              } catch (e2) {
                this.log(`cannot renew the iterator on ${shardId}: ${(e2 as Error).message}`);
              }
            }
          } else {
            await sleep(1000);
          }
          continue;
        }
      }
      this.stats.recordsRead += got.length;
      this.shardPolledAt.set(shardId, Date.now());
      if (got.length && buffer.length === 0) windowStart = Date.now();
      buffer.push(...got);
      const full = buffer.length >= m.batchSize;
      const windowDone = buffer.length > 0 && Date.now() - windowStart >= windowMs;
      const shardEnded = !iterator;
      const idleFlush = got.length === 0 && (windowMs === 0 || (this.opts.flushWhenCaughtUp === true && behindMs === 0));
      if (buffer.length > 0 && (full || windowDone || shardEnded || idleFlush)) {
        const batch = buffer.slice(0, m.batchSize);
        buffer = buffer.slice(batch.length);
        this.updateCaughtUp(shardId, false);
        // IteratorAge as Lambda reports it: the age of the last record of the batch when it is handed over.
        this.setAge(shardId, Math.max(0, Date.now() - batch[batch.length - 1].arrivalMs, behindMs));
        await this.processBatch(shardId, batch);
        continue;
      }
      if (got.length === 0) {
        if (buffer.length === 0) {
          this.updateCaughtUp(shardId, true);
          this.setAge(shardId, 0);
        }
        if (shardEnded && buffer.length === 0) {
          this.updateCaughtUp(shardId, true);
          this.shardCaughtUp.delete(shardId);
          this.shardPolledAt.delete(shardId);
          return;
        }
        await sleep(buffer.length > 0 ? Math.min(idle, Math.max(10, windowMs - (Date.now() - windowStart))) : idle);
      }
    }
  }

  /** Delivers a batch with retry/bisect/partial-failure semantics. Never throws. */
  private async processBatch(shardId: string, records: StreamRecord[]): Promise<void> {
    const kept = records.filter((r) => this.matches(r.event));
    this.stats.recordsFiltered += records.length - kept.length;
    if (kept.length === 0) return;
    if (this.mapping.parallelizationFactor > 1) {
      const lanes = new Map<number, StreamRecord[]>();
      for (const r of kept) {
        let h = 0;
        for (let i = 0; i < r.partitionKey.length; i++) h = (h * 31 + r.partitionKey.charCodeAt(i)) | 0;
        const lane = Math.abs(h) % this.mapping.parallelizationFactor;
        lanes.set(lane, [...(lanes.get(lane) ?? []), r]);
      }
      await Promise.all([...lanes.values()].map((l) => this.deliver(shardId, l, 0)));
      return;
    }
    await this.deliver(shardId, kept, 0);
  }

  private async deliver(shardId: string, records: StreamRecord[], attempt: number): Promise<void> {
    const m = this.mapping;
    const base = this.opts.retryBaseMs ?? 100;
    let pending = records;
    let attempts = attempt;
    while (pending.length > 0 && !this.stopped) {
      const oldest = pending[0].arrivalMs;
      if (m.maximumRecordAgeInSeconds >= 0 && Date.now() - oldest > m.maximumRecordAgeInSeconds * 1000) {
        await this.discard(shardId, pending, 'RecordAgeExceeded', attempts, undefined);
        return;
      }
      this.stats.invocations++;
      let result: InvokeResult;
      try {
        result = await this.invoke(m.functionName, { Records: pending.map((r) => r.event) });
      } catch (err) {
        result = {
          ok: false,
          payload: { errorType: 'InvokeError', errorMessage: (err as Error).message },
          durationMs: 0,
          requestId: randomUUID(),
          coldStart: false,
        };
      }
      let failedFrom = -1;
      if (result.ok) {
        if (m.functionResponseTypes.includes('ReportBatchItemFailures')) {
          const failures = (result.payload as { batchItemFailures?: Array<{ itemIdentifier?: unknown }> } | null)?.batchItemFailures;
          if (Array.isArray(failures) && failures.length > 0) {
            const ids = failures.map((f) => f?.itemIdentifier);
            const idx = ids.map((id) => (typeof id === 'string' && id ? pending.findIndex((r) => r.sequenceNumber === id) : -1));
            failedFrom = idx.some((i) => i < 0) ? 0 : Math.min(...idx);
          }
        }
        if (failedFrom < 0) {
          this.stats.recordsDelivered += pending.length;
          return;
        }
        this.stats.recordsDelivered += failedFrom;
        pending = pending.slice(failedFrom);
      } else {
        this.stats.functionErrors++;
      }
      // Failure (whole batch or the tail from the lowest failed item).
      if (m.bisectBatchOnFunctionError && pending.length > 1) {
        this.stats.bisections++;
        const half = Math.ceil(pending.length / 2);
        await this.deliver(shardId, pending.slice(0, half), attempts);
        await this.deliver(shardId, pending.slice(half), attempts);
        return;
      }
      attempts++;
      if (m.maximumRetryAttempts >= 0 && attempts > m.maximumRetryAttempts) {
        await this.discard(shardId, pending, 'RetryAttemptsExhausted', attempts, result);
        return;
      }
      this.stats.retries++;
      await sleep(Math.min(2000, base * 2 ** Math.min(attempts - 1, 5)));
    }
  }

  private async discard(
    shardId: string,
    records: StreamRecord[],
    condition: string,
    attempts: number,
    result: InvokeResult | undefined,
  ): Promise<void> {
    const m = this.mapping;
    this.stats.recordsDiscarded += records.length;
    this.log(`${records.length} record(s) of ${shardId} dropped after ${attempts} attempt(s): ${condition}`);
    if (!m.onFailureDestinationArn) return;
    const fnArn = `arn:aws:lambda:${this.opts.region}:${this.opts.accountId}:function:${m.functionName}`;
    const message = {
      requestContext: { requestId: result?.requestId ?? randomUUID(), functionArn: fnArn, condition, approximateInvokeCount: attempts },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: result && !result.ok ? 'Unhandled' : undefined },
      version: '1.0',
      timestamp: new Date().toISOString(),
      [this.batchInfoKey]: {
        shardId,
        startSequenceNumber: records[0].sequenceNumber,
        endSequenceNumber: records[records.length - 1].sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(records[0].arrivalMs).toISOString(),
        approximateArrivalOfLastRecord: new Date(records[records.length - 1].arrivalMs).toISOString(),
        batchSize: records.length,
        streamArn: this.sourceArn(),
      },
    };
    try {
      await this.sendDestination(m.onFailureDestinationArn, message);
    } catch (err) {
      this.log(`on-failure destination ${m.onFailureDestinationArn} failed: ${(err as Error).message}`);
    }
  }
}

export class KinesisPoller extends StreamPoller {
  protected batchInfoKey = 'KinesisBatchInfo' as const;
  private readonly streamName: string;

  constructor(
    mapping: EventSourceMappingModel,
    private readonly client: KinesisClient,
    invoke: Invoke,
    send: DestinationSender,
    opts: PollerOptions,
  ) {
    super(mapping, invoke, send, opts);
    this.streamName = parseArn(mapping.eventSourceArn).resource.replace(/^stream\//, '');
  }

  protected sourceArn(): string {
    return this.mapping.eventSourceArn;
  }

  protected async listShards() {
    return pagedShards(async (token) => {
      const r = await this.client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.streamName }));
      return { shards: r.Shards, next: r.NextToken };
    });
  }

  protected async iterator(shardId: string, position: 'TRIM_HORIZON' | 'LATEST', after?: string) {
    const r = await this.client.send(
      new GetShardIteratorCommand(
        after
          ? { StreamName: this.streamName, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
          : { StreamName: this.streamName, ShardId: shardId, ShardIteratorType: position },
      ),
    );
    return r.ShardIterator;
  }

  protected async read(shardId: string, iterator: string, limit: number) {
    const r = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
    const region = this.opts.region;
    const records: StreamRecord[] = (r.Records ?? []).map((rec) => {
      const arrivalMs = rec.ApproximateArrivalTimestamp ? rec.ApproximateArrivalTimestamp.getTime() : Date.now();
      return {
        sequenceNumber: rec.SequenceNumber!,
        partitionKey: rec.PartitionKey ?? '',
        arrivalMs,
        event: {
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: rec.PartitionKey,
            sequenceNumber: rec.SequenceNumber,
            data: Buffer.from(rec.Data ?? new Uint8Array()).toString('base64'),
            approximateArrivalTimestamp: arrivalMs / 1000,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `${shardId}:${rec.SequenceNumber}`,
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: `arn:aws:iam::${this.opts.accountId}:role/local-esm`,
          awsRegion: region,
          eventSourceARN: this.mapping.eventSourceArn,
        },
      };
    });
    return { records, next: r.NextShardIterator, behindMs: r.MillisBehindLatest };
  }
}

function ddbRecordToEvent(rec: DdbRecord, arn: string): Record<string, unknown> {
  const d = rec.dynamodb ?? {};
  return {
    eventID: rec.eventID,
    eventName: rec.eventName,
    eventVersion: rec.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: rec.awsRegion,
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime ? Math.floor(new Date(d.ApproximateCreationDateTime).getTime() / 1000) : undefined,
      Keys: d.Keys,
      NewImage: d.NewImage,
      OldImage: d.OldImage,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
    eventSourceARN: arn,
    ...(rec.userIdentity ? { userIdentity: rec.userIdentity } : {}),
  };
}

export class DynamoDbStreamPoller extends StreamPoller {
  protected batchInfoKey = 'DDBStreamBatchInfo' as const;
  private streamArn = '';

  constructor(
    mapping: EventSourceMappingModel,
    private readonly tableName: string,
    private readonly ddb: DynamoDBClient,
    private readonly streams: DynamoDBStreamsClient,
    invoke: Invoke,
    send: DestinationSender,
    opts: PollerOptions,
  ) {
    super(mapping, invoke, send, opts);
  }

  protected sourceArn(): string {
    return this.mapping.eventSourceArn;
  }

  async start(): Promise<void> {
    const t = await this.ddb.send(new DescribeTableCommand({ TableName: this.tableName }));
    if (!t.Table?.LatestStreamArn) throw new Error(`table ${this.tableName} has no stream (event source mapping ${this.mapping.logicalId})`);
    this.streamArn = t.Table.LatestStreamArn;
    await super.start();
  }

  protected async listShards() {
    return pagedShards(async (last) => {
      const r = await this.streams.send(new DescribeDdbStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: last }));
      return { shards: r.StreamDescription?.Shards, next: r.StreamDescription?.LastEvaluatedShardId };
    });
  }

  protected async iterator(shardId: string, position: 'TRIM_HORIZON' | 'LATEST', after?: string) {
    const r = await this.streams.send(
      new GetDdbShardIteratorCommand(
        after
          ? { StreamArn: this.streamArn, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
          : { StreamArn: this.streamArn, ShardId: shardId, ShardIteratorType: position },
      ),
    );
    return r.ShardIterator;
  }

  protected async read(_shardId: string, iterator: string, limit: number) {
    const r = await this.streams.send(new GetDdbRecordsCommand({ ShardIterator: iterator, Limit: Math.min(1000, limit) }));
    const records: StreamRecord[] = (r.Records ?? []).map((rec) => {
      const created = rec.dynamodb?.ApproximateCreationDateTime ? new Date(rec.dynamodb.ApproximateCreationDateTime).getTime() : Date.now();
      const keys = JSON.stringify(rec.dynamodb?.Keys ?? {});
      return {
        sequenceNumber: rec.dynamodb?.SequenceNumber ?? '',
        partitionKey: keys,
        arrivalMs: created,
        event: ddbRecordToEvent(rec, this.mapping.eventSourceArn),
      };
    });
    return { records, next: r.NextShardIterator };
  }
}

// ------------------------------------------------------------------------------------------------------------
// SQS
// ------------------------------------------------------------------------------------------------------------

export class SqsPoller extends Poller {
  constructor(
    mapping: EventSourceMappingModel,
    private readonly queueUrl: string,
    private readonly client: SQSClient,
    invoke: Invoke,
    send: DestinationSender,
    opts: PollerOptions,
  ) {
    super(mapping, invoke, send, opts);
  }

  async start(): Promise<void> {
    const lanes = Math.max(1, Math.min(this.mapping.maximumConcurrency ?? 2, 5));
    for (let i = 0; i < lanes; i++) this.loops.push(this.loop());
  }

  private async loop(): Promise<void> {
    const m = this.mapping;
    const windowMs = m.maximumBatchingWindowInSeconds * 1000;
    while (!this.stopped) {
      const batch: Array<{
        MessageId?: string;
        ReceiptHandle?: string;
        Body?: string;
        Attributes?: Record<string, string>;
        MessageAttributes?: Record<string, unknown>;
        MD5OfBody?: string;
      }> = [];
      const started = Date.now();
      try {
        do {
          const r = await this.client.send(
            new ReceiveMessageCommand({
              QueueUrl: this.queueUrl,
              MaxNumberOfMessages: Math.min(10, m.batchSize - batch.length),
              WaitTimeSeconds: 1,
              MessageSystemAttributeNames: ['All'],
              MessageAttributeNames: ['All'],
            }),
          );
          batch.push(...(r.Messages ?? []));
          if (!r.Messages?.length) break;
        } while (batch.length < m.batchSize && Date.now() - started < windowMs && !this.stopped);
      } catch (err) {
        this.log(`receive failed: ${(err as Error).message}`);
        await sleep(1000);
        continue;
      }
      if (batch.length === 0) {
        this.stats.caughtUp = true;
        continue;
      }
      this.stats.caughtUp = false;
      this.stats.recordsRead += batch.length;
      const arn = m.eventSourceArn;
      const records = batch.map((msg) => ({
        messageId: msg.MessageId,
        receiptHandle: msg.ReceiptHandle,
        body: msg.Body,
        attributes: msg.Attributes ?? {},
        messageAttributes: msg.MessageAttributes ?? {},
        md5OfBody: msg.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: arn,
        awsRegion: this.opts.region,
      }));
      const kept = records.filter((r) => this.matches(r as unknown as Record<string, unknown>));
      const dropped = records.filter((r) => !kept.includes(r));
      this.stats.recordsFiltered += dropped.length;
      const toDelete = [...dropped];
      if (kept.length) {
        this.stats.invocations++;
        let result: InvokeResult | undefined;
        try {
          result = await this.invoke(m.functionName, { Records: kept });
        } catch (err) {
          this.log(`invoke failed: ${(err as Error).message}`);
        }
        if (result?.ok) {
          const failures = m.functionResponseTypes.includes('ReportBatchItemFailures')
            ? ((result.payload as { batchItemFailures?: Array<{ itemIdentifier?: string }> } | null)?.batchItemFailures ?? [])
            : [];
          const failedIds = new Set(failures.map((f) => f.itemIdentifier));
          const ok = kept.filter((r) => !failedIds.has(r.messageId));
          this.stats.recordsDelivered += ok.length;
          toDelete.push(...ok);
        } else this.stats.functionErrors++;
      }
      if (toDelete.length) {
        try {
          for (let i = 0; i < toDelete.length; i += 10) {
            await this.client.send(
              new DeleteMessageBatchCommand({
                QueueUrl: this.queueUrl,
                Entries: toDelete.slice(i, i + 10).map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle! })),
              }),
            );
          }
        } catch (err) {
          this.log(`delete failed: ${(err as Error).message}`);
        }
      }
    }
  }
}

/** Sends an on-failure / DLQ record to an SQS queue ARN (the only destination type the runtime needs locally). */
export function sqsDestinationSender(client: SQSClient, queueUrlForArn: (arn: string) => string | undefined): DestinationSender {
  return async (arn, message) => {
    const { service } = parseArn(arn);
    if (service !== 'sqs') throw new Error(`on-failure destination ${arn} is not an sqs queue; only sqs is supported locally`);
    const url = queueUrlForArn(arn);
    if (!url) throw new Error(`no local queue for ${arn}`);
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(message) }));
  };
}
