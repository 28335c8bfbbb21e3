/**
 * The aggregator's batch logic, separated from the Lambda entry point so tests (and the benchmark) can drive it
 * with their own clients: Kinesis records -> decode/parse (src/ingest) -> one delta per (account, window)
 * (src/aggregate) -> one conditional UpdateItem per delta, exactly once.
 *
 * Exactly-once under at-least-once delivery (docs/aggregate.md): every window item carries, per
 * delivery lane (the Kinesis shard, or shard + partition key when parallelizationFactor > 1), a watermark
 * `wm:<lane>` = the highest sequence number already applied to that item. The UpdateItem that adds a delta
 * also sets the watermark, under the condition that the stored watermark is below the delta's lowest sequence
 * number, in the same atomic request. A redelivered record is therefore either wholly in a write that already
 * landed (the condition fails; nothing is added) or not applied at all. On a failed condition the handler reads
 * the stored item (ReturnValuesOnConditionCheckFailure=ALL_OLD, else a consistent GetItem), rebuilds the delta
 * from only the records above the stored watermarks, and retries. The invariant "wm:<lane> = w means every
 * record of that lane with seq <= w that touches this item is applied, and none above" holds because Kinesis
 * delivers a lane's records in order and every retry (whole batch, bisected half, or from a checkpoint) is a
 * contiguous range of it.
 *
 * Not Powertools BatchProcessor: it calls a handler per record and reports per-record failures, but here a
 * record's effect is one share of a batch-wide pre-aggregated write (that is the whole point: one write per
 * (account, window) per batch). Partial batch responses are still returned: the lowest sequence number of any
 * record whose writes did not land.
 */
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { IngestStats, decodeRecord, parseEvent, type SkipReason, type ParseOptions, type UsageRecord } from '../../src/ingest';
import { redactedRecordSample } from '../../src/ingest/redact';
import {
  BatchAggregator,
  BatchDeduper,
  DuplicateMemory,
  hash53,
  type EventKind,
  compareSeq,
  deltaAbove,
  isUsage,
  itemAppliedObjects,
  itemWatermarks,
  planModelFirstSeen,
  planWindowUpdate,
  type EventSource,
  MODEL_SET_ATTR,
  SET_ATTR,
  SET_FIELDS,
  KNOWN_SET_MIN,
  type KnownState,
  type SetField,
  type WindowDelta,
} from '../../src/aggregate';

export type WatermarkScope = 'shard' | 'partition-key';

export interface AggregatorDeps {
  ddb: Pick<DynamoDBClient, 'send'>;
  /** Parks poison records (the on-failure queue). Optional: without it poison records are only counted/logged. */
  sqs?: Pick<SQSClient, 'send'>;
  tableName: string;
  failureQueueUrl?: string;
  /** TTL of window items, days after the window ends. */
  retentionDays: number;
  /** @default 'shard' */
  watermarkScope?: WatermarkScope;
  /** Concurrent UpdateItem requests per batch. @default 16 */
  writeConcurrency?: number;
  /** Clock for timestamp plausibility (ms). @default Date.now */
  now?: () => number;
  /** Parser plausibility window. */
  parse?: Omit<ParseOptions, 'now'>;
  /** Structured logger (Powertools Logger in Lambda). */
  log?: { warn(msg: string, extra: Record<string, unknown>): void; error(msg: string, extra: Record<string, unknown>): void };
  /** Optional cache of what this process knows about stored items (min/max bounds); shared across batches. */
  cache?: ItemStateCache;
  /**
   * The CloudWatch Logs groups access logs may come from (the `logGroup` of a subscription envelope). When set,
   * an envelope from any other group is skipped (`unknown-log-group`), envelope lines must be access-log records,
   * and records a producer put on the stream directly (not an envelope) may carry usage events only
   * (`access-log-outside-log-group`). Unset: no restriction (replay, benchmarks); the Lambda always sets it.
   */
  accessLogGroups?: readonly string[];
  /**
   * Streams (event source ARNs) that carry usage events only: every CloudWatch Logs envelope on them is skipped
   * (`unknown-log-group`) and every line must be a usage event. @default none
   */
  usageOnlyStreams?: readonly string[];
  /** Producer duplicates remembered across batches (dedupe.ts); shared across batches. @default per batch only */
  duplicateMemory?: DuplicateMemory;
}

