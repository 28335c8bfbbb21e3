/**
 * The ingest domain: decode Kinesis records (decode.ts), parse lines (parse.ts), and count what was skipped.
 */
import { decodeRecord, type DecodeReason, type DecodeResult } from './decode';
import { parseAny, type AnyParseResult, type ParseOptions, type ParseReason, type RequestEvent, type UsageRecord } from './parse';

export * from './decode';
export * from './parse';
export * from './object';
export { ipInfo, hashIp, setIpHashKey } from './ip';

/** Every reason something is skipped: record-level (decode), line-level (parse), plus envelope items. */
export type SkipReason =
  | DecodeReason
  | ParseReason
  | 'bad-log-event'
  | 'usage-account-mismatch'
  | 'object-missing'
  /** A CloudWatch Logs envelope from a log group that is not one of the configured access-log groups. */
  | 'unknown-log-group'
  /** An access-log record that did not come in an envelope from a configured access-log group. */
  | 'access-log-outside-log-group'
  /** A usage event inside an access-log group's envelope (API Gateway never writes one). */
  | 'usage-in-access-log-group';

/** Counters for input accounting (metrics in the Lambda, `input` in the replay report). */
export class IngestStats {
  records = 0;
  controlMessages = 0;
  lines = 0;
  requests = 0;
  usage = 0;
  skipped = 0;
  /**
   * Producer duplicates dropped (the same request or usage event in two records; src/aggregate/dedupe.ts). Not in
   * `skipped`, which counts malformed or refused input.
   */
  duplicates = 0;
  readonly byReason: Partial<Record<SkipReason, number>> = {};

  skip(reason: SkipReason, n = 1): void {
    this.skipped += n;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + n;
  }

  toJSON(): Record<string, unknown> {
    return {
      records: this.records,
      controlMessages: this.controlMessages,
      lines: this.lines,
      requests: this.requests,
      usage: this.usage,
      skipped: this.skipped,
      skippedByReason: { ...this.byReason },
      duplicates: this.duplicates,
    };
  }
}

export type EventSink = {
  request(e: RequestEvent): void;
  usage(u: UsageRecord): void;
};

/**
 * Decode one record and parse every entry in it, calling the sink for each valid event and counting every
 * rejection in `stats`. Returns the decode result so the caller can route record-level failures (e.g. to the
 * on-failure destination).
 */
export function ingestRecord(data: string | Uint8Array, stats: IngestStats, sink: EventSink, opts?: ParseOptions): DecodeResult {
  stats.records++;
  const d = decodeRecord(data);
  if (!d.ok) {
    stats.skip(d.reason);
    return d;
  }
  if (d.kind === 'control') {
    stats.controlMessages++;
    return d;
  }
  if (d.skippedEvents > 0) {
    stats.lines += d.skippedEvents;
    stats.skip('bad-log-event', d.skippedEvents);
  }
  const entries = d.entries;
  for (let i = 0; i < entries.length; i++) ingestLine(entries[i], stats, sink, opts);
  return d;
}

/** Parse one line (string or object) and route it. Returns the parse result. */
export function ingestLine(line: string | object, stats: IngestStats, sink: EventSink, opts?: ParseOptions): AnyParseResult {
  stats.lines++;
  const r = parseAny(line, opts);
  if (!r.ok) stats.skip(r.reason);
  else if (r.kind === 'request') {
    stats.requests++;
    sink.request(r.event);
  } else {
    stats.usage++;
    sink.usage(r.event);
  }
  return r;
}
