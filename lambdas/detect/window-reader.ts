/**
 * The scorer's read path: which feature windows are in the lookback, and their contents, with as few reads as
 * possible.
 *
 * 1. List the lookback through the features table's `byHour` index: one Query per (hour, bucket) partition
 *    (`gsi1pk = H#<windowStart>#<0..15>`), all partitions in parallel.
 * 2. What an index entry holds depends on the index's projection (lib/aggregate `byHourProjection`):
 *    - the whole item (ALL): the window is decoded from the entry, nothing more is read;
 *    - keys and the change marker `upd` (INCLUDE_CHANGES): a window read by an earlier run in this execution
 *      environment is reused when its marker shows no write since that read (below); every other window is read;
 *    - keys only (KEYS_ONLY, or an item written before the marker existed): the window is read.
 * 3. Windows to read are fetched with BatchGetItem, 100 keys per request, requests in parallel; keys DynamoDB
 *    leaves unprocessed are retried with exponential backoff and full jitter, and the run fails (to be retried by
 *    the next one) rather than score with windows missing.
 *
 * Reuse rule. The aggregator sets `upd = floor(t / CHANGE_MARKER_MS)` with its clock t in the same UpdateItem as
 * the counters (src/aggregate/update.ts). A write planned at t lands before t + CHANGE_MARGIN_MS (SDK retries,
 * clock skew between functions). So if a window was read at `fetchedAt` (taken before the read was sent) and
 * `fetchedAt >= changeMarkerEnd(upd) + CHANGE_MARGIN_MS` for the marker the index shows now, the last write landed
 * before the read: the cached copy is the stored item. If any write landed after the read, the last write did, and
 * its marker fails the test. The index is eventually consistent, so a write that lands while the index is listed
 * can be seen one run late, exactly as with an ALL index. A copy older than `maxAgeMs` is read again regardless.
 */
import { BatchGetItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { CHANGE_MARKER_ATTR, changeMarkerEnd, itemToWindow } from '../../src/aggregate/item';
import { FEATURES_BY_HOUR_INDEX, GSI_BUCKETS, hourGsiPk } from '../../src/shared/tables';
import { WINDOW_MS, type AccountWindow } from '../../src/aggregate/window';
import { profilesFromWindows, type AccountProfile } from '../../src/detect/profile';

/** Latest a write can land after the time its change marker was taken from (see the module comment). */
export const CHANGE_MARGIN_MS = 300_000;

export type Key = Record<string, AttributeValue>;

export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export interface BatchGetOptions {
  /** BatchGetItem requests in flight. @default 16 */
  concurrency?: number;
  /** Attempts per request of 100 keys, the first included, before giving up on unprocessed keys. @default 10 */
  maxAttempts?: number;
  /** Backoff before retrying unprocessed keys: random in [0, min(maxDelayMs, baseDelayMs * 2^attempt)). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface BatchGetStats {
  /** BatchGetItem requests sent, retries included. */
  requests: number;
  /** Requests that only retried keys left unprocessed by an earlier one. */
  unprocessedRetries: number;
  items: number;
}

/** BatchGetItem size limit. */
export const BATCH_GET_MAX_KEYS = 100;

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Read `keys` from `table` with BatchGetItem (100 per request, `concurrency` requests in flight), calling `onItem`
 * for every item found (keys with no item are skipped). Unprocessed keys are retried with exponential backoff and
 * full jitter; after `maxAttempts` the call throws.
 */
export async function batchGetAll(
  ddb: Pick<DynamoDBClient, 'send'>,
  table: string,
  keys: readonly Key[],
  onItem: (item: Key) => void,
  opts: BatchGetOptions = {},
  stats: BatchGetStats = { requests: 0, unprocessedRetries: 0, items: 0 },
): Promise<BatchGetStats> {
  const maxAttempts = opts.maxAttempts ?? 10;
  const base = opts.baseDelayMs ?? 50;
  const cap = opts.maxDelayMs ?? 2_000;
  const sleep = opts.sleep ?? sleepMs;
  const random = opts.random ?? Math.random;
  const chunks: Key[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) chunks.push(keys.slice(i, i + BATCH_GET_MAX_KEYS));
  await pool(chunks, opts.concurrency ?? 16, async (chunk) => {
    let pending: Key[] = chunk;
    for (let attempt = 0; ; attempt++) {
      stats.requests++;
      if (attempt > 0) stats.unprocessedRetries++;
      const r = await ddb.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending } } }));
      for (const item of r.Responses?.[table] ?? []) {
        stats.items++;
        onItem(item);
      }
      pending = (r.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
      if (pending.length === 0) return;
      if (attempt + 1 >= maxAttempts) {
        throw new Error(`BatchGetItem on ${table} left ${pending.length} of ${chunk.length} keys unprocessed after ${maxAttempts} attempts`);
      }
      await sleep(Math.floor(random() * Math.min(cap, base * 2 ** attempt)));
    }
  });
  return stats;
}