export interface BatchOutcome {
  response: KinesisStreamBatchResponse;
  stats: IngestStats;
  /** Deltas (account, window) built from this batch. */
  deltas: number;
  /** UpdateItem requests sent (window items, including conditional retries, plus model first-seen writes). */
  writes: number;
  /** Writes skipped entirely because every contributing record was already applied. */
  duplicatesSuppressed: number;
  /** Conditional-check retries (redelivered records partly applied, set caps, min/max races). */
  conditionalRetries: number;
  /** Records parked on the failure queue. */
  parked: number;
  /** Windows or models whose writes failed (reported back as batch item failures). */
  failedWrites: number;
  events: number;
  /**
   * Usage events whose requestId belongs to an access-log request of another account in the same batch. Counted
   * only, never skipped: they are still aggregated (see the comment in processBatch).
   */
  usageMismatches: number;
  /** Up to 5 of them, for the log. */
  usageMismatchSamples: Array<{ requestId: string; usageAccountId: string; logAccountId: string }>;
  /** Envelopes skipped because their log group is not a configured access-log group: up to 5 group names. */
  unknownLogGroups: string[];
}

/**
 * Bounded per-process memo of monotonic facts about stored items (firstTs only falls, lastTs only rises, a full
 * set never changes). Losing it (cold start, eviction) costs at most one conditional retry per item.
 */
export class ItemStateCache {
  private m = new Map<string, Omit<KnownState, 'item'>>();
  readonly models = new Map<string, number>();
  constructor(private readonly max = 100_000) {}
  get(key: string): KnownState {
    return this.m.get(key) ?? {};
  }
  set(key: string, v: Omit<KnownState, 'item'>): void {
    if (this.m.size >= this.max) this.m.clear();
    this.m.set(key, v);
  }
}

const CAPPED: Array<[SetField | 'models', string]> = [...SET_FIELDS.map((f): [SetField, string] => [f, SET_ATTR[f]]), ['models', MODEL_SET_ATTR]];

/** Large sets in a stored item (exact content), worth remembering. */
function largeSetsOf(item: Record<string, AttributeValue> | null | undefined): NonNullable<KnownState['sets']> {
  const out: NonNullable<KnownState['sets']> = {};
  if (!item) return out;
  for (const [f, attr] of CAPPED) {
    const ss = item[attr]?.SS;
    if (ss && ss.length >= KNOWN_SET_MIN) out[f] = new Set(ss);
  }
  return out;
}

const MAX_ATTEMPTS_PER_ITEM = 8;
const SAMPLE_CHARS = 4096;

function laneOf(r: KinesisStreamRecord, scope: WatermarkScope): string {
  const colon = r.eventID.lastIndexOf(':');
  const shard = colon > 0 ? r.eventID.slice(0, colon) : r.eventID;
  if (scope === 'shard') return shard;
  // With parallelizationFactor > 1 Lambda keeps order per partition key only, so each key is its own lane.
  const pk = r.kinesis.partitionKey ?? '';
  const id = pk.length <= 40 && /^[\w.-]*$/.test(pk) ? pk : createHash('sha256').update(pk).digest('base64url').slice(0, 22);
  return `${shard}:${id}`;
}

function isConditionalFailure(e: unknown): e is ConditionalCheckFailedException & { Item?: Record<string, AttributeValue> } {
  return e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  });
  await Promise.all(workers);
}

interface Poison {
  record: KinesisStreamRecord;
  reason: SkipReason;
  detail?: string;
}

/**
 * Parse state shared by both sources (Kinesis records here, S3 objects in object-core.ts): every line goes
 * through the same parser into the same pre-aggregation, so the two ingestion paths cannot drift apart.
 */
