/**
 * AccountWindow <-> DynamoDB item (features table, docs/DESIGN.md). Plain TypeScript: attribute values use the
 * DynamoDB wire shape (`{ N: '1' }`, `{ SS: [...] }`) declared locally, structurally compatible with
 * @aws-sdk/client-dynamodb's AttributeValue, so this module needs no AWS import.
 *
 * Attributes are flat so that every counter can be `ADD`ed: n, s4, s5, s429, rb, rbn, lat, latn, mm:<minute>,
 * m:<model>, ip/sn/ua/key/tpl (string sets), createdAt, firstTs, lastTs, un, inTok, outTok, pc:<class>,
 * ipx/snx/uax/keyx/tplx (overflow counters, see WINDOW_LIMITS), wm:<lane> (exactly-once watermarks),
 * gsi1pk/gsi1sk (the byHour index), upd (change marker, projected into the index), expiresAt (TTL, epoch seconds).
 *
 * IP hashes and subnets are stored in a compact form (`encodeSetValue`: 16 hex digits -> `~` + 11 base64url
 * characters, `a.b.c.0/24` -> `~` + 4, `g0:g1:g2::/48` -> `~` + 8) and decoded back by `itemToWindow`, so the
 * AccountWindow that detection reads is unchanged. Items written before the compact form are still read.
 */
import type { Window } from './accumulator';
import { WINDOW_MS, emptyWindow, type SetField } from './window';

export type AttrValue =
  | { S: string; N?: never; SS?: never; NS?: never }
  | { N: string; S?: never; SS?: never; NS?: never }
  | { SS: string[]; S?: never; N?: never; NS?: never }
  | { NS: string[]; S?: never; N?: never; SS?: never };
export type Item = Record<string, AttrValue | Record<string, unknown>>;

export const GSI_BUCKETS = 16;
export const ACCOUNT_PREFIX = 'A#';
export const WINDOW_PREFIX = 'W#';
export const MODEL_PREFIX = 'MODEL#';
export const MODEL_FIRST_SK = 'FIRST';
export const WATERMARK_PREFIX = 'wm:';

export const SET_ATTR: Record<SetField, string> = { ips: 'ip', subnets: 'sn', userAgents: 'ua', apiKeys: 'key', templates: 'tpl' };
export const OVERFLOW_ATTR: Record<SetField, string> = { ips: 'ipx', subnets: 'snx', userAgents: 'uax', apiKeys: 'keyx', templates: 'tplx' };

/** Scalar counters: AccountWindow field -> attribute. */
export const COUNTER_ATTR = {
  n: 'n',
  status4xx: 's4',
  status5xx: 's5',
  status429: 's429',
  respBytes: 'rb',
  respBytesN: 'rbn',
  latencyMs: 'lat',
  latencyN: 'latn',
  usageN: 'un',
  inputTokens: 'inTok',
  outputTokens: 'outTok',
} as const;
export type CounterField = keyof typeof COUNTER_ATTR;
export const COUNTER_FIELDS = Object.keys(COUNTER_ATTR) as CounterField[];

export function accountPk(accountId: string): string {
  return ACCOUNT_PREFIX + accountId;
}

export function windowSk(windowStart: number): string {
  return WINDOW_PREFIX + String(windowStart).padStart(13, '0');
}

/** FNV-1a 32-bit: spreads accounts over the byHour GSI buckets (stable across runtimes). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function gsiBucket(accountId: string): number {
  return fnv1a(accountId) % GSI_BUCKETS;
}

/** `H#<windowStart>#<bucket>`: query all buckets of an hour to list its active accounts. */
export function hourGsiPk(windowStart: number, bucket: number): string {
  return `H#${windowStart}#${bucket}`;
}

/** TTL: end of the window plus the retention, in epoch seconds. */
export function expiresAtFor(windowStart: number, retentionDays: number): number {
  return Math.floor((windowStart + WINDOW_MS) / 1000) + Math.round(retentionDays * 86_400);
}

/** Watermark encoding: length-prefixed so string order equals numeric order (`056` + 56 digits). */
export function encodeSeq(seq: string): string {
  return String(seq.length).padStart(3, '0') + seq;
}