interface CachedWindow {
  window: AccountWindow;
  /** Wall-clock time (ms) taken before the read that returned this copy was sent. */
  fetchedAt: number;
  /** Read generation: the run that read it. */
  gen: number;
  /** The last run whose listing included it (entries not listed by the current run are dropped). */
  seen: number;
}

/**
 * What the scorer keeps between runs in a warm execution environment: the windows it read (with when) and the
 * profiles it built from them. Losing it (a cold start) only costs a full read.
 */
/** Windows by item key: pk -> sk -> window (two levels: no key strings to build per entry). */
export class WindowMap {
  readonly byPk = new Map<string, Map<string, CachedWindow>>();
  size = 0;

  get(pk: string, sk: string): CachedWindow | undefined {
    return this.byPk.get(pk)?.get(sk);
  }

  set(pk: string, sk: string, v: CachedWindow): void {
    let m = this.byPk.get(pk);
    if (!m) this.byPk.set(pk, (m = new Map()));
    if (!m.has(sk)) this.size++;
    m.set(sk, v);
  }

  *values(): IterableIterator<CachedWindow> {
    for (const m of this.byPk.values()) yield* m.values();
  }

  /** Drop every entry not seen in run `gen`; return the others. */
  sweep(gen: number): CachedWindow[] {
    const out: CachedWindow[] = [];
    for (const [pk, m] of this.byPk) {
      for (const [sk, c] of m) {
        if (c.seen === gen) out.push(c);
        else {
          m.delete(sk);
          this.size--;
        }
      }
      if (m.size === 0) this.byPk.delete(pk);
    }
    return out;
  }

  clear(): void {
    this.byPk.clear();
    this.size = 0;
  }
}

export class WindowCache {
  /** The windows the last read returned. */
  windows = new WindowMap();
  /** Profiles by accountId: built in run `gen` from `windows` windows. */
  readonly profiles = new Map<string, { profile: AccountProfile; windows: number; gen: number }>();
  gen = 0;

  clear(): void {
    this.windows.clear();
    this.profiles.clear();
  }
}

export interface WindowReadDeps {
  ddb: Pick<DynamoDBClient, 'send'>;
  featuresTable: string;
  /** @default 'byHour' */
  byHourIndex?: string;
  /** Parallel Query and BatchGetItem requests. @default 16 */
  concurrency?: number;
  /** Wall clock for the reuse rule. @default Date.now */
  clock?: () => number;
  batchGet?: Omit<BatchGetOptions, 'concurrency'>;
}

export interface WindowReadStats {
  /** (hour, bucket) index partitions queried, and Query pages read. */
  partitions: number;
  queryPages: number;
  /** Windows in the lookback. */
  windows: number;
  /** Decoded straight from the index entry (ALL projection). */
  fromIndex: number;
  /** Reused from an earlier run (unchanged since it was read). */
  reused: number;
  /** Read with BatchGetItem. */
  fetched: number;
  batchGetRequests: number;
  unprocessedRetries: number;
  /** Listed by the index but gone when read (TTL). */
  missing: number;
  ms: number;
}