export class ParseContext {
  readonly pendingUsage: Array<{ u: UsageRecord; src: EventSource | undefined }> = [];
  /** requestId, accountId of every parsed request, flat. Only turned into a Map when the batch has usage events. */
  readonly owners: string[] = [];
  readonly lineSamples: Array<Record<string, unknown>> = [];
  /** Hash of the last source seen (records contribute runs of lines: hash each source once). */
  private lastSrc: EventSource | undefined;
  private lastSrcHash = 0;

  constructor(
    readonly agg: BatchAggregator,
    readonly opts: ParseOptions,
    /** Counters; several contexts (the chunks of one object) may share one. */
    readonly stats: IngestStats = new IngestStats(),
    /** Producer-duplicate filter (dedupe.ts); several contexts may share one. @default none */
    readonly dedupe?: BatchDeduper,
  ) {}

  private sourceHash(src: EventSource | undefined): number {
    if (src === undefined) return 0;
    if (src !== this.lastSrc) {
      this.lastSrc = src;
      this.lastSrcHash = hash53(src.lane, src.seq);
    }
    return this.lastSrcHash;
  }

  /**
   * Parse one line (string or object) and route it: requests straight into the aggregator, usage held back.
   * `only` restricts the kind of event the line's source may carry (`request`: an access-log envelope from a
   * configured log group; `usage`: a record a producer put on the stream); the other kind is skipped and counted.
   */
  line(line: string | object, src: EventSource | undefined, sample?: () => Record<string, unknown>, only?: EventKind): void {
    this.stats.lines++;
    const p = parseEvent(line, this.opts);
    if (typeof p === 'string') {
      this.stats.skip(p);
      if (this.lineSamples.length < 5) this.lineSamples.push({ reason: p, ...(sample ? sample() : src ? { lane: src.lane, seq: src.seq } : {}) });
      return;
    }
    const usage = isUsage(p);
    if (only !== undefined && (only === 'usage') !== usage) {
      const reason: SkipReason = usage ? 'usage-in-access-log-group' : 'access-log-outside-log-group';
      this.stats.skip(reason);
      if (this.lineSamples.length < 5) this.lineSamples.push({ reason, ...(sample ? sample() : src ? { lane: src.lane, seq: src.seq } : {}) });
      return;
    }
    if (this.dedupe?.isDuplicate(usage ? 'usage' : 'request', p.accountId, p.requestId, this.sourceHash(src))) {
      this.stats.duplicates++;
      return;
    }
    if (!usage) {
      this.stats.requests++;
      this.agg.addRequest(p, src);
      this.owners.push(p.requestId, p.accountId);
    } else {
      this.pendingUsage.push({ u: p, src });
    }
  }

  /** A line rejected before parsing (e.g. a record over the size limit). */
  skipLine(reason: SkipReason, sample?: Record<string, unknown>): void {
    this.stats.lines++;
    this.stats.skip(reason);
    if (sample && this.lineSamples.length < 5) this.lineSamples.push({ reason, ...sample });
  }

  /**
   * Usage events go in after the requests, ALL of them: a usage event whose requestId belongs to another account's
   * request is counted (usageMismatches, metric UsageAccountMismatch) but NOT skipped. Whether a usage event and
   * its access log share a batch depends on timing and on how a failed batch is bisected, so skipping on a
   * batch-level join would make the stored features depend on redelivery (breaking exactly-once); counting only
   * affects metrics and logs, which are at-least-once anyway (a redelivered batch counts again). Replay, which
   * sees both files whole, skips and counts them (`usage-account-mismatch`, src/aggregate/replay.ts); detection
   * also compares per-window usageN with n.
   */
  finish(out: Pick<BatchOutcome, 'usageMismatches' | 'usageMismatchSamples' | 'events'>): void {
    let ownerOf: Map<string, string> | undefined;
    if (this.pendingUsage.length > 0 && this.owners.length > 0) {
      ownerOf = new Map();
      for (let i = 0; i < this.owners.length; i += 2) ownerOf.set(this.owners[i], this.owners[i + 1]);
    }
    for (const { u, src } of this.pendingUsage) {
      const owner = ownerOf?.get(u.requestId);
      if (owner !== undefined && owner !== u.accountId) {
        out.usageMismatches++;
        if (out.usageMismatchSamples.length < 5)
          out.usageMismatchSamples.push({ requestId: u.requestId, usageAccountId: u.accountId, logAccountId: owner });
      }
      this.stats.usage++;
      this.agg.addUsage(u, src);
    }
    this.pendingUsage.length = 0;
    out.events = this.stats.requests + this.stats.usage;
  }
}

