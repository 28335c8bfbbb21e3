/**
 * The Firehose ingestion path's input: an S3 object that Amazon Data Firehose wrote from a REST API stage's
 * access logs (records of docs/contract.md, "Access-log record"; the same JSON line as in a CloudWatch Logs envelope), and the S3 event
 * notification that announces it. Plain TypeScript (node:zlib, node:crypto), no AWS import.
 *
 * Framing. API Gateway puts one Firehose record per request, and Firehose concatenates the records of a buffer
 * into one object *without a delimiter* unless the delivery stream appends one (the `AppendDelimiterToRecord`
 * processor, which lib/ingest/firehose-access-logs.ts configures). So an object may be newline-delimited JSON,
 * concatenated JSON (`{...}{...}`), or a mix (with blank lines if a newline is appended twice). `RecordSplitter`
 * handles all three: a newline always ends a record, and within a line a record ends where a top-level `}` is
 * immediately followed by `{` (tracked outside JSON strings). Its output depends only on the text, never on how
 * the text is cut into pieces, so a redelivered object yields exactly the same records in the same order (the
 * exactly-once writes rely on that, see lambdas/aggregate/object-core.ts).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { MAX_LINE_CHARS } from './parse';

/** Receives the records of an object in order. */
export interface RecordSink {
  /** One record's text (trimmed, non-empty, at most `maxRecordChars`). */
  record(text: string): void;
  /** A record longer than `maxRecordChars`; its text is not kept (counted as `line-too-large`). */
  tooLarge(): void;
}

const CH_QUOTE = 34;
const CH_BACKSLASH = 92;
const CH_OPEN = 123;
const CH_CLOSE = 125;

/**
 * Splits the text of an object into records, streaming: `push()` pieces in order, then `end()`. Newline-delimited
 * lines take a fast path (`indexOf`); a line that contains `}{`, or that is still incomplete at the end of a
 * piece, is scanned character by character (depth and string state carried across pieces), so concatenated JSON
 * without any newline (a whole object on one "line") is split without buffering more than one record.
 */
export class RecordSplitter {
  private parts: string[] = [];
  private len = 0;
  private oversized = false;
  private scanning = false;
  private depth = 0;
  private inStr = false;
  private esc = false;
  /** The last character scanned closed a top-level object: a `{` next starts a new record. */
  private closed = false;

  constructor(
    private readonly sink: RecordSink,
    private readonly maxRecordChars = MAX_LINE_CHARS,
  ) {}

  push(text: string): void {
    const n = text.length;
    let start = 0;
    while (start < n) {
      const nl = text.indexOf('\n', start);
      const end = nl < 0 ? n : nl;
      if (nl >= 0 && !this.scanning) {
        const line = text.slice(start, end);
        if (line.indexOf('}{') < 0) this.emitText(line);
        else {
          this.scan(line, 0, line.length);
          this.endLine();
        }
      } else {
        this.scan(text, start, end);
        if (nl >= 0) this.endLine();
      }
      start = end + 1;
    }
  }

  /** End of the object: the last line, if it had no trailing newline. */
  end(): void {
    if (this.scanning) this.endLine();
  }

  private emitText(t: string): void {
    if (t.length > this.maxRecordChars) {
      this.sink.tooLarge();
      return;
    }
    const s = t.trim();
    if (s.length > 0) this.sink.record(s);
  }

  private emitCurrent(text: string, from: number, to: number): void {
    if (this.oversized) this.sink.tooLarge();
    else if (this.parts.length === 0) this.emitText(text.slice(from, to));
    else {
      this.parts.push(text.slice(from, to));
      this.emitText(this.parts.join(''));
    }
    this.parts = [];
    this.len = 0;
    this.oversized = false;
  }

  private scan(text: string, from: number, to: number): void {
    this.scanning = true;
    let recStart = from;
    let depth = this.depth;
    let inStr = this.inStr;
    let esc = this.esc;
    let closed = this.closed;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (closed) {
        closed = false;
        if (c === CH_OPEN) {
          // boundary: the record ends before this `{`
          this.emitCurrent(text, recStart, i);
          recStart = i;
        }
      }
      if (inStr) {
        if (esc) esc = false;
        else if (c === CH_BACKSLASH) esc = true;
        else if (c === CH_QUOTE) inStr = false;
      } else if (c === CH_QUOTE) inStr = true;
      else if (c === CH_OPEN) depth++;
      else if (c === CH_CLOSE && depth > 0) {
        depth--;
        if (depth === 0) closed = true;
      }
    }
    this.depth = depth;
    this.inStr = inStr;
    this.esc = esc;
    this.closed = closed;
    // keep the rest of the current record (bounded: past the limit only its length is tracked)
    const rest = to - recStart;
    if (rest > 0) {
      this.len += rest;
      if (this.len > this.maxRecordChars) {
        this.oversized = true;
        this.parts = [];
      } else this.parts.push(text.slice(recStart, to));
    }
  }

  private endLine(): void {
    if (this.oversized || this.len > 0) this.emitCurrent('', 0, 0);
    this.scanning = false;
    this.depth = 0;
    this.inStr = false;
    this.esc = false;
    this.closed = false;
  }
}

