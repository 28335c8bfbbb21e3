/**
 * Parse and validate one access-log record or usage event (docs/contract.md) into a normalised event.
 *
 * Never throws: every rejection returns `{ ok: false, reason }` with a reason code from a small, fixed set (so
 * it can be a metric dimension). Input is treated as hostile: types are checked, sizes capped, control
 * characters stripped from free text, and timestamps must be plausible.
 */
import { isValidAccountId } from '../shared/account-id';
import { PROMPT_CLASSES, type PromptClass } from '../shared/contract';
import { ipInfo } from './ip';

/** A normalised API request from one access-log record. */
export interface RequestEvent {
  requestId: string;
  /** Request time, ms since epoch (requestTimeEpoch, else requestTime in CLF). */
  ts: number;
  accountId: string;
  apiKeyId: string | null;
  /** Keyed hash of the source IP (see ip.ts); null when missing or not an IP. */
  ipHash: string | null;
  /** /24 (IPv4) or /48 (IPv6) prefix; null when missing. */
  subnet: string | null;
  /** Control characters removed, truncated to 256 characters; null when missing. */
  userAgent: string | null;
  method: string | null;
  /** Path segment after `/models/`; null when the path has none (or an invalid one). */
  model: string | null;
  status: number;
  /** responseLength in whole bytes, clamped to MAX_RESPONSE_BYTES; null when missing or not a non-negative number. */
  responseBytes: number | null;
  /** integrationLatency in whole ms, clamped to MAX_LATENCY_MS; null when missing or not a non-negative number. */
  latencyMs: number | null;
  accountCreatedAt: number | null;
}

/** A normalised usage event (docs/contract.md, "Usage event"). */
export interface UsageRecord {
  requestId: string;
  ts: number;
  accountId: string;
  model: string | null;
  promptClass: PromptClass;
  templateId: string | null;
  inputTokens: number;
  outputTokens: number;
}

/** Why a line was rejected. Fixed set: used as a metric dimension and in the replay report. */
export type ParseReason =
  | 'line-too-large'
  | 'not-json'
  | 'not-object'
  | 'missing-account-id'
  | 'bad-account-id'
  | 'missing-request-id'
  | 'bad-request-id'
  | 'missing-timestamp'
  | 'bad-timestamp'
  | 'timestamp-out-of-range'
  | 'bad-status'
  | 'bad-field-type'
  | 'bad-usage-field';

export type ParseResult<T> = { ok: true; event: T } | { ok: false; reason: ParseReason };

export type AnyParseResult =
  { ok: true; kind: 'request'; event: RequestEvent } | { ok: true; kind: 'usage'; event: UsageRecord } | { ok: false; reason: ParseReason };

export interface ParseOptions {
  /** Reference time (ms). When set, timestamps must lie within [now - maxPastMs, now + maxFutureMs]. */
  now?: number;
  /** @default 8 days (one more than Kinesis' 7-day extended retention) */
  maxPastMs?: number;
  /** @default 10 minutes (clock skew) */
  maxFutureMs?: number;
}

/** Lines longer than this are rejected before JSON.parse (a legitimate record is well under 4 KiB). */
export const MAX_LINE_CHARS = 32 * 1024;
export const MAX_UA_CHARS = 256;
export const MAX_ID_CHARS = 256;
export const MAX_MODEL_CHARS = 128;
export const MAX_TEMPLATE_CHARS = 128;
export const MAX_TOKENS = 100_000_000;
/**
 * Upper bounds of the optional numeric fields of an access-log record. A larger value is clamped to the bound (a
 * request that happened is still counted), a negative or non-numeric one is treated as missing. The bounds keep
 * every per-window sum an exact integer well below 2^53 (so it is written as a plain DynamoDB number, never as
 * `1e+200`, which DynamoDB rejects): 1 GiB is 100x API Gateway's 10 MB response limit, one hour is far beyond
 * its longest integration timeout.
 */
