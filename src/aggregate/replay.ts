/**
 * The per-line entry point replay uses: parse one access-log or usage line (same code as the Lambda) and
 * aggregate it straight into an in-memory FeatureStore, counting every skipped line by reason.
 *
 *   const agg = new ReplayAggregator();
 *   for (const line of logLines) agg.addLogLine(line);
 *   for (const line of usageLines) agg.addUsageLine(line);
 *   agg.store.windowsFor('acct_1', from, to); agg.stats.toJSON();
 */
import { IngestStats } from '../ingest/index';
import { parseAccessLog, parseUsage, type ParseOptions, type ParseResult, type RequestEvent, type UsageRecord } from '../ingest/parse';
import { SeenKeys, eventKey, type EventKind } from './dedupe';
import { FeatureStore } from './store';

export interface ReplayAggregatorOptions {
  store?: FeatureStore;
  /** Timestamp plausibility options passed to the parser (no `now` by default: log time is the clock). */
  parse?: ParseOptions;
  /**
   * How many recent requestId -> accountId pairs to remember to cross-check usage events against the access
   * logs (a usage event whose requestId belongs to another account is skipped as `usage-account-mismatch`).
   * @default 500000
   */
  crossCheckMemory?: number;
  /**
   * How many recent events to remember to drop producer duplicates (the same kind, account and requestId twice;
   * dedupe.ts), counted in `stats.duplicates`. 0 turns it off.
   * @default 500000
   */
  duplicateMemory?: number;
}

export class ReplayAggregator {
  readonly store: FeatureStore;
  readonly stats = new IngestStats();
  private readonly parseOpts: ParseOptions | undefined;
  private readonly memory: number;
  private recent = new Map<string, string>();
  private older = new Map<string, string>();
  private readonly seen: SeenKeys | undefined;
  /** Largest request time seen (the replay clock), or 0. */
  clock = 0;

  constructor(opts: ReplayAggregatorOptions = {}) {
    this.store = opts.store ?? new FeatureStore();
    this.parseOpts = opts.parse;
    this.memory = opts.crossCheckMemory ?? 500_000;
    const dup = opts.duplicateMemory ?? 500_000;
    this.seen = dup > 0 ? new SeenKeys(Math.max(2, dup)) : undefined;
  }

  /** True (and counted) when this event was already aggregated: every line of a replay is its own record. */
  private duplicate(kind: EventKind, accountId: string, requestId: string): boolean {
    if (!this.seen) return false;
    const key = eventKey(kind, accountId, requestId);
    if (this.seen.has(key)) {
      this.stats.duplicates++;
      return true;
    }
    this.seen.add(key);
    return false;
  }

  private remember(requestId: string, accountId: string): void {
    if (this.memory <= 0) return;
    if (this.recent.size >= this.memory / 2) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(requestId, accountId);
  }

  private ownerOf(requestId: string): string | undefined {
    return this.recent.get(requestId) ?? this.older.get(requestId);
  }

  /** Counts the line and parses it: the event, or null when it was skipped (and counted). */
  private parsed<T>(line: string | object, parse: (line: string | object, opts?: ParseOptions) => ParseResult<T>): T | null {
    this.stats.lines++;
    const r = parse(line, this.parseOpts);
    if (!r.ok) {
      this.stats.skip(r.reason);
      return null;
    }
    return r.event;
  }

  /** One access-log line (docs/contract.md, "Access-log record"). Returns the event, or null when the line was skipped or a duplicate (and counted). */
  addLogLine(line: string | object): RequestEvent | null {
    const e = this.admitLogLine(line);
    if (e !== null) this.applyRequest(e);
    return e;
  }

  /** One usage line (docs/contract.md, "Usage event"). Returns the event, or null when skipped (and counted). */
  addUsageLine(line: string | object): UsageRecord | null {
    const e = this.admitUsageLine(line);
    if (e !== null) this.applyUsage(e);
    return e;
  }

  /**
   * The first half of `addLogLine`: parse, drop duplicates and count, without aggregating. With `applyRequest`, it
   * lets replay parse on one thread and aggregate on another (src/replay/threaded.ts).
   */
  admitLogLine(line: string | object): RequestEvent | null {
    const e = this.parsed(line, parseAccessLog);
    if (e === null) return null;
    if (this.duplicate('request', e.accountId, e.requestId)) return null;
    this.stats.requests++;
    this.remember(e.requestId, e.accountId);
    return e;
  }

  /** The second half of `addLogLine`: aggregate an admitted request. */
  applyRequest(e: RequestEvent): void {
    this.store.addRequest(e);
    if (e.ts > this.clock) this.clock = e.ts;
  }

  /** The first half of `addUsageLine` (see `admitLogLine`). */
  admitUsageLine(line: string | object): UsageRecord | null {
    const e = this.parsed(line, parseUsage);
    if (e === null) return null;
    const owner = this.ownerOf(e.requestId);
    if (owner !== undefined && owner !== e.accountId) {
      this.stats.skip('usage-account-mismatch');
      return null;
    }
    if (this.duplicate('usage', e.accountId, e.requestId)) return null;
    this.stats.usage++;
    return e;
  }

  /** The second half of `addUsageLine`: aggregate an admitted usage event. */
  applyUsage(e: UsageRecord): void {
    this.store.addUsage(e);
  }
}
