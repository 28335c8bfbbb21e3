/**
 * Replay (docs/contract.md, "Replay command and report"): an access-log file (and optional usage file) through the
 * aggregator's own parse + aggregate code and the scheduled scorer's detection code, with LOG TIME as the clock, so
 * that offline figures are the pipeline's. Streamed, incremental and sticky as docs/detection.md, "6. Replay", says.
 */
import { ReplayAggregator, type ReplayAggregatorOptions } from '../aggregate/replay';
import { WINDOW_MS, windowStartOf } from '../aggregate/window';
import type { AccountWindow } from '../aggregate/window';
import {
  DEFAULT_DETECTION_CONFIG,
  LinkageCache,
  ScoringCache,
  decisionRank,
  emptyProfile,
  runDetection,
  updateWindow,
  closeWindow,
} from '../detect/index';
import type {
  AccountProfile,
  AppliedWindow,
  ClusterReport,
  DetectionConfig,
  DetectionResult,
  ExternalIndicatorSet,
  ReasonDetail,
} from '../detect/index';
import type { RequestEvent, UsageRecord } from '../ingest/parse';
import type { Decision, ReplayAccount, ReplayReport } from '../shared/contract';
import { forEachItem, type Item } from './items';
import { probeInput } from './lines';
import { ItemKind } from './wire';

export { InputError, probeInput, readLineBatches, readLines } from './lines';
export { forEachItem, stripTimestampPrefix, type Item } from './items';

export interface ReplayOptions {
  logs: string;
  usage?: string;
  config?: DetectionConfig;
  /** Detection cadence in log time. @default 15 minutes */
  intervalMs?: number;
  /** Windows are closed (final per-minute stats) this long after their hour ends. @default 5 minutes */
  closeGraceMs?: number;
  /**
   * Cross-account linkage cadence in log time (scoring runs every interval). @default 30 minutes. The scheduled
   * scorer links on every run; replay links less often to stay fast, which only delays `firstFlaggedAt` (by up to
   * the cadence). Measured on the simulator's medium traffic: hourly linkage added ~0.5 h to the median latency;
   * linking every 15 min gains no more than every 30 min but doubles replay time.
   */
  linkEveryMs?: number;
  /** Called every few detection runs: lines, log time, and bytes of the input files read out of their total. */
  onProgress?: (p: { linesRead: number; clock: number; runs: number; bytesRead: number; bytesTotal: number }) => void;
  /** Indicators partners shared: the `external-indicator` signal matches against them. */
  external?: ExternalIndicatorSet;
  /** Called with the engine once the report is built (exporting indicators reads its profiles). */
  onEngine?: (engine: ReplayEngine) => void;
}

/** An account of the report: the contract's fields, plus what the replay adds. */
export interface ReplayAccountOut extends Pick<ReplayAccount, 'accountId' | 'decision' | 'score' | 'reasons' | 'clusterId' | 'firstFlaggedAt'> {
  reasonDetails: ReasonDetail[];
  relatedAccountIds: string[];
  /** Decision at the last run (the sticky `decision` may be higher). */
  lastDecision: Decision;
  requests: number;
}

type Sticky = ReplayAccountOut;

export class ReplayEngine {
  readonly agg: ReplayAggregator;
  readonly config: DetectionConfig;
  readonly intervalMs: number;
  readonly closeGraceMs: number;
  private readonly profiles = new Map<string, AccountProfile>();
  /** Open windows: key `${accountId}\u0000${windowStart}` -> applied snapshot. */
  private readonly open = new Map<string, { accountId: string; ws: number; applied?: AppliedWindow }>();
  private readonly touched = new Set<string>();
  private readonly sticky = new Map<string, Sticky>();
  private readonly clusterReports = new Map<string, ClusterReport>();
  private previousClusters = new Map<string, string>();
  private readonly cache = new LinkageCache();
  private readonly scoringCache = new ScoringCache();
  private nextTick: number | null = null;
  private firstTs: number | null = null;
  last: DetectionResult | null = null;
  /** The latest item time fed in (log time). */
  clock = 0;
  /** Indicators partners shared (optional). */
  external?: ExternalIndicatorSet;
  runs = 0;
  detectMs = 0;
  linesRead = 0;
  logLines = 0;
  usageLines = 0;
  emptyLines = 0;

