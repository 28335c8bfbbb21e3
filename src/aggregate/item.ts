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
import { fnv1a } from '../shared/hash';

export type AttrValue =
  | { S: string; N?: never; SS?: never; NS?: never }
  | { N: string; S?: never; SS?: never; NS?: never }
  | { SS: string[]; S?: never; N?: never; NS?: never }
  | { NS: string[]; S?: never; N?: never; SS?: never };
export type Item = Record<string, AttrValue | Record<string, unknown>>;

import { ACCOUNT_PREFIX, GSI_BUCKETS, MODEL_FIRST_SK, MODEL_PREFIX, WINDOW_PREFIX, accountPk, hourGsiPk, windowSk } from '../shared/tables';
export { ACCOUNT_PREFIX, GSI_BUCKETS, MODEL_FIRST_SK, MODEL_PREFIX, WINDOW_PREFIX, accountPk, hourGsiPk, windowSk };
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

export { fnv1a };

export function gsiBucket(accountId: string): number {
  return fnv1a(accountId) % GSI_BUCKETS;
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
const V6_48 = /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4})::\/48$/;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_VAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VAL[B64.charCodeAt(i)] = i;
const HEX = '0123456789abcdef';
/** Lowercase hex digit values (what hashIp produces); -1 for anything else. */
const HEX_VAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VAL[HEX.charCodeAt(i)] = i;

function escapeRaw(v: string): string {
  return v.startsWith(ENC) ? ENC + v : v;
}

/** Base64url (no padding) of bytes, with the table above: 3 bytes -> 4 characters, 2 -> 3. */
function b64(bytes: number[]): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (bytes.length - i === 2) {
    const n = (bytes[i] << 8) | bytes[i + 1];
    out += B64[n >> 10] + B64[(n >> 4) & 63] + B64[(n << 2) & 63];
  } else if (bytes.length - i === 1) {
    out += B64[bytes[i] >> 2] + B64[(bytes[i] << 4) & 63];
  }
  return out;
}

/** Bytes of a base64url string (from `start`), or null if any character is not base64url or unused bits are set. */
function unb64(v: string, start: number, bytes: number): number[] | null {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = start; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const x = c < 128 ? B64_VAL[c] : -1;
    if (x < 0) return null;
    acc = (acc << 6) | x;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 255);
      acc &= (1 << bits) - 1;
    }
  }
  return out.length === bytes && acc === 0 ? out : null;
}

/** 16 lowercase hex digits (a 64-bit IP hash) -> `~` + 11 base64url characters. */
function encodeIpHash(v: string): string {
  if (v.length !== 16) return escapeRaw(v);
  const bytes: number[] = new Array(8);
  for (let i = 0; i < 8; i++) {
    const c1 = v.charCodeAt(2 * i);
    const c2 = v.charCodeAt(2 * i + 1);
    const h = c1 < 128 ? HEX_VAL[c1] : -1;
    const l = c2 < 128 ? HEX_VAL[c2] : -1;
    if (h < 0 || l < 0) return escapeRaw(v);
    bytes[i] = (h << 4) | l;
  }
  return ENC + b64(bytes);
}

function decodeIpHash(v: string): string {
  const bytes = v.length === 12 ? unb64(v, 1, 8) : null;
  if (!bytes) return v;
  let out = '';
  for (const b of bytes) out += HEX[b >> 4] + HEX[b & 15];
  return out;
}

/** One canonical decimal octet (0..255, no leading zeros) of `v` in [from, to), or -1. */
function octet(v: string, from: number, to: number): number {
  const len = to - from;
  if (len < 1 || len > 3 || (len > 1 && v.charCodeAt(from) === 48)) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= 255 ? n : -1;
}

function encodeSubnet(v: string): string {
  // IPv4 /24 as src/ingest/ip.ts writes it: `a.b.c.0/24`.
  if (v.endsWith('.0/24')) {
    const end = v.length - 5;
    const d1 = v.indexOf('.');
    const d2 = d1 < 0 ? -1 : v.indexOf('.', d1 + 1);
    if (d2 > 0 && d2 < end && v.indexOf('.', d2 + 1) === end) {
      const a = octet(v, 0, d1);
      const b = octet(v, d1 + 1, d2);
      const c = octet(v, d2 + 1, end);
      if (a >= 0 && b >= 0 && c >= 0) return ENC + b64([a, b, c]);
    }
    return escapeRaw(v);
  }
  // IPv6 /48: `g0:g1:g2::/48`, lowercase unpadded groups.
  const m = V6_48.exec(v);
  if (m) {
    const bytes: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const g = parseInt(m[i], 16);
      bytes.push(g >> 8, g & 255);
    }
    const enc = ENC + b64(bytes);
    // Only canonical text (no leading zeros) is encoded, so decoding gives back exactly `v`.
    return decodeSubnet(enc) === v ? enc : escapeRaw(v);
  }
  return escapeRaw(v);
}