export function decodeSeq(v: string): string {
  return v.slice(3);
}

// ---------------------------------------------------------------------------------------------------------
// Change marker: what the scorer needs from the byHour index to tell which windows changed since it read them.
// ---------------------------------------------------------------------------------------------------------

/** Attribute holding the time bucket of the item's last write (`floor(writer's clock / CHANGE_MARKER_MS)`). */
export const CHANGE_MARKER_ATTR = 'upd';
/**
 * Resolution of the change marker. The marker only changes when a write falls in a new bucket, so with the index
 * projecting it (INCLUDE) the index entry is rewritten at most once per bucket per item, not on every write.
 */
export const CHANGE_MARKER_MS = 300_000;

export function changeMarker(t: number): number {
  return Math.floor(t / CHANGE_MARKER_MS);
}

/** Latest wall-clock time a write carrying `marker` may have been planned at. */
export function changeMarkerEnd(marker: number): number {
  return (marker + 1) * CHANGE_MARKER_MS;
}

// ---------------------------------------------------------------------------------------------------------
// Compact stored form of set members (IP hashes and subnets): fewer bytes per item, the same decoded window.
// ---------------------------------------------------------------------------------------------------------

/** Marks an encoded member. Raw members that happen to start with it are escaped by doubling it. */
const ENC = '~';
const HEX16 = /^[0-9a-f]{16}$/;
const V4_24 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/;
const V6_48 = /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4})::\/48$/;

function escapeRaw(v: string): string {
  return v.startsWith(ENC) ? ENC + v : v;
}

function encodeIpHash(v: string): string {
  return HEX16.test(v) ? ENC + Buffer.from(v, 'hex').toString('base64url') : escapeRaw(v);
}

function encodeSubnet(v: string): string {
  let m = V4_24.exec(v);
  if (m) {
    const b = [Number(m[1]), Number(m[2]), Number(m[3])];
    const enc = ENC + Buffer.from(b).toString('base64url');
    // Only canonical text (no leading zeros, octets <= 255) is encoded, so decoding gives back exactly `v`.
    return decodeSubnet(enc) === v ? enc : escapeRaw(v);
  }
  m = V6_48.exec(v);
  if (m) {
    const buf = Buffer.alloc(6);
    for (let i = 0; i < 3; i++) buf.writeUInt16BE(parseInt(m[i + 1], 16), i * 2);
    const enc = ENC + buf.toString('base64url');
    return decodeSubnet(enc) === v ? enc : escapeRaw(v);
  }
  return escapeRaw(v);
}

function decodeSubnet(v: string): string {
  const b = Buffer.from(v.slice(1), 'base64url');
  if (v.length === 5 && b.length === 3) return `${b[0]}.${b[1]}.${b[2]}.0/24`;
  if (v.length === 9 && b.length === 6) return `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}:${b.readUInt16BE(4).toString(16)}::/48`;
  return v;
}

/** The stored form of a set member (what `ADD` writes and what conditions and stored sets compare against). */
export function encodeSetValue(field: SetField, v: string): string {
  if (field === 'ips') return encodeIpHash(v);
  if (field === 'subnets') return encodeSubnet(v);
  return v;
}

/** Inverse of `encodeSetValue`; members stored before the compact form are returned as they are. */
export function decodeSetValue(field: SetField, v: string): string {
  if ((field !== 'ips' && field !== 'subnets') || !v.startsWith(ENC)) return v;
  if (v.startsWith(ENC + ENC)) return v.slice(1);
  if (field === 'ips') return v.length === 12 ? Buffer.from(v.slice(1), 'base64url').toString('hex') : v;
  return decodeSubnet(v);
}

/** Decoded members of a stored set, deduplicated (an item may hold a member in both forms across an upgrade). */
function decodeSet(field: SetField, stored: string[]): string[] {
  if (field !== 'ips' && field !== 'subnets') return stored;
  const out = new Set<string>();
  for (const v of stored) out.add(decodeSetValue(field, v));
  return [...out];
}

/**
 * Full item for a window (used by tests, exports and seeding; the Lambda writes deltas with UpdateItem).
 * `changedAt` (ms) sets the change marker as a write at that time would.
 */