  readonly linkEveryMs: number;
  private lastLinkAt = Number.NEGATIVE_INFINITY;
  linkRuns = 0;

  constructor(
    config: DetectionConfig = DEFAULT_DETECTION_CONFIG,
    intervalMs = 15 * 60_000,
    closeGraceMs = 5 * 60_000,
    linkEveryMs = 30 * 60_000,
    aggregator: ReplayAggregatorOptions = {},
  ) {
    this.agg = new ReplayAggregator(aggregator);
    this.config = config;
    this.linkEveryMs = Math.max(linkEveryMs, intervalMs);
    this.intervalMs = intervalMs;
    this.closeGraceMs = closeGraceMs;
  }

  /** Feed one item in (approximate) time order; runs detection when log time crosses a tick. */
  add(item: Item): void {
    this.beforeItem(item.ts);
    if (item.kind === 'log') {
      this.logLines++;
      const e = this.agg.addLogLine(item.value);
      if (e) this.touch(e.accountId, e.ts);
    } else {
      this.usageLines++;
      const u = this.agg.addUsageLine(item.value);
      if (u) this.touch(u.accountId, u.ts);
    }
  }

  /**
   * `add` for an item another thread parsed and admitted (src/replay/threaded.ts): the event when the aggregator
   * admitted it, else null (skipped or a duplicate, counted by that thread).
   */
  addAdmitted(kind: ItemKind, itemTs: number, event: RequestEvent | UsageRecord | null): void {
    this.beforeItem(itemTs);
    if (kind === ItemKind.Log || kind === ItemKind.LogAdmitted) this.logLines++;
    else this.usageLines++;
    if (event === null) return;
    if (kind === ItemKind.LogAdmitted) this.agg.applyRequest(event as RequestEvent);
    else this.agg.applyUsage(event as UsageRecord);
    this.touch(event.accountId, event.ts);
  }

  /** Runs detection when log time crosses a tick, then counts the item. */
  private beforeItem(ts: number): void {
    if (this.nextTick === null) {
      this.firstTs = ts;
      this.nextTick = Math.floor(ts / this.intervalMs) * this.intervalMs + this.intervalMs;
    }
    if (ts >= this.nextTick) {
      // Jump over idle gaps: one run at the last tick boundary not after this item.
      const tick = Math.floor(ts / this.intervalMs) * this.intervalMs;
      this.tick(tick);
      this.nextTick = tick + this.intervalMs;
    }
    if (ts > this.clock) this.clock = ts;
    this.linesRead++;
  }

  private touch(accountId: string, ts: number): void {
    const ws = windowStartOf(ts);
    const key = accountId + '\u0000' + ws;
    this.touched.add(key);
    if (!this.open.has(key)) this.open.set(key, { accountId, ws });
  }

  private snapshot(accountId: string, ws: number): AccountWindow | undefined {
    return this.agg.store.windowAt(accountId, ws);
  }

  /** Every profile replay built. */
  allProfiles(): IterableIterator<AccountProfile> {
    return this.profiles.values();
  }

  /** An account's profile as replay built it (undefined: never seen). */
  profileOf(accountId: string): AccountProfile | undefined {
    return this.profiles.get(accountId);
  }

  private profile(accountId: string): AccountProfile {
    let p = this.profiles.get(accountId);
    if (!p) {
      p = emptyProfile(accountId);
      this.profiles.set(accountId, p);
    }
    return p;
  }

