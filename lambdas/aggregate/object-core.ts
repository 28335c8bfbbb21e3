/**
 * The aggregator's S3-object source (the Firehose ingestion path, `ingestPath: 'firehose'`): API Gateway access
 * logs -> Amazon Data Firehose -> gzip'd objects in S3 -> S3 event notification -> SQS -> this code. It reads the
 * object, splits it into access-log records (src/ingest/object.ts: streaming gunzip, newline-delimited or
 * concatenated JSON), and feeds every record through exactly the same parser, pre-aggregation and conditional
 * writes as the Kinesis path (`ParseContext` and `writeAggregate` in core.ts). Separated from the Lambda entry
 * point (object-handler.ts) so tests can drive it with their own clients.
 *
 * Exactly-once (docs/aggregate.md, "S3 objects"). SQS delivers a notification at least once, a crashed or timed
 * out invocation is redelivered after the visibility timeout, and two deliveries of one object can even run at
 * the same time. Objects are not ordered, so the Kinesis path's per-lane sequence watermark does not apply (a lane
 * per object would add one watermark attribute per object to every item the object touches). Instead:
 *
 * - The object's records are cut into chunks of `chunkRecords` records (by record index, which depends only on
 *   the object's bytes, so every delivery cuts the same chunks). A chunk is pre-aggregated into one delta per
 *   (account, window) and written only once all its records are decoded.
 * - Each delta is written with ONE UpdateItem that adds the counters AND adds the chunk id
 *   (`<object id><chunk index>`, 11 characters) to the item's `wo` string set, under the condition
 *   `NOT contains(wo, :id)`. Counters and marker change together or not at all.
 * - A failed condition with the id already in the set means "this chunk was already applied to this item": the
 *   write is skipped. So a redelivered object, or one that crashed halfway through its writes, re-reads the object
 *   and applies exactly the (item, chunk) pairs that are missing: a partially processed object resumes.
 *
 * An item carries one 11-byte id per chunk that touched it (with the default 60 s / 64 MiB buffers, one chunk per
 * object, i.e. at most ~60 per account-hour), instead of a watermark attribute per object.
 *
 * Failures: a write that fails after the SDK's retries leaves the message for redelivery (batch item failure);
 * the markers make the replay exact. A corrupt object (gzip stream broken, decompression bomb, a missing object)
 * never succeeds on retry, so it is parked on the dead-letter queue with the reason and the chunks already
 * applied (the complete chunks before the corruption are the same on every attempt, so they stay applied exactly
 * once), and the message counts as processed: it does not block the queue.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { IngestStats, decodeObject, eventTimeMs, objectId, type S3ObjectRef, type SkipReason } from '../../src/ingest';
import { BatchAggregator, BatchDeduper } from '../../src/aggregate';
import { ItemStateCache, ParseContext, writeAggregate, type AggregatorDeps, type WriteCounters } from './core';

/**
 * Records per chunk: the unit of one write per (account, window). Part of the exactly-once id, so it is a constant
 * (a change takes effect for new objects; an object redelivered across the change would be cut differently). At
 * ~440 bytes per record, 262,144 records are ~110 MiB: objects of the default 64 MiB buffers are one chunk.
 */
export const OBJECT_CHUNK_RECORDS = 262_144;

/** Largest object (as stored, i.e. gzip'd) the aggregator reads into memory; Firehose writes at most ~128 MiB raw. */
export const MAX_OBJECT_BYTES = 256 * 1024 * 1024;

export interface ObjectDeps extends AggregatorDeps {
  s3: Pick<S3Client, 'send'>;
  /** Parks corrupt objects (the object queue's dead-letter queue). Without it they are retried until SQS redrives them. */
  parkQueueUrl?: string;
  sqs?: Pick<SQSClient, 'send'>;
  /** @default OBJECT_CHUNK_RECORDS (tests use small chunks) */
  chunkRecords?: number;
  /** @default MAX_OBJECT_BYTES */
  maxObjectBytes?: number;
}