/** Does an index entry carry the whole window (ALL projection)? `expiresAt` is on every window item. */
function isWholeItem(item: Key): boolean {
  return item.expiresAt !== undefined;
}

/**
 * Windows of every account active in [from, to). With `cache`, reuses what an earlier run read and the index shows
 * unchanged, and leaves the cache holding exactly the windows returned.
 */
/** Read statistics of a read that has not started (or never will). */
export function emptyReadStats(): WindowReadStats {
  return {
    partitions: 0,
    queryPages: 0,
    windows: 0,
    fromIndex: 0,
    reused: 0,
    fetched: 0,
    batchGetRequests: 0,
    unprocessedRetries: 0,
    missing: 0,
    ms: 0,
  };
}

/**
 * A range of account ids (the index's sort key): from `lo` (inclusive) to `hi` (exclusive); an absent bound is open.
 * One account shard of a sharded run reads its range alone, in every (hour, bucket) partition.
 */
export interface AccountRange {
  lo?: string;
  hi?: string;
}

/** The key condition of one index partition, restricted to `range`. */
function rangeCondition(gsi1pk: string, range: AccountRange = {}): Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues'> {
  const values: Record<string, AttributeValue> = { ':pk': { S: gsi1pk } };
  let cond = '';
  if (range.lo !== undefined && range.hi !== undefined) {
    // BETWEEN is inclusive: the account `hi` itself is dropped when the items are read.
    cond = ' AND gsi1sk BETWEEN :lo AND :hi';
    values[':lo'] = { S: range.lo };
    values[':hi'] = { S: range.hi };
  } else if (range.lo !== undefined) {
    cond = ' AND gsi1sk >= :lo';
    values[':lo'] = { S: range.lo };
  } else if (range.hi !== undefined) {
    cond = ' AND gsi1sk < :hi';
    values[':hi'] = { S: range.hi };
  }
  return { KeyConditionExpression: `gsi1pk = :pk${cond}`, ExpressionAttributeValues: values };
}

export async function readWindows(
  deps: WindowReadDeps,
  from: number,
  to: number,
  cache?: WindowCache,
  maxAgeMs = Number.POSITIVE_INFINITY,
  range?: AccountRange,
): Promise<{ windows: AccountWindow[]; gens: number[]; stats: WindowReadStats }> {
  const started = Date.now();
  const clock = deps.clock ?? Date.now;
  const concurrency = deps.concurrency ?? 16;
  // Taken before anything is read: every copy read in this run is at least this fresh.
  const readAt = clock();
  // Without a cache the same code runs on a throwaway one (nothing to reuse).
  const c = cache ?? new WindowCache();
  const gen = ++c.gen;
  const held = c.windows;
  const parts: string[] = [];
  for (let ws = Math.floor(from / WINDOW_MS) * WINDOW_MS; ws < to; ws += WINDOW_MS)
    for (let b = 0; b < GSI_BUCKETS; b++) parts.push(hourGsiPk(ws, b));
  const stats: WindowReadStats = { ...emptyReadStats(), partitions: parts.length };
  const toFetch: Key[] = [];
  await pool(parts, concurrency, async (gsi1pk) => {
    let start: Key | undefined;
    do {
      const r = await deps.ddb.send(
        new QueryCommand({
          TableName: deps.featuresTable,
          IndexName: deps.byHourIndex ?? FEATURES_BY_HOUR_INDEX,
          ...rangeCondition(gsi1pk, range),
          ExclusiveStartKey: start,
        }),
      );
      stats.queryPages++;
      for (const item of r.Items ?? []) {
        const pk = item.pk?.S;
        const sk = item.sk?.S;
        if (pk === undefined || sk === undefined) continue;
        if (range?.hi !== undefined && item.gsi1sk?.S === range.hi) continue;
        if (isWholeItem(item)) {
          const w = itemToWindow(item);
          if (w) {
            held.set(pk, sk, { window: w, fetchedAt: readAt, gen, seen: gen });
            stats.fromIndex++;
          }
          continue;
        }
        const e = held.get(pk, sk);
        const marker = item[CHANGE_MARKER_ATTR]?.N;
        if (e && marker !== undefined && e.fetchedAt >= changeMarkerEnd(Number(marker)) + CHANGE_MARGIN_MS && readAt - e.fetchedAt <= maxAgeMs) {
          e.seen = gen;
          stats.reused++;
        } else {
          toFetch.push({ pk: { S: pk }, sk: { S: sk } });
        }
      }
      start = r.LastEvaluatedKey;
    } while (start);
  });
  const bg = await batchGetAll(
    deps.ddb,
    deps.featuresTable,
    toFetch,
    (item) => {
      const w = itemToWindow(item);
      if (w) held.set(item.pk.S!, item.sk.S!, { window: w, fetchedAt: readAt, gen, seen: gen });
    },
    { ...deps.batchGet, concurrency },
  );
  stats.fetched = bg.items;
  stats.batchGetRequests = bg.requests;
  stats.unprocessedRetries = bg.unprocessedRetries;
  stats.missing = toFetch.length - bg.items;
  // Keep exactly what this run listed (and could read).
  const kept = held.sweep(gen);
  const windows: AccountWindow[] = new Array(kept.length);
  const gens: number[] = new Array(kept.length);
  for (let i = 0; i < kept.length; i++) {
    windows[i] = kept[i].window;
    gens[i] = kept[i].gen;
  }
  stats.windows = windows.length;
  stats.ms = Date.now() - started;
  return { windows, gens, stats };
}