/** Decompressed-size cap of one object (gzip-bomb guard). Firehose buffers at most 128 MiB per object. */
export const MAX_OBJECT_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

export type ObjectDecodeReason = 'gunzip-failed' | 'decompressed-too-large' | 'empty-record';

export type ObjectDecodeResult =
  | { ok: true; gzip: boolean; bytesIn: number; bytesOut: number }
  | { ok: false; reason: ObjectDecodeReason; detail?: string; gzip: boolean; bytesIn: number; bytesOut: number };

export interface ObjectDecodeOptions {
  /** @default MAX_OBJECT_DECOMPRESSED_BYTES */
  readonly maxDecompressedBytes?: number;
  /** @default MAX_LINE_CHARS */
  readonly maxRecordChars?: number;
  /** Size of the pieces the compressed bytes are fed in, and of gunzip's output chunks. @default 1 MiB */
  readonly pieceBytes?: number;
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function* slices(bytes: Uint8Array, size: number): Generator<Buffer> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, Math.min(buf.length, i + size));
}

/**
 * Decode a whole object (its bytes are in memory: an object is at most a few tens of MiB gzip'd) into records:
 * streaming gunzip (when the object starts with the gzip magic; plain text otherwise, e.g. a stream without
 * compression), streaming UTF-8 decoding, then `RecordSplitter`. `afterPiece` runs after every decompressed
 * piece (~1 MiB), so the caller can await writes with bounded memory. Never throws for bad input: a corrupt gzip
 * stream or a decompression bomb ends the decode with `ok: false` (the records before the failure have been
 * delivered; they are the same for every attempt on the same bytes).
 */
