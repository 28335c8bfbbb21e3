/**
 * The batches replay's reader thread hands to its detection thread: every item of the merged input in order (its
 * time, its kind, whether the aggregator admitted it) and each admitted event's fields, in typed arrays that are
 * transferred, not copied. Strings are sent once: each new value gets the next index and later items send the
 * index, so the receiving thread builds no string twice.
 *
 * Hand-written: structured cloning one object per event costs about as much as parsing its line, which would
 * give back what the second thread saves.
 */
import type { RequestEvent, UsageRecord } from '../ingest/parse';
import type { PromptClass } from '../shared/contract';

/** An item's kind: an access-log or usage line, admitted (its event follows) or not (skipped or a duplicate). */
export const ItemKind = { Log: 0, LogAdmitted: 1, Usage: 2, UsageAdmitted: 3 } as const;
export type ItemKind = (typeof ItemKind)[keyof typeof ItemKind];

/** Numbers and strings per item (the access-log event has the most). */
const NUMS = 5;
const STRS = 7;
/** A null string field. */
const NONE = -1;
/**
 * Distinct strings both threads remember before they start afresh (at a batch boundary): the table holds account
 * ids, networks, user agents and models, so a long replay of many distinct networks would otherwise keep every one.
 */
export const MAX_STRINGS = 1_000_000;

export interface Batch {
  count: number;
  kinds: Uint8Array;
  /** The item's time as the merge saw it (it drives detection's ticks, even for a skipped line). */
  itemTs: Float64Array;
  nums: Float64Array;
  strs: Int32Array;
  /** Strings first used in this batch, in index order. */
  newStrings: string[];
  /** The strings of earlier batches are forgotten: indices start again at 0 with this batch. */
  reset: boolean;
  /** Bytes of the input files read so far. */
  bytesRead: number;
}

/** The buffers of a batch, for `postMessage`'s transfer list. */
export function transferList(b: Batch): ArrayBuffer[] {
  return [b.kinds.buffer, b.itemTs.buffer, b.nums.buffer, b.strs.buffer] as ArrayBuffer[];
}

/** Fills batches on the reader thread. */
export class BatchWriter {
  private readonly ids = new Map<string, number>();
  private batch: Batch;

  constructor(
    readonly capacity: number,
    readonly maxStrings = MAX_STRINGS,
  ) {
    if (!(capacity >= 1)) throw new Error(`batch capacity must be at least 1, got ${capacity}`);
    this.batch = this.empty();
  }

  get full(): boolean {
    return this.batch.count === this.capacity;
  }

  get count(): number {
    return this.batch.count;
  }

  /** An item the aggregator did not admit. */
  item(kind: typeof ItemKind.Log | typeof ItemKind.Usage, ts: number): void {
    this.next(kind, ts);
  }

  request(ts: number, e: RequestEvent): void {
    const i = this.next(ItemKind.LogAdmitted, ts);
    const n = i * NUMS;
    const s = i * STRS;
    const { nums, strs } = this.batch;
    nums[n] = e.ts;
    nums[n + 1] = e.status;
    nums[n + 2] = e.responseBytes ?? NaN;
    nums[n + 3] = e.latencyMs ?? NaN;
    nums[n + 4] = e.accountCreatedAt ?? NaN;
    strs[s] = this.id(e.accountId);
    strs[s + 1] = this.id(e.apiKeyId);
    strs[s + 2] = this.id(e.ipHash);
    strs[s + 3] = this.id(e.subnet);
    strs[s + 4] = this.id(e.userAgent);
    strs[s + 5] = this.id(e.method);
    strs[s + 6] = this.id(e.model);
  }

  usage(ts: number, u: UsageRecord): void {
    const i = this.next(ItemKind.UsageAdmitted, ts);
    const n = i * NUMS;
    const s = i * STRS;
    const { nums, strs } = this.batch;
    nums[n] = u.ts;
    nums[n + 1] = u.inputTokens;
    nums[n + 2] = u.outputTokens;
    strs[s] = this.id(u.accountId);
    strs[s + 1] = this.id(u.model);
    strs[s + 2] = this.id(u.promptClass);
    strs[s + 3] = this.id(u.templateId);
  }

