/**
 * PutEvents with retry of only the failed entries. Plain TypeScript: the caller injects `putEvents` (the SDK's
 * EventBridgeClient in the Lambda, a fake in tests), so the retry rules are unit-tested without AWS.
 *
 * Hand-written because the SDK's retry strategy retries a whole call only when the CALL fails; PutEvents returns
 * 200 with `FailedEntryCount > 0` when some entries fail, and those entries must be re-sent by the caller
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html#eb-handling-failures-putevents).
 */
import type { PutEventsEntryLike } from './ban-event';

/** Structural subset of the SDK's PutEventsResponse. */
export interface PutEventsResultLike {
  FailedEntryCount?: number;
  Entries?: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
}

export type PutEventsFn = (entries: PutEventsEntryLike[]) => Promise<PutEventsResultLike>;

/** One thing to publish. `key` is the caller's handle (a stream sequence number, an outbox key). */
export interface PublishItem {
  key: string;
  eventId: string;
  entry: PutEventsEntryLike;
}

export interface PublishFailure {
  item: PublishItem;
  errorCode: string;
  errorMessage: string;
  /** A permanent error (the entry itself is bad): retrying cannot help. */
  permanent: boolean;
}

export interface PublishOutcome {
  published: PublishItem[];
  failed: PublishFailure[];
  /** PutEvents calls made (including failed calls). */
  calls: number;
  /** Entries re-sent after a failure. */
  retriedEntries: number;
}

export interface PublishOptions {
  /** Attempts per entry within this call, including the first. @default 4 */
  maxAttempts?: number;
  /** First back-off delay; doubles each attempt, full jitter. @default 100 */
  baseDelayMs?: number;
  /** @default 2000 */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** PutEvents limits (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html). */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** Entry error codes that mean the entry itself is bad; every other code (throttling, internal, kms) is retried. */
export const PERMANENT_ERROR_CODES = new Set(['MalformedDetail', 'InvalidArgument', 'InvalidArgumentException']);

/** Size of an entry as EventBridge counts it (UTF-8 bytes of Source, DetailType, Detail, Resources; +14 with Time). */
export function putEventsEntrySize(e: PutEventsEntryLike & { Time?: unknown }): number {
  let n = Buffer.byteLength(e.Source, 'utf8') + Buffer.byteLength(e.DetailType, 'utf8') + Buffer.byteLength(e.Detail, 'utf8');
  for (const r of e.Resources ?? []) n += Buffer.byteLength(r, 'utf8');
  if (e.Time !== undefined) n += 14;
  return n;
}

/** Split into PutEvents-sized chunks (<= 10 entries, <= 256 KiB). An entry over 256 KiB gets a chunk of its own (and a permanent error). */
export function chunkEntries<T extends { entry: PutEventsEntryLike }>(items: T[]): T[][] {
  const chunks: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const size = putEventsEntrySize(it.entry);
    if (cur.length > 0 && (cur.length >= PUT_EVENTS_MAX_ENTRIES || bytes + size > PUT_EVENTS_MAX_BYTES)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += size;
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Publish every item; re-send only the entries that failed (per-entry `ErrorCode`, or every entry of a call that
 * threw), with exponential back-off and full jitter, up to `maxAttempts`. Never drops: whatever is still failing
 * is returned in `failed` for the caller to hand back to its retry mechanism (stream batch item failure, sweeper).
 */
export async function publishWithRetry(items: PublishItem[], putEvents: PutEventsFn, opts: PublishOptions = {}): Promise<PublishOutcome> {
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
  const base = opts.baseDelayMs ?? 100;
  const cap = opts.maxDelayMs ?? 2000;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;

  const published: PublishItem[] = [];
  const failed: PublishFailure[] = [];
  let calls = 0;
  let retriedEntries = 0;
  let pending: PublishItem[] = [];

  // An entry over the limit can never be accepted: fail it permanently instead of looping.
  for (const it of items) {
    const size = putEventsEntrySize(it.entry);
    if (size > PUT_EVENTS_MAX_BYTES) {
      failed.push({
        item: it,
        errorCode: 'EntryTooLarge',
        errorMessage: `entry is ${size} bytes, over the ${PUT_EVENTS_MAX_BYTES} byte limit`,
        permanent: true,
      });
    } else pending.push(it);
  }

  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > 1) {
      retriedEntries += pending.length;
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 2))));
    }
    const retry: PublishFailure[] = [];
    for (const chunk of chunkEntries(pending)) {
      calls++;
      let res: PutEventsResultLike;
      try {
        res = await putEvents(chunk.map((c) => c.entry));
      } catch (err) {
        const e = err as { name?: string; message?: string };
        for (const item of chunk) retry.push({ item, errorCode: e.name ?? 'Error', errorMessage: e.message ?? String(err), permanent: false });
        continue;
      }
      const entries = res.Entries ?? [];
      chunk.forEach((item, i) => {
        const r = entries[i];
        // PutEvents answers one result per entry, in order. A missing result is treated as a failure (never assume success).
        if (r && r.EventId && !r.ErrorCode) {
          published.push(item);
          return;
        }
        const code = r?.ErrorCode ?? 'MissingResult';
        const f: PublishFailure = {
          item,
          errorCode: code,
          errorMessage: r?.ErrorMessage ?? 'no result for this entry',
          permanent: PERMANENT_ERROR_CODES.has(code),
        };
        if (f.permanent) failed.push(f);
        else retry.push(f);
      });
    }
    if (attempt >= maxAttempts) {
      failed.push(...retry);
      break;
    }
    pending = retry.map((f) => f.item);
  }
  return { published, failed, calls, retriedEntries };
}