  /** Bring profiles up to date with the store, closing windows that ended before `t - closeGrace`. */
  private sync(t: number, closeAll: boolean): void {
    const bucketMs = this.config.linkage.syncBucketMs;
    for (const key of this.touched) {
      const o = this.open.get(key)!;
      const w = this.snapshot(o.accountId, o.ws);
      if (w) o.applied = updateWindow(this.profile(o.accountId), w, bucketMs, o.applied);
    }
    this.touched.clear();
    for (const [key, o] of this.open) {
      if (!closeAll && o.ws + WINDOW_MS + this.closeGraceMs > t) continue;
      const w = this.snapshot(o.accountId, o.ws);
      if (w) closeWindow(this.profile(o.accountId), w);
      this.open.delete(key);
    }
  }

  /** Run detection at log time t. */
  tick(t: number, final = false): DetectionResult {
    const started = Date.now();
    this.sync(t, final);
    const lookback = this.config.lookbackMs;
    const active: AccountProfile[] = [];
    for (const p of this.profiles.values()) if (p.lastTs >= t - lookback) active.push(p);
    const periodStart = Math.max(this.firstTs ?? t, t - lookback);
    const result = runDetection({
      profiles: active,
      modelFirstSeen: this.agg.store.modelFirstSeen(),
      now: t,
      periodStart,
      config: this.config,
      previousClusters: this.previousClusters,
      cache: this.cache,
      scoringCache: this.scoringCache,
      external: this.external,
      linkage: !final && this.last && t - this.lastLinkAt < this.linkEveryMs ? this.last.linkageResult : undefined,
    });
    if (result.linkageResult !== this.last?.linkageResult) {
      this.lastLinkAt = t;
      this.linkRuns++;
    }
    const prev = new Map<string, string>();
    for (const c of result.clusters) {
      // Sticky, like account decisions: a cluster once acted on stays acted on.
      const before = this.clusterReports.get(c.clusterId);
      if (before && decisionRank(before.clusterDecision) > decisionRank(c.clusterDecision)) c.clusterDecision = before.clusterDecision;
      this.clusterReports.set(c.clusterId, c);
      for (const id of c.accountIds) prev.set(id, c.clusterId);
    }
    this.previousClusters = prev;
    for (const a of result.accounts) {
      const s = this.sticky.get(a.accountId);
      if (!s && a.decision === 'allow') continue;
      const flagged = decisionRank(a.decision) >= decisionRank('review');
      if (!s) {
        this.sticky.set(a.accountId, {
          accountId: a.accountId,
          decision: a.decision,
          score: a.score,
          reasons: a.reasons,
          clusterId: a.clusterId,
          firstFlaggedAt: flagged ? t : null,
          reasonDetails: a.reasonDetails,
          relatedAccountIds: a.relatedAccountIds,
          lastDecision: a.decision,
          requests: a.features.requests,
        });
        continue;
      }
      s.lastDecision = a.decision;
      s.requests = a.features.requests;
      if (flagged && s.firstFlaggedAt === null) s.firstFlaggedAt = t;
      if (a.clusterId) s.clusterId = a.clusterId;
      if (decisionRank(a.decision) >= decisionRank(s.decision)) {
        s.decision = a.decision;
        s.score = a.score;
        s.reasons = a.reasons;
        s.reasonDetails = a.reasonDetails;
        s.relatedAccountIds = a.relatedAccountIds;
      }
    }
    this.runs++;
    this.detectMs += Date.now() - started;
    this.last = result;
    return result;
  }