  /** The batch so far (trimmed to its items), and a new empty one in its place. */
  take(bytesRead: number): Batch {
    const b = this.batch;
    this.batch = this.empty();
    if (this.ids.size >= this.maxStrings) {
      this.ids.clear();
      this.batch.reset = true;
    }
    const c = b.count;
    return {
      ...b,
      kinds: b.kinds.slice(0, c),
      itemTs: b.itemTs.slice(0, c),
      nums: b.nums.slice(0, c * NUMS),
      strs: b.strs.slice(0, c * STRS),
      bytesRead,
    };
  }

  private next(kind: ItemKind, ts: number): number {
    const i = this.batch.count++;
    this.batch.kinds[i] = kind;
    this.batch.itemTs[i] = ts;
    return i;
  }

  private id(s: string | null): number {
    if (s === null) return NONE;
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(s, id);
      this.batch.newStrings.push(s);
    }
    return id;
  }

  private empty(): Batch {
    const c = this.capacity;
    return {
      count: 0,
      kinds: new Uint8Array(c),
      itemTs: new Float64Array(c),
      nums: new Float64Array(c * NUMS),
      strs: new Int32Array(c * STRS),
      newStrings: [],
      reset: false,
      bytesRead: 0,
    };
  }
}

/** What a batch's items are fed to on the detection thread (ReplayEngine.addAdmitted). */
export type ItemSink = (kind: ItemKind, itemTs: number, event: RequestEvent | UsageRecord | null) => void;

/** Reads batches on the detection thread: the strings seen so far, by index. */
export class BatchReader {
  private readonly strings: string[] = [];

  read(b: Batch, sink: ItemSink): void {
    if (b.reset) this.strings.length = 0;
    for (const s of b.newStrings) this.strings.push(s);
    const { kinds, itemTs, nums, strs } = b;
    for (let i = 0; i < b.count; i++) {
      const kind = kinds[i] as ItemKind;
      if (kind === ItemKind.LogAdmitted) sink(kind, itemTs[i], this.request(nums, strs, i * NUMS, i * STRS));
      else if (kind === ItemKind.UsageAdmitted) sink(kind, itemTs[i], this.usage(nums, strs, i * NUMS, i * STRS));
      else sink(kind, itemTs[i], null);
    }
  }

  /**
   * The event as the reader's parser produced it. Its requestId stays with the reader (duplicates and usage
   * cross-checks are the reader's job; aggregation does not read it).
   */
  private request(nums: Float64Array, strs: Int32Array, n: number, s: number): RequestEvent {
    return {
      requestId: '',
      ts: nums[n],
      accountId: this.strings[strs[s]],
      apiKeyId: this.str(strs[s + 1]),
      ipHash: this.str(strs[s + 2]),
      subnet: this.str(strs[s + 3]),
      userAgent: this.str(strs[s + 4]),
      method: this.str(strs[s + 5]),
      model: this.str(strs[s + 6]),
      status: nums[n + 1],
      responseBytes: orNull(nums[n + 2]),
      latencyMs: orNull(nums[n + 3]),
      accountCreatedAt: orNull(nums[n + 4]),
    };
  }

  private usage(nums: Float64Array, strs: Int32Array, n: number, s: number): UsageRecord {
    return {
      requestId: '',
      ts: nums[n],
      accountId: this.strings[strs[s]],
      model: this.str(strs[s + 1]),
      promptClass: this.strings[strs[s + 2]] as PromptClass,
      templateId: this.str(strs[s + 3]),
      inputTokens: nums[n + 1],
      outputTokens: nums[n + 2],
    };
  }

  private str(id: number): string | null {
    return id === NONE ? null : this.strings[id];
  }
}

function orNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