export interface ObjectOutcome extends WriteCounters {
  /** `done`: every chunk applied; `parked`: the object cannot be read (corrupt, missing), parked, not retried; `retry`: leave the message for redelivery. */
  status: 'done' | 'parked' | 'retry';
  reason?: SkipReason;
  detail?: string;
  stats: IngestStats;
  events: number;
  usageMismatches: number;
  usageMismatchSamples: Array<{ requestId: string; usageAccountId: string; logAccountId: string }>;
  /** Chunks written (or found already written) in this attempt. */
  chunks: number;
  /** Stored (gzip'd) and decompressed bytes. */
  bytesIn: number;
  bytesOut: number;
  /** Oldest and newest request time in the object (ms), for the ingest-latency metrics. */
  oldestTs?: number;
  newestTs?: number;
  /** When S3 created the object (ms), from the event. */
  createdAt?: number;
  parked: boolean;
}

class ObjectReadError extends Error {}

function emptyOutcome(stats: IngestStats): ObjectOutcome {
  return {
    status: 'done',
    stats,
    events: 0,
    usageMismatches: 0,
    usageMismatchSamples: [],
    deltas: 0,
    writes: 0,
    duplicatesSuppressed: 0,
    conditionalRetries: 0,
    failedWrites: 0,
    chunks: 0,
    bytesIn: 0,
    bytesOut: 0,
    parked: false,
  };
}

/** Fetch the whole (compressed) object. Permanent problems return a reason; transient ones throw. */
async function fetchObject(
  ref: S3ObjectRef,
  deps: ObjectDeps,
): Promise<{ bytes: Uint8Array } | { reason: 'object-missing' | 'record-too-large'; detail: string }> {
  let res;
  try {
    res = await deps.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }));
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    // Strongly consistent S3: a created object that is gone was deleted (lifecycle expiry before processing).
    if (name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound') return { reason: 'object-missing', detail: name };
    throw err;
  }
  const max = deps.maxObjectBytes ?? MAX_OBJECT_BYTES;
  if (res.ContentLength !== undefined && res.ContentLength > max) {
    (res.Body as { destroy?: () => void } | undefined)?.destroy?.();
    return { reason: 'record-too-large', detail: `${res.ContentLength} bytes > ${max}` };
  }
  if (!res.Body) throw new ObjectReadError(`getobject returned no body for s3://${ref.bucket}/${ref.key}`);
  const bytes = await res.Body.transformToByteArray();
  // A body shorter than announced is a broken transfer, not a corrupt object: retry.
  if (res.ContentLength !== undefined && bytes.length !== res.ContentLength) {
    throw new ObjectReadError(`read ${bytes.length} of ${res.ContentLength} bytes of s3://${ref.bucket}/${ref.key}`);
  }
  return { bytes };
}

interface Chunk {
  index: number;
  ctx: ParseContext;
}