  /** Final run at the end of the input, then the report. */
  finish(): ReplayReport {
    const clock = this.agg.clock || this.firstTs || 0;
    const result = this.tick(clock, true);
    const accounts = [...this.sticky.values()]
      .filter((s) => s.decision !== 'allow')
      .sort((a, b) => decisionRank(b.decision) - decisionRank(a.decision) || b.score - a.score || (a.accountId < b.accountId ? -1 : 1));
    // `clusters` lists the clusters acted on: the cluster's evidence raised a member to review or suspend. Clusters
    // that only ever reached monitor (a team, a tool's users: coordination without abuse), or whose only flagged
    // member was flagged on its own traffic (an account taken over inside its owner's team), are listed apart.
    const finalIds = new Set(result.clusters.map((c) => c.clusterId));
    const referenced = new Set(accounts.map((a) => a.clusterId).filter((c): c is string => c !== null));
    const listed = [...this.clusterReports.values()].filter((c) => finalIds.has(c.clusterId) || referenced.has(c.clusterId));
    const clusters = listed.filter((c) => decisionRank(c.clusterDecision) >= decisionRank('review'));
    const monitoredClusters = listed.filter((c) => !clusters.includes(c));
    const counts: Record<Decision, number> = { allow: 0, monitor: 0, review: 0, suspend: 0 };
    for (const a of accounts) counts[a.decision]++;
    const stats = this.agg.stats.toJSON() as { skipped: number; skippedByReason: Record<string, number> };
    return {
      accounts: accounts.map((a) => ({ ...a })),
      clusters: clusters.map((c) => ({ ...c })),
      monitoredClusters: monitoredClusters.map((c) => ({ ...c })),
      input: {
        linesRead: this.linesRead,
        logLines: this.logLines,
        usageLines: this.usageLines,
        emptyLines: this.emptyLines,
        requests: this.agg.stats.requests,
        usageEvents: this.agg.stats.usage,
        skipped: stats.skippedByReason,
        skippedTotal: stats.skipped,
        firstTs: this.firstTs,
        lastTs: clock,
      },
      summary: { accountsSeen: this.profiles.size, ...counts, clusters: clusters.length, monitoredClusters: monitoredClusters.length },
      detection: {
        runs: this.runs,
        linkageRuns: this.linkRuns,
        intervalMs: this.intervalMs,
        linkEveryMs: this.linkEveryMs,
        detectMs: this.detectMs,
        models: result.models,
        linkage: result.linkage,
        config: this.config,
      },
    };
  }
}

/** The aggregator options replay uses for these inputs. */
export function aggregatorOptions(opts: { usage?: string }): ReplayAggregatorOptions {
  // Without usage events there is nothing to cross-check requestIds against: no need to remember their owners.
  return opts.usage ? {} : { crossCheckMemory: 0 };
}

/** The engine for these options. */
export function newEngine(opts: ReplayOptions, aggregator: ReplayAggregatorOptions): ReplayEngine {
  const engine = new ReplayEngine(opts.config ?? DEFAULT_DETECTION_CONFIG, opts.intervalMs, opts.closeGraceMs, opts.linkEveryMs, aggregator);
  engine.external = opts.external;
  return engine;
}

/** Bytes of both inputs, for progress. */
export async function inputBytes(opts: { logs: string; usage?: string }): Promise<number> {
  return (await probeInput(opts.logs, '--logs')).bytes + (opts.usage ? (await probeInput(opts.usage, '--usage')).bytes : 0);
}

/** Calls `onProgress` every few detection runs. */
export function progressReporter(engine: ReplayEngine, opts: ReplayOptions, bytesTotal: number): (bytesRead: number) => void {
  let lastProgress = 0;
  return (bytesRead) => {
    if (!opts.onProgress || engine.runs - lastProgress < 4) return;
    lastProgress = engine.runs;
    opts.onProgress({ linesRead: engine.linesRead, clock: engine.clock, runs: engine.runs, bytesRead, bytesTotal });
  };
}

/** Replay files; throws InputError on unreadable input. */
export async function replayFiles(opts: ReplayOptions): Promise<ReplayReport> {
  const engine = newEngine(opts, aggregatorOptions(opts));
  const progress = progressReporter(engine, opts, await inputBytes(opts));
  const read = { logs: { bytes: 0 }, usage: { bytes: 0 } };
  await forEachItem(
    opts,
    (item) => {
      const runs = engine.runs;
      engine.add(item);
      if (engine.runs !== runs) progress(read.logs.bytes + read.usage.bytes);
    },
    engine,
    read,
  );
  const report = engine.finish();
  opts.onEngine?.(engine);
  return report;
}