export function windowToItem(w: Window, retentionDays: number, changedAt?: number): Item {
  const item: Item = {
    pk: { S: accountPk(w.accountId) },
    sk: { S: windowSk(w.windowStart) },
    gsi1pk: { S: hourGsiPk(w.windowStart, gsiBucket(w.accountId)) },
    gsi1sk: { S: w.accountId },
    expiresAt: { N: String(expiresAtFor(w.windowStart, retentionDays)) },
  };
  if (changedAt !== undefined) item[CHANGE_MARKER_ATTR] = { N: String(changeMarker(changedAt)) };
  for (const f of COUNTER_FIELDS) if (w[f] !== 0) item[COUNTER_ATTR[f]] = { N: String(w[f]) };
  for (const k in w.minutes) if (w.minutes[k]) item[`mm:${k}`] = { N: String(w.minutes[k]) };
  for (const k in w.models) item[`m:${k}`] = { N: String(w.models[k]) };
  for (const k in w.promptClasses) item[`pc:${k}`] = { N: String(w.promptClasses[k]) };
  for (const f of Object.keys(SET_ATTR) as SetField[]) {
    if (w[f].length > 0) item[SET_ATTR[f]] = { SS: w[f].map((v) => encodeSetValue(f, v)) };
    const o = w.overflow?.[f];
    if (o) item[OVERFLOW_ATTR[f]] = { N: String(o) };
  }
  if (w.accountCreatedAt !== null) item.createdAt = { N: String(w.accountCreatedAt) };
  if (w.n > 0 || w.usageN > 0) {
    item.firstTs = { N: String(w.firstTs) };
    item.lastTs = { N: String(w.lastTs) };
  }
  return item;
}

function numAttr(v: unknown): number {
  if (v && typeof v === 'object' && 'N' in v && typeof (v as { N: unknown }).N === 'string') return Number((v as { N: string }).N);
  return 0;
}

function ssAttr(v: unknown): string[] {
  if (v && typeof v === 'object' && 'SS' in v && Array.isArray((v as { SS: unknown }).SS)) return [...(v as { SS: string[] }).SS];
  return [];
}

/** Read a features-table window item back into an AccountWindow. Returns null for non-window items. */
export function itemToWindow(item: Record<string, unknown>): Window | null {
  const pk = (item.pk as { S?: string } | undefined)?.S;
  const sk = (item.sk as { S?: string } | undefined)?.S;
  if (!pk || !sk || !pk.startsWith(ACCOUNT_PREFIX) || !sk.startsWith(WINDOW_PREFIX)) return null;
  const w: Window = {
    ...emptyWindow(pk.slice(ACCOUNT_PREFIX.length), Number(sk.slice(WINDOW_PREFIX.length))),
    accountCreatedAt: item.createdAt ? numAttr(item.createdAt) : null,
    firstTs: numAttr(item.firstTs),
    lastTs: numAttr(item.lastTs),
  };
  for (const f of COUNTER_FIELDS) w[f] = numAttr(item[COUNTER_ATTR[f]]);
  for (const f of Object.keys(SET_ATTR) as SetField[]) {
    w[f] = decodeSet(f, ssAttr(item[SET_ATTR[f]]));
    const o = numAttr(item[OVERFLOW_ATTR[f]]);
    if (o) (w.overflow ??= {})[f] = o;
  }
  for (const name in item) {
    if (name.startsWith('mm:')) w.minutes[Number(name.slice(3))] = numAttr(item[name]);
    else if (name.startsWith('m:')) w.models[name.slice(2)] = numAttr(item[name]);
    else if (name.startsWith('pc:')) w.promptClasses[name.slice(3)] = numAttr(item[name]);
  }
  return w;
}

/** Per-lane watermarks stored on an item (`wm:<lane>` -> decoded sequence number). */
export function itemWatermarks(item: Record<string, unknown> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!item) return out;
  for (const name in item) {
    if (!name.startsWith(WATERMARK_PREFIX)) continue;
    const v = (item[name] as { S?: string }).S;
    if (typeof v === 'string') out.set(name.slice(WATERMARK_PREFIX.length), decodeSeq(v));
  }
  return out;
}