function decodeSubnet(v: string): string {
  if (v.length === 5) {
    const b = unb64(v, 1, 3);
    return b ? `${b[0]}.${b[1]}.${b[2]}.0/24` : v;
  }
  if (v.length === 9) {
    const b = unb64(v, 1, 6);
    return b ? `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}:${((b[4] << 8) | b[5]).toString(16)}::/48` : v;
  }
  return v;
}

/**
 * Bounded memos of both directions (IP hashes and subnets repeat across batches and across an account's windows).
 * Decoding through the memo also makes equal members share one string, which keeps the scorer's cached windows
 * smaller.
 */
const MEMO_MAX = 100_000;
const memos = {
  ips: { enc: new Map<string, string>(), dec: new Map<string, string>() },
  subnets: { enc: new Map<string, string>(), dec: new Map<string, string>() },
};

function memo(m: Map<string, string>, v: string, f: (v: string) => string): string {
  let r = m.get(v);
  if (r === undefined) {
    r = f(v);
    if (m.size >= MEMO_MAX) m.clear();
    m.set(v, r);
  }
  return r;
}

/** The stored form of a set member (what `ADD` writes and what conditions and stored sets compare against). */
export function encodeSetValue(field: SetField, v: string): string {
  if (field === 'ips') return memo(memos.ips.enc, v, encodeIpHash);
  if (field === 'subnets') return memo(memos.subnets.enc, v, encodeSubnet);
  return v;
}

const unescape = (v: string): string | undefined => (v.startsWith(ENC + ENC) ? v.slice(1) : undefined);
const decodeIpMember = (v: string): string => unescape(v) ?? decodeIpHash(v);
const decodeSubnetMember = (v: string): string => unescape(v) ?? decodeSubnet(v);

/** Inverse of `encodeSetValue`; members stored before the compact form are returned as they are. */
export function decodeSetValue(field: SetField, v: string): string {
  if (!v.startsWith(ENC)) return v;
  if (field === 'ips') return memo(memos.ips.dec, v, decodeIpMember);
  if (field === 'subnets') return memo(memos.subnets.dec, v, decodeSubnetMember);
  return v;
}

/**
 * Decoded members of a stored set. An item written across the switch to the compact form may hold a member in both
 * forms: then the decoded members are deduplicated.
 */
function decodeSet(field: SetField, stored: string[]): string[] {
  if (field !== 'ips' && field !== 'subnets') return stored.slice();
  const out: string[] = new Array(stored.length);
  let encoded = 0;
  for (let i = 0; i < stored.length; i++) {
    const v = stored[i];
    if (v.startsWith(ENC)) encoded++;
    out[i] = decodeSetValue(field, v);
  }
  return encoded === 0 || encoded === stored.length ? out : [...new Set(out)];
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
  const n = (v as { N?: unknown } | null | undefined)?.N;
  return typeof n === 'string' ? Number(n) : 0;
}

function ssAttr(v: unknown): string[] {
  const ss = (v as { SS?: unknown } | null | undefined)?.SS;
  return Array.isArray(ss) ? (ss as string[]) : [];
}

/** Attribute name -> the window field it holds (one pass over an item's attributes). */
const COUNTER_OF = new Map<string, CounterField>(COUNTER_FIELDS.map((f) => [COUNTER_ATTR[f], f]));
const SET_OF = new Map<string, SetField>((Object.keys(SET_ATTR) as SetField[]).map((f) => [SET_ATTR[f], f]));
const OVERFLOW_OF = new Map<string, SetField>((Object.keys(OVERFLOW_ATTR) as SetField[]).map((f) => [OVERFLOW_ATTR[f], f]));

/** Read a features-table window item back into an AccountWindow. Returns null for non-window items. */
export function itemToWindow(item: Record<string, unknown>): Window | null {
  const pk = (item.pk as { S?: string } | undefined)?.S;
  const sk = (item.sk as { S?: string } | undefined)?.S;
  if (!pk || !sk || !pk.startsWith(ACCOUNT_PREFIX) || !sk.startsWith(WINDOW_PREFIX)) return null;
  const w: Window = emptyWindow(pk.slice(ACCOUNT_PREFIX.length), Number(sk.slice(WINDOW_PREFIX.length)));
  for (const name in item) {
    const v = item[name];
    const counter = COUNTER_OF.get(name);
    if (counter !== undefined) {
      w[counter] = numAttr(v);
      continue;
    }
    const set = SET_OF.get(name);
    if (set !== undefined) {
      w[set] = decodeSet(set, ssAttr(v));
      continue;
    }
    if (name === 'createdAt') w.accountCreatedAt = v ? numAttr(v) : null;
    else if (name === 'firstTs') w.firstTs = numAttr(v);
    else if (name === 'lastTs') w.lastTs = numAttr(v);
    else if (name.startsWith('mm:')) w.minutes[Number(name.slice(3))] = numAttr(v);
    else if (name.startsWith('m:')) w.models[name.slice(2)] = numAttr(v);
    else if (name.startsWith('pc:')) w.promptClasses[name.slice(3)] = numAttr(v);
    else {
      const over = OVERFLOW_OF.get(name);
      if (over !== undefined) {
        const o = numAttr(v);
        if (o) (w.overflow ??= {})[over] = o;
      }
    }
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