/** Read one S3 object and apply it to the features table exactly once. Throws only on transient read errors. */
export async function processObject(ref: S3ObjectRef, deps: ObjectDeps): Promise<ObjectOutcome> {
  const stats = new IngestStats();
  const out = emptyOutcome(stats);
  out.createdAt = eventTimeMs(ref);
  stats.records++;
  const fetched = await fetchObject(ref, deps);
  if (!('bytes' in fetched)) {
    stats.skip(fetched.reason);
    return park(ref, deps, out, fetched.reason, fetched.detail);
  }
  out.bytesIn = fetched.bytes.length;

  const id = objectId(ref.bucket, ref.key, ref.versionId);
  const per = deps.chunkRecords ?? OBJECT_CHUNK_RECORDS;
  const parseOpts = { ...deps.parse, now: (deps.now ?? Date.now)() };
  const cache = deps.cache ?? new ItemStateCache();
  // Producer duplicates within the object (one filter across its chunks: the same lines are dropped on every attempt).
  const dedupe = new BatchDeduper();
  const newChunk = (index: number): Chunk => ({ index, ctx: new ParseContext(new BatchAggregator(false), parseOpts, stats, dedupe) });
  let current = newChunk(0);
  let inChunk = 0;
  const ready: Chunk[] = [];
  let failed = false;
  let written = 0;

  const flush = async (c: Chunk): Promise<void> => {
    c.ctx.finish(out);
    // events of chunks that were written (a parked object's partial chunk is parsed but never written)
    written += c.ctx.agg.requests + c.ctx.agg.usage;
    out.events = written;
    for (const d of c.ctx.agg.deltas.values()) {
      const a = d.acc;
      if (a.n === 0) continue;
      if (out.oldestTs === undefined || a.firstTs < out.oldestTs) out.oldestTs = a.firstTs;
      if (out.newestTs === undefined || a.lastTs > out.newestTs) out.newestTs = a.lastTs;
    }
    const r = await writeAggregate(c.ctx.agg, deps, cache, out, `${id}${c.index}`);
    if (r.failedDeltas.length > 0 || r.modelFailed) failed = true;
    out.chunks++;
  };
  const next = (): void => {
    if (++inChunk < per) return;
    // the chunk is complete: every record of it has been decoded; write it before going on (bounded memory)
    ready.push(current);
    current = newChunk(current.index + 1);
    inChunk = 0;
  };

  const decoded = await decodeObject(
    fetched.bytes,
    {
      record(text) {
        current.ctx.line(text, undefined, () => ({ key: ref.key, chunk: current.index }));
        next();
      },
      tooLarge() {
        current.ctx.skipLine('line-too-large', { key: ref.key, chunk: current.index });
        next();
      },
    },
    async () => {
      while (ready.length > 0) await flush(ready.shift()!);
    },
  );
  out.bytesOut = decoded.bytesOut;
  const samples = [...ready, current].flatMap((c) => c.ctx.lineSamples);
  if (samples.length > 0) deps.log?.warn('skipped malformed lines', { key: ref.key, samples: samples.slice(0, 5), skippedByReason: stats.byReason });
  if (!decoded.ok) {
    // Complete chunks before the failure are the same on every attempt: apply them. The partial chunk is dropped.
    while (ready.length > 0) await flush(ready.shift()!);
    stats.skip(decoded.reason);
    return park(ref, deps, out, decoded.reason, decoded.detail);
  }
  if (inChunk > 0 || out.chunks === 0) await flush(current);
  if (failed) out.status = 'retry';
  return out;
}

async function park(
  ref: S3ObjectRef,
  deps: ObjectDeps,
  out: ObjectOutcome,
  reason: NonNullable<ObjectOutcome['reason']>,
  detail?: string,
): Promise<ObjectOutcome> {
  out.reason = reason;
  out.detail = detail;
  deps.log?.warn('object cannot be read: parked', {
    bucket: ref.bucket,
    key: ref.key,
    reason,
    detail,
    chunksApplied: out.chunks,
    bytesIn: out.bytesIn,
  });
  if (!deps.sqs || !deps.parkQueueUrl) {
    out.status = 'retry';
    return out;
  }
  try {
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.parkQueueUrl,
        MessageBody: JSON.stringify({
          source: 'distill-guard/aggregator',
          kind: 'poison-object',
          reason,
          detail,
          bucket: ref.bucket,
          key: ref.key,
          versionId: ref.versionId,
          size: ref.size,
          eTag: ref.eTag,
          eventTime: ref.eventTime,
          chunksApplied: out.chunks,
          linesBeforeFailure: out.stats.lines,
        }),
      }),
    );
    out.status = 'parked';
    out.parked = true;
  } catch (err) {
    deps.log?.error('could not park a corrupt object; leaving it for redelivery', { key: ref.key, error: String(err) });
    out.status = 'retry';
  }
  return out;
}
