/**
 * Producer duplicates: the same request (or usage event) in two different records, e.g. a `PutRecord` retry or
 * CloudWatch Logs delivering a log event again. The watermarks (update.ts) make a redelivered *record* count once;
 * this module drops the second copy of an *event*, keyed by (kind, accountId, requestId): exactly within a batch,
 * and across batches through a bounded per-process memory of committed events. Why this shape and not an id set in
 * the window item, and what it cannot catch: docs/aggregate.md, "Hostile and broken input".
 */

/** 53-bit hash (cyrb53) of the strings, separated, as a number. Stable across runtimes. */
export function hash53(a: string, b: string, c?: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const feed = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ 0, 2654435761);
    h2 = Math.imul(h2 ^ 0, 1597334677);
  };
  feed(a);
  feed(b);
  if (c !== undefined) feed(c);
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export type EventKind = 'request' | 'usage';

/** The key of an event: its kind, account and requestId (a usage event shares its requestId with its request). */
export function eventKey(kind: EventKind, accountId: string, requestId: string): number {
  return hash53(kind === 'request' ? 'r' : 'u', accountId, requestId);
}

/** Bounded memory of committed event keys -> the source (record) they came from. */
export class DuplicateMemory {
  private recent = new Map<number, number>();
  private older = new Map<number, number>();
  constructor(readonly capacity = 200_000) {
    if (!(capacity >= 2)) throw new Error(`duplicate memory capacity must be at least 2, got ${capacity}`);
  }

  get(key: number): number | undefined {
    return this.recent.get(key) ?? this.older.get(key);
  }

  set(key: number, source: number): void {
    if (this.recent.size >= this.capacity / 2) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(key, source);
  }

  get size(): number {
    return this.recent.size + this.older.size;
  }
}

/**
 * A DuplicateMemory for callers that only ask "seen before?" (replay: every line is its own record), with the same
 * two generations (the recent one becomes the older one once it holds capacity / 2 keys), as open-addressing tables
 * of doubles: 53-bit keys are not small integers, so a Map would box every one of them.
 */
export class SeenKeys {
  private recent: Float64Array;
  private older: Float64Array;
  private recentSize = 0;
  private readonly mask: number;
  constructor(readonly capacity = 200_000) {
    if (!(capacity >= 2)) throw new Error(`duplicate memory capacity must be at least 2, got ${capacity}`);
    // At most half full: a generation holds fewer than capacity / 2 + 1 keys.
    let slots = 4;
    while (slots < 2 * (capacity / 2 + 1)) slots *= 2;
    this.mask = slots - 1;
    this.recent = new Float64Array(slots);
    this.older = new Float64Array(slots);
  }

  has(key: number): boolean {
    return find(this.recent, this.mask, key) >= 0 || find(this.older, this.mask, key) >= 0;
  }

  add(key: number): void {
    if (this.recentSize >= this.capacity / 2) {
      const spare = this.older;
      this.older = this.recent;
      this.recent = spare.fill(0);
      this.recentSize = 0;
    }
    // Stored as key + 1 (exact below 2^53): 0 marks an empty slot.
    let i = (key >>> 0) & this.mask;
    for (; this.recent[i] !== 0; i = (i + 1) & this.mask) if (this.recent[i] === key + 1) return;
    this.recent[i] = key + 1;
    this.recentSize++;
  }
}

/** The slot of `key` in a SeenKeys table, or -1. */
function find(table: Float64Array, mask: number, key: number): number {
  for (let i = (key >>> 0) & mask; table[i] !== 0; i = (i + 1) & mask) if (table[i] === key + 1) return i;
  return -1;
}

/**
 * The de-duplication of one batch. `check` each parsed event in delivery order; `commit` after the writes with the
 * accounts whose writes failed (their events are not remembered).
 */
export class BatchDeduper {
  private readonly batch = new Set<number>();
  private readonly keys: number[] = [];
  private readonly sources: number[] = [];
  private readonly accounts: string[] = [];
  /** Copies dropped in this batch. */
  duplicates = 0;

  constructor(private readonly memory?: DuplicateMemory) {}

  /** True when the event is a copy of one already counted (and must be skipped). `source`: hash of its record. */
  isDuplicate(kind: EventKind, accountId: string, requestId: string, source: number): boolean {
    const key = eventKey(kind, accountId, requestId);
    if (this.batch.has(key)) {
      this.duplicates++;
      return true;
    }
    const before = this.memory?.get(key);
    if (before !== undefined && before !== source) {
      this.duplicates++;
      return true;
    }
    this.batch.add(key);
    if (this.memory) {
      this.keys.push(key);
      this.sources.push(source);
      this.accounts.push(accountId);
    }
    return false;
  }

  /** Remember the batch's events, except those of accounts whose writes did not land. */
  commit(failedAccounts: ReadonlySet<string> = new Set()): void {
    if (!this.memory) return;
    for (let i = 0; i < this.keys.length; i++) if (!failedAccounts.has(this.accounts[i])) this.memory.set(this.keys[i], this.sources[i]);
    this.keys.length = 0;
    this.sources.length = 0;
    this.accounts.length = 0;
  }
}
