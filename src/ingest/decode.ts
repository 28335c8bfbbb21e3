/**
 * Decode one Kinesis record's data into the entries it carries. Never throws.
 *
 * A record is one of:
 * - a CloudWatch Logs subscription envelope (gzip JSON): `DATA_MESSAGE` with `logEvents[]` (each `message` is an
 *   access-log line, docs/contract.md, "Access-log record") or a `CONTROL_MESSAGE` (no data);
 * - a usage event (docs/contract.md, "Usage event") put directly by the serving tier: one JSON object, a JSON array of them, or
 *   NDJSON, optionally gzip-compressed;
 * - a raw access-log JSON line (same framings as usage events).
 *
 * Entries are returned as strings (log-event messages, NDJSON lines) or already-parsed objects; `parseAny`
 * (parse.ts) turns each into an event or a rejection.
 */
import { gunzipSync } from 'node:zlib';

export type DecodeReason =
  | 'empty-record'
  | 'record-too-large'
  | 'invalid-base64'
  | 'gunzip-failed'
  | 'decompressed-too-large'
  | 'not-json'
  | 'bad-envelope'
  | 'unknown-message-type';

export interface LogEventEntry {
  /** CloudWatch Logs event id (unique within the log group). */
  id?: string;
  /** Ingestion-side timestamp of the log event, ms. */
  timestamp?: number;
  message: string;
}

export type DecodeResult =
  | { ok: true; kind: 'logs'; logGroup: string | null; logStream: string | null; entries: Array<string | object>; skippedEvents: number }
  | { ok: true; kind: 'control' }
  | { ok: true; kind: 'json'; entries: Array<string | object>; skippedEvents: number }
  | { ok: false; reason: DecodeReason; detail?: string };

/** Kinesis caps a record at 1 MiB (10 MiB for on-demand advantage); base64 of 10 MiB, with margin. */
export const MAX_RECORD_BYTES = 14 * 1024 * 1024;
/** gzip-bomb guard: decompressed payload cap. */
export const MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024;
/** Most entries one record may carry (CloudWatch puts up to 10,000 events in an envelope). */
export const MAX_ENTRIES_PER_RECORD = 50_000;

const B64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

/** Strict base64 -> bytes (Buffer.from silently skips invalid characters, so validate). */
export function fromBase64(s: string): Buffer | null {
  if (s.length === 0) return Buffer.alloc(0);
  // Fast validity check without a regex over the whole string in the common case: compare decoded length.
  const buf = Buffer.from(s, 'base64');
  let pad = 0;
  if (s.charCodeAt(s.length - 1) === 61) pad++;
  if (s.charCodeAt(s.length - 2) === 61) pad++;
  const expected = Math.floor((s.length * 3) / 4) - pad;
  if (buf.length === expected && s.length % 4 === 0) return buf;
  // Slow path: tolerate line breaks / unpadded input, reject anything else.
  if (!B64.test(s)) return null;
  return buf;
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Decode one Kinesis record's `data` (base64 string as in the Lambda event, or raw bytes). */
export function decodeRecord(data: string | Uint8Array): DecodeResult {
  let bytes: Buffer;
  if (typeof data === 'string') {
    if (data.length === 0) return { ok: false, reason: 'empty-record' };
    if (data.length > MAX_RECORD_BYTES) return { ok: false, reason: 'record-too-large' };
    const b = fromBase64(data);
    if (!b) return { ok: false, reason: 'invalid-base64' };
    bytes = b;
  } else if (data instanceof Uint8Array) {
    bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  } else {
    return { ok: false, reason: 'empty-record' };
  }
  if (bytes.length === 0) return { ok: false, reason: 'empty-record' };
  if (bytes.length > MAX_RECORD_BYTES) return { ok: false, reason: 'record-too-large' };

  let text: string;
  if (isGzip(bytes)) {
    let raw: Buffer;
    try {
      raw = gunzipSync(bytes, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') return { ok: false, reason: 'decompressed-too-large' };
      return { ok: false, reason: 'gunzip-failed', detail: code ?? String((e as Error).message ?? e).slice(0, 100) };
    }
    text = raw.toString('utf8');
  } else {
    text = bytes.toString('utf8');
  }
  return decodeText(text);
}

/** Decode the (decompressed) text of a record. */
export function decodeText(text: string): DecodeResult {
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) <= 32 || text.charCodeAt(i) === 0xfeff)) i++;
  if (i >= text.length) return { ok: false, reason: 'empty-record' };
  const first = text.charCodeAt(i);
  if (first !== 123 /* { */ && first !== 91 /* [ */) return { ok: false, reason: 'not-json' };

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not one JSON value: maybe NDJSON (several usage events / log lines in one record).
    if (first === 123 && text.indexOf('\n', i) > 0) return ndjson(text);
    return { ok: false, reason: 'not-json' };
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_ENTRIES_PER_RECORD) return { ok: false, reason: 'record-too-large' };
    return { ok: true, kind: 'json', entries: value as Array<string | object>, skippedEvents: 0 };
  }
  if (value === null || typeof value !== 'object') return { ok: false, reason: 'not-json' };
  const o = value as Record<string, unknown>;
  if (o.messageType !== undefined) return envelope(o);
  return { ok: true, kind: 'json', entries: [o], skippedEvents: 0 };
}

function ndjson(text: string): DecodeResult {
  const entries: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    if (line.length > 0) entries.push(line);
    if (entries.length > MAX_ENTRIES_PER_RECORD) return { ok: false, reason: 'record-too-large' };
    start = end + 1;
  }
  return { ok: true, kind: 'json', entries, skippedEvents: 0 };
}

function envelope(o: Record<string, unknown>): DecodeResult {
  if (o.messageType === 'CONTROL_MESSAGE') return { ok: true, kind: 'control' };
  if (o.messageType !== 'DATA_MESSAGE') return { ok: false, reason: 'unknown-message-type' };
  const events = o.logEvents;
  if (!Array.isArray(events)) return { ok: false, reason: 'bad-envelope' };
  if (events.length > MAX_ENTRIES_PER_RECORD) return { ok: false, reason: 'record-too-large' };
  const entries: string[] = new Array(events.length);
  let n = 0;
  let skipped = 0;
  for (let k = 0; k < events.length; k++) {
    const ev = events[k] as { message?: unknown } | null;
    if (ev !== null && typeof ev === 'object' && typeof ev.message === 'string') entries[n++] = ev.message;
    else skipped++;
  }
  entries.length = n;
  return {
    ok: true,
    kind: 'logs',
    logGroup: typeof o.logGroup === 'string' ? o.logGroup : null,
    logStream: typeof o.logStream === 'string' ? o.logStream : null,
    entries,
    skippedEvents: skipped,
  };
}