export const MAX_RESPONSE_BYTES = 1024 * 1024 * 1024;
export const MAX_LATENCY_MS = 3_600_000;
/** Absolute plausibility bounds used when no `now` is given: 2015-01-01 .. 2100-01-01. */
export const MIN_PLAUSIBLE_TS = 1_420_070_400_000;
export const MAX_PLAUSIBLE_TS = 4_102_444_800_000;
export const DEFAULT_MAX_PAST_MS = 8 * 86_400_000;
export const DEFAULT_MAX_FUTURE_MS = 10 * 60_000;

const PROMPT_CLASS_SET: ReadonlySet<string> = new Set(PROMPT_CLASSES);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/;

type Obj = Record<string, unknown>;

function fail<T>(reason: ParseReason): ParseResult<T> {
  return { ok: false, reason };
}

function toObject(input: string | object): Obj | ParseReason {
  if (typeof input === 'string') {
    if (input.length > MAX_LINE_CHARS) return 'line-too-large';
    let v: unknown;
    try {
      v = JSON.parse(input);
    } catch {
      return 'not-json';
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'not-object';
    return v as Obj;
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return 'not-object';
  return input as Obj;
}

/** A present, non-`-` string, or undefined; `bad` when the value has the wrong type. */
const BAD = Symbol('bad');
function str(v: unknown): string | undefined | typeof BAD {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v === '-' || v === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return BAD;
}

/** A non-negative finite number from a number or numeric string; undefined when missing/`-`; BAD otherwise. */
function num(v: unknown): number | undefined | typeof BAD {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : BAD;
  if (typeof v === 'string') {
    if (v === '-' || v === '') return undefined;
    if (v.length > 20) return BAD;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : BAD;
  }
  return BAD;
}

/** A plain decimal number as API Gateway writes one (no sign, hex, white space or `Infinity`). */
const DECIMAL = /^[0-9]{1,20}(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?$/;

/**
 * An optional measurement (responseLength, integrationLatency): a whole number in [0, max], the value clamped to
 * `max` when larger; null when missing, negative or not a number; BAD only for a structurally wrong type.
 */
function measure(v: unknown, max: number): number | null | typeof BAD {
  let n: number;
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    n = v;
  } else if (typeof v === 'string') {
    // A decimal string may overflow to Infinity ("1e999"): a huge number, clamped below.
    if (!DECIMAL.test(v)) return null;
    n = Number(v);
  } else return BAD;
  if (!(n >= 0)) return null; // negative, NaN
  return n >= max ? max : Math.trunc(n);
}

interface Rejection {
  reason: ParseReason;
}
const rej = (reason: ParseReason): Rejection => Object.freeze({ reason });
const R = {
  missingAccount: rej('missing-account-id'),
  badAccount: rej('bad-account-id'),
  missingRequest: rej('missing-request-id'),
  badRequest: rej('bad-request-id'),
};

/** The account id: required, and valid by the one rule of src/shared/account-id.ts. */
function accountIdOf(v: unknown): string | Rejection {
  const s = str(v);
  if (s === undefined) return R.missingAccount;
  if (s === BAD || !isValidAccountId(s)) return R.badAccount;
  return s;
}

/** Identifier-like field: required, no control characters, bounded. */
function ident(v: unknown, missing: Rejection, bad: Rejection): string | Rejection {
  const s = str(v);
  if (s === undefined) return missing;
  if (s === BAD || s.length > MAX_ID_CHARS || HAS_CONTROL.test(s)) return bad;
  return s;
}

export function sanitizeText(s: string, max: number): string {
  let out = HAS_CONTROL.test(s) ? s.replace(CONTROL, '') : s;
  if (out.length > max) out = out.slice(0, max);
  return out;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const CLF = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/** `02/Nov/2026:00:00:09 +0000` -> ms since epoch, or NaN. */
export function parseClfTime(s: string): number {
  const m = CLF.exec(s);
  if (!m) return NaN;
  const mon = MONTHS[m[2]];
  if (mon === undefined) return NaN;
  const utc = Date.UTC(+m[3], mon, +m[1], +m[4], +m[5], +m[6]);
  const off = (+m[8] * 60 + +m[9]) * 60_000 * (m[7] === '+' ? 1 : -1);
  return utc - off;
}

function plausible(ts: number, opts: ParseOptions | undefined): boolean {
  if (!(ts >= MIN_PLAUSIBLE_TS && ts <= MAX_PLAUSIBLE_TS)) return false;
  if (opts?.now !== undefined) {
    if (ts < opts.now - (opts.maxPastMs ?? DEFAULT_MAX_PAST_MS)) return false;
    if (ts > opts.now + (opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS)) return false;
  }
  return true;
}

/** Model id from a path like `/prod/v1/models/claude-sonnet-5/messages`; null when absent or invalid. */
export function modelFromPath(path: string): string | null {
  const i = path.indexOf('/models/');
  if (i < 0) return null;
  const start = i + 8;
  let end = path.indexOf('/', start);
  if (end < 0) end = path.length;
  const q = path.indexOf('?', start);
  if (q >= 0 && q < end) end = q;
  return cleanModel(path.slice(start, end));
}

function cleanModel(m: string): string | null {
  if (m.length === 0 || m.length > MAX_MODEL_CHARS || !MODEL_RE.test(m)) return null;
  return m;
}

/** Parse one access-log record (a JSON line, or an already-parsed object). */
export function parseAccessLog(message: string | object, opts?: ParseOptions): ParseResult<RequestEvent> {
  return parseWith(message, opts, accessLogFromObject);
}

/** A parser proper run on a JSON line or an object, its rejection wrapped as a failed result. */
function parseWith<T extends object>(
  input: string | object,
  opts: ParseOptions | undefined,
  fromObject: (o: Obj, opts: ParseOptions | undefined) => T | ParseReason,
): ParseResult<T> {
  const o = toObject(input);
  if (typeof o === 'string') return fail(o);
  const r = fromObject(o, opts);
  return typeof r === 'string' ? fail(r) : { ok: true, event: r };
}

/** The access-log parser proper: an event, or the reason for rejecting the record (no wrapper allocation). */
function accessLogFromObject(o: Obj, opts: ParseOptions | undefined): RequestEvent | ParseReason {
  const accountId = accountIdOf(o.accountId);
  if (typeof accountId !== 'string') return accountId.reason;
  const requestId = ident(o.requestId, R.missingRequest, R.badRequest);
  if (typeof requestId !== 'string') return requestId.reason;

  let ts: number;
  const epoch = num(o.requestTimeEpoch);
  if (epoch === BAD) return 'bad-timestamp';
  if (epoch !== undefined) {
    ts = Math.trunc(epoch);
  } else {
    const clf = str(o.requestTime);
    if (clf === BAD) return 'bad-timestamp';
    if (clf === undefined) return 'missing-timestamp';
    ts = parseClfTime(clf);
    if (Number.isNaN(ts)) return 'bad-timestamp';
  }
  if (!plausible(ts, opts)) return 'timestamp-out-of-range';

  const statusN = num(o.status);
  if (statusN === BAD || statusN === undefined || !Number.isInteger(statusN) || statusN < 100 || statusN > 599) return 'bad-status';

  const apiKeyId = str(o.apiKeyId);
  const sourceIp = str(o.sourceIp);
  const ua = str(o.userAgent);
  const method = str(o.httpMethod);
  const path = str(o.path);
  const respLen = measure(o.responseLength, MAX_RESPONSE_BYTES);
  const lat = measure(o.integrationLatency, MAX_LATENCY_MS);
  const created = measure(o.accountCreatedAt, MAX_PLAUSIBLE_TS + 1);
  if (apiKeyId === BAD || sourceIp === BAD || ua === BAD || method === BAD || path === BAD || respLen === BAD || lat === BAD || created === BAD) {
    return 'bad-field-type';
  }
  const ip = ipInfo(sourceIp);
  return {
    requestId,
    ts,
    accountId,
    apiKeyId: apiKeyId === undefined || apiKeyId.length > MAX_ID_CHARS || HAS_CONTROL.test(apiKeyId) ? null : apiKeyId,
    ipHash: ip.ipHash,
    subnet: ip.subnet,
    userAgent: ua === undefined ? null : sanitizeText(ua, MAX_UA_CHARS),
    method: method === undefined ? null : sanitizeText(method, 16),
    model: path === undefined || path.length > 2048 ? null : modelFromPath(path),
    status: statusN,
    responseBytes: respLen,
    latencyMs: lat,
    accountCreatedAt: created === null || !plausibleCreated(created) ? null : created,
  };
}

function plausibleCreated(ts: number): boolean {
  return ts >= 946_684_800_000 && ts <= MAX_PLAUSIBLE_TS;
}

function tokens(v: unknown): number | typeof BAD {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_TOKENS) return BAD;
  return n;
}

/** Parse one usage event (docs/contract.md, "Usage event"). */
export function parseUsage(input: string | object, opts?: ParseOptions): ParseResult<UsageRecord> {
  return parseWith(input, opts, usageFromObject);
}

function usageFromObject(o: Obj, opts: ParseOptions | undefined): UsageRecord | ParseReason {
  if (o.type !== undefined && o.type !== 'usage') return 'bad-usage-field';
  const accountId = accountIdOf(o.accountId);
  if (typeof accountId !== 'string') return accountId.reason;
  const requestId = ident(o.requestId, R.missingRequest, R.badRequest);
  if (typeof requestId !== 'string') return requestId.reason;
  const t = num(o.timestamp);
  if (t === BAD) return 'bad-timestamp';
  if (t === undefined) return 'missing-timestamp';
  const ts = Math.trunc(t);
  if (!plausible(ts, opts)) return 'timestamp-out-of-range';

  let model: string | null = null;
  if (o.model !== undefined && o.model !== null && o.model !== '-') {
    if (typeof o.model !== 'string') return 'bad-usage-field';
    model = cleanModel(o.model);
  }
  let promptClass: PromptClass = 'other';
  if (o.promptClass !== undefined && o.promptClass !== null && o.promptClass !== '-') {
    if (typeof o.promptClass !== 'string') return 'bad-usage-field';
    // Unknown classes (a newer serving tier) are kept as `other` rather than dropping the event.
    promptClass = PROMPT_CLASS_SET.has(o.promptClass) ? (o.promptClass as PromptClass) : 'other';
  }
  let templateId: string | null = null;
  if (o.templateId !== undefined && o.templateId !== null && o.templateId !== '-') {
    if (typeof o.templateId !== 'string' || o.templateId.length > MAX_TEMPLATE_CHARS || HAS_CONTROL.test(o.templateId)) return 'bad-usage-field';
    templateId = o.templateId || null;
  }
  const inputTokens = tokens(o.inputTokens);
  const outputTokens = tokens(o.outputTokens);
  if (inputTokens === BAD || outputTokens === BAD) return 'bad-usage-field';
  return { requestId, ts, accountId, model, promptClass, templateId, inputTokens, outputTokens };
}

/**
 * Parse either kind, without allocating a result wrapper (the hot path of the aggregator): an event (tell the
 * kinds apart with `'status' in e`, or isUsage in src/aggregate), or the reason the line was rejected.
 * Objects with `type: "usage"` are usage events, everything else an access-log record.
 */
export function parseEvent(input: string | object, opts?: ParseOptions): RequestEvent | UsageRecord | ParseReason {
  const o = toObject(input);
  if (typeof o === 'string') return o;
  return o.type === 'usage' ? usageFromObject(o, opts) : accessLogFromObject(o, opts);
}

/** Parse either kind: objects with `type: "usage"` are usage events, everything else an access-log record. */
export function parseAny(input: string | object, opts?: ParseOptions): AnyParseResult {
  const o = toObject(input);
  if (typeof o === 'string') return { ok: false, reason: o };
  if (o.type === 'usage') {
    const r = usageFromObject(o, opts);
    return typeof r === 'string' ? { ok: false, reason: r } : { ok: true, kind: 'usage', event: r };
  }
  const r = accessLogFromObject(o, opts);
  return typeof r === 'string' ? { ok: false, reason: r } : { ok: true, kind: 'request', event: r };
}