/** Counters of one write phase (shared by both sources). */
export type WriteCounters = Pick<BatchOutcome, 'deltas' | 'writes' | 'duplicatesSuppressed' | 'conditionalRetries' | 'failedWrites'>;

/**
 * Steps 3 and 4 of both sources: one conditional UpdateItem per (account, window) delta, then the population-level
 * model first-seen minimums. Returns the deltas whose writes failed (after the SDK's retries) and whether a
 * model write failed; never throws for a failed write.
 */
export async function writeAggregate(
  agg: BatchAggregator,
  deps: AggregatorDeps,
  cache: ItemStateCache,
  out: WriteCounters,
  appliedId?: string,
): Promise<{ failedDeltas: WindowDelta[]; modelFailed: boolean }> {
  const deltas = [...agg.deltas.values()];
  out.deltas += deltas.length;
  const failedDeltas: WindowDelta[] = [];
  await pool(deltas, deps.writeConcurrency ?? 16, async (delta) => {
    try {
      await writeDelta(delta, deps, cache, out, appliedId);
    } catch (err) {
      out.failedWrites++;
      deps.log?.error('window write failed', { accountId: delta.accountId, windowStart: delta.windowStart, error: String(err) });
      failedDeltas.push(delta);
    }
  });

  // Population-level model first-seen (idempotent conditional minimum, memoised per process).
  let modelFailed = false;
  for (const [model, ts] of agg.modelFirstSeen) {
    const known = cache.models.get(model);
    if (known !== undefined && known <= ts) continue;
    try {
      out.writes++;
      await deps.ddb.send(
        new UpdateItemCommand({ TableName: deps.tableName, ...planModelFirstSeen(model, ts), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      );
      cache.models.set(model, ts);
    } catch (err) {
      if (isConditionalFailure(err)) {
        const stored = err.Item?.firstSeen?.N;
        if (stored !== undefined) cache.models.set(model, Number(stored));
      } else {
        modelFailed = true;
        out.failedWrites++;
        deps.log?.error('model first-seen write failed', { model, error: String(err) });
      }
    }
  }
  return { failedDeltas, modelFailed };
}

/** Process one Kinesis batch. Never throws for bad input; throws only if it cannot even report a failure. */
export async function processBatch(records: KinesisStreamRecord[], deps: AggregatorDeps): Promise<BatchOutcome> {
  const scope = deps.watermarkScope ?? 'shard';
  const now = (deps.now ?? Date.now)();
  const agg = new BatchAggregator(true);
  const dedupe = new BatchDeduper(deps.duplicateMemory);
  const ctx = new ParseContext(agg, { ...deps.parse, now }, undefined, dedupe);
  const groups = deps.accessLogGroups ? new Set(deps.accessLogGroups) : undefined;
  const usageOnly = new Set(deps.usageOnlyStreams ?? []);
  const stats = ctx.stats;
  const cache = deps.cache ?? new ItemStateCache();
  const poison: Poison[] = [];
  const out: BatchOutcome = {
    response: { batchItemFailures: [] },
    stats,
    deltas: 0,
    writes: 0,
    duplicatesSuppressed: 0,
    conditionalRetries: 0,
    parked: 0,
    failedWrites: 0,
    events: 0,
    usageMismatches: 0,
    usageMismatchSamples: [],
    unknownLogGroups: [],
  };

  // 1. Decode and parse every record; requests go straight into the aggregator.
  for (const r of records) {
    stats.records++;
    const src: EventSource = { lane: laneOf(r, scope), seq: r.kinesis.sequenceNumber };
    const d = decodeRecord(r.kinesis.data);
    if (!d.ok) {
      stats.skip(d.reason);
      poison.push({ record: r, reason: d.reason, detail: d.detail });
      continue;
    }
    if (d.kind === 'control') {
      stats.controlMessages++;
      continue;
    }
    if (d.skippedEvents > 0) {
      stats.lines += d.skippedEvents;
      stats.skip('bad-log-event', d.skippedEvents);
    }
    const usageStream = usageOnly.size > 0 && usageOnly.has(r.eventSourceARN);
    if (groups === undefined && !usageStream) {
      for (const line of d.entries) ctx.line(line, src);
      continue;
    }
    // Access logs only from the configured log groups; anything a producer puts on the stream only as usage events.
    if (d.kind === 'logs' && (usageStream || d.logGroup === null || !groups?.has(d.logGroup))) {
      stats.lines += d.entries.length;
      stats.skip('unknown-log-group', d.entries.length);
      const g = String(d.logGroup).slice(0, 512);
      if (out.unknownLogGroups.length < 5 && !out.unknownLogGroups.includes(g)) out.unknownLogGroups.push(g);
      continue;
    }
    const only = d.kind === 'logs' ? 'request' : 'usage';
    for (const line of d.entries) ctx.line(line, src, undefined, only);
  }
  ctx.finish(out);
  if (ctx.lineSamples.length > 0) deps.log?.warn('skipped malformed lines', { samples: ctx.lineSamples, skippedByReason: stats.byReason });
  if (out.unknownLogGroups.length > 0)
    deps.log?.warn('skipped envelopes from log groups that are not access-log groups', {
      logGroups: out.unknownLogGroups,
      skipped: stats.byReason['unknown-log-group'],
    });

  // 2. Park poison records on the failure queue (shard, sequence number, reason and a sample), so they can be
  //    found and looked at. If parking fails, report them as failures: the ESM retries and, once retries or
  //    record age run out, sends their shard/sequence range to the same queue itself.
  const failedSeqs: string[] = [];
  if (poison.length > 0) {
    for (const p of poison) {
      deps.log?.warn('poison record skipped', {
        reason: p.reason,
        detail: p.detail,
        eventID: p.record.eventID,
        sequenceNumber: p.record.kinesis.sequenceNumber,
        dataLength: p.record.kinesis.data?.length ?? 0,
      });
    }
    if (deps.sqs && deps.failureQueueUrl) {
      for (let i = 0; i < poison.length; i += 10) {
        const chunk = poison.slice(i, i + 10);
        try {
          const res = await deps.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: deps.failureQueueUrl,
              Entries: chunk.map((p, k) => ({
                Id: String(k),
                MessageBody: JSON.stringify({
                  source: 'distill-guard/aggregator',
                  kind: 'poison-record',
                  reason: p.reason,
                  detail: p.detail,
                  eventSourceARN: p.record.eventSourceARN,
                  eventID: p.record.eventID,
                  shardId: p.record.eventID.slice(0, p.record.eventID.lastIndexOf(':')),
                  sequenceNumber: p.record.kinesis.sequenceNumber,
                  partitionKey: p.record.kinesis.partitionKey,
                  approximateArrivalTimestamp: p.record.kinesis.approximateArrivalTimestamp,
                  dataLength: p.record.kinesis.data?.length ?? 0,
                  // Decoded as far as it goes, with every source IP replaced by its keyed hash (never the address).
                  ...redactedRecordSample(p.record.kinesis.data, SAMPLE_CHARS),
                }),
              })),
            }),
          );
          const failed = new Set((res.Failed ?? []).map((f) => Number(f.Id)));
          chunk.forEach((p, k) => (failed.has(k) ? failedSeqs.push(p.record.kinesis.sequenceNumber) : out.parked++));
        } catch (err) {
          deps.log?.error('could not park poison records', { error: String(err) });
          for (const p of chunk) failedSeqs.push(p.record.kinesis.sequenceNumber);
        }
      }
    }
  }

  // 3 + 4. One conditional UpdateItem per (account, window); then the model first-seen minimums.
  const { failedDeltas, modelFailed } = await writeAggregate(agg, deps, cache, out);
  // Remember the events whose windows were written (a failed account's events may come again: not duplicates).
  dedupe.commit(new Set(failedDeltas.map((d) => d.accountId)));
  for (const delta of failedDeltas) {
    let min: string | undefined;
    for (const r of delta.lanes.values()) if (min === undefined || compareSeq(r.min, min) < 0) min = r.min;
    if (min !== undefined) failedSeqs.push(min);
  }
  if (modelFailed && records.length > 0) failedSeqs.push(records[0].kinesis.sequenceNumber);

  if (failedSeqs.length > 0) {
    failedSeqs.sort(compareSeq);
    // Lambda resumes from the lowest reported sequence number; report just that one.
    out.response.batchItemFailures = [{ itemIdentifier: failedSeqs[0] }];
  }
  return out;
}