/**
 * Profiles of the accounts in `windows`, sorted by accountId, each built from its windows in time order (so the
 * result does not depend on the order the reads completed in).
 *
 * With `cache` (and `gens`, the read generation of each window, from `readWindows`), an account keeps the profile
 * object built in an earlier run when its windows are exactly the ones that profile was built from. That holds when
 * every window's generation is at most the profile's and the count is the same: a window still held with an older
 * generation has been held since it was read, so it was among the windows of the account when the profile was built
 * (a window dropped and read again gets a new generation).
 */
export function buildProfiles(
  windows: readonly AccountWindow[],
  syncBucketMs: number,
  cache?: WindowCache,
  gens?: readonly number[],
): { profiles: AccountProfile[]; rebuilt: number; reused: number } {
  const byAccount = new Map<string, number[]>();
  for (let i = 0; i < windows.length; i++) {
    const id = windows[i].accountId;
    let l = byAccount.get(id);
    if (!l) byAccount.set(id, (l = []));
    l.push(i);
  }
  const useCache = cache !== undefined && gens !== undefined && gens.length === windows.length;
  const ids = [...byAccount.keys()].sort();
  const out: Array<AccountProfile | undefined> = new Array(ids.length);
  const stale: AccountWindow[] = [];
  let reused = 0;
  for (let k = 0; k < ids.length; k++) {
    const idx = byAccount.get(ids[k])!;
    if (useCache) {
      const c = cache.profiles.get(ids[k]);
      if (c && c.windows === idx.length) {
        let newest = -1;
        for (const i of idx) if (gens[i] > newest) newest = gens[i];
        if (newest <= c.gen) {
          out[k] = c.profile;
          reused++;
          continue;
        }
      }
    }
    idx.sort((a, b) => windows[a].windowStart - windows[b].windowStart);
    for (const i of idx) stale.push(windows[i]);
  }
  const built = profilesFromWindows(stale, syncBucketMs);
  if (useCache) {
    for (const id of cache.profiles.keys()) if (!byAccount.has(id)) cache.profiles.delete(id);
    for (const [id, p] of built) cache.profiles.set(id, { profile: p, windows: byAccount.get(id)!.length, gen: cache.gen });
  }
  for (let k = 0; k < ids.length; k++) if (out[k] === undefined) out[k] = built.get(ids[k]);
  return { profiles: out as AccountProfile[], rebuilt: built.size, reused };
}
