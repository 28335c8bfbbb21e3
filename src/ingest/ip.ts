/**
 * Source-IP pseudonymisation and network prefixes.
 *
 * distill-guard never stores raw source IPs. It keeps:
 * - `ipHash`: the first 16 hex characters (64 bits) of a keyed SHA-256 of the address. A plain SHA-256 of an IPv4 address
 *   can be reversed by hashing all 2^32 addresses; a keyed hash cannot without the key. Deployed aggregators set
 *   the key from a per-deployment secret (lambdas/aggregate/ip-hash-key.ts); the public default constant (or
 *   `IP_HASH_KEY`) is for replay, tests and demo deployments only: with it, the /24 stored beside a hash leaves 256
 *   guesses. The key must be the same everywhere features are compared.
 * - `subnet`: the /24 (IPv4) or /48 (IPv6) prefix, which is what linkage between accounts needs and is far
 *   less identifying than an address.
 *
 * Hand-written: there is no maintained library for this tiny, hot-path normalisation; node:net + node:crypto do
 * the heavy lifting.
 */
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

const DEFAULT_KEY = 'distill-guard/ip-hash/v1';
let hashKey = (typeof process !== 'undefined' && process.env.IP_HASH_KEY) || DEFAULT_KEY;

/** Bounded memo: the same addresses recur constantly, and HMAC is the most expensive step of parsing a line. */
const CACHE_MAX = 200_000;
let cache = new Map<string, IpInfo>();

export interface IpInfo {
  ipHash: string | null;
  subnet: string | null;
}

const NONE: IpInfo = Object.freeze({ ipHash: null, subnet: null }) as IpInfo;

/** Change the HMAC key (clears the memo). */
export function setIpHashKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new Error(`ip hash key must be a non-empty string, got ${JSON.stringify(key)}`);
  hashKey = key;
  cache = new Map();
}

/**
 * Keyed hash: SHA-256(key || 0x00 || ip), truncated to 64 bits. (HMAC costs two SHA-256 passes for no gain here:
 * length extension is irrelevant when the output is only compared for equality and truncated.)
 */
export function hashIp(ip: string): string {
  return createHash('sha256').update(hashKey).update('\u0000').update(ip).digest('hex').slice(0, 16);
}

/** Normalise one source IP into its hash and prefix. Invalid or missing (`-`) addresses give nulls. */
export function ipInfo(raw: string | undefined | null): IpInfo {
  if (!raw || raw === '-' || raw.length > 64) return NONE;
  const hit = cache.get(raw);
  if (hit) return hit;
  let info: IpInfo;
  if (isIPv4(raw)) {
    info = { ipHash: hashIp(raw), subnet: raw.slice(0, raw.lastIndexOf('.')) + '.0/24' };
  } else if (isIPv6(raw)) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw);
    if (mapped && isIPv4(mapped[1])) {
      const v4 = mapped[1];
      info = { ipHash: hashIp(v4), subnet: v4.slice(0, v4.lastIndexOf('.')) + '.0/24' };
    } else {
      const groups = expandIpv6(raw);
      info = { ipHash: hashIp(groups.join(':')), subnet: `${groups[0]}:${groups[1]}:${groups[2]}::/48` };
    }
  } else {
    info = NONE;
  }
  if (cache.size >= CACHE_MAX) cache = new Map();
  cache.set(raw, info);
  return info;
}

/** Expand an IPv6 address (already validated by isIPv6) into 8 lowercase, unpadded hex groups. */
export function expandIpv6(ip: string): string[] {
  let addr = ip.toLowerCase();
  const zone = addr.indexOf('%');
  if (zone >= 0) addr = addr.slice(0, zone);
  // Embedded IPv4 tail (e.g. 64:ff9b::1.2.3.4) -> two hex groups.
  const lastColon = addr.lastIndexOf(':');
  const tail = addr.slice(lastColon + 1);
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number);
    addr = addr.slice(0, lastColon + 1) + ((o[0] << 8) | o[1]).toString(16) + ':' + ((o[2] << 8) | o[3]).toString(16);
  }
  const [head, rest] = addr.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const fill = rest !== undefined ? 8 - h.length - r.length : 0;
  const groups = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...r];
  return groups.map((g) => g.replace(/^0+(?=.)/, '') || '0');
}