export async function decodeObject(
  bytes: Uint8Array,
  sink: RecordSink,
  afterPiece?: () => Promise<void> | void,
  opts: ObjectDecodeOptions = {},
): Promise<ObjectDecodeResult> {
  const max = opts.maxDecompressedBytes ?? MAX_OBJECT_DECOMPRESSED_BYTES;
  const piece = opts.pieceBytes ?? 1024 * 1024;
  const gzip = isGzip(bytes);
  const bytesIn = bytes.length;
  let bytesOut = 0;
  if (bytesIn === 0) return { ok: false, reason: 'empty-record', gzip, bytesIn, bytesOut };
  const splitter = new RecordSplitter(sink, opts.maxRecordChars ?? MAX_LINE_CHARS);
  const utf8 = new StringDecoder('utf8');
  const source: Iterable<Buffer> | AsyncIterable<Buffer> = gzip
    ? Readable.from(slices(bytes, piece), { objectMode: false }).pipe(createGunzip({ chunkSize: Math.max(64, Math.min(piece, 1 << 20)) }))
    : slices(bytes, piece);
  try {
    for await (const out of source as AsyncIterable<Buffer>) {
      bytesOut += out.length;
      if (bytesOut > max) {
        if (gzip) (source as NodeJS.ReadableStream & { destroy(): void }).destroy();
        return { ok: false, reason: 'decompressed-too-large', gzip, bytesIn, bytesOut };
      }
      splitter.push(utf8.write(out));
      if (afterPiece) await afterPiece();
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { ok: false, reason: 'gunzip-failed', detail: code ?? String((e as Error).message ?? e).slice(0, 100), gzip, bytesIn, bytesOut };
  }
  splitter.push(utf8.end());
  splitter.end();
  if (afterPiece) await afterPiece();
  return { ok: true, gzip, bytesIn, bytesOut };
}

// ---------------------------------------------------------------------------------------------------------------
// S3 event notifications (the SQS message body S3 sends for s3:ObjectCreated:*)
// ---------------------------------------------------------------------------------------------------------------

export interface S3ObjectRef {
  bucket: string;
  /** The object key, URL-decoded (S3 event notifications carry it URL-encoded, spaces as `+`). */
  key: string;
  size?: number;
  eTag?: string;
  versionId?: string;
  eventName: string;
  /** When S3 created the object (ISO time), if the event says. */
  eventTime?: string;
}

export type S3Notification = { kind: 'test' } | { kind: 'objects'; objects: S3ObjectRef[] } | { kind: 'invalid'; reason: string };

function decodeKey(k: string): string {
  try {
    return decodeURIComponent(k.replace(/\+/g, ' '));
  } catch {
    return k;
  }
}

/**
 * Parse an SQS message body from an S3 event notification (`{"Records":[{"eventName":"ObjectCreated:Put",
 * "s3":{"bucket":{"name"},"object":{"key","size","eTag"}}}]}`). Also accepts the `s3:TestEvent` S3 sends when a
 * notification is configured (nothing to do) and the EventBridge form of the event (`detail-type: Object
 * Created`). Never throws.
 */
export function parseS3Notification(body: string): S3Notification {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'not-json' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { kind: 'invalid', reason: 'not-object' };
  const o = v as Record<string, unknown>;
  if (o.Event === 's3:TestEvent') return { kind: 'test' };
  if (o['detail-type'] === 'Object Created' && o.detail && typeof o.detail === 'object') {
    const d = o.detail as { bucket?: { name?: unknown }; object?: { key?: unknown; size?: unknown; etag?: unknown; 'version-id'?: unknown } };
    if (typeof d.bucket?.name !== 'string' || typeof d.object?.key !== 'string') return { kind: 'invalid', reason: 'bad-event' };
    return {
      kind: 'objects',
      objects: [
        {
          bucket: d.bucket.name,
          key: d.object.key,
          size: typeof d.object.size === 'number' ? d.object.size : undefined,
          eTag: typeof d.object.etag === 'string' ? d.object.etag : undefined,
          versionId: typeof d.object['version-id'] === 'string' ? d.object['version-id'] : undefined,
          eventName: 'ObjectCreated',
          eventTime: typeof o.time === 'string' ? o.time : undefined,
        },
      ],
    };
  }
  if (!Array.isArray(o.Records)) return { kind: 'invalid', reason: 'no-records' };
  const objects: S3ObjectRef[] = [];
  for (const r of o.Records as unknown[]) {
    const rec = r as {
      eventName?: unknown;
      eventTime?: unknown;
      s3?: { bucket?: { name?: unknown }; object?: { key?: unknown; size?: unknown; eTag?: unknown; versionId?: unknown } };
    } | null;
    if (!rec || typeof rec !== 'object' || typeof rec.s3?.bucket?.name !== 'string' || typeof rec.s3?.object?.key !== 'string') {
      return { kind: 'invalid', reason: 'bad-record' };
    }
    const eventName = typeof rec.eventName === 'string' ? rec.eventName : '';
    if (!eventName.startsWith('ObjectCreated:')) continue; // only creations carry data
    const obj = rec.s3.object;
    objects.push({
      bucket: rec.s3.bucket.name,
      key: decodeKey(obj.key as string),
      size: typeof obj.size === 'number' ? obj.size : undefined,
      eTag: typeof obj.eTag === 'string' ? obj.eTag : undefined,
      versionId: typeof obj.versionId === 'string' && obj.versionId !== '' ? obj.versionId : undefined,
      eventName,
      eventTime: typeof rec.eventTime === 'string' ? rec.eventTime : undefined,
    });
  }
  return { kind: 'objects', objects };
}

/** Characters of the object id kept on window items (base64url of SHA-256; 60 bits). */
export const OBJECT_ID_CHARS = 10;

/**
 * A short, stable id of an object for the exactly-once markers on window items: the same object (bucket, key,
 * version) always gets the same id, in every delivery. 60 bits: two different objects that touch the same
 * (account, hour) item collide with probability ~n^2 / 2^61 for n objects on that item.
 */
export function objectId(bucket: string, key: string, versionId?: string): string {
  return createHash('sha256')
    .update(`${bucket}\u0000${key}\u0000${versionId ?? ''}`)
    .digest('base64url')
    .slice(0, OBJECT_ID_CHARS);
}

/** The S3 event's object creation time in ms, when it has one. */
export function eventTimeMs(ref: Pick<S3ObjectRef, 'eventTime'>): number | undefined {
  if (!ref.eventTime) return undefined;
  const t = Date.parse(ref.eventTime);
  return Number.isFinite(t) ? t : undefined;
}