/**
 * Write one delta exactly once. Kinesis deltas carry per-lane sequence ranges (watermarks `wm:<lane>`); S3-object
 * deltas carry `appliedId` instead (the object, or object chunk, id added to the item's `wo` set in the same
 * request, see object-core.ts), and a failed condition with the id already in the set means "already applied".
 */
async function writeDelta(delta: WindowDelta, deps: AggregatorDeps, cache: ItemStateCache, out: WriteCounters, appliedId?: string): Promise<void> {
  let d: WindowDelta = delta;
  let known: KnownState = cache.get(delta.key);
  for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_ITEM; attempt++) {
    const plan = planWindowUpdate(d, deps.retentionDays, known, appliedId);
    out.writes++;
    try {
      await deps.ddb.send(
        new UpdateItemCommand({
          TableName: deps.tableName,
          Key: plan.Key,
          UpdateExpression: plan.UpdateExpression,
          ConditionExpression: plan.ConditionExpression,
          ExpressionAttributeNames: plan.ExpressionAttributeNames,
          ExpressionAttributeValues: plan.ExpressionAttributeValues as Record<string, AttributeValue>,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const old = known.item;
      const oldNum = (a: string): number | undefined => {
        const v = (old?.[a] as { N?: string } | undefined)?.N;
        return v === undefined ? undefined : Number(v);
      };
      cache.set(delta.key, {
        firstTsAtMost: plan.establishes.firstTs ?? (old !== undefined ? oldNum('firstTs') : known.firstTsAtMost),
        lastTsAtLeast: plan.establishes.lastTs ?? (old !== undefined ? oldNum('lastTs') : known.lastTsAtLeast),
        createdAtAtMost: plan.establishes.createdAt ?? (old !== undefined ? oldNum('createdAt') : known.createdAtAtMost),
        sets: { ...(old !== undefined ? largeSetsOf(old as Record<string, AttributeValue> | null) : known.sets), ...plan.setsAfter },
      });
      return;
    } catch (err) {
      if (!isConditionalFailure(err)) throw err;
      out.conditionalRetries++;
      let item: Record<string, AttributeValue> | null | undefined = err.Item;
      if (item === undefined) {
        // Older DynamoDB (Local) versions do not return the item: read it, strongly consistent.
        const got = await deps.ddb.send(new GetItemCommand({ TableName: deps.tableName, Key: plan.Key, ConsistentRead: true }));
        item = got.Item ?? null;
      }
      const above =
        appliedId !== undefined
          ? itemAppliedObjects(item ?? undefined).has(appliedId)
            ? null
            : delta
          : deltaAbove(delta, itemWatermarks(item ?? undefined));
      if (above === null) {
        out.duplicatesSuppressed++;
        return;
      }
      d = above;
      known = { item };
    }
  }
  throw new Error(`window ${delta.accountId}@${delta.windowStart} still conflicting after ${MAX_ATTEMPTS_PER_ITEM} attempts`);
}
